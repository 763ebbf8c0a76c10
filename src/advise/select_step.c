/*-------------------------------------------------------------------------
 *
 * select_step.c
 *	  One step of the greedy index selection (select.c): of the actions
 *	  that fit the budget left (a new one-column B-tree, or a chosen one
 *	  extended by a column), the one that saves the most weighted cost net
 *	  of maintenance per byte, planning as few statements as it can.
 *
 * Best first: each action keeps per statement an upper bound of what it
 * can save it; the action with the highest bound per byte has its least
 * known statement bounded or planned, until the highest bound is an
 * action's own, fully planned ratio, or none beats the best ratio found.
 * Sizes and maintenance costs need no planner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "advise/select_int.h"

/*
 * An action of one step: old (NULL: nothing) becomes index. upper bounds
 * each statement's weighted saving from it, the least of:
 *	- the statement's whole cost: no plan costs less than nothing;
 *	- 0 for an extension by a column the statement does not compare, join,
 *	  sort or group on, unless it allows an index-only scan: the wider
 *	  index offers only the narrower one's plans, at more pages;
 *	- what the action saved it when last planned (or a bound of that):
 *	  savings rarely grow as indexes are chosen (lazy greedy, Minoux
 *	  1978); where an index makes another more useful, this can miss it
 *	  for a step, a documented approximation. A new index that saved it
 *	  nothing is taken to leave it as it is (adding an index does not
 *	  raise a plan's cost), without planning it again;
 *	- the saving of a plan of the statement with all the actions on the
 *	  index's table at once (group_bound());
 *	- exactly what it saves, once planned in this step.
 */
typedef struct Pending
{
	ChosenIndex *old;
	HypoIndex  *index;
	Considered *considered;
	List	   *config;			/* the chosen indexes after it */
	double		bytes;			/* growth of the indexes' size */
	double		maintenance;	/* growth of their maintenance cost */
	double	   *upper;			/* per statement; 0 where it cannot change */
	Bitmapset  *open;			/* statements it could change, not known yet */
	Bitmapset  *grouped;		/* statements bounded by group_bound() */
	Bitmapset  *unchanged;		/* statements it leaves as they are: not
								 * planned for it */
	bool		improves;		/* planned: it lowers a statement's cost by
								 * MIN_IMPROVEMENT */
	double		bound;			/* net saving per byte, at most */
	bool		done;			/* evaluated in full in this step */
} Pending;

/*
 * The weighted saving of action p, over the statements that could use its
 * index; per statement new costs in costs (indexed like sel->stmts).
 * Notes in its Considered how many statements it improves enough and the
 * one it regresses most.
 */
