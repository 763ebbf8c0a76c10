/* Capture, part 2: table and index statistics deltas. */

-- Deltas of table and index statistics. pipeopt's own tables are not part
-- of the workload and are left out. A relation's counters restarted (new
-- relation, pg_stat_reset(), a single-table reset, a crash) when one of them
-- went down; the database's stats reset time is no guide, because a reset
-- of one table moves it too.
CREATE FUNCTION @extschema@._capture_relations(
  p_capture_id bigint, p_captured_at timestamptz, baseline boolean,
  OUT tables_sampled integer, OUT indexes_sampled integer)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  WITH cur AS MATERIALIZED (
    SELECT t.relid, t.schemaname, t.relname,
           t.seq_scan, t.seq_tup_read, coalesce(t.idx_scan, 0) AS idx_scan,
           coalesce(t.idx_tup_fetch, 0) AS idx_tup_fetch,
           t.n_tup_ins, t.n_tup_upd, t.n_tup_del, t.n_tup_hot_upd,
           t.n_live_tup, t.n_dead_tup,
           t.vacuum_count, t.autovacuum_count, t.analyze_count, t.autoanalyze_count
      FROM pg_stat_user_tables t
     WHERE t.schemaname <> '@extschema@'
  ), judged AS (
    SELECT c.*,
           (l.relid IS NULL
            OR c.seq_scan < l.seq_scan OR c.seq_tup_read < l.seq_tup_read
            OR c.idx_scan < l.idx_scan OR c.idx_tup_fetch < l.idx_tup_fetch
            OR c.n_tup_ins < l.n_tup_ins OR c.n_tup_upd < l.n_tup_upd
            OR c.n_tup_del < l.n_tup_del OR c.n_tup_hot_upd < l.n_tup_hot_upd
            OR c.vacuum_count < l.vacuum_count OR c.autovacuum_count < l.autovacuum_count
            OR c.analyze_count < l.analyze_count OR c.autoanalyze_count < l.autoanalyze_count)
             AS fresh,
           (l.relid IS NULL
            OR (c.seq_scan, c.seq_tup_read, c.idx_scan, c.idx_tup_fetch, c.n_tup_ins,
                c.n_tup_upd, c.n_tup_del, c.n_tup_hot_upd, c.n_live_tup, c.n_dead_tup,
                c.vacuum_count, c.autovacuum_count, c.analyze_count, c.autoanalyze_count)
               IS DISTINCT FROM
               (l.seq_scan, l.seq_tup_read, l.idx_scan, l.idx_tup_fetch, l.n_tup_ins,
                l.n_tup_upd, l.n_tup_del, l.n_tup_hot_upd, l.n_live_tup, l.n_dead_tup,
                l.vacuum_count, l.autovacuum_count, l.analyze_count, l.autoanalyze_count))
             AS moved
      FROM cur c
      LEFT JOIN @extschema@.table_counters l ON l.relid = c.relid
  ), new_samples AS (
    INSERT INTO @extschema@.table_samples
    SELECT p_capture_id, p_captured_at, j.relid, j.schemaname, j.relname,
           j.seq_scan - coalesce(b.seq_scan, 0), j.seq_tup_read - coalesce(b.seq_tup_read, 0),
           j.idx_scan - coalesce(b.idx_scan, 0), j.idx_tup_fetch - coalesce(b.idx_tup_fetch, 0),
           j.n_tup_ins - coalesce(b.n_tup_ins, 0), j.n_tup_upd - coalesce(b.n_tup_upd, 0),
           j.n_tup_del - coalesce(b.n_tup_del, 0), j.n_tup_hot_upd - coalesce(b.n_tup_hot_upd, 0),
           j.vacuum_count - coalesce(b.vacuum_count, 0), j.autovacuum_count - coalesce(b.autovacuum_count, 0),
           j.analyze_count - coalesce(b.analyze_count, 0), j.autoanalyze_count - coalesce(b.autoanalyze_count, 0),
           j.n_live_tup, j.n_dead_tup,
           pg_table_size(j.relid), pg_indexes_size(j.relid)
      FROM judged j
      LEFT JOIN @extschema@.table_counters b ON NOT j.fresh AND b.relid = j.relid
     WHERE j.moved AND NOT baseline
    RETURNING relid
  ), saved AS (
    INSERT INTO @extschema@.table_counters AS l
    SELECT j.relid, j.seq_scan, j.seq_tup_read, j.idx_scan, j.idx_tup_fetch,
           j.n_tup_ins, j.n_tup_upd, j.n_tup_del, j.n_tup_hot_upd, j.n_live_tup, j.n_dead_tup,
           j.vacuum_count, j.autovacuum_count, j.analyze_count, j.autoanalyze_count
      FROM judged j
     WHERE j.moved OR j.fresh
    ON CONFLICT (relid) DO UPDATE SET
      seq_scan = excluded.seq_scan, seq_tup_read = excluded.seq_tup_read,
      idx_scan = excluded.idx_scan, idx_tup_fetch = excluded.idx_tup_fetch,
      n_tup_ins = excluded.n_tup_ins, n_tup_upd = excluded.n_tup_upd,
      n_tup_del = excluded.n_tup_del, n_tup_hot_upd = excluded.n_tup_hot_upd,
      n_live_tup = excluded.n_live_tup, n_dead_tup = excluded.n_dead_tup,
      vacuum_count = excluded.vacuum_count, autovacuum_count = excluded.autovacuum_count,
      analyze_count = excluded.analyze_count, autoanalyze_count = excluded.autoanalyze_count
  ), gone AS (
    DELETE FROM @extschema@.table_counters l
     WHERE NOT EXISTS (SELECT 1 FROM cur c WHERE c.relid = l.relid)
  )
  SELECT count(*)::integer INTO tables_sampled FROM new_samples;

  -- Indexes: sampled when scanned, or when their table was written to
  -- (their size may have changed).
  WITH cur AS MATERIALIZED (
    SELECT i.indexrelid, i.relid, i.schemaname, i.relname, i.indexrelname,
           i.idx_scan, i.idx_tup_read, i.idx_tup_fetch
      FROM pg_stat_user_indexes i
     WHERE i.schemaname <> '@extschema@'
  ), written AS (
    SELECT s.relid FROM @extschema@.table_samples s
     WHERE s.capture_id = p_capture_id
       AND s.n_tup_ins + s.n_tup_upd + s.n_tup_del > 0
  ), judged AS (
    SELECT c.*,
           (l.indexrelid IS NULL
            OR c.idx_scan < l.idx_scan OR c.idx_tup_read < l.idx_tup_read
            OR c.idx_tup_fetch < l.idx_tup_fetch) AS fresh,
           (l.indexrelid IS NULL
            OR (c.idx_scan, c.idx_tup_read, c.idx_tup_fetch)
               IS DISTINCT FROM (l.idx_scan, l.idx_tup_read, l.idx_tup_fetch)) AS moved
      FROM cur c
      LEFT JOIN @extschema@.index_counters l ON l.indexrelid = c.indexrelid
  ), new_samples AS (
    INSERT INTO @extschema@.index_samples
    SELECT p_capture_id, p_captured_at, j.indexrelid, j.relid, j.schemaname, j.relname,
           j.indexrelname,
           j.idx_scan - coalesce(b.idx_scan, 0), j.idx_tup_read - coalesce(b.idx_tup_read, 0),
           j.idx_tup_fetch - coalesce(b.idx_tup_fetch, 0),
           pg_relation_size(j.indexrelid)
      FROM judged j
      LEFT JOIN @extschema@.index_counters b ON NOT j.fresh AND b.indexrelid = j.indexrelid
     WHERE NOT baseline
       AND (j.moved OR j.relid IN (SELECT w.relid FROM written w))
    RETURNING 1
  ), saved AS (
    INSERT INTO @extschema@.index_counters AS l
    SELECT j.indexrelid, j.idx_scan, j.idx_tup_read, j.idx_tup_fetch
      FROM judged j
     WHERE j.moved OR j.fresh
    ON CONFLICT (indexrelid) DO UPDATE SET
      idx_scan = excluded.idx_scan, idx_tup_read = excluded.idx_tup_read,
      idx_tup_fetch = excluded.idx_tup_fetch
  ), gone AS (
    DELETE FROM @extschema@.index_counters l
     WHERE NOT EXISTS (SELECT 1 FROM cur c WHERE c.indexrelid = l.indexrelid)
  )
  SELECT count(*)::integer INTO indexes_sampled FROM new_samples;
END
$f$;
