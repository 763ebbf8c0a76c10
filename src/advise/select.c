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
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"

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
	HTAB	   *cache;			/* costs and sizes, by content (CacheEntry) */
	MemoryContext mcxt;			/* the cache's keys */
	int			planner_calls;
} Selection;

/*
 * A cached cost or size. Keys are texts of any length (a statement and
 * the content of a configuration), hashed to 64 bits; the text is kept to
 * tell a hash collision from a hit.
 */
typedef struct CacheEntry
{
	uint64		hash;
	char	   *key;
	double		value;
} CacheEntry;

/* The index into sel->rels of relid, or -1. */
static int
find_rel(Selection *sel, Oid relid)
{
	ListCell   *lc;

	foreach(lc, sel->rels)
		if (((RelColumns *) lfirst(lc))->relid == relid)
			return foreach_current_index(lc);
	return -1;
}

/* The index into sel->rels of relid, added if new. */
static int
rel_index(Selection *sel, Oid relid)
{
	int			r = find_rel(sel, relid);
	RelColumns *rc;

	if (r >= 0)
		return r;
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

/* The cache slot of key: *found says whether it holds key's value. */
static CacheEntry *
cache_slot(Selection *sel, StringInfo key, bool *found)
{
	uint64		hash = hash_bytes_extended((const unsigned char *) key->data, key->len, 0);
	CacheEntry *e = hash_search(sel->cache, &hash, HASH_ENTER, found);

	if (*found && strcmp(e->key, key->data) == 0)
		return e;
	if (*found)
		pfree(e->key);			/* a collision: the slot takes the new key */
	*found = false;
	e->key = MemoryContextStrdup(sel->mcxt, key->data);
	return e;
}

/* An index's content (relation and key columns) appended to a key. */
static void
append_index(StringInfo key, HypoIndex *h)
{
	appendStringInfo(key, "|%u", h->relid);
	for (int i = 0; i < h->nkeys; i++)
		appendStringInfo(key, ",%d", h->attnos[i]);
}

static int
compare_index(const HypoIndex *x, const HypoIndex *y)
{
	if (x->relid != y->relid)
		return x->relid < y->relid ? -1 : 1;
	for (int i = 0; i < Min(x->nkeys, y->nkeys); i++)
		if (x->attnos[i] != y->attnos[i])
			return x->attnos[i] < y->attnos[i] ? -1 : 1;
	return x->nkeys - y->nkeys;
}

static int
compare_cells(const ListCell *a, const ListCell *b)
{
	return compare_index(lfirst(a), lfirst(b));
}

/* The estimated bytes of h, estimated once per content. */
static double
index_bytes(Selection *sel, HypoIndex *h)
{
	StringInfoData key;
	CacheEntry *e;
	bool		found;

	initStringInfo(&key);
	appendStringInfoString(&key, "size");
	append_index(&key, h);
	e = cache_slot(sel, &key, &found);
	if (!found)
	{
		HypoSize	size;

		hypo_estimate_size(h, hypo_index_entries(h), &size);
		e->value = (double) size.pages * BLCKSZ;
	}
	pfree(key.data);
	return e->value;
}

/*
 * The cost of statement s with the indexes of config on its relations
 * (planned once per statement and content of those indexes); -1 when it
 * does not plan.
 */
static double
statement_cost(Selection *sel, int s, List *config)
{
	WorkloadStatement *st = &sel->stmts[s];
	List	   *mine = NIL;
	ListCell   *lc;
	StringInfoData key;
	CacheEntry *e;
	bool		found;

	foreach(lc, config)
		if (bms_is_member(find_rel(sel, ((HypoIndex *) lfirst(lc))->relid), st->rels))
			mine = lappend(mine, lfirst(lc));
	list_sort(mine, compare_cells);
	initStringInfo(&key);
	appendStringInfo(&key, "%d", s);
	foreach(lc, mine)
		append_index(&key, lfirst(lc));
	e = cache_slot(sel, &key, &found);
	pfree(key.data);
	if (!found)
	{
		WhatifConfig wc = {mine, NIL};
		WhatifCost	out;
		char	   *error;

		sel->planner_calls++;
		e->value = -1;
		if (whatif_cost(st->queries, st->role, NULL, &wc, &out, &error))
			e->value = out.total_cost;
		else
			ereport(DEBUG1, (errmsg_internal("pipeopt: statement %d not costed: %s", s, error)));
	}
	list_free(mine);
	return e->value;
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
 * adding cand), over the statements on cand's relation rel; per statement
 * new costs in costs (indexed like sel->stmts).
 */
static double
action_saving(Selection *sel, List *chosen, ChosenIndex *old, HypoIndex *cand, int rel,
			  double *costs, int *improved)
{
	List	   *config = configuration(chosen, old, cand);
	double		saving = 0;

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
		if (compare_index(((ChosenIndex *) lfirst(lc))->index, cand) == 0)
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

void
select_indexes(WorkloadStatement *stmts, int nstmts, double budget_bytes,
			   int max_columns, SelectionResult *out)
{
	Selection	sel = {stmts, nstmts, NIL, NULL, CurrentMemoryContext, 0};
	HASHCTL		ctl;
	List	   *chosen = NIL;	/* ChosenIndex *, in the order chosen */
	double		used = 0;
	double	   *costs = palloc(sizeof(double) * Max(nstmts, 1));
	double	   *best_costs = palloc(sizeof(double) * Max(nstmts, 1));

	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(CacheEntry);
	ctl.hcxt = CurrentMemoryContext;
	sel.cache = hash_create("pipeopt what-if costs", 1024, &ctl,
							HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

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
		HypoIndex  *best = NULL;
		ChosenIndex *best_old = NULL;
		double		best_ratio = 0,
					best_bytes = 0,
					best_saving = 0;
		int			best_improved = 0;
		ListCell   *lr;

		foreach(lr, sel.rels)
		{
			RelColumns *rc = lfirst(lr);
			int			att = -1;

			while ((att = bms_next_member(rc->attnos, att)) >= 0)
			{
				/* a new one-column index (k = -1), or a chosen one extended */
				for (int k = -1; k < list_length(chosen); k++)
				{
					ChosenIndex *old = k < 0 ? NULL : list_nth(chosen, k);
					HypoIndex  *cand;
					double		bytes,
								saving;
					int			improved;

					if (old && !extendable(old, rc->relid, att, max_columns))
						continue;
					if ((cand = candidate(chosen, rc->relid, old, att)) == NULL)
						continue;
					/* an extension takes only its growth from the budget */
					bytes = index_bytes(&sel, cand) - (old ? old->bytes : 0);
					if (used + bytes > budget_bytes)
						continue;
					saving = action_saving(&sel, chosen, old, cand, foreach_current_index(lr),
										   costs, &improved);
					if (saving <= 0 || improved == 0 ||
						saving / Max(bytes, BLCKSZ) <= best_ratio)
						continue;
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
		if (best == NULL)
			break;
		used += best_bytes;
		{
			ChosenIndex *ci = palloc0(sizeof(ChosenIndex));

			ci->index = best;
			ci->bytes = best_bytes;
			ci->saving = best_saving;
			ci->statements = best_improved;
			if (best_old)
			{
				/* the extended index replaces the one it extends */
				ci->bytes += best_old->bytes;
				ci->saving += best_old->saving;
				ci->statements = Max(ci->statements, best_old->statements);
				chosen = list_delete_ptr(chosen, best_old);
			}
			chosen = lappend(chosen, ci);
		}
		for (int s = 0; s < nstmts; s++)
			stmts[s].cost = best_costs[s];
	}
	out->chosen = chosen;
	for (int s = 0; s < nstmts; s++)
		if (stmts[s].queries)
			out->workload_after += stmts[s].weight * stmts[s].cost;
	out->planner_calls = sel.planner_calls;
}
