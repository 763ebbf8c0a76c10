/*-------------------------------------------------------------------------
 *
 * parse_api.c
 *	  SQL functions of the parse stage: pipeopt.parse_statement(),
 *	  pipeopt.fingerprint(), pipeopt.normalize().
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "parse/parse.h"
#include "utils/builtins.h"

PG_FUNCTION_INFO_V1(pipeopt_parse_statement_sql);
PG_FUNCTION_INFO_V1(pipeopt_fingerprint_sql);
PG_FUNCTION_INFO_V1(pipeopt_normalize_sql);

/*
 * parse_statement(text) -> (fingerprint, kind, query, parse_error,
 *							 parse_error_position)
 */
Datum
pipeopt_parse_statement_sql(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	PipeoptStatement st;
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	pipeopt_parse_statement(sql, &st);
	values[0] = CStringGetTextDatum(st.fingerprint);
	values[1] = CStringGetTextDatum(st.kind);
	values[2] = CStringGetTextDatum(st.query);
	if (st.error)
	{
		values[3] = CStringGetTextDatum(st.error);
		values[4] = Int32GetDatum(st.error_position);
	}
	else
		nulls[3] = nulls[4] = true;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

Datum
pipeopt_fingerprint_sql(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	PipeoptStatement st;

	pipeopt_parse_statement(sql, &st);
	PG_RETURN_TEXT_P(cstring_to_text(st.fingerprint));
}

Datum
pipeopt_normalize_sql(PG_FUNCTION_ARGS)
{
	char	   *sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *error = NULL;
	int			pos = 0;
	char	   *result = pipeopt_normalize(sql, &error, &pos);

	if (result == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("cannot normalize statement: %s", error),
				 errdetail("The text does not parse as PostgreSQL 15 SQL (error at character %d).", pos)));
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
