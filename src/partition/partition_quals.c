/*-------------------------------------------------------------------------
 *
 * partition_quals.c
 *	  What partition pruning could use in a captured statement: the tables
 *	  it scans, and each condition that compares a column of one of them
 *	  with a value known before execution (=, <, <=, >, >=, IN/= ANY), with
 *	  that value, once per parameter sample.
 *
 * Only conditions that PostgreSQL's pruning could use count: conjuncts of
 * a query level's WHERE and of its inner joins' ON clauses, not conditions
 * under OR or NOT. The value side must hold no column, no subquery and no
 * volatile function; it is folded as the planner folds it for estimates
 * (a stable function such as now() included), with the sample's values
 * bound to the $n. The statement is analyzed, and its values folded and
 * printed, as the role that ran it, in the sandbox (src/parse/sandbox.h):
 * folding and output functions may be that role's code.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "advise/whatif.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "parse/sandbox.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(pipeopt_partition_quals);

/* One output row. */
typedef struct QualRow
{
	int			sample;			/* -1: no sample (constants, or unknown $n) */
	Oid			relid;
	AttrNumber	attnum;			/* 0: the row says the table is scanned */
	int			clause;			/* the condition's number in the statement */
	const char *op;				/* "scan", "=", "<", "<=", ">", ">=", "in" */
	char	   *value;			/* NULL: not known before execution */
	Oid			valtype;
} QualRow;

typedef struct Walk
{
	PlannerInfo *root;			/* only for its bound parameters */
	int			sample;
	int			clause;
	MemoryContext keep;			/* where rows and their strings go */
	List	   *rows;
	Query	   *query;			/* the level being walked */
} Walk;

/* A user's table (plain or partitioned), not a catalog's, not pipeopt's. */
static bool
users_table(RangeTblEntry *rte)
{
	Oid			nsp;

	if (rte == NULL || rte->rtekind != RTE_RELATION ||
		(rte->relkind != RELKIND_RELATION && rte->relkind != RELKIND_PARTITIONED_TABLE))
		return false;
	nsp = get_rel_namespace(rte->relid);
	if (IsCatalogNamespace(nsp) || IsToastNamespace(nsp) || isAnyTempNamespace(nsp))
		return false;
	if (nsp == get_namespace_oid("information_schema", true))
		return false;
	return nsp != get_namespace_oid("pipeopt", true);
}

static void
add_row(Walk *w, Oid relid, AttrNumber attnum, const char *op, char *value, Oid valtype)
{
	MemoryContext old = MemoryContextSwitchTo(w->keep);
	QualRow    *r = palloc0(sizeof(QualRow));

	r->sample = w->sample;
	r->relid = relid;
	r->attnum = attnum;
	r->clause = w->clause;
	r->op = op;
	r->value = value ? pstrdup(value) : NULL;
	r->valtype = valtype;
	w->rows = lappend(w->rows, r);
	MemoryContextSwitchTo(old);
}

/* Does a value side hold what is not known before execution? */
static bool
not_a_value_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) || IsA(node, SubLink) || IsA(node, Aggref) ||
		IsA(node, WindowFunc) || IsA(node, PlaceHolderVar) || IsA(node, GroupingFunc))
		return true;
	return expression_tree_walker(node, not_a_value_walker, context);
}

