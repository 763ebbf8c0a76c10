/*-------------------------------------------------------------------------
 *
 * parse.c
 *	  Fingerprint, classify and normalize statement texts with libpg_query.
 *
 * A statement's identity is the libpg_query fingerprint of its normalized
 * text: stable across the OID churn that changes queryids (ETL jobs drop and
 * recreate tables), across servers and major versions.
 *
 * What is stored:
 *	  DML: pg_stat_statements already replaced its literals by $n; the text is
 *	  kept as it is (normalizing again would also turn type modifiers such as
 *	  numeric(10,2) into parameters, and the advisors must plan the text).
 *	  Utility statements: pg_stat_statements keeps them verbatim, passwords
 *	  included. pg_query_normalize() replaces most literals, but not all (it
 *	  leaves CREATE SERVER ... OPTIONS (password '...'), ALTER SYSTEM, COPY
 *	  file names): every string literal left in its output is masked too, and
 *	  the fingerprint is taken from that, never from the original. A text
 *	  holding several statements is a utility text if any of them is one.
 *	  Texts that do not parse: kept with every string literal masked, the
 *	  parse error beside them, identified by a hash of the masked text.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "nodes/parsenodes.h"
#include "parse/parse.h"

#include <pg_query.h>
/* after the server headers: it includes postgres.h again (guarded) */
#include <pg_query/pg_query_internal.h>

static char *
hash_fingerprint(const char *text)
{
	uint64		h = hash_bytes_extended((const unsigned char *) text,
										(int) strlen(text), 0);

	return psprintf("%016" INT64_MODIFIER "x", h);
}

/*
 * Fingerprint a text that parses; NULL if it does not.
 */
static char *
fingerprint_text(const char *text)
{
	PgQueryFingerprintResult r = pg_query_fingerprint(text);
	char	   *fp = NULL;

	if (r.error == NULL && r.fingerprint_str != NULL)
		fp = pstrdup(r.fingerprint_str);
	pg_query_free_fingerprint_result(r);
	return fp;
}

static const char *
dml_kind(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_SelectStmt:
			return "select";
		case T_InsertStmt:
			return "insert";
		case T_UpdateStmt:
			return "update";
		case T_DeleteStmt:
			return "delete";
		case T_MergeStmt:
			return "merge";
		default:
			return NULL;
	}
}

/* Kind of the first statement, or "utility" if any statement is one. */
static const char *
statement_kind(List *tree)
{
	ListCell   *lc;

	if (tree == NIL)
		return "utility";		/* only comments or an empty text */
	foreach(lc, tree)
	{
		if (dml_kind(lfirst_node(RawStmt, lc)->stmt) == NULL)
			return "utility";
	}
	return dml_kind(linitial_node(RawStmt, tree)->stmt);
}

char *
pipeopt_normalize(const char *text, char **error, int *error_position)
{
	PgQueryNormalizeResult r = pg_query_normalize(text);
	char	   *result = NULL;

	if (r.error)
	{
		if (error)
			*error = pstrdup(r.error->message);
		if (error_position)
			*error_position = r.error->cursorpos;
	}
	else
		result = pstrdup(r.normalized_query);
	pg_query_free_normalize_result(r);
	return result;
}

void
pipeopt_parse_statement(const char *text, PipeoptStatement *out)
{
	MemoryContext pgq_cxt;
	PgQueryInternalParsetreeAndError r;
	const char *kind = NULL;

	memset(out, 0, sizeof(*out));

	/* The tree lives in libpg_query's own context: classify it there. */
	pgq_cxt = pg_query_enter_memory_context();
	r = pg_query_raw_parse(text);
	if (r.error)
	{
		out->error = pstrdup(r.error->message);
		out->error_position = r.error->cursorpos;
		pg_query_free_error(r.error);
	}
	else
		kind = statement_kind(r.tree);
	if (r.stderr_buffer)
		free(r.stderr_buffer);
	pg_query_exit_memory_context(pgq_cxt);

	if (out->error == NULL && strcmp(kind, "utility") != 0)
	{
		out->kind = kind;
		out->query = pstrdup(text);
		out->fingerprint = fingerprint_text(text);
		if (out->fingerprint == NULL)	/* cannot happen: it just parsed */
			out->fingerprint = hash_fingerprint(text);
		return;
	}

	if (out->error == NULL)
	{
		char	   *nerr = NULL;
		int			npos = 0;
		char	   *normalized = pipeopt_normalize(text, &nerr, &npos);

		out->kind = kind;
		if (normalized != NULL)
		{
			out->query = pipeopt_mask_literals(normalized);
			/* a normalized utility text may not parse (PASSWORD $1) */
			out->fingerprint = fingerprint_text(out->query);
			if (out->fingerprint == NULL)
				out->fingerprint = hash_fingerprint(out->query);
			return;
		}
		out->error = nerr;
		out->error_position = npos;
	}

	out->kind = "unknown";
	out->query = pipeopt_mask_literals(text);
	out->fingerprint = hash_fingerprint(out->query);
}

/*
 * The raw statements of text, parsed by libpg_query (which also takes
 * normalized texts such as interval $2) and copied into the caller's
 * memory; NIL with *error set when the text does not parse.
 */
List *
pipeopt_parse_raw(const char *text, char **error)
{
	MemoryContext pgq_cxt;
	PgQueryInternalParsetreeAndError r;
	List	   *copy = NIL;

	*error = NULL;
	/* libpg_query's memory contexts are its own (see docs/internals.md) */
	pgq_cxt = pg_query_enter_memory_context();
	r = pg_query_raw_parse(text);
	if (r.stderr_buffer)
		free(r.stderr_buffer);
	if (r.error)
	{
		*error = pstrdup(r.error->message);
		pg_query_free_error(r.error);
		pg_query_exit_memory_context(pgq_cxt);
		return NIL;
	}
	PG_TRY();
	{
		/* the server's copyObject(): it errors out on a node it does not know */
		copy = copyObject(r.tree);
	}
	PG_FINALLY();
	{
		pg_query_exit_memory_context(pgq_cxt);
	}
	PG_END_TRY();
	return copy;
}
