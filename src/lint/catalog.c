/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Parse analysis of one statement for the catalog rules, safely.
 *
 * A captured statement is analyzed as the role that ran it (the caller of
 * pipeopt.lint() otherwise) in the sandbox of parse/sandbox.h: parse
 * analysis only, nothing planned or executed. A statement that does not
 * analyze there (a table since dropped, a temporary table of another
 * session, an unknown $n type) is skipped, its tree rules' findings kept.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lint/catalog.h"
#include "nodes/nodeFuncs.h"
#include "parse/sandbox.h"

/* The rule index of id, or -1 when it is turned off (cache: per call site). */
int
cat_rule(CatContext *cx, const char *id, int *cache)
{
	if (*cache < 0)
		*cache = pipeopt_lint_rule_index(id);
	if (*cache < 0 || (cx->run->enabled && !cx->run->enabled[*cache]))
		return -1;
	return *cache;
}

/* lint_report() for a catalog rule; location: as in the parse tree, or -1. */
void
cat_report(CatContext *cx, int rule, LintSeverity severity, int location,
		   const char *evidence, const char *fmt,...)
{
	/* the finding outlives the analysis's memory: keep it in the call's */
	MemoryContext old = MemoryContextSwitchTo(cx->mcxt);
	va_list		args;

	cx->run->current = &pipeopt_lint_rules[rule];
	va_start(args, fmt);
	lint_reportv(cx->run, severity, location,
				 pstrdup(evidence ? evidence : "{}"), fmt, args);
	va_end(args);
	MemoryContextSwitchTo(old);
}

/* Take back a tree rule's finding at location (as in the parse tree). */
void
cat_retract(CatContext *cx, int rule, int location)
{
	if (location >= 0)
		lint_retract(cx->run, rule, location);
}

typedef struct FindRelation
{
	const char *name;			/* the alias, or the table's name */
	int			location;
} FindRelation;

static bool
find_relation(Node *node, FindRelation *f)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeVar))
	{
		RangeVar   *rv = (RangeVar *) node;
		const char *name = rv->alias ? rv->alias->aliasname : rv->relname;

		if (name && strcmp(name, f->name) == 0)
		{
			f->location = rv->location;
			return true;
		}
		return false;
	}
	return raw_expression_tree_walker(node, find_relation, f);
}

/* Where the statement names rte (its first mention), or -1. */
int
cat_relation_location(CatContext *cx, RangeTblEntry *rte)
{
	FindRelation f = {rte->eref->aliasname, -1};

	(void) find_relation(cx->raw, &f);
	return f.location;
}

static bool
find_typed_param(Node *node, int *paramid)
{
	if (node == NULL)
		return false;
	if (IsA(node, TypeCast) && ((TypeCast *) node)->arg &&
		IsA(((TypeCast *) node)->arg, ParamRef) &&
		((ParamRef *) ((TypeCast *) node)->arg)->number == *paramid)
		return true;
	return raw_expression_tree_walker(node, find_typed_param, paramid);
}

/* Does the text give $paramid a type ($n::type), or did analysis guess it? */
bool
cat_param_typed(CatContext *cx, int paramid)
{
	return find_typed_param(cx->raw, &paramid);
}

/* The conditions of WHERE and every JOIN ... ON of a FROM tree, split at AND. */
static void
add_conjuncts(Node *node, List **quals)
{
	if (node == NULL)
		return;
	if (is_andclause(node))
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) node)->args)
			add_conjuncts(lfirst(lc), quals);
	}
	else if (IsA(node, List))
	{
		ListCell   *lc;

		foreach(lc, (List *) node)
			add_conjuncts(lfirst(lc), quals);
	}
	else
		*quals = lappend(*quals, node);
}

static void
collect_quals(Node *jt, List **quals)
{
	ListCell   *lc;

	if (jt == NULL)
		return;
	if (IsA(jt, FromExpr))
	{
		foreach(lc, ((FromExpr *) jt)->fromlist)
			collect_quals(lfirst(lc), quals);
		add_conjuncts(((FromExpr *) jt)->quals, quals);
	}
	else if (IsA(jt, JoinExpr))
	{
		collect_quals(((JoinExpr *) jt)->larg, quals);
		collect_quals(((JoinExpr *) jt)->rarg, quals);
		add_conjuncts(((JoinExpr *) jt)->quals, quals);
	}
}

/* Every query level: the statement, subqueries, CTEs, sublinks. */
static bool
walk_levels(Node *node, CatContext *cx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		List	   *quals = NIL;

		collect_quals((Node *) q->jointree, &quals);
		cat_rules_quals(cx, q, quals);
		cat_rules_sets(cx, q, quals);
		cat_rules_rows(cx, q, quals);
		return query_tree_walker(q, walk_levels, cx, 0);
	}
	return expression_tree_walker(node, walk_levels, cx);
}

