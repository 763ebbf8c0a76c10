/*-------------------------------------------------------------------------
 *
 * guc.c
 *	  Every pipeopt configuration parameter, in one place.
 *
 * PGC_POSTMASTER for sizes, PGC_SIGHUP for the worker's clock, PGC_SUSET for
 * anything that decides what data is sampled, kept or deleted, or how long
 * capture waits.
 *
 *-------------------------------------------------------------------------
 */
#include "pipeopt.h"

#include <limits.h>

#include "lint/lint.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/varlena.h"

int			pipeopt_sample_interval = 60;
int			pipeopt_retention = 14 * 24 * 60;
int			pipeopt_capture_lock_timeout = 5000;
int			pipeopt_unused_index_days = 7;
int			pipeopt_max_workers = 256;
char	   *pipeopt_disabled_rules = NULL;
int			pipeopt_index_budget = 40 * 1024;
int			pipeopt_max_index_columns = 3;
double		pipeopt_index_min_saving = 0.2;
int			pipeopt_advise_interval = 60;
double		pipeopt_param_sample_rate = 0.01;
int			pipeopt_param_sample_slots = 1024;
int			pipeopt_param_samples_per_statement = 16;
int			pipeopt_apply_lock_timeout = 5000;
int			pipeopt_apply_statement_timeout = 60 * 60 * 1000;
char	   *pipeopt_apply_window = NULL;
int			pipeopt_apply_max_attempts = 3;
int			pipeopt_apply_retry_delay = 300;
double		pipeopt_cost_per_cpu_hour = 0;
double		pipeopt_cost_per_gb_month = 0;
int			pipeopt_partition_min_size = 1024 * 1024;
int			pipeopt_max_online_rewrite_size = 4 * 1024 * 1024;
int			pipeopt_validation_window = 3600;
int			pipeopt_baseline_window = 3600;
int			pipeopt_validation_min_calls = 100;
double		pipeopt_revert_threshold = 10;
double		pipeopt_validation_alpha = 0.05;
int			pipeopt_auto_revert = PIPEOPT_AUTO_REVERT_AUTOMATIC;

static const struct config_enum_entry auto_revert_options[] = {
	{"automatic", PIPEOPT_AUTO_REVERT_AUTOMATIC, false},
	{"all", PIPEOPT_AUTO_REVERT_ALL, false},
	{"off", PIPEOPT_AUTO_REVERT_OFF, false},
	{NULL, 0, false}
};

/* Every name in pipeopt.disabled_rules must be a rule. */
static bool
check_disabled_rules(char **newval, void **extra, GucSource source)
{
	char	   *list = pstrdup(*newval ? *newval : "");
	List	   *names;
	ListCell   *lc;

	if (!SplitIdentifierString(list, ',', &names))
	{
		GUC_check_errdetail("The list syntax is invalid.");
		return false;
	}
	foreach(lc, names)
	{
		if (pipeopt_lint_rule_index(lfirst(lc)) < 0)
		{
			GUC_check_errmsg("unknown rule \"%s\"", (char *) lfirst(lc));
			GUC_check_errhint("SELECT id FROM pipeopt.rules lists the rules.");
			return false;
		}
	}
	return true;
}

/* pipeopt.apply_window is empty or "HH:MM-HH:MM" (24-hour clock). */
static bool
parse_clock(const char *s, int *minutes, const char **end)
{
	int			h,
				m,
				n = 0;

	if (sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
		(h == 24 && m != 0))
		return false;
	*minutes = h * 60 + m;
	*end = s + n;
	return true;
}

static bool
check_apply_window(char **newval, void **extra, GucSource source)
{
	const char *s = *newval ? *newval : "";
	int			from,
				to;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return true;
	if (parse_clock(s, &from, &s) && *s++ == '-' && parse_clock(s, &to, &s))
	{
		while (*s == ' ')
			s++;
		if (*s == '\0' && from != to)
			return true;
	}
	GUC_check_errdetail("The window is written \"HH:MM-HH:MM\" in local time, for example \"01:00-05:00\" "
						"or \"22:00-02:00\"; an empty string allows any time.");
	return false;
}

