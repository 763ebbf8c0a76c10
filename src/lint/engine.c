/*-------------------------------------------------------------------------
 *
 * engine.c
 *	  Parse a text with libpg_query and walk each statement once, calling
 *	  every enabled rule on every node.
 *
 * The walk keeps the chain of ancestors, so a rule can ask where a node
 * stands (inside EXISTS, under a SubLink) without walking again. Utility
 * statements are walked only where they hold a query (EXPLAIN, CREATE
 * TABLE AS, CREATE VIEW, DECLARE, COPY, PREPARE): the raw tree walker knows
 * only the nodes of queries. Other utility statements (CREATE TABLE, ALTER
 * TABLE...) are shown to the rules as one node, not walked. Nesting deeper than LINT_MAX_DEPTH is not
 * descended into, so no input can exhaust the stack.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lint/lint.h"
#include "nodes/nodeFuncs.h"
#include "parse/sqlscan.h"

#include <ctype.h>

#include <pg_query.h>
#include <pg_query/pg_query_internal.h>

/*
 * Memory the engine keeps across libpg_query contexts: malloc in the
 * offline command (palloc has no context before libpg_query makes one),
 * palloc in a backend (freed with the caller's context, even on error).
 */
static char *
lint_strndup(const char *s, int len)
{
#ifdef PIPEOPT_LINT_CLI
	char	   *p = malloc(len + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
#else
	return pnstrdup(s, len);
#endif
}

static void
lint_free(void *p)
{
#ifdef PIPEOPT_LINT_CLI
	free(p);
#else
	pfree(p);
#endif
}

/* Call every enabled rule on one node. */
static void
visit_rules(Node *node, LintRun *run)
{
	for (int i = LINT_PARSE_ERROR + 1; i < pipeopt_lint_nrules; i++)
	{
		const LintRule *r = &pipeopt_lint_rules[i];

		if (r->visit && (run->enabled == NULL || run->enabled[i]))
		{
			run->current = r;
			r->visit(run, node);
		}
	}
}

static bool
visit_node(Node *node, LintRun *run)
{
	if (node == NULL)
		return false;
	if (run->depth >= LINT_MAX_DEPTH)
		return false;

	if (!IsA(node, List))
		visit_rules(node, run);

	run->ancestors[run->depth++] = node;
	(void) raw_expression_tree_walker(node, visit_node, (void *) run);
	run->depth--;
	return false;
}

/* The query inside a statement, or NULL for a statement without one. */
static Node *
walkable_part(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_SelectStmt:
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
		case T_MergeStmt:
			return stmt;
		case T_ExplainStmt:
			return walkable_part(((ExplainStmt *) stmt)->query);
		case T_CreateTableAsStmt:
			return walkable_part(((CreateTableAsStmt *) stmt)->query);
		case T_ViewStmt:
			return walkable_part(((ViewStmt *) stmt)->query);
		case T_DeclareCursorStmt:
			return walkable_part(((DeclareCursorStmt *) stmt)->query);
		case T_PrepareStmt:
			return walkable_part(((PrepareStmt *) stmt)->query);
		case T_CopyStmt:
			return ((CopyStmt *) stmt)->query ?
				walkable_part(((CopyStmt *) stmt)->query) : NULL;
		default:
			return NULL;
	}
}

/*
 * Where a statement really starts: the parser's stmt_location is just after
 * the previous semicolon, before blanks and comments.
 */
static int
statement_start(const char *text, int location)
{
	const char *p = text + location;

	while (*p)
	{
		SqlTokenKind kind;
		const char *end = sql_next_token(text, p, &kind);

		if (kind == SQLTOK_COMMENT || (kind == SQLTOK_CHAR && isspace((unsigned char) *p)))
			p = end;
		else
			break;
	}
	return (int) (p - text);
}

/* Lint the statements of one parse tree; offset: where its text starts. */
static void
lint_tree(LintRun *run, List *tree, int offset, int *n)
{
	ListCell   *lc;

	run->stmts = tree;
	foreach(lc, tree)
	{
		RawStmt    *raw = lfirst_node(RawStmt, lc);
		Node	   *query = walkable_part(raw->stmt);

		run->statement = ++(*n);
		run->stmt_location = statement_start(run->text, offset + raw->stmt_location);
		run->current_stmt = raw;
		run->offset = offset;
		run->depth = 0;
		if (query)
			visit_node(query, run);
		else
			visit_rules(raw->stmt, run);	/* DDL: its node only, not walked */
		if (run->catalog && query == raw->stmt)
			run->catalog->analyze(run);
		lint_flush(run);
	}
}

/*
 * Byte offset of a 1-based character position, as libpg_query reports a
 * parse error's place (texts are UTF-8; the offset is clamped to the text).
 */
static int
char_to_byte(const char *text, int cursorpos)
{
	int			chars = 0;
	int			i;

	for (i = 0; text[i]; i++)
	{
		if (((unsigned char) text[i] & 0xC0) == 0x80)
			continue;			/* a continuation byte */
		if (++chars == cursorpos)
			return i;
	}
	return cursorpos > 0 ? i : 0;
}

/*
 * Parse text (a part of run->text starting at offset) and lint it; report
 * a parse error as a finding if asked to.
 */