/*
 * Analyze the statement the engine has parsed ($n types inferred) and run
 * the rules on it. The tree is libpg_query's: its parser also takes what
 * pg_stat_statements writes but PostgreSQL's grammar refuses (interval $2
 * for interval '1 day'). Its nodes are PostgreSQL 15's; the server's
 * copyObject() brings it into server memory (an unknown node would be an
 * error, caught by the caller), and parse analysis then works on the copy.
 */
static void
analyze_statement(CatContext *cx, LintRun *run)
{
	Query	   *query;

	/* parse analysis scribbles on the raw tree: keep a copy to find names in */
	cx->raw = copyObject(run->current_stmt->stmt);
	query = pipeopt_analyze_raw(run->current_stmt, run->text + run->offset, NULL, NULL);
	if (query->commandType == CMD_UTILITY)
		return;
	walk_levels((Node *) query, cx);
}

/*
 * Could a catalog rule find anything in this raw statement: a WHERE, an
 * ON, a DISTINCT or a UNION somewhere? Parse analysis costs more than all
 * the tree rules together: an INSERT ... VALUES is not worth it.
 */
static bool
worth_analyzing(Node *node, int *depth)
{
	bool		found;

	if (node == NULL)
		return false;
	/* deeper than the tree rules go: let the guarded analysis decide */
	if (*depth >= LINT_MAX_DEPTH)
		return true;
	switch (nodeTag(node))
	{
		case T_SelectStmt:
			if (((SelectStmt *) node)->whereClause || ((SelectStmt *) node)->distinctClause ||
				((SelectStmt *) node)->op == SETOP_UNION)
				return true;
			break;
		case T_JoinExpr:
			if (((JoinExpr *) node)->quals)
				return true;
			break;
		case T_UpdateStmt:
			if (((UpdateStmt *) node)->whereClause)
				return true;
			break;
		case T_DeleteStmt:
			if (((DeleteStmt *) node)->whereClause)
				return true;
			break;
		default:
			break;
	}
	(*depth)++;
	found = raw_expression_tree_walker(node, worth_analyzing, depth);
	(*depth)--;
	return found;
}

/*
 * Is the analysis worth it for this statement: a rule that only the
 * catalogs run is on, or a tree rule's finding that they may take back is
 * pending (no finding, nothing to take back: no analysis).
 */
static bool
analysis_wanted(CatContext *cx, LintRun *run)
{
	static const char *const own[] = {
		"function-on-indexed-column", "implicit-cast-on-indexed-column",
		"or-across-columns", "union-without-all", "distinct-masking-join-fanout"
	};
	static const char *const retractable[] = {
		"leading-wildcard-like", "limit-without-order-by"
	};

	if (cx->any_enabled < 0)
	{
		cx->any_enabled = 0;
		for (int i = 0; i < lengthof(own); i++)
		{
			int			r = pipeopt_lint_rule_index(own[i]);

			if (r >= 0 && (run->enabled == NULL || run->enabled[r]))
				cx->any_enabled = 1;
		}
	}
	if (cx->any_enabled == 1)
		return true;
	for (int i = 0; i < run->npending; i++)
		for (int j = 0; j < lengthof(retractable); j++)
			if (strcmp(run->pending[i].rule->id, retractable[j]) == 0)
				return true;
	return false;
}

static void
analyze_in_sandbox(void *arg)
{
	CatContext *cx = (CatContext *) arg;

	analyze_statement(cx, cx->run);
}

static void
catalog_analyze(LintRun *run)
{
	CatContext *cx = (CatContext *) run->catalog->arg;
	Node	   *stmt = run->current_stmt->stmt;
	char	   *error;
	int			depth = 0;

	if (!pipeopt_sandbox_dml(stmt))
		return;
	if (!analysis_wanted(cx, run) || !worth_analyzing(stmt, &depth))
		return;
	cx->run = run;
	if (!pipeopt_sandbox_run(cx->role, cx->search_path, analyze_in_sandbox, cx, &error))
		ereport(DEBUG1,
				(errmsg_internal("pipeopt: catalog rules skipped statement %d: %s",
								 run->statement, error)));
}

/*
 * Catalog rules for a lint call, as role: with its login search_path if
 * as_default (a captured statement), with the caller's otherwise.
 */
void
pipeopt_lint_catalog_init(LintCatalog *catalog, Oid role, bool as_default)
{
	CatContext *cx = palloc0(sizeof(CatContext));

	cx->role = role;
	cx->search_path = as_default ? pipeopt_login_search_path(role) : NULL;
	cx->mcxt = CurrentMemoryContext;
	cx->any_enabled = -1;
	catalog->analyze = catalog_analyze;
	catalog->arg = cx;
}
