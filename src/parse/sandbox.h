/*-------------------------------------------------------------------------
 *
 * sandbox.h
 *	  Analyzing and planning a user's statement safely: shared by the lint
 *	  stage's catalog rules and the index advisor.
 *
 * A captured statement is analyzed (and planned) as the role that ran it,
 * in a security-restricted context, as PostgreSQL does for index
 * expressions: no superuser ever resolves a user's names or runs a user's
 * function (constant folding runs IMMUTABLE functions). The work happens
 * in a subtransaction that is always rolled back, under a lock timeout:
 * its locks end with it, and an ordinary error in it becomes a return
 * value. Nothing is executed; no hook sees the statement.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_SANDBOX_H
#define PIPEOPT_SANDBOX_H

#include "postgres.h"
#include "nodes/parsenodes.h"

/*
 * Run fn(arg) as role with search_path (NULL: the caller's) and
 * lock_timeout = pipeopt.capture_lock_timeout, in a subtransaction rolled
 * back afterwards, with CurrentMemoryContext a child of the caller's that
 * is deleted afterwards: fn copies what it keeps into a context it knows.
 * Returns true, or false with *error (the message, in the caller's
 * context) when fn threw an ordinary error; a cancel, a shutdown or an
 * out-of-memory error is rethrown.
 */
extern bool pipeopt_sandbox_run(Oid role, const char *search_path,
								void (*fn) (void *arg), void *arg, char **error);

/* The search_path role would log in with in this database. */
extern char *pipeopt_login_search_path(Oid role);

/* Is a raw statement one the sandbox analyzes: SELECT, INSERT, UPDATE, DELETE? */
extern bool pipeopt_sandbox_dml(Node *raw);

/*
 * Parse analysis of a raw statement (libpg_query's or the server's: it is
 * copied first), $n types inferred (returned in *types, *ntypes unless
 * NULL; InvalidOid for a $k the text does not use). text is what
 * locations count from. Call it inside the sandbox.
 */
extern Query *pipeopt_analyze_raw(RawStmt *raw, const char *text, Oid **types, int *ntypes);

#endif							/* PIPEOPT_SANDBOX_H */
