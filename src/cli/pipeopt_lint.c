/*-------------------------------------------------------------------------
 *
 * pipeopt_lint.c
 *	  pipeopt-lint: the rule engine of pipeopt as an offline command, for CI.
 *
 *	  pipeopt-lint [--format text|json|sarif] [--fail-on info|warning|error]
 *	               [--disable RULE[,RULE...]] [--list-rules] [FILE...]
 *
 * Lints each FILE ("-" or none: standard input): SQL text, or a workload
 * bundle from pipeopt.export_workload() (an lz4 frame), whose statements
 * are linted with the runtime evidence of their samples. Text output is
 * compiler-style, file:line:col: severity: rule: message, lines and columns
 * counted from 1; json is an array of findings; sarif is SARIF 2.1.0 for
 * code-scanning services. Exit status: 0 when no finding reaches --fail-on
 * (default warning), 1 when one does, 2 on a usage or input error.
 *
 * Built from the same rule sources as the extension, with the PostgreSQL
 * 15 server headers, linked with libpg_query.a as an ordinary library.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bundle_read.h"
#include "lint/lint.h"
#include "mb/pg_wchar.h"

/* port.h maps strerror to pg_strerror, which libpg_query.a does not carry */
#undef strerror

typedef enum Format
{
	FORMAT_TEXT,
	FORMAT_JSON,
	FORMAT_SARIF
} Format;

typedef struct Output
{
	Format		format;
	const char *file;
	const char *uri;			/* the file as a SARIF artifact location */
	const char *text;
	LintCursor	cursor;
	LintSeverity fail_on;
	int			failing;		/* findings at or above fail_on */
	int			printed;		/* JSON objects printed so far */
} Output;

static void
usage(FILE *out)
{
	fprintf(out,
			"Usage: pipeopt-lint [OPTION]... [FILE]...\n"
			"Find SQL anti-patterns in FILEs (or standard input).\n\n"
			"  --format text|json|sarif  output format (default text; sarif: SARIF 2.1.0)\n"
			"  --fail-on SEVERITY      exit 1 when a finding is at least info, warning\n"
			"                          or error (default warning)\n"
			"  --disable RULE[,RULE]   turn rules off\n"
			"  --list-rules            print the rules and exit\n"
			"  --help                  print this help and exit\n\n"
			"Exit status: 0 clean, 1 findings, 2 error.\n");
}

/*
 * Print s as a JSON string. Straight to stdout: the command may print
 * before libpg_query has set up the memory context that palloc needs.
 */
/*
 * path as a relative URI reference (RFC 3986), for SARIF's artifact
 * locations: unreserved characters and '/' kept, every other byte
 * percent-encoded (spaces, '#', '%', non-ASCII UTF-8). NULL if out of memory.
 */
