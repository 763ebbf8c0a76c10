/*-------------------------------------------------------------------------
 *
 * whatif_plan.c
 *	  The cost of an analyzed statement under a configuration of
 *	  hypothetical (and hidden) indexes: PostgreSQL's planner, called
 *	  without planner hooks, with the configuration installed.
 *
 * Call it inside the sandbox (parse/sandbox.h): planning folds constants,
 * which runs IMMUTABLE functions, so it must run as the statement's role.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "advise/whatif.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/planner.h"
#include "parse/parse.h"
#include "parse/sandbox.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lmgr.h"
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

static void
plan_one(Query *query, WhatifConfig *config, WhatifCost *out)
{
	PlannedStmt *plan;
	ListCell   *lc;

	hypo_index_install(config);
	PG_TRY();
	{
		plan = standard_planner(copyObject(query), NULL, CURSOR_OPT_PARALLEL_OK, NULL);
	}
	PG_FINALLY();
	{
		hypo_index_uninstall();
	}
	PG_END_TRY();
	out->startup_cost = plan->planTree->startup_cost;
	out->total_cost = plan->planTree->total_cost;
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
} AnalyzeArgs;

static void
analyze_in_sandbox(void *arg)
{
	AnalyzeArgs *a = arg;
	char	   *error;
	List	   *raw = pipeopt_parse_raw(a->text, &error);
	List	   *rewritten;
	ListCell   *lc;
	RawStmt    *stmt;

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
	rewritten = QueryRewrite(pipeopt_analyze_raw(stmt, a->text));
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
		MemoryContextSwitchTo(old);
	}
}

bool
whatif_analyze(const char *text, Oid role, const char *search_path,
			   MemoryContext keep, List **queries, char **error)
{
	AnalyzeArgs a = {text, keep, NIL};

	if (!pipeopt_sandbox_run(role, search_path, analyze_in_sandbox, &a, error))
		return false;
	*queries = a.queries;
	return true;
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

	a->out->startup_cost = a->out->total_cost = 0;
	foreach(lc, a->queries)
	{
		WhatifCost one;

		(void) lock_relations(lfirst(lc), NULL);
		plan_one(lfirst(lc), a->config, &one);
		a->out->startup_cost += one.startup_cost;
		a->out->total_cost += one.total_cost;
		used = list_concat_unique_ptr(used, one.used);
	}
	{
		MemoryContext old = MemoryContextSwitchTo(a->keep);

		a->out->used = list_copy(used);	/* the HypoIndexes are the caller's */
		MemoryContextSwitchTo(old);
	}
}

bool
whatif_cost(List *queries, Oid role, const char *search_path,
			WhatifConfig *config, WhatifCost *out, char **error)
{
	CostArgs	a = {queries, config, out, CurrentMemoryContext};

	return pipeopt_sandbox_run(role, search_path, cost_in_sandbox, &a, error);
}
