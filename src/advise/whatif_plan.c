/*-------------------------------------------------------------------------
 *
 * whatif_plan.c
 *	  The cost of an analyzed statement under a configuration of
 *	  hypothetical (and hidden) indexes: PostgreSQL's planner, called
 *	  without planner hooks, with the configuration installed.
 *
 * Call it inside the sandbox (parse/sandbox.h): planning folds constants,
 * which runs IMMUTABLE functions, so it must run as the statement's role;
 * so does the conversion of sampled parameter values (a user type's input
 * function is user code).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "advise/whatif.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/planner.h"
#include "parse/parse.h"
#include "parse/sandbox.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* The hypothetical indexes of config that plan scans, added to *used. */
static void
collect_used(Plan *plan, WhatifConfig *config, List **used)
{
	Oid			indexid = InvalidOid;
	ListCell   *lc;

	if (plan == NULL)
		return;
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			indexid = ((IndexScan *) plan)->indexid;
			break;
		case T_IndexOnlyScan:
			indexid = ((IndexOnlyScan *) plan)->indexid;
			break;
		case T_BitmapIndexScan:
			indexid = ((BitmapIndexScan *) plan)->indexid;
			break;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				collect_used(lfirst(lc), config, used);
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				collect_used(lfirst(lc), config, used);
			break;
		case T_BitmapAnd:
			foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
				collect_used(lfirst(lc), config, used);
			break;
		case T_BitmapOr:
			foreach(lc, ((BitmapOr *) plan)->bitmapplans)
				collect_used(lfirst(lc), config, used);
			break;
		case T_SubqueryScan:
			collect_used(((SubqueryScan *) plan)->subplan, config, used);
			break;
		case T_CustomScan:
			foreach(lc, ((CustomScan *) plan)->custom_plans)
				collect_used(lfirst(lc), config, used);
			break;
		default:
			break;
	}
	if (OidIsValid(indexid))
		foreach(lc, config->hypos)
		{
			HypoIndex  *h = lfirst(lc);

			if (h->oid == indexid)
				*used = list_append_unique_ptr(*used, h);
		}
	collect_used(plan->lefttree, config, used);
	collect_used(plan->righttree, config, used);
}

/* A generic plan (bound NULL), or a custom one for the values of bound. */
static void
plan_one(Query *query, WhatifConfig *config, ParamListInfo bound, WhatifCost *out)
{
	PlannedStmt *plan;
	ListCell   *lc;

	hypo_index_install(config);
	PG_TRY();
	{
		plan = standard_planner(copyObject(query), NULL, CURSOR_OPT_PARALLEL_OK, bound);
	}
	PG_FINALLY();
	{
		hypo_index_uninstall();
	}
	PG_END_TRY();
	out->startup_cost = plan->planTree->startup_cost;
	out->total_cost = plan->planTree->total_cost;
	/* without RETURNING, ModifyTable estimates no rows: take what it changes */
	out->rows = IsA(plan->planTree, ModifyTable) && plan->planTree->lefttree ?
		plan->planTree->lefttree->plan_rows : plan->planTree->plan_rows;
	out->used = NIL;
	collect_used(plan->planTree, config, &out->used);
	foreach(lc, plan->subplans)
		collect_used(lfirst(lc), config, &out->used);
}

typedef struct AnalyzeArgs
{
	const char *text;
	MemoryContext keep;
	List	   *queries;
	WhatifParams params;
} AnalyzeArgs;

/*
 * Note in typmods the field cast of each $n that is an interval cast so
 * (interval $1 day): coerce_type gives a literal interval its typmod.
 */
static bool
interval_typmods(Node *node, WhatifParams *params)
{
	int32		typmod;

	if (node == NULL)
		return false;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, interval_typmods, params, 0);
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcresulttype == INTERVALOID &&
		exprIsLengthCoercion(node, &typmod) && IsA(linitial(((FuncExpr *) node)->args), Param))
	{
		Param	   *p = linitial(((FuncExpr *) node)->args);

		if (p->paramkind == PARAM_EXTERN && p->paramid >= 1 && p->paramid <= params->n)
			params->typmods[p->paramid - 1] = typmod;
	}
	return expression_tree_walker(node, interval_typmods, params);
}

