/*-------------------------------------------------------------------------
 *
 * advise_api.c
 *	  SQL functions of the advise stage's what-if planner:
 *	  pipeopt.hypothetical_index(), pipeopt.whatif(), pipeopt.select_indexes().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "advise/select.h"
#include "sqlapi/advise_api.h"
#include "advise/whatif.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(pipeopt_hypothetical_index);
PG_FUNCTION_INFO_V1(pipeopt_whatif);
PG_FUNCTION_INFO_V1(pipeopt_select_indexes);
PG_FUNCTION_INFO_V1(pipeopt_budget_bytes_sql);

/*
 * hypothetical_index(definition) -> (relation, definition, method,
 *		estimated_entries, estimated_pages, estimated_bytes, tree_height,
 *		deduplicated): what CREATE INDEX would build, estimated.
 */
Datum
pipeopt_hypothetical_index(PG_FUNCTION_ARGS)
{
	HypoIndex  *h = hypo_index_from_definition(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	HypoSize	size;
	TupleDesc	desc;
	Datum		values[8];
	bool		nulls[8] = {0};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	hypo_estimate_size(h, hypo_index_entries(h), &size);
	values[0] = ObjectIdGetDatum(h->relid);
	values[1] = CStringGetTextDatum(hypo_index_describe(h));
	values[2] = CStringGetTextDatum(get_am_name(h->am));
	values[3] = Float8GetDatum(size.tuples);
	values[4] = Int64GetDatum((int64) size.pages);
	values[5] = Int64GetDatum((int64) size.pages * BLCKSZ);
	if (size.tree_height >= 0)
		values[6] = Int32GetDatum(size.tree_height);
	else
		nulls[6] = true;
	values[7] = BoolGetDatum(size.deduplicated);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

static List *
definitions(ArrayType *a)
{
	Datum	   *items;
	bool	   *isnull;
	int			n;
	List	   *hypos = NIL;

	deconstruct_array(a, TEXTOID, -1, false, TYPALIGN_INT, &items, &isnull, &n);
	for (int i = 0; i < n; i++)
		if (!isnull[i])
			hypos = lappend(hypos, hypo_index_from_definition(TextDatumGetCString(items[i])));
	return hypos;
}

static List *
oids(ArrayType *a)
{
	Datum	   *items;
	bool	   *isnull;
	int			n;
	List	   *out = NIL;

	deconstruct_array(a, REGCLASSOID, sizeof(Oid), true, TYPALIGN_INT, &items, &isnull, &n);
	for (int i = 0; i < n; i++)
		if (!isnull[i])
		{
			if (get_rel_relkind(DatumGetObjectId(items[i])) != RELKIND_INDEX)
				ereport(ERROR,
						(errcode(ERRCODE_WRONG_OBJECT_TYPE),
						 errmsg("\"%s\" is not an index", get_rel_name(DatumGetObjectId(items[i]))),
						 errdetail("hide lists real indexes for the planner to plan without.")));
			out = lappend_oid(out, DatumGetObjectId(items[i]));
		}
	return out;
}

static pg_attribute_noreturn() void
cannot_plan(const char *error)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("cannot plan the statement: %s", error),
			 errdetail("The statement is analyzed and planned as you, with your search_path.")));
}

/*
 * whatif(statement, indexes, hide, params) -> (cost_before, cost_after,
 *		startup_before, startup_after, indexes_used): the planner's estimate
 *		of statement as it is and with the hypothetical indexes (CREATE
 *		INDEX texts) added and the real indexes of hide removed. The
 *		statement is analyzed and planned as the caller, who must be
 *		allowed to run it; it may be normalized ($n), planned generically,
 *		or with the values of params (a custom plan). Nothing is executed.
 */
