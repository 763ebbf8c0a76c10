/*-------------------------------------------------------------------------
 *
 * param_sample.h
 *	  Example values of statement parameters, for planning with real
 *	  selectivities instead of a generic plan's defaults.
 *
 * A sampled fraction (pipeopt.param_sample_rate) of statements leaves one
 * entry in a shared-memory ring of pipeopt.param_sample_slots entries:
 *
 *	  literal  after parse analysis: the constants that pg_stat_statements
 *	           replaces by $n in its text, numbered exactly as it numbers
 *	           them (from highest_extern_param_id + 1);
 *	  bind     at executor start: the bound parameters $1..$n, each through
 *	           its type's output function (built-in types only).
 *
 * Utility statements are never sampled. A value longer than
 * PARAM_SAMPLE_VALUE_MAX bytes, a type or token this file cannot render,
 * or values that do not fit in one entry skip the whole entry: a
 * statement's values are useful only all together. When the ring is full
 * the oldest entry is overwritten (counted). The capture tick drains its
 * database's entries (pipeopt._drain_param_samples()).
 *
 * Locking: one LWLock; writers hold it exclusively for one memcpy, the
 * drain for one pass over the ring. Nothing is sampled in a process that
 * is not a regular backend (parallel workers, pipeopt's own workers).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_PARAM_SAMPLE_H
#define PIPEOPT_PARAM_SAMPLE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/array.h"

#define PARAM_SAMPLE_VALUE_MAX	200 /* bytes of one value's text */
#define PARAM_SAMPLE_DATA		2000	/* bytes of the packed values */

typedef enum ParamSampleSource
{
	PARAM_SAMPLE_LITERAL = 1,
	PARAM_SAMPLE_BIND = 2
} ParamSampleSource;

/*
 * One entry. data holds nparams values in order, each as one length byte
 * (0..PARAM_SAMPLE_VALUE_MAX, or 0xFF for NULL) and that many bytes of
 * text in the server encoding, not terminated.
 */
typedef struct ParamSample
{
	Oid			dbid;			/* InvalidOid: the slot is free */
	Oid			userid;
	uint64		queryid;
	TimestampTz sampled_at;		/* start of the (top-level) statement */
	int32		first_param;	/* the first value is $first_param */
	uint16		nparams;
	uint16		len;			/* bytes of data in use */
	uint8		source;			/* ParamSampleSource */
	char		data[PARAM_SAMPLE_DATA];
} ParamSample;

typedef struct ParamSampleStats
{
	int			slots;
	int			pending;		/* entries not drained yet, all databases */
	uint64		sampled;		/* entries written since server start */
	uint64		overwritten;	/* entries lost to a full ring */
	uint64		skipped;		/* sampled statements that left no entry */
} ParamSampleStats;

/* Shared memory and hooks; call from _PG_init when preloaded. */
extern void pipeopt_param_sample_init(void);
extern bool pipeopt_param_sample_attached(void);

/* Remove and return (palloc'd, oldest first) the entries of a database. */
extern int	pipeopt_param_sample_drain(Oid dbid, ParamSample **out);
extern void pipeopt_param_sample_stats(ParamSampleStats *stats);
/* The values of an entry as a text[] (NULL elements for NULLs). */
extern ArrayType *pipeopt_param_sample_values(const ParamSample *s);

#endif							/* PIPEOPT_PARAM_SAMPLE_H */
