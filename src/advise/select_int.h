/*-------------------------------------------------------------------------
 *
 * select_int.h
 *	  What the files of index selection share: the selection's state,
 *	  the candidate columns of each relation (select_collect.c), and the
 *	  cached costs, sizes and maintenance costs (select_cost.c) that the
 *	  greedy search (select.c) asks for.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_SELECT_INT_H
#define PIPEOPT_SELECT_INT_H

#include "advise/select.h"
#include "access/htup_details.h"
#include "utils/hsearch.h"

/* An UPDATE of the workload: the columns it sets, rows per unit of time. */
typedef struct UpdateColumns
{
	Bitmapset  *attnos;
	double		rows;
} UpdateColumns;

typedef struct RelColumns
{
	Oid			relid;
	bool		advisable;		/* a user's plain table (not a catalog, not ours) */
	Bitmapset  *attnos;			/* candidate columns */
	List	   *updates;		/* UpdateColumns * */
	TableWrites *writes;		/* NULL: none known */
} RelColumns;

typedef struct Selection
{
	WorkloadStatement *stmts;
	int			nstmts;
	SelectionParams *params;
	List	   *rels;			/* RelColumns * */
	Bitmapset **stmt_cols;		/* per statement: the candidate columns it
								 * uses, as select_column_key() */
	HTAB	   *cache;			/* costs and sizes, by content (CacheEntry) */
	MemoryContext mcxt;			/* the cache's keys */
	int			planner_calls;
} Selection;

/* A relation's column as one number: r is its index into sel->rels. */
#define select_column_key(r, att)	((r) * (MaxHeapAttributeNumber + 1) + (att))

/* select_collect.c */
extern int	select_find_rel(Selection *sel, Oid relid);
extern void select_collect(Selection *sel, int s);
extern bool select_index_relevant(Selection *sel, int s, HypoIndex *h);

/* select_cost.c */
extern void select_cache_init(Selection *sel);
extern int	select_compare_index(const HypoIndex *x, const HypoIndex *y);
extern double select_statement_base(Selection *sel, int s);
extern double select_statement_cost(Selection *sel, int s, List *config);
extern List *select_statement_uses(Selection *sel, int s, List *config);
extern double select_index_bytes(Selection *sel, HypoIndex *h);
extern double select_index_maintenance(Selection *sel, HypoIndex *h);

#endif							/* PIPEOPT_SELECT_INT_H */
