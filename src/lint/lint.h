/*-------------------------------------------------------------------------
 *
 * lint.h
 *	  The analyze stage's rule engine: what it offers the SQL API and the
 *	  offline pipeopt-lint command.
 *
 * The same sources build into pipeopt.so and into pipeopt-lint. Rule code
 * uses only what libpg_query.a also provides outside a server: palloc,
 * lists, StringInfo, raw_expression_tree_walker. It never switches memory
 * contexts, never uses PG_TRY, and never reads catalogs: the rules that need
 * them are server-only and come in through LintCatalog.
 *
 * Glossary: a rule has an id, a category and a default severity; a finding
 * is one rule's verdict on one place of one statement; a finding is
 * "undecided" (severity info, evidence "decided": false) when it depends on
 * a literal that the text does not show, as in normalized texts ($n).
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_LINT_H
#define PIPEOPT_LINT_H

#include "postgres.h"

#include "nodes/parsenodes.h"

typedef enum LintSeverity
{
	LINT_INFO = 0,
	LINT_WARNING,
	LINT_ERROR
} LintSeverity;

struct LintRun;

typedef struct LintRule
{
	const char *id;
	const char *category;		/* query, etl, schema */
	LintSeverity severity;		/* default severity */
	const char *needs;			/* the evidence it needs */
	const char *summary;
	const char *why;
	const char *fix;
	/* called for every node of every statement */
	void		(*visit) (struct LintRun *run, Node *node);
} LintRule;

typedef struct LintFinding
{
	const LintRule *rule;
	LintSeverity severity;
	int			statement;		/* 1-based number of the statement */
	int			location;		/* 0-based byte offset in the text, or -1 */
	const char *message;
	const char *evidence;		/* a JSON object */
} LintFinding;

typedef void (*LintEmit) (const LintFinding *finding, void *arg);

/*
 * The catalogs, inside a server only (pipeopt-lint has none). After the
 * tree rules have seen a statement, the engine hands it to analyze(), which
 * runs parse analysis and the rules that need catalogs (their visit is
 * NULL in the rule table). They report through lint_report() like the
 * others and may retract a tree rule's finding the catalogs disprove.
 */
typedef struct LintCatalog
{
	void		(*analyze) (struct LintRun *run);
	void	   *arg;
} LintCatalog;

/*
 * Runtime evidence of one captured statement, summed over the history
 * (pipeopt.analyze() passes it; lint of a bare text has none).
 */
typedef struct LintEvidence
{
	double		calls;
	double		rows;
	double		window_hours;	/* the span of history the sums cover */
	double		total_exec_time;	/* ms */
	double		total_plan_time;	/* ms */
	double		plans;
	double		shared_blks_hit;
	double		shared_blks_read;
	double		temp_blks_written;
	double		jit_functions;
	double		jit_time;		/* ms compiling */
	double		queryids;		/* pg_stat_statements entries it spans */
} LintEvidence;

#define LINT_MAX_DEPTH 2000

typedef struct LintRun
{
	const char *text;
	int			statement;
	int			stmt_location;	/* byte offset of the statement in text */
	List	   *stmts;			/* every RawStmt of the part being linted */
	RawStmt    *current_stmt;	/* the one being linted */
	int			offset;			/* node locations are relative to this */
	const bool *enabled;		/* per rule, in pipeopt_lint_rules order */
	const LintEvidence *evidence;	/* runtime evidence, or NULL */
	const LintCatalog *catalog; /* NULL: no catalog rules */
	LintEmit	emit;
	void	   *arg;
	Node	   *ancestors[LINT_MAX_DEPTH];
	int			depth;
	const LintRule *current;	/* the rule being visited */
	LintFinding *pending;		/* findings of the statement being linted */
	int			npending;
	int			maxpending;
} LintRun;

/* pipeopt_lint_rules[0]: the finding for a statement that does not parse */
#define LINT_PARSE_ERROR 0
extern const LintRule pipeopt_lint_rules[];
extern const int pipeopt_lint_nrules;

/*
 * Lint every statement of sql (enabled: one flag per rule, or NULL for
 * all). Findings are passed to emit while the parse tree is alive; copy
 * what you keep. A statement that does not parse is a "parse-error"
 * finding; the statements around it are still linted.
 */
extern void pipeopt_lint_text(const char *sql, const bool *enabled,
							  const LintEvidence *evidence,
							  const LintCatalog *catalog,
							  LintEmit emit, void *arg);

extern const char *pipeopt_lint_severity_name(LintSeverity s);
extern int	pipeopt_lint_rule_index(const char *id);
typedef struct LintCursor
{
	int			offset;
	int			line;			/* 0: not started */
	int			col;
} LintCursor;

extern void pipeopt_lint_line_col(LintCursor *cur, const char *text, int location,
								  int *line, int *col);

/* util.c: what rules share */
extern void lint_report(LintRun *run, LintSeverity severity, int location,
						const char *evidence, const char *fmt,...) pg_attribute_printf(5, 6);
extern void lint_reportv(LintRun *run, LintSeverity severity, int location,
						 const char *evidence, const char *fmt, va_list args) pg_attribute_printf(5, 0);
extern Node *lint_parent(LintRun *run, int up);
extern bool lint_is_root(LintRun *run);
extern bool lint_in_exists(LintRun *run);
extern bool lint_funcname_is(List *funcname, const char *name);
extern bool lint_is_aggregate_call(FuncCall *fc, bool *known);
extern void lint_flush(LintRun *run);
extern void lint_retract(LintRun *run, int rule, int location);
extern bool lint_const_int(Node *node, long *value);
extern bool lint_is_param(Node *node);
extern double lint_finite(double v);
extern const char *lint_const_string(Node *node);
extern const char *lint_column_qualifier(ColumnRef *cref);
extern char *lint_json_string(const char *s);

#endif							/* PIPEOPT_LINT_H */
