/*-------------------------------------------------------------------------
 *
 * rules_select.c
 *	  Rules on the shape of a SELECT: select-star, order-by-random,
 *	  limit-without-order-by, offset-pagination, having-without-aggregate,
 *	  correlated-subquery-in-select-list.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "lint/lint.h"
#include "lint/rules.h"
#include "nodes/nodeFuncs.h"

#define LARGE_OFFSET 1000

void
rule_select_star(LintRun *run, Node *node)
{
	SelectStmt *sel;
	ListCell   *lc;

	if (!IsA(node, SelectStmt) || lint_in_exists(run))
		return;
	sel = (SelectStmt *) node;
	foreach(lc, sel->targetList)
	{
		ResTarget  *rt = lfirst_node(ResTarget, lc);
		ColumnRef  *cref;
		const char *q;

		if (rt->val == NULL || !IsA(rt->val, ColumnRef))
			continue;
		cref = (ColumnRef *) rt->val;
		if (!IsA(llast(cref->fields), A_Star))
			continue;
		q = lint_column_qualifier(cref);
		if (q)
			lint_report(run, LINT_WARNING, cref->location,
						psprintf("{\"qualifier\": %s}", lint_json_string(q)),
						"%s.* returns every column of %s, including columns added later", q, q);
		else
			lint_report(run, LINT_WARNING, cref->location, NULL,
						"SELECT * returns every column, including columns added later");
	}
}

void
rule_order_by_random(LintRun *run, Node *node)
{
	SortBy	   *sb;
	FuncCall   *fc;

	if (!IsA(node, SortBy))
		return;
	sb = (SortBy *) node;
	if (sb->node == NULL || !IsA(sb->node, FuncCall))
		return;
	fc = (FuncCall *) sb->node;
	if (lint_funcname_is(fc->funcname, "random") && fc->args == NIL)
		lint_report(run, LINT_WARNING, fc->location, NULL,
					"ORDER BY random() reads and sorts every row to return a few");
}

void
rule_limit_without_order_by(LintRun *run, Node *node)
{
	SelectStmt *sel;
	A_Const    *lim;

	if (!IsA(node, SelectStmt))
		return;
	sel = (SelectStmt *) node;
	/* SELECT 1 LIMIT 1 limits nothing; a UNION's rows come from its arms */
	if (sel->limitCount == NULL || sel->sortClause != NIL ||
		(sel->fromClause == NIL && sel->op == SETOP_NONE) || lint_in_exists(run))
		return;
	/* LIMIT ALL / LIMIT NULL limit nothing */
	lim = IsA(sel->limitCount, A_Const) ? (A_Const *) sel->limitCount : NULL;
	if (lim && lim->isnull)
		return;
	lint_report(run, LINT_INFO, exprLocation(sel->limitCount), NULL,
				"LIMIT without ORDER BY returns an arbitrary subset of rows, which may change from run to run");
}

void
rule_offset_pagination(LintRun *run, Node *node)
{
	SelectStmt *sel;
	long		offset;

	if (!IsA(node, SelectStmt))
		return;
	sel = (SelectStmt *) node;
	if (sel->limitOffset == NULL)
		return;
	if (lint_const_int(sel->limitOffset, &offset))
	{
		if (offset >= LARGE_OFFSET)
			lint_report(run, LINT_WARNING, exprLocation(sel->limitOffset),
						psprintf("{\"offset\": %ld, \"decided\": true}", offset),
						"OFFSET %ld reads and throws away %ld rows before returning any", offset, offset);
	}
	else if (IsA(sel->limitOffset, ParamRef))
		lint_report(run, LINT_INFO, exprLocation(sel->limitOffset),
					"{\"decided\": false, \"needs\": \"parameter values or runtime evidence\"}",
					"OFFSET is a parameter: a large offset reads and throws away that many rows (undecided)");
}

/* --- having-without-aggregate -------------------------------------------- */

typedef struct AggSearch
{
	bool		found;			/* an aggregate call */
	bool		unknown;		/* a call only the catalogs could classify */
	int			depth;
} AggSearch;

static bool
find_aggregate(Node *node, AggSearch *s)
{
	bool		result;

	if (node == NULL || s->depth >= LINT_MAX_DEPTH)
		return false;			/* deeper than the engine walks: not seen */
	if (IsA(node, SubLink))
		return false;			/* a subquery's aggregates are its own */
	if (IsA(node, GroupingFunc))
		s->found = true;		/* GROUPING() is only allowed with grouping */
	if (IsA(node, FuncCall))
	{
		bool		known;

		if (lint_is_aggregate_call((FuncCall *) node, &known))
			s->found = true;
		else if (!known)
			s->unknown = true;
	}
	s->depth++;
	result = raw_expression_tree_walker(node, find_aggregate, (void *) s);
	s->depth--;
	return result;
}

