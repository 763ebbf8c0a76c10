/*-------------------------------------------------------------------------
 *
 * select.c
 *	  Extend-style greedy index selection (Schlosser et al., ICDE 2019):
 *	  start from no new index; at each step take the action that saves the
 *	  most weighted statement cost per byte of index, where an action is a
 *	  new one-column B-tree or a chosen B-tree extended by one column; stop
 *	  when nothing fits the budget or saves anything.
 *
 * Candidate columns are those the statements compare with a B-tree
 * operator (equality, range, IN/ANY), join on, sort or group by. A
 * statement is planned only for actions on relations it reads, and each
 * (statement, configuration of the indexes on its relations) is planned
 * once: a cache keyed by the indexes' content.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "advise/select.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"

#define KEY_LEN 512

typedef struct RelColumns
{
	Oid			relid;
	Bitmapset  *attnos;			/* candidate columns */
} RelColumns;

typedef struct Selection
{
	WorkloadStatement *stmts;
	int			nstmts;
	List	   *rels;			/* RelColumns * */
	HTAB	   *cache;			/* CostEntry by key */
	int			planner_calls;
} Selection;

typedef struct CostEntry
{
	char		key[KEY_LEN];
	double		cost;
} CostEntry;

/* The index into sel->rels of relid, added if new. */
static int
rel_index(Selection *sel, Oid relid)
{
	ListCell   *lc;
	RelColumns *rc;

	foreach(lc, sel->rels)
		if (((RelColumns *) lfirst(lc))->relid == relid)
			return foreach_current_index(lc);
	rc = palloc0(sizeof(RelColumns));
	rc->relid = relid;
	sel->rels = lappend(sel->rels, rc);
	return list_length(sel->rels) - 1;
}

typedef struct Collect
{
	Selection  *sel;
	WorkloadStatement *stmt;
	Query	   *query;			/* the level being walked */
} Collect;

/* A column of a plain table of this level, with a default B-tree class. */
static void
add_column(Collect *c, Node *node)
{
	Var		   *v;
	RangeTblEntry *rte;
	int			r;

	if (node && IsA(node, RelabelType))
		node = (Node *) ((RelabelType *) node)->arg;
	if (node == NULL || !IsA(node, Var))
		return;
	v = (Var *) node;
	if (v->varlevelsup != 0 || v->varattno <= 0 || v->varno > list_length(c->query->rtable))
		return;
	rte = rt_fetch(v->varno, c->query->rtable);
	if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION)
		return;
	if (!OidIsValid(GetDefaultOpClass(v->vartype, BTREE_AM_OID)))
		return;
	r = rel_index(c->sel, rte->relid);
	((RelColumns *) list_nth(c->sel->rels, r))->attnos =
		bms_add_member(((RelColumns *) list_nth(c->sel->rels, r))->attnos, v->varattno);
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
		/* relations the statement reads */
		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION && rte->relkind == RELKIND_RELATION)
				c->stmt->rels = bms_add_member(c->stmt->rels, rel_index(c->sel, rte->relid));
		}
		/* sort and group keys */
		foreach(lc, q->targetList)
		{
			TargetEntry *te = lfirst(lc);

			if (te->ressortgroupref != 0)
				add_column(c, (Node *) te->expr);
		}
		(void) query_tree_walker(q, collect_walker, c, 0);
		c->query = outer;
		return false;
	}
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

/* The cache key: the statement and the content of the indexes on its relations. */
static void
config_key(Selection *sel, int s, List *config, char *key)
{
	int			len = snprintf(key, KEY_LEN, "%d", s);
	ListCell   *lc;

	memset(key + len, 0, KEY_LEN - len);
	foreach(lc, config)
	{
		HypoIndex  *h = lfirst(lc);

		len += snprintf(key + len, KEY_LEN - len, "|%u", h->relid);
		for (int i = 0; i < h->nkeys && len < KEY_LEN; i++)
			len += snprintf(key + len, KEY_LEN - len, ",%d", h->attnos[i]);
	}
}