static char *
uri_of(const char *path, const char *fragment)
{
	static const char hex[] = "0123456789ABCDEF";
	char	   *u = malloc(strlen(path) * 3 + (fragment ? strlen(fragment) + 1 : 0) + 1);
	char	   *p = u;

	if (u == NULL)
		return NULL;
	for (const unsigned char *c = (const unsigned char *) path; *c; c++)
	{
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			(*c >= '0' && *c <= '9') || strchr("-._~/", *c) != NULL)
			*p++ = (char) *c;
		else
		{
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	if (fragment)
		p += sprintf(p, "#%s", fragment);	/* a fingerprint: hex digits */
	*p = '\0';
	return u;
}

static void
json_out(const char *s)
{
	putchar('"');
	for (const char *p = s; *p; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void
print_finding(Output *out, int statement, const char *rule, LintSeverity sev,
			  int location, const char *message, const char *evidence)
{
	int			line = 0,
				col = 0;

	if (location >= 0)
		pipeopt_lint_line_col(&out->cursor, out->text, location, &line, &col);
	else
		line = col = 1;
	if (sev >= out->fail_on)
		out->failing++;

	if (out->format == FORMAT_TEXT)
		printf("%s:%d:%d: %s: %s: %s\n", out->file, line, col,
			   pipeopt_lint_severity_name(sev), rule, message);
	else if (out->format == FORMAT_SARIF)
	{
		/* SARIF levels: note, warning, error */
		printf("%s\n        {\"ruleId\": \"%s\", \"ruleIndex\": %d, \"level\": \"%s\", \"message\": {\"text\": ",
			   out->printed ? "," : "", rule, pipeopt_lint_rule_index(rule),
			   sev == LINT_INFO ? "note" : pipeopt_lint_severity_name(sev));
		json_out(message);
		printf("}, \"locations\": [{\"physicalLocation\": {\"artifactLocation\": {\"uri\": ");
		json_out(out->uri);
		printf("}, \"region\": {\"startLine\": %d, \"startColumn\": %d, \"byteOffset\": %d}}}], "
			   "\"properties\": {\"statement\": %d, \"evidence\": %s}}",
			   line, col, location >= 0 ? location : 0, statement, evidence);
		out->printed++;
	}
	else
	{
		printf("%s\n  {\"file\": ", out->printed ? "," : "");
		json_out(out->file);
		printf(", \"statement\": %d, \"line\": %d, \"column\": %d, \"offset\": %d, "
			   "\"severity\": \"%s\", \"rule\": \"%s\", \"message\": ",
			   statement, line, col, location, pipeopt_lint_severity_name(sev), rule);
		json_out(message);
		printf(", \"evidence\": %s}", evidence);
		out->printed++;
	}
}

static void
emit(const LintFinding *f, void *arg)
{
	print_finding((Output *) arg, f->statement, f->rule->id, f->severity,
				  f->location, f->message, f->evidence);
}

/* Whole file (or stdin) as a NUL-terminated string; NULL on error. */
static char *
read_input(const char *path, size_t *len)
{
	FILE	   *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t		cap = 65536;
	char	   *buf;

	*len = 0;
	if (fp == NULL)
		return NULL;
	buf = malloc(cap);
	while (buf)
	{
		size_t		n = fread(buf + *len, 1, cap - *len - 1, fp);

		*len += n;
		if (n == 0)
			break;
		if (*len + 1 == cap)
		{
			char	   *bigger = realloc(buf, cap * 2);

			if (bigger == NULL)
			{
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	if (ferror(fp))
	{
		free(buf);
		buf = NULL;
	}
	if (fp != stdin)
		fclose(fp);
	if (buf)
		buf[*len] = '\0';
	return buf;
}

/* The SARIF log up to its results: the tool and every rule it has. */
static void
sarif_begin(void)
{
	printf("{\n  \"version\": \"2.1.0\",\n"
		   "  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n"
		   "  \"runs\": [\n    {\n"
		   "      \"tool\": {\"driver\": {\"name\": \"pipeopt-lint\", \"version\": \"0.1\", \"rules\": [");
	for (int r = 0; r < pipeopt_lint_nrules; r++)
	{
		const LintRule *rule = &pipeopt_lint_rules[r];

		printf("%s\n        {\"id\": \"%s\", \"shortDescription\": {\"text\": ", r ? "," : "", rule->id);
		json_out(rule->summary);
		printf("}, \"fullDescription\": {\"text\": ");
		json_out(rule->why);
		printf("}, \"help\": {\"text\": ");
		json_out(rule->fix);
		printf("}, \"defaultConfiguration\": {\"level\": \"%s\"}, \"properties\": {\"category\": \"%s\", \"needs\": ",
			   rule->severity == LINT_INFO ? "note" : pipeopt_lint_severity_name(rule->severity),
			   rule->category);
		json_out(rule->needs);
		printf("}}");
	}
	printf("\n      ]}},\n      \"results\": [");
}

static bool
parse_severity(const char *s, LintSeverity *out)
{
	for (LintSeverity v = LINT_INFO; v <= LINT_ERROR; v++)
		if (strcmp(s, pipeopt_lint_severity_name(v)) == 0)
		{
			*out = v;
			return true;
		}
	return false;
}

int
main(int argc, char **argv)
{
	Output		out = {FORMAT_TEXT, NULL, NULL, NULL, {0, 0, 0}, LINT_WARNING, 0, 0};
	bool	   *enabled = calloc(pipeopt_lint_nrules, sizeof(bool));
	const char **files = calloc(argc + 1, sizeof(char *));
	int			nfiles = 0;
	bool		input_error = false;

	for (int i = 0; i < pipeopt_lint_nrules; i++)
		enabled[i] = true;

	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0)
		{
			usage(stdout);
			return 0;
		}
		else if (strcmp(a, "--list-rules") == 0)
		{
			for (int r = 0; r < pipeopt_lint_nrules; r++)
				printf("%-36s %-7s %-8s %s\n", pipeopt_lint_rules[r].id,
					   pipeopt_lint_rules[r].category,
					   pipeopt_lint_severity_name(pipeopt_lint_rules[r].severity),
					   pipeopt_lint_rules[r].summary);
			return 0;
		}
		else if (strcmp(a, "--format") == 0 && i + 1 < argc)
		{
			const char *f = argv[++i];

			if (strcmp(f, "text") == 0)
				out.format = FORMAT_TEXT;
			else if (strcmp(f, "json") == 0)
				out.format = FORMAT_JSON;
			else if (strcmp(f, "sarif") == 0)
				out.format = FORMAT_SARIF;
			else
			{
				fprintf(stderr, "pipeopt-lint: unknown format \"%s\" (text, json or sarif)\n", f);
				return 2;
			}
		}
		else if (strcmp(a, "--fail-on") == 0 && i + 1 < argc)
		{
			if (!parse_severity(argv[++i], &out.fail_on))
			{
				fprintf(stderr, "pipeopt-lint: unknown severity \"%s\" (info, warning or error)\n", argv[i]);
				return 2;
			}
		}
		else if (strcmp(a, "--disable") == 0 && i + 1 < argc)
		{
			char	   *list = strdup(argv[++i]);

			for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
			{
				int			r = pipeopt_lint_rule_index(tok);

				if (r < 0)
				{
					fprintf(stderr, "pipeopt-lint: unknown rule \"%s\" (see --list-rules)\n", tok);
					return 2;
				}
				enabled[r] = false;
			}
			free(list);
		}
		else if (a[0] == '-' && a[1] == '-')
		{
			fprintf(stderr, "pipeopt-lint: unknown option \"%s\"\n", a);
			usage(stderr);
			return 2;
		}
		else
			files[nfiles++] = a;
	}
	if (nfiles == 0)
		files[nfiles++] = "-";

	if (out.format == FORMAT_JSON)
		printf("[");
	else if (out.format == FORMAT_SARIF)
		sarif_begin();
	for (int i = 0; i < nfiles; i++)
	{
		size_t		len;
		char	   *text = read_input(files[i], &len);

		char	   *uri = strcmp(files[i], "-") == 0 ? strdup("stdin") : uri_of(files[i], NULL);

		out.file = strcmp(files[i], "-") == 0 ? "<stdin>" : files[i];
		out.uri = uri ? uri : "";
		if (text == NULL)
		{
			free(uri);
			fprintf(stderr, "pipeopt-lint: cannot read \"%s\": %s\n", out.file, strerror(errno));
			input_error = true;
			continue;
		}
		out.text = text;
		memset(&out.cursor, 0, sizeof(out.cursor));
		if (bundle_is_lz4(text, len))
		{
			/* a workload bundle: its statements, with their evidence */
			int			n = 0;
			const char *error = NULL;
			BundleStatement *stmts = bundle_read(text, len, &n, &error);

			if (stmts == NULL)
			{
				fprintf(stderr, "pipeopt-lint: %s: %s\n", out.file, error);
				input_error = true;
			}
			for (int s = 0; s < n; s++)
			{
				char	   *where = malloc(strlen(out.file) + strlen(stmts[s].fingerprint) + 2);
				char	   *where_uri = strcmp(files[i], "-") == 0 ? NULL :
					uri_of(files[i], stmts[s].fingerprint);

				sprintf(where, "%s#%s", out.file, stmts[s].fingerprint);
				out.file = where;
				out.uri = where_uri ? where_uri : where;
				out.text = stmts[s].query;
				memset(&out.cursor, 0, sizeof(out.cursor));
				/* the same checks as a file's text (\u escapes can make anything) */
				if (!pg_verify_mbstr(PG_UTF8, stmts[s].query, (int) strlen(stmts[s].query), true))
				{
					if (enabled[LINT_PARSE_ERROR])
						print_finding(&out, 0, "parse-error", LINT_ERROR, -1,
									  "the statement is not valid UTF-8", "{}");
				}
				else
					pipeopt_lint_text(stmts[s].query, enabled,
									  stmts[s].has_evidence ? &stmts[s].evidence : NULL,
									  NULL, emit, &out);
				out.file = strcmp(files[i], "-") == 0 ? "<stdin>" : files[i];
				out.uri = uri ? uri : "";
				free(where);
				free(where_uri);
				free(stmts[s].fingerprint);
				free(stmts[s].query);
			}
			free(stmts);
		}
		else if (memchr(text, '\0', len) != NULL)
		{
			if (enabled[LINT_PARSE_ERROR])
				print_finding(&out, 0, "parse-error", LINT_ERROR, (int) ((char *) memchr(text, '\0', len) - text),
							  "the input contains a NUL byte: not SQL text", "{}");
		}
		else if (!pg_verify_mbstr(PG_UTF8, text, (int) len, true))
		{
			if (enabled[LINT_PARSE_ERROR])
				print_finding(&out, 0, "parse-error", LINT_ERROR, -1,
							  "the input is not valid UTF-8", "{}");
		}
		else
			pipeopt_lint_text(text, enabled, NULL, NULL, emit, &out);
		free(text);
		free(uri);
	}
	if (out.format == FORMAT_JSON)
		printf("%s]\n", out.printed ? "\n" : "");
	else if (out.format == FORMAT_SARIF)
		printf("%s      ]\n    }\n  ]\n}\n", out.printed ? "\n" : "");

	if (input_error)
		return 2;
	return out.failing > 0 ? 1 : 0;
}