static void
analyze_in_sandbox(void *arg)
{
	AnalyzeArgs *a = arg;
	char	   *error;
	List	   *raw = pipeopt_parse_raw(a->text, &error);
	List	   *rewritten;
	ListCell   *lc;
	RawStmt    *stmt;
	Oid		   *types;
	int			ntypes;

	if (raw == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("statement does not parse: %s", error ? error : "empty")));
	if (list_length(raw) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("what-if planning takes one statement, not %d", list_length(raw))));
	stmt = linitial(raw);
	if (!pipeopt_sandbox_dml(stmt->stmt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("what-if planning takes SELECT, INSERT, UPDATE or DELETE statements")));
	rewritten = QueryRewrite(pipeopt_analyze_raw(stmt, a->text, &types, &ntypes));
	foreach(lc, rewritten)
	{
		Query	   *q = lfirst(lc);

		if (q->commandType == CMD_UTILITY)
			continue;
		/* what EXPLAIN would refuse, this refuses too */
		(void) ExecCheckRTPerms(q->rtable, true);
		a->queries = lappend(a->queries, q);
	}
	{
		MemoryContext old = MemoryContextSwitchTo(a->keep);

		a->queries = copyObject(a->queries);
		a->params.n = ntypes;
		a->params.types = palloc(sizeof(Oid) * Max(ntypes, 1));
		a->params.typmods = palloc(sizeof(int32) * Max(ntypes, 1));
		for (int i = 0; i < ntypes; i++)
		{
			a->params.types[i] = types[i];
			a->params.typmods[i] = -1;
		}
		MemoryContextSwitchTo(old);
	}
	(void) interval_typmods((Node *) a->queries, &a->params);
}

bool
whatif_analyze(const char *text, Oid role, const char *search_path,
			   MemoryContext keep, List **queries, WhatifParams *params, char **error)
{
	AnalyzeArgs a = {text, keep, NIL, {0, NULL, NULL}};

	if (!pipeopt_sandbox_run(role, search_path, analyze_in_sandbox, &a, error))
		return false;
	*queries = a.queries;
	if (params)
		*params = a.params;
	return true;
}

typedef struct BindArgs
{
	const WhatifParams *types;
	char	  **values;
	MemoryContext keep;
	ParamListInfo params;
} BindArgs;

static void
bind_in_sandbox(void *arg)
{
	BindArgs   *a = arg;
	ParamListInfo params = makeParamList(a->types->n);
	MemoryContext old;

	for (int i = 0; i < a->types->n; i++)
	{
		ParamExternData *p = &params->params[i];

		p->ptype = a->types->types[i];
		p->pflags = PARAM_FLAG_CONST;
		/* a $k the text does not use has no type, and needs no value */
		p->isnull = a->values[i] == NULL || !OidIsValid(p->ptype);
		p->value = (Datum) 0;
		if (!p->isnull)
		{
			Oid			func,
						ioparam;

			getTypeInputInfo(p->ptype, &func, &ioparam);
			p->value = OidInputFunctionCall(func, a->values[i], ioparam,
											a->types->typmods[i]);
		}
	}
	old = MemoryContextSwitchTo(a->keep);
	a->params = copyParamList(params);
	MemoryContextSwitchTo(old);
}

