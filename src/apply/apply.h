/*-------------------------------------------------------------------------
 *
 * apply.h
 *	  The apply stage: a background worker that applies approved changes
 *	  and rolls them back, one at a time per database.
 *
 * The state machine and the DDL live in SQL (src/sql/0.1/82_lifecycle.sql,
 * 83_apply.sql); this stage runs them in the right transactions: the claim
 * is committed before the DDL starts, CREATE/DROP INDEX CONCURRENTLY run as
 * top-level statements, and an attempt a crash interrupted is settled by
 * the next worker before it does anything else.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_APPLY_H
#define PIPEOPT_APPLY_H

#include "postgres.h"

#include "postmaster/bgworker.h"

#define APPLY_ACTION_APPLY		'a'
#define APPLY_ACTION_ROLLBACK	'r'

/* What one apply worker is asked to do; passed in bgw_extra. */
typedef struct ApplyRequest
{
	Oid			dboid;
	int64		advice_id;		/* 0: every approved change due now */
	int64		token;			/* apply_requests row to write; 0: none */
	char		action;			/* APPLY_ACTION_* */
	bool		wait_for_turn;	/* wait for another worker's change to end */
	NameData	requested_by;
} ApplyRequest;

StaticAssertDecl(sizeof(ApplyRequest) <= BGW_EXTRALEN, "ApplyRequest must fit in bgw_extra");

/* apply_worker.c */
extern bool pipeopt_launch_apply(const ApplyRequest *request, bool notify_me,
								 BackgroundWorkerHandle **handle);
PGDLLEXPORT void pipeopt_apply_main(Datum main_arg);

/* toplevel.c: statements run by the apply worker */
extern void pipeopt_exec_toplevel(const char *sql, int timeout_ms);
extern List *pipeopt_query_rows(const char *sql, int nargs, Oid *argtypes,
								Datum *values, const char *nulls);

#endif							/* PIPEOPT_APPLY_H */
