/*-------------------------------------------------------------------------
 *
 * mask.c
 *	  Mask the string literals of a text that libpg_query could not parse.
 *
 * Such a text cannot be normalized by the parser, yet it may be a utility
 * statement that pg_stat_statements kept verbatim (a password, a key). A
 * small scanner that knows SQL's quoting rules replaces every string
 * constant ('..', E'..', U&'..', B'..', X'..', $tag$..$tag$) by '?'.
 * Quoted identifiers and comments are copied as they are. An unterminated
 * literal is masked to the end of the text.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "parse/parse.h"

static bool
is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || (unsigned char) c >= 0x80;
}

/* Length of a dollar-quote tag ($tag$ or $$) starting at s, or 0. */
static int
dollar_tag_length(const char *s)
{
	int			i = 1;

	if (s[0] != '$')
		return 0;
	if (s[1] >= '0' && s[1] <= '9')
		return 0;				/* $1 is a parameter */
	while (s[i] && s[i] != '$')
	{
		if (!is_ident_char(s[i]))
			return 0;
		i++;
	}
	return s[i] == '$' ? i + 1 : 0;
}

/* Skip a quoted string body starting after the opening quote. */
static const char *
skip_quoted(const char *p, bool backslash_escapes)
{
	while (*p)
	{
		if (backslash_escapes && *p == '\\' && p[1])
			p += 2;
		else if (*p == '\'' && p[1] == '\'')
			p += 2;
		else if (*p == '\'')
			return p + 1;
		else
			p++;
	}
	return p;
}

char *
pipeopt_mask_literals(const char *text)
{
	StringInfoData buf;
	const char *p = text;

	initStringInfo(&buf);
	while (*p)
	{
		int			tag;

		if (p[0] == '-' && p[1] == '-')
		{
			const char *e = strchr(p, '\n');
			int			n = e ? (int) (e - p) : (int) strlen(p);

			appendBinaryStringInfo(&buf, p, n);
			p += n;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			const char *e = strstr(p + 2, "*/");
			int			n = e ? (int) (e - p) + 2 : (int) strlen(p);

			appendBinaryStringInfo(&buf, p, n);
			p += n;
		}
		else if (*p == '"')
		{
			const char *q = p + 1;

			while (*q && !(*q == '"' && q[1] != '"'))
				q += (*q == '"') ? 2 : 1;
			if (*q)
				q++;
			appendBinaryStringInfo(&buf, p, (int) (q - p));
			p = q;
		}
		else if (*p == '\'' ||
				 ((*p == 'E' || *p == 'e') && p[1] == '\'' &&
				  (p == text || !is_ident_char(p[-1]))))
		{
			bool		esc = (*p != '\'');

			p = skip_quoted(p + (esc ? 2 : 1), esc);
			appendStringInfoString(&buf, "'?'");
		}
		else if ((tag = dollar_tag_length(p)) > 0 &&
				 (p == text || !is_ident_char(p[-1])))
		{
			char	   *delim = pnstrdup(p, tag);
			const char *e = strstr(p + tag, delim);

			p = e ? e + tag : p + strlen(p);
			appendStringInfoString(&buf, "'?'");
			pfree(delim);
		}
		else
		{
			appendStringInfoChar(&buf, *p);
			p++;
		}
	}
	return buf.data;
}