static bool
lint_part(LintRun *run, const char *text, int offset, int *n, bool report)
{
	MemoryContext pgq_cxt = pg_query_enter_memory_context();
	PgQueryInternalParsetreeAndError r = pg_query_raw_parse(text);
	bool		ok = (r.error == NULL);

	/* pending findings live in this part's context (the command's palloc) */
	run->pending = NULL;
	run->npending = run->maxpending = 0;

	if (ok)
	{
#ifndef PIPEOPT_LINT_CLI
		/*
		 * In a backend, an error in a rule or in the caller's emit (stack
		 * depth, a value out of range) must not leak the parse tree, which
		 * lives in libpg_query's own context.
		 */
		PG_TRY();
		{
			lint_tree(run, r.tree, offset, n);
		}
		PG_CATCH();
		{
			if (r.stderr_buffer)
				free(r.stderr_buffer);
			pg_query_exit_memory_context(pgq_cxt);
			run->npending = 0;
			PG_RE_THROW();
		}
		PG_END_TRY();
#else
		lint_tree(run, r.tree, offset, n);
#endif
	}
	else
	{
		int			pos = char_to_byte(text, r.error->cursorpos);

		run->statement = ++(*n);
		run->stmt_location = offset;
		run->offset = offset;
		run->current = &pipeopt_lint_rules[LINT_PARSE_ERROR];
		if (report && (run->enabled == NULL || run->enabled[LINT_PARSE_ERROR]))
		{
			lint_report(run, LINT_ERROR, pos, NULL, "%s", r.error->message);
			lint_flush(run);
		}
		pg_query_free_error(r.error);
	}
	if (r.stderr_buffer)
		free(r.stderr_buffer);
	pg_query_exit_memory_context(pgq_cxt);
	return ok;
}

/*
 * Lint the statements of sql one by one, split at semicolons (outside
 * parentheses too if by_parens). False, having linted nothing, when
 * by_parens and a parenthesis is left open at the end.
 */
static bool
lint_split(LintRun *run, const char *sql, bool by_parens)
{
	int			n = 0;
	int			parens = 0;
	const char *p;

	if (by_parens)
	{
		for (p = sql; *p;)
		{
			SqlTokenKind kind;
			const char *end = sql_next_token(sql, p, &kind);

			if (kind == SQLTOK_CHAR && *p == '(')
				parens++;
			else if (kind == SQLTOK_CHAR && *p == ')' && parens > 0)
				parens--;
			p = end;
		}
		if (parens > 0)
			return false;
	}

	for (const char *start = (p = sql);;)
	{
		SqlTokenKind kind = SQLTOK_CHAR;
		const char *end = *p ? sql_next_token(sql, p, &kind) : p;

		if (*p == '\0' || (kind == SQLTOK_CHAR && *p == ';' && parens == 0))
		{
			char	   *part = lint_strndup(start, (int) (p - start));

			if (part == NULL)
				break;
			(void) lint_part(run, part, (int) (start - sql), &n, true);
			lint_free(part);
			if (*p == '\0')
				break;
			start = end;
		}
		else if (by_parens && kind == SQLTOK_CHAR && *p == '(')
			parens++;
		else if (by_parens && kind == SQLTOK_CHAR && *p == ')' && parens > 0)
			parens--;
		p = end;
	}
	return true;
}

void
pipeopt_lint_text(const char *sql, const bool *enabled,
				  const LintEvidence *evidence, const LintCatalog *catalog,
				  LintEmit emit, void *arg)
{
	LintRun    *run;
	int			n = 0;

#ifdef PIPEOPT_LINT_CLI
	/* malloc: palloc may not have a context yet in the offline command */
	run = calloc(1, sizeof(LintRun));
	if (run == NULL)
		return;
#else
	/* in a backend, freed with the caller's context even after an error */
	run = palloc0(sizeof(LintRun));
#endif
	run->text = sql;
	run->enabled = enabled;
	run->evidence = evidence;
	run->catalog = catalog;
	run->emit = emit;
	run->arg = arg;

	if (lint_part(run, sql, 0, &n, false))
	{
		lint_free(run);
		return;
	}

	/*
	 * A statement does not parse: split the text at semicolons outside
	 * quotes, comments and parentheses, and lint the statements one by one,
	 * so the others still get their findings and the error points at the
	 * statement that has it. If a parenthesis is never closed, the split
	 * ignores parentheses instead (the broken statement swallowed the rest).
	 */
	if (!lint_split(run, sql, true))
		(void) lint_split(run, sql, false);
	lint_free(run);
}

const char *
pipeopt_lint_severity_name(LintSeverity s)
{
	switch (s)
	{
		case LINT_INFO:
			return "info";
		case LINT_WARNING:
			return "warning";
		case LINT_ERROR:
			return "error";
	}
	return "unknown";
}

int
pipeopt_lint_rule_index(const char *id)
{
	for (int i = 0; i < pipeopt_lint_nrules; i++)
		if (strcmp(pipeopt_lint_rules[i].id, id) == 0)
			return i;
	return -1;
}

/*
 * 1-based line and column (in characters) of a 0-based byte offset. The
 * cursor remembers the last answer: findings come in text order, so each
 * call scans only from the previous one (linear, not quadratic, in the
 * size of a file).
 */
void
pipeopt_lint_line_col(LintCursor *cur, const char *text, int location,
					  int *line, int *col)
{
	if (cur->offset > location || cur->line == 0)
	{
		cur->offset = 0;
		cur->line = 1;
		cur->col = 1;
	}
	for (; cur->offset < location && text[cur->offset]; cur->offset++)
	{
		if (text[cur->offset] == '\n')
		{
			cur->line++;
			cur->col = 1;
		}
		else if (((unsigned char) text[cur->offset] & 0xC0) != 0x80)
			cur->col++;
	}
	*line = cur->line;
	*col = cur->col;
}
