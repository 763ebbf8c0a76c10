/*-------------------------------------------------------------------------
 *
 * bundle_read.c
 *	  Read a workload bundle in pipeopt-lint: one lz4 frame of JSON lines
 *	  (docs/bundle.md). Its records are flat objects that pipeopt itself
 *	  writes, so a small reader of flat JSON objects does; a nested value
 *	  (the header's "source") is skipped. Samples are summed per statement
 *	  into the evidence the runtime rules read; the span of the captures
 *	  gives the window.
 *
 *	  Uses malloc only: it runs before libpg_query's memory context exists.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <lz4frame.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bundle_read.h"

#define MAX_FIELDS 64

static const unsigned char lz4_magic[4] = {0x04, 0x22, 0x4D, 0x18};

bool
bundle_is_lz4(const char *data, size_t len)
{
	return len >= 4 && memcmp(data, lz4_magic, 4) == 0;
}

static char *
decompress(const char *src, size_t srclen, size_t *outlen, const char **error)
{
	LZ4F_dctx  *dctx;
	size_t		cap = srclen * 4 + 65536;
	char	   *out = malloc(cap);
	size_t		pos = 0,
				used = 0,
				hint = 1;

	if (out == NULL || LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
	{
		*error = "out of memory";
		free(out);
		return NULL;
	}
	while (pos < srclen && hint != 0)
	{
		size_t		in = srclen - pos;
		size_t		room;

		if (cap - used < 65536)
		{
			char	   *bigger = realloc(out, cap * 2);

			if (bigger == NULL)
			{
				*error = "out of memory";
				break;
			}
			out = bigger;
			cap *= 2;
		}
		room = cap - used - 1;
		hint = LZ4F_decompress(dctx, out + used, &room, src + pos, &in, NULL);
		if (LZ4F_isError(hint))
		{
			*error = "corrupt workload bundle: lz4 cannot decompress it";
			break;
		}
		pos += in;
		used += room;
	}
	LZ4F_freeDecompressionContext(dctx);
	if (*error == NULL && hint != 0)
		*error = "corrupt workload bundle: the lz4 frame is truncated";
	if (*error)
	{
		free(out);
		return NULL;
	}
	out[used] = '\0';
	*outlen = used;
	return out;
}

/* Append the UTF-8 encoding of a code point. */
static char *
put_utf8(char *o, unsigned int cp)
{
	if (cp < 0x80)
		*o++ = (char) cp;
	else if (cp < 0x800)
	{
		*o++ = (char) (0xC0 | (cp >> 6));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	else if (cp < 0x10000)
	{
		*o++ = (char) (0xE0 | (cp >> 12));
		*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	else
	{
		*o++ = (char) (0xF0 | (cp >> 18));
		*o++ = (char) (0x80 | ((cp >> 12) & 0x3F));
		*o++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*o++ = (char) (0x80 | (cp & 0x3F));
	}
	return o;
}

/* Four hex digits at s as a number; false if they are not. */
static bool
hex4(const char *s, unsigned int *out)
{
	*out = 0;
	for (int i = 0; i < 4; i++)
	{
		char		c = s[i];
		int			d = (c >= '0' && c <= '9') ? c - '0' :
			(c >= 'a' && c <= 'f') ? c - 'a' + 10 :
			(c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;

		if (d < 0)
			return false;
		*out = *out * 16 + d;
	}
	return true;
}

/*
 * Read a JSON string starting at *p (on the quote), unescaping in place;
 * returns it, *p after the closing quote; NULL if malformed.
 */
static char *
read_string(char **p)
{
	char	   *s = *p + 1;
	char	   *o = s;
	char	   *start = s;

	while (*s && *s != '"')
	{
		if (*s != '\\')
		{
			*o++ = *s++;
			continue;
		}
		s++;
		switch (*s)
		{
			case 'n':
				*o++ = '\n';
				break;
			case 't':
				*o++ = '\t';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case 'b':
				*o++ = '\b';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'u':
				{
					unsigned int cp,
								lo;

					if (!hex4(s + 1, &cp))
						return NULL;
					s += 4;
					/* a surrogate pair; a lone surrogate becomes U+FFFD */
					if (cp >= 0xD800 && cp < 0xDC00 && s[1] == '\\' && s[2] == 'u' &&
						hex4(s + 3, &lo) && lo >= 0xDC00 && lo < 0xE000)
					{
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
						s += 6;
					}
					else if (cp >= 0xD800 && cp < 0xE000)
						cp = 0xFFFD;
					o = put_utf8(o, cp);
					break;
				}
			case '\0':
				return NULL;
			default:			/* " \ / */
				*o++ = *s;
		}
		s++;
	}
	if (*s != '"')
		return NULL;
	*o = '\0';
	*p = s + 1;
	return start;
}

/* Skip a nested object or array starting at *p; false if malformed. */
static bool
skip_nested(char **p)
{
	int			depth = 0;
	char	   *s = *p;

	while (*s)
	{
		if (*s == '"')
		{
			if (read_string(&s) == NULL)
				return false;
			continue;
		}
		if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']')
		{
			if (--depth == 0)
			{
				*p = s + 1;
				return true;
			}
		}
		s++;
	}
	return false;
}

/*
 * Parse a flat JSON object in place: up to MAX_FIELDS keys and values
 * (strings unescaped, numbers and literals as written, nested values NULL).
 * Returns the number of fields, or -1 if the line is not such an object.
 */
static int
parse_object(char *line, char **keys, char **vals)
{
	char	   *p = line;
	int			n = 0;

	while (*p == ' ')
		p++;
	if (*p++ != '{')
		return -1;
	for (;;)
	{
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '}')
			return n;
		if (*p != '"' || n == MAX_FIELDS)
			return -1;
		if ((keys[n] = read_string(&p)) == NULL)
			return -1;
		while (*p == ' ')
			p++;
		if (*p++ != ':')
			return -1;
		while (*p == ' ')
			p++;
		if (*p == '"')
		{
			if ((vals[n] = read_string(&p)) == NULL)
				return -1;
		}
		else if (*p == '{' || *p == '[')
		{
			vals[n] = NULL;
			if (!skip_nested(&p))
				return -1;
		}
		else
		{
			char	   *end = p + strcspn(p, ",}");

			if (*end == '\0')
				return -1;
			vals[n] = p;
			p = end;
			if (*p == ',')
				*p++ = '\0';
			else
			{
				*p = '\0';
				return n + 1;
			}
		}
		n++;
	}
}

static const char *
field(char **keys, char **vals, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], key) == 0)
			return vals[i];
	return NULL;
}

