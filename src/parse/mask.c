/*-------------------------------------------------------------------------
 *
 * mask.c
 *	  Mask the string literals of a text.
 *
 * Used for texts that libpg_query cannot parse (they may be utility
 * statements that pg_stat_statements kept verbatim, with a password or a
 * key) and for utility statements after pg_query_normalize(), which leaves
 * some literals in. Every string constant ('..', E'..', U&'..', B'..',
 * X'..', $tag$..$tag$) becomes '?'; quoted identifiers and comments are
 * copied as they are; an unterminated literal is masked to the end.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "parse/parse.h"
#include "parse/sqlscan.h"

char *
pipeopt_mask_literals(const char *text)
{
	StringInfoData buf;
	const char *p = text;

	initStringInfo(&buf);
	while (*p)
	{
		SqlTokenKind kind;
		const char *end = sql_next_token(text, p, &kind);

		if (kind == SQLTOK_STRING)
			appendStringInfoString(&buf, "'?'");
		else
			appendBinaryStringInfo(&buf, p, (int) (end - p));
		p = end;
	}
	return buf.data;
}
