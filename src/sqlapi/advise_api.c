/*-------------------------------------------------------------------------
 *
 * advise_api.c
 *	  SQL functions of the advise stage's what-if planner:
 *	  pipeopt.hypothetical_index() and pipeopt.whatif().
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "advise/whatif.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

PG_FUNCTION_INFO_V1(pipeopt_hypothetical_index);
PG_FUNCTION_INFO_V1(pipeopt_whatif);

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

/*
 * whatif(statement, indexes, hide) -> (cost_before, cost_after,
 *		startup_before, startup_after, indexes_used): the planner's estimate
 *		of statement as it is and with the hypothetical indexes (CREATE
 *		INDEX texts) added and the real indexes of hide removed. The
 *		statement is analyzed and planned as the caller, who must be
 *		allowed to run it; it may be normalized ($n). Nothing is executed.
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

	if (!whatif_analyze(statement, GetUserId(), NULL, CurrentMemoryContext, &queries, &error) ||
		!whatif_cost(queries, GetUserId(), NULL, &none, &before, &error) ||
		!whatif_cost(queries, GetUserId(), NULL, &config, &after, &error))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot plan the statement: %s", error),
				 errdetail("The statement is analyzed and planned as you, with your search_path.")));

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
