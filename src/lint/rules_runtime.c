/*-------------------------------------------------------------------------
 *
 * rules_runtime.c
 *	  ETL and runtime rules: what the parse tree shows, confirmed by the
 *	  captured evidence (calls, rows, blocks, timings). Silent without
 *	  evidence: a bare text cannot say how often it runs.
 *
 *	  row-by-row-insert, row-by-row-upsert, row-by-row-update-delete,
 *	  n-plus-one-lookup, temp-spill, low-cache-hit, high-planning-time,
 *	  jit-overhead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lint/lint.h"
#include "lint/rules.h"

/* Thresholds: documented with the rules in docs/lint.md. */
#define ROW_BY_ROW_CALLS	1000	/* single-row statements in the history */
#define LOOKUP_CALLS		10000	/* key lookups in the history */
#define LOW_HIT_READS		1000	/* shared blocks read, at least */
#define LOW_HIT_RATIO		0.90
#define PLANNING_PLANS		100
#define JIT_CALLS			10		/* calls that compiled, at least */
#define JIT_SHARE			0.10	/* of the execution time */

static double
rows_per_call(const LintEvidence *e)
{
	return e->calls > 0 ? e->rows / e->calls : 0;
}

static char *
rate_evidence(const LintEvidence *e)
{
	return psprintf("{\"calls\": %.0f, \"rows_per_call\": %.2f, \"calls_per_hour\": %.0f}",
					lint_finite(e->calls), lint_finite(rows_per_call(e)),
					lint_finite(e->window_hours > 0 ? e->calls / e->window_hours : e->calls));
}

/* INSERT ... VALUES (one row) */
static bool
single_row_values(InsertStmt *ins)
{
	SelectStmt *sel = (SelectStmt *) ins->selectStmt;

	return sel && IsA(sel, SelectStmt) && list_length(sel->valuesLists) == 1;
}

void
rule_row_by_row_insert(LintRun *run, Node *node)
{
	const LintEvidence *e = run->evidence;
	InsertStmt *ins;

	if (e == NULL || !IsA(node, InsertStmt) || !lint_is_root(run))
		return;
	ins = (InsertStmt *) node;
	if (!single_row_values(ins) || e->calls < ROW_BY_ROW_CALLS || rows_per_call(e) > 1.0)
		return;
	if (ins->onConflictClause == NULL)
		lint_report(run, LINT_WARNING, ins->relation->location, rate_evidence(e),
					"%.0f single-row INSERTs into %s: each pays a round trip, a parse and a commit",
					e->calls, ins->relation->relname);
}

void
rule_row_by_row_upsert(LintRun *run, Node *node)
{
	const LintEvidence *e = run->evidence;
	InsertStmt *ins;

	if (e == NULL || !IsA(node, InsertStmt) || !lint_is_root(run))
		return;
	ins = (InsertStmt *) node;
	if (ins->onConflictClause != NULL && single_row_values(ins) &&
		e->calls >= ROW_BY_ROW_CALLS && rows_per_call(e) <= 1.0)
		lint_report(run, LINT_WARNING, ins->relation->location, rate_evidence(e),
					"%.0f single-row upserts into %s: one conflict check and index probe per call",
					e->calls, ins->relation->relname);
}

/* WHERE col = $n [AND col = $m ...]: a lookup by key values. */
static bool
key_equality(Node *where)
{
	A_Expr	   *e;

	if (where == NULL)
		return false;
	if (IsA(where, BoolExpr) && ((BoolExpr *) where)->boolop == AND_EXPR)
	{
		ListCell   *lc;

		foreach(lc, ((BoolExpr *) where)->args)
			if (!key_equality(lfirst(lc)))
				return false;
		return true;
	}
	if (!IsA(where, A_Expr))
		return false;
	e = (A_Expr *) where;
	/* a prefix operator has no left operand */
	if (e->lexpr == NULL || e->rexpr == NULL)
		return false;
	return e->kind == AEXPR_OP && list_length(e->name) == 1 &&
		strcmp(strVal(linitial(e->name)), "=") == 0 &&
		((IsA(e->lexpr, ColumnRef) && lint_is_param(e->rexpr)) ||
		 (IsA(e->rexpr, ColumnRef) && lint_is_param(e->lexpr)));
}

