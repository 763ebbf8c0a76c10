/*-------------------------------------------------------------------------
 *
 * select.c
 *	  Extend-style greedy index selection (Schlosser et al., ICDE 2019):
 *	  start from no new index; at each step take the action that saves the
 *	  most weighted statement cost, net of the index's maintenance, per
 *	  byte of index, where an action is a new one-column B-tree or a chosen
 *	  B-tree extended by one column; stop when nothing fits the budget or
 *	  saves anything. Every candidate left out keeps the reason of its last
 *	  evaluation; every chosen index, per statement, the cost the statement
 *	  would have without it.
 *
 * A statement is planned only for actions on relations it reads, and each
 * (statement, configuration of the indexes on its relations) is planned
 * once (select_cost.c); a step plans only what it takes to know its best
 * action (select_step.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "advise/select_int.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

/* The record of cand's content, added if new. */
Considered *
select_considered(List **all, HypoIndex *cand)
{
	ListCell   *lc;
	Considered *c;

	foreach(lc, *all)
		if (select_compare_index(((Considered *) lfirst(lc))->index, cand) == 0)
			return lfirst(lc);
	c = palloc0(sizeof(Considered));
	c->index = cand;
	c->regressed = -1;
	*all = lappend(*all, c);
	return c;
}

/* The indexes of chosen (ChosenIndex *), without old, with cand. */
List *
select_configuration(List *chosen, ChosenIndex *old, HypoIndex *cand)
{
	List	   *config = NIL;
	ListCell   *lc;

	foreach(lc, chosen)
		if (lfirst(lc) != old)
			config = lappend(config, ((ChosenIndex *) lfirst(lc))->index);
	return cand ? lappend(config, cand) : config;
}

/* Take the best action: the chosen indexes after it. */
static List *
take(Selection *sel, List *chosen, List **all, Action *best)
{
	ChosenIndex *ci = palloc0(sizeof(ChosenIndex));

	ci->index = best->index;
	ci->bytes = best->bytes;
	ci->saving = best->saving;
	ci->maintenance = best->maintenance;
	ci->statements = best->improved;
	select_considered(all, best->index)->verdict = V_CHOSEN;
	if (best->old)
	{
		/* the extended index replaces the one it extends */
		Considered *was = select_considered(all, best->old->index);

		was->verdict = V_EXTENDED;
		was->extended_into = best->index;
		ci->bytes += best->old->bytes;
		ci->saving += best->old->saving;
		ci->statements = Max(ci->statements, best->old->statements);
		chosen = list_delete_ptr(chosen, best->old);
	}
	for (int s = 0; s < sel->nstmts; s++)
		sel->stmts[s].cost = best->costs[s];
	return lappend(chosen, ci);
}

/* Why c was left out, in words. */
static char *
reason(Selection *sel, Considered *c)
{
	switch (c->verdict)
	{
		case V_EXTENDED:
			return psprintf("extended into %s", hypo_index_describe(c->extended_into));
		case V_OVER_BUDGET:
			return psprintf("over budget: it needs %s, %s were left",
							text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
																			   Int64GetDatum((int64) c->bytes)))),
							text_to_cstring(DatumGetTextPP(DirectFunctionCall1(pg_size_pretty,
																			   Int64GetDatum((int64) c->left)))));
		case V_NO_SAVING:
			return pstrdup(c->ever_saved ? "no saving beyond the indexes chosen"
						   : "no saving: no statement's plan improves with it");
		case V_SMALL:
			return psprintf("below threshold: it saves less than %g%% of the workload's cost",
							MIN_WORKLOAD_SHARE * 100);
		case V_BELOW_THRESHOLD:
			return psprintf("below threshold: it lowers no statement's cost by %d%% or more",
							(int) (MIN_IMPROVEMENT * 100));
		case V_REGRESSES:
			return psprintf("regresses statement %s by %.0f%%",
							sel->stmts[c->regressed].label, c->regression * 100);
		case V_WRITE_COST:
			return psprintf("write cost: keeping it up to date costs %.0f, more than the %s%.0f it saves",
							c->maintenance, c->bounded ? "at most " : "", c->saving);
		case V_OUTRANKED:
			return pstrdup("outranked: other actions saved more per byte");
		case V_CHOSEN:
			break;
	}
	return NULL;
}

