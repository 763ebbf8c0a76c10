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
 * once (select_cost.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "advise/select_int.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

/* An action must lower some statement's cost by this share... */
#define MIN_IMPROVEMENT		0.01
/* ...and raise none by more than this share. */
#define MAX_REGRESSION		0.10

/* Why a candidate was not (or is no longer) chosen. */
typedef enum Verdict
{
	V_CHOSEN,
	V_EXTENDED,
	V_OVER_BUDGET,
	V_NO_SAVING,
	V_BELOW_THRESHOLD,
	V_REGRESSES,
	V_WRITE_COST,
	V_OUTRANKED
} Verdict;

/* A candidate as last evaluated. */
typedef struct Considered
{
	HypoIndex  *index;
	Verdict		verdict;
	double		bytes;			/* its own size */
	double		saving;
	double		maintenance;
	bool		ever_saved;
	int			regressed;		/* the statement it regressed most */
	double		regression;		/* by this share */
	double		left;			/* budget left when it did not fit */
	HypoIndex  *extended_into;
	bool		evaluated;		/* planned at least once */
	double		bound;			/* net saving per byte when last planned */
} Considered;

/* An action of one step: old (NULL: nothing) becomes index. */
typedef struct Pending
{
	ChosenIndex *old;
	HypoIndex  *index;
	Considered *considered;
} Pending;

/*
 * Actions by the net saving per byte they had when last planned, never
 * planned first. Savings rarely grow as indexes are chosen, so a stale
 * ratio bounds the fresh one (lazy greedy, Minoux 1978): a step stops
 * planning once no bound beats its best fresh ratio. Where an index makes
 * another more useful, this can miss it for a step: a documented
 * approximation that saves most planner calls.
 */
static int
compare_bounds(const ListCell *a, const ListCell *b)
{
	Considered *x = ((Pending *) lfirst(a))->considered;
	Considered *y = ((Pending *) lfirst(b))->considered;

	if (x->evaluated != y->evaluated)
		return x->evaluated ? 1 : -1;
	if (x->bound != y->bound)
		return x->bound < y->bound ? 1 : -1;
	return 0;
}

/* The record of cand's content, added if new. */
static Considered *
considered(List **all, HypoIndex *cand)
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
static List *
configuration(List *chosen, ChosenIndex *old, HypoIndex *cand)
{
	List	   *config = NIL;
	ListCell   *lc;

	foreach(lc, chosen)
		if (lfirst(lc) != old)
			config = lappend(config, ((ChosenIndex *) lfirst(lc))->index);
	return cand ? lappend(config, cand) : config;
}

/*
 * The weighted saving of replacing old by cand among chosen (old NULL:
 * adding cand), over the statements that could use cand; per statement
 * new costs in costs (indexed like sel->stmts). Notes in c how many
 * statements it improves enough and the one it regresses most.
 */
static double
action_saving(Selection *sel, List *chosen, ChosenIndex *old, HypoIndex *cand,
			  double *costs, int *improved, Considered *c)
{
	List	   *config = configuration(chosen, old, cand);
	double		saving = 0;

	*improved = 0;
	c->regressed = -1;
	c->regression = 0;
	for (int s = 0; s < sel->nstmts; s++)
	{
		WorkloadStatement *st = &sel->stmts[s];
		double		cost;

		costs[s] = st->cost;
		if (st->queries == NIL || !select_index_relevant(sel, s, cand))
			continue;
		cost = select_statement_cost(sel, s, config);
		if (cost < 0)
			continue;
		costs[s] = cost;
		saving += st->weight * (st->cost - cost);
		if (cost < st->cost * (1 - MIN_IMPROVEMENT))
			(*improved)++;
		if (st->cost > 0 && cost / st->cost - 1 > c->regression)
		{
			c->regression = cost / st->cost - 1;
			c->regressed = s;
		}
	}
	list_free(config);
	return saving;
}

/* cand: old (NULL: nothing) with column att appended, unless chosen has it already. */
static HypoIndex *
candidate(List *chosen, Oid relid, ChosenIndex *old, AttrNumber att)
{
	AttrNumber	cols[INDEX_MAX_KEYS];
	int			n = 0;
	HypoIndex  *cand;
	ListCell   *lc;

	if (old)
		for (; n < old->index->nkeys; n++)
			cols[n] = old->index->attnos[n];
	cols[n++] = att;
	cand = hypo_index_btree(relid, cols, n);
	foreach(lc, chosen)
		if (select_compare_index(((ChosenIndex *) lfirst(lc))->index, cand) == 0)
			return NULL;
	return cand;
}

/* Can old grow by att into an index of at most max_columns? */
static bool
extendable(ChosenIndex *old, Oid relid, AttrNumber att, int max_columns)
{
	HypoIndex  *h = old->index;

	if (h->relid != relid || h->nkeys >= max_columns)
		return false;
	for (int i = 0; i < h->nkeys; i++)
		if (h->attnos[i] == att)
			return false;
	return true;
}

/* The best action of one step of the search. */
typedef struct Action
{
	HypoIndex  *index;
	ChosenIndex *old;			/* the chosen index it extends, or NULL */
	double		ratio;			/* net saving per byte */
	double		bytes;			/* growth of the indexes' size */
	double		saving;
	double		maintenance;
	int			improved;
	double	   *costs;			/* per statement, after it */
} Action;

/*
 * Evaluate the action that turns old (NULL: nothing) into cand, note its
 * verdict, and keep it in best if it beats it.
 */
static void
evaluate(Selection *sel, List *chosen, List **all, ChosenIndex *old, HypoIndex *cand,
		 double left, double *costs, Action *best)
{
	Considered *c = considered(all, cand);
	bool		extended = c->verdict == V_EXTENDED;
	double		bytes,
				saving,
				maintenance,
				net;
	int			improved;

	c->bytes = select_index_bytes(sel, cand);
	/* an extension takes only its growth from the budget */
	bytes = c->bytes - (old ? old->bytes : 0);
	if (bytes > left)
	{
		c->verdict = extended ? V_EXTENDED : V_OVER_BUDGET;
		c->left = left;
		return;
	}
	saving = action_saving(sel, chosen, old, cand, costs, &improved, c);
	c->saving = saving;
	c->maintenance = maintenance = select_index_maintenance(sel, cand);
	net = saving - (maintenance - (old ? old->maintenance : 0));
	c->ever_saved |= saving > 0;
	c->evaluated = true;
	c->bound = 0;
	if (saving <= 0)
		c->verdict = V_NO_SAVING;
	else if (improved == 0)
		c->verdict = V_BELOW_THRESHOLD;
	else if (c->regression > MAX_REGRESSION)
		c->verdict = V_REGRESSES;
	else if (net <= 0)
		c->verdict = V_WRITE_COST;
	else
	{
		c->verdict = V_OUTRANKED;
		c->bound = net / Max(bytes, BLCKSZ);
		if (c->bound > best->ratio)
		{
			best->ratio = c->bound;
			best->index = cand;
			best->old = old;
			best->bytes = bytes;
			best->saving = saving;
			best->maintenance = maintenance;
			best->improved = improved;
			memcpy(best->costs, costs, sizeof(double) * sel->nstmts);
		}
	}
	/* a chosen index extended since keeps saying so */
	if (extended)
		c->verdict = V_EXTENDED;
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
	considered(all, best->index)->verdict = V_CHOSEN;
	if (best->old)
	{
		/* the extended index replaces the one it extends */
		Considered *was = considered(all, best->old->index);

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
		case V_BELOW_THRESHOLD:
			return psprintf("below threshold: it lowers no statement's cost by %d%% or more",
							(int) (MIN_IMPROVEMENT * 100));
		case V_REGRESSES:
			return psprintf("regresses statement %s by %.0f%%",
							sel->stmts[c->regressed].label, c->regression * 100);
		case V_WRITE_COST:
			return psprintf("write cost: keeping it up to date costs %.0f, more than the %.0f it saves",
							c->maintenance, c->saving);
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
	List	   *config = configuration(chosen, NULL, NULL);
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
			others = configuration(chosen, ci, NULL);
			ci->cost_without[s] = select_statement_cost(sel, s, others);
			list_free(others);
		}
	}
}

