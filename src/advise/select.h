/*-------------------------------------------------------------------------
 *
 * select.h
 *	  Index selection over a workload: candidate columns from the
 *	  statements' conditions, joins, ORDER BY and GROUP BY; an Extend-style
 *	  greedy search (add an index, or extend a chosen one by a column, by
 *	  net cost saved per byte) under a storage budget, write-aware, costs
 *	  from the what-if planner cached per statement and relevant
 *	  configuration; a reason for every candidate left out.
 *
 * Weights (statement calls) and table writes share one unit of time (the
 * workload advisor uses hours): savings and maintenance costs are planner
 * cost units per that unit.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_SELECT_H
#define PIPEOPT_SELECT_H

#include "advise/whatif.h"

typedef struct WorkloadStatement
{
	const char *text;
	const char *label;		/* how reasons name it */
	double		weight;			/* calls per unit of time (1 if unknown) */
	double		rows;			/* rows per call (an UPDATE's rows changed); 0 unknown */
	Oid			role;			/* plan as this role */
	const char *search_path;	/* NULL: the caller's */
	List	   *queries;		/* analyzed (whatif_analyze), NIL: did not */
	WhatifParams params;		/* its $n */
	List	   *samples;		/* WhatifSample *: its cost is the mean of
								 * their custom plans; NIL: a generic plan */
	int			samples_unusable;	/* left out: did not convert or plan */
	char	   *sample_error;	/* why the first of those was left out */
	char	   *error;			/* why it was left out */
	double		base_cost;		/* as things are; -1 not planned */
	double		cost;			/* under the indexes chosen so far */
} WorkloadStatement;

/* Row changes of a table per unit of time, from its statistics. */
typedef struct TableWrites
{
	Oid			relid;
	double		inserts;
	double		updates;		/* HOT or not */
	double		hot_updates;
	int			indexes;		/* its indexes now */
} TableWrites;

typedef struct SelectionParams
{
	double		budget_bytes;
	int			max_columns;
	TableWrites *writes;
	int			nwrites;
	bool		attribute;		/* fill ChosenIndex.cost_without (more plans) */
} SelectionParams;

typedef struct ChosenIndex
{
	HypoIndex  *index;
	double		bytes;			/* estimated size */
	double		saving;			/* weighted cost it saved when chosen */
	double		maintenance;	/* weighted cost of keeping it up to date */
	int			statements;		/* statements whose cost it lowered */
	double	   *cost_without;	/* per statement: its cost with every chosen
								 * index but this one; -1 where the final plan
								 * does not use this one (NULL unless
								 * SelectionParams.attribute) */
} ChosenIndex;

/* A candidate considered and left out, and why. */
typedef struct RejectedIndex
{
	HypoIndex  *index;
	double		bytes;
	double		saving;			/* at its last evaluation; if never planned in
								 * full, at most this */
	double		maintenance;
	char	   *reason;
} RejectedIndex;

typedef struct SelectionResult
{
	List	   *chosen;			/* ChosenIndex *, in the order chosen */
	List	   *rejected;		/* RejectedIndex * */
	double		workload_before;	/* weighted cost, as things are */
	double		workload_after;
	int			planner_calls;
	int			statements_planned;
} SelectionResult;

/* Note that count samples of st are unusable, and why (the first reason). */
extern void select_sample_unusable(WorkloadStatement *st, int count, const char *error);

extern void select_indexes(WorkloadStatement *stmts, int nstmts, SelectionParams *params,
						   SelectionResult *out);

#endif							/* PIPEOPT_SELECT_H */
