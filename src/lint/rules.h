/*-------------------------------------------------------------------------
 *
 * rules.h
 *	  The visitors of the rules; rules.c lists them with their documentation.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_LINT_RULES_H
#define PIPEOPT_LINT_RULES_H

#include "lint/lint.h"

/* rules_select.c */
extern void rule_select_star(LintRun *run, Node *node);
extern void rule_order_by_random(LintRun *run, Node *node);
extern void rule_limit_without_order_by(LintRun *run, Node *node);
extern void rule_offset_pagination(LintRun *run, Node *node);
extern void rule_having_without_aggregate(LintRun *run, Node *node);
extern void rule_correlated_subquery_in_select_list(LintRun *run, Node *node);

/* rules_predicates.c */
extern void rule_not_in_subquery(LintRun *run, Node *node);
extern void rule_leading_wildcard_like(LintRun *run, Node *node);
extern void rule_large_in_list(LintRun *run, Node *node);
extern void rule_count_for_existence(LintRun *run, Node *node);

/* rules_joins.c */
extern void rule_cartesian_product(LintRun *run, Node *node);

/* rules_runtime.c */
extern void rule_row_by_row_insert(LintRun *run, Node *node);
extern void rule_row_by_row_upsert(LintRun *run, Node *node);
extern void rule_row_by_row_update_delete(LintRun *run, Node *node);
extern void rule_n_plus_one_lookup(LintRun *run, Node *node);
extern void rule_temp_spill(LintRun *run, Node *node);
extern void rule_low_cache_hit(LintRun *run, Node *node);
extern void rule_high_planning_time(LintRun *run, Node *node);
extern void rule_jit_overhead(LintRun *run, Node *node);

/* rules_schema.c */
extern void rule_column_type(LintRun *run, Node *node);	/* every type rule */
extern void rule_table_without_primary_key(LintRun *run, Node *node);

/* rules_dml.c */
extern void rule_update_or_delete_without_where(LintRun *run, Node *node);

#endif							/* PIPEOPT_LINT_RULES_H */
