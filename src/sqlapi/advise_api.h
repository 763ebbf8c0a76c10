/*-------------------------------------------------------------------------
 *
 * advise_api.h
 *	  Arguments shared by the advise stage's SQL functions, checked.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_ADVISE_API_H
#define PIPEOPT_ADVISE_API_H

/* A size written like a memory setting ('40MB'), in bytes. */
extern double pipeopt_budget_bytes(const char *text);

/* The widest index in key columns, checked (1 .. INDEX_MAX_KEYS). */
extern int	pipeopt_max_columns(int n);

#endif							/* PIPEOPT_ADVISE_API_H */
