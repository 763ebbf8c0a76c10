/*-------------------------------------------------------------------------
 *
 * parse.h
 *	  The parse stage: what libpg_query tells pipeopt about one SQL text.
 *
 * Only this folder talks to libpg_query. Its parser runs with its own
 * memory contexts and error handling (see docs/internals.md); what it
 * returns here is palloc'd in the caller's memory context.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_PARSE_H
#define PIPEOPT_PARSE_H

#include "postgres.h"
#include "nodes/pg_list.h"

typedef struct PipeoptStatement
{
	char	   *fingerprint;	/* 16 lower-case hex digits */
	char	   *query;			/* the text to keep: never a literal of a
								 * utility statement */
	const char *kind;			/* select, insert, update, delete, merge,
								 * utility or unknown (did not parse) */
	char	   *error;			/* parse error message, or NULL */
	int			error_position; /* 1-based character offset, 0 if none */
} PipeoptStatement;

/*
 * Parse one statement text as pg_stat_statements reports it (DML already
 * normalized to $n, utility statements verbatim) and decide what to store.
 * Never throws for a bad text: the error is returned in the struct.
 */
extern void pipeopt_parse_statement(const char *text, PipeoptStatement *out);

/* pg_query_normalize(); NULL with *error set when the text does not parse */
extern char *pipeopt_normalize(const char *text, char **error, int *error_position);

/* libpg_query's raw statements (RawStmt *), copied into server memory */
extern List *pipeopt_parse_raw(const char *text, char **error);

/* mask.c: replace every string literal of a text that would not parse */
extern char *pipeopt_mask_literals(const char *text);

#endif							/* PIPEOPT_PARSE_H */
