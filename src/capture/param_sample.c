/*-------------------------------------------------------------------------
 *
 * param_sample.c
 *	  The ring of parameter samples and the two hooks that fill it (see
 *	  param_sample.h).
 *
 * The unsampled path is one comparison and one draw of the global PRNG per
 * analyzed statement and per executor start; everything else happens only
 * for the sampled fraction.
 *
 * Literal values. pg_stat_statements (generate_normalized_query) sorts the
 * constant locations the query jumble recorded and replaces the constants
 * in that order by $(highest_extern_param_id + 1), $(... + 2), ...; a
 * location recorded twice (the same Const reached twice in the tree, as in
 * BETWEEN SYMMETRIC) is replaced once and takes one number. (Older code
 * numbered by sorted position and left a gap after a duplicate; the
 * pg_stat_statements of PostgreSQL 15.20 counts only what it replaces, as
 * its binary and the regression test show.) A sample has one value per
 * distinct location, so params[k] is the value of $(first_param + k - 1).
 * Each value is read with the server's own scanner from the statement
 * text, the way pg_stat_statements finds the constants' lengths: a location
 * starting with '-' is a negative number (two tokens); a string constant is
 * de-quoted and its escapes processed; a number is its digits; NULL and
 * LIMIT ALL are NULL; a keyword or identifier standing for a constant
 * (EXTRACT(year FROM ...)) is its name. A U&'...' string (the grammar, not
 * the scanner, processes its escapes) or any unexpected token skips the
 * entry.
 *
 * Bound values. Only parameter lists that are complete arrays
 * (paramFetch == NULL: the extended protocol, EXECUTE, SQL functions,
 * PL/pgSQL's EXECUTE ... USING) are read; PL/pgSQL's variables, fetched
 * lazily, are not. Each value goes through its type's output function in
 * this backend, in a small memory context of our own. Errors are not
 * caught (a PG_TRY that swallows errors could hide a cancel or leave state
 * half-changed), so only types whose output cannot run user code are
 * rendered: built-in types (OID below FirstGenbkiObjectId) except
 * pseudo-types (record, whose columns may be of any type; internal, which
 * cannot be printed) and record[], and domains over them. Any other type
 * skips the entry. A varlena whose raw size already exceeds what could
 * print within PARAM_SAMPLE_VALUE_MAX is skipped before it is detoasted or
 * printed.
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include "access/detoast.h"
#include "access/transam.h"
#include "access/xact.h"
#include "capture/param_sample.h"
#include "catalog/pg_type.h"
#include "common/pg_prng.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "parser/scanner.h"
#include "parser/gram.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/queryjumble.h"
#include "utils/timestamp.h"

#define NULL_VALUE	0xFF		/* length byte of a NULL */

/* raw varlena size beyond which no output fits PARAM_SAMPLE_VALUE_MAX */
#define RAW_SIZE_MAX	(8 * PARAM_SAMPLE_VALUE_MAX)

typedef struct ParamRing
{
	LWLock	   *lock;
	int			nslots;
	uint64		next;			/* entries[next % nslots] is written next */
	uint64		sampled;
	uint64		overwritten;
	pg_atomic_uint64 skipped;
	ParamSample entries[FLEXIBLE_ARRAY_MEMBER];
} ParamRing;

static ParamRing *ring = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart = NULL;

/* the entry being built, and the memory its values are made in */
static ParamSample building;
static MemoryContext sample_cxt = NULL;

/* ----------------------------------------------------------------
 * Shared memory
 * ----------------------------------------------------------------
 */

static Size
ring_size(void)
{
	return add_size(offsetof(ParamRing, entries),
					mul_size(sizeof(ParamSample), pipeopt_param_sample_slots));
}

static void
ring_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(ring_size());
	RequestNamedLWLockTranche("pipeopt param samples", 1);
}

static void
ring_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ring = ShmemInitStruct("pipeopt param samples", ring_size(), &found);
	if (!found)
	{
		memset(ring, 0, ring_size());
		ring->lock = &(GetNamedLWLockTranche("pipeopt param samples"))->lock;
		ring->nslots = pipeopt_param_sample_slots;
		pg_atomic_init_u64(&ring->skipped, 0);
	}
	LWLockRelease(AddinShmemInitLock);
}

