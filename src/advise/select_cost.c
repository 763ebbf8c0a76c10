/*-------------------------------------------------------------------------
 *
 * select_cost.c
 *	  What index selection asks the what-if planner and the size model,
 *	  each answer computed once per content: the cost of a statement under
 *	  the indexes of a configuration on its relations (and its parameter
 *	  samples), an index's size, and the cost of keeping an index up to
 *	  date under its table's writes.
 *
 * Maintenance, in planner cost units per unit of time: every row inserted,
 * every non-HOT update, and every HOT update that sets one of the index's
 * columns adds an entry; such an update is no longer HOT, so it adds an
 * entry to each of the table's other indexes too. An entry costs what the
 * planner charges to descend the tree to one leaf (btcostestimate: 50
 * cpu_operator_cost per level), one index tuple, and its share of writing
 * the leaf page (random_page_cost over the entries a leaf holds).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "advise/select_int.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "optimizer/optimizer.h"

/*
 * A cached cost or size. Keys are texts of any length (a statement and
 * the content of a configuration), hashed to 64 bits; the text is kept to
 * tell a hash collision from a hit.
 */
typedef struct CacheEntry
{
	uint64		hash;
	char	   *key;
	double		value;			/* a cost, or an index's bytes */
	double		entries;		/* an index's entries */
	int			height;			/* an index's levels above the leaves */
	Bitmapset  *used;			/* a cost: the indexes its plan scans, as
								 * positions in the key's configuration */
} CacheEntry;

void
select_cache_init(Selection *sel)
{
	HASHCTL		ctl;

	ctl.keysize = sizeof(uint64);
	ctl.entrysize = sizeof(CacheEntry);
	ctl.hcxt = sel->mcxt;
	sel->cache = hash_create("pipeopt what-if costs", 1024, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
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
	e->used = NULL;
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

int
select_compare_index(const HypoIndex *x, const HypoIndex *y)
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
	return select_compare_index(lfirst(a), lfirst(b));
}

/* The indexes of config that statement s could use, in content order. */
static List *
statement_config(Selection *sel, int s, List *config)
{
	List	   *mine = NIL;
	ListCell   *lc;

	foreach(lc, config)
		if (select_index_relevant(sel, s, lfirst(lc)))
			mine = lappend(mine, lfirst(lc));
	list_sort(mine, compare_cells);
	return mine;
}

/*
 * Plan statement s under mine into e (once per sample): its cost (-1 when
 * it does not plan, the error noted) and the positions in mine of the
 * indexes it scans. Counts every planner call (a statement rewritten into
 * several queries plans each, on each sample).
 */
static void
plan(Selection *sel, int s, List *mine, CacheEntry *e)
{
	WorkloadStatement *st = &sel->stmts[s];
	WhatifConfig wc = {mine, NIL};
	WhatifCost	out;
	char	   *error;
	ListCell   *lc;

	sel->planner_calls += list_length(st->queries) * Max(list_length(st->samples), 1);
	e->value = -1;
	if (!whatif_cost(st->queries, st->samples, st->role, st->search_path, &wc, &out, &error))
	{
		if (st->error == NULL)
			st->error = error;
		return;
	}
	e->value = out.total_cost;
	foreach(lc, mine)
		if (list_member_ptr(out.used, lfirst(lc)))
		{
			MemoryContext old = MemoryContextSwitchTo(sel->mcxt);

			e->used = bms_add_member(e->used, foreach_current_index(lc));
			MemoryContextSwitchTo(old);
		}
}

void
select_sample_unusable(WorkloadStatement *st, int count, const char *error)
{
	st->samples_unusable += count;
	if (st->sample_error == NULL)
		st->sample_error = pstrdup(error);
}

/*
 * The cost of statement s as things are. A sample whose values make
 * planning fail (constant folding of 1 / $1 with 0) is left out, noted;
 * with none left the statement is planned generically. Its samples are
 * part of its cache keys, so the costs of what is left are planned anew.
 */
double
select_statement_base(Selection *sel, int s)
{
	WorkloadStatement *st = &sel->stmts[s];
	WhatifConfig none = {NIL, NIL};
	double		cost = select_statement_cost(sel, s, NIL);
	ListCell   *lc;

	if (cost >= 0 || st->samples == NIL)
		return cost;
	foreach(lc, st->samples)
	{
		WhatifSample *ws = lfirst(lc);
		WhatifCost	out;
		char	   *error;

		sel->planner_calls += list_length(st->queries);
		if (whatif_cost(st->queries, list_make1(ws), st->role, st->search_path,
						&none, &out, &error))
			continue;
		select_sample_unusable(st, ws->count, error);
		st->samples = foreach_delete_current(st->samples, lc);
	}
	st->error = NULL;
	return select_statement_cost(sel, s, NIL);
}

/*
 * The cache entry of statement s with the indexes of config it could use
 * (*mine, in content order), planned once per statement and content of
 * those indexes.
 */
static CacheEntry *
statement_entry(Selection *sel, int s, List *config, List **mine)
{
	ListCell   *lc;
	StringInfoData key;
	CacheEntry *e;
	bool		found;

	*mine = statement_config(sel, s, config);
	initStringInfo(&key);
	appendStringInfo(&key, "%d", s);
	/* the same statement costed on other samples is another question */
	foreach(lc, sel->stmts[s].samples)
		appendStringInfo(&key, "/" UINT64_FORMAT, ((WhatifSample *) lfirst(lc))->hash);
	foreach(lc, *mine)
		append_index(&key, lfirst(lc));
	e = cache_slot(sel, &key, &found);
	pfree(key.data);
	if (!found)
		plan(sel, s, *mine, e);
	return e;
}

/* The cost of statement s under config (cached); -1 when it does not plan. */
double
select_statement_cost(Selection *sel, int s, List *config)
{
	List	   *mine;
	double		cost = statement_entry(sel, s, config, &mine)->value;

	list_free(mine);
	return cost;
}

/* The indexes of config that the plan of statement s scans (cached). */
List *
select_statement_uses(Selection *sel, int s, List *config)
{
	List	   *mine;
	CacheEntry *e = statement_entry(sel, s, config, &mine);
	List	   *used = NIL;
	int			i = -1;

	while ((i = bms_next_member(e->used, i)) >= 0)
		used = lappend(used, list_nth(mine, i));
	list_free(mine);
	return used;
}

/* The size of h, estimated once per content. */
static CacheEntry *
index_size(Selection *sel, HypoIndex *h)
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
		e->entries = size.tuples;
		e->height = Max(size.tree_height, 0);
	}
	pfree(key.data);
	return e;
}

