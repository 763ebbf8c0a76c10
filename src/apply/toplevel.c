/*-------------------------------------------------------------------------
 *
 * toplevel.c
 *	  Statements of the apply worker, each in its own transaction(s).
 *
 * CREATE INDEX CONCURRENTLY and DROP INDEX CONCURRENTLY refuse to run in a
 * transaction block or a function: they commit and start transactions
 * themselves. pipeopt_exec_toplevel() runs one such statement the way
 * postgres.c runs a query from a client (a portal run as the top level),
 * so its internal commits work; the statement text is one the SQL side
 * generated from a structured specification a moment before. A text of
 * several statements runs them in one transaction (an implicit block).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "apply/apply.h"
#include "executor/spi.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"

/* Analyze, plan and run one parsed statement of sql, as a portal at top level. */
static void
run_statement(RawStmt *stmt, const char *sql, MemoryContext stmt_cxt)
{
	MemoryContext old;
	List	   *plans;
	bool		snapshot;
	Portal		portal;
	DestReceiver *dest;
	QueryCompletion qc;

	/* parse trees and plans must outlive the statement's own commits */
	old = MemoryContextSwitchTo(stmt_cxt);
	snapshot = analyze_requires_snapshot(stmt);
	if (snapshot)
		PushActiveSnapshot(GetTransactionSnapshot());
	plans = pg_plan_queries(pg_analyze_and_rewrite_fixedparams(stmt, sql, NULL, 0, NULL),
							sql, CURSOR_OPT_PARALLEL_OK, NULL);
	if (snapshot)
		PopActiveSnapshot();

	portal = CreatePortal("", true, true);
	portal->visible = false;
	PortalDefineQuery(portal, NULL, sql, CreateCommandTag(stmt->stmt), plans, NULL);
	PortalStart(portal, NULL, 0, InvalidSnapshot);
	dest = CreateDestReceiver(DestNone);
	MemoryContextSwitchTo(old);

	(void) PortalRun(portal, FETCH_ALL, true, true, dest, dest, &qc);
	dest->rDestroy(dest);
	PortalDrop(portal, false);
}

/*
 * Several statements (CREATE STATISTICS and the ANALYZE that fills it) run
 * in one transaction, as a client's multi-statement query does: all or
 * nothing, and none of them may be CONCURRENTLY.
 */
void
pipeopt_exec_toplevel(const char *sql, int timeout_ms)
{
	MemoryContext stmt_cxt = AllocSetContextCreate(TopMemoryContext, "pipeopt apply statement",
												   ALLOCSET_DEFAULT_SIZES);

	SetCurrentStatementStartTimestamp();
	pgstat_report_activity(STATE_RUNNING, sql);
	StartTransactionCommand();
	if (timeout_ms > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, timeout_ms);
	PG_TRY();
	{
		MemoryContext old = MemoryContextSwitchTo(stmt_cxt);
		List	   *raw = pg_parse_query(sql);
		bool		several = list_length(raw) > 1;
		ListCell   *lc;

		MemoryContextSwitchTo(old);
		if (raw == NIL)
			elog(ERROR, "pipeopt was given no statement to apply");
		if (several)
			BeginImplicitTransactionBlock();
		foreach(lc, raw)
		{
			run_statement(lfirst(lc), sql, stmt_cxt);
			if (several)
				CommandCounterIncrement();
		}
		if (several)
			EndImplicitTransactionBlock();
		if (timeout_ms > 0)
			disable_timeout(STATEMENT_TIMEOUT, false);
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		if (timeout_ms > 0)
			disable_timeout(STATEMENT_TIMEOUT, false);
		MemoryContextSwitchTo(TopMemoryContext);
		MemoryContextDelete(stmt_cxt);
		pgstat_report_activity(STATE_IDLE, NULL);
		PG_RE_THROW();
	}
	PG_END_TRY();
	MemoryContextDelete(stmt_cxt);
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * Run one query in its own transaction and return its rows, each a char *
 * array of the columns' text (NULL for SQL NULL), allocated in the
 * caller's memory context.
 */
List *
pipeopt_query_rows(const char *sql, int nargs, Oid *argtypes, Datum *values, const char *nulls)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *rows = NIL;
	int			ret;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	if (ret < 0)
		elog(ERROR, "SPI_execute_with_args returned %s", SPI_result_code_string(ret));
	for (uint64 r = 0; SPI_tuptable != NULL && r < SPI_processed; r++)
	{
		int			ncols = SPI_tuptable->tupdesc->natts;
		char	  **row = MemoryContextAllocZero(caller, sizeof(char *) * ncols);

		for (int c = 0; c < ncols; c++)
		{
			char	   *v = SPI_getvalue(SPI_tuptable->vals[r], SPI_tuptable->tupdesc, c + 1);

			row[c] = v ? MemoryContextStrdup(caller, v) : NULL;
		}
		rows = lappend(rows, row);	/* the list cell lives in the SPI context... */
	}
	{
		MemoryContext old = MemoryContextSwitchTo(caller);

		rows = list_copy(rows);		/* ...so copy it out */
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	MemoryContextSwitchTo(caller);
	return rows;
}
