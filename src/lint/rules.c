/*-------------------------------------------------------------------------
 *
 * rules.c
 *	  Every rule, with its documentation: pipeopt.rules shows this table.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lint/lint.h"
#include "lint/rules.h"

const LintRule pipeopt_lint_rules[] = {
	/* LINT_PARSE_ERROR: reported by the engine, not by a visitor */
	{"parse-error", "query", LINT_ERROR, "parse tree",
		"A statement that does not parse as PostgreSQL 15 SQL.",
		"No rule can look at it, and the server would reject it as well.",
		"Fix the syntax error at the position given.",
	NULL},
	{"select-star", "query", LINT_WARNING, "parse tree",
		"SELECT * or t.* in a select list (not inside EXISTS).",
		"Every column is read, sent and decoded, including wide and TOASTed ones and columns added later; "
		"index-only scans become impossible, and INSERT ... SELECT * breaks when column order changes.",
		"Name the columns the caller uses: SELECT id, status, total FROM ...",
	rule_select_star},
	{"cartesian-product", "query", LINT_ERROR, "parse tree",
		"Relations in a FROM list with no join condition connecting them.",
		"Each row of one group is paired with every row of the other: result size and time multiply.",
		"Add the missing join condition (JOIN ... ON a.id = b.a_id); write CROSS JOIN where the product is intended.",
	rule_cartesian_product},
	{"not-in-subquery", "query", LINT_WARNING, "parse tree",
		"x NOT IN (SELECT ...) or x <> ALL (SELECT ...).",
		"If the subquery returns a NULL, NOT IN is never true and the query silently returns nothing; "
		"the planner cannot turn NOT IN into an anti-join, so it runs a (hashed) subplan per row.",
		"WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.x = t.x)",
	rule_not_in_subquery},
	{"order-by-random", "query", LINT_WARNING, "parse tree",
		"ORDER BY random().",
		"Every row is read and sorted to pick a few: the cost grows with the table, not with the sample.",
		"SELECT ... FROM t TABLESAMPLE SYSTEM (1) LIMIT n, or pick random keys in a range.",
	rule_order_by_random},
	{"leading-wildcard-like", "query", LINT_WARNING, "parse tree; parameter values for $n patterns",
		"LIKE/ILIKE with a pattern that starts with % or _ (a literal, or '%' || x).",
		"A B-tree index can only serve a LIKE pattern with a fixed prefix; a leading wildcard scans the table.",
		"CREATE EXTENSION pg_trgm; CREATE INDEX ON t USING gin (col gin_trgm_ops);",
	rule_leading_wildcard_like},
	{"offset-pagination", "query", LINT_WARNING, "parse tree; parameter values or runtime evidence for $n offsets",
		"OFFSET of 1000 rows or more.",
		"OFFSET n reads and discards n rows on every page: deep pages get slower and slower.",
		"Keyset pagination: WHERE (created_at, id) < ($1, $2) ORDER BY created_at DESC, id DESC LIMIT 50",
	rule_offset_pagination},
	{"limit-without-order-by", "query", LINT_INFO, "parse tree",
		"LIMIT without ORDER BY (outside EXISTS).",
		"Which rows come back is up to the plan and may change from run to run: results are not reproducible.",
		"Add an ORDER BY on a unique key, or say why any row will do.",
	rule_limit_without_order_by},
	{"having-without-aggregate", "query", LINT_WARNING, "parse tree",
		"HAVING whose condition uses no aggregate.",
		"The condition is applied after grouping, so every row is grouped first; in WHERE it would remove rows before.",
		"Move the condition to WHERE.",
	rule_having_without_aggregate},
	{"correlated-subquery-in-select-list", "query", LINT_WARNING, "parse tree",
		"A scalar or ARRAY subquery in the select list that refers to the outer query.",
		"It runs once per result row (a nested loop the planner cannot reorder).",
		"Join the subquery once: LEFT JOIN LATERAL (...) s ON true, or join an aggregated derived table.",
	rule_correlated_subquery_in_select_list},
	{"update-or-delete-without-where", "query", LINT_WARNING, "parse tree",
		"UPDATE or DELETE without a WHERE clause.",
		"Every row is changed or removed: often a mistake, and when meant, a full rewrite with dead tuples for VACUUM.",
		"Add the WHERE clause; to empty a table, TRUNCATE; to rewrite it, CREATE TABLE AS and swap.",
	rule_update_or_delete_without_where},
	{"large-in-list", "query", LINT_WARNING, "parse tree",
		"IN (...) with 50 or more values.",
		"Long lists are slow to parse and plan, and each list length is a different pg_stat_statements entry.",
		"WHERE id = ANY($1) with one array parameter.",
	rule_large_in_list},
	{"count-for-existence", "query", LINT_WARNING, "parse tree; parameter values for $n",
		"(SELECT count(*) ...) compared with 0 or 1.",
		"count(*) visits every matching row when one is enough to answer.",
		"EXISTS (SELECT 1 FROM ... WHERE ...)",
	rule_count_for_existence},
};

const int	pipeopt_lint_nrules = lengthof(pipeopt_lint_rules);