Datum
pipeopt_whatif(PG_FUNCTION_ARGS)
{
	char	   *statement;
	WhatifConfig none = {NIL, NIL};
	WhatifConfig config = {NIL, NIL};
	WhatifCost	before,
				after;
	List	   *queries;
	List	   *samples = NIL;
	WhatifParams params;
	char	   *error;
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {0};
	Datum	   *used;
	int			i = 0;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	statement = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
		config.hypos = definitions(PG_GETARG_ARRAYTYPE_P(1));
	if (!PG_ARGISNULL(2))
		config.hidden = oids(PG_GETARG_ARRAYTYPE_P(2));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	if (!whatif_analyze(statement, GetUserId(), NULL, CurrentMemoryContext, &queries,
						&params, &error))
		cannot_plan(error);
	if (!PG_ARGISNULL(3))
	{
		Datum	   *items;
		bool	   *isnull;
		int			n;
		char	  **texts;
		WhatifSample *ws;

		deconstruct_array(PG_GETARG_ARRAYTYPE_P(3), TEXTOID, -1, false, TYPALIGN_INT,
						  &items, &isnull, &n);
		if (n != params.n)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg_plural("the statement has %d parameter, params has %d values",
									"the statement has %d parameters, params has %d values",
									params.n, params.n, n),
					 errhint("Give one value per $n, or no params for a generic plan.")));
		texts = palloc(sizeof(char *) * Max(n, 1));
		for (int k = 0; k < n; k++)
			texts[k] = isnull[k] ? NULL : TextDatumGetCString(items[k]);
		if ((ws = whatif_bind(&params, texts, n, GetUserId(), NULL,
							  CurrentMemoryContext, &error)) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot plan the statement with these parameter values: %s", error),
					 errdetail("params holds the text of $1, $2, ... in order, NULL for SQL NULL; each is converted to the type the statement gives it.")));
		samples = list_make1(ws);
	}
	if (!whatif_cost(queries, samples, GetUserId(), NULL, &none, &before, &error) ||
		!whatif_cost(queries, samples, GetUserId(), NULL, &config, &after, &error))
		cannot_plan(error);

	values[0] = Float8GetDatum(before.total_cost);
	values[1] = Float8GetDatum(after.total_cost);
	values[2] = Float8GetDatum(before.startup_cost);
	values[3] = Float8GetDatum(after.startup_cost);
	used = palloc(sizeof(Datum) * (list_length(after.used) + 1));
	foreach(lc, after.used)
		used[i++] = CStringGetTextDatum(hypo_index_describe(lfirst(lc)));
	values[4] = PointerGetDatum(construct_array(used, i, TEXTOID, -1, false, TYPALIGN_INT));
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/* A size written like a memory setting ('40MB'), in bytes. */
double
pipeopt_budget_bytes(const char *text)
{
	int			kb;
	const char *hint = NULL;

	if (!parse_int(text, &kb, GUC_UNIT_KB, &hint) || kb < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid index budget: \"%s\"", text),
				 errhint("%s", hint ? hint : "Write it like a memory setting, such as '40MB' or '2GB'.")));
	return (double) kb * 1024;
}

/* _budget_bytes(budget) -> bytes, for the SQL advisors. */
Datum
pipeopt_budget_bytes_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) pipeopt_budget_bytes(text_to_cstring(PG_GETARG_TEXT_PP(0))));
}

/* max_columns, checked. */
int
pipeopt_max_columns(int n)
{
	if (n < 1 || n > INDEX_MAX_KEYS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_columns must be between 1 and %d", INDEX_MAX_KEYS),
				 errdetail("It is the widest index, in key columns, the advisor may propose.")));
	return n;
}

/*
 * select_indexes(statements, budget, weights, max_columns) -> the indexes
 *		to build for the statements within budget, in the order chosen:
 *		(definition, relation, estimated_bytes, saving, statements,
 *		workload_cost_before, workload_cost_after, planner_calls). Every
 *		statement is analyzed and planned as the caller.
 */
Datum
pipeopt_select_indexes(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Datum	   *texts;
	bool	   *tnulls;
	int			n;
	Datum	   *weights = NULL;
	bool	   *wnulls = NULL;
	int			nweights = 0;
	WorkloadStatement *stmts;
	SelectionResult result;
	SelectionParams params = {0};
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	params.budget_bytes = pipeopt_budget_bytes(PG_ARGISNULL(1) ? "40MB" : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	params.max_columns = pipeopt_max_columns(PG_ARGISNULL(3) ? 3 : PG_GETARG_INT32(3));
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(0), TEXTOID, -1, false, TYPALIGN_INT, &texts, &tnulls, &n);
	if (!PG_ARGISNULL(2))
	{
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
						  &weights, &wnulls, &nweights);
		if (nweights != n)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("%d weights for %d statements", nweights, n),
					 errdetail("Give one weight (calls, say) per statement, or none.")));
	}
	stmts = palloc0(sizeof(WorkloadStatement) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		char	   *error;

		if (tnulls[i])
			continue;
		stmts[i].text = TextDatumGetCString(texts[i]);
		stmts[i].label = psprintf("%d", i + 1);
		stmts[i].weight = weights && !wnulls[i] ? DatumGetFloat8(weights[i]) : 1;
		stmts[i].role = GetUserId();
		if (!whatif_analyze(stmts[i].text, stmts[i].role, NULL, CurrentMemoryContext,
							&stmts[i].queries, NULL, &error))
			ereport(NOTICE,
					(errmsg("statement %d left out: %s", i + 1, error),
					 errdetail("It is analyzed and planned as you, with your search_path.")));
	}
	select_indexes(stmts, n, &params, &result);
	foreach(lc, result.chosen)
	{
		ChosenIndex *ci = lfirst(lc);
		Datum		values[8];
		bool		nulls[8] = {0};

		values[0] = CStringGetTextDatum(hypo_index_describe(ci->index));
		values[1] = ObjectIdGetDatum(ci->index->relid);
		values[2] = Int64GetDatum((int64) ci->bytes);
		values[3] = Float8GetDatum(ci->saving);
		values[4] = Int32GetDatum(ci->statements);
		values[5] = Float8GetDatum(result.workload_before);
		values[6] = Float8GetDatum(result.workload_after);
		values[7] = Int32GetDatum(result.planner_calls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
