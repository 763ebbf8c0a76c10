/*-------------------------------------------------------------------------
 *
 * hooks.c
 *	  Keep the workers out of the way of DDL on databases, and start or
 *	  stop them with the extension.
 *
 * DROP DATABASE, ALTER DATABASE ... RENAME / SET TABLESPACE and CREATE
 * DATABASE ... TEMPLATE refuse to run while another session is connected to
 * the database concerned, and a db worker is such a session: before these
 * commands run, the worker is stopped and its slot suspended, so the
 * launcher does not start it again while the command waits. DROP EXTENSION
 * pipeopt stops the database's own worker too: a tick in the middle of
 * taking pipeopt's tables could otherwise deadlock with the drop, which
 * takes them in another order; the suspension is lifted when the drop's
 * transaction ends. After CREATE EXTENSION pipeopt commits, a worker is
 * started in that database; after a DROP commits, the worker is woken so
 * it notices the extension is gone.
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include "access/xact.h"
#include "capture/registry.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"

#define DDL_SUSPEND_MS	30000

static ProcessUtility_hook_type prev_ProcessUtility = NULL;
static bool xact_callback_registered = false;
static bool pending_start = false;
static bool pending_wake = false;
static bool pending_resume = false;	/* this database's worker, suspended */

static void
pipeopt_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
			if (pending_resume)
				pipeopt_registry_resume(MyDatabaseId);
			if (pending_start)
				(void) pipeopt_start_db_worker(MyDatabaseId, false);
			if (pending_wake)
				pipeopt_registry_wake(MyDatabaseId);
			pending_start = pending_wake = pending_resume = false;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			if (pending_resume)
				pipeopt_registry_resume(MyDatabaseId);
			pending_start = pending_wake = pending_resume = false;
			break;
		default:
			break;
	}
}

/* Whether the statement drops the extension pipeopt. */
static bool
drops_pipeopt(Node *parsetree)
{
	ListCell   *lc;

	if (!IsA(parsetree, DropStmt) ||
		((DropStmt *) parsetree)->removeType != OBJECT_EXTENSION)
		return false;
	foreach(lc, ((DropStmt *) parsetree)->objects)
	{
		Node	   *name = lfirst(lc);

		if (IsA(name, String) && strcmp(strVal(name), PIPEOPT_EXTENSION_NAME) == 0)
			return true;
	}
	return false;
}

static void
note_at_commit(bool start, bool wake)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(pipeopt_xact_callback, NULL);
		xact_callback_registered = true;
	}
	pending_start |= start;
	pending_wake |= wake;
}

static DefElem *
has_option(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, name) == 0 && opt->arg)
			return opt;
	}
	return NULL;
}

static const char *
template_of(CreatedbStmt *stmt)
{
	DefElem    *opt = has_option(stmt->options, "template");

	return opt ? defGetString(opt) : "template1";
}

/* Database whose worker must be stopped before this statement, if any. */
static Oid
database_needing_no_worker(Node *parsetree, bool *dropping)
{
	const char *dbname = NULL;

	*dropping = false;
	switch (nodeTag(parsetree))
	{
		case T_DropdbStmt:
			dbname = ((DropdbStmt *) parsetree)->dbname;
			*dropping = true;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
				dbname = ((RenameStmt *) parsetree)->subname;
			break;
		case T_AlterDatabaseStmt:
			/* only SET TABLESPACE needs the database free of sessions */
			if (has_option(((AlterDatabaseStmt *) parsetree)->options, "tablespace"))
				dbname = ((AlterDatabaseStmt *) parsetree)->dbname;
			break;
		case T_CreatedbStmt:
			dbname = template_of((CreatedbStmt *) parsetree);
			break;
		default:
			break;
	}
	return dbname ? get_database_oid(dbname, true) : InvalidOid;
}

static void
pipeopt_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					   bool readOnlyTree, ProcessUtilityContext context,
					   ParamListInfo params, QueryEnvironment *queryEnv,
					   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	bool		dropping;
	Oid			busy_db = InvalidOid;

	if (pipeopt_registry_attached())
	{
		busy_db = database_needing_no_worker(parsetree, &dropping);
		if (OidIsValid(busy_db) && busy_db != MyDatabaseId)
			pipeopt_registry_suspend(busy_db, DDL_SUSPEND_MS);
		else
			busy_db = InvalidOid;
		if (drops_pipeopt(parsetree))
		{
			note_at_commit(false, false);
			pending_resume = true;
			pipeopt_registry_suspend(MyDatabaseId, DDL_SUSPEND_MS);
		}
	}

	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
							params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);

	if (!pipeopt_registry_attached())
		return;

	/* the command succeeded: a surviving database may have its worker back */
	if (OidIsValid(busy_db))
		pipeopt_registry_resume(busy_db);

	if (IsA(parsetree, CreateExtensionStmt) &&
		strcmp(((CreateExtensionStmt *) parsetree)->extname,
			   PIPEOPT_EXTENSION_NAME) == 0)
		note_at_commit(true, false);
	else if (IsA(parsetree, DropStmt) &&
			 (((DropStmt *) parsetree)->removeType == OBJECT_EXTENSION ||
			  ((DropStmt *) parsetree)->removeType == OBJECT_SCHEMA))
		note_at_commit(false, true);
}

void
pipeopt_install_hooks(void)
{
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = pipeopt_ProcessUtility;
}
