/* Capture, part 1: new statement texts and pg_stat_statements deltas. */

-- Fingerprint and store the texts of queryids never seen before. Texts are
-- read only for those: reading every text is the expensive path.
CREATE FUNCTION @extschema@._register_statements(pgss text, dbid oid)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  unseen bigint[];
  added integer;
  nestloop text := current_setting('enable_nestloop');
BEGIN
  -- a hash anti-join over the whole snapshot (see _capture_statements)
  PERFORM set_config('enable_nestloop', 'off', true);
  EXECUTE format($q$
    SELECT array_agg(DISTINCT s.queryid)
      FROM %I.pg_stat_statements(false) s
     WHERE s.dbid = $1 AND s.queryid IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM @extschema@.statement_queryids m
                        WHERE m.queryid = s.queryid)$q$, pgss)
    INTO unseen USING dbid;
  PERFORM set_config('enable_nestloop', nestloop, true);
  IF unseen IS NULL THEN
    RETURN 0;
  END IF;

  EXECUTE format($q$
    WITH texts AS MATERIALIZED (
      SELECT DISTINCT ON (s.queryid) s.queryid, p.*
        FROM %I.pg_stat_statements(true) s
       CROSS JOIN LATERAL @extschema@.parse_statement(s.query) p
       WHERE s.dbid = $1 AND s.queryid = ANY ($2) AND s.query IS NOT NULL
    ), new_statements AS (
      INSERT INTO @extschema@.statements
             (fingerprint, query, kind, parse_error, parse_error_position)
      SELECT DISTINCT ON (t.fingerprint)
             t.fingerprint, t.query, t.kind, t.parse_error, t.parse_error_position
        FROM texts t
       ORDER BY t.fingerprint, t.queryid
      ON CONFLICT (fingerprint) DO NOTHING
      RETURNING 1
    ), new_queryids AS (
      INSERT INTO @extschema@.statement_queryids (queryid, fingerprint)
      SELECT t.queryid, t.fingerprint FROM texts t
      ON CONFLICT (queryid) DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM new_statements)::integer$q$, pgss)
    INTO added USING dbid, unseen;
  RETURN added;
END
$f$;