void
rule_row_by_row_update_delete(LintRun *run, Node *node)
{
	const LintEvidence *e = run->evidence;
	Node	   *where;
	RangeVar   *rel;

	if (e == NULL || !lint_is_root(run))
		return;
	if (IsA(node, UpdateStmt))
	{
		where = ((UpdateStmt *) node)->whereClause;
		rel = ((UpdateStmt *) node)->relation;
	}
	else if (IsA(node, DeleteStmt))
	{
		where = ((DeleteStmt *) node)->whereClause;
		rel = ((DeleteStmt *) node)->relation;
	}
	else
		return;
	if (key_equality(where) && e->calls >= ROW_BY_ROW_CALLS && rows_per_call(e) <= 1.0)
		lint_report(run, LINT_WARNING, rel->location, rate_evidence(e),
					"%.0f %s statements on %s, one key each: a loop over rows that one set-based statement could do",
					e->calls, IsA(node, UpdateStmt) ? "UPDATE" : "DELETE", rel->relname);
}

void
rule_n_plus_one_lookup(LintRun *run, Node *node)
{
	const LintEvidence *e = run->evidence;
	SelectStmt *sel;

	if (e == NULL || !IsA(node, SelectStmt) || !lint_is_root(run))
		return;
	sel = (SelectStmt *) node;
	if (list_length(sel->fromClause) != 1 || !IsA(linitial(sel->fromClause), RangeVar) ||
		sel->groupClause != NIL || !key_equality(sel->whereClause))
		return;
	if (e->calls >= LOOKUP_CALLS && rows_per_call(e) <= 1.0)
		lint_report(run, LINT_WARNING, ((RangeVar *) linitial(sel->fromClause))->location,
					rate_evidence(e),
					"%.0f lookups of one row each in %s: the N+1 pattern, one query per row of another result",
					e->calls, ((RangeVar *) linitial(sel->fromClause))->relname);
}

void
rule_temp_spill(LintRun *run, Node *node)
{
	const LintEvidence *e = run->evidence;

	if (e == NULL || !lint_is_root(run) || e->temp_blks_written <= 0 || e->calls <= 0)
		return;
	lint_report(run, LINT_WARNING, -1,
				psprintf("{\"temp_blks_written\": %.0f, \"temp_mb_per_call\": %.2f}",
						 lint_finite(e->temp_blks_written),
						 lint_finite(e->temp_blks_written * 8.0 / 1024 / e->calls)),
				"spills %.2f MB to temporary files per call: sorts or hashes that do not fit in work_mem",
				e->temp_blks_written * 8.0 / 1024 / e->calls);
}

void
rule_low_cache_hit(LintRun *run, Node *node)
{
	const LintEvidence *e = run->evidence;
	double		total;

	if (e == NULL || !lint_is_root(run))
		return;
	total = e->shared_blks_hit + e->shared_blks_read;
	if (e->shared_blks_read < LOW_HIT_READS || total <= 0 || e->shared_blks_hit / total >= LOW_HIT_RATIO)
		return;
	lint_report(run, LINT_INFO, -1,
				psprintf("{\"hit_ratio\": %.3f, \"shared_blks_read\": %.0f}",
						 lint_finite(e->shared_blks_hit / total), lint_finite(e->shared_blks_read)),
				"only %.0f%% of the blocks it reads are in shared buffers (%.0f read from disk or the OS cache)",
				100 * e->shared_blks_hit / total, e->shared_blks_read);
}

void
rule_high_planning_time(LintRun *run, Node *node)
{
	const LintEvidence *e = run->evidence;

	if (e == NULL || !lint_is_root(run) || e->plans < PLANNING_PLANS ||
		e->total_plan_time <= e->total_exec_time)
		return;
	lint_report(run, LINT_WARNING, -1,
				psprintf("{\"plans\": %.0f, \"mean_plan_ms\": %.3f, \"mean_exec_ms\": %.3f}",
						 lint_finite(e->plans), lint_finite(e->total_plan_time / e->plans),
						 lint_finite(e->calls > 0 ? e->total_exec_time / e->calls : 0)),
				"planning takes longer than executing (%.3f ms against %.3f ms per call)",
				e->total_plan_time / e->plans, e->calls > 0 ? e->total_exec_time / e->calls : 0);
}

void
rule_jit_overhead(LintRun *run, Node *node)
{
	const LintEvidence *e = run->evidence;
	double		share;

	if (e == NULL || !lint_is_root(run) || e->jit_functions <= 0 ||
		e->calls < JIT_CALLS || e->total_exec_time <= 0)
		return;
	share = e->jit_time / e->total_exec_time;
	if (share < JIT_SHARE)
		return;
	lint_report(run, LINT_WARNING, -1,
				psprintf("{\"calls\": %.0f, \"jit_functions\": %.0f, \"jit_ms_per_call\": %.3f, \"jit_share\": %.3f}",
						 lint_finite(e->calls), lint_finite(e->jit_functions),
						 lint_finite(e->jit_time / e->calls), lint_finite(share)),
				"JIT compilation takes %.0f%% of this statement's execution time (%.2f ms per call over %.0f calls)",
				100 * share, e->jit_time / e->calls, e->calls);
}