bool
pipeopt_param_sample_attached(void)
{
	return ring != NULL;
}

/* Copy the entry being built into the ring, over the oldest if full. */
static void
ring_add(void)
{
	ParamSample *slot;

	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	slot = &ring->entries[ring->next % ring->nslots];
	if (OidIsValid(slot->dbid))
		ring->overwritten++;
	memcpy(slot, &building, offsetof(ParamSample, data) + building.len);
	ring->next++;
	ring->sampled++;
	LWLockRelease(ring->lock);
}

int
pipeopt_param_sample_drain(Oid dbid, ParamSample **out)
{
	int			n = 0;

	*out = NULL;
	if (ring == NULL)
		return 0;

	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	for (int i = 0; i < ring->nslots; i++)
		if (ring->entries[i].dbid == dbid)
			n++;
	if (n > 0)
	{
		/* an error here releases the lock with the transaction */
		int			k = 0;

		*out = palloc(sizeof(ParamSample) * n);
		for (int i = 0; i < ring->nslots; i++)
		{
			/* oldest first: from the slot written next */
			ParamSample *s = &ring->entries[(ring->next + i) % ring->nslots];

			if (s->dbid != dbid)
				continue;
			memcpy(&(*out)[k++], s, offsetof(ParamSample, data) + s->len);
			s->dbid = InvalidOid;
		}
	}
	LWLockRelease(ring->lock);
	return n;
}

void
pipeopt_param_sample_stats(ParamSampleStats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (ring == NULL)
		return;
	LWLockAcquire(ring->lock, LW_SHARED);
	stats->slots = ring->nslots;
	for (int i = 0; i < ring->nslots; i++)
		if (OidIsValid(ring->entries[i].dbid))
			stats->pending++;
	stats->sampled = ring->sampled;
	stats->overwritten = ring->overwritten;
	LWLockRelease(ring->lock);
	stats->skipped = pg_atomic_read_u64(&ring->skipped);
}

ArrayType *
pipeopt_param_sample_values(const ParamSample *s)
{
	Datum	   *values = palloc0(sizeof(Datum) * Max(s->nparams, 1));
	bool	   *nulls = palloc0(sizeof(bool) * Max(s->nparams, 1));
	int			dims[1] = {s->nparams};
	int			lbs[1] = {1};
	int			off = 0;

	for (int i = 0; i < s->nparams && off < s->len; i++)
	{
		uint8		len = (uint8) s->data[off++];

		if (len == NULL_VALUE)
			nulls[i] = true;
		else
		{
			values[i] = PointerGetDatum(cstring_to_text_with_len(s->data + off, len));
			off += len;
		}
	}
	if (s->nparams == 0)
		return construct_empty_array(TEXTOID);
	return construct_md_array(values, nulls, 1, dims, lbs,
							  TEXTOID, -1, false, TYPALIGN_INT);
}

/* ----------------------------------------------------------------
 * Building an entry
 * ----------------------------------------------------------------
 */

static void
start_entry(ParamSampleSource source, uint64 queryid, int first_param)
{
	building.dbid = MyDatabaseId;
	building.userid = GetUserId();
	building.queryid = queryid;
	building.sampled_at = GetCurrentStatementStartTimestamp();
	building.first_param = first_param;
	building.nparams = 0;
	building.len = 0;
	building.source = (uint8) source;
}

/* Append one value (NULL: an SQL NULL); false if it does not fit. */
static bool
add_value(const char *value, int len)
{
	if (value != NULL && len > PARAM_SAMPLE_VALUE_MAX)
		return false;
	if (building.len + 1 + (value ? len : 0) > PARAM_SAMPLE_DATA)
		return false;
	if (value == NULL)
		building.data[building.len++] = (char) NULL_VALUE;
	else
	{
		building.data[building.len++] = (char) (uint8) len;
		memcpy(building.data + building.len, value, len);
		building.len += len;
	}
	building.nparams++;
	return true;
}

