/* Reading the history: top_statements, statement_history. */

CREATE FUNCTION @extschema@.top_statements(
  since timestamptz DEFAULT '-infinity',
  until timestamptz DEFAULT 'infinity')
RETURNS TABLE (
  fingerprint text, query text, kind text,
  calls bigint, total_exec_time double precision, mean_exec_time double precision,
  stddev_exec_time double precision, share_of_total_time double precision,
  rows bigint, rows_per_call double precision, cache_hit_ratio double precision,
  shared_blks_read bigint, temp_blks_read bigint, temp_blks_written bigint,
  wal_bytes numeric, total_plan_time double precision, parse_error text,
  first_sample timestamptz, last_sample timestamptz)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH per AS (
    SELECT s.fingerprint,
           sum(s.calls)::bigint AS calls,
           sum(s.total_exec_time) AS total_exec_time,
           sum(s.sum_sq_exec_time) AS sum_sq,
           sum(s.rows)::bigint AS rows,
           sum(s.shared_blks_hit)::bigint AS hit,
           sum(s.shared_blks_read)::bigint AS shared_blks_read,
           sum(s.temp_blks_read)::bigint AS temp_blks_read,
           sum(s.temp_blks_written)::bigint AS temp_blks_written,
           sum(s.wal_bytes) AS wal_bytes,
           sum(s.total_plan_time) AS total_plan_time,
           min(s.captured_at) AS first_sample,
           max(s.captured_at) AS last_sample
      FROM @extschema@.samples s
     WHERE s.captured_at > since AND s.captured_at <= until
     GROUP BY s.fingerprint
  )
  SELECT p.fingerprint, st.query, st.kind, p.calls, p.total_exec_time,
         p.total_exec_time / nullif(p.calls, 0),
         sqrt(greatest(p.sum_sq / nullif(p.calls, 0)
                       - (p.total_exec_time / nullif(p.calls, 0)) ^ 2, 0)),
         100 * p.total_exec_time / nullif(sum(p.total_exec_time) OVER (), 0),
         p.rows, p.rows::double precision / nullif(p.calls, 0),
         p.hit::double precision / nullif(p.hit + p.shared_blks_read, 0),
         p.shared_blks_read, p.temp_blks_read, p.temp_blks_written,
         p.wal_bytes, p.total_plan_time, st.parse_error,
         p.first_sample, p.last_sample
    FROM per p
    JOIN @extschema@.statements st ON st.fingerprint = p.fingerprint
   ORDER BY p.total_exec_time DESC, p.fingerprint
$f$;
COMMENT ON FUNCTION @extschema@.top_statements(timestamptz, timestamptz) IS
  'Statements ranked by total execution time over (since, until]';

CREATE VIEW @extschema@.top_statements AS
  SELECT * FROM @extschema@.top_statements();
COMMENT ON VIEW @extschema@.top_statements IS
  'Statements ranked by total execution time over the whole retained history';

CREATE FUNCTION @extschema@.statement_history(
  fingerprint text,
  since timestamptz DEFAULT '-infinity',
  until timestamptz DEFAULT 'infinity')
RETURNS TABLE (
  captured_at timestamptz, interval_start timestamptz,
  calls bigint, total_exec_time double precision, mean_exec_time double precision,
  stddev_exec_time double precision, rows bigint,
  shared_blks_hit bigint, shared_blks_read bigint,
  temp_blks_read bigint, temp_blks_written bigint, wal_bytes numeric,
  plans bigint, total_plan_time double precision)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT s.captured_at, c.interval_start,
         sum(s.calls)::bigint,
         sum(s.total_exec_time),
         sum(s.total_exec_time) / nullif(sum(s.calls), 0),
         sqrt(greatest(sum(s.sum_sq_exec_time) / nullif(sum(s.calls), 0)
                       - (sum(s.total_exec_time) / nullif(sum(s.calls), 0)) ^ 2, 0)),
         sum(s.rows)::bigint,
         sum(s.shared_blks_hit)::bigint, sum(s.shared_blks_read)::bigint,
         sum(s.temp_blks_read)::bigint, sum(s.temp_blks_written)::bigint,
         sum(s.wal_bytes), sum(s.plans)::bigint, sum(s.total_plan_time)
    FROM @extschema@.samples s
    LEFT JOIN @extschema@.captures c ON c.capture_id = s.capture_id
   WHERE s.fingerprint = statement_history.fingerprint
     AND s.captured_at > since AND s.captured_at <= until
   GROUP BY s.captured_at, c.interval_start
   ORDER BY s.captured_at
$f$;
COMMENT ON FUNCTION @extschema@.statement_history(text, timestamptz, timestamptz) IS
  'One statement''s samples over time, all roles summed';