/* A column of a users' table of this level, or NULL. */
static Var *
table_column(Walk *w, Node *node, Oid *relid)
{
	Var		   *v;
	RangeTblEntry *rte;

	while (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return NULL;
	v = (Var *) node;
	if (v->varlevelsup != 0 || v->varattno <= 0 ||
		v->varno < 1 || v->varno > list_length(w->query->rtable))
		return NULL;
	rte = rt_fetch(v->varno, w->query->rtable);
	if (!users_table(rte))
		return NULL;
	*relid = rte->relid;
	return v;
}

/* The value of a value side, folded, as text; NULL if it does not fold. */
static Const *
fold(Walk *w, Node *node)
{
	if (not_a_value_walker(node, NULL) || contain_volatile_functions(node))
		return NULL;
	node = estimate_expression_value(w->root, node);
	return IsA(node, Const) ? (Const *) node : NULL;
}

static char *
const_text(Const *c)
{
	Oid			out;
	bool		varlena;

	if (c->constisnull)
		return NULL;
	getTypeOutputInfo(c->consttype, &out, &varlena);
	return OidOutputFunctionCall(out, c->constvalue);
}

/* The B-tree strategy of opno (0: none), commuted if the column is on the right. */
static const char *
comparison(Oid opno, bool commuted)
{
	static const char *names[] = {NULL, "<", "<=", "=", ">=", ">"};
	List	   *interp = get_op_btree_interpretation(opno);
	ListCell   *lc;

	foreach(lc, interp)
	{
		OpBtreeInterpretation *i = lfirst(lc);

		if (i->strategy >= BTLessStrategyNumber && i->strategy <= BTGreaterStrategyNumber)
			return names[commuted ? BTMaxStrategyNumber + 1 - i->strategy : i->strategy];
	}
	return NULL;
}

/* column op value, or value op column */
static void
opexpr(Walk *w, OpExpr *op)
{
	Node	   *l = linitial(op->args);
	Node	   *r = lsecond(op->args);
	Oid			relid;
	Var		   *v;
	const char *name;
	Node	   *side;
	Const	   *c;

	if ((v = table_column(w, l, &relid)) != NULL)
		side = r;
	else if ((v = table_column(w, r, &relid)) != NULL)
		side = l;
	else
		return;
	name = comparison(op->opno, side == l);
	if (name == NULL || not_a_value_walker(side, NULL))
		return;
	c = fold(w, side);
	if (c == NULL || c->constisnull)
		add_row(w, relid, v->varattno, name, NULL, exprType(side));
	else
		add_row(w, relid, v->varattno, name, const_text(c), c->consttype);
}

/* column IN (...), column = ANY (array) */
static void
saop(Walk *w, ScalarArrayOpExpr *op)
{
	Oid			relid;
	Var		   *v = table_column(w, linitial(op->args), &relid);
	Node	   *side = lsecond(op->args);
	const char *name;
	Const	   *c;
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int16		len;
	bool		byval;
	char		align;

	if (v == NULL || !op->useOr || (name = comparison(op->opno, false)) == NULL ||
		strcmp(name, "=") != 0 || not_a_value_walker(side, NULL))
		return;
	c = fold(w, side);
	if (c == NULL || c->constisnull)
	{
		add_row(w, relid, v->varattno, "in", NULL, get_element_type(exprType(side)));
		return;
	}
	arr = DatumGetArrayTypeP(c->constvalue);
	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &len, &byval, &align);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), len, byval, align, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		Const	   *e;

		if (nulls[i])
			continue;			/* = NULL matches nothing */
		e = makeConst(ARR_ELEMTYPE(arr), -1, InvalidOid, len, elems[i], false, byval);
		add_row(w, relid, v->varattno, "in", const_text(e), e->consttype);
	}
}

/* The conjuncts of a qual, each its own clause. */
static void
conjuncts(Walk *w, Node *qual)
{
	ListCell   *lc;

	if (qual == NULL)
		return;
	if (IsA(qual, List))
	{
		foreach(lc, (List *) qual)
			conjuncts(w, lfirst(lc));
		return;
	}
	if (is_andclause(qual))
	{
		foreach(lc, ((BoolExpr *) qual)->args)
			conjuncts(w, lfirst(lc));
		return;
	}
	w->clause++;
	if (IsA(qual, OpExpr) && list_length(((OpExpr *) qual)->args) == 2)
		opexpr(w, (OpExpr *) qual);
	else if (IsA(qual, ScalarArrayOpExpr))
		saop(w, (ScalarArrayOpExpr *) qual);
}

/* WHERE and inner joins' ON of a join tree (outer joins' ON do not prune). */
static void
jointree_quals(Walk *w, Node *node)
{
	ListCell   *lc;

	if (node == NULL)
		return;
	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
			jointree_quals(w, lfirst(lc));
		conjuncts(w, ((FromExpr *) node)->quals);
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;

		jointree_quals(w, j->larg);
		jointree_quals(w, j->rarg);
		if (j->jointype == JOIN_INNER)
			conjuncts(w, j->quals);
	}
}

static bool
levels_walker(Node *node, Walk *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		Query	   *outer = w->query;
		ListCell   *lc;

		w->query = q;
		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (users_table(rte))
				add_row(w, rte->relid, 0, "scan", NULL, InvalidOid);
		}
		jointree_quals(w, (Node *) q->jointree);
		(void) query_tree_walker(q, levels_walker, w, QTW_IGNORE_JOINALIASES);
		w->query = outer;
		return false;
	}
	return expression_tree_walker(node, levels_walker, w);
}

typedef struct WalkArgs
{
	List	   *queries;
	Walk	   *walk;
} WalkArgs;

static void
walk_in_sandbox(void *arg)
{
	WalkArgs   *a = arg;
	ListCell   *lc;

	foreach(lc, a->queries)
		(void) levels_walker(lfirst(lc), a->walk);
}

