/*-------------------------------------------------------------------------
 *
 * util.c
 *	  What the rules share: reporting, ancestors, constants, names.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "lib/stringinfo.h"
#include "lint/lint.h"

void
lint_report(LintRun *run, LintSeverity severity, int location,
			const char *evidence, const char *fmt,...)
{
	va_list		args;

	va_start(args, fmt);
	lint_reportv(run, severity, location, evidence, fmt, args);
	va_end(args);
}

/* lint_report() with the message's arguments as a va_list. */
void
lint_reportv(LintRun *run, LintSeverity severity, int location,
			 const char *evidence, const char *fmt, va_list args)
{
	LintFinding f;
	StringInfoData msg;

	initStringInfo(&msg);
	for (;;)
	{
		va_list		copy;
		int			needed;

		va_copy(copy, args);
		needed = appendStringInfoVA(&msg, fmt, copy);
		va_end(copy);
		if (needed == 0)
			break;
		enlargeStringInfo(&msg, needed);
	}

	f.rule = run->current;
	f.severity = severity;
	f.statement = run->statement;
	/* a node without a location: point at its statement */
	f.location = location >= 0 ? run->offset + location : run->stmt_location;
	f.message = msg.data;
	f.evidence = evidence ? evidence : "{}";

	/* kept until the statement is done, then passed on in text order */
	if (run->npending == run->maxpending)
	{
		run->maxpending = run->maxpending ? run->maxpending * 2 : 16;
		run->pending = run->pending ?
			repalloc(run->pending, sizeof(LintFinding) * run->maxpending) :
			palloc(sizeof(LintFinding) * run->maxpending);
	}
	run->pending[run->npending++] = f;
}

static int
by_location(const void *a, const void *b)
{
	const LintFinding *x = a;
	const LintFinding *y = b;

	if (x->location != y->location)
		return x->location < y->location ? -1 : 1;
	return strcmp(x->rule->id, y->rule->id);
}

/* Pass a statement's findings on, in the order of their places. */
void
lint_flush(LintRun *run)
{
	if (run->npending > 1)
		qsort(run->pending, run->npending, sizeof(LintFinding), by_location);
	for (int i = 0; i < run->npending; i++)
		run->emit(&run->pending[i], run->arg);
	run->npending = 0;
}

/* Take back a pending finding of rule at location (relative to run->offset). */
void
lint_retract(LintRun *run, int rule, int location)
{
	int			kept = 0;

	for (int i = 0; i < run->npending; i++)
		if (run->pending[i].rule != &pipeopt_lint_rules[rule] ||
			run->pending[i].location != run->offset + location)
			run->pending[kept++] = run->pending[i];
	run->npending = kept;
}

/* The up-th ancestor that is not a List (1 = parent), or NULL. */
Node *
lint_parent(LintRun *run, int up)
{
	for (int i = run->depth - 1; i >= 0; i--)
	{
		if (IsA(run->ancestors[i], List))
			continue;
		if (--up == 0)
			return run->ancestors[i];
	}
	return NULL;
}

/* Is the node being visited the statement itself (its top node)? */
bool
lint_is_root(LintRun *run)
{
	return run->depth == 0;
}

/*
 * Is the node being visited the query of an EXISTS (...), or an arm of a
 * set operation that is?
 */
bool
lint_in_exists(LintRun *run)
{
	for (int up = 1;; up++)
	{
		Node	   *p = lint_parent(run, up);

		if (p == NULL)
			return false;
		if (IsA(p, SubLink))
			return ((SubLink *) p)->subLinkType == EXISTS_SUBLINK;
		if (!IsA(p, SelectStmt) || ((SelectStmt *) p)->op == SETOP_NONE)
			return false;
	}
}

bool
lint_funcname_is(List *funcname, const char *name)
{
	Node	   *last;

	if (funcname == NIL)
		return false;
	last = llast(funcname);
	if (!IsA(last, String))
		return false;
	if (list_length(funcname) == 2 &&
		strcmp(strVal(linitial(funcname)), "pg_catalog") != 0)
		return false;
	return strcmp(strVal(last), name) == 0;
}

/* Built-in aggregates, by name: enough to tell without the catalogs. */
static const char *const aggregates[] = {
	"array_agg", "avg", "bit_and", "bit_or", "bit_xor", "bool_and", "bool_or",
	"corr", "count", "covar_pop", "covar_samp", "cume_dist", "dense_rank",
	"every", "json_agg", "json_object_agg", "jsonb_agg", "jsonb_object_agg",
	"max", "min", "mode", "percent_rank", "percentile_cont", "percentile_disc",
	"range_agg", "range_intersect_agg", "rank", "regr_avgx", "regr_avgy",
	"regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx",
	"regr_sxy", "regr_syy", "stddev", "stddev_pop", "stddev_samp",
	"string_agg", "sum", "var_pop", "var_samp", "variance", "xmlagg", NULL
};

/*
 * Is fc an aggregate call? *known is false when the name is neither a
 * built-in aggregate nor marked as one by its syntax: only the catalogs
 * could tell.
 */
bool
lint_is_aggregate_call(FuncCall *fc, bool *known)
{
	*known = true;
	if (fc->agg_star || fc->agg_distinct || fc->agg_order != NIL ||
		fc->agg_filter != NULL || fc->agg_within_group)
		return true;
	for (int i = 0; aggregates[i]; i++)
		if (lint_funcname_is(fc->funcname, aggregates[i]))
			return true;
	*known = false;
	return false;
}

/* An integer constant (also one too large for int4, which parses as Float). */
bool
lint_const_int(Node *node, long *value)
{
	A_Const    *c;

	if (node == NULL || !IsA(node, A_Const))
		return false;
	c = (A_Const *) node;
	if (c->isnull)
		return false;
	if (IsA(&c->val, Integer))
		*value = intVal(&c->val);
	else if (IsA(&c->val, Float) && strspn(strVal(&c->val), "0123456789") == strlen(strVal(&c->val)))
		*value = strtol(strVal(&c->val), NULL, 10);
	else
		return false;
	return true;
}

/* A parameter, possibly cast: $1, $1::bigint. */
bool
lint_is_param(Node *node)
{
	while (node && IsA(node, TypeCast))
		node = ((TypeCast *) node)->arg;
	return node != NULL && IsA(node, ParamRef);
}

/* A number fit for JSON: non-finite values (from odd evidence) become 0. */
double
lint_finite(double v)
{
	return isfinite(v) ? v : 0;
}

const char *
lint_const_string(Node *node)
{
	A_Const    *c;

	if (node == NULL || !IsA(node, A_Const))
		return NULL;
	c = (A_Const *) node;
	if (c->isnull || !IsA(&c->val, String))
		return NULL;
	return strVal(&c->val);
}

/* The relation name or alias that qualifies a column reference, or NULL. */
const char *
lint_column_qualifier(ColumnRef *cref)
{
	int			n = list_length(cref->fields);
	Node	   *q;

	if (n < 2)
		return NULL;
	q = list_nth(cref->fields, n - 2);
	return IsA(q, String) ? strVal(q) : NULL;
}

/* s as a JSON string literal, quotes included. */
char *
lint_json_string(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '"');
	for (const char *p = s; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '"' || c == '\\')
			appendStringInfo(&buf, "\\%c", c);
		else if (c == '\n')
			appendStringInfoString(&buf, "\\n");
		else if (c < 0x20)
			appendStringInfo(&buf, "\\u%04x", c);
		else
			appendStringInfoChar(&buf, c);
	}
	appendStringInfoChar(&buf, '"');
	return buf.data;
}