WhatifSample *
whatif_bind(const WhatifParams *params, char **values, int nvalues,
			Oid role, const char *search_path, MemoryContext keep, char **error)
{
	BindArgs	a = {params, values, keep, NULL};
	WhatifSample *ws;
	uint64		hash = 0;

	if (nvalues < params->n)
	{
		*error = psprintf("the sample has %d values for %d parameters", nvalues, params->n);
		return NULL;
	}
	if (!pipeopt_sandbox_run(role, search_path, bind_in_sandbox, &a, error))
		return NULL;
	for (int i = 0; i < params->n; i++)
		hash = hash_combine64(hash, values[i] == NULL ? PG_UINT64_MAX :
							  hash_bytes_extended((const unsigned char *) values[i],
												  strlen(values[i]), 0));
	ws = MemoryContextAllocZero(keep, sizeof(WhatifSample));
	ws->params = a.params;
	ws->count = 1;
	ws->hash = hash;
	return ws;
}

/* Lock every relation a query level names, as plancache.c does for a cached plan. */
static bool
lock_relations(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		ListCell   *lc;

		foreach(lc, ((Query *) node)->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION)
				LockRelationOid(rte->relid, AccessShareLock);
		}
		return query_tree_walker((Query *) node, lock_relations, context, 0);
	}
	return expression_tree_walker(node, lock_relations, context);
}

typedef struct CostArgs
{
	List	   *queries;
	List	   *samples;
	WhatifConfig *config;
	WhatifCost *out;
	MemoryContext keep;
} CostArgs;

static void
cost_in_sandbox(void *arg)
{
	CostArgs   *a = arg;
	ListCell   *lc;
	List	   *used = NIL;
	double		total = 0;

	foreach(lc, a->samples)
		total += ((WhatifSample *) lfirst(lc))->count;
	a->out->startup_cost = a->out->total_cost = a->out->rows = 0;
	foreach(lc, a->queries)
	{
		(void) lock_relations(lfirst(lc), NULL);
		/* a generic plan, or the mean of the samples' custom plans */
		for (int i = 0; i < Max(list_length(a->samples), 1); i++)
		{
			WhatifSample *ws = a->samples ? list_nth(a->samples, i) : NULL;
			double		share = ws ? ws->count / Max(total, 1) : 1;
			WhatifCost	one;

			plan_one(lfirst(lc), a->config, ws ? ws->params : NULL, &one);
			a->out->startup_cost += share * one.startup_cost;
			a->out->total_cost += share * one.total_cost;
			a->out->rows += share * one.rows;
			used = list_concat_unique_ptr(used, one.used);
		}
	}
	{
		MemoryContext old = MemoryContextSwitchTo(a->keep);

		a->out->used = list_copy(used);	/* the HypoIndexes are the caller's */
		MemoryContextSwitchTo(old);
	}
}

bool
whatif_cost(List *queries, List *samples, Oid role, const char *search_path,
			WhatifConfig *config, WhatifCost *out, char **error)
{
	CostArgs	a = {queries, samples, config, out, CurrentMemoryContext};

	return pipeopt_sandbox_run(role, search_path, cost_in_sandbox, &a, error);
}

bool
whatif_sample_values(JsonbValue *sample, char ***values, int *nvalues, int *count)
{
	JsonbValue	params,
				n;

	if (sample == NULL || sample->type != jbvBinary ||
		!JsonContainerIsObject(sample->val.binary.data) ||
		!getKeyJsonValueFromContainer(sample->val.binary.data, "params", 6, &params) ||
		!getKeyJsonValueFromContainer(sample->val.binary.data, "count", 5, &n) ||
		params.type != jbvBinary || !JsonContainerIsArray(params.val.binary.data) ||
		n.type != jbvNumeric)
		return false;
	*count = DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(n.val.numeric)));
	*nvalues = JsonContainerSize(params.val.binary.data);
	*values = palloc(sizeof(char *) * Max(*nvalues, 1));
	for (int k = 0; k < *nvalues; k++)
	{
		JsonbValue *v = getIthJsonbValueFromContainer(params.val.binary.data, k);

		if (v->type == jbvNull)
			(*values)[k] = NULL;
		else if (v->type == jbvString)
			(*values)[k] = pnstrdup(v->val.string.val, v->val.string.len);
		else
			return false;
	}
	return true;
}
