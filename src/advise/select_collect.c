/*-------------------------------------------------------------------------
 *
 * select_collect.c
 *	  The candidate columns of a workload: columns that the statements
 *	  compare with a B-tree operator (equality, range, IN/ANY), join on,
 *	  sort or group by, on users' plain tables; and the columns each
 *	  UPDATE sets, whose HOT updates a new index on them would break.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "access/sysattr.h"
#include "advise/select_int.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

/* The index into sel->rels of relid, or -1. */
int
select_find_rel(Selection *sel, Oid relid)
{
	ListCell   *lc;

	foreach(lc, sel->rels)
		if (((RelColumns *) lfirst(lc))->relid == relid)
			return foreach_current_index(lc);
	return -1;
}

/*
 * May pipeopt advise indexes on relid? Not on the system catalogs, temporary
 * tables or pipeopt's own tables: its users' tables only.
 */
static bool
advisable(Oid relid)
{
	Oid			nsp = get_rel_namespace(relid);
	Oid			ours = get_namespace_oid("pipeopt", true);	/* the control file's schema */

	if (IsCatalogNamespace(nsp) || IsToastNamespace(nsp) || isAnyTempNamespace(nsp))
		return false;
	if (nsp == get_namespace_oid("information_schema", true))
		return false;
	return nsp != ours;
}

/* The relation of relid, added if new. */
static RelColumns *
rel_columns(Selection *sel, Oid relid, int *index)
{
	int			r = select_find_rel(sel, relid);
	RelColumns *rc;

	if (r < 0)
	{
		rc = palloc0(sizeof(RelColumns));
		rc->relid = relid;
		rc->advisable = advisable(relid);
		for (int w = 0; w < sel->params->nwrites; w++)
			if (sel->params->writes[w].relid == relid)
				rc->writes = &sel->params->writes[w];
		sel->rels = lappend(sel->rels, rc);
		r = list_length(sel->rels) - 1;
	}
	if (index)
		*index = r;
	return list_nth(sel->rels, r);
}

typedef struct Collect
{
	Selection  *sel;
	WorkloadStatement *stmt;
	int			index;			/* of stmt */
	Query	   *query;			/* the level being walked */
	List	   *levels;			/* it and the levels around it, innermost first */
} Collect;

/* A plain table of this level (a range table index), or NULL. */
static RangeTblEntry *
plain_table(Query *q, Index varno)
{
	RangeTblEntry *rte;

	if (varno < 1 || varno > list_length(q->rtable))
		return NULL;
	rte = rt_fetch(varno, q->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION)
		return NULL;
	return rte;
}

