/* pipeopt--0.1.sql: the capture stage's tables, functions and views. */

\echo Use "CREATE EXTENSION pipeopt" to load this file. \quit

-- The schema must be empty and owned by us or a superuser (pg_restore creates
-- it before CREATE EXTENSION): a schema a user planted would let its owner
-- replace pipeopt's objects (CVE-2022-2625 class).
DO $guard$
BEGIN
  IF (SELECT n.nspowner <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
              AND NOT o.rolsuper
      FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles o ON o.oid = n.nspowner
      WHERE n.nspname = '@extschema@')
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                WHERE c.relnamespace = '@extschema@'::pg_catalog.regnamespace)
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                WHERE p.pronamespace = '@extschema@'::pg_catalog.regnamespace)
  THEN
    RAISE EXCEPTION 'schema "@extschema@" already exists and is not empty or owned by an untrusted role'
      USING ERRCODE = 'duplicate_schema',
            DETAIL = 'pipeopt installs only into an empty schema owned by the installing role or a superuser.',
            HINT = 'Drop or rename the existing schema "@extschema@", then run CREATE EXTENSION pipeopt again.';
  END IF;
END
$guard$;

-- ---------------------------------------------------------------------
-- Statements: one row per fingerprint, the text stored once.
-- ---------------------------------------------------------------------

