/*-------------------------------------------------------------------------
 *
 * rules_catalog_quals.c
 *	  Catalog rules on the conditions of a query level:
 *
 *	  function-on-indexed-column       f(col) op x, where an index leads
 *	                                   with col and none is on f(col);
 *	  implicit-cast-on-indexed-column  the same when f is a cast the parser
 *	                                   added to match the other side's type;
 *	  or-across-columns                an OR over columns of two tables, or
 *	                                   over columns one of which no index
 *	                                   leads with (no BitmapOr possible);
 *	  leading-wildcard-like            its tree finding is taken back when
 *	                                   a trigram index covers the column.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "lint/catalog.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

static int	r_function = -1;
static int	r_cast = -1;
static int	r_or = -1;
static int	r_like = -1;

/* The columns of this level in node; false if it holds a subquery or an aggregate. */
typedef struct ColumnsFound
{
	List	   *vars;			/* distinct (varno, varattno) */
	bool		opaque;
} ColumnsFound;

static bool
find_columns(Node *node, ColumnsFound *f)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;
		ListCell   *lc;

		if (v->varlevelsup != 0)
			return false;
		foreach(lc, f->vars)
			if (((Var *) lfirst(lc))->varno == v->varno &&
				((Var *) lfirst(lc))->varattno == v->varattno)
				return false;
		f->vars = lappend(f->vars, v);
		return false;
	}
	if (IsA(node, SubLink) || IsA(node, Aggref) || IsA(node, WindowFunc) ||
		IsA(node, GroupingFunc))
	{
		f->opaque = true;
		return true;
	}
	return expression_tree_walker(node, find_columns, f);
}

static bool
uses_varno(Node *node, Index varno)
{
	return node && bms_is_member((int) varno, pull_varnos(NULL, node));
}

/* A cast the parser added around a column to match the other side's type. */
static bool
is_implicit_cast_of_column(Node *x)
{
	if (IsA(x, FuncExpr))
		return ((FuncExpr *) x)->funcformat == COERCE_IMPLICIT_CAST &&
			((FuncExpr *) x)->args != NIL &&
			IsA(cat_strip(linitial(((FuncExpr *) x)->args)), Var);
	if (IsA(x, CoerceViaIO))
		return ((CoerceViaIO *) x)->coerceformat == COERCE_IMPLICIT_CAST &&
			IsA(cat_strip((Node *) ((CoerceViaIO *) x)->arg), Var);
	return false;
}

typedef struct GuessedParams
{
	CatContext *cx;
	bool		guessed;
} GuessedParams;

static bool
find_guessed_param(Node *node, GuessedParams *g)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN &&
		!cat_param_typed(g->cx, ((Param *) node)->paramid))
	{
		g->guessed = true;
		return true;
	}
	return expression_tree_walker(node, find_guessed_param, g);
}

/*
 * Does the type of node rest on a $n whose type parse analysis inferred?
 * A normalized text lost the literal that gave it its type.
 */
static bool
type_guessed(CatContext *cx, Node *node)
{
	GuessedParams g = {cx, false};

	(void) find_guessed_param(node, &g);
	return g.guessed;
}

/* date_trunc(..., col) or col::date on a time column: a range does it. */
static bool
is_time_truncation(Node *x, Var *col)
{
	Oid			t = col->vartype;

	if (t != TIMESTAMPOID && t != TIMESTAMPTZOID && t != DATEOID)
		return false;
	if (IsA(x, FuncExpr))
	{
		char	   *name = get_func_name(((FuncExpr *) x)->funcid);

		return name && (strcmp(name, "date_trunc") == 0 ||
						((FuncExpr *) x)->funcresulttype == DATEOID);
	}
	return false;
}

