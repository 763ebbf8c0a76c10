/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  The launcher and the per-database workers: the capture stage's clock.
 *
 * The launcher is a static worker (registered when pipeopt is preloaded)
 * connected to no database. Every LAUNCHER_NAPTIME it lists the databases
 * that accept connections and starts a db worker for each one whose slot in
 * the registry is free; a db worker that finds no pipeopt extension marks
 * its slot NO_EXTENSION and exits, and the launcher leaves that database
 * alone until CREATE EXTENSION starts a worker there (capture/hooks.c).
 *
 * A db worker only keeps time: each tick is "SELECT * FROM
 * pipeopt.capture()", then "SELECT * FROM pipeopt.analyze()" (the analyze
 * stage, for the statements the capture touched), and every
 * pipeopt.advise_interval "SELECT * FROM pipeopt.advise_indexes()",
 * "SELECT * FROM pipeopt.advise_storage()" and
 * "SELECT * FROM pipeopt.advise_partitions()"; then
 * "SELECT pipeopt._auto_approve()", "SELECT * FROM pipeopt.verify_changes()"
 * (the effectiveness monitor) and, when a change or a revert is due, an
 * apply worker (apply/apply.h) is started. Each step runs in
 * its own transaction, so a tick does exactly what a user calling the
 * functions does and an analysis that fails never holds back the capture.
 * A failed step is logged, recorded in pipeopt.capture_failures in a fresh
 * transaction and retried at the next tick; every step is transactional,
 * so a failed one loses nothing.
 *
 * Neither process does anything during recovery or binary upgrade.
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "apply/apply.h"
#include "capture/registry.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#define LAUNCHER_NAPTIME_MS		10000
#define IDLE_CHECK_MS			60000	/* re-check the extension when idle */

PGDLLEXPORT void pipeopt_launcher_main(Datum main_arg);
PGDLLEXPORT void pipeopt_worker_main(Datum main_arg);

static void
wait_for_latch(long timeout_ms)
{
	(void) WaitLatch(MyLatch,
					 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 Max(timeout_ms, 1),
					 PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

void
pipeopt_register_launcher(void)
{
	BackgroundWorker worker;

	if (IsBinaryUpgrade)
		return;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = 10;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pipeopt");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pipeopt_launcher_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pipeopt launcher");
	snprintf(worker.bgw_type, BGW_MAXLEN, "pipeopt launcher");
	RegisterBackgroundWorker(&worker);
}

bool
pipeopt_start_db_worker(Oid dboid, bool from_launcher)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle;

	if (!pipeopt_registry_attached() ||
		!pipeopt_registry_claim(dboid, from_launcher))
		return false;

	memset(&worker, 0, sizeof(worker));
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker.bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "pipeopt");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "pipeopt_worker_main");
	snprintf(worker.bgw_name, BGW_MAXLEN, "pipeopt worker for database %u", dboid);
	snprintf(worker.bgw_type, BGW_MAXLEN, "pipeopt worker");
	worker.bgw_main_arg = ObjectIdGetDatum(dboid);
	worker.bgw_notify_pid = from_launcher ? MyProcPid : 0;

	if (!RegisterDynamicBackgroundWorker(&worker, &handle))
	{
		pipeopt_registry_release(dboid, SLOT_FREE);
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a pipeopt worker for database %u", dboid),
				 errdetail("No background worker slot is free."),
				 errhint("Raise max_worker_processes; the launcher retries every %d seconds.",
						 LAUNCHER_NAPTIME_MS / 1000)));
		return false;
	}
	return true;
}

/* ----------------------------------------------------------------
 * Launcher
 * ----------------------------------------------------------------
 */

/* Databases that accept connections and are not templates. */
static Oid *
list_databases(int *n)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	int			cap = 16;
	Oid		   *oids = palloc(sizeof(Oid) * cap);

	*n = 0;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while (HeapTupleIsValid(tup = heap_getnext(scan, ForwardScanDirection)))
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (!db->datallowconn || db->datistemplate)
			continue;
		if (*n == cap)
		{
			cap *= 2;
			oids = repalloc(oids, sizeof(Oid) * cap);
		}
		oids[(*n)++] = db->oid;
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	qsort(oids, *n, sizeof(Oid), oid_cmp);
	return oids;
}

