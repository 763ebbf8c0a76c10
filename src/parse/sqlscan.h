/*-------------------------------------------------------------------------
 *
 * sqlscan.h
 *	  A lexer that knows only SQL's quoting: enough to mask literals and to
 *	  split statements in texts that do not parse. Built into pipeopt.so and
 *	  pipeopt-lint.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_SQLSCAN_H
#define PIPEOPT_SQLSCAN_H

typedef enum SqlTokenKind
{
	SQLTOK_CHAR,				/* any other single character */
	SQLTOK_COMMENT,				/* -- ... or a slash-star comment */
	SQLTOK_IDENT,				/* "quoted identifier" */
	SQLTOK_STRING				/* '..', E'..', $tag$..$tag$ (prefixes such
								 * as U& or B stay CHARs before it) */
} SqlTokenKind;

/*
 * The token that starts at p (text is the start of the whole text, to look
 * behind p); returns where it ends. An unterminated token ends at the NUL.
 */
extern const char *sql_next_token(const char *text, const char *p, SqlTokenKind *kind);

#endif							/* PIPEOPT_SQLSCAN_H */