-- Deltas of pg_stat_statements since the previous capture. An entry is
-- "fresh" (its whole counters are the delta) when it is new, when
-- pg_stat_statements was reset or restarted after a crash (stats_reset
-- moved), or when the entry itself was evicted or reset and created again:
-- then some counter went down, or min_exec_time rose, or max_exec_time fell,
-- which never happens to an entry that lives on.
-- The planner takes pg_stat_statements() for 5 rows (1000 times the dbid
-- filter's selectivity) and would look up thousands of entries one by one;
-- hash joins over the whole snapshot are what a tick wants.
CREATE FUNCTION @extschema@._capture_statements(
  pgss text, dbid oid, p_capture_id bigint, p_captured_at timestamptz,
  full_reset boolean, baseline boolean,
  OUT tracked integer, OUT sampled integer)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET enable_nestloop = off
AS $f$
BEGIN
  EXECUTE format($q$
    WITH cur AS MATERIALIZED (
      SELECT s.userid, s.queryid, s.toplevel, m.fingerprint,
             s.calls, s.plans, s.total_exec_time, s.min_exec_time, s.max_exec_time,
             s.calls * (s.stddev_exec_time ^ 2 + s.mean_exec_time ^ 2) AS sum_sq_exec_time,
             s.total_plan_time, s.rows,
             s.shared_blks_hit, s.shared_blks_read, s.shared_blks_dirtied, s.shared_blks_written,
             s.local_blks_hit, s.local_blks_read, s.local_blks_dirtied, s.local_blks_written,
             s.temp_blks_read, s.temp_blks_written, s.blk_read_time, s.blk_write_time,
             s.wal_records, s.wal_fpi, s.wal_bytes, s.jit_functions,
             s.jit_generation_time + s.jit_inlining_time + s.jit_optimization_time
               + s.jit_emission_time AS jit_time
        FROM %I.pg_stat_statements(false) s
        JOIN @extschema@.statement_queryids m ON m.queryid = s.queryid
       WHERE s.dbid = $1
    ), judged AS (
      SELECT c.*, l.calls AS last_calls, l.plans AS last_plans,
             (l.queryid IS NULL OR $2
              OR c.calls < l.calls OR c.plans < l.plans
              OR c.total_exec_time < l.total_exec_time OR c.total_plan_time < l.total_plan_time
              OR c.rows < l.rows
              OR c.shared_blks_hit < l.shared_blks_hit OR c.shared_blks_read < l.shared_blks_read
              OR c.shared_blks_dirtied < l.shared_blks_dirtied OR c.shared_blks_written < l.shared_blks_written
              OR c.local_blks_hit < l.local_blks_hit OR c.local_blks_read < l.local_blks_read
              OR c.local_blks_dirtied < l.local_blks_dirtied OR c.local_blks_written < l.local_blks_written
              OR c.temp_blks_read < l.temp_blks_read OR c.temp_blks_written < l.temp_blks_written
              OR c.blk_read_time < l.blk_read_time OR c.blk_write_time < l.blk_write_time
              OR c.wal_records < l.wal_records OR c.wal_fpi < l.wal_fpi OR c.wal_bytes < l.wal_bytes
              OR c.jit_functions < l.jit_functions OR c.jit_time < l.jit_time
              OR (l.calls > 0 AND c.calls > 0
                  AND (c.min_exec_time > l.min_exec_time OR c.max_exec_time < l.max_exec_time)))
               AS fresh
        FROM cur c
        LEFT JOIN @extschema@.statement_counters l
               ON (l.userid, l.queryid, l.toplevel) = (c.userid, c.queryid, c.toplevel)
    ), delta AS (
      SELECT j.fingerprint, j.userid, j.toplevel,
             j.calls - coalesce(b.calls, 0) AS calls,
             j.plans - coalesce(b.plans, 0) AS plans,
             j.total_exec_time - coalesce(b.total_exec_time, 0) AS total_exec_time,
             greatest(j.sum_sq_exec_time - coalesce(b.sum_sq_exec_time, 0), 0) AS sum_sq_exec_time,
             j.total_plan_time - coalesce(b.total_plan_time, 0) AS total_plan_time,
             j.rows - coalesce(b.rows, 0) AS rows,
             j.shared_blks_hit - coalesce(b.shared_blks_hit, 0) AS shared_blks_hit,
             j.shared_blks_read - coalesce(b.shared_blks_read, 0) AS shared_blks_read,
             j.shared_blks_dirtied - coalesce(b.shared_blks_dirtied, 0) AS shared_blks_dirtied,
             j.shared_blks_written - coalesce(b.shared_blks_written, 0) AS shared_blks_written,
             j.local_blks_hit - coalesce(b.local_blks_hit, 0) AS local_blks_hit,
             j.local_blks_read - coalesce(b.local_blks_read, 0) AS local_blks_read,
             j.local_blks_dirtied - coalesce(b.local_blks_dirtied, 0) AS local_blks_dirtied,
             j.local_blks_written - coalesce(b.local_blks_written, 0) AS local_blks_written,
             j.temp_blks_read - coalesce(b.temp_blks_read, 0) AS temp_blks_read,
             j.temp_blks_written - coalesce(b.temp_blks_written, 0) AS temp_blks_written,
             j.blk_read_time - coalesce(b.blk_read_time, 0) AS blk_read_time,
             j.blk_write_time - coalesce(b.blk_write_time, 0) AS blk_write_time,
             j.wal_records - coalesce(b.wal_records, 0) AS wal_records,
             j.wal_fpi - coalesce(b.wal_fpi, 0) AS wal_fpi,
             j.wal_bytes - coalesce(b.wal_bytes, 0) AS wal_bytes,
             j.jit_functions - coalesce(b.jit_functions, 0) AS jit_functions,
             j.jit_time - coalesce(b.jit_time, 0) AS jit_time
        FROM judged j
        LEFT JOIN @extschema@.statement_counters b
               ON NOT j.fresh
              AND (b.userid, b.queryid, b.toplevel) = (j.userid, j.queryid, j.toplevel)
       WHERE j.fresh OR j.calls <> j.last_calls OR j.plans <> j.last_plans
    ), new_samples AS (
      INSERT INTO @extschema@.samples
      SELECT $3, $4, d.fingerprint, d.userid, d.toplevel,
             sum(d.calls), sum(d.plans), sum(d.total_exec_time), sum(d.sum_sq_exec_time),
             sum(d.total_plan_time), sum(d.rows),
             sum(d.shared_blks_hit), sum(d.shared_blks_read), sum(d.shared_blks_dirtied), sum(d.shared_blks_written),
             sum(d.local_blks_hit), sum(d.local_blks_read), sum(d.local_blks_dirtied), sum(d.local_blks_written),
             sum(d.temp_blks_read), sum(d.temp_blks_written), sum(d.blk_read_time), sum(d.blk_write_time),
             sum(d.wal_records), sum(d.wal_fpi), sum(d.wal_bytes),
             sum(d.jit_functions), sum(d.jit_time)
        FROM delta d
       WHERE NOT $5
       GROUP BY d.fingerprint, d.userid, d.toplevel
      HAVING sum(d.calls) > 0 OR sum(d.plans) > 0
      RETURNING 1
    ), saved AS (
      INSERT INTO @extschema@.statement_counters AS l
      SELECT j.userid, j.queryid, j.toplevel, j.calls, j.plans, j.total_exec_time,
             j.min_exec_time, j.max_exec_time, j.sum_sq_exec_time, j.total_plan_time, j.rows,
             j.shared_blks_hit, j.shared_blks_read, j.shared_blks_dirtied, j.shared_blks_written,
             j.local_blks_hit, j.local_blks_read, j.local_blks_dirtied, j.local_blks_written,
             j.temp_blks_read, j.temp_blks_written, j.blk_read_time, j.blk_write_time,
             j.wal_records, j.wal_fpi, j.wal_bytes, j.jit_functions, j.jit_time
        FROM judged j
       WHERE j.fresh OR j.calls <> j.last_calls OR j.plans <> j.last_plans
      ON CONFLICT (userid, queryid, toplevel) DO UPDATE SET
        calls = excluded.calls, plans = excluded.plans,
        total_exec_time = excluded.total_exec_time,
        min_exec_time = excluded.min_exec_time, max_exec_time = excluded.max_exec_time,
        sum_sq_exec_time = excluded.sum_sq_exec_time,
        total_plan_time = excluded.total_plan_time, rows = excluded.rows,
        shared_blks_hit = excluded.shared_blks_hit, shared_blks_read = excluded.shared_blks_read,
        shared_blks_dirtied = excluded.shared_blks_dirtied, shared_blks_written = excluded.shared_blks_written,
        local_blks_hit = excluded.local_blks_hit, local_blks_read = excluded.local_blks_read,
        local_blks_dirtied = excluded.local_blks_dirtied, local_blks_written = excluded.local_blks_written,
        temp_blks_read = excluded.temp_blks_read, temp_blks_written = excluded.temp_blks_written,
        blk_read_time = excluded.blk_read_time, blk_write_time = excluded.blk_write_time,
        wal_records = excluded.wal_records, wal_fpi = excluded.wal_fpi, wal_bytes = excluded.wal_bytes,
        jit_functions = excluded.jit_functions, jit_time = excluded.jit_time
      RETURNING 1
    ), gone AS (
      DELETE FROM @extschema@.statement_counters l
       WHERE NOT EXISTS (SELECT 1 FROM cur c
                          WHERE (c.userid, c.queryid, c.toplevel) = (l.userid, l.queryid, l.toplevel))
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM cur)::integer,
           (SELECT count(*) FROM new_samples)::integer,
           (SELECT count(*) FROM saved) + (SELECT count(*) FROM gone)$q$, pgss)
    INTO tracked, sampled
    USING dbid, full_reset, p_capture_id, p_captured_at, baseline;
END
$f$;
