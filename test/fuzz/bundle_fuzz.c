/*-------------------------------------------------------------------------
 *
 * bundle_fuzz.c
 *	  libFuzzer target for pipeopt-lint's bundle reader: any decompressed
 *	  bundle text (JSON lines) must be read or refused without a crash, a
 *	  hang or an AddressSanitizer report, and every statement it returns
 *	  must be lintable. Built by "make fuzz".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bundle_read.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ignore(const LintFinding *f, void *arg)
{
	(void) f;
	(void) arg;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size + 1);
	const char *error = NULL;
	int			n = 0;
	BundleStatement *stmts;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	stmts = bundle_parse(text, &n, &error);
	for (int i = 0; stmts && i < n; i++)
	{
		pipeopt_lint_text(stmts[i].query, NULL,
						  stmts[i].has_evidence ? &stmts[i].evidence : NULL,
						  NULL, ignore, NULL);
		free(stmts[i].fingerprint);
		free(stmts[i].query);
	}
	free(stmts);
	free(text);
	return 0;
}
