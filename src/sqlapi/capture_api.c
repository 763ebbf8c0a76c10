/*-------------------------------------------------------------------------
 *
 * capture_api.c
 *	  SQL functions of the capture stage written in C: the prerequisite
 *	  check that pipeopt.capture() runs first, pipeopt.workers(), and the
 *	  drain and counters of the ring of parameter samples.
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "capture/param_sample.h"
#include "capture/registry.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(pipeopt_pgss_schema);
PG_FUNCTION_INFO_V1(pipeopt_workers);
PG_FUNCTION_INFO_V1(pipeopt_drain_param_samples);
PG_FUNCTION_INFO_V1(pipeopt_param_sample_stats_sql);

/* Namespace of an extension (PostgreSQL 15 does not export this). */
static Oid
extension_namespace(Oid extoid)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/*
 * Schema of pg_stat_statements, after checking it can be read: the library
 * is preloaded (its GUCs exist only then) and the extension is installed.
 */
Datum
pipeopt_pgss_schema(PG_FUNCTION_ARGS)
{
	Oid			extoid;
	Oid			nsp;

	if (GetConfigOption("pg_stat_statements.max", true, false) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pg_stat_statements is not loaded"),
				 errdetail("pipeopt reads the workload from pg_stat_statements, which works only when loaded at server start."),
				 errhint("Add pg_stat_statements to shared_preload_libraries in postgresql.conf and restart the server.")));

	extoid = get_extension_oid("pg_stat_statements", true);
	if (!OidIsValid(extoid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"pg_stat_statements\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION pg_stat_statements.")));
	nsp = extension_namespace(extoid);
	PG_RETURN_TEXT_P(cstring_to_text(get_namespace_name(nsp)));
}

static Datum
timestamp_or_null(TimestampTz ts, bool *isnull)
{
	*isnull = (ts == 0);
	return TimestampTzGetDatum(ts);
}

/*
 * workers() -> one row per database known to the launcher.
 */
Datum
pipeopt_workers(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	WorkerSlot *slots;
	int			n;

	if (!pipeopt_registry_attached())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pipeopt is not loaded at server start"),
				 errdetail("The background workers run only when pipeopt is preloaded; pipeopt.capture() still works on demand."),
				 errhint("Add pipeopt to shared_preload_libraries in postgresql.conf and restart the server.")));

	InitMaterializedSRF(fcinfo, 0);
	slots = palloc(sizeof(WorkerSlot) * pipeopt_max_workers);
	n = pipeopt_registry_snapshot(slots, pipeopt_max_workers);
	for (int i = 0; i < n; i++)
	{
		Datum		values[9];
		bool		nulls[9] = {0};
		char	   *dbname = get_database_name(slots[i].dboid);

		values[0] = ObjectIdGetDatum(slots[i].dboid);
		if (dbname)
			values[1] = CStringGetTextDatum(dbname);
		else
			nulls[1] = true;
		values[2] = CStringGetTextDatum(pipeopt_slot_state_name(slots[i].state));
		values[3] = Int32GetDatum(slots[i].pid);
		nulls[3] = (slots[i].pid == 0);
		values[4] = timestamp_or_null(slots[i].state_since, &nulls[4]);
		values[5] = timestamp_or_null(slots[i].last_capture, &nulls[5]);
		values[6] = timestamp_or_null(slots[i].last_failure, &nulls[6]);
		values[7] = Int64GetDatum(slots[i].ticks);
		values[8] = Int64GetDatum(slots[i].failures);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * _drain_param_samples() -> the parameter samples of the current database,
 * removed from the ring, oldest first. No rows when pipeopt is not
 * preloaded (nothing is sampled then).
 */
Datum
pipeopt_drain_param_samples(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ParamSample *samples;
	int			n;

	InitMaterializedSRF(fcinfo, 0);
	n = pipeopt_param_sample_drain(MyDatabaseId, &samples);
	for (int i = 0; i < n; i++)
	{
		ParamSample *s = &samples[i];
		Datum		values[6];
		bool		nulls[6] = {0};

		values[0] = TimestampTzGetDatum(s->sampled_at);
		values[1] = ObjectIdGetDatum(s->userid);
		values[2] = Int64GetDatum((int64) s->queryid);
		values[3] = CStringGetTextDatum(s->source == PARAM_SAMPLE_BIND ? "bind" : "literal");
		values[4] = Int32GetDatum(s->first_param);
		values[5] = PointerGetDatum(pipeopt_param_sample_values(s));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* param_sample_stats() -> the ring's size and counters since server start. */
Datum
pipeopt_param_sample_stats_sql(PG_FUNCTION_ARGS)
{
	ParamSampleStats st;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {0};

	if (!pipeopt_param_sample_attached())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("pipeopt is not loaded at server start"),
				 errdetail("Parameter values are sampled only when pipeopt is preloaded."),
				 errhint("Add pipeopt to shared_preload_libraries in postgresql.conf and restart the server.")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	pipeopt_param_sample_stats(&st);
	values[0] = Int32GetDatum(st.slots);
	values[1] = Int32GetDatum(st.pending);
	values[2] = Int64GetDatum((int64) st.sampled);
	values[3] = Int64GetDatum((int64) st.overwritten);
	values[4] = Int64GetDatum((int64) st.skipped);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
