/*-------------------------------------------------------------------------
 *
 * relations.c
 *	  The relations a statement names, from its raw parse tree.
 *
 * A change that lists no affected statements (dropping an index: no one
 * predicted which statements used it) is judged on the statements that
 * touch its table. Which ones do is read from the text, without parse
 * analysis: no role, no search_path, nothing resolved. So a name is what
 * the text says (schema-qualified or not), and a CTE named like a table
 * counts as that table: the monitor errs on the side of watching a
 * statement too many.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "parse/parse.h"
#include "verify/verify.h"

typedef struct Collect
{
	List	   *found;			/* char *[2]: schema (or NULL), name */
} Collect;

static bool
collect_relations(Node *node, Collect *c)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeVar))
	{
		RangeVar   *rv = (RangeVar *) node;
		ListCell   *lc;
		char	  **pair;

		foreach(lc, c->found)
		{
			char	  **seen = lfirst(lc);

			if (strcmp(seen[1], rv->relname) == 0 &&
				((seen[0] == NULL && rv->schemaname == NULL) ||
				 (seen[0] && rv->schemaname && strcmp(seen[0], rv->schemaname) == 0)))
				return false;
		}
		pair = palloc(sizeof(char *) * 2);
		pair[0] = rv->schemaname ? pstrdup(rv->schemaname) : NULL;
		pair[1] = pstrdup(rv->relname);
		c->found = lappend(c->found, pair);
		return false;
	}
	return raw_expression_tree_walker(node, collect_relations, c);
}

/*
 * The relations named by the DML statements of query; none for a text that
 * does not parse or for utility statements (the raw tree walker knows only
 * DML and expressions).
 */
List *
pipeopt_statement_relations(const char *query)
{
	char	   *error;
	List	   *raw = pipeopt_parse_raw(query, &error);
	ListCell   *lc;
	Collect		c = {NIL};

	foreach(lc, raw)
	{
		Node	   *stmt = ((RawStmt *) lfirst(lc))->stmt;

		switch (nodeTag(stmt))
		{
			case T_SelectStmt:
			case T_InsertStmt:
			case T_UpdateStmt:
			case T_DeleteStmt:
			case T_MergeStmt:
				(void) collect_relations(stmt, &c);
				break;
			default:
				break;
		}
	}
	return c.found;
}
