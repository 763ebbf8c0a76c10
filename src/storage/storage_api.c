/*-------------------------------------------------------------------------
 *
 * storage_api.c
 *	  SQL functions of the storage and statistics advisor
 *	  (src/sql/0.1/87_storage.sql calls them, one statement at a time):
 *
 *	  _storage_statement(text, role, samples) -> jsonb
 *		  the statement's shape (storage_quals.c), the planner's estimate of
 *		  the rows it returns and its cost, and for an aggregate its
 *		  definition with the sampled values in place of its $n;
 *	  _storage_whatif(text, role, samples, relid, attnum) -> jsonb
 *		  its cost as it is, with a hypothetical B-tree and with a
 *		  hypothetical BRIN index on that column, and both indexes' sizes.
 *
 * Each statement is analyzed and planned as the role that ran it, with
 * its login search_path, in the sandbox, on its parameter samples when it
 * has usable ones (the mean of their custom plans), as the index advisor
 * does. The caller must have the privileges of that role. A statement
 * that does not analyze or plan is not an error: {"error": "..."}.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "advise/whatif.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "parse/sandbox.h"
#include "storage/advisor.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/ruleutils.h"

PG_FUNCTION_INFO_V1(pipeopt_storage_statement);
PG_FUNCTION_INFO_V1(pipeopt_storage_whatif);

/* A statement analyzed as its role, with its usable samples bound. */
typedef struct Prepared
{
	const char *text;
	Oid			role;
	char	   *search_path;
	List	   *queries;
	WhatifParams params;
	List	   *samples;		/* WhatifSample * */
	int			unusable;		/* samples whose values did not convert */
	char	   *error;
} Prepared;

static pg_attribute_noreturn() void
bad_samples(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("the parameter samples are malformed"),
			 errdetail("Samples must be a JSON array of objects {\"params\": [text or null, ...], \"count\": n}.")));
}

/* Bind each sample of the jsonb array; one that does not convert is counted. */
static void
bind_samples(Prepared *p, Jsonb *samples)
{
	if (!JB_ROOT_IS_ARRAY(samples) || JB_ROOT_IS_SCALAR(samples))
		bad_samples();
	for (int i = 0; i < (int) JB_ROOT_COUNT(samples); i++)
	{
		JsonbValue *sample = getIthJsonbValueFromContainer(&samples->root, i);
		char	  **values;
		int			nvalues,
					times;
		char	   *error;
		WhatifSample *ws;

		if (!whatif_sample_values(sample, &values, &nvalues, &times))
			bad_samples();
		ws = whatif_bind(&p->params, values, nvalues, p->role, p->search_path,
						 CurrentMemoryContext, &error);
		if (ws == NULL)
		{
			p->unusable++;
			continue;
		}
		ws->count = Max(times, 1);
		p->samples = lappend(p->samples, ws);
	}
}

/* Arguments 0-2: the statement, its role and its samples. */
static bool
prepare(FunctionCallInfo fcinfo, Prepared *p)
{
	memset(p, 0, sizeof(Prepared));
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the statement and its role must not be null")));
	p->text = text_to_cstring(PG_GETARG_TEXT_PP(0));
	p->role = PG_GETARG_OID(1);
	if (!has_privs_of_role(GetUserId(), p->role))
	{
		p->error = psprintf("not planned: you do not have the privileges of role %u, which ran it", p->role);
		return false;
	}
	p->search_path = pipeopt_login_search_path(p->role);
	if (!whatif_analyze(p->text, p->role, p->search_path, CurrentMemoryContext,
						&p->queries, &p->params, &p->error))
		return false;
	if (p->params.n > 0 && !PG_ARGISNULL(2))
		bind_samples(p, PG_GETARG_JSONB_P(2));
	return true;
}

static void
json_key(StringInfo buf, const char *name)
{
	if (buf->data[buf->len - 1] != '{')
		appendStringInfoChar(buf, ',');
	escape_json(buf, name);
	appendStringInfoChar(buf, ':');
}

static void
json_number(StringInfo buf, const char *name, double v)
{
	json_key(buf, name);
	if (isnan(v) || isinf(v))
		appendStringInfoString(buf, "null");
	else
		appendStringInfo(buf, "%.15g", v);
}

static void
json_text(StringInfo buf, const char *name, const char *v)
{
	json_key(buf, name);
	if (v)
		escape_json(buf, v);
	else
		appendStringInfoString(buf, "null");
}

static void
json_bool(StringInfo buf, const char *name, bool v)
{
	json_key(buf, name);
	appendStringInfoString(buf, v ? "true" : "false");
}

static void
json_names(StringInfo buf, const char *name, List *names)
{
	ListCell   *lc;

	json_key(buf, name);
	appendStringInfoChar(buf, '[');
	foreach(lc, names)
	{
		if (foreach_current_index(lc) > 0)
			appendStringInfoChar(buf, ',');
		escape_json(buf, lfirst(lc));
	}
	appendStringInfoChar(buf, ']');
}

