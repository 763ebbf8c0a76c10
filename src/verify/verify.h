/*-------------------------------------------------------------------------
 *
 * verify.h
 *	  The verify stage: what the effectiveness monitor computes in C.
 *
 * The monitor itself is SQL (src/sql/0.1/86_monitor.sql): it reads the
 * samples before and after a change, and asks this stage two things:
 *
 *	  ratio_test.c   the statistical test behind a verdict: a ratio of
 *	                 sums (time over calls, or time over the time expected
 *	                 at the baseline's speed) per capture interval, before
 *	                 against after, compared with Welch's t-test;
 *	  relations.c    the relations a statement names, to judge a change
 *	                 that lists no statements on the statements that
 *	                 touch its table.
 *
 * Glossary: an "interval" is one capture's sample (its deltas); its
 * "numerator" is the time its statements took, its "denominator" what that
 * time is compared with (calls, or the expected time).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_VERIFY_H
#define PIPEOPT_VERIFY_H

#include "postgres.h"

#include "nodes/pg_list.h"

/* The outcome of pipeopt_ratio_test(). */
typedef struct RatioTest
{
	int			n_before;		/* intervals with a positive denominator */
	int			n_after;
	double		ratio_before;	/* sum of numerators / sum of denominators */
	double		ratio_after;
	double		change_pct;		/* (after / before - 1) * 100 */
	double		p_value;		/* two-sided: the ratios are equal */
	double		p_regression;	/* one-sided: after <= (1 + threshold) before */
	double		df;				/* Welch-Satterthwaite degrees of freedom */
	bool		tested;			/* false: fewer than 2 intervals on a side */
} RatioTest;

/* ratio_test.c */
extern double pipeopt_student_t_cdf(double t, double df);
extern void pipeopt_ratio_test(const double *num_before, const double *den_before, int n_before,
							   const double *num_after, const double *den_after, int n_after,
							   double threshold, RatioTest *out);

/* relations.c: (schemaname or NULL, relname) pairs, as char *[2] */
extern List *pipeopt_statement_relations(const char *query);

#endif							/* PIPEOPT_VERIFY_H */