void
select_indexes(WorkloadStatement *stmts, int nstmts, SelectionParams *params,
			   SelectionResult *out)
{
	Selection	sel = {stmts, nstmts, params, NIL, NULL, NULL, CurrentMemoryContext, 0};
	List	   *chosen = NIL;	/* ChosenIndex *, in the order chosen */
	List	   *all = NIL;		/* Considered * */
	double		used = 0;
	double	   *costs = palloc(sizeof(double) * Max(nstmts, 1));
	double	   *best_costs = palloc(sizeof(double) * Max(nstmts, 1));
	ListCell   *lc;

	select_cache_init(&sel);
	sel.stmt_cols = palloc0(sizeof(Bitmapset *) * Max(nstmts, 1));
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
		List	   *actions = NIL;

		best.costs = best_costs;	/* per step: its best action's costs */
		foreach(lc, sel.rels)
		{
			RelColumns *rc = lfirst(lc);
			int			att = -1;

			while ((att = bms_next_member(rc->attnos, att)) >= 0)
			{
				/* a new one-column index (k = -1), or a chosen one extended */
				for (int k = -1; k < list_length(chosen); k++)
				{
					ChosenIndex *old = k < 0 ? NULL : list_nth(chosen, k);
					HypoIndex  *cand;
					Pending    *p;

					if (old && !extendable(old, rc->relid, att, params->max_columns))
						continue;
					if ((cand = candidate(chosen, rc->relid, old, att)) == NULL)
						continue;
					p = palloc(sizeof(Pending));
					p->old = old;
					p->index = cand;
					p->considered = considered(&all, cand);
					actions = lappend(actions, p);
				}
			}
		}
		/* lazily: the most promising first, until no bound can beat the best */
		list_sort(actions, compare_bounds);
		foreach(lc, actions)
		{
			Pending    *p = lfirst(lc);

			if (p->considered->evaluated && p->considered->bound <= best.ratio)
				break;
			evaluate(&sel, chosen, &all, p->old, p->index, params->budget_bytes - used,
					 costs, &best);
		}
		list_free_deep(actions);
		if (best.index == NULL)
			break;
		used += best.bytes;
		chosen = take(&sel, chosen, &all, &best);
	}
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
