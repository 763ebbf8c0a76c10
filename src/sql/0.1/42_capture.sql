/* Capture: one tick, pipeopt.capture(). */

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
  PERFORM @extschema@._store_param_samples(pgss, dbid, captured_at);
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
