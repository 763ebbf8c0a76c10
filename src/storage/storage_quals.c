/*-------------------------------------------------------------------------
 *
 * storage_quals.c
 *	  The shape of an analyzed statement, for the storage and statistics
 *	  advisor: the columns it compares with a range or an equality in its
 *	  WHERE and JOIN conditions (top-level ANDs only: an OR decides
 *	  nothing alone), whether it aggregates, whether its row count is that
 *	  of one table's matching rows; and the statement with sampled values
 *	  in place of its $n (a materialized view's definition).
 *
 * An operator is told a range or an equality by its restriction
 * estimator (scalarltsel ... eqsel): that is how the planner itself
 * treats it, for every type.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "storage/advisor.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"

typedef enum
{
	CMP_NONE,
	CMP_RANGE,
	CMP_EQUAL
} Comparison;

static Comparison
comparison(Oid opno)
{
	switch (get_oprrest(opno))
	{
		case F_EQSEL:
			return CMP_EQUAL;
		case F_SCALARLTSEL:
		case F_SCALARLESEL:
		case F_SCALARGTSEL:
		case F_SCALARGESEL:
			return CMP_RANGE;
		default:
			return CMP_NONE;
	}
}

/* A column of a table of this query level (under binary-compatible casts). */
static bool
table_column(Query *query, Node *node, Oid *relid, AttrNumber *attnum)
{
	Var		   *var;
	RangeTblEntry *rte;

	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return false;
	var = (Var *) node;
	if (var->varlevelsup != 0 || var->varattno <= 0 || var->varno < 1 ||
		var->varno > list_length(query->rtable))
		return false;
	rte = rt_fetch(var->varno, query->rtable);
	if (rte->rtekind != RTE_RELATION)
		return false;
	*relid = rte->relid;
	*attnum = var->varattno;
	return true;
}

/* A value the same for every row: no column of this level, nothing volatile. */
static bool
row_constant(Node *node)
{
	return !contain_vars_of_level(node, 0) && !contain_volatile_functions(node);
}

/* Add attnum of relid to the list of StorageColumns. */
static List *
add_column(List *list, Oid relid, AttrNumber attnum)
{
	ListCell   *lc;
	StorageColumns *sc;

	foreach(lc, list)
	{
		sc = lfirst(lc);
		if (sc->relid == relid)
		{
			ListCell   *ac;
			int			pos = 0;

			foreach(ac, sc->attnums)
			{
				if (lfirst_int(ac) == attnum)
					return list;
				if (lfirst_int(ac) > attnum)
					break;
				pos++;
			}
			sc->attnums = list_insert_nth_int(sc->attnums, pos, attnum);
			return list;
		}
	}
	sc = palloc0(sizeof(StorageColumns));
	sc->relid = relid;
	sc->attnums = list_make1_int(attnum);
	return lappend(list, sc);
}

/* One condition of a top-level AND. */
static void
condition(Query *query, Node *qual, StorageShape *shape)
{
	Oid			relid;
	AttrNumber	attnum;

	if (IsA(qual, OpExpr) && list_length(((OpExpr *) qual)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) qual;
		Node	   *l = linitial(op->args);
		Node	   *r = lsecond(op->args);
		Comparison c = comparison(op->opno);

		if (c == CMP_NONE)
			return;
		if (!(table_column(query, l, &relid, &attnum) && row_constant(r)) &&
			!(table_column(query, r, &relid, &attnum) && row_constant(l)))
			return;
		if (c == CMP_EQUAL)
			shape->equalities = add_column(shape->equalities, relid, attnum);
		else
			shape->ranges = add_column(shape->ranges, relid, attnum);
	}
	else if (IsA(qual, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) qual;

		/* col IN (...), col = ANY ($1) */
		if (op->useOr && comparison(op->opno) == CMP_EQUAL &&
			table_column(query, linitial(op->args), &relid, &attnum) &&
			row_constant(lsecond(op->args)))
			shape->equalities = add_column(shape->equalities, relid, attnum);
	}
}

/* The conditions of a qual: each term of its top-level AND. */
static void
conditions(Query *query, Node *quals, StorageShape *shape)
{
	ListCell   *lc;

	if (quals == NULL)
		return;
	if (IsA(quals, List))
	{
		foreach(lc, (List *) quals)
			conditions(query, lfirst(lc), shape);
	}
	else if (is_andclause(quals))
	{
		foreach(lc, ((BoolExpr *) quals)->args)
			conditions(query, lfirst(lc), shape);
	}
	else
		condition(query, quals, shape);
}

