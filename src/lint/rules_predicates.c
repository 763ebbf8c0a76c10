/*-------------------------------------------------------------------------
 *
 * rules_predicates.c
 *	  Rules on predicates: not-in-subquery, leading-wildcard-like,
 *	  large-in-list, count-for-existence.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lint/lint.h"
#include "lint/rules.h"
#include "nodes/nodeFuncs.h"

#define LARGE_IN_LIST 50
#define QUERYID_SPREAD 10		/* pg_stat_statements entries of one statement */

/* A list of constants and $n only. */
static bool
values_only(List *items)
{
	ListCell   *lc;

	foreach(lc, items)
	{
		Node	   *v = lfirst(lc);

		while (v && IsA(v, TypeCast))
			v = ((TypeCast *) v)->arg;
		if (v == NULL || !(IsA(v, A_Const) || IsA(v, ParamRef)))
			return false;
	}
	return true;
}

static bool
opname_is(List *name, const char *op)
{
	return name != NIL && IsA(llast(name), String) &&
		strcmp(strVal(llast(name)), op) == 0;
}

void
rule_not_in_subquery(LintRun *run, Node *node)
{
	if (IsA(node, BoolExpr))
	{
		BoolExpr   *b = (BoolExpr *) node;
		SubLink    *sl;

		if (b->boolop != NOT_EXPR || list_length(b->args) != 1 ||
			!IsA(linitial(b->args), SubLink))
			return;
		sl = (SubLink *) linitial(b->args);
		/* x NOT IN (SELECT ...): ANY_SUBLINK with no operator name */
		if (sl->subLinkType == ANY_SUBLINK &&
			(sl->operName == NIL || opname_is(sl->operName, "=")))
			lint_report(run, LINT_WARNING, b->location, NULL,
						"NOT IN (subquery) is empty as soon as the subquery returns a NULL, and cannot be planned as an anti-join");
	}
	else if (IsA(node, SubLink))
	{
		SubLink    *sl = (SubLink *) node;

		if (sl->subLinkType == ALL_SUBLINK &&
			(opname_is(sl->operName, "<>") || opname_is(sl->operName, "!=")))
			lint_report(run, LINT_WARNING, sl->location, NULL,
						"<> ALL (subquery) is NOT IN: empty as soon as the subquery returns a NULL, and never an anti-join");
	}
}

/* The pattern of a LIKE, whether a literal or the '%' || x shape. */
static void
check_like_pattern(LintRun *run, Node *pattern, int location)
{
	const char *lit = lint_const_string(pattern);
	Node	   *first = pattern;

	/* '%' || $1 || '%' is (('%' || $1) || '%'): its start is leftmost */
	while (first && IsA(first, A_Expr) && ((A_Expr *) first)->kind == AEXPR_OP &&
		   opname_is(((A_Expr *) first)->name, "||") && ((A_Expr *) first)->lexpr)
		first = ((A_Expr *) first)->lexpr;
	if (lit == NULL && first != pattern)
		lit = lint_const_string(first);

	if (lit != NULL)
	{
		if (lit[0] == '%' || lit[0] == '_')
			lint_report(run, LINT_WARNING, location,
						psprintf("{\"pattern\": %s, \"decided\": true}", lint_json_string(lit)),
						"a LIKE pattern that starts with a wildcard cannot use a B-tree index");
	}
	else if (lint_is_param(pattern) || (first != pattern && lint_is_param(first)))
		lint_report(run, LINT_INFO, location,
					"{\"decided\": false, \"needs\": \"parameter values\"}",
					"the LIKE pattern is a parameter: if it starts with a wildcard, no B-tree index can serve it (undecided)");
}

void
rule_leading_wildcard_like(LintRun *run, Node *node)
{
	A_Expr	   *e;

	if (!IsA(node, A_Expr))
		return;
	e = (A_Expr *) node;
	if (e->rexpr == NULL)
		return;
	if (e->kind == AEXPR_LIKE || e->kind == AEXPR_ILIKE ||
		(e->kind == AEXPR_OP &&
		 (opname_is(e->name, "~~") || opname_is(e->name, "~~*"))))
	{
		/* x LIKE p ESCAPE e arrives as like_escape(p, e) */
		Node	   *pattern = e->rexpr;

		if (IsA(pattern, FuncCall) &&
			lint_funcname_is(((FuncCall *) pattern)->funcname, "like_escape") &&
			((FuncCall *) pattern)->args != NIL)
			pattern = linitial(((FuncCall *) pattern)->args);
		check_like_pattern(run, pattern, e->location);
	}
	else if (e->kind == AEXPR_OP_ANY &&
			 (opname_is(e->name, "~~") || opname_is(e->name, "~~*")))
	{
		/* x LIKE ANY (ARRAY['%a', 'b%']): the first pattern that leads with a wildcard */
		Node	   *arr = e->rexpr;
		ListCell   *lc;

		while (arr && IsA(arr, TypeCast))
			arr = ((TypeCast *) arr)->arg;
		if (arr && IsA(arr, A_ArrayExpr))
		{
			foreach(lc, ((A_ArrayExpr *) arr)->elements)
			{
				const char *lit = lint_const_string(lfirst(lc));

				if (lit && (lit[0] == '%' || lit[0] == '_'))
				{
					check_like_pattern(run, lfirst(lc), e->location);
					return;
				}
			}
			foreach(lc, ((A_ArrayExpr *) arr)->elements)
				if (lint_is_param(lfirst(lc)))
				{
					check_like_pattern(run, lfirst(lc), e->location);
					return;
				}
		}
		else if (lint_is_param(e->rexpr))
			check_like_pattern(run, e->rexpr, e->location);
	}
}

