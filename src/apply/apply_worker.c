/*-------------------------------------------------------------------------
 *
 * apply_worker.c
 *	  The apply worker: one dynamic background worker per request, started
 *	  by the db worker's tick (every revert the effectiveness monitor
 *	  decided, then every approved change due now) or by
 *	  pipeopt.apply_now() / pipeopt.rollback() (one change, waited for).
 *
 * A worker first takes its database's apply lock (a session advisory
 * lock), so changes run one at a time per database; a tick's worker that
 * finds the lock taken leaves, pipeopt.apply_now()'s waits its turn. Then
 * it settles what a crash or a kill interrupted (_apply_recover(): an index
 * built completely counts as applied, an INVALID one it left is dropped and
 * the attempt is retried), and only then applies:
 *
 *   claim (committed: "applying" and the change_log row, with the name of
 *   the index it will create)  ->  the DDL, top level, with
 *   pipeopt.apply_lock_timeout and pipeopt.apply_statement_timeout  ->
 *   after a failure, DROP INDEX CONCURRENTLY of the INVALID index it left
 *   ->  finish (applied; or approved again after a backoff; or failed).
 *
 * A revert the monitor decided (src/sql/0.1/87_revert.sql) is a rollback
 * claimed through _revert_claim(), which records who asked and why, and
 * reported back with _revert_finished(); it goes before approved changes.
 *
 * The worker runs as the bootstrap superuser: building an index needs the
 * table owner's rights, and PostgreSQL's index build itself evaluates
 * expressions as the table owner in a security-restricted context. It
 * runs only DDL the SQL side generated from structured specifications.
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include "access/xact.h"
#include "apply/apply.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

/* Statements the worker runs; everything they touch is schema-qualified. */
#define SQL_LOCK_TRY \
	"SELECT pg_catalog.pg_try_advisory_lock('pipeopt.change_log'::pg_catalog.regclass::pg_catalog.oid::pg_catalog.int8)"
#define SQL_LOCK_WAIT \
	"SELECT pg_catalog.pg_advisory_lock('pipeopt.change_log'::pg_catalog.regclass::pg_catalog.oid::pg_catalog.int8)::text"
#define SQL_RECOVER "SELECT log_id, cleanup_ddl FROM pipeopt._apply_recover()"
#define SQL_CLAIM \
	"SELECT (r->>'ok'), (r->>'log_id'), (r->>'ddl'), (r->>'reason')" \
	" FROM pipeopt._apply_claim($1, $2, $3) r"
#define SQL_LEFTOVER "SELECT pipeopt._apply_leftover($1)"
#define SQL_FINISH "SELECT pipeopt._apply_finish($1, $2, $3, $4)"
#define SQL_NEXT_DUE "SELECT pipeopt._apply_next_due()"
#define SQL_NEXT_REVERT "SELECT pipeopt._revert_next_due()"
#define SQL_REVERT_CLAIM \
	"SELECT (r->>'ok'), (r->>'log_id'), (r->>'ddl'), (r->>'reason')" \
	" FROM pipeopt._revert_claim($1) r"
#define SQL_REVERT_FINISHED "SELECT pipeopt._revert_finished($1)"
#define SQL_REPORT \
	"INSERT INTO pipeopt.apply_requests" \
	" (token, advice_id, action, requested_by, finished_at, outcome, detail, log_id)" \
	" VALUES ($1, $2, $3, $4, pg_catalog.now(), $5, $6, $7)"

/* at most this many changes per worker; the next tick's worker goes on */
#define MAX_CHANGES_PER_WORKER	32

static MemoryContext work_cxt;

/* The action's name, as the SQL side spells it. */
static const char *
action_name(const ApplyRequest *req)
{
	return req->action == APPLY_ACTION_ROLLBACK ? "rollback" : "apply";
}

static void
set_lock_timeout(int ms)
{
	SetConfigOption("lock_timeout", psprintf("%d", ms), PGC_SUSET, PGC_S_SESSION);
}

bool
pipeopt_launch_apply(const ApplyRequest *request, bool notify_me, BackgroundWorkerHandle **handle)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pipeopt");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pipeopt_apply_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pipeopt apply for database %u", request->dboid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pipeopt apply");
	worker.bgw_main_arg = ObjectIdGetDatum(request->dboid);
	memcpy(worker.bgw_extra, request, sizeof(ApplyRequest));
	worker.bgw_notify_pid = notify_me ? MyProcPid : 0;
	return RegisterDynamicBackgroundWorker(&worker, handle);
}