static MemoryContext
enter_sample_cxt(void)
{
	if (sample_cxt == NULL)
		sample_cxt = AllocSetContextCreate(TopMemoryContext,
										   "pipeopt param samples",
										   ALLOCSET_SMALL_SIZES);
	return MemoryContextSwitchTo(sample_cxt);
}

static void
finish(MemoryContext old, bool ok)
{
	MemoryContextSwitchTo(old);
	MemoryContextReset(sample_cxt);
	if (ok)
		ring_add();
	else
		pg_atomic_fetch_add_u64(&ring->skipped, 1);
}

/* ----------------------------------------------------------------
 * Literals, after parse analysis
 * ----------------------------------------------------------------
 */

static int
cmp_location(const void *a, const void *b)
{
	int			l = *(const int *) a;
	int			r = *(const int *) b;

	return (l > r) - (l < r);
}

/*
 * Scan on to the token at offset loc and return the constant's text in
 * *value (NULL for an SQL NULL). False if there is no token exactly there
 * or it is not a constant we can render.
 */
static bool
constant_at(core_yyscan_t scanner, core_yy_extra_type *extra, int loc,
			const char **value)
{
	core_YYSTYPE yylval;
	YYLTYPE		yylloc = -1;
	int			tok;
	bool		negative = false;

	do
	{
		tok = core_yylex(&yylval, &yylloc, scanner);
		if (tok == 0)
			return false;
	} while (yylloc < loc);
	if (yylloc != loc)
		return false;

	/* the grammar folds '-' into a numeric constant, located at the '-' */
	if (tok == '-')
	{
		negative = true;
		tok = core_yylex(&yylval, &yylloc, scanner);
		if (tok != ICONST && tok != FCONST)
			return false;
	}

	switch (tok)
	{
		case ICONST:
		case FCONST:
			/* the scanner ends the current token's text with a NUL */
			*value = psprintf("%s%s", negative ? "-" : "",
							  extra->scanbuf + yylloc);
			return true;
		case SCONST:
		case BCONST:
		case XCONST:
		case IDENT:
			*value = yylval.str;
			return true;
		case NULL_P:
		case ALL:				/* LIMIT ALL is a NULL constant */
			*value = NULL;
			return true;
		default:
			/* TRUE, FALSE, EXTRACT(YEAR ...), normalize(x, NFC) */
			if (tok >= ABORT_P && tok <= ZONE)
			{
				*value = yylval.keyword;
				return true;
			}
			return false;
	}
}

static void
sample_literals(ParseState *pstate, Query *query, JumbleState *jstate)
{
	const char *text = pstate->p_sourcetext;
	int			n = jstate->clocations_count;
	int			base = Max(query->stmt_location, 0);
	int		   *locs;
	core_yyscan_t scanner;
	core_yy_extra_type extra;
	const char *value;
	int			last_loc = -1;
	bool		ok = true;
	MemoryContext old;

	/* each value takes at least its length byte */
	if (text == NULL || n > PARAM_SAMPLE_DATA)
	{
		pg_atomic_fetch_add_u64(&ring->skipped, 1);
		return;
	}

	old = enter_sample_cxt();
	start_entry(PARAM_SAMPLE_LITERAL, query->queryId,
				jstate->highest_extern_param_id + 1);

	/* our own sorted copy: the jumble state belongs to the other hooks too */
	locs = palloc(sizeof(int) * n);
	for (int i = 0; i < n; i++)
		locs[i] = jstate->clocations[i].location;
	qsort(locs, n, sizeof(int), cmp_location);
	if (locs[0] < base)
		base = 0;

	/* as raw_parser() does, minus the warnings already given */
	scanner = scanner_init(text + base, &extra, &ScanKeywords, ScanKeywordTokens);
	extra.escape_string_warning = false;

	for (int i = 0; i < n && ok; i++)
	{
		int			loc = locs[i] - base;

		/* the same location twice: one constant, one number */
		if (loc == last_loc)
			continue;
		ok = constant_at(scanner, &extra, loc, &value) &&
			add_value(value, value ? strlen(value) : 0);
		last_loc = loc;
	}
	scanner_finish(scanner);
	finish(old, ok);
}