/* side op other: is side a column under a function or cast? */
static void
check_side(CatContext *cx, Query *q, List *quals, Node *side, Node *other, int location)
{
	Node	   *x = cat_strip(side);
	ColumnsFound f = {NIL, false};
	Var		   *col;
	Oid			relid;
	CatRel	   *rel;
	CatIndex   *ix;
	bool		cast;
	int			rule;
	char	   *colname;
	char	   *expr;

	if (x == NULL || IsA(x, Var) || IsA(x, Const) || IsA(x, Param))
		return;
	(void) find_columns(x, &f);
	if (f.opaque || list_length(f.vars) != 1)
		return;
	col = cat_base_var(q, linitial(f.vars), &relid);
	if (col == NULL || uses_varno(other, col->varno) || contain_volatile_functions(x))
		return;
	cast = is_implicit_cast_of_column(x);
	rule = cast ? cat_rule(cx, "implicit-cast-on-indexed-column", &r_cast) :
		cat_rule(cx, "function-on-indexed-column", &r_function);
	if (rule < 0)
		return;
	rel = cat_rel(cx, relid);
	ix = cat_leading_index(rel, col->varattno, col->varno, quals);
	if (ix == NULL || cat_expression_index(rel, x, col->varno, quals) != NULL)
		return;

	colname = cat_attname(rel, col->varattno);
	expr = cat_deparse(rel, x, col->varno);
	if (cast && type_guessed(cx, other))
		cat_report(cx, rule, LINT_INFO, location,
				   psprintf("{\"table\": %s, \"column\": %s, \"cast_to\": %s, \"decided\": false, \"needs\": \"parameter types\"}",
							lint_json_string(rel->qualname), lint_json_string(colname),
							lint_json_string(format_type_be(exprType(x)))),
				   "%s.%s would be cast to %s if the value compared with it has the type inferred for its $n, and then index %s could not be used (undecided)",
				   rel->relname, colname, format_type_be(exprType(x)), ix->name);
	else if (cast)
		cat_report(cx, rule, LINT_WARNING, location,
				   psprintf("{\"table\": %s, \"column\": %s, \"column_type\": %s, \"cast_to\": %s, \"index\": %s}",
							lint_json_string(rel->qualname), lint_json_string(colname),
							lint_json_string(format_type_with_typemod(col->vartype, col->vartypmod)),
							lint_json_string(format_type_be(exprType(x))),
							lint_json_string(ix->name)),
				   "%s.%s (%s) is cast to %s to match the other side, so index %s on it cannot be used: give the value the column's type ($n::%s)",
				   rel->relname, colname, format_type_with_typemod(col->vartype, col->vartypmod),
				   format_type_be(exprType(x)), ix->name,
				   format_type_with_typemod(col->vartype, col->vartypmod));
	else if (is_time_truncation(x, col))
		cat_report(cx, rule, LINT_WARNING, location,
				   psprintf("{\"table\": %s, \"column\": %s, \"expression\": %s, \"index\": %s, \"rewrite\": \"range\"}",
							lint_json_string(rel->qualname), lint_json_string(colname),
							lint_json_string(expr), lint_json_string(ix->name)),
				   "%s hides %s.%s from index %s: compare the column with a range instead (%s >= $1 AND %s < $1 + interval '1 day')",
				   expr, rel->relname, colname, ix->name, colname, colname);
	else if (!contain_mutable_functions(x))
	{
		char	   *create = psprintf("CREATE INDEX CONCURRENTLY ON %s ((%s))", rel->qualname, expr);

		cat_report(cx, rule, LINT_WARNING, location,
				   psprintf("{\"table\": %s, \"column\": %s, \"expression\": %s, \"index\": %s, \"suggested_index\": %s}",
							lint_json_string(rel->qualname), lint_json_string(colname),
							lint_json_string(expr), lint_json_string(ix->name),
							lint_json_string(create)),
				   "%s hides %s.%s from index %s: rewrite the condition on the bare column, or index the expression: %s",
				   expr, rel->relname, colname, ix->name, create);
	}
	else
		cat_report(cx, rule, LINT_WARNING, location,
				   psprintf("{\"table\": %s, \"column\": %s, \"expression\": %s, \"index\": %s}",
							lint_json_string(rel->qualname), lint_json_string(colname),
							lint_json_string(expr), lint_json_string(ix->name)),
				   "%s hides %s.%s from index %s, and is not immutable, so no expression index can take its place: rewrite the condition on the bare column",
				   expr, rel->relname, colname, ix->name);
}

/* col LIKE pattern (or LIKE ANY) with a trigram index on col: the tree rule was wrong. */
static void
check_like(CatContext *cx, Query *q, List *quals, Oid opno, Node *left, int location)
{
	char	   *name = get_opname(opno);
	Oid			relid;
	Var		   *col;
	int			rule;

	if (name == NULL || (strcmp(name, "~~") != 0 && strcmp(name, "~~*") != 0))
		return;
	if ((rule = cat_rule(cx, "leading-wildcard-like", &r_like)) < 0)
		return;
	col = cat_base_var(q, left, &relid);
	if (col && cat_trigram_index(cat_rel(cx, relid), col->varattno, col->varno, quals))
		cat_retract(cx, rule, location);
}

/* An OR's arm: the column it restricts with an operator an index could use, if any. */
static Var *
arm_column(Query *q, Node *arm, Oid *relid)
{
	List	   *conj = NIL;
	ListCell   *lc;

	if (is_andclause(arm))
		conj = ((BoolExpr *) arm)->args;
	else
		conj = list_make1(arm);
	foreach(lc, conj)
	{
		Node	   *c = lfirst(lc);
		Var		   *v = NULL;

		if (IsA(c, OpExpr) && list_length(((OpExpr *) c)->args) == 2)
		{
			Node	   *l = linitial(((OpExpr *) c)->args);
			Node	   *r = lsecond(((OpExpr *) c)->args);

			v = cat_base_var(q, l, relid);
			if (v == NULL || uses_varno(r, v->varno))
			{
				v = cat_base_var(q, r, relid);
				if (v && uses_varno(l, v->varno))
					v = NULL;
			}
		}
		else if (IsA(c, ScalarArrayOpExpr))
		{
			v = cat_base_var(q, linitial(((ScalarArrayOpExpr *) c)->args), relid);
			if (v && uses_varno(lsecond(((ScalarArrayOpExpr *) c)->args), v->varno))
				v = NULL;
		}
		else if (IsA(c, NullTest))
			v = cat_base_var(q, (Node *) ((NullTest *) c)->arg, relid);
		if (v)
			return v;
	}
	return NULL;
}