/* [{"relid": r, "attnums": [a, ...]}, ...] */
static void
json_columns(StringInfo buf, const char *name, List *list)
{
	ListCell   *lc;

	json_key(buf, name);
	appendStringInfoChar(buf, '[');
	foreach(lc, list)
	{
		StorageColumns *sc = lfirst(lc);
		ListCell   *ac;

		appendStringInfo(buf, "%s{\"relid\":%u,\"attnums\":[", foreach_current_index(lc) ? "," : "",
						 sc->relid);
		foreach(ac, sc->attnums)
			appendStringInfo(buf, "%s%d", foreach_current_index(ac) ? "," : "", lfirst_int(ac));
		appendStringInfoString(buf, "]}");
	}
	appendStringInfoChar(buf, ']');
}

/* {"error": ...} and the basis of the statement's plans */
static void
json_basis(StringInfo buf, Prepared *p)
{
	int			count = 0;
	ListCell   *lc;

	foreach(lc, p->samples)
		count += ((WhatifSample *) lfirst(lc))->count;
	json_text(buf, "basis", p->params.n == 0 ? "constants" : p->samples ? "samples" : "generic");
	json_number(buf, "samples", count);
	json_number(buf, "samples_unusable", p->unusable);
}

static Datum
jsonb_result(StringInfo buf)
{
	appendStringInfoChar(buf, '}');
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data));
}

static Datum
error_result(Prepared *p)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_text(&buf, "error", p->error ? p->error : "unknown error");
	return jsonb_result(&buf);
}

typedef struct DeparseArgs
{
	Query	   *query;
	ParamListInfo params;
	MemoryContext keep;
	char	   *sql;
} DeparseArgs;

/*
 * The statement as SQL, its $n replaced by the sampled values; in the
 * sandbox, because printing a constant runs its type's output function.
 */
static void
deparse_in_sandbox(void *arg)
{
	DeparseArgs *a = arg;
	Query	   *q = a->params ? storage_bind_params(copyObject(a->query), a->params) : a->query;
	char	   *sql = pg_get_querydef(q, true);

	a->sql = MemoryContextStrdup(a->keep, sql);
}

/*
 * An aggregate's definition for a materialized view: a statement without
 * $n as it is; one with $n only if all its samples ran with the same
 * values (else the view would answer one of its calls only).
 */
static char *
view_definition(Prepared *p, const char **note)
{
	DeparseArgs a = {linitial(p->queries), NULL, CurrentMemoryContext, NULL};
	char	   *error;

	if (p->params.n > 0 && list_length(p->samples) != 1)
	{
		*note = p->samples == NIL ? "its parameters have no usable samples"
			: "its parameters take different values from call to call";
		return NULL;
	}
	if (p->params.n > 0)
		a.params = ((WhatifSample *) linitial(p->samples))->params;
	/* names printed schema-qualified: only pg_catalog is on the path */
	if (!pipeopt_sandbox_run(p->role, "pg_catalog", deparse_in_sandbox, &a, &error))
	{
		*note = psprintf("it could not be printed: %s", error);
		return NULL;
	}
	return a.sql;
}

/*
 * _storage_statement(statement, role, samples) -> jsonb: basis, samples,
 *		rows (the planner's estimate of the rows it returns or changes,
 *		the mean over its samples), cost, aggregate, rows_comparable,
 *		relations, ranges, equalities; for a SELECT its output columns,
 *		group_columns and groups_output; for an aggregate its definition
 *		(or definition_note: why there is none).
 */
Datum
pipeopt_storage_statement(PG_FUNCTION_ARGS)
{
	Prepared	p;
	WhatifConfig none = {NIL, NIL};
	WhatifCost	cost;
	StorageShape shape;
	StringInfoData buf;
	ListCell   *lc;

	if (!prepare(fcinfo, &p) ||
		!whatif_cost(p.queries, p.samples, p.role, p.search_path, &none, &cost, &p.error))
		PG_RETURN_DATUM(error_result(&p));
	if (list_length(p.queries) != 1)
	{
		p.error = psprintf("it is rewritten into %d queries", list_length(p.queries));
		PG_RETURN_DATUM(error_result(&p));
	}
	storage_shape(linitial(p.queries), &shape);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_basis(&buf, &p);
	json_number(&buf, "rows", cost.rows);
	json_number(&buf, "cost", cost.total_cost);
	json_bool(&buf, "aggregate", shape.aggregate);
	json_bool(&buf, "rows_comparable", shape.rows_comparable);
	json_key(&buf, "relations");
	appendStringInfoChar(&buf, '[');
	foreach(lc, shape.relations)
		appendStringInfo(&buf, "%s%u", foreach_current_index(lc) ? "," : "", lfirst_oid(lc));
	appendStringInfoChar(&buf, ']');
	json_columns(&buf, "ranges", shape.ranges);
	json_columns(&buf, "equalities", shape.equalities);
	json_names(&buf, "columns", shape.columns);
	json_names(&buf, "group_columns", shape.group_columns);
	json_bool(&buf, "groups_output", shape.groups_output);
	if (shape.aggregate)
	{
		const char *note = NULL;
		char	   *definition = view_definition(&p, &note);

		json_text(&buf, "definition", definition);
		json_text(&buf, "definition_note", note);
	}
	PG_RETURN_DATUM(jsonb_result(&buf));
}

