/*-------------------------------------------------------------------------
 *
 * lint_fuzz.c
 *	  libFuzzer target for the rule engine: any byte string that the
 *	  offline command would pass on (valid UTF-8 without NUL) must be linted
 *	  without a crash, a hang or an AddressSanitizer report. Built by
 *	  "make fuzz"; scripts/run-tests.sh runs it for a bounded time.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lint/lint.h"
#include "mb/pg_wchar.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
count_finding(const LintFinding *f, void *arg)
{
	/* read every field, so ASan sees a dangling one */
	*(size_t *) arg += strlen(f->message) + strlen(f->evidence) +
		strlen(f->rule->id) + (size_t) f->statement + (size_t) (f->location + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text;
	size_t		sum = 0;

	if (memchr(data, '\0', size) != NULL ||
		!pg_verify_mbstr(PG_UTF8, (const char *) data, (int) size, true))
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	pipeopt_lint_text(text, NULL, NULL, NULL, count_finding, &sum);
	free(text);
	return 0;
}
