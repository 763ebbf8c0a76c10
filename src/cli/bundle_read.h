/*-------------------------------------------------------------------------
 *
 * bundle_read.h
 *	  Reading a workload bundle (docs/bundle.md) in pipeopt-lint: its
 *	  statements, with the runtime evidence of their samples.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_BUNDLE_READ_H
#define PIPEOPT_BUNDLE_READ_H

#include "lint/lint.h"

typedef struct BundleStatement
{
	char	   *fingerprint;
	char	   *query;
	bool		has_evidence;
	LintEvidence evidence;
} BundleStatement;

/* Does the data start like an lz4 frame? */
extern bool bundle_is_lz4(const char *data, size_t len);

/*
 * Decompress and read a bundle. Returns the statements (malloc'd, *n of
 * them), or NULL with a message in *error.
 */
extern BundleStatement *bundle_read(const char *data, size_t len, int *n,
									const char **error);

/* The same, from the decompressed JSON lines (modified in place). */
extern BundleStatement *bundle_parse(char *text, int *n, const char **error);

#endif							/* PIPEOPT_BUNDLE_READ_H */
