/*-------------------------------------------------------------------------
 *
 * hypo_size.c
 *	  How big an index would be if it were built now: pages, entries and
 *	  B-tree height, from the table's statistics (pg_statistic: null
 *	  fraction, average width, distinct values) and the layout PostgreSQL
 *	  15's index builds produce.
 *
 * B-tree: a build fills leaf pages to the fillfactor (90%) and internal
 * pages to 70%; it stores the duplicates of a key once, as posting lists
 * of heap TIDs (6 bytes each, a posting tuple at most 10% of a page), when
 * the index allows deduplication: not unique, no INCLUDE columns, and
 * every key's operator class says equality is image equality (not
 * numeric or float, for example). A size model that ignores this
 * overestimates indexes on repetitive columns several times over.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/itup.h"
#include "access/nbtree.h"
#include "access/relation.h"
#include "advise/whatif.h"
#include "catalog/pg_am.h"
#include "catalog/pg_statistic.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/plancat.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#define PAGE_ITEM_SPACE (BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(BTPageOpaqueData)))
#define NONLEAF_FILLFACTOR 70	/* nbtree.h's BTREE_NONLEAF_FILLFACTOR */
#define MAX_POSTING_TUPLE (MAXALIGN_DOWN(BLCKSZ * 10 / 100) - sizeof(ItemIdData))

#define DRAWS 64				/* values per column a tuple size is averaged over */

typedef struct ColumnStats
{
	double		nullfrac;
	double		ndistinct;		/* 0: unknown */
	int16		typlen;
	char		align;
	float		width[DRAWS];	/* stored bytes of representative values */
} ColumnStats;

/* Bytes a value takes in an index tuple (a short varlena header when it fits). */
static float
stored_width(Datum v, int16 typlen)
{
	Size		len;

	if (typlen > 0)
		return typlen;
	if (typlen == -2)
		return strlen(DatumGetCString(v)) + 1;
	len = VARSIZE_ANY_EXHDR(DatumGetPointer(v));
	return len + (len + VARHDRSZ_SHORT <= VARATT_SHORT_MAX ? VARHDRSZ_SHORT : VARHDRSZ);
}

/*
 * DRAWS representative widths of a column: its most common values in
 * proportion to their frequency, the rest spread over its histogram. An
 * average width alone gets MAXALIGN wrong when widths straddle 8 bytes.
 */
static void
draw_widths(HeapTuple stats, ColumnStats *cs, double avg)
{
	AttStatsSlot mcv,
				hist;
	bool		has_mcv,
				has_hist;
	int			n = 0;

	for (int i = 0; i < DRAWS; i++)
		cs->width[i] = cs->typlen > 0 ? cs->typlen : avg;
	if (cs->typlen > 0 || stats == NULL)
		return;
	has_mcv = get_attstatsslot(&mcv, stats, STATISTIC_KIND_MCV, InvalidOid,
							   ATTSTATSSLOT_VALUES | ATTSTATSSLOT_NUMBERS);
	has_hist = get_attstatsslot(&hist, stats, STATISTIC_KIND_HISTOGRAM, InvalidOid,
								ATTSTATSSLOT_VALUES);
	if (has_mcv)
	{
		double		nonnull = Max(1 - cs->nullfrac, 1e-9);

		for (int j = 0; j < mcv.nvalues && n < DRAWS; j++)
			for (int k = (int) rint(mcv.numbers[j] / nonnull * DRAWS); k > 0 && n < DRAWS; k--)
				cs->width[n++] = stored_width(mcv.values[j], cs->typlen);
	}
	if (has_hist && hist.nvalues > 0)
	{
		int			rest = DRAWS - n;

		for (int r = 0; r < rest; r++)
			cs->width[n + r] = stored_width(hist.values[(int) ((r + 0.5) * hist.nvalues / rest)],
											cs->typlen);
	}
	if (has_mcv)
		free_attstatsslot(&mcv);
	if (has_hist)
		free_attstatsslot(&hist);
}

