/*-------------------------------------------------------------------------
 *
 * rules_joins.c
 *	  cartesian-product: the join graph of a FROM list.
 *
 * Every relation of the FROM list (tables, subqueries, CTE references) is a
 * node; a JOIN ... ON/USING/NATURAL, an explicit CROSS JOIN (the product is
 * written on purpose), or a WHERE conjunct (subqueries included) that names
 * columns of two relations, is an edge. ON true and comma joins add none.
 * Relations that a subquery ties to the same outer row (EXISTS (SELECT
 * FROM i, s WHERE i.o = o.id AND s.o = o.id)) are joined through it. Set-returning functions, VALUES lists
 * and one-row aggregate subqueries are left out: joining them without a
 * condition is usually the intent. A graph in more than one piece is a
 * cartesian product. Unqualified column names could belong to any
 * relation: a condition with k column names (some unqualified) could join
 * at most k relations, so it adds k - 1 to the connections that might
 * exist. When even those cannot join all the pieces, the product is
 * certain; when they could, only the catalogs could decide, and the rule
 * stays silent (TPC-H writes every join with unqualified names).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "lint/lint.h"
#include "lint/rules.h"
#include "nodes/nodeFuncs.h"

#define MAX_LEAVES 64

typedef struct JoinGraph
{
	const char *names[MAX_LEAVES];
	bool		skip[MAX_LEAVES];	/* left out of the verdict */
	int			parent[MAX_LEAVES];
	int			n;
	bool		overflow;
	int			maybe_edges;	/* connections unqualified names might make */
} JoinGraph;

typedef struct Refs
{
	JoinGraph  *g;
	int			leaves[MAX_LEAVES];
	int			n;
	int			unqualified;	/* column names without their relation */
	int			sublinks;		/* depth inside subqueries */
	int			depth;
} Refs;

static int
find(JoinGraph *g, int i)
{
	while (g->parent[i] != i)
		i = g->parent[i] = g->parent[g->parent[i]];
	return i;
}

static void
unite(JoinGraph *g, int a, int b)
{
	g->parent[find(g, a)] = find(g, b);
}

static int
leaf_named(JoinGraph *g, const char *name)
{
	for (int i = 0; i < g->n; i++)
		if (g->names[i] && strcmp(g->names[i], name) == 0)
			return i;
	return -1;
}

static int	add_leaf(JoinGraph *g, const char *name, bool skip);

/* The node of an outer relation's name, made when first seen. */
static int
add_outer(JoinGraph *g, const char *name)
{
	return add_leaf(g, name, true);
}

static bool
collect_refs(Node *node, Refs *r)
{
	bool		result;

	if (node == NULL || r->depth >= LINT_MAX_DEPTH)
		return false;
	if (IsA(node, ColumnRef))
	{
		ColumnRef  *cref = (ColumnRef *) node;
		const char *q = lint_column_qualifier(cref);
		int			leaf = q ? leaf_named(r->g, q) : -1;

		/* a name of no relation here: an outer query's, a shared anchor */
		if (leaf < 0 && q != NULL)
			leaf = add_outer(r->g, q);
		if (leaf >= 0 && r->n < MAX_LEAVES)
			r->leaves[r->n++] = leaf;
		/* an unqualified name inside a subquery belongs to it, most likely */
		else if (q == NULL && r->sublinks == 0 && !IsA(llast(cref->fields), A_Star))
			r->unqualified++;
		return false;
	}
	r->depth++;
	if (IsA(node, SubLink))
		r->sublinks++;
	result = raw_expression_tree_walker(node, collect_refs, (void *) r);
	if (IsA(node, SubLink))
		r->sublinks--;
	r->depth--;
	return result;
}

/*
 * Join every relation that an expression names, and self (a LATERAL item)
 * to them if self >= 0; count what unqualified names might join.
 */
static void
connect_refs(JoinGraph *g, Node *expr, int self)
{
	Refs		r;

	memset(&r, 0, sizeof(r));
	r.g = g;
	(void) collect_refs(expr, &r);
	for (int i = 0; i < r.n; i++)
		unite(g, self >= 0 ? self : r.leaves[0], r.leaves[i]);
	if (r.unqualified > 0 && self < 0)
		g->maybe_edges += r.n + r.unqualified - 1;
}

static bool
one_row_subquery(SelectStmt *sel)
{
	ListCell   *lc;

	if (sel == NULL || sel->groupClause != NIL || sel->targetList == NIL ||
		sel->op != SETOP_NONE)
		return false;
	foreach(lc, sel->targetList)
	{
		ResTarget  *rt = lfirst_node(ResTarget, lc);
		bool		known;

		if (rt->val == NULL || !IsA(rt->val, FuncCall) ||
			((FuncCall *) rt->val)->over != NULL ||	/* a window: one row each */
			!lint_is_aggregate_call((FuncCall *) rt->val, &known))
			return false;
	}
	return true;
}