static double
number(char **keys, char **vals, int n, const char *key)
{
	const char *v = field(keys, vals, n, key);

	return v ? strtod(v, NULL) : 0;
}

/* Seconds since the epoch of an ISO 8601 time as the bundle writes it. */
static double
epoch_of(const char *ts, bool *ok)
{
	struct tm	tm;
	int			y,
				mo,
				d,
				h,
				mi,
				oh = 0,
				om = 0,
				consumed = 0;
	double		sec;
	const char *z;

	*ok = false;
	if (ts == NULL || sscanf(ts, "%d-%d-%dT%d:%d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &consumed) < 6)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	z = ts + consumed;
	if ((*z == '+' || *z == '-') && sscanf(z + 1, "%d:%d", &oh, &om) >= 1)
	{
		int			off = (oh * 3600 + om * 60) * (*z == '-' ? -1 : 1);

		*ok = true;
		return (double) timegm(&tm) + sec - off;
	}
	*ok = true;
	return (double) timegm(&tm) + sec;
}

BundleStatement *
bundle_read(const char *data, size_t len, int *nstmts, const char **error)
{
	size_t		textlen;
	char	   *text;
	BundleStatement *stmts;

	*error = NULL;
	text = decompress(data, len, &textlen, error);
	if (text == NULL)
		return NULL;
	stmts = bundle_parse(text, nstmts, error);
	free(text);
	return stmts;
}

static int
by_fingerprint(const void *a, const void *b)
{
	return strcmp(((const BundleStatement *) a)->fingerprint,
				  ((const BundleStatement *) b)->fingerprint);
}

BundleStatement *
bundle_parse(char *text, int *nstmts, const char **error)
{
	bool		sorted = false;
	char	   *line;
	char	   *next;
	BundleStatement *stmts = NULL;
	int			n = 0,
				cap = 0,
				lineno = 0;
	bool		ended = false;
	double		first = 0,
				last = 0;
	bool		have_span = false;

	*error = NULL;
	*nstmts = 0;
	for (line = text; line && *line; line = next)
	{
		char	   *keys[MAX_FIELDS];
		char	   *vals[MAX_FIELDS];
		int			nf;
		const char *type;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (*line == '\0')
			continue;
		nf = parse_object(line, keys, vals);
		if (nf < 0)
		{
			*error = "corrupt workload bundle: a record is not a JSON object";
			break;
		}
		type = field(keys, vals, nf, "type");
		if (lineno == 1)
		{
			const char *fmt = field(keys, vals, nf, "format");
			const char *ver = field(keys, vals, nf, "version");

			if (fmt == NULL || strcmp(fmt, "pipeopt-workload") != 0)
				*error = "not a pipeopt workload bundle";
			else if (ver == NULL || strcmp(ver, "1") != 0)
				*error = "unsupported workload bundle version (this pipeopt-lint reads version 1)";
			if (*error)
				break;
			continue;
		}
		if (type == NULL)
			continue;
		if (strcmp(type, "end") == 0)
			ended = true;
		else if (strcmp(type, "statement") == 0)
		{
			const char *fp = field(keys, vals, nf, "fingerprint");
			const char *q = field(keys, vals, nf, "query");

			if (fp == NULL || q == NULL)
			{
				*error = "corrupt workload bundle: a statement record lacks its fingerprint or query";
				break;
			}
			if (n == cap)
			{
				BundleStatement *bigger;

				cap = cap ? cap * 2 : 64;
				bigger = realloc(stmts, sizeof(BundleStatement) * cap);
				if (bigger == NULL)
				{
					*error = "out of memory";
					break;
				}
				stmts = bigger;
			}
			memset(&stmts[n], 0, sizeof(BundleStatement));
			stmts[n].fingerprint = strdup(fp);
			stmts[n].query = strdup(q);
			stmts[n].evidence.queryids = number(keys, vals, nf, "queryids");
			n++;
		}
		else if (strcmp(type, "capture") == 0)
		{
			bool		ok1,
						ok2;
			double		end = epoch_of(field(keys, vals, nf, "captured_at"), &ok1);
			double		start = epoch_of(field(keys, vals, nf, "interval_start"), &ok2);

			if (!ok2)
				start = end;
			if (ok1)
			{
				if (!have_span || start < first)
					first = start;
				if (!have_span || end > last)
					last = end;
				have_span = true;
			}
		}
		else if (strcmp(type, "sample") == 0)
		{
			const char *fp = field(keys, vals, nf, "fingerprint");
			BundleStatement key;
			BundleStatement *st;

			/* statements come before samples: sort them once, then search */
			if (!sorted && n > 1)
				qsort(stmts, n, sizeof(BundleStatement), by_fingerprint);
			sorted = true;
			key.fingerprint = (char *) fp;
			st = (fp && n > 0) ? bsearch(&key, stmts, n, sizeof(BundleStatement), by_fingerprint) : NULL;
			if (st != NULL)
			{
				LintEvidence *e = &st->evidence;

				st->has_evidence = true;
				e->calls += number(keys, vals, nf, "calls");
				e->rows += number(keys, vals, nf, "rows");
				e->plans += number(keys, vals, nf, "plans");
				e->total_exec_time += number(keys, vals, nf, "total_exec_time");
				e->total_plan_time += number(keys, vals, nf, "total_plan_time");
				e->shared_blks_hit += number(keys, vals, nf, "shared_blks_hit");
				e->shared_blks_read += number(keys, vals, nf, "shared_blks_read");
				e->temp_blks_written += number(keys, vals, nf, "temp_blks_written");
				e->jit_functions += number(keys, vals, nf, "jit_functions");
				e->jit_time += number(keys, vals, nf, "jit_time");
			}
		}
	}
	if (*error == NULL && !ended)
		*error = "corrupt workload bundle: it is truncated (no end record)";
	if (*error)
	{
		for (int i = 0; i < n; i++)
		{
			free(stmts[i].fingerprint);
			free(stmts[i].query);
		}
		free(stmts);
		return NULL;
	}
	for (int i = 0; i < n; i++)
		stmts[i].evidence.window_hours = have_span ? (last - first) / 3600.0 : 0;
	*nstmts = n;
	return stmts;
}