CREATE TABLE @extschema@.statements (
  fingerprint           text PRIMARY KEY,
  query                 text NOT NULL,
  kind                  text NOT NULL,
  parse_error           text,
  parse_error_position  integer,
  first_seen            timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE @extschema@.statements IS
  'Captured statements, one per libpg_query fingerprint of the normalized text';

CREATE TABLE @extschema@.statement_queryids (
  queryid      bigint PRIMARY KEY,
  fingerprint  text NOT NULL REFERENCES @extschema@.statements ON DELETE CASCADE,
  first_seen   timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON @extschema@.statement_queryids (fingerprint);
COMMENT ON TABLE @extschema@.statement_queryids IS
  'pg_stat_statements queryids mapped onto statement fingerprints';

-- ---------------------------------------------------------------------
-- Captures: one row per tick (or per imported tick).
-- ---------------------------------------------------------------------

CREATE TABLE @extschema@.captures (
  capture_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  origin              text NOT NULL DEFAULT 'local',
  origin_capture_id   bigint,
  interval_start      timestamptz,
  captured_at         timestamptz NOT NULL,
  finished_at         timestamptz,
  baseline            boolean NOT NULL DEFAULT false,
  reset_detected      boolean NOT NULL DEFAULT false,
  statements          integer,
  new_statements      integer,
  statement_samples   integer,
  table_samples       integer,
  index_samples       integer,
  UNIQUE (origin, origin_capture_id)
);
CREATE INDEX ON @extschema@.captures (captured_at);
COMMENT ON TABLE @extschema@.captures IS
  'One row per capture: samples of a capture cover (interval_start, captured_at]';

CREATE TABLE @extschema@.capture_failures (
  failed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  sqlstate   text NOT NULL,
  message    text NOT NULL,
  detail     text
);
COMMENT ON TABLE @extschema@.capture_failures IS
  'Ticks of the background worker that failed; each was retried at the next tick';

-- What the previous capture saw: the base of the next deltas.
CREATE TABLE @extschema@.capture_state (
  singleton           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_capture_id     bigint,
  last_captured_at    timestamptz,
  pgss_stats_reset    timestamptz,
  database_oid        oid
);
INSERT INTO @extschema@.capture_state DEFAULT VALUES;

-- Cumulative pg_stat_statements counters as last seen, per entry.
CREATE TABLE @extschema@.statement_counters (
  userid               oid NOT NULL,
  queryid              bigint NOT NULL,
  toplevel             boolean NOT NULL,
  calls                bigint NOT NULL,
  plans                bigint NOT NULL,
  total_exec_time      double precision NOT NULL,
  min_exec_time        double precision NOT NULL,
  max_exec_time        double precision NOT NULL,
  sum_sq_exec_time     double precision NOT NULL,
  total_plan_time      double precision NOT NULL,
  rows                 bigint NOT NULL,
  shared_blks_hit      bigint NOT NULL,
  shared_blks_read     bigint NOT NULL,
  shared_blks_dirtied  bigint NOT NULL,
  shared_blks_written  bigint NOT NULL,
  local_blks_hit       bigint NOT NULL,
  local_blks_read      bigint NOT NULL,
  local_blks_dirtied   bigint NOT NULL,
  local_blks_written   bigint NOT NULL,
  temp_blks_read       bigint NOT NULL,
  temp_blks_written    bigint NOT NULL,
  blk_read_time        double precision NOT NULL,
  blk_write_time       double precision NOT NULL,
  wal_records          bigint NOT NULL,
  wal_fpi              bigint NOT NULL,
  wal_bytes            numeric NOT NULL,
  PRIMARY KEY (userid, queryid, toplevel)
);

CREATE TABLE @extschema@.table_counters (
  relid              oid PRIMARY KEY,
  seq_scan           bigint NOT NULL,
  seq_tup_read       bigint NOT NULL,
  idx_scan           bigint NOT NULL,
  idx_tup_fetch      bigint NOT NULL,
  n_tup_ins          bigint NOT NULL,
  n_tup_upd          bigint NOT NULL,
  n_tup_del          bigint NOT NULL,
  n_tup_hot_upd      bigint NOT NULL,
  n_live_tup         bigint NOT NULL,
  n_dead_tup         bigint NOT NULL,
  vacuum_count       bigint NOT NULL,
  autovacuum_count   bigint NOT NULL,
  analyze_count      bigint NOT NULL,
  autoanalyze_count  bigint NOT NULL
);

CREATE TABLE @extschema@.index_counters (
  indexrelid     oid PRIMARY KEY,
  idx_scan       bigint NOT NULL,
  idx_tup_read   bigint NOT NULL,
  idx_tup_fetch  bigint NOT NULL
);

-- ---------------------------------------------------------------------
-- Samples: per-interval deltas, range-partitioned by day (UTC), so that
-- retention drops whole partitions.
-- ---------------------------------------------------------------------

CREATE TABLE @extschema@.samples (
  capture_id           bigint NOT NULL,
  captured_at          timestamptz NOT NULL,
  fingerprint          text NOT NULL,
  userid               oid NOT NULL,
  toplevel             boolean NOT NULL,
  calls                bigint NOT NULL,
  plans                bigint NOT NULL,
  total_exec_time      double precision NOT NULL,
  sum_sq_exec_time     double precision NOT NULL,
  total_plan_time      double precision NOT NULL,
  rows                 bigint NOT NULL,
  shared_blks_hit      bigint NOT NULL,
  shared_blks_read     bigint NOT NULL,
  shared_blks_dirtied  bigint NOT NULL,
  shared_blks_written  bigint NOT NULL,
  local_blks_hit       bigint NOT NULL,
  local_blks_read      bigint NOT NULL,
  local_blks_dirtied   bigint NOT NULL,
  local_blks_written   bigint NOT NULL,
  temp_blks_read       bigint NOT NULL,
  temp_blks_written    bigint NOT NULL,
  blk_read_time        double precision NOT NULL,
  blk_write_time       double precision NOT NULL,
  wal_records          bigint NOT NULL,
  wal_fpi              bigint NOT NULL,
  wal_bytes            numeric NOT NULL
) PARTITION BY RANGE (captured_at);
CREATE INDEX ON @extschema@.samples (fingerprint, captured_at);
CREATE INDEX ON @extschema@.samples (capture_id);
COMMENT ON TABLE @extschema@.samples IS
  'Per-interval deltas of pg_stat_statements counters per statement, role and nesting level';

CREATE TABLE @extschema@.table_samples (
  capture_id         bigint NOT NULL,
  captured_at        timestamptz NOT NULL,
  relid              oid NOT NULL,
  schemaname         name NOT NULL,
  relname            name NOT NULL,
  seq_scan           bigint NOT NULL,
  seq_tup_read       bigint NOT NULL,
  idx_scan           bigint NOT NULL,
  idx_tup_fetch      bigint NOT NULL,
  n_tup_ins          bigint NOT NULL,
  n_tup_upd          bigint NOT NULL,
  n_tup_del          bigint NOT NULL,
  n_tup_hot_upd      bigint NOT NULL,
  vacuum_count       bigint NOT NULL,
  autovacuum_count   bigint NOT NULL,
  analyze_count      bigint NOT NULL,
  autoanalyze_count  bigint NOT NULL,
  n_live_tup         bigint NOT NULL,
  n_dead_tup         bigint NOT NULL,
  table_bytes        bigint,
  indexes_bytes      bigint
) PARTITION BY RANGE (captured_at);
CREATE INDEX ON @extschema@.table_samples (relid, captured_at);
COMMENT ON TABLE @extschema@.table_samples IS
  'Per-interval deltas of table statistics (counters) with sizes and tuple counts at capture time';

CREATE TABLE @extschema@.index_samples (
  capture_id     bigint NOT NULL,
  captured_at    timestamptz NOT NULL,
  indexrelid     oid NOT NULL,
  relid          oid NOT NULL,
  schemaname     name NOT NULL,
  relname        name NOT NULL,
  indexrelname   name NOT NULL,
  idx_scan       bigint NOT NULL,
  idx_tup_read   bigint NOT NULL,
  idx_tup_fetch  bigint NOT NULL,
  index_bytes    bigint
) PARTITION BY RANGE (captured_at);
CREATE INDEX ON @extschema@.index_samples (indexrelid, captured_at);
COMMENT ON TABLE @extschema@.index_samples IS
  'Per-interval deltas of index statistics with index sizes at capture time';

-- ---------------------------------------------------------------------
-- C functions
-- ---------------------------------------------------------------------

CREATE FUNCTION @extschema@.parse_statement(
  query text,
  OUT fingerprint text, OUT kind text, OUT query text,
  OUT parse_error text, OUT parse_error_position integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pipeopt_parse_statement_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.parse_statement(text) IS
  'Fingerprint, kind and storable text of one statement, as capture records it';

CREATE FUNCTION @extschema@.fingerprint(query text)
RETURNS text
AS 'MODULE_PATHNAME', 'pipeopt_fingerprint_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.normalize(query text)
RETURNS text
AS 'MODULE_PATHNAME', 'pipeopt_normalize_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@._pgss_schema()
RETURNS text
AS 'MODULE_PATHNAME', 'pipeopt_pgss_schema'
LANGUAGE C STABLE STRICT;

CREATE FUNCTION @extschema@.workers(
  OUT datid oid, OUT datname text, OUT state text, OUT pid integer,
  OUT state_since timestamptz, OUT last_capture timestamptz,
  OUT last_failure timestamptz, OUT ticks bigint, OUT failures bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pipeopt_workers'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION @extschema@.export_workload(since timestamptz DEFAULT '-infinity')
RETURNS bytea
AS 'MODULE_PATHNAME', 'pipeopt_export_workload'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.export_workload(timestamptz) IS
  'Statements, samples and table statistics since a time, as one lz4 frame (docs/bundle.md)';

CREATE FUNCTION @extschema@.import_workload(bundle bytea,
  OUT statements integer, OUT captures integer, OUT samples integer,
  OUT table_samples integer, OUT index_samples integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pipeopt_import_workload'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.import_workload(bytea) IS
  'Load a bundle made by export_workload(); all or nothing';

-- ---------------------------------------------------------------------
-- Partitions and retention
-- ---------------------------------------------------------------------

-- Create the day partitions (UTC days) holding ts and the day after it.
-- They become members of the extension, like their parents: pg_dump leaves
-- them out (history travels in bundles), and DROP EXTENSION drops them.
-- The next day's is made ahead of time; if a long reader holds the parent,
-- that waits for a later tick instead of failing this one.
CREATE FUNCTION @extschema@._ensure_partitions(ts timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  parent text;
  d date;
  part text;
  created integer := 0;
BEGIN
  FOREACH parent IN ARRAY ARRAY['samples', 'table_samples', 'index_samples'] LOOP
    FOR d IN SELECT (ts AT TIME ZONE 'UTC')::date + i FROM generate_series(0, 1) i LOOP
      part := parent || '_' || to_char(d, 'YYYYMMDD');
      IF NOT EXISTS (SELECT 1 FROM pg_class c
                     WHERE c.relname = part
                       AND c.relnamespace = '@extschema@'::regnamespace) THEN
        BEGIN
          EXECUTE format('CREATE TABLE @extschema@.%I PARTITION OF @extschema@.%I'
                         ' FOR VALUES FROM (%L) TO (%L)',
                         part, parent,
                         to_char(d, 'YYYY-MM-DD') || ' 00:00:00+00',
                         to_char(d + 1, 'YYYY-MM-DD') || ' 00:00:00+00');
          EXECUTE format('ALTER EXTENSION pipeopt ADD TABLE @extschema@.%I', part);
          created := created + 1;
        EXCEPTION WHEN lock_not_available THEN
          IF d <> (ts AT TIME ZONE 'UTC')::date THEN
            CONTINUE;
          END IF;
          RAISE;
        END;
      END IF;
    END LOOP;
  END LOOP;
  RETURN created;
END
$f$;

-- Drop day partitions that lie entirely before now - pipeopt.retention, and
-- everything that only they referred to. A partition that a reader is using
-- is left for a later tick rather than waited for.
CREATE FUNCTION @extschema@._expire(now_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  cutoff timestamptz := now_ts - make_interval(mins =>
      (SELECT s.setting::integer FROM pg_settings s WHERE s.name = 'pipeopt.retention'));
  part record;
  dropped integer := 0;
BEGIN
  FOR part IN
    SELECT c.relname
      FROM pg_inherits i
      JOIN pg_class c ON c.oid = i.inhrelid
      JOIN pg_class p ON p.oid = i.inhparent
     WHERE p.relnamespace = '@extschema@'::regnamespace
       AND p.relname IN ('samples', 'table_samples', 'index_samples')
       AND c.relname ~ '_[0-9]{8}$'
       AND (to_date(right(c.relname, 8), 'YYYYMMDD') + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff
  LOOP
    BEGIN
      EXECUTE format('LOCK TABLE @extschema@.%I IN ACCESS EXCLUSIVE MODE NOWAIT', part.relname);
      EXECUTE format('ALTER EXTENSION pipeopt DROP TABLE @extschema@.%I', part.relname);
      EXECUTE format('DROP TABLE @extschema@.%I', part.relname);
      dropped := dropped + 1;
    EXCEPTION WHEN lock_not_available THEN
      RAISE LOG 'pipeopt: partition % is in use; it will be dropped at a later capture', part.relname;
    END;
  END LOOP;

  DELETE FROM @extschema@.captures c
   WHERE ((c.captured_at AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC' <= cutoff;
  DELETE FROM @extschema@.capture_failures f WHERE f.failed_at <= cutoff;
  IF dropped > 0 THEN
    DELETE FROM @extschema@.statement_queryids m
     WHERE m.first_seen <= cutoff
       AND NOT EXISTS (SELECT 1 FROM @extschema@.statement_counters k WHERE k.queryid = m.queryid);
    DELETE FROM @extschema@.statements s
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.statement_queryids m WHERE m.fingerprint = s.fingerprint)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.samples x WHERE x.fingerprint = s.fingerprint);
  END IF;
  RETURN dropped;
END
$f$;

-- ---------------------------------------------------------------------
-- Capture
-- ---------------------------------------------------------------------

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
             s.wal_records, s.wal_fpi, s.wal_bytes
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
             j.wal_bytes - coalesce(b.wal_bytes, 0) AS wal_bytes
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
             sum(d.wal_records), sum(d.wal_fpi), sum(d.wal_bytes)
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
             j.wal_records, j.wal_fpi, j.wal_bytes
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
        wal_records = excluded.wal_records, wal_fpi = excluded.wal_fpi, wal_bytes = excluded.wal_bytes
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

CREATE FUNCTION @extschema@.capture(
  OUT capture_id bigint,
  OUT captured_at timestamptz,
  OUT baseline boolean,
  OUT reset_detected boolean,
  OUT statements integer,
  OUT new_statements integer,
  OUT statement_samples integer,
  OUT table_samples integer,
  OUT index_samples integer,
  OUT dropped_partitions integer)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  pgss text := @extschema@._pgss_schema();	-- checks that pg_stat_statements works
  dbid oid := (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
  old_lock_timeout text := current_setting('lock_timeout');
  st @extschema@.capture_state;
  pgss_reset timestamptz;
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'pipeopt cannot capture on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            DETAIL = 'A standby is read-only; its history is the primary''s, replicated.',
            HINT = 'Run pipeopt.capture() on the primary.';
  END IF;
  -- One capture at a time; wait a bounded time, then fail the tick.
  PERFORM set_config('lock_timeout', current_setting('pipeopt.capture_lock_timeout'), true);
  LOCK TABLE @extschema@.capture_state IN SHARE ROW EXCLUSIVE MODE;
  SELECT * INTO st FROM @extschema@.capture_state;

  EXECUTE format('SELECT i.stats_reset FROM %I.pg_stat_statements_info() i', pgss)
    INTO pgss_reset;
  -- A database copied from a template (or restored) starts its own history.
  baseline := st.last_capture_id IS NULL OR st.database_oid IS DISTINCT FROM dbid;
  IF baseline THEN
    DELETE FROM @extschema@.statement_counters;
    DELETE FROM @extschema@.table_counters;
    DELETE FROM @extschema@.index_counters;
  END IF;
  reset_detected := NOT baseline AND st.pgss_stats_reset IS DISTINCT FROM pgss_reset;
  captured_at := clock_timestamp();

  INSERT INTO @extschema@.captures (interval_start, captured_at, baseline, reset_detected)
  VALUES (st.last_captured_at, captured_at, baseline, reset_detected)
  RETURNING captures.capture_id INTO capture_id;

  PERFORM @extschema@._ensure_partitions(captured_at);
  new_statements := @extschema@._register_statements(pgss, dbid);
  SELECT c.tracked, c.sampled INTO statements, statement_samples
    FROM @extschema@._capture_statements(pgss, dbid, capture_id, captured_at,
                                         reset_detected, baseline) c;
  SELECT r.tables_sampled, r.indexes_sampled INTO table_samples, index_samples
    FROM @extschema@._capture_relations(capture_id, captured_at, baseline) r;
  dropped_partitions := @extschema@._expire(captured_at);

  UPDATE @extschema@.capture_state s
     SET last_capture_id = capture.capture_id,
         last_captured_at = capture.captured_at,
         pgss_stats_reset = pgss_reset,
         database_oid = dbid;
  UPDATE @extschema@.captures c
     SET finished_at = clock_timestamp(),
         statements = capture.statements,
         new_statements = capture.new_statements,
         statement_samples = capture.statement_samples,
         table_samples = capture.table_samples,
         index_samples = capture.index_samples
   WHERE c.capture_id = capture.capture_id;

  PERFORM set_config('lock_timeout', old_lock_timeout, true);
END
$f$;
COMMENT ON FUNCTION @extschema@.capture() IS
  'One capture tick: sample pg_stat_statements and table/index statistics as deltas';

-- ---------------------------------------------------------------------
-- Views and reading functions
-- ---------------------------------------------------------------------

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

-- ---------------------------------------------------------------------
-- Bundles (the lz4 framing is in C; the records are built and read here)
-- ---------------------------------------------------------------------

-- The lines of a bundle, in order: header, records, end. docs/bundle.md.
CREATE FUNCTION @extschema@._export_lines(since timestamptz)
RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH caps AS (
    SELECT c.* FROM @extschema@.captures c WHERE c.captured_at > since
  ), smp AS (
    SELECT s.* FROM @extschema@.samples s WHERE s.captured_at > since
  ), lines AS (
    SELECT 0 AS part, 0::bigint AS n,
           json_build_object(
             'format', 'pipeopt-workload', 'version', 1,
             'exported_at', now(), 'since', since,
             'source', json_build_object(
               'system_identifier', (SELECT x.system_identifier::text FROM pg_control_system() x),
               'database', current_database(),
               'server_version', current_setting('server_version'),
               'pipeopt_version', (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pipeopt')))::text AS line
    UNION ALL
    SELECT 1, row_number() OVER (ORDER BY st.fingerprint),
           json_build_object('type', 'statement', 'fingerprint', st.fingerprint, 'query', st.query,
                             'kind', st.kind, 'parse_error', st.parse_error,
                             'parse_error_position', st.parse_error_position,
                             'first_seen', st.first_seen)::text
      FROM @extschema@.statements st
     WHERE EXISTS (SELECT 1 FROM smp WHERE smp.fingerprint = st.fingerprint)
    UNION ALL
    SELECT 2, c.capture_id,
           json_build_object('type', 'capture', 'capture_id', c.capture_id, 'origin', c.origin,
                             'origin_capture_id', c.origin_capture_id,
                             'interval_start', c.interval_start, 'captured_at', c.captured_at,
                             'baseline', c.baseline, 'reset_detected', c.reset_detected)::text
      FROM caps c
    UNION ALL
    SELECT 3, row_number() OVER (ORDER BY s.capture_id, s.fingerprint, s.userid, s.toplevel),
           (json_build_object('type', 'sample', 'role', (SELECT r.rolname FROM pg_roles r WHERE r.oid = s.userid))::jsonb
            || (to_jsonb(s) - 'captured_at'))::text
      FROM smp s
    UNION ALL
    SELECT 4, row_number() OVER (ORDER BY t.capture_id, t.relid),
           (jsonb_build_object('type', 'table_sample') || (to_jsonb(t) - 'captured_at'))::text
      FROM @extschema@.table_samples t WHERE t.captured_at > since
    UNION ALL
    SELECT 5, row_number() OVER (ORDER BY i.capture_id, i.indexrelid),
           (jsonb_build_object('type', 'index_sample') || (to_jsonb(i) - 'captured_at'))::text
      FROM @extschema@.index_samples i WHERE i.captured_at > since
  )
  SELECT l.line FROM lines l ORDER BY l.part, l.n
$f$;

-- Load the lines of a bundle. The caller (C) has checked the lz4 frame and
-- the encoding; everything else is checked here, and any error leaves the
-- database as it was.
CREATE FUNCTION @extschema@._import_lines(body text,
  OUT statements integer, OUT captures integer, OUT samples integer,
  OUT table_samples integer, OUT index_samples integer)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  header jsonb;
  bundle_origin text;
  nrecords bigint;
  last_type text;
  day date;
  target text;
  loaded integer;
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'pipeopt cannot import a workload bundle on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Import it on a primary server.';
  END IF;
  BEGIN
    CREATE TEMP TABLE pipeopt_import_records ON COMMIT DROP AS
      SELECT l.n, l.line::jsonb AS r
        FROM regexp_split_to_table(body, E'\n') WITH ORDINALITY AS l(line, n)
       WHERE l.line <> '';
  EXCEPTION WHEN invalid_text_representation THEN
    RAISE EXCEPTION 'corrupt workload bundle: a record is not valid JSON'
      USING ERRCODE = 'invalid_binary_representation',
            DETAIL = SQLERRM,
            HINT = 'Export the workload again with pipeopt.export_workload().';
  END;

  SELECT r INTO header FROM pipeopt_import_records WHERE n = 1;
  IF header IS NULL OR header->>'format' IS DISTINCT FROM 'pipeopt-workload' THEN
    RAISE EXCEPTION 'not a pipeopt workload bundle'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The first record does not say "format": "pipeopt-workload".',
            HINT = 'Pass a bundle made by pipeopt.export_workload().';
  END IF;
  IF (header->>'version') IS DISTINCT FROM '1' THEN
    RAISE EXCEPTION 'unsupported workload bundle version %', coalesce(header->>'version', 'null')
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'This pipeopt reads bundle format version 1.',
            HINT = 'Import the bundle with the pipeopt version that exported it, or a newer one.';
  END IF;
  SELECT r->>'type', (r->>'records')::bigint INTO last_type, nrecords
    FROM pipeopt_import_records ORDER BY n DESC LIMIT 1;
  IF last_type IS DISTINCT FROM 'end'
     OR nrecords IS DISTINCT FROM (SELECT count(*) - 2 FROM pipeopt_import_records) THEN
    RAISE EXCEPTION 'corrupt workload bundle: it is truncated'
      USING ERRCODE = 'invalid_binary_representation',
            DETAIL = 'The end record is missing or does not match the number of records.',
            HINT = 'Export the workload again with pipeopt.export_workload().';
  END IF;

  bundle_origin := 'bundle:' || coalesce(header #>> '{source,system_identifier}', '?')
            || '/' || coalesce(header #>> '{source,database}', '?');
  IF header #>> '{source,system_identifier}' = (SELECT x.system_identifier::text FROM pg_control_system() x)
     AND header #>> '{source,database}' = current_database() THEN
    RAISE EXCEPTION 'workload bundle comes from this very database'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Its samples are already here; importing them would count them twice.',
            HINT = 'Import the bundle into another database or server.';
  END IF;

  -- Serialize with capture(): both create partitions.
  LOCK TABLE @extschema@.capture_state IN SHARE ROW EXCLUSIVE MODE;

  WITH ins AS (
    INSERT INTO @extschema@.statements
           (fingerprint, query, kind, parse_error, parse_error_position, first_seen)
    SELECT x.fingerprint, x.query, x.kind, x.parse_error, x.parse_error_position,
           coalesce(x.first_seen, now())
      FROM pipeopt_import_records i,
           jsonb_populate_record(NULL::@extschema@.statements, i.r) x
     WHERE i.r->>'type' = 'statement'
    ON CONFLICT (fingerprint) DO NOTHING
    RETURNING 1)
  SELECT count(*) INTO statements FROM ins;

  -- New captures, keyed by where they were first taken.
  CREATE TEMP TABLE pipeopt_import_captures ON COMMIT DROP AS
    SELECT (i.r->>'capture_id')::bigint AS source_id,
           CASE WHEN i.r->>'origin' = 'local' THEN bundle_origin ELSE i.r->>'origin' END AS origin,
           CASE WHEN i.r->>'origin' = 'local' THEN (i.r->>'capture_id')::bigint
                ELSE (i.r->>'origin_capture_id')::bigint END AS origin_capture_id,
           (i.r->>'interval_start')::timestamptz AS interval_start,
           (i.r->>'captured_at')::timestamptz AS captured_at,
           coalesce((i.r->>'baseline')::boolean, false) AS baseline,
           coalesce((i.r->>'reset_detected')::boolean, false) AS reset_detected,
           NULL::bigint AS capture_id
      FROM pipeopt_import_records i
     WHERE i.r->>'type' = 'capture';
  IF EXISTS (SELECT 1 FROM pipeopt_import_captures WHERE captured_at IS NULL OR source_id IS NULL) THEN
    RAISE EXCEPTION 'corrupt workload bundle: a capture record lacks its id or time'
      USING ERRCODE = 'invalid_binary_representation';
  END IF;

  WITH ins AS (
    INSERT INTO @extschema@.captures AS cap
           (origin, origin_capture_id, interval_start, captured_at, finished_at, baseline, reset_detected)
    SELECT c.origin, c.origin_capture_id, c.interval_start, c.captured_at, c.captured_at,
           c.baseline, c.reset_detected
      FROM pipeopt_import_captures c
    ON CONFLICT ON CONSTRAINT captures_origin_origin_capture_id_key DO NOTHING
    RETURNING cap.capture_id AS new_id, cap.origin AS new_origin, cap.origin_capture_id AS new_origin_id)
  UPDATE pipeopt_import_captures c SET capture_id = ins.new_id
    FROM ins
   WHERE (ins.new_origin, ins.new_origin_id) = (c.origin, c.origin_capture_id);
  GET DIAGNOSTICS captures = ROW_COUNT;

  FOR day IN SELECT DISTINCT (c.captured_at AT TIME ZONE 'UTC')::date
               FROM pipeopt_import_captures c WHERE c.capture_id IS NOT NULL LOOP
    PERFORM @extschema@._ensure_partitions(day::timestamp AT TIME ZONE 'UTC');
  END LOOP;

  -- Samples of captures already present (imported before) are skipped.
  -- Record type "sample" goes into table samples, and so on.
  FOREACH target IN ARRAY ARRAY['samples', 'table_samples', 'index_samples'] LOOP
    EXECUTE format($q$
      INSERT INTO @extschema@.%1$I
      SELECT x.*
        FROM pipeopt_import_records i
        JOIN pipeopt_import_captures c ON c.source_id = (i.r->>'capture_id')::bigint
       CROSS JOIN LATERAL jsonb_populate_record(NULL::@extschema@.%1$I,
                i.r || jsonb_build_object('capture_id', c.capture_id,
                                          'captured_at', c.captured_at)) x
       WHERE i.r->>'type' = %2$L AND c.capture_id IS NOT NULL$q$,
      target, rtrim(target, 's'));
    GET DIAGNOSTICS loaded = ROW_COUNT;
    CASE target
      WHEN 'samples' THEN samples := loaded;
      WHEN 'table_samples' THEN table_samples := loaded;
      ELSE index_samples := loaded;
    END CASE;
  END LOOP;

  DROP TABLE pipeopt_import_records;
  DROP TABLE pipeopt_import_captures;
EXCEPTION
  WHEN not_null_violation OR invalid_text_representation OR invalid_datetime_format
       OR datetime_field_overflow OR numeric_value_out_of_range OR foreign_key_violation THEN
    RAISE EXCEPTION 'corrupt workload bundle: a record has a missing or invalid field'
      USING ERRCODE = 'invalid_binary_representation',
            DETAIL = SQLERRM,
            HINT = 'Export the workload again with pipeopt.export_workload().';
END
$f$;

-- ---------------------------------------------------------------------
-- Privileges: history shows every role's statements, so it is for
-- superusers and members of pg_read_all_stats.
-- ---------------------------------------------------------------------

REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.parse_statement(text),
                          @extschema@.fingerprint(text),
                          @extschema@.normalize(text) TO PUBLIC;
GRANT SELECT ON @extschema@.statements, @extschema@.statement_queryids,
                @extschema@.captures, @extschema@.capture_failures,
                @extschema@.samples, @extschema@.table_samples,
                @extschema@.index_samples, @extschema@.top_statements
  TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION @extschema@.top_statements(timestamptz, timestamptz),
                          @extschema@.statement_history(text, timestamptz, timestamptz),
                          @extschema@.workers()
  TO pg_read_all_stats;
