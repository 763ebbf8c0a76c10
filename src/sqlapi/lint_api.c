/*-------------------------------------------------------------------------
 *
 * lint_api.c
 *	  SQL functions of the analyze stage: pipeopt.lint(), pipeopt.rules().
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lint/catalog.h"
#include "lint/lint.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(pipeopt_lint);
PG_FUNCTION_INFO_V1(pipeopt_rules);

#define LINT_COLS 10

typedef struct LintOut
{
	ReturnSetInfo *rsinfo;
	const char *text;
	LintCursor	cursor;
} LintOut;

/* Rules enabled under pipeopt.disabled_rules (unknown names are refused by its check hook). */
static bool *
enabled_rules(void)
{
	bool	   *enabled = palloc(sizeof(bool) * pipeopt_lint_nrules);
	char	   *list = pstrdup(pipeopt_disabled_rules ? pipeopt_disabled_rules : "");
	List	   *names;
	ListCell   *lc;

	for (int i = 0; i < pipeopt_lint_nrules; i++)
		enabled[i] = true;
	if (SplitIdentifierString(list, ',', &names))
		foreach(lc, names)
		{
			int			i = pipeopt_lint_rule_index(lfirst(lc));

			if (i >= 0)
				enabled[i] = false;
		}
	return enabled;
}

static void
put_row(LintOut *out, int statement, const char *rule, const char *severity,
		int location, const char *message, const char *why, const char *fix,
		const char *evidence)
{
	Datum		values[LINT_COLS];
	bool		nulls[LINT_COLS] = {0};
	int			line,
				col;

	values[0] = Int32GetDatum(statement);
	values[1] = CStringGetTextDatum(rule);
	values[2] = CStringGetTextDatum(severity);
	if (location >= 0)
	{
		pipeopt_lint_line_col(&out->cursor, out->text, location, &line, &col);
		values[3] = Int32GetDatum(location + 1);
		values[4] = Int32GetDatum(line);
		values[5] = Int32GetDatum(col);
	}
	else
		nulls[3] = nulls[4] = nulls[5] = true;
	values[6] = CStringGetTextDatum(message);
	if (why)
		values[7] = CStringGetTextDatum(why);
	else
		nulls[7] = true;
	if (fix)
		values[8] = CStringGetTextDatum(fix);
	else
		nulls[8] = true;
	values[9] = DirectFunctionCall1(jsonb_in, CStringGetDatum(evidence));
	tuplestore_putvalues(out->rsinfo->setResult, out->rsinfo->setDesc, values, nulls);
}

static void
emit_row(const LintFinding *f, void *arg)
{
	put_row((LintOut *) arg, f->statement, f->rule->id,
			pipeopt_lint_severity_name(f->severity), f->location,
			f->message, f->rule->why, f->rule->fix, f->evidence);
}

/* A number of the evidence object, or 0. */
static double
evidence_number(Jsonb *jb, const char *key)
{
	JsonbValue	k;
	JsonbValue *v;
	double		d;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	v = findJsonbValueFromContainer(&jb->root, JB_FOBJECT, &k);
	if (v == NULL || v->type != jbvNumeric)
		return 0;
	d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
	return d > 0 ? d : 0;		/* counters and times are never negative */
}

static LintEvidence *
evidence_from_jsonb(Jsonb *jb)
{
	LintEvidence *e = palloc0(sizeof(LintEvidence));

	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("runtime evidence must be a JSON object"),
				 errdetail("Keys: calls, rows, window_hours, total_exec_time, total_plan_time, plans, shared_blks_hit, shared_blks_read, temp_blks_written, jit_functions, jit_time, queryids.")));
	e->calls = evidence_number(jb, "calls");
	e->rows = evidence_number(jb, "rows");
	e->window_hours = evidence_number(jb, "window_hours");
	e->total_exec_time = evidence_number(jb, "total_exec_time");
	e->total_plan_time = evidence_number(jb, "total_plan_time");
	e->plans = evidence_number(jb, "plans");
	e->shared_blks_hit = evidence_number(jb, "shared_blks_hit");
	e->shared_blks_read = evidence_number(jb, "shared_blks_read");
	e->temp_blks_written = evidence_number(jb, "temp_blks_written");
	e->jit_functions = evidence_number(jb, "jit_functions");
	e->jit_time = evidence_number(jb, "jit_time");
	e->queryids = evidence_number(jb, "queryids");
	return e;
}

/*
 * lint(sql, evidence) -> (statement, rule, severity, location, line, col, message,
 *				 why, fix, evidence): findings for any SQL text; a statement
 *				 that does not parse gives a row of rule "parse-error". The
 *				 optional evidence (jsonb) feeds the runtime rules; as_role
 *				 is whom the catalog rules analyze as (default: the caller;
 *				 '-', i.e. 0: no catalog rules).
 */
Datum
pipeopt_lint(PG_FUNCTION_ARGS)
{
	char	   *sql;
	LintEvidence *evidence = NULL;
	LintCatalog catalog;
	LintCatalog *catalog_p = &catalog;
	LintOut		out;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;		/* no text, no findings */
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!PG_ARGISNULL(1))
		evidence = evidence_from_jsonb(PG_GETARG_JSONB_P(1));

	/*
	 * The catalog rules analyze as the caller, or as as_role (the role that
	 * ran a captured statement) with that role's login search_path: only
	 * for a caller who has that role's privileges already.
	 */
	if (PG_NARGS() > 2 && !PG_ARGISNULL(2) && PG_GETARG_OID(2) == InvalidOid)
		catalog_p = NULL;		/* '-' (0): nobody to analyze as */
	else if (PG_NARGS() > 2 && !PG_ARGISNULL(2))
	{
		Oid			role = PG_GETARG_OID(2);

		if (!has_privs_of_role(GetUserId(), role))
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to lint as role %s", GetUserNameFromId(role, false)),
					 errdetail("The catalog rules analyze statements with the privileges of as_role."),
					 errhint("Only members of a role may lint as that role; leave as_role NULL to lint as yourself.")));
		pipeopt_lint_catalog_init(&catalog, role, true);
	}
	else
		pipeopt_lint_catalog_init(&catalog, GetUserId(), false);

	out.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	out.text = sql;
	memset(&out.cursor, 0, sizeof(out.cursor));
	pipeopt_lint_text(sql, enabled_rules(), evidence, catalog_p, emit_row, &out);
	return (Datum) 0;
}

/* rules() -> every rule with its documentation, and whether it is enabled. */
Datum
pipeopt_rules(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool	   *enabled = enabled_rules();

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < pipeopt_lint_nrules; i++)
	{
		const LintRule *r = &pipeopt_lint_rules[i];
		Datum		values[8];
		bool		nulls[8] = {0};

		values[0] = CStringGetTextDatum(r->id);
		values[1] = CStringGetTextDatum(r->category);
		values[2] = CStringGetTextDatum(pipeopt_lint_severity_name(r->severity));
		values[3] = CStringGetTextDatum(r->needs);
		values[4] = CStringGetTextDatum(r->summary);
		values[5] = CStringGetTextDatum(r->why);
		values[6] = CStringGetTextDatum(r->fix);
		values[7] = BoolGetDatum(enabled[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
