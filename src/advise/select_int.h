/*-------------------------------------------------------------------------
 *
 * select_int.h
 *	  What the files of index selection share: the selection's state,
 *	  the candidate columns of each relation and the columns each
 *	  statement reads (select_collect.c), the cached costs, sizes and
 *	  maintenance costs (select_cost.c) that the greedy search (select.c)
 *	  and each of its steps (select_step.c) ask for, and the record of
 *	  each candidate.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_SELECT_INT_H
#define PIPEOPT_SELECT_INT_H

#include "pipeopt.h"
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

/* A statement's scan of a table: the columns it reads. */
typedef struct TableScan
{
	int			r;				/* into Selection.rels */
	Query	   *query;			/* the level whose range table has it */
	Index		rti;
	Bitmapset  *attnos;			/* 0: the whole row or a system column */
} TableScan;

typedef struct Selection
{
	WorkloadStatement *stmts;
	int			nstmts;
	SelectionParams *params;
	List	   *rels;			/* RelColumns * */
	Bitmapset **stmt_cols;		/* per statement: the candidate columns it
								 * uses, as select_column_key() */
	List	  **stmt_scans;		/* per statement: its TableScans */
	HTAB	   *cache;			/* costs and sizes, by content (CacheEntry) */
	MemoryContext mcxt;			/* the cache's keys */
	int			planner_calls;
	double		min_saving;		/* the least weighted saving a step may take:
								 * pipeopt.index_min_saving of the workload */
} Selection;

/* An action must lower some statement's cost by this share... */
#define MIN_IMPROVEMENT		0.01
/* ...and raise none by more than this share... */
#define MAX_REGRESSION		0.10
/*
 * ...and save at least pipeopt.index_min_saving percent of the workload's
 * weighted cost (as it is before the step): a floor under which savings
 * are noise of the cost model, which spares planning for the least of
 * actions. Extend's reference implementation uses 0.3%.
 */
#define MIN_WORKLOAD_SHARE	(pipeopt_index_min_saving / 100.0)

/* Why a candidate was not (or is no longer) chosen. */
typedef enum Verdict
{
	V_CHOSEN,
	V_EXTENDED,
	V_OVER_BUDGET,
	V_NO_SAVING,
	V_BELOW_THRESHOLD,
	V_SMALL,
	V_REGRESSES,
	V_WRITE_COST,
	V_OUTRANKED
} Verdict;

/* A candidate as last evaluated (select.c keeps one per content). */
typedef struct Considered
{
	HypoIndex  *index;
	Verdict		verdict;
	double		bytes;			/* its own size */
	double		saving;
	double		maintenance;
	bool		ever_saved;
	bool		bounded;		/* not planned in full: saving is at most */
	int			regressed;		/* the statement it regressed most */
	double		regression;		/* by this share */
	double		left;			/* budget left when it did not fit */
	HypoIndex  *extended_into;
	bool		evaluated;		/* planned in full at least once */
	double		bound;			/* net saving per byte when last planned in
								 * full; 0 when it failed a threshold */
	double	   *stale;			/* per statement in planned: its weighted
								 * saving when last planned, or a bound of it */
	Bitmapset  *planned;
} Considered;

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

/* A relation's column as one number: r is its index into sel->rels. */
#define select_column_key(r, att)	((r) * (MaxHeapAttributeNumber + 1) + (att))

/* select_collect.c */
extern int	select_find_rel(Selection *sel, Oid relid);
extern void select_collect(Selection *sel, int s);
extern bool select_index_relevant(Selection *sel, int s, HypoIndex *h);
extern bool select_extension_helps(Selection *sel, int s, HypoIndex *cand);

/* select.c */
extern Considered *select_considered(List **all, HypoIndex *cand);
extern List *select_configuration(List *chosen, ChosenIndex *old, HypoIndex *cand);

/* select_step.c */
extern void select_step(Selection *sel, List *chosen, List **all, double left,
						double *costs, Action *best);

/* select_cost.c */
extern void select_cache_init(Selection *sel);
extern int	select_compare_index(const HypoIndex *x, const HypoIndex *y);
extern double select_statement_base(Selection *sel, int s);
extern double select_statement_cost(Selection *sel, int s, List *config);
extern List *select_statement_uses(Selection *sel, int s, List *config);
extern double select_index_bytes(Selection *sel, HypoIndex *h);
extern double select_index_maintenance(Selection *sel, HypoIndex *h);

#endif							/* PIPEOPT_SELECT_INT_H */