/* The first column of the first row, or NULL. */
static char *
query_value(const char *sql, int nargs, Oid *argtypes, Datum *values, const char *nulls)
{
	List	   *rows = pipeopt_query_rows(sql, nargs, argtypes, values, nulls);

	return rows == NIL ? NULL : ((char **) linitial(rows))[0];
}

static void
finish(int64 log_id, bool ok, const char *error, const char *cleanup)
{
	Oid			types[4] = {INT8OID, BOOLOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', error ? ' ' : 'n', cleanup ? ' ' : 'n'};

	values[0] = Int64GetDatum(log_id);
	values[1] = BoolGetDatum(ok);
	values[2] = error ? CStringGetTextDatum(error) : (Datum) 0;
	values[3] = cleanup ? CStringGetTextDatum(cleanup) : (Datum) 0;
	(void) pipeopt_query_rows(SQL_FINISH, 4, types, values, nulls);
}

/*
 * Run a DDL statement; false with *error (the message, and the detail if
 * any) if it failed. The failed transaction is rolled back here.
 */
static bool
run_ddl(const char *ddl, char **error)
{
	volatile bool ok = false;

	PG_TRY();
	{
		pipeopt_exec_toplevel(ddl, pipeopt_apply_statement_timeout);
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(work_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		*error = edata->detail ? psprintf("%s (%s)", edata->message, edata->detail)
			: pstrdup(edata->message);
		ereport(LOG,
				(errmsg("pipeopt could not run \"%s\": %s", ddl, *error)));
	}
	PG_END_TRY();
	return ok;
}

/* Drop an INVALID index an attempt left; what was done, for the record. */
static char *
drop_leftover(const char *drop)
{
	char	   *error;

	if (run_ddl(drop, &error))
		return psprintf("dropped the INVALID index the attempt left: %s", drop);
	return psprintf("could not drop the INVALID index the attempt left (%s): %s", drop, error);
}

/* After a failed attempt: drop the INVALID index it left, if any. */
static char *
clean_up(int64 log_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(log_id)};
	char	   *drop = query_value(SQL_LEFTOVER, 1, types, values, NULL);

	return drop ? drop_leftover(drop) : NULL;
}

/*
 * Settle the changes that a crash or a killed worker interrupted, and drop
 * INVALID indexes that failed attempts could not drop then. (Finishing a
 * change that is finished already only adds the cleanup to its record.)
 */
static void
recover(void)
{
	ListCell   *lc;

	foreach(lc, pipeopt_query_rows(SQL_RECOVER, 0, NULL, NULL, NULL))
	{
		char	  **row = lfirst(lc);
		int64		log_id = pg_strtoint64(row[0]);
		char	   *cleanup = row[1] ? drop_leftover(row[1]) : NULL;

		finish(log_id, false, "interrupted (a crash or a stopped worker)", cleanup);
		ereport(LOG,
				(errmsg("pipeopt settled change %lld", (long long) log_id),
				 cleanup ? errdetail_internal("%s", cleanup) : 0));
	}
}

static void
report(const ApplyRequest *req, const char *outcome, const char *detail, int64 log_id)
{
	Oid			types[7] = {INT8OID, INT8OID, TEXTOID, NAMEOID, TEXTOID, TEXTOID, INT8OID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', detail ? ' ' : 'n', log_id ? ' ' : 'n'};

	if (req->token == 0)
		return;
	values[0] = Int64GetDatum(req->token);
	values[1] = Int64GetDatum(req->advice_id);
	values[2] = CStringGetTextDatum(action_name(req));
	values[3] = NameGetDatum(&req->requested_by);
	values[4] = CStringGetTextDatum(outcome);
	values[5] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	values[6] = Int64GetDatum(log_id);
	(void) pipeopt_query_rows(SQL_REPORT, 7, types, values, nulls);
}

/*
 * Claim, run and finish one change: the request's, or (revert) the
 * rollback of a change the effectiveness monitor decided to revert.
 */
static void
change(const ApplyRequest *req, int64 advice_id, bool revert)
{
	Oid			types[3] = {INT8OID, TEXTOID, NAMEOID};
	Datum		values[3];
	List	   *rows;
	char	  **claim;
	int64		log_id;
	char	   *ddl;
	char	   *error = NULL;
	bool		ok = true;

	values[0] = Int64GetDatum(advice_id);
	values[1] = CStringGetTextDatum(action_name(req));
	values[2] = NameGetDatum(&req->requested_by);
	if (revert)
		rows = pipeopt_query_rows(SQL_REVERT_CLAIM, 1, types, values, NULL);
	else
		rows = pipeopt_query_rows(SQL_CLAIM, 3, types, values, NULL);
	claim = linitial(rows);
	if (strcmp(claim[0], "true") != 0)
	{
		ereport(LOG,
				(errmsg("pipeopt did not %s recommendation %lld: %s",
						revert ? "revert" : "apply", (long long) advice_id, claim[3])));
		report(req, "refused", claim[3], 0);
		return;
	}
	log_id = pg_strtoint64(claim[1]);
	ddl = claim[2];				/* NULL: nothing left to run */

	if (ddl != NULL)
	{
		ereport(LOG,
				(errmsg("pipeopt %s recommendation %lld: %s",
						revert ? "reverts" :
						req->action == APPLY_ACTION_ROLLBACK ? "rolls back" : "applies",
						(long long) advice_id, ddl)));
		ok = run_ddl(ddl, &error);
	}
	finish(log_id, ok, error, ok ? NULL : clean_up(log_id));
	if (revert)
	{
		Oid			log_type[1] = {INT8OID};
		Datum		log_value[1] = {Int64GetDatum(log_id)};

		(void) pipeopt_query_rows(SQL_REVERT_FINISHED, 1, log_type, log_value, NULL);
	}
	report(req, ok ? "succeeded" : "failed", error, log_id);
}

void
pipeopt_apply_main(Datum main_arg)
{
	ApplyRequest req;
	char	   *got;

	memcpy(&req, MyBgworkerEntry->bgw_extra, sizeof(ApplyRequest));
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnectionByOid(req.dboid, InvalidOid, 0);
	pgstat_report_appname("pipeopt apply");

	work_cxt = AllocSetContextCreate(TopMemoryContext, "pipeopt apply", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work_cxt);

	/* pipeopt's own DDL is not part of the workload; never cancel others */
	SetConfigOption("pg_stat_statements.track", "none", PGC_SUSET, PGC_S_SESSION);
	SetConfigOption("search_path", "pg_catalog, pg_temp", PGC_SUSET, PGC_S_SESSION);
	set_lock_timeout(pipeopt_apply_lock_timeout);
	SetConfigOption("application_name", "pipeopt apply", PGC_USERSET, PGC_S_SESSION);

	PG_TRY();
	{
		/* one change at a time per database: a session lock, held until exit */
		if (req.wait_for_turn)
		{
			/* waiting here must not time out: it is our own turn we wait for */
			set_lock_timeout(0);
			(void) query_value(SQL_LOCK_WAIT, 0, NULL, NULL, NULL);
			set_lock_timeout(pipeopt_apply_lock_timeout);
		}
		else
		{
			got = query_value(SQL_LOCK_TRY, 0, NULL, NULL, NULL);
			if (got == NULL || strcmp(got, "t") != 0)
				proc_exit(0);	/* another worker is applying here */
		}

		recover();
		if (req.advice_id > 0)
			change(&req, req.advice_id, false);
		else
		{
			for (int n = 0; n < MAX_CHANGES_PER_WORKER; n++)
			{
				/* reverts first: the harm they undo is ongoing */
				bool		revert = true;

				got = query_value(SQL_NEXT_REVERT, 0, NULL, NULL, NULL);
				if (got == NULL)
				{
					revert = false;
					got = query_value(SQL_NEXT_DUE, 0, NULL, NULL, NULL);
				}
				if (got == NULL)
					break;
				change(&req, pg_strtoint64(got), revert);
				MemoryContextReset(work_cxt);
			}
		}
	}
	PG_CATCH();
	{
		/* a failure of pipeopt's own bookkeeping: logged; the next worker recovers */
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errmsg("pipeopt apply worker failed"),
				 errhint("The next apply worker settles any change this one left running.")));
		proc_exit(1);
	}
	PG_END_TRY();
	proc_exit(0);
}