static int
compare_hypo(const ListCell *a, const ListCell *b)
{
	HypoIndex  *x = lfirst(a),
			   *y = lfirst(b);

	if (x->relid != y->relid)
		return x->relid < y->relid ? -1 : 1;
	for (int i = 0; i < Min(x->nkeys, y->nkeys); i++)
		if (x->attnos[i] != y->attnos[i])
			return x->attnos[i] < y->attnos[i] ? -1 : 1;
	return x->nkeys - y->nkeys;
}

/* The cost of statement s with the indexes of chosen on its relations; -1 on failure. */
static double
statement_cost(Selection *sel, int s, List *chosen)
{
	WorkloadStatement *st = &sel->stmts[s];
	List	   *config = NIL;
	ListCell   *lc;
	char		key[KEY_LEN];
	CostEntry  *e;
	bool		found;
	WhatifConfig wc = {NIL, NIL};
	WhatifCost	out;
	char	   *error;

	foreach(lc, chosen)
	{
		HypoIndex  *h = lfirst(lc);
		ListCell   *lr;

		foreach(lr, sel->rels)
			if (((RelColumns *) lfirst(lr))->relid == h->relid &&
				bms_is_member(foreach_current_index(lr), st->rels))
				config = lappend(config, h);
	}
	list_sort(config, compare_hypo);
	config_key(sel, s, config, key);
	e = hash_search(sel->cache, key, HASH_ENTER, &found);
	if (found)
		return e->cost;
	wc.hypos = config;
	sel->planner_calls++;
	if (!whatif_cost(st->queries, st->role, NULL, &wc, &out, &error))
	{
		ereport(DEBUG1, (errmsg_internal("pipeopt: statement %d not costed: %s", s, error)));
		e->cost = -1;
	}
	else
		e->cost = out.total_cost;
	return e->cost;
}

/*
 * The weighted saving of replacing old by cand in chosen (old NULL: adding
 * cand), over the statements on cand's relation; per statement new costs
 * in costs (indexed like sel->stmts).
 */
static double
action_saving(Selection *sel, List *chosen, HypoIndex *old, HypoIndex *cand, int rel,
			  double *costs, int *improved)
{
	List	   *config = list_copy(chosen);
	double		saving = 0;

	if (old)
		config = list_delete_ptr(config, old);
	config = lappend(config, cand);
	*improved = 0;
	for (int s = 0; s < sel->nstmts; s++)
	{
		WorkloadStatement *st = &sel->stmts[s];
		double		c;

		costs[s] = st->cost;
		if (st->queries == NIL || !bms_is_member(rel, st->rels))
			continue;
		c = statement_cost(sel, s, config);
		if (c < 0)
			continue;
		costs[s] = c;
		saving += st->weight * (st->cost - c);
		if (c < st->cost * 0.999)
			(*improved)++;
	}
	return saving;
}