static void
pipeopt_post_parse_analyze(ParseState *pstate, Query *query,
						   JumbleState *jstate)
{
	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);

	if (pipeopt_param_sample_rate <= 0.0 ||
		pg_prng_double(&pg_global_prng_state) >= pipeopt_param_sample_rate)
		return;

	/* never a utility statement: jstate is NULL for those anyway */
	if (jstate == NULL || jstate->clocations_count <= 0 ||
		query->queryId == UINT64CONST(0) ||
		query->commandType == CMD_UTILITY || query->utilityStmt != NULL ||
		ring == NULL || !AmRegularBackendProcess())
		return;

	sample_literals(pstate, query, jstate);
}

/* ----------------------------------------------------------------
 * Bound parameters, at executor start
 * ----------------------------------------------------------------
 */

/* The output function of a type we may print, or InvalidOid. */
static Oid
safe_output_function(Oid type, bool *varlena)
{
	Oid			output;
	char		typtype;

	if (!OidIsValid(type))
		return InvalidOid;
	typtype = get_typtype(type);
	if (typtype == TYPTYPE_DOMAIN)
	{
		type = getBaseType(type);
		typtype = get_typtype(type);
	}
	/* pseudo-types (record, internal, ...) have no printable values */
	if (type >= FirstGenbkiObjectId || typtype == TYPTYPE_PSEUDO ||
		type == RECORDARRAYOID)
		return InvalidOid;
	getTypeOutputInfo(type, &output, varlena);
	return output;
}

/*
 * A bound value as text that reads back the same whatever the settings of
 * the session that later converts it: ISO dates, PostgreSQL-style
 * intervals, floats that round-trip. (Literals are sampled as written.)
 */
static char *
print_bound_value(Oid output, Datum value)
{
	int			date_style = DateStyle;
	int			interval_style = IntervalStyle;
	int			float_digits = extra_float_digits;
	char	   *text;

	DateStyle = USE_ISO_DATES;
	IntervalStyle = INTSTYLE_POSTGRES;
	extra_float_digits = 1;
	PG_TRY();
	{
		text = OidOutputFunctionCall(output, value);
	}
	PG_FINALLY();
	{
		DateStyle = date_style;
		IntervalStyle = interval_style;
		extra_float_digits = float_digits;
	}
	PG_END_TRY();
	return text;
}

static void
sample_binds(QueryDesc *queryDesc)
{
	ParamListInfo params = queryDesc->params;
	bool		ok = true;
	MemoryContext old;

	old = enter_sample_cxt();
	start_entry(PARAM_SAMPLE_BIND, queryDesc->plannedstmt->queryId, 1);
	for (int i = 0; i < params->numParams && ok; i++)
	{
		ParamExternData *prm = &params->params[i];
		bool		varlena;
		Oid			output;
		char	   *value;

		if (prm->isnull)
		{
			ok = add_value(NULL, 0);
			continue;
		}
		output = safe_output_function(prm->ptype, &varlena);
		if (!OidIsValid(output) ||
			(varlena && toast_raw_datum_size(prm->value) > RAW_SIZE_MAX))
		{
			ok = false;
			break;
		}
		value = print_bound_value(output, prm->value);
		ok = add_value(value, strlen(value));
	}
	finish(old, ok);
}

static void
pipeopt_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	ParamListInfo params;

	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (pipeopt_param_sample_rate <= 0.0 ||
		pg_prng_double(&pg_global_prng_state) >= pipeopt_param_sample_rate)
		return;

	params = queryDesc->params;
	if (params == NULL || params->numParams <= 0 || params->paramFetch != NULL ||
		queryDesc->plannedstmt->queryId == UINT64CONST(0) ||
		queryDesc->plannedstmt->commandType == CMD_UTILITY ||
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) ||
		ring == NULL || !AmRegularBackendProcess())
		return;

	sample_binds(queryDesc);
}

void
pipeopt_param_sample_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ring_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ring_shmem_startup;
	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = pipeopt_post_parse_analyze;
	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = pipeopt_ExecutorStart;
}