/* What pg_statistic says about a column, else what its type says. */
static void
column_stats(Oid relid, AttrNumber attno, Oid type, int32 typmod, double tuples,
			 ColumnStats *cs)
{
	bool		byval;
	HeapTuple	tup = NULL;
	double		avg = get_typavgwidth(type, typmod);

	get_typlenbyvalalign(type, &cs->typlen, &byval, &cs->align);
	cs->nullfrac = 0;
	cs->ndistinct = 0;
	if (attno > 0)
		tup = SearchSysCache3(STATRELATTINH, ObjectIdGetDatum(relid),
							  Int16GetDatum(attno), BoolGetDatum(false));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_statistic s = (Form_pg_statistic) GETSTRUCT(tup);

		if (s->stawidth > 0)
			avg = s->stawidth;
		cs->nullfrac = s->stanullfrac;
		if (s->stadistinct > 0)
			cs->ndistinct = s->stadistinct;
		else if (s->stadistinct < 0)
			cs->ndistinct = -s->stadistinct * tuples;
	}
	draw_widths(HeapTupleIsValid(tup) ? tup : NULL, cs, avg);
	if (HeapTupleIsValid(tup))
		ReleaseSysCache(tup);
}

/*
 * The average MAXALIGN'd size of an index tuple of columns [0, ncols):
 * draw by draw, each column null in its null fraction of the draws (a
 * tuple with a NULL carries a null bitmap), short varlenas unaligned.
 */
static double
tuple_size(ColumnStats *cs, int ncols)
{
	double		sum = 0;

	for (int d = 0; d < DRAWS; d++)
	{
		double		off = 0;
		bool		hasnull = false;

		for (int i = 0; i < ncols; i++)
		{
			float		w = cs[i].width[(d + 7 * i) % DRAWS];

			if (((d * 37 + i * 11) % DRAWS) < cs[i].nullfrac * DRAWS)
			{
				hasnull = true;
				continue;
			}
			if (cs[i].typlen != -1 || w > VARATT_SHORT_MAX)
				off = att_align_nominal(off, cs[i].align);
			off += w;
		}
		sum += MAXALIGN((hasnull ? MAXALIGN(sizeof(IndexTupleData) + sizeof(IndexAttributeBitMapData)) :
						 sizeof(IndexTupleData)) + (Size) ceil(off));
	}
	return sum / DRAWS;
}

/* Can a build of h deduplicate (nbtree's _bt_allequalimage, and more)? */
static bool
can_deduplicate(HypoIndex *h)
{
	if (h->am != BTREE_AM_OID || h->unique || h->ncols > h->nkeys)
		return false;
	for (int i = 0; i < h->nkeys; i++)
	{
		Oid			family = get_opclass_family(h->opclass[i]);
		Oid			type = get_opclass_input_type(h->opclass[i]);
		Oid			proc = get_opfamily_proc(family, type, type, BTEQUALIMAGE_PROC);

		if (!OidIsValid(proc) ||
			!DatumGetBool(OidFunctionCall1Coll(proc, h->collation[i], ObjectIdGetDatum(type))))
			return false;
	}
	return true;
}

static BlockNumber
heap_pages(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;

	estimate_rel_size(rel, NULL, &pages, &tuples, &allvisfrac);
	relation_close(rel, AccessShareLock);
	return pages;
}

/* Leaf bytes of a group of k equal keys (k >= 1), tuple = one plain entry. */
static double
group_bytes(double k, double tuple, bool dedup)
{
	double		per_posting;
	double		full;
	double		rest;

	if (!dedup || k < 2)
		return k * (tuple + sizeof(ItemIdData));
	per_posting = floor((MAX_POSTING_TUPLE - tuple) / sizeof(ItemPointerData));
	if (per_posting < 2)
		return k * (tuple + sizeof(ItemIdData));
	full = floor(k / per_posting);
	rest = k - full * per_posting;
	return full * (MAXALIGN(tuple + per_posting * sizeof(ItemPointerData)) + sizeof(ItemIdData)) +
		(rest >= 2 ? MAXALIGN(tuple + rest * sizeof(ItemPointerData)) + sizeof(ItemIdData) :
		 rest * (tuple + sizeof(ItemIdData)));
}