/*
 * _partition_quals(query text, userid oid, samples jsonb)
 *	 -> SETOF (sample, relid, attnum, clause, op, value, valtype, error)
 *
 * samples: NULL or a JSON array of arrays of text or null, the values of
 * $1, $2, ... of each sample; sample numbers count from 0, and NULL is the
 * walk without one (a statement without $n, or none usable: a value that
 * holds a $n is then NULL, unknown). One row with only error set when the
 * statement does not analyze as its role; a sample whose values do not
 * convert is left out.
 */
Datum
pipeopt_partition_quals(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *sql;
	Oid			role;
	char	   *search_path;
	List	   *queries;
	WhatifParams params;
	char	   *error = NULL;
	Walk		walk;
	PlannerGlobal glob;
	PlannerInfo root;
	int			nsamples = 0;
	Jsonb	   *samples = NULL;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_VOID();
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	role = PG_GETARG_OID(1);
	if (!PG_ARGISNULL(2))
	{
		samples = PG_GETARG_JSONB_P(2);
		if (!JB_ROOT_IS_ARRAY(samples) || JB_ROOT_IS_SCALAR(samples))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the parameter samples must be a JSON array"),
					 errdetail("Each element is an array of the values of $1, $2, ... as text or null.")));
		nsamples = JB_ROOT_COUNT(samples);
	}

	memset(&walk, 0, sizeof(walk));
	walk.keep = CurrentMemoryContext;
	if (!has_privs_of_role(GetUserId(), role))
		error = psprintf("not analyzed: you do not have the privileges of role %u, which ran it", role);
	else
	{
		search_path = pipeopt_login_search_path(role);
		if (whatif_analyze(sql, role, search_path, CurrentMemoryContext, &queries, &params, &error))
		{
			WalkArgs	a = {queries, &walk};

			memset(&glob, 0, sizeof(glob));
			memset(&root, 0, sizeof(root));
			root.glob = &glob;
			walk.root = &root;
			for (int s = (params.n > 0 && nsamples > 0) ? 0 : -1;
				 s < (params.n > 0 ? nsamples : 0); s++)
			{
				char	   *sample_error;
				int			before;

				walk.sample = s;
				walk.clause = 0;
				glob.boundParams = NULL;
				if (s >= 0)
				{
					JsonbValue *sv = getIthJsonbValueFromContainer(&samples->root, s);
					int			nvalues;
					char	  **values;
					WhatifSample *ws;

					if (sv == NULL || sv->type != jbvBinary || !JsonContainerIsArray(sv->val.binary.data))
						ereport(ERROR,
								(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
								 errmsg("parameter sample %d is not a JSON array", s)));
					nvalues = JsonContainerSize(sv->val.binary.data);
					values = palloc0(sizeof(char *) * Max(nvalues, 1));
					for (int k = 0; k < nvalues; k++)
					{
						JsonbValue *v = getIthJsonbValueFromContainer(sv->val.binary.data, k);

						if (v->type == jbvString)
							values[k] = pnstrdup(v->val.string.val, v->val.string.len);
						else if (v->type != jbvNull)
							ereport(ERROR,
									(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
									 errmsg("a value of parameter sample %d is neither text nor null", s)));
					}
					ws = whatif_bind(&params, values, nvalues, role, search_path,
									 CurrentMemoryContext, &sample_error);
					if (ws == NULL)
						continue;
					glob.boundParams = ws->params;
				}
				before = list_length(walk.rows);
				if (!pipeopt_sandbox_run(role, search_path, walk_in_sandbox, &a, &sample_error))
				{
					/* a sample that fails leaves none of its rows */
					walk.rows = list_truncate(walk.rows, before);
					if (s < 0)
						error = sample_error;
				}
			}
		}
	}

	if (error != NULL)
	{
		Datum		values[8] = {0};
		bool		nulls[8] = {true, true, true, true, true, true, true, false};

		values[7] = CStringGetTextDatum(error);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		PG_RETURN_VOID();
	}
	foreach(lc, walk.rows)
	{
		QualRow    *r = lfirst(lc);
		Datum		values[8];
		bool		nulls[8] = {r->sample < 0, false, r->attnum == 0, r->attnum == 0, false,
		r->value == NULL, !OidIsValid(r->valtype), true};

		values[0] = Int32GetDatum(r->sample);
		values[1] = ObjectIdGetDatum(r->relid);
		values[2] = Int16GetDatum(r->attnum);
		values[3] = Int32GetDatum(r->clause);
		values[4] = CStringGetTextDatum(r->op);
		values[5] = r->value ? CStringGetTextDatum(r->value) : (Datum) 0;
		values[6] = ObjectIdGetDatum(r->valtype);
		values[7] = (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	PG_RETURN_VOID();
}
