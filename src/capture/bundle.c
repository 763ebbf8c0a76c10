/*-------------------------------------------------------------------------
 *
 * bundle.c
 *	  Workload bundles: pipeopt.export_workload() and import_workload().
 *
 * A bundle is one lz4 frame (readable by the standard lz4 tool) around
 * UTF-8 JSON lines: a header, the records, and an end record that counts
 * them, so that truncation is detected (format: docs/bundle.md). The lines
 * are built and read by SQL functions of the install script; this file
 * only streams them through lz4 and checks the frame and the encoding.
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include <lz4frame.h>

#include "access/htup_details.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(pipeopt_export_workload);
PG_FUNCTION_INFO_V1(pipeopt_import_workload);

#define EXPORT_BATCH	1000
static const unsigned char lz4_frame_magic[4] = {0x04, 0x22, 0x4D, 0x18};

static void
lz4_check(size_t rc, const char *what)
{
	if (LZ4F_isError(rc))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("lz4 %s failed: %s", what, LZ4F_getErrorName(rc))));
}

/* Compress src into out (a bytea being built, header already reserved). */
static void
compress_append(LZ4F_cctx *cctx, StringInfo out, const char *src, size_t len)
{
	size_t		bound = LZ4F_compressBound(len, NULL);
	size_t		rc;

	if ((size_t) out->len + bound >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("workload bundle would exceed 1 GB"),
				 errhint("Export a shorter period with pipeopt.export_workload(since).")));
	enlargeStringInfo(out, (int) bound);
	rc = LZ4F_compressUpdate(cctx, out->data + out->len, bound, src, len, NULL);
	lz4_check(rc, "compression");
	out->len += (int) rc;
}

Datum
pipeopt_export_workload(PG_FUNCTION_ARGS)
{
	Datum		since = PG_GETARG_DATUM(0);
	LZ4F_preferences_t prefs;
	LZ4F_cctx  *cctx;
	StringInfoData out;
	StringInfoData chunk;
	Portal		portal;
	Oid			argtypes[1] = {TIMESTAMPTZOID};
	int64		nlines = 0;
	size_t		rc;
	char	   *end_line;

	memset(&prefs, 0, sizeof(prefs));
	prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
	prefs.frameInfo.blockSizeID = LZ4F_max256KB;

	rc = LZ4F_createCompressionContext(&cctx, LZ4F_VERSION);
	lz4_check(rc, "initialization");

	initStringInfo(&out);
	appendStringInfoSpaces(&out, VARHDRSZ);
	enlargeStringInfo(&out, LZ4F_HEADER_SIZE_MAX);
	rc = LZ4F_compressBegin(cctx, out.data + out.len, LZ4F_HEADER_SIZE_MAX, &prefs);
	lz4_check(rc, "compression");
	out.len += (int) rc;

	initStringInfo(&chunk);
	SPI_connect();
	portal = SPI_cursor_open_with_args(NULL,
									   "SELECT l FROM pipeopt._export_lines($1) l",
									   1, argtypes, &since, NULL, true, 0);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, EXPORT_BATCH);
		if (SPI_processed == 0)
			break;
		resetStringInfo(&chunk);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *line = SPI_getvalue(SPI_tuptable->vals[i],
											SPI_tuptable->tupdesc, 1);
			char	   *utf8 = pg_server_to_any(line, strlen(line), PG_UTF8);

			appendStringInfoString(&chunk, utf8);
			appendStringInfoChar(&chunk, '\n');
			nlines++;
		}
		compress_append(cctx, &out, chunk.data, chunk.len);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();

	/* header excluded from the count: records between header and end */
	end_line = psprintf("{\"type\": \"end\", \"records\": " INT64_FORMAT "}\n",
						nlines - 1);
	compress_append(cctx, &out, end_line, strlen(end_line));

	enlargeStringInfo(&out, (int) LZ4F_compressBound(0, &prefs));
	rc = LZ4F_compressEnd(cctx, out.data + out.len, LZ4F_compressBound(0, &prefs), NULL);
	lz4_check(rc, "compression");
	out.len += (int) rc;
	LZ4F_freeCompressionContext(cctx);

	SET_VARSIZE(out.data, out.len);
	PG_RETURN_BYTEA_P((bytea *) out.data);
}

static void
corrupt_bundle(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("corrupt workload bundle"),
			 errdetail("%s", detail),
			 errhint("Export the workload again with pipeopt.export_workload().")));
}

/* Decompress one whole lz4 frame; reject anything else. */
static char *
decompress_bundle(const unsigned char *src, size_t srclen, size_t *outlen)
{
	LZ4F_dctx  *dctx;
	StringInfoData out;
	size_t		pos = 0;
	size_t		hint = 1;
	size_t		rc;

	if (srclen < sizeof(lz4_frame_magic) ||
		memcmp(src, lz4_frame_magic, sizeof(lz4_frame_magic)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("not a pipeopt workload bundle"),
				 errdetail("The data does not start with an lz4 frame."),
				 errhint("Pass a bundle made by pipeopt.export_workload().")));

	rc = LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION);
	lz4_check(rc, "initialization");
	initStringInfo(&out);

	PG_TRY();
	{
		while (pos < srclen && hint != 0)
		{
			size_t		in = srclen - pos;
			size_t		room;

			if (out.maxlen - out.len < 65536)
			{
				if ((size_t) out.maxlen * 2 >= MaxAllocSize)
					ereport(ERROR,
							(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
							 errmsg("workload bundle is larger than 1 GB when decompressed")));
				enlargeStringInfo(&out, out.maxlen);
			}
			room = out.maxlen - out.len - 1;
			hint = LZ4F_decompress(dctx, out.data + out.len, &room,
								   src + pos, &in, NULL);
			if (LZ4F_isError(hint))
				corrupt_bundle(psprintf("lz4 reports: %s.", LZ4F_getErrorName(hint)));
			pos += in;
			out.len += (int) room;
			CHECK_FOR_INTERRUPTS();
		}
		if (hint != 0)
			corrupt_bundle("The lz4 frame is truncated.");
		if (pos != srclen)
			corrupt_bundle("There are bytes after the end of the lz4 frame.");
	}
	PG_FINALLY();
	{
		LZ4F_freeDecompressionContext(dctx);
	}
	PG_END_TRY();

	out.data[out.len] = '\0';
	*outlen = out.len;
	return out.data;
}

Datum
pipeopt_import_workload(PG_FUNCTION_ARGS)
{
	bytea	   *bundle = PG_GETARG_BYTEA_PP(0);
	size_t		len;
	char	   *body;
	char	   *server_body;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	TupleDesc	tupdesc;
	HeapTuple	result;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	body = decompress_bundle((unsigned char *) VARDATA_ANY(bundle),
							 VARSIZE_ANY_EXHDR(bundle), &len);
	if (memchr(body, '\0', len) != NULL ||
		!pg_verify_mbstr(PG_UTF8, body, (int) len, true))
		corrupt_bundle("The decompressed data is not valid UTF-8 text.");
	server_body = pg_any_to_server(body, (int) len, PG_UTF8);

	args[0] = CStringGetTextDatum(server_body);
	SPI_connect();
	if (SPI_execute_with_args("SELECT * FROM pipeopt._import_lines($1)",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "pipeopt._import_lines() returned no row");
	/* SPI_copytuple allocates in the caller's context, outside SPI's */
	result = SPI_copytuple(SPI_tuptable->vals[0]);
	SPI_finish();

	PG_RETURN_DATUM(heap_copy_tuple_as_datum(result, tupdesc));
}