static void
btree_size(HypoIndex *h, double tuples, HypoSize *out)
{
	int			fillfactor = h->fillfactor > 0 ? h->fillfactor : BTREE_DEFAULT_FILLFACTOR;
	ColumnStats *cs = palloc(sizeof(ColumnStats) * h->ncols);
	double		distinct = 1;
	bool		distinct_known = true;
	double		tuple,
				pivot,
				leaf_bytes,
				leaf_room,
				groups,
				group;
	double		level;
	ListCell   *expr = list_head(h->exprs);
	Relation	heap = relation_open(h->relid, AccessShareLock);

	for (int i = 0; i < h->ncols; i++)
	{
		Oid			type;
		int32		typmod;

		if (h->attnos[i] > 0)
		{
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(heap), h->attnos[i] - 1);

			type = att->atttypid;
			typmod = att->atttypmod;
		}
		else
		{
			type = exprType(lfirst(expr));
			typmod = exprTypmod(lfirst(expr));
			expr = lnext(h->exprs, expr);
		}
		column_stats(h->relid, h->attnos[i], type, typmod, tuples, &cs[i]);
		if (i < h->nkeys && cs[i].ndistinct > 0)
			distinct *= cs[i].ndistinct + (cs[i].nullfrac > 0 ? 1 : 0);	/* NULL is a key too */
		else if (i < h->nkeys)
			distinct_known = false;
	}
	relation_close(heap, AccessShareLock);
	tuple = tuple_size(cs, h->ncols);
	pivot = tuple_size(cs, h->nkeys);	/* pivots keep no INCLUDE columns */

	/* independent columns: the distinct keys are at most the rows */
	groups = distinct_known ? Min(distinct, tuples) : tuples;
	groups = Max(groups, 1);
	group = Max(tuples / groups, 1);
	out->deduplicated = can_deduplicate(h) && group >= 1.5;
	leaf_bytes = groups * group_bytes(group, tuple, out->deduplicated);

	/* a build leaves (100 - fillfactor)% free, and a high key on each leaf */
	leaf_room = PAGE_ITEM_SPACE - BLCKSZ * (100 - fillfactor) / 100.0 -
		(pivot + sizeof(ItemIdData));
	level = Max(ceil(leaf_bytes / leaf_room), 1);
	out->pages = 1 + (BlockNumber) level;	/* the metapage */
	out->tree_height = 0;

	/* a pivot keeps the key (and a heap TID where duplicates straddle pages) */
	if (group > 1)
		pivot = MAXALIGN(pivot + sizeof(ItemPointerData));
	while (level > 1)
	{
		double		room = PAGE_ITEM_SPACE - BLCKSZ * (100 - NONLEAF_FILLFACTOR) / 100.0;

		level = ceil(level * (pivot + sizeof(ItemIdData)) / room);
		out->pages += (BlockNumber) level;
		out->tree_height++;
	}
	out->tuples = tuples;
}

/* hash: buckets for the rows at 75% fill, a bitmap page and the metapage */
static void
hash_size(HypoIndex *h, double tuples, HypoSize *out)
{
	int			fillfactor = h->fillfactor > 0 ? h->fillfactor : 75;
	double		item = MAXALIGN(sizeof(IndexTupleData) + sizeof(uint32)) + sizeof(ItemIdData);
	double		per_bucket = Max(floor(BLCKSZ * fillfactor / 100.0 / item), 1);
	double		buckets = 2;

	while (buckets < tuples / per_bucket)
		buckets *= 2;
	out->pages = (BlockNumber) (buckets + 2);
	out->tuples = tuples;
	out->tree_height = -1;
	out->deduplicated = false;
}

/* BRIN: one summary per 128 heap pages, a range map, the metapage */
static void
brin_size(HypoIndex *h, double tuples, HypoSize *out)
{
	double		ranges = Max(ceil(heap_pages(h->relid) / 128.0), 1);
	double		summary = MAXALIGN(8 + 2 * 8 * h->nkeys) + sizeof(ItemIdData);
	double		per_page = floor(PAGE_ITEM_SPACE / summary);
	double		map_per_page = floor(PAGE_ITEM_SPACE / sizeof(ItemPointerData));

	out->pages = (BlockNumber) (1 + ceil(ranges / map_per_page) + ceil(ranges / per_page));
	out->tuples = tuples;
	out->tree_height = -1;
	out->deduplicated = false;
}

void
hypo_estimate_size(HypoIndex *h, double heap_tuples, HypoSize *out)
{
	double		tuples = Max(heap_tuples, 0);

	if (h->am == BTREE_AM_OID)
		btree_size(h, tuples, out);
	else if (h->am == HASH_AM_OID)
		hash_size(h, tuples, out);
	else
		brin_size(h, tuples, out);
	if (h->pages > 0)
	{
		out->pages = h->pages;	/* given, not estimated */
		out->tree_height = -1;
	}
}
