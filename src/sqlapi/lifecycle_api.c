/*-------------------------------------------------------------------------
 *
 * lifecycle_api.c
 *	  pipeopt._request_change(): hand one change (apply or rollback) to an
 *	  apply worker and wait until it is done. pipeopt.apply_now() and
 *	  pipeopt.rollback() (src/sql/0.1/84_recommendations.sql) call it, then
 *	  read the outcome the worker recorded.
 *
 * CREATE INDEX CONCURRENTLY waits, before it marks the index valid, for
 * every transaction whose snapshot is older than its own: this caller's
 * transaction included, which waits for the worker, so neither would ever
 * finish. The caller therefore refuses to run inside a transaction block
 * (the transaction ends with this statement, so its snapshot reads nothing
 * after the change) and, while it waits, marks its backend as PostgreSQL
 * marks a backend running a safe concurrent index build, the mark those
 * waits skip. The mark is cleared when the wait ends and, in any case, at
 * the end of the transaction.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "apply/apply.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "port.h"
#include "postmaster/bgworker.h"
#include "storage/lwlock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/snapmgr.h"

PG_FUNCTION_INFO_V1(pipeopt_request_change);

static void
set_safe_ic_mark(bool on)
{
	LWLockAcquire(ProcArrayLock, LW_EXCLUSIVE);
	if (on)
		MyProc->statusFlags |= PROC_IN_SAFE_IC;
	else
		MyProc->statusFlags &= ~PROC_IN_SAFE_IC;
	ProcGlobal->statusFlags[MyProc->pgxactoff] = MyProc->statusFlags;
	LWLockRelease(ProcArrayLock);
}

/* _request_change(advice_id bigint, action text, requested_by name) -> token */
Datum
pipeopt_request_change(PG_FUNCTION_ARGS)
{
	int64		advice_id = PG_GETARG_INT64(0);
	char	   *action = text_to_cstring(PG_GETARG_TEXT_PP(1));
	Name		requested_by = PG_GETARG_NAME(2);
	ApplyRequest req;
	BackgroundWorkerHandle *handle;
	BgwHandleStatus status;
	bool		rollback = strcmp(action, "rollback") == 0;
	const char *caller = rollback ? "rollback" : "apply_now";

	if (IsTransactionBlock())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("pipeopt.%s() cannot run inside a transaction block", caller),
				 errdetail("The change runs CREATE or DROP INDEX CONCURRENTLY, which waits for older "
						   "transactions to end, this one included."),
				 errhint("Call it as a statement of its own, outside BEGIN ... COMMIT.")));
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("pipeopt.%s() needs the READ COMMITTED isolation level", caller),
				 errdetail("It reads the worker's outcome, committed after the statement began.")));

	memset(&req, 0, sizeof(req));
	req.dboid = MyDatabaseId;
	req.advice_id = advice_id;
	req.action = rollback ? APPLY_ACTION_ROLLBACK : APPLY_ACTION_APPLY;
	req.wait_for_turn = true;
	namestrcpy(&req.requested_by, NameStr(*requested_by));
	do
	{
		if (!pg_strong_random(&req.token, sizeof(req.token)))
			elog(ERROR, "could not generate a random request token");
		req.token &= PG_INT64_MAX;
	} while (req.token == 0);

	if (!pipeopt_launch_apply(&req, true, &handle))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a pipeopt apply worker"),
				 errdetail("No background worker slot is free."),
				 errhint("Raise max_worker_processes, or let the background worker apply the change "
						 "at its next tick.")));

	set_safe_ic_mark(true);
	PG_TRY();
	{
		status = WaitForBackgroundWorkerShutdown(handle);
	}
	PG_FINALLY();
	{
		set_safe_ic_mark(false);
	}
	PG_END_TRY();
	if (status == BGWH_POSTMASTER_DIED)
		ereport(FATAL,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("postmaster exited while pipeopt applied a change")));
	PG_RETURN_INT64(req.token);
}