double
select_index_bytes(Selection *sel, HypoIndex *h)
{
	return index_size(sel, h)->value;
}

/* The weighted cost of keeping h up to date (see the header comment). */
double
select_index_maintenance(Selection *sel, HypoIndex *h)
{
	RelColumns *rc = list_nth(sel->rels, select_find_rel(sel, h->relid));
	TableWrites *w = rc->writes;
	CacheEntry *size;
	double		hot_share,
				broken = 0,
				entries,
				per_entry;
	Bitmapset  *cols = NULL;
	ListCell   *lc;

	if (w == NULL)
		return 0;
	for (int i = 0; i < h->ncols; i++)
		cols = bms_add_member(cols, h->attnos[i]);
	/* the HOT updates among the workload's updates that set its columns */
	hot_share = w->updates > 0 ? Min(w->hot_updates / w->updates, 1.0) : 0;
	foreach(lc, rc->updates)
	{
		UpdateColumns *u = lfirst(lc);

		if (bms_overlap(u->attnos, cols))
			broken += u->rows * hot_share;
	}
	broken = Min(broken, w->hot_updates);
	entries = w->inserts + (w->updates - w->hot_updates) + broken * (1 + w->indexes);
	size = index_size(sel, h);
	per_entry = (size->height + 1) * 50.0 * cpu_operator_cost + cpu_index_tuple_cost +
		random_page_cost * (size->value / BLCKSZ) / Max(size->entries, 1);
	bms_free(cols);
	return Max(entries, 0) * per_entry;
}
