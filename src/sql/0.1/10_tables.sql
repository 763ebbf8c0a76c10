/* Tables: statements, captures, last counters, and the day-partitioned samples. */

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
  step       text NOT NULL DEFAULT 'capture',
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
  jit_functions        bigint NOT NULL DEFAULT 0,
  jit_time             double precision NOT NULL DEFAULT 0,
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
  idx_tup_fetch  bigint NOT NULL,
  first_seen     timestamptz NOT NULL DEFAULT pg_catalog.now()  -- observed since
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
  wal_bytes            numeric NOT NULL,
  -- JIT: functions compiled, and the time spent compiling them (ms)
  jit_functions        bigint NOT NULL DEFAULT 0,
  jit_time             double precision NOT NULL DEFAULT 0
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
