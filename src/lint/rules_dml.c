/*-------------------------------------------------------------------------
 *
 * rules_dml.c
 *	  Rules on data-changing statements: update-or-delete-without-where.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lint/lint.h"
#include "lint/rules.h"

void
rule_update_or_delete_without_where(LintRun *run, Node *node)
{
	if (IsA(node, UpdateStmt) && ((UpdateStmt *) node)->whereClause == NULL)
	{
		RangeVar   *rel = ((UpdateStmt *) node)->relation;

		lint_report(run, LINT_WARNING, rel->location,
					psprintf("{\"table\": %s}", lint_json_string(rel->relname)),
					"UPDATE without WHERE changes every row of %s", rel->relname);
	}
	else if (IsA(node, DeleteStmt) && ((DeleteStmt *) node)->whereClause == NULL)
	{
		RangeVar   *rel = ((DeleteStmt *) node)->relation;

		lint_report(run, LINT_WARNING, rel->location,
					psprintf("{\"table\": %s}", lint_json_string(rel->relname)),
					"DELETE without WHERE removes every row of %s", rel->relname);
	}
}
