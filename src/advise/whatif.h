/*-------------------------------------------------------------------------
 *
 * whatif.h
 *	  The what-if planner of the advise stage: hypothetical indexes that
 *	  the planner sees, their estimated sizes, and plan costs of a
 *	  statement under a configuration of them.
 *
 * A HypoIndex is a structured specification (relation OID, attribute
 * numbers, method, operator classes): never SQL text. The planner is
 * PostgreSQL's own, called without planner hooks; while it runs, a
 * get_relation_info_hook adds each hypothetical index of the configuration
 * (IndexOptInfo.hypothetical = true, as HypoPG does) and hides the real
 * indexes the configuration drops. Nothing is built or executed.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_WHATIF_H
#define PIPEOPT_WHATIF_H

#include "postgres.h"
#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"
#include "storage/block.h"

typedef struct HypoIndex
{
	Oid			oid;			/* fake, for plans to name it */
	Oid			relid;
	Oid			am;				/* btree, hash or brin */
	int			nkeys;			/* key columns */
	int			ncols;			/* key and INCLUDE columns */
	AttrNumber	attnos[INDEX_MAX_KEYS]; /* 0: the next of exprs */
	Oid			opclass[INDEX_MAX_KEYS];	/* per key column */
	Oid			collation[INDEX_MAX_KEYS];
	bool		desc[INDEX_MAX_KEYS];
	bool		nulls_first[INDEX_MAX_KEYS];
	List	   *exprs;			/* key expressions, Vars of varno 1 */
	List	   *pred;			/* partial: implicit-AND list, varno 1 */
	bool		unique;
	int			fillfactor;		/* percent; 0: the method's default */
	BlockNumber pages;			/* given size (WITH (pages = n)); 0: estimate it */
} HypoIndex;

/* What hypo_size.c estimates for an index over a number of heap rows. */
typedef struct HypoSize
{
	double		tuples;			/* index entries (heap rows it covers) */
	BlockNumber pages;			/* with the metapage */
	int			tree_height;	/* B-tree levels above the leaves; -1 */
	bool		deduplicated;	/* B-tree: duplicates stored as posting lists */
} HypoSize;

/* A configuration: indexes added and real indexes hidden. */
typedef struct WhatifConfig
{
	List	   *hypos;			/* HypoIndex * */
	List	   *hidden;			/* OIDs of real indexes the planner must not see */
} WhatifConfig;

typedef struct WhatifCost
{
	double		startup_cost;
	double		total_cost;
	double		rows;			/* the rows it returns or changes (ModifyTable: its input's) */
	List	   *used;			/* HypoIndex * the plan scans */
} WhatifCost;

/* hypo_index.c */
extern HypoIndex *hypo_index_from_definition(const char *definition);
extern HypoIndex *hypo_index_btree(Oid relid, const AttrNumber *attnos, int n);
extern char *hypo_index_describe(HypoIndex *h);
extern double hypo_index_entries(HypoIndex *h);
extern void hypo_index_install(WhatifConfig *config);
extern void hypo_index_uninstall(void);

/* hypo_size.c */
extern void hypo_estimate_size(HypoIndex *h, double heap_tuples, HypoSize *out);

/*
 * The $n of an analyzed statement, as its sampled values are read: the
 * type parse analysis gave each (InvalidOid: a $k the text does not use),
 * and the typmod its input function must be given. That is -1 but for an
 * interval under a field cast (interval $1 day): as for a literal, the
 * typmod says what a bare number means ('90' days, not seconds).
 */
typedef struct WhatifParams
{
	int			n;				/* $1..$n */
	Oid		   *types;
	int32	   *typmods;
} WhatifParams;

/*
 * One sample of a statement's parameter values, ready to plan with: a
 * custom plan, as the plan cache makes one (each $n a PARAM_FLAG_CONST
 * value of its inferred type, which the planner folds into a constant).
 */
typedef struct WhatifSample
{
	ParamListInfo params;
	int			count;			/* how many samples had these values */
	uint64		hash;			/* of the values' text, for cache keys */
} WhatifSample;

/*
 * whatif_plan.c. A statement is analyzed once (parse analysis and the
 * rewriter, as role with search_path, in the sandbox; its Query trees kept
 * in keep, and its $n in *params unless NULL) and then costed under any
 * number of configurations, each planning in its own sandbox with the
 * statement's relations locked again: generically (samples NIL), or as
 * the mean of the custom plans of samples (WhatifSample *, weighted by
 * their counts). whatif_bind reads one sample's values (text, NULL for
 * SQL NULL) with the input functions of their types, in the sandbox as
 * role (an input function of a user type is user code). All return false
 * (NULL) with *error when the statement does not analyze or plan there (a
 * dropped table, no privilege: the role must be allowed to run it), or a
 * sample's values do not convert.
 */
extern bool whatif_analyze(const char *text, Oid role, const char *search_path,
						   MemoryContext keep, List **queries, WhatifParams *params,
						   char **error);
extern WhatifSample *whatif_bind(const WhatifParams *params, char **values, int nvalues,
								 Oid role, const char *search_path, MemoryContext keep,
								 char **error);
extern bool whatif_cost(List *queries, List *samples, Oid role, const char *search_path,
						WhatifConfig *config, WhatifCost *out, char **error);

/*
 * One parameter sample as pipeopt's SQL passes it, a jsonb object
 * {"params": [text or null, ...], "count": n}: its values for whatif_bind
 * and its count. false when it is not of that shape.
 */
struct JsonbValue;
extern bool whatif_sample_values(struct JsonbValue *sample, char ***values, int *nvalues,
								 int *count);

#endif							/* PIPEOPT_WHATIF_H */
