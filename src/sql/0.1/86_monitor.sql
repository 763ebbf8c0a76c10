/*
 * The effectiveness monitor: what each applied change really did.
 *
 *   pipeopt.verify_changes()  open a record for every change applied since
 *                             the last call; judge each change whose
 *                             validation window has closed (the worker
 *                             calls it at every tick)
 *   _judge_change(change_id)  one change: its affected statements and the
 *                             workload, before and after; the verdict; the
 *                             status move or the revert request
 *   _ratio_test(...)          the statistical test (src/verify/ratio_test.c)
 *   _verdict(...)             the verdict from the tests
 *
 * Windows, for a change whose DDL ran from started_at to finished_at:
 *   baseline  captures whose interval lies within
 *             [started_at - pipeopt.baseline_window, started_at]
 *   window    captures whose interval starts at or after finished_at, up
 *             to the check that judges it: the first one at least
 *             pipeopt.validation_window after finished_at, or the moment a
 *             rollback of the change started
 * A capture whose interval spans the change belongs to neither.
 * docs/monitor.md explains the choices.
 */

CREATE FUNCTION @extschema@._ratio_test(
  num_before double precision[], den_before double precision[],
  num_after double precision[], den_after double precision[], threshold double precision,
  OUT intervals_before integer, OUT intervals_after integer,
  OUT ratio_before double precision, OUT ratio_after double precision,
  OUT change_pct double precision, OUT p_value double precision,
  OUT p_regression double precision, OUT df double precision)
RETURNS record
AS 'MODULE_PATHNAME', 'pipeopt_ratio_test_sql'
LANGUAGE C IMMUTABLE STRICT;
COMMENT ON FUNCTION @extschema@._ratio_test(double precision[], double precision[], double precision[],
                                           double precision[], double precision) IS
  'Welch''s t-test of the ratio sum(num)/sum(den) over intervals, before against after; threshold a fraction';