void
pipeopt_launcher_main(Datum main_arg)
{
	MemoryContext scan_cxt;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("pipeopt launcher");

	scan_cxt = AllocSetContextCreate(TopMemoryContext, "pipeopt launcher",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		if (!RecoveryInProgress() && !IsBinaryUpgrade)
		{
			MemoryContext old = MemoryContextSwitchTo(scan_cxt);
			int			n;
			Oid		   *dbs = list_databases(&n);

			pipeopt_registry_forget_others(dbs, n);
			for (int i = 0; i < n; i++)
				(void) pipeopt_start_db_worker(dbs[i], true);
			MemoryContextSwitchTo(old);
			MemoryContextReset(scan_cxt);
		}
		wait_for_latch(LAUNCHER_NAPTIME_MS);
	}
}

/* ----------------------------------------------------------------
 * Database worker
 * ----------------------------------------------------------------
 */

static Oid	worker_dboid = InvalidOid;
static char worker_dbname[NAMEDATALEN];
static bool worker_found_no_extension = false;

static void
worker_exit(int code, Datum arg)
{
	pipeopt_registry_release(DatumGetObjectId(arg),
							 worker_found_no_extension ? SLOT_NO_EXTENSION : SLOT_FREE);
}

static bool
extension_installed(void)
{
	bool		found;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	found = OidIsValid(get_extension_oid(PIPEOPT_EXTENSION_NAME, true));
	if (worker_dbname[0] == '\0')
	{
		char	   *name = get_database_name(MyDatabaseId);

		strlcpy(worker_dbname, name ? name : "?", NAMEDATALEN);
	}
	CommitTransactionCommand();
	return found;
}

/* Record a failed step in a fresh transaction; log if even that fails. */
static void
record_failure(const char *step, ErrorData *edata)
{
	MemoryContext cxt = CurrentMemoryContext;

	PG_TRY();
	{
		Oid			argtypes[4] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID};
		Datum		values[4];
		char		nulls[4] = {' ', ' ', ' ', ' '};

		values[0] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
		values[1] = CStringGetTextDatum(edata->message ? edata->message : "");
		if (edata->detail)
			values[2] = CStringGetTextDatum(edata->detail);
		else
			nulls[2] = 'n';
		values[3] = CStringGetTextDatum(step);

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		SPI_execute_with_args("INSERT INTO pipeopt.capture_failures"
							  " (sqlstate, message, detail, step) VALUES ($1, $2, $3, $4)",
							  4, argtypes, values, nulls, false, 0);
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *e2;

		MemoryContextSwitchTo(cxt);
		e2 = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errmsg("pipeopt could not record a failed capture: %s", e2->message)));
	}
	PG_END_TRY();
}

/*
 * One step of a tick, in its own transaction; false if it failed. With
 * answer, the first column of the first row is read as a boolean into it.
 */
static bool
run_step(MemoryContext tick_cxt, const char *step, const char *sql, bool *answer)
{
	bool		ok = false;

	MemoryContextSwitchTo(tick_cxt);
	SetCurrentStatementStartTimestamp();
	pgstat_report_activity(STATE_RUNNING, sql);
	PG_TRY();
	{
		int			ret;

		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		SPI_connect();
		ret = SPI_execute(sql, false, 0);
		if (ret != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute returned %s", SPI_result_code_string(ret));
		if (answer)
		{
			bool		isnull;
			Datum		d = SPI_processed > 0
				? SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)
				: (Datum) 0;

			*answer = SPI_processed > 0 && !isnull && DatumGetBool(d);
		}
		SPI_finish();
		PopActiveSnapshot();
		CommitTransactionCommand();
		ok = true;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(tick_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("pipeopt %s failed in database \"%s\": %s",
						step, worker_dbname, edata->message),
				 edata->detail ? errdetail_internal("%s", edata->detail) : 0,
				 errhint("The worker retries at its next tick; no history is lost.")));
		record_failure(step, edata);
	}
	PG_END_TRY();

	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	MemoryContextSwitchTo(TopMemoryContext);
	MemoryContextReset(tick_cxt);
	return ok;
}

/*
 * Start an apply worker when a change is due or an interrupted one waits
 * to be settled, unless the one started before is still at work.
 */
static void
start_apply_worker(void)
{
	static BackgroundWorkerHandle *running = NULL;
	ApplyRequest req;
	pid_t		pid;

	if (running != NULL && GetBackgroundWorkerPid(running, &pid) != BGWH_STOPPED)
		return;
	if (running != NULL)
		pfree(running);
	running = NULL;
	memset(&req, 0, sizeof(req));
	req.dboid = MyDatabaseId;
	req.action = APPLY_ACTION_APPLY;
	namestrcpy(&req.requested_by, "pipeopt worker");
	MemoryContextSwitchTo(TopMemoryContext);
	if (!pipeopt_launch_apply(&req, false, &running))
	{
		running = NULL;
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a pipeopt apply worker for database \"%s\"", worker_dbname),
				 errdetail("No background worker slot is free."),
				 errhint("Raise max_worker_processes; the worker tries again at its next tick.")));
	}
}

