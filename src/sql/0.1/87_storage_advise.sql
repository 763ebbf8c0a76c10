/*
 * The storage and statistics advisor, part 2: advise_storage() over the
 * captured workload. One run looks at the statements that took the most
 * time (each analyzed and planned as the role that ran it, on its
 * parameter samples: _storage_statement, _storage_whatif in
 * src/storage/) and at the tables' captured statistics, and proposes:
 *
 *   BRIN instead of a B-tree  a column compared with <, <=, >, >= on an
 *       append-mostly table (updates and deletes at most 5% of its
 *       writes), |correlation| >= 0.9 in pg_stats, no index on it yet,
 *       when the BRIN plan saves at least 1% of the statements' cost and
 *       at least a quarter of what a B-tree would save net of its upkeep
 *       (both sizes and costs from the what-if planner);
 *   extended statistics  two or more columns of a table filtered with =
 *       or IN together, where the planner's row estimate is 10 times or
 *       more off the rows the statement really returned per call;
 *   autovacuum settings  a table whose dead-tuple share was 20% or more
 *       in each of its last 3 captured samples;
 *   a materialized view  an aggregate that takes 10% or more of the
 *       workload's time, ran 3 times or more, reads a table of 100,000
 *       rows or more, and whose tables change by at most 1% of their rows
 *       per hour (advisory only).
 *
 * Every candidate it looked at is kept in storage_candidates with its
 * measurements and the reason it was or was not recommended. Status moves
 * of its advice are the index advisor's (81_index_advice.sql): repeated
 * proposed advice is refreshed, what it no longer gives becomes obsolete;
 * a BRIN supersedes a proposed B-tree on the same column.
 */

CREATE TABLE @extschema@.storage_candidates (
  run_id       bigint NOT NULL,
  kind         text NOT NULL,
  relid        oid NOT NULL,
  attnums      smallint[],
  fingerprint  text,
  outcome      text NOT NULL CHECK (outcome IN ('recommended', 'rejected')),
  reason       text NOT NULL,
  detail       jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE @extschema@.storage_candidates IS
  'The storage advisor''s last run: every candidate it considered, its measurements, and why it was or was not recommended';

-- Whether a recommendation is the storage advisor's.
CREATE FUNCTION @extschema@._storage_kind(kind text, target jsonb)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT kind IN ('create_statistics', 'set_table_storage', 'create_materialized_view')
      OR (kind = 'create_index' AND target ->> 'method' = 'brin')
$f$;

-- How far a statement's plans stand for its executions (as advise.md
-- says for the index advisor): constants 1, n samples 0.6 + 0.3 x
-- min(n / 4, 1), generic plans 0.6.
CREATE FUNCTION @extschema@._basis_factor(shape jsonb)
RETURNS double precision
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE shape ->> 'basis' WHEN 'constants' THEN 1.0
                                WHEN 'samples' THEN 0.6 + 0.3 * least((shape ->> 'samples')::double precision / 4, 1)
                                ELSE 0.6 END
$f$;

-- BRIN instead of B-tree, for every column compared with a range.
CREATE FUNCTION @extschema@._advise_brin(run_id bigint, hours double precision)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  c record;
  s record;
  w jsonb;
  before double precision;
  with_btree double precision;
  with_brin double precision;
  saving_ms double precision;
  calls double precision;
  basis double precision;
  planned integer;
  btree_bytes double precision;
  brin_bytes double precision;
  entry_cost double precision;
  upkeep double precision;
  changes double precision;
  reason text;
  detail jsonb;
  key text;