CREATE FUNCTION @extschema@._statement_relations(query text, OUT schemaname text, OUT relname text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pipeopt_statement_relations_sql'
LANGUAGE C IMMUTABLE STRICT;

-- The verdict. Regressed: the affected statements, or the whole workload,
-- significantly slower than the threshold allows (one-sided test against
-- (1 + threshold) x before). Otherwise, from the affected statements:
-- improved when significantly faster (two-sided test), insufficient when
-- too few calls or intervals, else no_change. A significant slowdown
-- within the threshold is no_change: its change_pct and p_value tell.
CREATE FUNCTION @extschema@._verdict(
  change_pct double precision, p_value double precision, p_regression double precision,
  workload_change_pct double precision, workload_p_regression double precision,
  enough_calls boolean, workload_enough_calls boolean,
  threshold_pct double precision, alpha double precision)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE
    WHEN enough_calls AND p_regression < alpha AND change_pct > threshold_pct THEN 'regressed'
    WHEN workload_enough_calls AND workload_p_regression < alpha
         AND workload_change_pct > threshold_pct THEN 'regressed'
    WHEN NOT enough_calls OR p_value IS NULL THEN 'insufficient'
    WHEN p_value < alpha AND change_pct < 0 THEN 'improved'
    ELSE 'no_change' END
$f$;

-- Per capture and statement, the samples of a baseline (after = false)
-- and of a validation window (after = true): calls, time and blocks
-- (shared, local and temporary blocks read, hit or written), summed over
-- roles and nesting levels.
CREATE FUNCTION @extschema@._verify_observations(baseline_from timestamptz, baseline_to timestamptz,
                                                 window_from timestamptz, window_to timestamptz)
RETURNS TABLE (fingerprint text, capture_id bigint, after boolean, calls bigint, ms double precision,
               blocks bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT s.fingerprint, s.capture_id, c.interval_start >= window_from, sum(s.calls)::bigint,
         sum(s.total_exec_time),
         sum(s.shared_blks_hit + s.shared_blks_read + s.local_blks_hit + s.local_blks_read
             + s.temp_blks_read + s.temp_blks_written)::bigint
    FROM @extschema@.samples s
    JOIN @extschema@.captures c ON c.capture_id = s.capture_id
   WHERE c.origin = 'local' AND c.interval_start IS NOT NULL
     AND ((c.interval_start >= baseline_from AND c.captured_at <= baseline_to)
          OR (c.interval_start >= window_from AND c.captured_at <= window_to))
     AND s.captured_at >= baseline_from AND s.captured_at <= window_to
   GROUP BY s.fingerprint, s.capture_id, c.interval_start
$f$;

-- The statements the monitor counts as the workload: DML that does not
-- call pipeopt itself (its own functions take longer as history grows).
CREATE FUNCTION @extschema@._workload_statement(kind text, query text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT kind IN ('select', 'insert', 'update', 'delete', 'merge')
         AND strpos(lower(query), '@extschema@.') = 0
$f$;

-- Statements at the baseline's mix: per capture interval, the time their
-- calls took (numerator) against the time the same calls took at each
-- statement's mean over the baseline (denominator), before against after.
-- fingerprints NULL: the whole workload. Statements not called in the
-- baseline have no mean and are left out. saved_ms: the time the window's
-- calls would have taken at the baseline's speed, less what they took.
CREATE FUNCTION @extschema@._mix_test(baseline_from timestamptz, baseline_to timestamptz,
                                      window_from timestamptz, window_to timestamptz,
                                      fingerprints text[], threshold double precision,
                                      OUT calls_before bigint, OUT calls_after bigint,
                                      OUT saved_ms double precision, OUT change_pct double precision,
                                      OUT p_value double precision, OUT p_regression double precision)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH o AS (
    SELECT x.*
      FROM @extschema@._verify_observations(baseline_from, baseline_to, window_from, window_to) x
     WHERE CASE WHEN fingerprints IS NOT NULL THEN x.fingerprint = ANY (fingerprints)
                ELSE EXISTS (SELECT 1 FROM @extschema@.statements st
                              WHERE st.fingerprint = x.fingerprint
                                AND @extschema@._workload_statement(st.kind, st.query)) END
  ), base AS (
    SELECT o.fingerprint, sum(o.ms) / sum(o.calls) AS mean
      FROM o WHERE NOT o.after GROUP BY o.fingerprint HAVING sum(o.calls) > 0
  ), per AS (
    SELECT o.capture_id, o.after, sum(o.ms) AS num, sum(o.calls * b.mean) AS den, sum(o.calls) AS calls
      FROM o JOIN base b ON b.fingerprint = o.fingerprint
     GROUP BY o.capture_id, o.after
  ), r AS (
    SELECT coalesce(sum(p.calls) FILTER (WHERE NOT p.after), 0)::bigint AS calls_before,
           coalesce(sum(p.calls) FILTER (WHERE p.after), 0)::bigint AS calls_after,
           sum(p.den) FILTER (WHERE p.after) - sum(p.num) FILTER (WHERE p.after) AS saved_ms,
           coalesce(array_agg(p.num) FILTER (WHERE NOT p.after), '{}') AS nb,
           coalesce(array_agg(p.den) FILTER (WHERE NOT p.after), '{}') AS db,
           coalesce(array_agg(p.num) FILTER (WHERE p.after), '{}') AS na,
           coalesce(array_agg(p.den) FILTER (WHERE p.after), '{}') AS da
      FROM per p
  )
  SELECT r.calls_before, r.calls_after, r.saved_ms, t.change_pct, t.p_value, t.p_regression
    FROM r CROSS JOIN LATERAL @extschema@._ratio_test(r.nb, r.db, r.na, r.da, threshold) t
$f$;

-- One change, judged if its window has closed; the verdict, or NULL while
-- the window is open (or when it was judged already).
CREATE FUNCTION @extschema@._judge_change(change_id bigint)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  threshold double precision := current_setting('pipeopt.revert_threshold')::double precision;
  alpha double precision := current_setting('pipeopt.validation_alpha')::double precision;
  min_calls bigint := current_setting('pipeopt.validation_min_calls')::bigint;
  v @extschema@.verification;
  l @extschema@.change_log;
  ended timestamptz;			-- a rollback of the change started then
  b_from timestamptz;
  b_to timestamptz;
  w_to timestamptz;
  affected text[];
  judged_on text := 'recommendation';
  a record;					-- the affected statements at the baseline's mix
  w record;					-- the workload at the baseline's mix
  m record;					-- the affected statements' plain means
  hours double precision;
  result text;
  action text;
  status text;
BEGIN
  SELECT * INTO v FROM @extschema@.verification x WHERE x.change_id = _judge_change.change_id FOR UPDATE;
  IF NOT FOUND OR v.verdict <> 'pending' THEN
    RETURN NULL;
  END IF;
  SELECT * INTO l FROM @extschema@.change_log x WHERE x.id = v.change_id;
  SELECT min(r.started_at) INTO ended
    FROM @extschema@.change_log r
   WHERE r.advice_id = l.advice_id AND r.action = 'rollback' AND r.id > l.id AND r.outcome <> 'failed';
  IF ended IS NULL AND now() < l.finished_at + current_setting('pipeopt.validation_window')::interval THEN
    RETURN NULL;
  END IF;
  b_to := l.started_at;
  b_from := l.started_at - current_setting('pipeopt.baseline_window')::interval;
  w_to := coalesce(ended, now());

  -- the affected statements: the recommendation's, else those naming its table
  affected := ARRAY(SELECT s.fingerprint FROM @extschema@.advice_statements s WHERE s.advice_id = l.advice_id);
  IF cardinality(affected) = 0 THEN
    judged_on := 'table';
    affected := ARRAY(
      SELECT DISTINCT o.fingerprint
        FROM @extschema@._verify_observations(b_from, b_to, l.finished_at, w_to) o
        JOIN @extschema@.statements st ON st.fingerprint = o.fingerprint
        JOIN pg_class c ON c.oid = (l.target ->> 'relid')::oid
        JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE EXISTS (SELECT 1 FROM @extschema@._statement_relations(st.query) r
                      WHERE r.relname = c.relname AND coalesce(r.schemaname, n.nspname) = n.nspname));
  END IF;

  -- each affected statement on its own
  DELETE FROM @extschema@.verification_statements x WHERE x.change_id = v.change_id;
  INSERT INTO @extschema@.verification_statements
         (change_id, fingerprint, calls_before, calls_after, mean_ms_before, mean_ms_after,
          blocks_per_call_before, blocks_per_call_after, change_pct, p_value)
  SELECT v.change_id, g.fingerprint, g.calls_before, g.calls_after,
         g.ms_before / nullif(g.calls_before, 0), g.ms_after / nullif(g.calls_after, 0),
         g.blocks_before::double precision / nullif(g.calls_before, 0),
         g.blocks_after::double precision / nullif(g.calls_after, 0),
         t.change_pct, t.p_value
    FROM (SELECT o.fingerprint,
                 coalesce(sum(o.calls) FILTER (WHERE NOT o.after), 0) AS calls_before,
                 coalesce(sum(o.calls) FILTER (WHERE o.after), 0) AS calls_after,
                 sum(o.ms) FILTER (WHERE NOT o.after) AS ms_before,
                 sum(o.ms) FILTER (WHERE o.after) AS ms_after,
                 sum(o.blocks) FILTER (WHERE NOT o.after) AS blocks_before,
                 sum(o.blocks) FILTER (WHERE o.after) AS blocks_after,
                 coalesce(array_agg(o.ms) FILTER (WHERE NOT o.after), '{}') AS nb,
                 coalesce(array_agg(o.calls::double precision) FILTER (WHERE NOT o.after), '{}') AS db,
                 coalesce(array_agg(o.ms) FILTER (WHERE o.after), '{}') AS na,
                 coalesce(array_agg(o.calls::double precision) FILTER (WHERE o.after), '{}') AS da
            FROM @extschema@._verify_observations(b_from, b_to, l.finished_at, w_to) o
           WHERE o.fingerprint = ANY (affected)
           GROUP BY o.fingerprint) g
   CROSS JOIN LATERAL @extschema@._ratio_test(g.nb, g.db, g.na, g.da, threshold / 100) t;

  -- the affected statements together, and the whole workload
  SELECT * INTO a FROM @extschema@._mix_test(b_from, b_to, l.finished_at, w_to, affected, threshold / 100);
  SELECT * INTO w FROM @extschema@._mix_test(b_from, b_to, l.finished_at, w_to, NULL, threshold / 100);

  -- their calls, and plain means over those called both before and after
  -- (a statement run only on one side would tilt them)
  SELECT coalesce(sum(x.calls_before), 0) AS calls_before, coalesce(sum(x.calls_after), 0) AS calls_after,
         sum(x.mean_ms_before * x.calls_before) FILTER (WHERE x.both)
           / nullif(sum(x.calls_before) FILTER (WHERE x.both), 0) AS ms_before,
         sum(x.mean_ms_after * x.calls_after) FILTER (WHERE x.both)
           / nullif(sum(x.calls_after) FILTER (WHERE x.both), 0) AS ms_after,
         sum(x.blocks_per_call_before * x.calls_before) FILTER (WHERE x.both)
           / nullif(sum(x.calls_before) FILTER (WHERE x.both), 0) AS blocks_before,
         sum(x.blocks_per_call_after * x.calls_after) FILTER (WHERE x.both)
           / nullif(sum(x.calls_after) FILTER (WHERE x.both), 0) AS blocks_after,
         count(*) AS statements
    INTO m
    FROM (SELECT s.*, s.calls_before > 0 AND s.calls_after > 0 AS both
            FROM @extschema@.verification_statements s WHERE s.change_id = v.change_id) x;
  -- the windows as the captures cover them
  SELECT min(c.interval_start) FILTER (WHERE c.interval_start < l.finished_at),
         max(c.captured_at) FILTER (WHERE c.interval_start < l.finished_at),
         min(c.interval_start) FILTER (WHERE c.interval_start >= l.finished_at),
         max(c.captured_at) FILTER (WHERE c.interval_start >= l.finished_at)
    INTO b_from, b_to, v.window_from, v.window_to
    FROM @extschema@.captures c
   WHERE c.origin = 'local' AND c.interval_start IS NOT NULL
     AND ((c.interval_start >= b_from AND c.captured_at <= b_to)
          OR (c.interval_start >= l.finished_at AND c.captured_at <= w_to));
  hours := extract(epoch FROM v.window_to - v.window_from) / 3600;

  result := @extschema@._verdict(a.change_pct, a.p_value, a.p_regression,
                                 w.change_pct, w.p_regression,
                                 a.calls_before >= min_calls AND a.calls_after >= min_calls,
                                 w.calls_before >= min_calls AND w.calls_after >= min_calls,
                                 threshold, alpha);

  UPDATE @extschema@.verification x
     SET baseline_from = b_from, baseline_to = b_to, window_from = v.window_from, window_to = v.window_to,
         calls_before = m.calls_before, calls_after = m.calls_after,
         mean_ms_before = m.ms_before, mean_ms_after = m.ms_after,
         blocks_per_call_before = m.blocks_before, blocks_per_call_after = m.blocks_after,
         change_pct = a.change_pct, p_value = a.p_value, p_regression = a.p_regression,
         workload_change_pct = w.change_pct,
         workload_p_value = w.p_value,
         workload_p_regression = w.p_regression,
         actual_saving_ms_per_hour = CASE WHEN hours > 0 THEN a.saved_ms / hours END,
         basis = judged_on, statements = m.statements,
         verdict = result, decided_at = now(),
         detail = concat_ws('; ',
           format('%s affected statement(s) (%s): %s calls before, %s after',
                  m.statements, CASE judged_on WHEN 'table' THEN 'naming its table' ELSE 'from the recommendation' END,
                  m.calls_before, m.calls_after),
           CASE WHEN m.ms_before IS NOT NULL AND m.ms_after IS NOT NULL
                THEN format('%s ms -> %s ms per call', round(m.ms_before::numeric, 3), round(m.ms_after::numeric, 3)) END,
           CASE WHEN a.change_pct IS NOT NULL
                THEN format('%s%% at the baseline''s mix (%s)', round(a.change_pct::numeric, 1),
                            CASE WHEN a.p_value IS NULL THEN 'not tested'
                                 WHEN a.p_value < 0.0001 THEN 'p < 0.0001'
                                 ELSE 'p = ' || round(a.p_value::numeric, 4) END) END,
           CASE WHEN w.change_pct IS NOT NULL
                THEN format('workload %s%% (%s)', round(w.change_pct::numeric, 1),
                            CASE WHEN w.p_value IS NULL THEN 'not tested'
                                 WHEN w.p_value < 0.0001 THEN 'p < 0.0001'
                                 ELSE 'p = ' || round(w.p_value::numeric, 4) END) END,
           CASE WHEN ended IS NOT NULL THEN 'the window ended early: the change was rolled back' END,
           CASE WHEN result = 'insufficient'
                THEN format('too few calls or capture intervals to judge (pipeopt.validation_min_calls = %s, at least 2 intervals each side)',
                            min_calls) END)
   WHERE x.change_id = v.change_id
  RETURNING * INTO v;

  -- what follows from the verdict
  SELECT a2.status INTO status FROM @extschema@.advice a2 WHERE a2.id = l.advice_id;
  IF result IN ('improved', 'no_change') THEN
    PERFORM @extschema@._verify(l.advice_id, result);
  ELSIF result = 'regressed' AND status IN ('applied', 'verified') THEN
    IF @extschema@._should_revert(l.automatic) THEN
      action := format('reverted automatically: slower by more than pipeopt.revert_threshold (%s%%), significantly (%s)',
                       threshold, CASE WHEN a.p_regression < alpha AND a.change_pct > threshold
                                       THEN 'the affected statements' ELSE 'the whole workload' END);
      UPDATE @extschema@.verification x
         SET revert_requested_at = now(), revert_reason = action, detail = x.detail || '; ' || action
       WHERE x.change_id = v.change_id;
    ELSE
      action := format('not reverted: pipeopt.auto_revert is %s%s', current_setting('pipeopt.auto_revert'),
                       CASE WHEN NOT l.automatic THEN ' and the change was approved by a person' ELSE '' END);
      UPDATE @extschema@.verification x SET detail = x.detail || '; ' || action WHERE x.change_id = v.change_id;
    END IF;
    UPDATE @extschema@.advice x
       SET status_reason = format('the effectiveness monitor found it regressed (%s%%); %s',
                                  round(a.change_pct::numeric, 1), action),
           updated_at = now()
     WHERE x.id = l.advice_id;
  ELSIF result = 'insufficient' AND status = 'applied' THEN
    UPDATE @extschema@.advice x
       SET status_reason = 'the effectiveness monitor could not judge it: too few calls', updated_at = now()
     WHERE x.id = l.advice_id;
  END IF;
  RETURN result;
END
$f$;

-- Open a record for every change applied since the last call, and judge
-- those whose validation window has closed. Returns the changes judged.
CREATE FUNCTION @extschema@.verify_changes()
RETURNS TABLE (change_id bigint, recommendation bigint, kind text, verdict text,
               change_pct double precision, p_value double precision, revert boolean, detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_column
DECLARE
  id bigint;
  judged text;
BEGIN
  -- DROP EXTENSION locks pipeopt's tables in the order the install script
  -- created them: take them in that order too, so that a DROP racing a
  -- tick waits for it (or the tick for the DROP) instead of deadlocking
  LOCK TABLE @extschema@.statements, @extschema@.captures, @extschema@.samples, @extschema@.advice,
             @extschema@.advice_statements, @extschema@.change_log, @extschema@.verification,
             @extschema@.verification_statements
    IN ACCESS SHARE MODE;
  -- one monitor at a time (the worker and a DBA may both call it)
  PERFORM pg_advisory_xact_lock('@extschema@.verification'::regclass::oid::bigint);
  -- reverts whose rollback succeeded after an interruption
  UPDATE @extschema@.verification v
     SET reverted = true, revert_outcome = 'succeeded'
    FROM @extschema@.change_log l
   WHERE l.id = v.revert_change_id AND l.outcome = 'succeeded' AND NOT v.reverted;
  INSERT INTO @extschema@.verification (change_id, advice_id, kind, applied_at, window_from,
                                        predicted_saving_ms_per_hour)
  SELECT l.id, l.advice_id, l.kind, l.finished_at, l.finished_at, a.saving_ms_per_hour
    FROM @extschema@.change_log l
    LEFT JOIN @extschema@.advice a ON a.id = l.advice_id
   WHERE l.action = 'apply' AND l.outcome = 'succeeded'
     AND NOT EXISTS (SELECT 1 FROM @extschema@.verification v WHERE v.change_id = l.id)
  ON CONFLICT DO NOTHING;

  FOR id IN SELECT v.change_id FROM @extschema@.verification v WHERE v.verdict = 'pending' ORDER BY v.change_id LOOP
    judged := @extschema@._judge_change(id);
    IF judged IS NOT NULL THEN
      RETURN QUERY
        SELECT v.change_id, v.advice_id, v.kind, v.verdict, v.change_pct, v.p_value,
               v.revert_requested_at IS NOT NULL, v.detail
          FROM @extschema@.verification v WHERE v.change_id = id;
    END IF;
  END LOOP;
END
$f$;
COMMENT ON FUNCTION @extschema@.verify_changes() IS
  'The effectiveness monitor: judge every applied change whose validation window has closed (improved, no_change, regressed, insufficient), verify it or ask the apply worker to revert it';