/* The conditions of a FROM item: those of its inner joins too. */
static void
from_conditions(Query *query, Node *item, StorageShape *shape)
{
	ListCell   *lc;

	if (item == NULL)
		return;
	if (IsA(item, FromExpr))
	{
		foreach(lc, ((FromExpr *) item)->fromlist)
			from_conditions(query, lfirst(lc), shape);
		conditions(query, ((FromExpr *) item)->quals, shape);
	}
	else if (IsA(item, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) item;

		from_conditions(query, j->larg, shape);
		from_conditions(query, j->rarg, shape);
		/* an outer join's condition does not filter the rows of both sides */
		if (j->jointype == JOIN_INNER)
			conditions(query, j->quals, shape);
	}
}

/* Every query level: its tables and conditions. */
static bool
walk_levels(Node *node, StorageShape *shape)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *query = (Query *) node;
		ListCell   *lc;

		foreach(lc, query->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION)
				shape->relations = list_append_unique_oid(shape->relations, rte->relid);
		}
		from_conditions(query, (Node *) query->jointree, shape);
		return query_tree_walker(query, walk_levels, shape, 0);
	}
	return expression_tree_walker(node, walk_levels, shape);
}

/* Output columns of a SELECT, and which of them are GROUP BY keys. */
static void
output_columns(Query *query, StorageShape *shape)
{
	ListCell   *lc;
	int			grouped = 0;

	foreach(lc, query->targetList)
	{
		TargetEntry *te = lfirst(lc);

		if (te->resjunk)
			continue;
		shape->columns = lappend(shape->columns, pstrdup(te->resname ? te->resname : "?column?"));
		if (te->ressortgroupref > 0 &&
			get_sortgroupref_clause_noerr(te->ressortgroupref, query->groupClause) != NULL)
		{
			shape->group_columns = lappend(shape->group_columns,
										   pstrdup(te->resname ? te->resname : "?column?"));
			grouped++;
		}
	}
	shape->groups_output = query->groupClause != NIL && grouped == list_length(query->groupClause);
}

void
storage_shape(Query *query, StorageShape *shape)
{
	int			tables = 0;
	ListCell   *lc;

	memset(shape, 0, sizeof(StorageShape));
	(void) walk_levels((Node *) query, shape);
	shape->aggregate = query->commandType == CMD_SELECT &&
		(query->hasAggs || query->groupClause != NIL);
	foreach(lc, query->rtable)
		tables += ((RangeTblEntry *) lfirst(lc))->rtekind == RTE_RELATION;
	shape->rows_comparable =
		(query->commandType == CMD_SELECT || query->commandType == CMD_UPDATE ||
		 query->commandType == CMD_DELETE) &&
		list_length(query->rtable) == 1 && tables == 1 &&
		!query->hasAggs && query->groupClause == NIL && query->havingQual == NULL &&
		query->distinctClause == NIL && query->limitCount == NULL &&
		query->limitOffset == NULL && query->setOperations == NULL &&
		!query->hasWindowFuncs && !query->hasTargetSRFs && !query->hasSubLinks &&
		query->cteList == NIL && query->groupingSets == NIL;
	if (query->commandType == CMD_SELECT)
		output_columns(query, shape);
}

/* Replace each $n by the constant value params gives it. */
static Node *
bind_mutator(Node *node, ParamListInfo params)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN &&
		((Param *) node)->paramid >= 1 && ((Param *) node)->paramid <= params->numParams)
	{
		Param	   *p = (Param *) node;
		ParamExternData *v = &params->params[p->paramid - 1];
		int16		len;
		bool		byval;

		get_typlenbyval(p->paramtype, &len, &byval);
		return (Node *) makeConst(p->paramtype, p->paramtypmod, p->paramcollid, len,
								  v->isnull ? (Datum) 0 : datumCopy(v->value, byval, len),
								  v->isnull, byval);
	}
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, bind_mutator, params, 0);
	return expression_tree_mutator(node, bind_mutator, params);
}

Query *
storage_bind_params(Query *query, ParamListInfo params)
{
	return (Query *) bind_mutator((Node *) query, params);
}