/*
 * One tick: capture, analyze what is new, and every
 * pipeopt.advise_interval run the index advisor, then the storage and the
 * partition advisors, over the whole workload (the first tick of a worker
 * included). A failed advisor run is retried at the next tick. Then
 * approve by policy, judge the changes whose validation window closed, and
 * start an apply worker for the changes and reverts due (each tick, so
 * backoffs and the window are honoured).
 */
static void
run_tick(MemoryContext tick_cxt)
{
	static TimestampTz last_advise = 0;
	bool		ok = run_step(tick_cxt, "capture", "SELECT * FROM pipeopt.capture()", NULL);
	bool		pending = false;

	if (ok)
		ok = run_step(tick_cxt, "analyze", "SELECT * FROM pipeopt.analyze()", NULL);
	if (ok && pipeopt_advise_interval > 0 &&
		(last_advise == 0 ||
		 TimestampDifferenceExceeds(last_advise, GetCurrentTimestamp(),
									pipeopt_advise_interval * 60 * 1000)))
	{
		ok = run_step(tick_cxt, "advise", "SELECT * FROM pipeopt.advise_indexes()", NULL);
		/* after the index advisor: a BRIN supersedes the B-tree it proposed */
		ok = run_step(tick_cxt, "advise storage", "SELECT * FROM pipeopt.advise_storage()", NULL) && ok;
		ok = run_step(tick_cxt, "advise partitions", "SELECT * FROM pipeopt.advise_partitions()", NULL) && ok;
		if (ok)
			last_advise = GetCurrentTimestamp();
	}
	(void) run_step(tick_cxt, "approve", "SELECT pipeopt._auto_approve()", NULL);
	(void) run_step(tick_cxt, "verify", "SELECT * FROM pipeopt.verify_changes()", NULL);
	if (run_step(tick_cxt, "apply", "SELECT pipeopt._apply_pending() OR pipeopt._revert_pending()",
				 &pending) && pending)
		start_apply_worker();
	pipeopt_registry_note_tick(MyDatabaseId, ok);
}

void
pipeopt_worker_main(Datum main_arg)
{
	MemoryContext tick_cxt;
	TimestampTz last_start = 0;

	worker_dboid = DatumGetObjectId(main_arg);

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	before_shmem_exit(worker_exit, ObjectIdGetDatum(worker_dboid));

	BackgroundWorkerInitializeConnectionByOid(worker_dboid, InvalidOid, 0);
	pgstat_report_appname("pipeopt worker");

	/* pipeopt's own statements are not part of the workload it records */
	SetConfigOption("pg_stat_statements.track", "none", PGC_SUSET, PGC_S_SESSION);

	if (!extension_installed())
	{
		worker_found_no_extension = true;
		proc_exit(0);
	}
	if (!pipeopt_registry_set_running(worker_dboid, MyProcPid, MyLatch))
		proc_exit(0);			/* another worker serves this database */
	ereport(LOG,
			(errmsg("pipeopt worker started for database \"%s\"",
					worker_dbname)));

	tick_cxt = AllocSetContextCreate(TopMemoryContext, "pipeopt tick",
									 ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		long		timeout = IDLE_CHECK_MS;

		if (RecoveryInProgress() || IsBinaryUpgrade)
		{
			wait_for_latch(IDLE_CHECK_MS);
			continue;
		}
		if (!extension_installed())
		{
			worker_found_no_extension = true;
			ereport(LOG,
					(errmsg("pipeopt worker for database \"%s\" exits: the extension was dropped",
							worker_dbname)));
			proc_exit(0);
		}

		if (pipeopt_sample_interval > 0)
		{
			TimestampTz next = TimestampTzPlusMilliseconds(last_start,
														   pipeopt_sample_interval * 1000L);

			if (last_start == 0 || now >= next)
			{
				last_start = now;
				run_tick(tick_cxt);
				next = TimestampTzPlusMilliseconds(last_start,
												   pipeopt_sample_interval * 1000L);
			}
			timeout = Min(timeout,
						  TimestampDifferenceMilliseconds(GetCurrentTimestamp(), next));
		}
		wait_for_latch(timeout);
	}
}