void
pipeopt_define_gucs(void)
{
	DefineCustomIntVariable("pipeopt.sample_interval",
							"Seconds between two captures by the background worker.",
							"0 stops automatic sampling; pipeopt.capture() still works.",
							&pipeopt_sample_interval,
							60, 0, 86400,
							PGC_SIGHUP,
							GUC_UNIT_S,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pipeopt.retention",
							"How long captured history is kept.",
							"History is dropped a whole day partition at a time, "
							"once the partition lies entirely beyond this age.",
							&pipeopt_retention,
							14 * 24 * 60, 60, INT_MAX / 60,
							PGC_SUSET,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pipeopt.capture_lock_timeout",
							"How long a capture waits for pipeopt's own tables before the tick fails.",
							"A failed tick is retried at the next one; no history is lost.",
							&pipeopt_capture_lock_timeout,
							5000, 1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pipeopt.unused_index_days",
							"How long an index must go unscanned before it is reported unused.",
							"Counted from when pipeopt first saw the index; the history must "
							"reach back that far (see pipeopt.retention).",
							&pipeopt_unused_index_days,
							7, 1, 3650,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("pipeopt.disabled_rules",
							   "Lint rules that are turned off, by id, comma-separated.",
							   NULL,
							   &pipeopt_disabled_rules,
							   "",
							   PGC_USERSET,
							   GUC_LIST_INPUT,
							   check_disabled_rules, NULL, NULL);

	DefineCustomIntVariable("pipeopt.index_budget",
							"Storage the index advisor may spend on new indexes.",
							"pipeopt.advise_indexes() without a budget, and the worker, use it.",
							&pipeopt_index_budget,
							40 * 1024, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pipeopt.max_index_columns",
							"Widest index, in key columns, the index advisor proposes.",
							NULL,
							&pipeopt_max_index_columns,
							3, 1, INDEX_MAX_KEYS,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomRealVariable("pipeopt.index_min_saving",
							 "Least share of the workload's estimated cost, in percent, that a step of the index advisor must save.",
							 "An index (or a column added to one) that saves less is not chosen: "
							 "the saving is within the noise of the cost model, and a higher "
							 "floor spares planner calls. 0 takes every saving.",
							 &pipeopt_index_min_saving,
							 0.2, 0.0, 100.0,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomRealVariable("pipeopt.param_sample_rate",
							 "Fraction of statements whose parameter values are sampled.",
							 "Literals after parse analysis and bound parameters at executor "
							 "start; utility statements never. 0 turns sampling off. Needs "
							 "pipeopt in shared_preload_libraries.",
							 &pipeopt_param_sample_rate,
							 0.01, 0.0, 1.0,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("pipeopt.param_samples_per_statement",
							"Parameter samples kept per statement and role.",
							"A capture keeps the newest ones; 0 keeps none.",
							&pipeopt_param_samples_per_statement,
							16, 0, 10000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pipeopt.advise_interval",
							"Time between two runs of the index advisor by the background worker.",
							"0 stops them; pipeopt.advise_indexes() still works.",
							&pipeopt_advise_interval,
							60, 0, INT_MAX / 60,
							PGC_SIGHUP,
							GUC_UNIT_MIN,
							NULL, NULL, NULL);

	DefineCustomIntVariable("pipeopt.apply_lock_timeout",
							"How long the apply worker waits for a lock before it gives up an attempt.",
							"The worker never cancels other sessions: it retries later instead.",
							&pipeopt_apply_lock_timeout,
							5000, 1, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pipeopt.apply_statement_timeout",
							"Longest time one change (such as CREATE INDEX CONCURRENTLY) may run.",
							"0 lets it run to completion.",
							&pipeopt_apply_statement_timeout,
							60 * 60 * 1000, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomStringVariable("pipeopt.apply_window",
							   "Daily maintenance window in which the worker applies approved changes.",
							   "\"HH:MM-HH:MM\" in the server's local time; empty: any time. "
							   "pipeopt.apply_now() ignores it.",
							   &pipeopt_apply_window,
							   "",
							   PGC_SUSET,
							   0,
							   check_apply_window, NULL, NULL);
	DefineCustomIntVariable("pipeopt.apply_max_attempts",
							"Attempts to apply an approved change before it is marked failed.",
							NULL,
							&pipeopt_apply_max_attempts,
							3, 1, 100,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pipeopt.apply_retry_delay",
							"Wait after a failed attempt before the next; doubled at each attempt.",
							NULL,
							&pipeopt_apply_retry_delay,
							300, 0, INT_MAX / 1000,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomRealVariable("pipeopt.cost_per_cpu_hour",
							 "Price of one CPU hour, to rank recommendations by money saved.",
							 "0 leaves money out of the ranking.",
							 &pipeopt_cost_per_cpu_hour,
							 0, 0, 1e9,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("pipeopt.cost_per_gb_month",
							 "Price of one GB of storage for a month, to rank recommendations by money saved.",
							 "0 leaves money out of the ranking.",
							 &pipeopt_cost_per_gb_month,
							 0, 0, 1e9,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/* the partition advisor (src/sql/0.1/86_partition.sql) */
	DefineCustomIntVariable("pipeopt.partition_min_size",
							"Smallest table the partition advisor considers.",
							NULL,
							&pipeopt_partition_min_size,
							1024 * 1024, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pipeopt.max_online_rewrite_size",
							"Largest table pipeopt partitions itself once the change is approved.",
							"A partitioning of a larger table stays advisory: its migration script is "
							"shown, not run.",
							&pipeopt_max_online_rewrite_size,
							4 * 1024 * 1024, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	/* the effectiveness monitor (src/sql/0.1/86_monitor.sql, docs/monitor.md) */
	DefineCustomIntVariable("pipeopt.validation_window",
							"How long the effectiveness monitor watches a change before its verdict.",
							"Counted from the end of the change; 0 judges at the next check.",
							&pipeopt_validation_window,
							3600, 0, INT_MAX / 1000,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pipeopt.baseline_window",
							"How much history before a change the effectiveness monitor compares with.",
							NULL,
							&pipeopt_baseline_window,
							3600, 1, INT_MAX / 1000,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("pipeopt.validation_min_calls",
							"Calls of the affected statements needed before and after a change for a verdict.",
							"Fewer when the validation window closes: the verdict is insufficient.",
							&pipeopt_validation_min_calls,
							100, 1, INT_MAX,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomRealVariable("pipeopt.revert_threshold",
							 "Slowdown, in percent, beyond which a change counts as a regression.",
							 "The monitor reverts a change only when the statements it affects, or the "
							 "whole workload, are significantly slower than this.",
							 &pipeopt_revert_threshold,
							 10, 0, 1000,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomRealVariable("pipeopt.validation_alpha",
							 "Significance level of the effectiveness monitor's tests.",
							 NULL,
							 &pipeopt_validation_alpha,
							 0.05, 0.0001, 0.5,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("pipeopt.auto_revert",
							 "Which regressed changes the effectiveness monitor reverts by itself.",
							 "automatic: changes approved by policy; all: approved ones too; off: none.",
							 &pipeopt_auto_revert,
							 PIPEOPT_AUTO_REVERT_AUTOMATIC,
							 auto_revert_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/* sizes of shared memory: only when loaded at server start */
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("pipeopt.param_sample_slots",
								"Entries of the shared ring of parameter samples.",
								"One entry holds one sampled statement's values (about 2 kB); "
								"when the ring is full the oldest entry is overwritten.",
								&pipeopt_param_sample_slots,
								1024, 16, 65536,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);
	if (process_shared_preload_libraries_in_progress)
		DefineCustomIntVariable("pipeopt.max_databases",
								"Number of databases the launcher keeps track of.",
								"Each connectable database takes a slot, with pipeopt or without; "
								"a running worker also needs a max_worker_processes slot.",
								&pipeopt_max_workers,
								256, 1, 4096,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

	MarkGUCPrefixReserved("pipeopt");
}