/*
 * Per chosen index and statement, the cost the statement would have with
 * every other chosen index but not this one, where its final plan uses it.
 */
static void
attribute(Selection *sel, List *chosen)
{
	List	   *config = select_configuration(chosen, NULL, NULL);
	ListCell   *lc;

	foreach(lc, chosen)
	{
		ChosenIndex *ci = lfirst(lc);

		ci->cost_without = palloc(sizeof(double) * Max(sel->nstmts, 1));
		for (int s = 0; s < sel->nstmts; s++)
			ci->cost_without[s] = -1;
	}
	for (int s = 0; s < sel->nstmts; s++)
	{
		List	   *used;
		ListCell   *lu;

		if (sel->stmts[s].queries == NIL)
			continue;
		used = select_statement_uses(sel, s, config);
		foreach(lu, used)
			foreach(lc, chosen)
		{
			ChosenIndex *ci = lfirst(lc);
			List	   *others;

			if (select_compare_index(ci->index, lfirst(lu)) != 0 || ci->cost_without[s] >= 0)
				continue;
			others = select_configuration(chosen, ci, NULL);
			ci->cost_without[s] = select_statement_cost(sel, s, others);
			list_free(others);
		}
	}
}

void
select_indexes(WorkloadStatement *stmts, int nstmts, SelectionParams *params,
			   SelectionResult *out)
{
	Selection	sel = {stmts, nstmts, params, NIL, NULL, NULL, NULL, CurrentMemoryContext, 0};
	List	   *chosen = NIL;	/* ChosenIndex *, in the order chosen */
	List	   *all = NIL;		/* Considered * */
	double		used = 0;
	double	   *costs = palloc(sizeof(double) * Max(nstmts, 1));
	double	   *best_costs = palloc(sizeof(double) * Max(nstmts, 1));
	ListCell   *lc;

	select_cache_init(&sel);
	sel.stmt_cols = palloc0(sizeof(Bitmapset *) * Max(nstmts, 1));
	sel.stmt_scans = palloc0(sizeof(List *) * Max(nstmts, 1));
	memset(out, 0, sizeof(*out));
	for (int s = 0; s < nstmts; s++)
	{
		if (stmts[s].queries == NIL)
			continue;
		select_collect(&sel, s);
		stmts[s].base_cost = stmts[s].cost = select_statement_base(&sel, s);
		if (stmts[s].base_cost < 0)
		{
			stmts[s].queries = NIL; /* cannot be planned: left out */
			continue;
		}
		out->statements_planned++;
		out->workload_before += stmts[s].weight * stmts[s].base_cost;
	}

	for (;;)
	{
		Action		best = {0};

		best.costs = best_costs;	/* per step: its best action's costs */
		sel.min_saving = 0;
		for (int s = 0; s < nstmts; s++)
			if (stmts[s].queries)
				sel.min_saving += stmts[s].weight * stmts[s].cost * MIN_WORKLOAD_SHARE;
		select_step(&sel, chosen, &all, params->budget_bytes - used, costs, &best);
		if (best.index == NULL)
			break;
		used += best.bytes;
		chosen = take(&sel, chosen, &all, &best);
	}
	if (params->attribute)
		attribute(&sel, chosen);

	out->chosen = chosen;
	foreach(lc, all)
	{
		Considered *c = lfirst(lc);
		RejectedIndex *r;

		if (c->verdict == V_CHOSEN)
			continue;
		r = palloc0(sizeof(RejectedIndex));
		r->index = c->index;
		r->bytes = c->bytes;
		r->saving = c->saving;
		r->maintenance = c->maintenance;
		r->reason = reason(&sel, c);
		out->rejected = lappend(out->rejected, r);
	}
	for (int s = 0; s < nstmts; s++)
		if (stmts[s].queries)
			out->workload_after += stmts[s].weight * stmts[s].cost;
	out->planner_calls = sel.planner_calls;
}