static double
action_saving(Selection *sel, Pending *p, double *costs, int *improved)
{
	Considered *c = p->considered;
	double		saving = 0;

	*improved = 0;
	c->regressed = -1;
	c->regression = 0;
	for (int s = 0; s < sel->nstmts; s++)
	{
		WorkloadStatement *st = &sel->stmts[s];
		double		cost;

		costs[s] = st->cost;
		if (st->queries == NIL || !select_index_relevant(sel, s, p->index) ||
			bms_is_member(s, p->unchanged))
			continue;
		cost = select_statement_cost(sel, s, p->config);
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

/*
 * Evaluate the action p in full (every statement it could change is
 * planned already: the costs come from the cache), note its verdict, and
 * keep it in best if it beats it.
 */
static void
evaluate(Selection *sel, Pending *p, double *costs, Action *best)
{
	Considered *c = p->considered;
	bool		extended = c->verdict == V_EXTENDED;
	double		saving,
				net;
	int			improved;

	saving = action_saving(sel, p, costs, &improved);
	c->saving = saving;
	net = saving - p->maintenance;
	c->ever_saved |= saving > 0;
	c->evaluated = true;
	c->bounded = false;
	c->bound = 0;
	if (saving <= 0)
		c->verdict = V_NO_SAVING;
	else if (improved == 0)
		c->verdict = V_BELOW_THRESHOLD;
	else if (saving < sel->min_saving)
		c->verdict = V_SMALL;
	else if (c->regression > MAX_REGRESSION)
		c->verdict = V_REGRESSES;
	else if (net <= 0)
		c->verdict = V_WRITE_COST;
	else
	{
		c->verdict = V_OUTRANKED;
		c->bound = net / Max(p->bytes, BLCKSZ);
		if (c->bound > best->ratio)
		{
			best->ratio = c->bound;
			best->index = p->index;
			best->old = p->old;
			best->bytes = p->bytes;
			best->saving = saving;
			best->maintenance = c->maintenance;
			best->improved = improved;
			memcpy(best->costs, costs, sizeof(double) * sel->nstmts);
		}
	}
	/* a chosen index extended since keeps saying so */
	if (extended)
		c->verdict = V_EXTENDED;
}

/*
 * What p's upper bounds say of it: V_OUTRANKED if it could still be the
 * best action, else why it cannot be chosen; its saving at most in
 * *saving.
 */
static Verdict
bound_verdict(Selection *sel, Pending *p, double *saving)
{
	bool		improves = p->improves;

	*saving = 0;
	for (int s = 0; s < sel->nstmts; s++)
	{
		WorkloadStatement *st = &sel->stmts[s];

		*saving += p->upper[s];
		/* a statement of weight 0 saves nothing but may improve */
		if (bms_is_member(s, p->open) &&
			(st->weight <= 0 || p->upper[s] > st->weight * st->cost * MIN_IMPROVEMENT))
			improves = true;
	}
	if (*saving <= 0)
		return V_NO_SAVING;
	if (!improves)
		return V_BELOW_THRESHOLD;
	if (*saving < sel->min_saving)
		return V_SMALL;
	if (*saving <= p->maintenance)
		return V_WRITE_COST;
	return V_OUTRANKED;
}

/* p's bound: its net saving per byte at most, 0 if it cannot be chosen. */
static void
pending_bound(Selection *sel, Pending *p)
{
	double		saving;

	p->bound = 0;
	if (bound_verdict(sel, p, &saving) != V_OUTRANKED)
		return;
	p->bound = (saving - p->maintenance) / Max(p->bytes, BLCKSZ);
	/* the whole stale ratio bounds it too, as for the lazy greedy */
	if (p->considered->evaluated)
		p->bound = Min(p->bound, p->considered->bound);
}

/*
 * The action turning old (NULL: nothing) into cand as a Pending, or NULL
 * (its verdict noted) when it does not fit into the budget left. Sizes
 * and maintenance costs need no planner.
 */
static Pending *
pending(Selection *sel, List *chosen, List **all, ChosenIndex *old, HypoIndex *cand,
		double left)
{
	Considered *c = select_considered(all, cand);
	Pending    *p;

	c->bytes = select_index_bytes(sel, cand);
	c->maintenance = select_index_maintenance(sel, cand);
	/* an extension takes only its growth from the budget */
	if (c->bytes - (old ? old->bytes : 0) > left)
	{
		if (c->verdict != V_EXTENDED)
			c->verdict = V_OVER_BUDGET;
		c->left = left;
		return NULL;
	}
	p = palloc0(sizeof(Pending));
	p->old = old;
	p->index = cand;
	p->considered = c;
	p->config = select_configuration(chosen, old, cand);
	p->bytes = c->bytes - (old ? old->bytes : 0);
	p->maintenance = c->maintenance - (old ? old->maintenance : 0);
	p->upper = palloc0(sizeof(double) * Max(sel->nstmts, 1));
	for (int s = 0; s < sel->nstmts; s++)
	{
		WorkloadStatement *st = &sel->stmts[s];

		if (st->queries == NIL || !select_index_relevant(sel, s, cand))
			continue;
		p->open = bms_add_member(p->open, s);
		p->upper[s] = st->weight * Max(st->cost, 0);
		if (old && !select_extension_helps(sel, s, cand))
			p->upper[s] = 0;
		if (bms_is_member(s, c->planned))
			p->upper[s] = Min(p->upper[s], c->stale[s]);
		/* an index added alone cannot regress s: no saving then, none now */
		if (old == NULL && bms_is_member(s, c->planned) && c->stale[s] == 0 && st->weight > 0)
		{
			p->open = bms_del_member(p->open, s);
			p->unchanged = bms_add_member(p->unchanged, s);
		}
	}
	pending_bound(sel, p);
	return p;
}

/* Note that c saves statement s at most saving (see Pending). */
static void
note_saving(Selection *sel, Considered *c, int s, double saving)
{
	if (c->stale == NULL)
		c->stale = palloc(sizeof(double) * Max(sel->nstmts, 1));
	c->stale[s] = saving;
	c->planned = bms_add_member(c->planned, s);
}

/*
 * Bound with one plan what each action on p's table that was never
 * planned for statement s could save it: s planned with all their indexes
 * at once costs no more than with any one of them (the planner takes the
 * cheapest path it is offered; but for its fuzzy comparison of paths, by
 * a fraction of a percent), so that plan's saving bounds each one's, and
 * if it saves nothing, no new index among them changes s's cost (an
 * extension still may: it drops the index it extends). Most such plans
 * show that no index on a table helps a statement, which would take a
 * plan per index to learn. False when fewer than two such actions.
 */
static bool
group_bound(Selection *sel, List *chosen, List *actions, Pending *p, int s)
{
	WorkloadStatement *st = &sel->stmts[s];
	List	   *group = NIL;
	List	   *config;
	double		cost,
				saving;
	ListCell   *lc;

	foreach(lc, actions)
	{
		Pending    *q = lfirst(lc);

		if (q->index->relid == p->index->relid && bms_is_member(s, q->open) &&
			!bms_is_member(s, q->grouped) && !bms_is_member(s, q->considered->planned))
			group = lappend(group, q);
	}
	if (list_length(group) < 2)
	{
		list_free(group);
		return false;
	}
	config = select_configuration(chosen, NULL, NULL);
	foreach(lc, group)
		config = lappend(config, ((Pending *) lfirst(lc))->index);
	cost = select_statement_cost(sel, s, config);
	saving = st->weight * Max(cost < 0 ? st->cost : st->cost - cost, 0);
	foreach(lc, group)
	{
		Pending    *q = lfirst(lc);

		q->grouped = bms_add_member(q->grouped, s);
		/* a new index costs s between that plan and now: unchanged */
		if (q->old == NULL && cost >= st->cost)
		{
			q->open = bms_del_member(q->open, s);
			q->unchanged = bms_add_member(q->unchanged, s);
		}
		q->upper[s] = Min(q->upper[s], saving);
		note_saving(sel, q->considered, s, q->upper[s]);
		pending_bound(sel, q);
	}
	list_free(config);
	list_free(group);
	return true;
}

/*
 * Learn more about what p saves: its least known statement bounded for
 * the actions on its table at once if p was never planned for it, else
 * planned for p. False when every statement is known.
 */
static bool
refine(Selection *sel, List *chosen, List *actions, Pending *p)
{
	WorkloadStatement *st;
	int			widest = -1;
	int			s = -1;
	double		cost;

	while ((s = bms_next_member(p->open, s)) >= 0)
		if (widest < 0 || p->upper[s] > p->upper[widest])
			widest = s;
	if (widest < 0)
		return false;
	if (!bms_is_member(widest, p->grouped) && !bms_is_member(widest, p->considered->planned) &&
		group_bound(sel, chosen, actions, p, widest))
		return true;
	st = &sel->stmts[widest];
	cost = select_statement_cost(sel, widest, p->config);
	/* a statement that does not plan with it keeps its cost (action_saving) */
	p->upper[widest] = cost < 0 ? 0 : st->weight * (st->cost - cost);
	p->improves |= cost >= 0 && cost < st->cost * (1 - MIN_IMPROVEMENT);
	p->open = bms_del_member(p->open, widest);
	note_saving(sel, p->considered, widest, p->upper[widest]);
	pending_bound(sel, p);
	return true;
}

/*
 * One step of the search: of the actions that fit into left, the one that
 * saves the most net of maintenance per byte, into best (best->index NULL:
 * none; costs is scratch space). An action left out keeps the verdict of
 * its last full evaluation, or what its bounds say.
 */
void
select_step(Selection *sel, List *chosen, List **all, double left, double *costs, Action *best)
{
	List	   *actions = NIL;
	ListCell   *lc;

	foreach(lc, sel->rels)
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

				if (old && !extendable(old, rc->relid, att, sel->params->max_columns))
					continue;
				if ((cand = candidate(chosen, rc->relid, old, att)) == NULL)
					continue;
				if ((p = pending(sel, chosen, all, old, cand, left)) != NULL)
					actions = lappend(actions, p);
			}
		}
	}
	for (;;)
	{
		Pending    *top = NULL;

		foreach(lc, actions)
		{
			Pending    *p = lfirst(lc);

			if (!p->done && (top == NULL || p->bound > top->bound))
				top = p;
		}
		if (top == NULL || top->bound <= best->ratio)
			break;
		if (!refine(sel, chosen, actions, top))
		{
			evaluate(sel, top, costs, best);
			top->done = true;
		}
	}
	foreach(lc, actions)
	{
		Pending    *p = lfirst(lc);
		Considered *c = p->considered;

		/* never planned in full: what its bounds say */
		if (!p->done && !c->evaluated && c->verdict != V_EXTENDED)
		{
			c->bounded = true;
			c->verdict = bound_verdict(sel, p, &c->saving);
			c->saving = Max(c->saving, 0);
		}
		list_free(p->config);
		pfree(p->upper);
		bms_free(p->open);
		bms_free(p->grouped);
		bms_free(p->unchanged);
	}
	list_free_deep(actions);
}