static void
check_or(CatContext *cx, Query *q, List *quals, BoolExpr *or)
{
	int			rule = cat_rule(cx, "or-across-columns", &r_or);
	Bitmapset  *first = NULL;
	Bitmapset  *all = NULL;
	bool		differ = false;
	bool		same_column = true;
	Var		   *first_col = NULL;
	List	   *cols = NIL;		/* each arm's column, or NULL */
	RangeTblEntry *rte;
	CatRel	   *rel;
	ListCell   *lc;

	if (rule < 0)
		return;
	foreach(lc, or->args)
	{
		Bitmapset  *rels = pull_varnos(NULL, lfirst(lc));

		/* ($1 IS NULL OR col = $1): an optional filter, another matter */
		if (bms_is_empty(rels) || contain_subplans(lfirst(lc)))
			return;
		if (lc == list_head(or->args))
			first = rels;
		else if (!bms_equal(first, rels))
			differ = true;
		all = bms_union(all, rels);
	}

	if (differ && bms_num_members(all) >= 2)
	{
		cat_report(cx, rule, LINT_WARNING, or->location,
				   psprintf("{\"tables\": %d}", bms_num_members(all)),
				   "an OR over columns of %d different tables can use no index on either side: it is checked only after the join",
				   bms_num_members(all));
		return;
	}
	if (bms_num_members(all) != 1)
		return;

	/* one table: every arm needs an index of its own for a BitmapOr */
	rte = rt_fetch(bms_singleton_member(all), q->rtable);
	if (rte->rtekind != RTE_RELATION)
		return;
	foreach(lc, or->args)
	{
		Oid			relid;
		Var		   *v = arm_column(q, lfirst(lc), &relid);

		cols = lappend(cols, v);
		if (v == NULL || (first_col && v->varattno != first_col->varattno))
			same_column = false;
		if (v && first_col == NULL)
			first_col = v;
	}
	if (same_column)
		return;					/* col = a OR col = b: an IN list */
	rel = cat_rel(cx, rte->relid);
	foreach(lc, cols)
	{
		Var		   *v = lfirst(lc);

		if (v == NULL)
		{
			cat_report(cx, rule, LINT_WARNING, or->location,
					   psprintf("{\"table\": %s}", lint_json_string(rel->qualname)),
					   "an arm of this OR has no condition an index could serve, so the whole OR scans %s",
					   rel->relname);
			return;
		}
		if (cat_leading_index(rel, v->varattno, v->varno, quals) == NULL)
		{
			char	   *colname = cat_attname(rel, v->varattno);

			cat_report(cx, rule, LINT_WARNING, or->location,
					   psprintf("{\"table\": %s, \"unindexed_column\": %s}",
								lint_json_string(rel->qualname), lint_json_string(colname)),
					   "OR across columns of %s, and no index leads with %s: the whole OR scans the table (a BitmapOr needs an index for every arm)",
					   rel->relname, colname);
			return;
		}
	}
}

static void
check_clause(CatContext *cx, Query *q, List *quals, Node *c, bool top)
{
	if (IsA(c, OpExpr) && list_length(((OpExpr *) c)->args) == 2)
	{
		OpExpr	   *op = (OpExpr *) c;

		check_side(cx, q, quals, linitial(op->args), lsecond(op->args), op->location);
		check_side(cx, q, quals, lsecond(op->args), linitial(op->args), op->location);
		check_like(cx, q, quals, op->opno, linitial(op->args), op->location);
	}
	else if (IsA(c, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *op = (ScalarArrayOpExpr *) c;

		check_side(cx, q, quals, linitial(op->args), lsecond(op->args), op->location);
		check_like(cx, q, quals, op->opno, linitial(op->args), op->location);
	}
	else if (is_orclause(c))
	{
		ListCell   *lc;

		if (top)
			check_or(cx, q, quals, (BoolExpr *) c);
		foreach(lc, ((BoolExpr *) c)->args)
		{
			Node	   *arm = lfirst(lc);

			if (is_andclause(arm))
			{
				ListCell   *lc2;

				foreach(lc2, ((BoolExpr *) arm)->args)
					check_clause(cx, q, quals, lfirst(lc2), false);
			}
			else
				check_clause(cx, q, quals, arm, false);
		}
	}
}

void
cat_rules_quals(CatContext *cx, Query *q, List *quals)
{
	ListCell   *lc;

	foreach(lc, quals)
		check_clause(cx, q, quals, lfirst(lc), true);
}
