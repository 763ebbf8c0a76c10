/*-------------------------------------------------------------------------
 *
 * pipeopt.h
 *	  What the stages of pipeopt offer each other.
 *
 * Glossary:
 *	  statement   one normalized SQL text, identified by its fingerprint
 *	              (libpg_query), whatever queryids pg_stat_statements gives it;
 *	  capture     one tick: pg_stat_statements and table/index statistics
 *	              read once, turned into per-interval deltas (samples);
 *	  sample      the deltas of one statement and role over one interval;
 *	  parameter sample  the values of one statement's $n in one sampled
 *	              execution (capture/param_sample.h), not a delta;
 *	  launcher    the static background worker that starts a db worker for
 *	              every database in which the extension is installed;
 *	  db worker   the dynamic background worker that calls pipeopt.capture()
 *	              in its database every pipeopt.sample_interval.
 *
 *-------------------------------------------------------------------------
 */
#ifndef PIPEOPT_H
#define PIPEOPT_H

#include "postgres.h"

#define PIPEOPT_EXTENSION_NAME	"pipeopt"
#define PIPEOPT_SCHEMA_NAME		"pipeopt"

/* guc.c */
extern int	pipeopt_sample_interval;	/* seconds; 0 = worker does not sample */
extern int	pipeopt_retention;	/* minutes */
extern int	pipeopt_capture_lock_timeout;	/* milliseconds */
extern int	pipeopt_unused_index_days;	/* observation window of unused-index */
extern int	pipeopt_max_workers;	/* databases served by workers */
extern char *pipeopt_disabled_rules;	/* comma-separated rule ids */
extern int	pipeopt_index_budget;	/* kB */
extern int	pipeopt_max_index_columns;
extern double pipeopt_index_min_saving;	/* percent of the workload cost */
extern int	pipeopt_advise_interval;	/* minutes; 0 = worker does not advise */
extern double pipeopt_param_sample_rate;	/* fraction of statements; 0 = off */
extern int	pipeopt_param_sample_slots;	/* entries of the shared ring */
extern int	pipeopt_param_samples_per_statement;	/* kept per statement and role */
extern int	pipeopt_apply_lock_timeout;	/* milliseconds */
extern int	pipeopt_apply_statement_timeout;	/* milliseconds; 0 = none */
extern char *pipeopt_apply_window;	/* "HH:MM-HH:MM" or empty */
extern int	pipeopt_apply_max_attempts;
extern int	pipeopt_apply_retry_delay;	/* seconds, doubled per attempt */
extern double pipeopt_cost_per_cpu_hour;	/* 0 = no money in the ranking */
extern double pipeopt_cost_per_gb_month;
extern int	pipeopt_partition_min_size;	/* kB */
extern int	pipeopt_max_online_rewrite_size;	/* kB */
extern int	pipeopt_validation_window;	/* seconds */
extern int	pipeopt_baseline_window;	/* seconds */
extern int	pipeopt_validation_min_calls;
extern double pipeopt_revert_threshold;	/* percent */
extern double pipeopt_validation_alpha;
extern int	pipeopt_auto_revert;	/* PIPEOPT_AUTO_REVERT_* */
#define PIPEOPT_AUTO_REVERT_AUTOMATIC	0
#define PIPEOPT_AUTO_REVERT_ALL			1
#define PIPEOPT_AUTO_REVERT_OFF			2
extern void pipeopt_define_gucs(void);

/* capture/registry.c: shared memory of the workers */
extern void pipeopt_registry_request(void);
extern bool pipeopt_registry_attached(void);

/* capture/worker.c */
extern void pipeopt_register_launcher(void);
extern bool pipeopt_start_db_worker(Oid dboid, bool from_launcher);

/* capture/param_sample.c: example values of $n, see param_sample.h */
extern void pipeopt_param_sample_init(void);

/* capture/hooks.c */
extern void pipeopt_install_hooks(void);

#endif							/* PIPEOPT_H */
