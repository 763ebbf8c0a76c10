/*-------------------------------------------------------------------------
 *
 * index_advice_api.c
 *	  pipeopt._advise_indexes(): index selection over the captured
 *	  workload, each statement analyzed and planned as the role that ran
 *	  it, with its login search_path; the result as one jsonb document
 *	  that pipeopt.advise_indexes() (src/sql/0.1/81_index_advice.sql)
 *	  turns into recommendations.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "advise/select.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parse/sandbox.h"
#include "sqlapi/advise_api.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

PG_FUNCTION_INFO_V1(pipeopt_advise_indexes_internal);

/*
 * The elements of argument arg (an array of type): exactly *n of them, or
 * any number, then put in *n, when *n is -1.
 */
static Datum *
array_arg(FunctionCallInfo fcinfo, int arg, Oid type, int *n, bool **nulls)
{
	Datum	   *items;
	int			count;
	int16		len;
	bool		byval;
	char		align;

	if (PG_ARGISNULL(arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument %d of _advise_indexes must not be null", arg + 1)));
	get_typlenbyvalalign(type, &len, &byval, &align);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(arg), type, len, byval, align, &items, nulls, &count);
	if (*n < 0)
		*n = count;
	else if (count != *n)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("argument %d of _advise_indexes has %d elements, not %d", arg + 1, count, *n),
				 errdetail("The per-statement and per-table arrays must have one element each.")));
	return items;
}

static void
json_number(StringInfo buf, const char *name, double v)
{
	escape_json(buf, name);
	if (v < 0 || isnan(v) || isinf(v))
		appendStringInfoString(buf, ":null");
	else
		appendStringInfo(buf, ":%.15g", v);
}

static void
json_text(StringInfo buf, const char *name, const char *v)
{
	escape_json(buf, name);
	appendStringInfoChar(buf, ':');
	if (v)
		escape_json(buf, v);
	else
		appendStringInfoString(buf, "null");
}

/* "relid":..,"attnums":[..],"definition":..,"bytes":..,"saving":..,"maintenance":.. */
static void
json_index(StringInfo buf, HypoIndex *h, double bytes, double saving, double maintenance)
{
	appendStringInfo(buf, "\"relid\":%u,\"attnums\":[", h->relid);
	for (int i = 0; i < h->nkeys; i++)
		appendStringInfo(buf, "%s%d", i ? "," : "", h->attnos[i]);
	appendStringInfoString(buf, "],");
	json_text(buf, "definition", hypo_index_describe(h));
	appendStringInfoChar(buf, ',');
	json_number(buf, "bytes", bytes);
	appendStringInfoChar(buf, ',');
	json_number(buf, "saving", saving);
	appendStringInfoChar(buf, ',');
	json_number(buf, "maintenance", maintenance);
}

static pg_attribute_noreturn() void
bad_samples(const char *label)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the parameter samples of statement %s are malformed", label),
			 errdetail("Each statement's samples must be a JSON array of objects {\"params\": [text or null, ...], \"count\": n}.")));
}

/*
 * The samples of st (see below) bound to the types of its $n, as its role
 * with its search_path; one whose values do not convert is left out,
 * noted.
 */
static void
bind_samples(WorkloadStatement *st, Jsonb *samples)
{
	int			n;

	if (!JB_ROOT_IS_ARRAY(samples) || JB_ROOT_IS_SCALAR(samples))
		bad_samples(st->label);
	n = JB_ROOT_COUNT(samples);
	for (int i = 0; i < n; i++)
	{
		JsonbValue *sample = getIthJsonbValueFromContainer(&samples->root, i);
		int			nvalues,
					times;
		char	  **values;
		char	   *error;
		WhatifSample *ws;

		if (!whatif_sample_values(sample, &values, &nvalues, &times))
			bad_samples(st->label);
		ws = whatif_bind(&st->params, values, nvalues, st->role, st->search_path,
						 CurrentMemoryContext, &error);
		if (ws == NULL)
			select_sample_unusable(st, times, error);
		else
		{
			ws->count = Max(times, 1);
			st->samples = lappend(st->samples, ws);
		}
	}
}

