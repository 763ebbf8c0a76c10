/*
 * Metrics for Prometheus.
 *   pipeopt.metric_values()   one row per sample: metric, labels, value
 *                             (what postgres_exporter's custom queries read)
 *   pipeopt.metrics()         the same in the Prometheus text exposition
 *                             format (version 0.0.4), HELP and TYPE lines
 *
 * Every metric name starts with pipeopt_ and splits into a namespace and a
 * column the way postgres_exporter names what a custom query returns
 * (<namespace>_<column>): docs/reports.md shows the queries.yaml. Label
 * sets are complete (a severity, status or verdict with nothing in it is
 * 0), so a series does not appear and vanish as the state changes.
 *
 * Both run with the extension owner's rights (SECURITY DEFINER) so that a
 * monitoring role of pipeopt_reader or pg_read_all_stats gets every metric:
 * they are counts and sums only, no statement text and no per-statement
 * figure.
 */

-- The metric families, in the order they are exposed.
CREATE FUNCTION @extschema@._metric_families()
RETURNS TABLE (metric text, type text, help text, ord integer)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT m.metric, m.type, m.help, m.ord FROM (VALUES
    (1, 'pipeopt_build_info', 'gauge', 'pipeopt''s extension version and the database it reports on; always 1'),
    (2, 'pipeopt_capture_lag_seconds', 'gauge', 'Seconds since the last local capture; NaN before the first one'),
    (3, 'pipeopt_last_capture_timestamp_seconds', 'gauge', 'Time of the last local capture, seconds since the Unix epoch; NaN before the first one'),
    (4, 'pipeopt_statements_tracked', 'gauge', 'Statements in the captured history'),
    (5, 'pipeopt_findings_current', 'gauge', 'Findings on the captured workload and the schema (suppressed ones left out), by severity'),
    (6, 'pipeopt_recommendations_current', 'gauge', 'Recommendations, by status'),
    (7, 'pipeopt_recommendations_expected_saving_seconds_per_hour', 'gauge', 'Statement time the open (proposed and approved) recommendations are expected to save, seconds per hour of workload'),
    (8, 'pipeopt_changes_applied_total', 'counter', 'Changes applied successfully'),
    (9, 'pipeopt_changes_reverted_total', 'counter', 'Changes rolled back successfully, by a DBA or by the effectiveness monitor'),
    (10, 'pipeopt_changes_auto_reverted_total', 'counter', 'Changes the effectiveness monitor reverted because they made statements slower'),
    (11, 'pipeopt_changes_failed_total', 'counter', 'Attempts to apply or roll back a change that failed'),
    (12, 'pipeopt_verdicts_current', 'gauge', 'Applied changes by the effectiveness monitor''s verdict'),
    (13, 'pipeopt_saving_predicted_seconds_per_hour', 'gauge', 'Predicted saving of the changes in effect that have a verdict, seconds of statement time per hour, by kind'),
    (14, 'pipeopt_saving_actual_seconds_per_hour', 'gauge', 'Measured saving of the changes in effect that have a verdict, seconds of statement time per hour, by kind')
  ) m(ord, metric, type, help)
$f$;