/*
 * A hypothetical index of method am on one column, with the column
 * type's default operator class for it; NULL if there is none. (Built as
 * the B-tree the what-if planner offers, then given the method.)
 */
static HypoIndex *
column_index(Oid relid, AttrNumber attnum, Oid am)
{
	HypoIndex  *h = hypo_index_btree(relid, &attnum, 1);
	Oid			type = get_atttype(relid, attnum);

	h->am = am;
	h->opclass[0] = GetDefaultOpClass(type, am);
	return OidIsValid(h->opclass[0]) ? h : NULL;
}

static double
index_bytes(HypoIndex *h, HypoSize *size)
{
	hypo_estimate_size(h, hypo_index_entries(h), size);
	return (double) size->pages * BLCKSZ;
}

/*
 * What one more entry costs a B-tree, in planner cost units: the index
 * advisor's charge (select_cost.c): the descent, the entry, and its share
 * of writing a leaf page. A BRIN index on an appended column is charged
 * nothing: rows added past the summarized ranges are summarized later, by
 * VACUUM, a range at a time.
 */
static double
btree_entry_cost(const HypoSize *size)
{
	return (Max(size->tree_height, 0) + 1) * 50.0 * cpu_operator_cost + cpu_index_tuple_cost +
		random_page_cost * (double) size->pages / Max(size->tuples, 1);
}

/*
 * _storage_whatif(statement, role, samples, relid, attnum) -> jsonb:
 *		basis, samples, cost_before, cost_btree, cost_brin (the planner's
 *		cost with each index added), btree_used, brin_used (whether the
 *		plan scans it), btree_bytes, brin_bytes (estimated sizes),
 *		btree_entry_cost (the planner cost of adding an entry to the B-tree).
 */
Datum
pipeopt_storage_whatif(PG_FUNCTION_ARGS)
{
	Prepared	p;
	Oid			relid;
	AttrNumber	attnum;
	HypoIndex  *btree;
	HypoIndex  *brin;
	WhatifConfig none = {NIL, NIL};
	WhatifConfig with_btree = {NIL, NIL};
	WhatifConfig with_brin = {NIL, NIL};
	WhatifCost	before,
				cost_btree,
				cost_brin;
	HypoSize	btree_size,
				brin_size;
	StringInfoData buf;

	if (PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the table and the column must not be null")));
	relid = PG_GETARG_OID(3);
	attnum = PG_GETARG_INT16(4);
	if (get_rel_relkind(relid) != RELKIND_RELATION || get_attname(relid, attnum, true) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column %d of relation %u does not exist", attnum, relid),
				 errdetail("BRIN and B-tree indexes are compared on a column of a table.")));
	if (!prepare(fcinfo, &p))
		PG_RETURN_DATUM(error_result(&p));
	btree = column_index(relid, attnum, BTREE_AM_OID);
	brin = column_index(relid, attnum, BRIN_AM_OID);
	if (btree == NULL || brin == NULL)
	{
		p.error = psprintf("the type of column %s has no default %s operator class",
						   get_attname(relid, attnum, false), btree == NULL ? "btree" : "brin");
		PG_RETURN_DATUM(error_result(&p));
	}
	with_btree.hypos = list_make1(btree);
	with_brin.hypos = list_make1(brin);
	if (!whatif_cost(p.queries, p.samples, p.role, p.search_path, &none, &before, &p.error) ||
		!whatif_cost(p.queries, p.samples, p.role, p.search_path, &with_btree, &cost_btree, &p.error) ||
		!whatif_cost(p.queries, p.samples, p.role, p.search_path, &with_brin, &cost_brin, &p.error))
		PG_RETURN_DATUM(error_result(&p));

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_basis(&buf, &p);
	json_number(&buf, "cost_before", before.total_cost);
	json_number(&buf, "cost_btree", cost_btree.total_cost);
	json_number(&buf, "cost_brin", cost_brin.total_cost);
	json_bool(&buf, "btree_used", cost_btree.used != NIL);
	json_bool(&buf, "brin_used", cost_brin.used != NIL);
	json_number(&buf, "btree_bytes", index_bytes(btree, &btree_size));
	json_number(&buf, "brin_bytes", index_bytes(brin, &brin_size));
	json_number(&buf, "btree_entry_cost", btree_entry_cost(&btree_size));
	PG_RETURN_DATUM(jsonb_result(&buf));
}
