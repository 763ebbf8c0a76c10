/*-------------------------------------------------------------------------
 *
 * select.h
 *	  Index selection over a workload: candidate columns from the
 *	  statements' conditions, joins, ORDER BY and GROUP BY; an Extend-style
 *	  greedy search (add an index, or extend a chosen one by a column, by
 *	  cost saved per byte) under a storage budget, costs from the what-if
 *	  planner, cached per statement and relevant configuration.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_SELECT_H
#define PIPEOPT_SELECT_H

#include "advise/whatif.h"

typedef struct WorkloadStatement
{
	const char *text;
	double		weight;			/* calls in the sampled window (1 if unknown) */
	Oid			role;			/* plan as this role; InvalidOid: skip */
	List	   *queries;		/* analyzed (whatif_analyze), NIL: did not */
	Bitmapset  *rels;			/* indexes into the selection's relation list */
	double		base_cost;		/* as things are */
	double		cost;			/* under the indexes chosen so far */
} WorkloadStatement;

typedef struct ChosenIndex
{
	HypoIndex  *index;
	double		bytes;			/* estimated size */
	double		saving;			/* weighted cost it saved when chosen */
	int			statements;		/* statements whose cost it lowered */
} ChosenIndex;

typedef struct SelectionResult
{
	List	   *chosen;			/* ChosenIndex *, in the order chosen */
	double		workload_before;	/* weighted cost, as things are */
	double		workload_after;
	int			planner_calls;
	int			statements_planned;
} SelectionResult;

extern void select_indexes(WorkloadStatement *stmts, int nstmts, double budget_bytes,
						   int max_columns, SelectionResult *out);

#endif							/* PIPEOPT_SELECT_H */