BEGIN
  FOR c IN
    WITH ranges AS (
      SELECT (r ->> 'relid')::oid AS relid, x::smallint AS attnum, ps.fingerprint
        FROM pipeopt_storage_stmts ps
       CROSS JOIN LATERAL jsonb_array_elements(ps.shape -> 'ranges') r
       CROSS JOIN LATERAL jsonb_array_elements_text(r -> 'attnums') x
       WHERE ps.shape ->> 'error' IS NULL
    )
    SELECT r.relid, r.attnum, array_agg(DISTINCT r.fingerprint) AS fingerprints,
           (SELECT st.correlation FROM pg_stats st
             WHERE st.schemaname = n.nspname AND st.tablename = rc.relname AND st.attname = a.attname
               AND NOT st.inherited) AS correlation,
           t.ins, t.upd, t.del, t.hot,
           (SELECT format('%I.%I (%s)', xn.nspname, xc.relname, am.amname)
              FROM pg_index i JOIN pg_class xc ON xc.oid = i.indexrelid
              JOIN pg_namespace xn ON xn.oid = xc.relnamespace JOIN pg_am am ON am.oid = xc.relam
             WHERE i.indrelid = r.relid AND i.indkey[0] = r.attnum
             ORDER BY xc.relname LIMIT 1) AS existing
      FROM ranges r
      JOIN pg_class rc ON rc.oid = r.relid AND rc.relkind = 'r'
      JOIN pg_namespace n ON n.oid = rc.relnamespace
      JOIN pg_attribute a ON a.attrelid = r.relid AND a.attnum = r.attnum AND NOT a.attisdropped
      LEFT JOIN pipeopt_storage_tables t ON t.relid = r.relid
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '@extschema@')
     GROUP BY r.relid, r.attnum, n.nspname, rc.relname, a.attname, t.ins, t.upd, t.del, t.hot
     ORDER BY r.relid, r.attnum
  LOOP
    key := 'create_index:' || c.relid || ':' || jsonb_build_array(c.attnum)::text || ':brin';
    detail := jsonb_build_object('correlation', c.correlation, 'statements', cardinality(c.fingerprints),
                                 'inserts', c.ins, 'updates', c.upd, 'deletes', c.del);
    IF c.existing IS NOT NULL THEN
      INSERT INTO @extschema@.storage_candidates
      VALUES (run_id, 'create_index', c.relid, ARRAY[c.attnum], NULL, 'rejected',
              'index ' || c.existing || ' serves the column already', detail);
      CONTINUE;
    END IF;
    -- both indexes priced on every statement that compares the column
    before := 0; with_btree := 0; with_brin := 0; saving_ms := 0; calls := 0; basis := 0; planned := 0;
    FOR s IN SELECT * FROM pipeopt_storage_stmts x WHERE x.fingerprint = ANY (c.fingerprints)
              ORDER BY x.fingerprint LOOP
      w := @extschema@._storage_whatif(s.query, s.userid, s.samples, c.relid, c.attnum);
      CONTINUE WHEN w ? 'error';
      planned := planned + 1;
      before := before + s.calls_per_hour * (w ->> 'cost_before')::double precision;
      with_btree := with_btree + s.calls_per_hour * (w ->> 'cost_btree')::double precision;
      with_brin := with_brin + s.calls_per_hour * (w ->> 'cost_brin')::double precision;
      saving_ms := saving_ms + s.calls_per_hour * s.mean_ms
                   * greatest((w ->> 'cost_before')::double precision - (w ->> 'cost_brin')::double precision, 0)
                   / greatest((w ->> 'cost_before')::double precision, 1e-9);
      calls := calls + s.calls;
      basis := greatest(basis, @extschema@._basis_factor(w));
      btree_bytes := (w ->> 'btree_bytes')::double precision;
      brin_bytes := (w ->> 'brin_bytes')::double precision;
      entry_cost := (w ->> 'btree_entry_cost')::double precision;
      INSERT INTO pipeopt_storage_affected
      VALUES (key, s.fingerprint, s.calls_per_hour, s.mean_ms, (w ->> 'cost_before')::double precision,
              (w ->> 'cost_brin')::double precision, (w ->> 'cost_before')::double precision,
              s.calls_per_hour * s.mean_ms
                * greatest((w ->> 'cost_before')::double precision - (w ->> 'cost_brin')::double precision, 0)
                / greatest((w ->> 'cost_before')::double precision, 1e-9));
    END LOOP;
    -- what keeping a B-tree up to date costs per hour: an entry per
    -- inserted row and per update that is not HOT (the index advisor's charge)
    upkeep := (coalesce(c.ins, 0) + coalesce(c.upd, 0) - coalesce(c.hot, 0)) / hours * coalesce(entry_cost, 0);
    changes := (coalesce(c.upd, 0) + coalesce(c.del, 0)) / greatest(coalesce(c.ins, 0) + coalesce(c.upd, 0) + coalesce(c.del, 0), 1);
    detail := detail || jsonb_build_object(
      'planned', planned, 'cost_before', round(before::numeric, 1), 'cost_btree', round(with_btree::numeric, 1),
      'cost_brin', round(with_brin::numeric, 1), 'btree_upkeep', round(upkeep::numeric, 1),
      'btree_bytes', btree_bytes, 'brin_bytes', brin_bytes,
      'update_delete_share', round(changes::numeric, 4));
    reason := CASE
      WHEN planned = 0 THEN 'no statement that compares it could be planned'
      WHEN c.correlation IS NULL THEN 'the column has no statistics: ANALYZE the table'
      WHEN abs(c.correlation) < 0.9 THEN
        format('correlation %s is below 0.9: the column''s order does not follow the table''s', round(c.correlation::numeric, 3))
      WHEN c.ins IS NULL THEN 'no captured write statistics of the table yet'
      WHEN changes > 0.05 THEN
        format('not append-mostly: updates and deletes are %s%% of its writes', round((100 * changes)::numeric, 1))
      WHEN before - with_brin < 0.01 * before THEN
        'no saving: a BRIN index lowers the statements'' cost by less than 1%'
      -- a quarter: PostgreSQL 15 prices a BRIN bitmap scan's heap pages as
      -- if its matches were scattered, which understates BRIN's saving
      -- on a correlated column (bench/brin.sh measures the real one)
      WHEN before - with_brin < 0.25 * (before - with_btree - upkeep) THEN
        format('a B-tree saves much more, net of its upkeep of %s: cost %s with BRIN, %s with a B-tree, %s today',
               round(upkeep::numeric), round(with_brin::numeric), round(with_btree::numeric), round(before::numeric))
      END;
    INSERT INTO @extschema@.storage_candidates
    VALUES (run_id, 'create_index', c.relid, ARRAY[c.attnum], NULL,
            CASE WHEN reason IS NULL THEN 'recommended' ELSE 'rejected' END,
            coalesce(reason, 'recommended'), detail);
    IF reason IS NOT NULL THEN
      DELETE FROM pipeopt_storage_affected f WHERE f.target_key = key;
      CONTINUE;
    END IF;
    INSERT INTO pipeopt_storage_new
    VALUES ('create_index', c.relid, key,
            jsonb_build_object('relid', c.relid, 'method', 'brin', 'attnums', jsonb_build_array(c.attnum)),
            brin_bytes::bigint, saving_ms, before, with_brin, NULL,
            round((0.95 * (0.5 + 0.5 * least(calls / 30.0, 1)) * basis)::numeric, 2)::double precision, 'low',
            format('BRIN instead of B-tree: %s bytes instead of %s; the statements'' cost per hour %s today, %s with BRIN, %s with a B-tree that costs %s per hour to keep up to date; correlation %s',
                   brin_bytes::bigint, btree_bytes::bigint, round(before::numeric), round(with_brin::numeric),
                   round(with_btree::numeric), round(upkeep::numeric), round(c.correlation::numeric, 3)),
            detail || jsonb_build_object('calls', calls));
  END LOOP;
END
$f$;

-- Extended statistics for columns filtered together and misestimated.
CREATE FUNCTION @extschema@._advise_statistics(run_id bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  c record;
  reason text;
  detail jsonb;
  key text;
BEGIN
  FOR c IN
    WITH filters AS (
      SELECT (e ->> 'relid')::oid AS relid,
             ARRAY(SELECT x::smallint FROM jsonb_array_elements_text(e -> 'attnums') x) AS attnums,
             s.fingerprint, s.calls, s.calls_per_hour, s.mean_ms, s.rows_per_call, s.shape,
             (s.shape ->> 'rows')::double precision AS estimate,
             -- how many times off, either way
             greatest(greatest((s.shape ->> 'rows')::double precision, 1) / greatest(s.rows_per_call, 1),
                      greatest(s.rows_per_call, 1) / greatest((s.shape ->> 'rows')::double precision, 1)) AS off
        FROM pipeopt_storage_stmts s
       CROSS JOIN LATERAL jsonb_array_elements(s.shape -> 'equalities') e
       WHERE s.shape ->> 'error' IS NULL AND (s.shape ->> 'rows_comparable')::boolean
         AND jsonb_array_length(e -> 'attnums') >= 2
    )
    SELECT f.relid, f.attnums,
           (array_agg(f.fingerprint ORDER BY f.off DESC, f.fingerprint))[1] AS worst,
           max(f.off) AS off,
           (array_agg(f.estimate ORDER BY f.off DESC, f.fingerprint))[1] AS estimate,
           (array_agg(f.rows_per_call ORDER BY f.off DESC, f.fingerprint))[1] AS actual,
           sum(f.calls) AS calls, count(*) AS statements,
           min(@extschema@._basis_factor(f.shape)) AS basis,
           (SELECT format('%I.%I', xn.nspname, x.stxname) FROM pg_statistic_ext x
              JOIN pg_namespace xn ON xn.oid = x.stxnamespace
             WHERE x.stxrelid = f.relid AND x.stxkeys::int2[] @> f.attnums
             ORDER BY x.stxname LIMIT 1) AS existing
      FROM filters f
      JOIN pg_class rc ON rc.oid = f.relid AND rc.relkind = 'r'
      JOIN pg_namespace n ON n.oid = rc.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', '@extschema@')
     GROUP BY f.relid, f.attnums
     ORDER BY f.relid, f.attnums
  LOOP
    key := 'create_statistics:' || c.relid || ':' || to_jsonb(c.attnums)::text;
    detail := jsonb_build_object('estimated_rows', round(c.estimate::numeric, 1),
                                 'rows_per_call', round(c.actual::numeric, 1),
                                 'misestimate', round(c.off::numeric, 1), 'statement', c.worst,
                                 'statements', c.statements, 'calls', c.calls);
    reason := CASE
      WHEN c.off < 10 THEN format('the estimate is off by %s times only (10 or more is needed)', round(c.off::numeric, 1))
      WHEN cardinality(c.attnums) > 8 THEN 'more than 8 columns: a statistics object takes at most 8'
      WHEN c.existing IS NOT NULL THEN
        format('statistics object %s covers these columns already; the estimate is still %s times off (has the table been analyzed since?)',
               c.existing, round(c.off::numeric, 1))
      END;
    INSERT INTO @extschema@.storage_candidates
    VALUES (run_id, 'create_statistics', c.relid, c.attnums, c.worst,
            CASE WHEN reason IS NULL THEN 'recommended' ELSE 'rejected' END, coalesce(reason, 'recommended'), detail);
    CONTINUE WHEN reason IS NOT NULL;
    INSERT INTO pipeopt_storage_new
    VALUES ('create_statistics', c.relid, key,
            jsonb_build_object('relid', c.relid, 'attnums', to_jsonb(c.attnums),
                               'kinds', jsonb_build_array('ndistinct', 'dependencies', 'mcv')),
            NULL, NULL, NULL, NULL, NULL,
            round((0.9 * (0.5 + 0.5 * least(c.calls / 30.0, 1)) * c.basis)::numeric, 2)::double precision, 'low',
            format('the planner estimates %s rows where %s are returned per call (%s times off): the columns are filtered together and are not independent',
                   round(c.estimate::numeric), round(c.actual::numeric), round(c.off::numeric, 1)),
            detail);
    INSERT INTO pipeopt_storage_affected
    SELECT key, s.fingerprint, s.calls_per_hour, s.mean_ms, (s.shape ->> 'cost')::double precision,
           (s.shape ->> 'cost')::double precision, (s.shape ->> 'cost')::double precision, 0
      FROM pipeopt_storage_stmts s
     WHERE s.shape ->> 'error' IS NULL
       AND EXISTS (SELECT 1 FROM jsonb_array_elements(s.shape -> 'equalities') e
                    WHERE (e ->> 'relid')::oid = c.relid
                      AND ARRAY(SELECT x::smallint FROM jsonb_array_elements_text(e -> 'attnums') x) = c.attnums);
  END LOOP;
END
$f$;

-- Autovacuum settings for tables whose dead-tuple share stays high.
CREATE FUNCTION @extschema@._advise_autovacuum(run_id bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  c record;
  cur jsonb;
  opts jsonb;
  target_sf numeric;
  reason text;
  detail jsonb;
BEGIN
  FOR c IN
    WITH h AS (
      SELECT s.relid, s.n_live_tup, s.n_dead_tup, s.autovacuum_count, s.vacuum_count, s.table_bytes,
             s.n_dead_tup::double precision / nullif(s.n_live_tup + s.n_dead_tup, 0) AS ratio,
             row_number() OVER (PARTITION BY s.relid ORDER BY s.captured_at DESC, s.capture_id DESC) AS age
        FROM @extschema@.table_samples s
        JOIN @extschema@.captures k ON k.capture_id = s.capture_id AND k.origin = 'local'
    )
    SELECT h.relid, count(*) AS samples,
           min(h.ratio) FILTER (WHERE h.age <= 3) AS recent_min,
           max(h.ratio) FILTER (WHERE h.age = 1) AS latest,
           sum(h.autovacuum_count) AS autovacuums, sum(h.vacuum_count) AS vacuums,
           max(h.n_live_tup + h.n_dead_tup) FILTER (WHERE h.age = 1) AS tuples,
           max(h.table_bytes) FILTER (WHERE h.age = 1) AS table_bytes
      FROM h
      JOIN pg_class rc ON rc.oid = h.relid AND rc.relkind = 'r'
     GROUP BY h.relid
    HAVING max(h.ratio) FILTER (WHERE h.age = 1) >= 0.2
       AND max(h.n_live_tup + h.n_dead_tup) FILTER (WHERE h.age = 1) >= 1000
     ORDER BY h.relid
  LOOP
    cur := @extschema@._storage_current(c.relid, ARRAY(SELECT o.name FROM @extschema@._storage_options() o));
    opts := '{}';
    IF cur ->> 'autovacuum_enabled' = 'false' THEN
      opts := opts || '{"autovacuum_enabled": true}';
    END IF;
    -- vacuum when about 5% of a table is dead (less of a big one)
    target_sf := CASE WHEN c.tuples > 10000000 THEN 0.01 WHEN c.tuples > 1000000 THEN 0.02 ELSE 0.05 END;
    IF coalesce(cur ->> 'autovacuum_vacuum_scale_factor',
                current_setting('autovacuum_vacuum_scale_factor'))::numeric > target_sf THEN
      opts := opts || jsonb_build_object('autovacuum_vacuum_scale_factor', target_sf);
    END IF;
    -- autovacuum ran and did not keep up: let it do more per round
    IF c.autovacuums > 0 AND coalesce((cur ->> 'autovacuum_vacuum_cost_limit')::integer, -1) < 1000 THEN
      opts := opts || '{"autovacuum_vacuum_cost_limit": 1000}';
    END IF;
    detail := jsonb_build_object('samples', c.samples, 'dead_share_latest', round(c.latest::numeric, 3),
                                 'dead_share_min_last_3', round(c.recent_min::numeric, 3),
                                 'tuples', c.tuples, 'table_bytes', c.table_bytes,
                                 'autovacuums', c.autovacuums, 'vacuums', c.vacuums, 'options_now', cur);
    reason := CASE
      WHEN c.samples < 3 THEN format('%s captured samples: 3 are needed to tell a lasting share from a passing one', c.samples)
      WHEN c.recent_min < 0.2 THEN
        format('its dead-tuple share fell to %s%% in its last 3 samples', round((100 * c.recent_min)::numeric, 1))
      WHEN opts = '{}' THEN 'its autovacuum settings are already as tight as pipeopt would set them'
      END;
    INSERT INTO @extschema@.storage_candidates
    VALUES (run_id, 'set_table_storage', c.relid, NULL, NULL,
            CASE WHEN reason IS NULL THEN 'recommended' ELSE 'rejected' END, coalesce(reason, 'recommended'),
            detail || jsonb_build_object('options', opts));
    CONTINUE WHEN reason IS NOT NULL;
    INSERT INTO pipeopt_storage_new
    VALUES ('set_table_storage', c.relid, 'set_table_storage:' || c.relid,
            jsonb_build_object('relid', c.relid, 'options', opts), NULL, NULL, NULL, NULL, NULL,
            round((0.6 + 0.3 * least((c.samples - 3) / 3.0, 1))::numeric, 2)::double precision, 'low',
            format('%s%% of its tuples were dead in each of its last 3 samples (%s%% now)%s',
                   round((100 * c.recent_min)::numeric, 1), round((100 * c.latest)::numeric, 1),
                   CASE WHEN cur ->> 'autovacuum_enabled' = 'false' THEN '; autovacuum is disabled for it'
                        WHEN c.autovacuums > 0 THEN '; autovacuum ran and did not keep up'
                        ELSE '; autovacuum waits for too large a share' END),
            detail);
  END LOOP;
END
$f$;

-- Materialized views for heavy, repeated aggregates over large, quiet tables.
CREATE FUNCTION @extschema@._advise_views(run_id bigint, hours double precision)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  c record;
  total_ms double precision;
  minutes integer;
  reason text;
  detail jsonb;
  columns jsonb;
  unique_columns jsonb;
BEGIN
  SELECT sum(s.total_exec_time) INTO total_ms
    FROM @extschema@.samples s
    JOIN @extschema@.captures k ON k.capture_id = s.capture_id AND k.origin = 'local';
  FOR c IN
    SELECT s.*, t.relid AS main_relid, t.rows, t.largest_rows, t.writes_per_hour, t.relids
      FROM pipeopt_storage_stmts s
     CROSS JOIN LATERAL (
       SELECT (array_agg(x.oid ORDER BY x.reltuples DESC, x.oid))[1] AS relid,
              sum(greatest(x.reltuples, 0)) AS rows, max(x.reltuples) AS largest_rows,
              sum(coalesce(w.ins, 0) + coalesce(w.upd, 0) + coalesce(w.del, 0)) / hours AS writes_per_hour,
              jsonb_agg(x.oid ORDER BY x.oid) AS relids
         FROM jsonb_array_elements_text(s.shape -> 'relations') r
         JOIN pg_class x ON x.oid = r::oid
         LEFT JOIN pipeopt_storage_tables w ON w.relid = x.oid) t
     WHERE s.shape ->> 'error' IS NULL AND (s.shape ->> 'aggregate')::boolean AND t.relid IS NOT NULL
     ORDER BY s.fingerprint
  LOOP
    -- refreshing costs about one run: refresh at most a tenth as often as it is called
    minutes := least(greatest(round(600 / greatest(c.calls_per_hour, 1e-9)), 5), 1440)::integer;
    detail := jsonb_build_object('share_of_time', round((c.ms / greatest(total_ms, 1e-9))::numeric, 3),
                                 'calls', c.calls, 'mean_ms', round(c.mean_ms::numeric, 2),
                                 'table_rows', c.rows, 'writes_per_hour', round(c.writes_per_hour::numeric, 1),
                                 'estimated_rows', round((c.shape ->> 'rows')::numeric), 'refresh_minutes', minutes);
    reason := CASE
      WHEN c.ms < 0.1 * total_ms THEN
        format('it takes %s%% of the workload''s time (10%% or more is needed)', round((100 * c.ms / total_ms)::numeric, 1))
      WHEN c.calls < 3 THEN format('it ran %s times (3 or more are needed)', c.calls)
      WHEN c.largest_rows < 100000 THEN format('its largest table has %s rows (100000 or more are needed)', c.largest_rows)
      WHEN c.writes_per_hour > 0.01 * c.rows THEN
        format('its tables change by %s rows per hour, more than 1%% of their rows: the view would be stale',
               round(c.writes_per_hour::numeric))
      WHEN c.shape ->> 'definition' IS NULL THEN 'no definition: ' || coalesce(c.shape ->> 'definition_note', 'unknown')
      END;
    INSERT INTO @extschema@.storage_candidates
    VALUES (run_id, 'create_materialized_view', c.main_relid, NULL, c.fingerprint,
            CASE WHEN reason IS NULL THEN 'recommended' ELSE 'rejected' END, coalesce(reason, 'recommended'), detail);
    CONTINUE WHEN reason IS NOT NULL;
    -- output names made unique (the view's columns); the unique index
    -- for REFRESH ... CONCURRENTLY on the GROUP BY keys
    SELECT jsonb_agg(CASE WHEN d.n > 1 THEN d.x || '_' || d.o ELSE d.x END ORDER BY d.o) INTO columns
      FROM (SELECT e.x, e.o, count(*) OVER (PARTITION BY e.x) AS n
              FROM jsonb_array_elements_text(c.shape -> 'columns') WITH ORDINALITY e(x, o)) d;
    unique_columns := CASE WHEN (c.shape ->> 'groups_output')::boolean
                             AND (SELECT count(DISTINCT x) = count(*) FROM jsonb_array_elements_text(c.shape -> 'columns') x)
                           THEN c.shape -> 'group_columns' ELSE '[]' END;
    INSERT INTO pipeopt_storage_new
    VALUES ('create_materialized_view', c.main_relid, 'create_materialized_view:' || c.fingerprint,
            jsonb_build_object('relid', c.main_relid, 'relids', c.relids, 'fingerprint', c.fingerprint,
                               'columns', columns, 'unique_columns', unique_columns,
                               'definition', c.shape ->> 'definition', 'refresh_minutes', minutes),
            NULL, greatest(c.calls_per_hour * c.mean_ms - 60.0 / minutes * c.mean_ms, 0), NULL, NULL, NULL,
            round((0.95 * (0.5 + 0.5 * least(c.calls / 30.0, 1)) * @extschema@._basis_factor(c.shape))::numeric, 2)::double precision,
            'low',
            format('an aggregate over %s rows that takes %s%% of the workload''s time, %s calls per hour of %s ms; its tables change by %s rows per hour: refresh every %s minutes',
                   c.rows, round((100 * c.ms / total_ms)::numeric, 1), round(c.calls_per_hour::numeric, 1),
                   round(c.mean_ms::numeric, 1), round(c.writes_per_hour::numeric), minutes),
            detail);
  END LOOP;
END
$f$;

CREATE FUNCTION @extschema@.advise_storage(
  max_statements integer DEFAULT 200,
  OUT run_id bigint, OUT statements integer, OUT statements_planned integer,
  OUT brin_indexes integer, OUT statistics integer, OUT autovacuum_settings integer,
  OUT materialized_views integer)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  started timestamptz := clock_timestamp();
  hours double precision;
BEGIN
  IF max_statements IS NULL OR max_statements < 1 THEN
    RAISE EXCEPTION 'max_statements must be 1 or more'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'It bounds how many of the most time-consuming statements are analyzed.';
  END IF;
  -- one advisor run at a time (the index advisor takes the same lock)
  PERFORM pg_advisory_xact_lock('@extschema@.advisor_runs'::regclass::oid::bigint);

  hours := @extschema@._workload_hours();

  -- the statements, as the index advisor takes them
  CREATE TEMP TABLE pipeopt_storage_stmts ON COMMIT DROP AS
  SELECT w.fingerprint, w.query, w.userid, w.calls, w.ms, w.calls / hours AS calls_per_hour,
         w.ms / greatest(w.calls, 1) AS mean_ms, w.rows::double precision / greatest(w.calls, 1) AS rows_per_call,
         NULL::jsonb AS samples, NULL::jsonb AS shape
    FROM @extschema@._workload_statements() w
   WHERE w.kind IN ('select', 'insert', 'update', 'delete', 'merge') AND w.userid IS NOT NULL
   ORDER BY w.ms DESC, w.fingerprint
   LIMIT max_statements;
  GET DIAGNOSTICS statements = ROW_COUNT;
  UPDATE pipeopt_storage_stmts t SET samples = @extschema@._plan_samples(t.fingerprint, t.userid, t.query);
  UPDATE pipeopt_storage_stmts t SET shape = @extschema@._storage_statement(t.query, t.userid, t.samples);
  SELECT count(*) INTO statements_planned FROM pipeopt_storage_stmts t WHERE t.shape ->> 'error' IS NULL;

  -- each table's writes over the window
  CREATE TEMP TABLE pipeopt_storage_tables ON COMMIT DROP AS
  SELECT s.relid, sum(s.n_tup_ins) AS ins, sum(s.n_tup_upd) AS upd, sum(s.n_tup_del) AS del,
         sum(s.n_tup_hot_upd) AS hot
    FROM @extschema@.table_samples s
    JOIN @extschema@.captures c ON c.capture_id = s.capture_id AND c.origin = 'local'
   GROUP BY s.relid;

  CREATE TEMP TABLE pipeopt_storage_new (
    kind text, relid oid, target_key text, target jsonb, estimated_bytes bigint,
    saving_ms_per_hour double precision, cost_before double precision, cost_after double precision,
    maintenance_cost double precision, confidence double precision, risk text, reason text, evidence jsonb
  ) ON COMMIT DROP;
  CREATE TEMP TABLE pipeopt_storage_affected (
    target_key text, fingerprint text, calls_per_hour double precision, mean_ms double precision,
    cost_before double precision, cost_after double precision, cost_without double precision,
    saving_ms_per_hour double precision
  ) ON COMMIT DROP;

  INSERT INTO @extschema@.advisor_runs AS r
         (advisor, started_at, finished_at, window_hours, statements, statements_planned, planner_calls,
          recommendations)
  VALUES ('storage', started, clock_timestamp(), hours, advise_storage.statements,
          advise_storage.statements_planned, 0, 0)
  RETURNING r.run_id INTO run_id;

  DELETE FROM @extschema@.storage_candidates;
  PERFORM @extschema@._advise_brin(advise_storage.run_id, hours);
  PERFORM @extschema@._advise_statistics(advise_storage.run_id);
  PERFORM @extschema@._advise_autovacuum(advise_storage.run_id);
  PERFORM @extschema@._advise_views(advise_storage.run_id, hours);

  -- proposed advice this run repeats: refreshed
  UPDATE @extschema@.advice a
     SET target = n.target, estimated_bytes = n.estimated_bytes, saving_ms_per_hour = n.saving_ms_per_hour,
         cost_before = n.cost_before, cost_after = n.cost_after, maintenance_cost = n.maintenance_cost,
         confidence = n.confidence, risk = n.risk, reason = n.reason, evidence = n.evidence,
         run_id = advise_storage.run_id, updated_at = now()
    FROM pipeopt_storage_new n
   WHERE a.target_key = n.target_key AND a.status = 'proposed';
  -- advice new to this run
  INSERT INTO @extschema@.advice (kind, relid, target, target_key, estimated_bytes, saving_ms_per_hour,
                                  cost_before, cost_after, maintenance_cost, confidence, risk, reason,
                                  evidence, run_id)
  SELECT n.kind, n.relid, n.target, n.target_key, n.estimated_bytes, n.saving_ms_per_hour,
         n.cost_before, n.cost_after, n.maintenance_cost, n.confidence, n.risk, n.reason, n.evidence,
         advise_storage.run_id
    FROM pipeopt_storage_new n
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.advice a
                      WHERE a.target_key = n.target_key AND a.status IN ('proposed', 'approved', 'applying', 'reverting'));
  DELETE FROM @extschema@.advice_statements s
   USING @extschema@.advice a WHERE a.id = s.advice_id AND a.run_id = advise_storage.run_id;
  INSERT INTO @extschema@.advice_statements
  SELECT a.id, f.fingerprint, f.calls_per_hour, f.mean_ms, f.cost_before, f.cost_after, f.cost_without,
         f.saving_ms_per_hour
    FROM pipeopt_storage_affected f
    JOIN @extschema@.advice a ON a.target_key = f.target_key AND a.run_id = advise_storage.run_id
                             AND a.status = 'proposed'
  ON CONFLICT DO NOTHING;

  -- a BRIN proposed instead of the B-tree the index advisor proposed
  UPDATE @extschema@.advice b
     SET status = 'superseded', superseded_by = a.id, status_changed_at = now(), updated_at = now(),
         status_reason = format('recommendation %s builds a BRIN index on the column instead', a.id)
    FROM @extschema@.advice a
   WHERE a.run_id = advise_storage.run_id AND a.status = 'proposed' AND a.kind = 'create_index'
     AND a.target ->> 'method' = 'brin'
     AND b.status = 'proposed' AND b.kind = 'create_index' AND b.target ->> 'method' = 'btree'
     AND b.target_key || ':brin' = a.target_key;
  -- its proposed advice this run no longer gives
  UPDATE @extschema@.advice a
     SET status = 'obsolete', status_changed_at = now(), updated_at = now(),
         status_reason = coalesce(
           (SELECT 'no longer recommended: ' || c.reason FROM @extschema@.storage_candidates c
             WHERE c.kind = a.kind AND c.relid = a.relid AND c.outcome = 'rejected'
               AND (c.fingerprint = a.target ->> 'fingerprint'
                    OR c.attnums = ARRAY(SELECT x::smallint FROM jsonb_array_elements_text(a.target -> 'attnums') x)
                    OR a.kind = 'set_table_storage')
             LIMIT 1),
           CASE WHEN @extschema@._advice_ddl(a.kind, a.target, a.id) IS NULL THEN 'its target is gone'
                ELSE 'no longer recommended' END)
   WHERE a.status = 'proposed' AND a.run_id IS DISTINCT FROM advise_storage.run_id
     AND @extschema@._storage_kind(a.kind, a.target);

  SELECT count(*) FILTER (WHERE a.kind = 'create_index'), count(*) FILTER (WHERE a.kind = 'create_statistics'),
         count(*) FILTER (WHERE a.kind = 'set_table_storage'),
         count(*) FILTER (WHERE a.kind = 'create_materialized_view')
    INTO brin_indexes, statistics, autovacuum_settings, materialized_views
    FROM @extschema@.advice a WHERE a.run_id = advise_storage.run_id AND a.status = 'proposed';
  UPDATE @extschema@.advisor_runs r
     SET recommendations = brin_indexes + advise_storage.statistics + autovacuum_settings + materialized_views,
         finished_at = clock_timestamp()
   WHERE r.run_id = advise_storage.run_id;
  DROP TABLE pipeopt_storage_stmts, pipeopt_storage_tables, pipeopt_storage_new, pipeopt_storage_affected;
END
$f$;
COMMENT ON FUNCTION @extschema@.advise_storage(integer) IS
  'Recommend BRIN indexes, extended statistics, autovacuum settings and materialized views from the captured workload and table statistics';

CREATE FUNCTION @extschema@._storage_statement(statement text, role oid, samples jsonb)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pipeopt_storage_statement'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@._storage_whatif(statement text, role oid, samples jsonb, relid oid, attnum smallint)
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pipeopt_storage_whatif'
LANGUAGE C VOLATILE;
