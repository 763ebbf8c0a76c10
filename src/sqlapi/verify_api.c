/*-------------------------------------------------------------------------
 *
 * verify_api.c
 *	  SQL functions of the verify stage: pipeopt._ratio_test() and
 *	  pipeopt._statement_relations() (src/sql/0.1/86_monitor.sql).
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "verify/verify.h"

PG_FUNCTION_INFO_V1(pipeopt_ratio_test_sql);
PG_FUNCTION_INFO_V1(pipeopt_statement_relations_sql);

/* The elements of a float8[] argument, which must have no NULL. */
static double *
float8_elements(ArrayType *a, const char *name, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	double	   *out;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", name)));
	deconstruct_array(a, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE,
					  &elems, &nulls, n);
	out = palloc(sizeof(double) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain NULL", name)));
		out[i] = DatumGetFloat8(elems[i]);
		if (isnan(out[i]) || isinf(out[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must hold finite numbers", name)));
	}
	return out;
}

static Datum
float8_or_null(double v, bool *isnull)
{
	*isnull = isnan(v);
	return Float8GetDatum(*isnull ? 0 : v);
}

/*
 * _ratio_test(num_before float8[], den_before float8[], num_after float8[],
 *			   den_after float8[], threshold float8)
 *	 -> (intervals_before, intervals_after, ratio_before, ratio_after,
 *		 change_pct, p_value, p_regression, df)
 */
Datum
pipeopt_ratio_test_sql(PG_FUNCTION_ARGS)
{
	int			nb,
				nb2,
				na,
				na2;
	double	   *num_b = float8_elements(PG_GETARG_ARRAYTYPE_P(0), "num_before", &nb);
	double	   *den_b = float8_elements(PG_GETARG_ARRAYTYPE_P(1), "den_before", &nb2);
	double	   *num_a = float8_elements(PG_GETARG_ARRAYTYPE_P(2), "num_after", &na);
	double	   *den_a = float8_elements(PG_GETARG_ARRAYTYPE_P(3), "den_after", &na2);
	double		threshold = PG_GETARG_FLOAT8(4);
	RatioTest	r;
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8];

	if (nb != nb2 || na != na2)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("numerators and denominators must have the same length"),
				 errdetail("Before: %d and %d; after: %d and %d.", nb, nb2, na, na2)));
	if (isnan(threshold) || threshold < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("threshold must be zero or more"),
				 errdetail("It is a fraction: 0.1 stands for ten percent slower.")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	pipeopt_ratio_test(num_b, den_b, nb, num_a, den_a, na, threshold, &r);
	values[0] = Int32GetDatum(r.n_before);
	nulls[0] = false;
	values[1] = Int32GetDatum(r.n_after);
	nulls[1] = false;
	values[2] = float8_or_null(r.ratio_before, &nulls[2]);
	values[3] = float8_or_null(r.ratio_after, &nulls[3]);
	values[4] = float8_or_null(r.change_pct, &nulls[4]);
	values[5] = float8_or_null(r.p_value, &nulls[5]);
	values[6] = float8_or_null(r.p_regression, &nulls[6]);
	values[7] = float8_or_null(r.df, &nulls[7]);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* _statement_relations(query text) -> SETOF (schemaname text, relname text) */
Datum
pipeopt_statement_relations_sql(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *query = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	foreach(lc, pipeopt_statement_relations(query))
	{
		char	  **pair = lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {pair[0] == NULL, false};

		values[0] = pair[0] ? CStringGetTextDatum(pair[0]) : (Datum) 0;
		values[1] = CStringGetTextDatum(pair[1]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