void
rule_large_in_list(LintRun *run, Node *node)
{
	A_Expr	   *e;
	int			n;

	if (!IsA(node, A_Expr))
		return;
	e = (A_Expr *) node;
	if (e->kind != AEXPR_IN || e->rexpr == NULL || !IsA(e->rexpr, List))
		return;
	n = list_length((List *) e->rexpr);
	if (n >= LARGE_IN_LIST)
		lint_report(run, LINT_WARNING, e->location,
					psprintf("{\"values\": %d}", n),
					"IN list of %d values: every list length is a separate statement to plan and to track", n);
	else if (run->evidence && run->evidence->queryids >= QUERYID_SPREAD && n >= 2 &&
			 values_only((List *) e->rexpr))
		lint_report(run, LINT_WARNING, e->location,
					psprintf("{\"values\": %d, \"queryids\": %.0f}", n,
							 lint_finite(run->evidence->queryids)),
					"the length of this IN list varies, and pg_stat_statements tracks each length as its own entry: %.0f entries for this one statement",
					run->evidence->queryids);
}

/* (SELECT count(*) ...) */
static bool
is_count_subquery(Node *node)
{
	SubLink    *sl;
	SelectStmt *sel;
	ResTarget  *rt;
	FuncCall   *fc;

	if (node == NULL || !IsA(node, SubLink))
		return false;
	sl = (SubLink *) node;
	if (sl->subLinkType != EXPR_SUBLINK || !IsA(sl->subselect, SelectStmt))
		return false;
	sel = (SelectStmt *) sl->subselect;
	if (list_length(sel->targetList) != 1 || sel->groupClause != NIL)
		return false;
	rt = linitial_node(ResTarget, sel->targetList);
	if (rt->val == NULL || !IsA(rt->val, FuncCall))
		return false;
	fc = (FuncCall *) rt->val;
	return lint_funcname_is(fc->funcname, "count") && fc->over == NULL;
}

/*
 * Is "count <op> v" an existence test? > 0, >= 1, <> 0, = 0, < 1, <= 0.
 * (count > 1 or = 1 asks something else.)
 */
static bool
existence_test(const char *op, long v)
{
	return (v == 0 && (strcmp(op, ">") == 0 || strcmp(op, "<>") == 0 ||
					   strcmp(op, "!=") == 0 || strcmp(op, "=") == 0 ||
					   strcmp(op, "<=") == 0)) ||
		(v == 1 && (strcmp(op, ">=") == 0 || strcmp(op, "<") == 0));
}

/* The operator seen from the count's side: 0 < count is count > 0. */
static const char *
mirrored(const char *op)
{
	if (strcmp(op, "<") == 0)
		return ">";
	if (strcmp(op, ">") == 0)
		return "<";
	if (strcmp(op, "<=") == 0)
		return ">=";
	if (strcmp(op, ">=") == 0)
		return "<=";
	return op;
}

void
rule_count_for_existence(LintRun *run, Node *node)
{
	A_Expr	   *e;
	Node	   *other;
	const char *op;
	long		v;

	if (!IsA(node, A_Expr))
		return;
	e = (A_Expr *) node;
	/* a prefix operator has no left operand */
	if (e->kind != AEXPR_OP || e->lexpr == NULL || e->rexpr == NULL ||
		list_length(e->name) != 1)
		return;
	op = strVal(linitial(e->name));
	if (is_count_subquery(e->lexpr))
		other = e->rexpr;
	else if (is_count_subquery(e->rexpr))
	{
		other = e->lexpr;
		op = mirrored(op);
	}
	else
		return;

	if (lint_const_int(other, &v))
	{
		if (existence_test(op, v))
			lint_report(run, LINT_WARNING, e->location,
						psprintf("{\"compared_with\": %ld, \"decided\": true}", v),
						"count(*) %s %ld counts every matching row to learn whether one exists", op, v);
	}
	else if (lint_is_param(other) &&
			 (existence_test(op, 0) || existence_test(op, 1)))
		lint_report(run, LINT_INFO, e->location,
					"{\"decided\": false, \"needs\": \"parameter values\"}",
					"count(*) compared with a parameter: if it is 0 or 1, this counts every matching row to learn whether one exists (undecided)");
}