CREATE FUNCTION @extschema@.metric_values()
RETURNS TABLE (metric text, labels jsonb, value double precision)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH last AS (
    SELECT max(c.captured_at) AS at FROM @extschema@.captures c WHERE c.origin = 'local'
  ), kinds AS (
    -- every kind a recommendation can have, and any other one in use
    SELECT k FROM unnest(ARRAY['create_index', 'drop_index']) k
    UNION SELECT a.kind FROM @extschema@.advice a
    UNION SELECT v.kind FROM @extschema@.verification v
  ), in_effect AS (
    SELECT v.* FROM @extschema@.verification v
      JOIN @extschema@.advice a ON a.id = v.advice_id
     WHERE v.verdict IN ('improved', 'no_change', 'regressed') AND NOT v.reverted
       AND a.status IN ('applied', 'verified')
  ), findings AS (
    -- what pipeopt.findings shows (enabled rules, not suppressed), counted
    -- without the view: it ranks by the whole history, too dear for a scrape
    SELECT f.severity, count(*) AS n
      FROM @extschema@.statement_findings f
      JOIN @extschema@.statements st ON st.fingerprint = f.fingerprint
      JOIN @extschema@.rules() r ON r.id = f.rule AND r.enabled
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.suppressions x
                        WHERE x.fingerprint = f.fingerprint AND x.rule = f.rule)
     GROUP BY f.severity
    UNION ALL
    SELECT s.severity, count(*)
      FROM @extschema@.schema_findings s
      JOIN @extschema@.rules() r ON r.id = s.rule AND r.enabled
     GROUP BY s.severity
  ), samples AS (
    SELECT 'pipeopt_build_info' AS metric,
           jsonb_build_object('version', (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'pipeopt'),
                              'database', current_database()) AS labels,
           1::double precision AS value
    UNION ALL
    SELECT 'pipeopt_capture_lag_seconds', '{}',
           coalesce(extract(epoch FROM now() - l.at)::double precision, 'NaN') FROM last l
    UNION ALL
    SELECT 'pipeopt_last_capture_timestamp_seconds', '{}',
           coalesce(extract(epoch FROM l.at)::double precision, 'NaN') FROM last l
    UNION ALL
    SELECT 'pipeopt_statements_tracked', '{}', count(*) FROM @extschema@.statements
    UNION ALL
    SELECT 'pipeopt_findings_current', jsonb_build_object('severity', s.severity),
           (SELECT coalesce(sum(f.n), 0) FROM findings f WHERE f.severity = s.severity)
      FROM unnest(ARRAY['error', 'warning', 'info']) s(severity)
    UNION ALL
    SELECT 'pipeopt_recommendations_current', jsonb_build_object('status', s.status),
           (SELECT count(*) FROM @extschema@.advice a WHERE a.status = s.status)
      FROM (SELECT unnest(ARRAY['proposed', 'approved', 'applying', 'applied', 'verified', 'reverting',
                                'reverted', 'failed', 'rejected', 'obsolete', 'superseded'])
            UNION SELECT a.status FROM @extschema@.advice a) s(status)
    UNION ALL
    SELECT 'pipeopt_recommendations_expected_saving_seconds_per_hour', '{}',
           coalesce(sum(a.saving_ms_per_hour) / 1000, 0)
      FROM @extschema@.advice a WHERE a.status IN ('proposed', 'approved')
    UNION ALL
    SELECT 'pipeopt_changes_applied_total', '{}', count(*)
      FROM @extschema@.change_log l WHERE l.action = 'apply' AND l.outcome = 'succeeded'
    UNION ALL
    SELECT 'pipeopt_changes_reverted_total', '{}', count(*)
      FROM @extschema@.change_log l WHERE l.action = 'rollback' AND l.outcome = 'succeeded'
    UNION ALL
    SELECT 'pipeopt_changes_auto_reverted_total', '{}', count(*)
      FROM @extschema@.verification v WHERE v.reverted
    UNION ALL
    SELECT 'pipeopt_changes_failed_total', '{}', count(*)
      FROM @extschema@.change_log l WHERE l.outcome = 'failed'
    UNION ALL
    SELECT 'pipeopt_verdicts_current', jsonb_build_object('verdict', s.verdict),
           (SELECT count(*) FROM @extschema@.verification v WHERE v.verdict = s.verdict)
      FROM unnest(ARRAY['pending', 'improved', 'no_change', 'regressed', 'insufficient']) s(verdict)
    UNION ALL
    SELECT 'pipeopt_saving_predicted_seconds_per_hour', jsonb_build_object('kind', k.k),
           coalesce((SELECT sum(v.predicted_saving_ms_per_hour) / 1000 FROM in_effect v WHERE v.kind = k.k), 0)
      FROM kinds k
    UNION ALL
    SELECT 'pipeopt_saving_actual_seconds_per_hour', jsonb_build_object('kind', k.k),
           coalesce((SELECT sum(v.actual_saving_ms_per_hour) / 1000 FROM in_effect v WHERE v.kind = k.k), 0)
      FROM kinds k
  )
  SELECT s.metric, s.labels, s.value
    FROM samples s JOIN @extschema@._metric_families() f ON f.metric = s.metric
   ORDER BY f.ord, s.labels::text
$f$;
COMMENT ON FUNCTION @extschema@.metric_values() IS
  'pipeopt''s metrics as rows (metric, labels, value): what metrics() exposes, for postgres_exporter''s custom queries';

-- A label value or HELP text escaped for the exposition format: a
-- backslash, a double quote (label values only) and a line feed.
CREATE FUNCTION @extschema@._prom_escape(t text, quotes boolean)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT replace(CASE WHEN quotes THEN replace(replace(t, '\', '\\'), '"', '\"')
                      ELSE replace(t, '\', '\\') END,
                 E'\n', '\n')
$f$;

-- A sample value as Prometheus parses it (Go's ParseFloat): NaN, +Inf,
-- -Inf, or a number.
CREATE FUNCTION @extschema@._prom_value(x double precision)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN x IS NULL OR x = 'NaN' THEN 'NaN'
              WHEN x = 'Infinity' THEN '+Inf'
              WHEN x = '-Infinity' THEN '-Inf'
              ELSE x::text END
$f$;

CREATE FUNCTION @extschema@.metrics()
RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH v AS (
    SELECT m.* FROM @extschema@.metric_values() m
  ), families AS (
    SELECT f.metric, f.type, f.help, f.ord,
           string_agg(v.metric
                      || CASE WHEN v.labels = '{}' THEN ''
                              ELSE '{' || (SELECT string_agg(format('%s="%s"', l.key,
                                                                    @extschema@._prom_escape(l.value, true)),
                                                             ',' ORDER BY l.key)
                                             FROM jsonb_each_text(v.labels) l) || '}' END
                      || ' ' || @extschema@._prom_value(v.value), E'\n' ORDER BY v.labels::text) AS lines
      FROM @extschema@._metric_families() f
      JOIN v ON v.metric = f.metric
     GROUP BY f.metric, f.type, f.help, f.ord
  )
  SELECT string_agg(format(E'# HELP %s %s\n# TYPE %s %s\n%s\n', f.metric,
                           @extschema@._prom_escape(f.help, false), f.metric, f.type, f.lines), '' ORDER BY f.ord)
    FROM families f
$f$;
COMMENT ON FUNCTION @extschema@.metrics() IS
  'pipeopt''s metrics in the Prometheus text exposition format, names prefixed pipeopt_';
