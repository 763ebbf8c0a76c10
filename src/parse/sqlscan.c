/*-------------------------------------------------------------------------
 *
 * sqlscan.c
 *	  Tokens of SQL's quoting rules (see sqlscan.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "parse/sqlscan.h"

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

const char *
sql_next_token(const char *text, const char *p, SqlTokenKind *kind)
{
	bool		word_before = (p > text && is_ident_char(p[-1]));
	int			tag;

	if (p[0] == '-' && p[1] == '-')
	{
		const char *e = strchr(p, '\n');

		*kind = SQLTOK_COMMENT;
		return e ? e : p + strlen(p);
	}
	if (p[0] == '/' && p[1] == '*')
	{
		/* block comments nest in PostgreSQL */
		const char *e = p + 2;
		int			depth = 1;

		while (*e && depth > 0)
		{
			if (e[0] == '/' && e[1] == '*')
			{
				depth++;
				e += 2;
			}
			else if (e[0] == '*' && e[1] == '/')
			{
				depth--;
				e += 2;
			}
			else
				e++;
		}
		*kind = SQLTOK_COMMENT;
		return e;
	}
	if (*p == '"')
	{
		const char *q = p + 1;

		while (*q && !(*q == '"' && q[1] != '"'))
			q += (*q == '"') ? 2 : 1;
		*kind = SQLTOK_IDENT;
		return *q ? q + 1 : q;
	}
	if (*p == '\'')
	{
		*kind = SQLTOK_STRING;
		return skip_quoted(p + 1, false);
	}
	if ((*p == 'E' || *p == 'e') && p[1] == '\'' && !word_before)
	{
		*kind = SQLTOK_STRING;
		return skip_quoted(p + 2, true);
	}
	if (*p == '$' && !word_before && (tag = dollar_tag_length(p)) > 0)
	{
		const char *e = p + tag;

		/* find the closing tag */
		while ((e = strchr(e, '$')) != NULL && strncmp(e, p, tag) != 0)
			e++;
		*kind = SQLTOK_STRING;
		return e ? e + tag : p + strlen(p);
	}
	*kind = SQLTOK_CHAR;
	return p + 1;
}