/* A column of a users' table of this level, with a default B-tree class. */
static void
add_column(Collect *c, Node *node)
{
	Var		   *v;
	RangeTblEntry *rte;
	RelColumns *rc;
	int			r;

	if (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return;
	v = (Var *) node;
	if (v->varlevelsup != 0 || v->varattno <= 0 || (rte = plain_table(c->query, v->varno)) == NULL)
		return;
	if (!OidIsValid(GetDefaultOpClass(v->vartype, BTREE_AM_OID)))
		return;
	rc = rel_columns(c->sel, rte->relid, &r);
	if (!rc->advisable)
		return;
	rc->attnos = bms_add_member(rc->attnos, v->varattno);
	c->sel->stmt_cols[c->index] = bms_add_member(c->sel->stmt_cols[c->index],
												 select_column_key(r, v->varattno));
}

/* The columns an UPDATE sets, and the rows it changes per unit of time. */
static void
add_update(Collect *c, Query *q)
{
	RangeTblEntry *rte = plain_table(q, q->resultRelation);
	RelColumns *rc;
	UpdateColumns *u;
	int			col = -1;

	if (rte == NULL)
		return;
	u = palloc0(sizeof(UpdateColumns));
	while ((col = bms_next_member(rte->updatedCols, col)) >= 0)
	{
		AttrNumber	att = col + FirstLowInvalidHeapAttributeNumber;

		if (att > 0)
			u->attnos = bms_add_member(u->attnos, att);
	}
	u->rows = c->stmt->weight * Max(c->stmt->rows, 1);
	rc = rel_columns(c->sel, rte->relid, NULL);
	rc->updates = lappend(rc->updates, u);
}

/* The plain tables of a query level, as scans that read no column yet. */
static void
add_scans(Collect *c, Query *q)
{
	for (Index rti = 1; rti <= list_length(q->rtable); rti++)
	{
		RangeTblEntry *rte = plain_table(q, rti);
		TableScan  *ts;
		int			r;

		if (rte == NULL || !rel_columns(c->sel, rte->relid, &r)->advisable)
			continue;
		ts = palloc0(sizeof(TableScan));
		ts->r = r;
		ts->query = q;
		ts->rti = rti;
		c->sel->stmt_scans[c->index] = lappend(c->sel->stmt_scans[c->index], ts);
	}
}

/*
 * Note the column a Var reads in its table's scan: 0 for the whole row or
 * a system column, which no index holds. Vars of join RTEs are not
 * followed, so a scan may read more than noted: an index-only scan then
 * looks possible where it is not, which costs planning, never a miss.
 */
static void
add_read(Collect *c, Var *v)
{
	Query	   *q;
	ListCell   *lc;

	if (v->varlevelsup >= list_length(c->levels))
		return;
	q = list_nth(c->levels, v->varlevelsup);
	foreach(lc, c->sel->stmt_scans[c->index])
	{
		TableScan  *ts = lfirst(lc);

		if (ts->query == q && ts->rti == v->varno)
			ts->attnos = bms_add_member(ts->attnos, Max(v->varattno, 0));
	}
}

/* Is opno a B-tree comparison (=, <, <=, >, >=)? */
static bool
btree_comparison(Oid opno)
{
	List	   *interp = get_op_btree_interpretation(opno);
	ListCell   *lc;

	foreach(lc, interp)
	{
		OpBtreeInterpretation *i = lfirst(lc);

		if (i->strategy >= BTLessStrategyNumber && i->strategy <= BTGreaterStrategyNumber)
			return true;
	}
	return false;
}

static bool
collect_walker(Node *node, Collect *c)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		Query	   *outer = c->query;
		ListCell   *lc;

		c->query = q;
		c->levels = lcons(q, c->levels);
		add_scans(c, q);
		if (q->commandType == CMD_UPDATE)
			add_update(c, q);
		/* sort and group keys */
		foreach(lc, q->targetList)
		{
			TargetEntry *te = lfirst(lc);

			if (te->ressortgroupref != 0)
				add_column(c, (Node *) te->expr);
		}
		(void) query_tree_walker(q, collect_walker, c, QTW_IGNORE_JOINALIASES);
		c->levels = list_delete_first(c->levels);
		c->query = outer;
		return false;
	}
	if (IsA(node, Var))
		add_read(c, (Var *) node);
	if (IsA(node, OpExpr) && list_length(((OpExpr *) node)->args) == 2 &&
		btree_comparison(((OpExpr *) node)->opno))
	{
		add_column(c, linitial(((OpExpr *) node)->args));
		add_column(c, lsecond(((OpExpr *) node)->args));
	}
	else if (IsA(node, ScalarArrayOpExpr) && btree_comparison(((ScalarArrayOpExpr *) node)->opno))
		add_column(c, linitial(((ScalarArrayOpExpr *) node)->args));
	return expression_tree_walker(node, collect_walker, c);
}

/* Note the relations, candidate columns and updates of statement s. */
void
select_collect(Selection *sel, int s)
{
	Collect		c = {sel, &sel->stmts[s], s, NULL, NIL};
	ListCell   *lc;

	foreach(lc, sel->stmts[s].queries)
		(void) collect_walker(lfirst(lc), &c);
}

/*
 * Could statement s use h? Only if it compares, joins, sorts or groups on
 * one of h's columns: an index on other columns leaves its plan as it is
 * (but for an index-only scan of the whole index, a count(*) say, which
 * selection does not look for).
 */
bool
select_index_relevant(Selection *sel, int s, HypoIndex *h)
{
	int			r = select_find_rel(sel, h->relid);

	for (int i = 0; i < h->ncols; i++)
		if (h->attnos[i] > 0 && bms_is_member(select_column_key(r, h->attnos[i]), sel->stmt_cols[s]))
			return true;
	return false;
}

/*
 * Could replacing a chosen index by cand, the same with one more column,
 * lower statement s's cost? Only if s compares, joins, sorts or groups on
 * that column, or one of its scans of the table reads no column outside
 * cand (an index-only scan). Otherwise the wider index offers the plans
 * the narrower one did, with more pages to read.
 */
bool
select_extension_helps(Selection *sel, int s, HypoIndex *cand)
{
	int			r = select_find_rel(sel, cand->relid);
	Bitmapset  *cols = NULL;
	ListCell   *lc;
	bool		helps = false;

	if (bms_is_member(select_column_key(r, cand->attnos[cand->nkeys - 1]), sel->stmt_cols[s]))
		return true;
	for (int i = 0; i < cand->ncols; i++)
		cols = bms_add_member(cols, cand->attnos[i]);
	foreach(lc, sel->stmt_scans[s])
	{
		TableScan  *ts = lfirst(lc);

		if (ts->r == r && bms_is_subset(ts->attnos, cols))
			helps = true;
	}
	bms_free(cols);
	return helps;
}