void
rule_having_without_aggregate(LintRun *run, Node *node)
{
	SelectStmt *sel;
	AggSearch	s = {false, false, 0};

	if (!IsA(node, SelectStmt))
		return;
	sel = (SelectStmt *) node;
	if (sel->havingClause == NULL)
		return;
	find_aggregate(sel->havingClause, &s);
	if (!s.found && !s.unknown)
		lint_report(run, LINT_WARNING, exprLocation(sel->havingClause), NULL,
					"HAVING has no aggregate: the condition filters groups after grouping, where WHERE would filter rows before it");
}

/* --- correlated-subquery-in-select-list ------------------------------------ */

typedef struct NameSearch
{
	List	   *names;			/* relation names and aliases seen */
	List	   *qualifiers;		/* qualifiers of column references seen */
	int			unqualified;
	int			tables;			/* RangeVars seen (not functions) */
	int			depth;
} NameSearch;

static bool
collect_names(Node *node, NameSearch *s)
{
	bool		result;

	if (node == NULL || s->depth >= LINT_MAX_DEPTH)
		return false;
	if (IsA(node, RangeVar))
	{
		RangeVar   *rv = (RangeVar *) node;

		s->names = lappend(s->names, rv->alias ? rv->alias->aliasname : rv->relname);
		s->tables++;
	}
	else if (IsA(node, RangeSubselect) && ((RangeSubselect *) node)->alias)
		s->names = lappend(s->names, ((RangeSubselect *) node)->alias->aliasname);
	else if (IsA(node, RangeFunction) && ((RangeFunction *) node)->alias)
		s->names = lappend(s->names, ((RangeFunction *) node)->alias->aliasname);
	else if (IsA(node, CommonTableExpr))
		s->names = lappend(s->names, ((CommonTableExpr *) node)->ctename);
	else if (IsA(node, ColumnRef))
	{
		const char *q = lint_column_qualifier((ColumnRef *) node);

		if (q)
			s->qualifiers = lappend(s->qualifiers, (void *) q);
		else if (!IsA(llast(((ColumnRef *) node)->fields), A_Star))
			s->unqualified++;
	}
	s->depth++;
	result = raw_expression_tree_walker(node, collect_names, (void *) s);
	s->depth--;
	return result;
}

static bool
name_in(List *names, const char *name)
{
	ListCell   *lc;

	foreach(lc, names)
		if (strcmp((const char *) lfirst(lc), name) == 0)
			return true;
	return false;
}

typedef struct SubLinkSearch
{
	List	   *sublinks;
	int			depth;
} SubLinkSearch;

/* The scalar and ARRAY subqueries of an expression (not inside them). */
static bool
find_sublinks(Node *node, SubLinkSearch *s)
{
	bool		result;

	if (node == NULL || s->depth >= LINT_MAX_DEPTH)
		return false;
	if (IsA(node, SubLink))
	{
		SubLink    *sl = (SubLink *) node;

		if (sl->subLinkType == EXPR_SUBLINK || sl->subLinkType == ARRAY_SUBLINK)
			s->sublinks = lappend(s->sublinks, sl);
		return false;
	}
	s->depth++;
	result = raw_expression_tree_walker(node, find_sublinks, (void *) s);
	s->depth--;
	return result;
}

void
rule_correlated_subquery_in_select_list(LintRun *run, Node *node)
{
	SelectStmt *sel;
	NameSearch	outer = {NIL, NIL, 0, 0, 0};
	SubLinkSearch found = {NIL, 0};
	ListCell   *lc;

	if (!IsA(node, SelectStmt))
		return;
	sel = (SelectStmt *) node;
	if (sel->fromClause == NIL)
		return;
	(void) collect_names((Node *) sel->fromClause, &outer);
	foreach(lc, sel->targetList)
		(void) find_sublinks(lfirst_node(ResTarget, lc)->val, &found);

	foreach(lc, found.sublinks)
	{
		SubLink    *sl = lfirst(lc);
		NameSearch	inner = {NIL, NIL, 0, 0, 0};
		ListCell   *q;

		(void) collect_names(sl->subselect, &inner);
		/* over the row's own array or JSON (no table): nothing to join */
		if (inner.tables == 0)
			continue;
		foreach(q, inner.qualifiers)
		{
			const char *name = lfirst(q);

			if (!name_in(inner.names, name) && name_in(outer.names, name))
			{
				lint_report(run, LINT_WARNING, sl->location,
							psprintf("{\"correlated_with\": %s}", lint_json_string(name)),
							"the subquery in the select list refers to %s and runs once per row of the result", name);
				break;
			}
		}
	}
}