/* How many samples a list of WhatifSamples stands for. */
static int
samples_count(List *samples)
{
	ListCell   *lc;
	int			total = 0;

	foreach(lc, samples)
		total += ((WhatifSample *) lfirst(lc))->count;
	return total;
}

/* How a planned statement's costs were estimated. */
static const char *
basis(WorkloadStatement *st)
{
	if (st->params.n == 0)
		return "constants";
	return st->samples ? "samples" : "generic";
}

/*
 * _advise_indexes(labels, texts, roles, calls, rows, budget, max_columns,
 *		tables, inserts, updates, hot_updates, indexes, samples) -> jsonb
 *
 * One element per statement in the first five arrays (rates per hour) and
 * in samples, one per table in the other five. A statement's samples, NULL
 * or a jsonb array of {"params": [text or null, ...], "count": n}, are
 * values of its $1, $2, ... (count: how many samples had them); with
 * some that convert to the types of its $n, its cost is the mean of their
 * custom plans, else it is planned generically. A statement of a role
 * the caller has no privileges of is left out, with the reason: planning
 * as a role is acting as it.
 */
Datum
pipeopt_advise_indexes_internal(PG_FUNCTION_ARGS)
{
	bool	   *lnulls,
			   *tnulls,
			   *rnulls,
			   *cnulls,
			   *wnulls,
			   *n1,
			   *n2,
			   *n3,
			   *n4,
			   *n5,
			   *snulls;
	Datum	   *labels,
			   *texts,
			   *roles,
			   *calls,
			   *rows,
			   *tables,
			   *ins,
			   *upd,
			   *hot,
			   *idx,
			   *samples;
	int			n = -1,
				ntables = -1;
	WorkloadStatement *stmts;
	SelectionParams params = {0};
	SelectionResult result;
	StringInfoData buf;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	labels = array_arg(fcinfo, 0, TEXTOID, &n, &lnulls);
	texts = array_arg(fcinfo, 1, TEXTOID, &n, &tnulls);
	roles = array_arg(fcinfo, 2, OIDOID, &n, &rnulls);
	calls = array_arg(fcinfo, 3, FLOAT8OID, &n, &cnulls);
	rows = array_arg(fcinfo, 4, FLOAT8OID, &n, &wnulls);
	if (PG_ARGISNULL(5) || PG_GETARG_INT64(5) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the index budget must be zero or more bytes")));
	params.budget_bytes = (double) PG_GETARG_INT64(5);
	params.max_columns = pipeopt_max_columns(PG_ARGISNULL(6) ? 3 : PG_GETARG_INT32(6));
	params.attribute = true;	/* advice_statements reports each index's share */
	tables = array_arg(fcinfo, 7, OIDOID, &ntables, &n1);
	ins = array_arg(fcinfo, 8, FLOAT8OID, &ntables, &n2);
	upd = array_arg(fcinfo, 9, FLOAT8OID, &ntables, &n3);
	hot = array_arg(fcinfo, 10, FLOAT8OID, &ntables, &n4);
	idx = array_arg(fcinfo, 11, INT4OID, &ntables, &n5);
	samples = array_arg(fcinfo, 12, JSONBOID, &n, &snulls);

	params.writes = palloc0(sizeof(TableWrites) * Max(ntables, 1));
	params.nwrites = ntables;
	for (int t = 0; t < ntables; t++)
	{
		params.writes[t].relid = n1[t] ? InvalidOid : DatumGetObjectId(tables[t]);
		params.writes[t].inserts = n2[t] ? 0 : DatumGetFloat8(ins[t]);
		params.writes[t].updates = n3[t] ? 0 : DatumGetFloat8(upd[t]);
		params.writes[t].hot_updates = n4[t] ? 0 : DatumGetFloat8(hot[t]);
		params.writes[t].indexes = n5[t] ? 0 : DatumGetInt32(idx[t]);
	}

	stmts = palloc0(sizeof(WorkloadStatement) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		WorkloadStatement *st = &stmts[i];

		st->label = lnulls[i] ? psprintf("%d", i + 1) : TextDatumGetCString(labels[i]);
		st->weight = cnulls[i] ? 1 : DatumGetFloat8(calls[i]);
		st->rows = wnulls[i] ? 0 : DatumGetFloat8(rows[i]);
		st->base_cost = st->cost = -1;
		if (tnulls[i] || rnulls[i])
		{
			st->error = pstrdup("no text or no role");
			continue;
		}
		st->text = TextDatumGetCString(texts[i]);
		st->role = DatumGetObjectId(roles[i]);
		if (!has_privs_of_role(GetUserId(), st->role))
		{
			st->error = psprintf("not planned: you do not have the privileges of role %u, which ran it",
								 st->role);
			continue;
		}
		st->search_path = pipeopt_login_search_path(st->role);
		if (whatif_analyze(st->text, st->role, st->search_path, CurrentMemoryContext,
						   &st->queries, &st->params, &st->error) &&
			st->params.n > 0 && !snulls[i])
			bind_samples(st, DatumGetJsonbP(samples[i]));
	}

	select_indexes(stmts, n, &params, &result);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_number(&buf, "before", result.workload_before);
	appendStringInfoChar(&buf, ',');
	json_number(&buf, "after", result.workload_after);
	appendStringInfo(&buf, ",\"planner_calls\":%d,\"statements_planned\":%d,\"statements\":[",
					 result.planner_calls, result.statements_planned);
	for (int i = 0; i < n; i++)
	{
		appendStringInfoString(&buf, i ? ",{" : "{");
		json_text(&buf, "label", stmts[i].label);
		appendStringInfoChar(&buf, ',');
		json_number(&buf, "cost_before", stmts[i].queries ? stmts[i].base_cost : -1);
		appendStringInfoChar(&buf, ',');
		json_number(&buf, "cost_after", stmts[i].queries ? stmts[i].cost : -1);
		appendStringInfoChar(&buf, ',');
		json_text(&buf, "error", stmts[i].queries ? NULL : stmts[i].error);
		appendStringInfoChar(&buf, ',');
		json_text(&buf, "basis", stmts[i].queries ? basis(&stmts[i]) : NULL);
		appendStringInfo(&buf, ",\"samples\":%d,\"samples_unusable\":%d,",
						 stmts[i].queries ? samples_count(stmts[i].samples) : 0,
						 stmts[i].samples_unusable);
		json_text(&buf, "sample_error", stmts[i].sample_error);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "],\"chosen\":[");
	foreach(lc, result.chosen)
	{
		ChosenIndex *ci = lfirst(lc);
		bool		first = true;

		appendStringInfoString(&buf, foreach_current_index(lc) ? ",{" : "{");
		json_index(&buf, ci->index, ci->bytes, ci->saving, ci->maintenance);
		appendStringInfoString(&buf, ",\"statements\":[");
		for (int i = 0; i < n; i++)
		{
			if (ci->cost_without[i] < 0)
				continue;
			appendStringInfoString(&buf, first ? "{" : ",{");
			first = false;
			json_text(&buf, "label", stmts[i].label);
			appendStringInfoChar(&buf, ',');
			json_number(&buf, "cost_before", stmts[i].base_cost);
			appendStringInfoChar(&buf, ',');
			json_number(&buf, "cost_after", stmts[i].cost);
			appendStringInfoChar(&buf, ',');
			json_number(&buf, "cost_without", ci->cost_without[i]);
			appendStringInfoChar(&buf, '}');
		}
		appendStringInfoString(&buf, "]}");
	}
	appendStringInfoString(&buf, "],\"rejected\":[");
	foreach(lc, result.rejected)
	{
		RejectedIndex *r = lfirst(lc);

		appendStringInfoString(&buf, foreach_current_index(lc) ? ",{" : "{");
		json_index(&buf, r->index, r->bytes, r->saving, r->maintenance);
		appendStringInfoChar(&buf, ',');
		json_text(&buf, "reason", r->reason);
		appendStringInfoChar(&buf, '}');
	}
	appendStringInfoString(&buf, "]}");
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