void
select_indexes(WorkloadStatement *stmts, int nstmts, double budget_bytes,
			   int max_columns, SelectionResult *out)
{
	Selection	sel = {stmts, nstmts, NIL, NULL, 0};
	HASHCTL		ctl;
	List	   *chosen = NIL;	/* HypoIndex * */
	List	   *result = NIL;	/* ChosenIndex *, parallel to chosen */
	double		used = 0;
	double	   *costs = palloc(sizeof(double) * Max(nstmts, 1));
	double	   *best_costs = palloc(sizeof(double) * Max(nstmts, 1));

	ctl.keysize = KEY_LEN;
	ctl.entrysize = sizeof(CostEntry);
	ctl.hcxt = CurrentMemoryContext;
	sel.cache = hash_create("pipeopt what-if costs", 1024, &ctl,
							HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);

	memset(out, 0, sizeof(*out));
	for (int s = 0; s < nstmts; s++)
	{
		Collect		c = {&sel, &stmts[s], NULL};
		ListCell   *lc;

		foreach(lc, stmts[s].queries)
			(void) collect_walker(lfirst(lc), &c);
		stmts[s].base_cost = stmts[s].cost = stmts[s].queries ? statement_cost(&sel, s, NIL) : -1;
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
		HypoIndex  *best = NULL,
				   *best_old = NULL;
		double		best_ratio = 0,
					best_bytes = 0,
					best_saving = 0;
		int			best_improved = 0;
		ListCell   *lr;

		foreach(lr, sel.rels)
		{
			RelColumns *rc = lfirst(lr);
			int			rel = foreach_current_index(lr);
			int			att = -1;

			while ((att = bms_next_member(rc->attnos, att)) >= 0)
			{
				ListCell   *lc;
				/* a new one-column index, then each chosen one extended */
				HypoIndex  *olds[64];
				int			nolds = 0;

				olds[nolds++] = NULL;
				foreach(lc, chosen)
				{
					HypoIndex  *h = lfirst(lc);
					bool		has = false;

					if (h->relid != rc->relid || h->nkeys >= max_columns || nolds >= lengthof(olds))
						continue;
					for (int i = 0; i < h->nkeys; i++)
						has |= h->attnos[i] == att;
					if (!has)
						olds[nolds++] = h;
				}
				for (int k = 0; k < nolds; k++)
				{
					HypoIndex  *old = olds[k];
					AttrNumber	cols[INDEX_MAX_KEYS];
					int			n = 0;
					HypoIndex  *cand;
					HypoSize	size,
								old_size;
					double		bytes,
								saving;
					int			improved;
					bool		duplicate = false;

					if (old)
						for (; n < old->nkeys; n++)
							cols[n] = old->attnos[n];
					cols[n++] = att;
					cand = hypo_index_btree(rc->relid, cols, n);
					foreach(lc, chosen)
					{
						HypoIndex  *h = lfirst(lc);

						if (h->relid == cand->relid && h->nkeys == cand->nkeys &&
							memcmp(h->attnos, cand->attnos, sizeof(AttrNumber) * n) == 0)
							duplicate = true;
					}
					if (duplicate)
						continue;
					hypo_estimate_size(cand, hypo_index_entries(cand), &size);
					bytes = (double) size.pages * BLCKSZ;
					if (old)
					{
						hypo_estimate_size(old, hypo_index_entries(old), &old_size);
						bytes -= (double) old_size.pages * BLCKSZ;
					}
					if (used + bytes > budget_bytes)
						continue;
					saving = action_saving(&sel, chosen, old, cand, rel, costs, &improved);
					if (saving <= 0 || improved == 0)
						continue;
					if (saving / Max(bytes, BLCKSZ) > best_ratio)
					{
						best_ratio = saving / Max(bytes, BLCKSZ);
						best = cand;
						best_old = old;
						best_bytes = bytes;
						best_saving = saving;
						best_improved = improved;
						memcpy(best_costs, costs, sizeof(double) * nstmts);
					}
				}
			}
		}
		if (best == NULL)
			break;
		used += best_bytes;		/* an extension adds its growth */
		{
			ChosenIndex *ci = palloc0(sizeof(ChosenIndex));

			ci->index = best;
			ci->bytes = best_bytes;
			ci->saving = best_saving;
			ci->statements = best_improved;
			if (best_old)
			{
				/* the extended index replaces the one it extends */
				ChosenIndex *was = NULL;
				ListCell   *lc;

				foreach(lc, result)
					if (((ChosenIndex *) lfirst(lc))->index == best_old)
						was = lfirst(lc);

				ci->bytes += was->bytes;
				ci->saving += was->saving;
				ci->statements = Max(ci->statements, was->statements);
				result = list_delete_ptr(result, was);
				chosen = list_delete_ptr(chosen, best_old);
			}
			chosen = lappend(chosen, best);
			result = lappend(result, ci);
		}
		for (int s = 0; s < nstmts; s++)
			stmts[s].cost = best_costs[s];
	}
	out->chosen = result;
	for (int s = 0; s < nstmts; s++)
		if (stmts[s].queries)
			out->workload_after += stmts[s].weight * stmts[s].cost;
	out->planner_calls = sel.planner_calls;
}