static int
add_leaf(JoinGraph *g, const char *name, bool skip)
{
	if (g->n == MAX_LEAVES)
	{
		g->overflow = true;
		return -1;
	}
	g->names[g->n] = name;
	g->skip[g->n] = skip;
	g->parent[g->n] = g->n;
	return g->n++;
}

/* Add the relations of one FROM item; returns the index of its first. */
static int
add_item(JoinGraph *g, Node *item)
{
	if (IsA(item, RangeVar))
	{
		RangeVar   *rv = (RangeVar *) item;

		return add_leaf(g, rv->alias ? rv->alias->aliasname : rv->relname, false);
	}
	if (IsA(item, RangeSubselect))
	{
		RangeSubselect *rs = (RangeSubselect *) item;
		SelectStmt *sel = IsA(rs->subquery, SelectStmt) ? (SelectStmt *) rs->subquery : NULL;
		bool		skip = sel && (sel->valuesLists != NIL || one_row_subquery(sel));
		int			leaf = add_leaf(g, rs->alias ? rs->alias->aliasname : NULL, skip);

		/* LATERAL: joined to the earlier relations it names */
		if (leaf >= 0 && rs->lateral)
			connect_refs(g, rs->subquery, leaf);
		return leaf;
	}
	if (IsA(item, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) item;
		int			left = add_item(g, j->larg);
		int			right = add_item(g, j->rarg);

		if (left < 0 || right < 0)
			return -1;
		/* NATURAL, USING, or CROSS JOIN (no condition: a product on purpose) */
		if (j->isNatural || j->usingClause != NIL || j->quals == NULL)
			unite(g, left, right);
		/* (a JOIN b ...) AS j: columns named j.x belong to the join */
		if (j->alias)
		{
			int			named = add_leaf(g, j->alias->aliasname, true);

			if (named >= 0)
				unite(g, named, left);
		}
		if (j->quals)
			connect_refs(g, j->quals, -1);
		return left;
	}
	/* functions, table functions: left out */
	return add_leaf(g, IsA(item, RangeFunction) && ((RangeFunction *) item)->alias ?
					((RangeFunction *) item)->alias->aliasname : NULL, true);
}

static void
connect_conjuncts(JoinGraph *g, Node *expr)
{
	if (expr == NULL)
		return;
	if (IsA(expr, BoolExpr) && ((BoolExpr *) expr)->boolop == AND_EXPR)
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) expr)->args)
			connect_conjuncts(g, lfirst(lc));
	}
	else
		connect_refs(g, expr, -1);
}

/* Where a FROM item starts, if the tree knows (-1: the statement's start). */
static int
item_location(Node *item)
{
	if (IsA(item, RangeVar))
		return ((RangeVar *) item)->location;
	if (IsA(item, JoinExpr))
		return item_location(((JoinExpr *) item)->larg);
	return -1;
}

void
rule_cartesian_product(LintRun *run, Node *node)
{
	SelectStmt *sel;
	JoinGraph  *g;
	ListCell   *lc;
	int			pieces = 0;
	StringInfoData ev;

	if (!IsA(node, SelectStmt))
		return;
	sel = (SelectStmt *) node;
	if (sel->fromClause == NIL)
		return;
	g = palloc0(sizeof(JoinGraph));
	foreach(lc, sel->fromClause)
		(void) add_item(g, lfirst(lc));
	if (g->overflow || g->n < 2)
		return;
	connect_conjuncts(g, sel->whereClause);

	initStringInfo(&ev);
	appendStringInfoString(&ev, "{\"pieces\": [");
	for (int i = 0; i < g->n; i++)
	{
		bool		first = true;
		int			root = find(g, i);
		bool		seen = false;

		/* one piece per root that has a real relation, counted at its first */
		if (g->skip[i])
			continue;
		for (int k = 0; k < i && !seen; k++)
			seen = !g->skip[k] && find(g, k) == root;
		if (seen)
			continue;
		appendStringInfoString(&ev, pieces ? ", [" : "[");
		for (int j = 0; j < g->n; j++)
		{
			if (g->skip[j] || find(g, j) != root)
				continue;
			appendStringInfo(&ev, "%s%s", first ? "" : ", ",
							 lint_json_string(g->names[j] ? g->names[j] : "?"));
			first = false;
		}
		appendStringInfoChar(&ev, ']');
		pieces++;
	}
	appendStringInfoString(&ev, "]}");
	/* unqualified names might connect what remains: only catalogs can tell */
	if (pieces < 2 || pieces - 1 <= g->maybe_edges)
		return;
	lint_report(run, LINT_ERROR, item_location(linitial(sel->fromClause)), ev.data,
				"the FROM list joins %d groups of relations with no condition between them: "
				"a cartesian product", pieces);
}
