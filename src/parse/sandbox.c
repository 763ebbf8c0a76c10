/*-------------------------------------------------------------------------
 *
 * sandbox.c
 *	  Run analysis or planning of a user's statement as its role, in a
 *	  security-restricted context and a subtransaction always rolled back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_db_role_setting.h"
#include "miscadmin.h"
#include "parse/sandbox.h"
#include "parser/analyze.h"
#include "parser/parse_node.h"
#include "parser/parse_param.h"
#include "pipeopt.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"

bool
pipeopt_sandbox_run(Oid role, const char *search_path,
					void (*fn) (void *arg), void *arg, char **error)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	MemoryContext work;
	Oid			save_userid;
	int			save_sec;
	bool		ok = true;

	GetUserIdAndSecContext(&save_userid, &save_sec);
	BeginInternalSubTransaction(NULL);
	work = AllocSetContextCreate(oldcxt, "pipeopt sandbox", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	PG_TRY();
	{
		int			nest;
		char		timeout[32];

		SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE |
							   SECURITY_RESTRICTED_OPERATION);
		nest = NewGUCNestLevel();
		if (search_path)
			(void) set_config_option("search_path", search_path, PGC_USERSET,
									 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		snprintf(timeout, sizeof(timeout), "%d", pipeopt_capture_lock_timeout);
		(void) set_config_option("lock_timeout", timeout, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
		fn(arg);
		AtEOXact_GUC(false, nest);
		SetUserIdAndSecContext(save_userid, save_sec);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		MemoryContextDelete(work);
		/* a cancel or a shutdown is not this statement's problem */
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED ||
			edata->sqlerrcode == ERRCODE_ADMIN_SHUTDOWN ||
			edata->sqlerrcode == ERRCODE_OUT_OF_MEMORY)
			ReThrowError(edata);
		if (error)
			*error = pstrdup(edata->message);
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	if (ok)
	{
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		MemoryContextDelete(work);
	}
	return ok;
}

bool
pipeopt_sandbox_dml(Node *raw)
{
	return IsA(raw, SelectStmt) || IsA(raw, InsertStmt) ||
		IsA(raw, UpdateStmt) || IsA(raw, DeleteStmt);
}

/*
 * The tree may be libpg_query's: its parser also takes what
 * pg_stat_statements writes but PostgreSQL's grammar refuses (interval $2
 * for interval '1 day'). Its nodes are PostgreSQL 15's; the server's
 * copyObject() brings it into server memory (an unknown node would be an
 * error), and parse analysis then works on the copy.
 */
Query *
pipeopt_analyze_raw(RawStmt *raw, const char *text, Oid **types, int *ntypes)
{
	RawStmt    *copy = copyObject(raw);
	ParseState *pstate;
	Oid		   *ptypes = NULL;
	int			nptypes = 0;
	Query	   *query;

	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = text;
	setup_parse_variable_parameters(pstate, &ptypes, &nptypes);
	query = transformTopLevelStmt(pstate, copy);
	check_variable_parameters(pstate, query);
	free_parsestate(pstate);
	if (types)
		*types = ptypes;
	if (ntypes)
		*ntypes = nptypes;
	return query;
}

/*
 * The search_path role would log in with in this database: its settings
 * in pg_db_role_setting, most specific first, else the server's.
 */
char *
pipeopt_login_search_path(Oid role)
{
	Oid			pairs[3][2] = {{MyDatabaseId, role}, {InvalidOid, role}, {MyDatabaseId, InvalidOid}};
	Relation	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	char	   *found = NULL;

	for (int i = 0; i < 3 && found == NULL; i++)
	{
		ScanKeyData keys[2];
		SysScanDesc scan;
		HeapTuple	tup;

		ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase,
					BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(pairs[i][0]));
		ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole,
					BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(pairs[i][1]));
		scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true,
								  NULL, 2, keys);
		if (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, Anum_pg_db_role_setting_setconfig,
										 RelationGetDescr(rel), &isnull);

			if (!isnull)
			{
				ArrayType  *a = DatumGetArrayTypeP(d);
				Datum	   *items;
				int			n;

				deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &items, NULL, &n);
				for (int j = 0; j < n && found == NULL; j++)
				{
					char	   *s = TextDatumGetCString(items[j]);

					if (strncmp(s, "search_path=", 12) == 0)
						found = pstrdup(s + 12);
				}
			}
		}
		systable_endscan(scan);
	}
	table_close(rel, AccessShareLock);
	return found ? found : pstrdup(GetConfigOptionResetString("search_path"));
}

