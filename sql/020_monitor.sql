-- The effectiveness monitor: the statistical test, its false revert rate
-- under pure noise, and changes applied by the apply worker judged on the
-- samples of real statements (captures driven by hand). In a database of
-- its own, so that no other test's changes are judged with these.
\set SHOW_CONTEXT never
SELECT current_database() AS home \gset
CREATE DATABASE regress_monitor;
\c regress_monitor
CREATE EXTENSION pipeopt CASCADE;

-- ---------------------------------------------------------------------
-- The test: Welch's t-test on per-interval ratios. Five intervals of one
-- call each, 10.4 ms against 14.6 ms: t = 5.82 on 8 degrees of freedom
-- (a numerical integration of Student's density gives p = 0.000394; one
-- sided against 10% slower, p = 0.001595).
-- ---------------------------------------------------------------------
SELECT intervals_before, intervals_after, ratio_before, ratio_after, round(change_pct::numeric, 2) AS change_pct,
       round(p_value::numeric, 6) AS p_value, round(p_regression::numeric, 6) AS p_regression,
       round(df::numeric, 3) AS df
  FROM pipeopt._ratio_test('{10,12,11,9,10}', '{1,1,1,1,1}', '{14,15,13,16,15}', '{1,1,1,1,1}', 0.1);
-- unequal calls weigh by calls: the ratio is time over calls; fewer
-- effective intervals, fewer degrees of freedom
SELECT ratio_before, ratio_after, round(df::numeric, 3) AS df
  FROM pipeopt._ratio_test('{10,120,11,9,10}', '{1,10,1,1,1}', '{14,150,13,16,15}', '{1,10,1,1,1}', 0.1);
-- intervals without calls are no observation; fewer than 2 a side: no test
SELECT intervals_before, intervals_after, p_value IS NULL AS untested
  FROM pipeopt._ratio_test('{10,0,12}', '{1,0,1}', '{14,0}', '{1,0}', 0.1);
-- no scatter at all: a difference is certain, none is none
SELECT p_value, p_regression FROM pipeopt._ratio_test('{2,2}', '{1,1}', '{3,3}', '{1,1}', 0.1);
SELECT p_value, p_regression FROM pipeopt._ratio_test('{2,2}', '{1,1}', '{2,2}', '{1,1}', 0.1);
-- bad input
SELECT * FROM pipeopt._ratio_test('{1,2}', '{1}', '{1,2}', '{1,1}', 0.1);
SELECT * FROM pipeopt._ratio_test('{1,NULL}', '{1,1}', '{1,2}', '{1,1}', 0.1);
SELECT * FROM pipeopt._ratio_test('{1,2}', '{1,1}', '{1,2}', '{1,1}', -0.1);
SELECT * FROM pipeopt._ratio_test('{1,infinity}', '{1,1}', '{1,2}', '{1,1}', 0.1);

-- the verdict: regressed needs the one-sided test against the threshold
SELECT pipeopt._verdict(40, 0.001, 0.01, 0, 0.9, true, true, 10, 0.05) AS regressed,
       pipeopt._verdict(8, 0.001, 0.6, 0, 0.9, true, true, 10, 0.05) AS within_threshold,
       pipeopt._verdict(-50, 0.001, 1, 30, 0.01, true, true, 10, 0.05) AS workload_regressed,
       pipeopt._verdict(-50, 0.001, 1, 0, 0.9, true, true, 10, 0.05) AS improved,
       pipeopt._verdict(-50, 0.2, 1, 0, 0.9, true, true, 10, 0.05) AS not_significant,
       pipeopt._verdict(-50, 0.001, 1, 0, 0.9, false, true, 10, 0.05) AS too_few_calls,
       pipeopt._verdict(-50, NULL, NULL, 0, 0.9, true, true, 10, 0.05) AS too_few_intervals;
-- who is reverted without a person: automatic changes by default
SELECT pipeopt._should_revert(true) AS automatic_change, pipeopt._should_revert(false) AS approved_change;
SET pipeopt.auto_revert = 'all';
SELECT pipeopt._should_revert(false) AS approved_change;
SET pipeopt.auto_revert = 'off';
SELECT pipeopt._should_revert(true) AS automatic_change;
SET pipeopt.auto_revert = 'sometimes';
RESET pipeopt.auto_revert;

-- ---------------------------------------------------------------------
-- Pure noise: a change with no effect must not be reverted more than one
-- time in twenty. 1000 simulated changes (fixed seed), each judged on
-- intervals before and after drawn from one distribution: 20-200 calls,
-- per-call times of 1 ms with a spread of 0.5 ms, and an interval mean
-- that drifts (load, caches) by 10% or, harder, 30%; the rest of the
-- workload drifts on its own. Every revert counted is a verdict of
-- 'regressed', as pipeopt.auto_revert = 'all' would revert it.
-- ---------------------------------------------------------------------
CREATE FUNCTION pg_temp.simulate(trials int, intervals int, drift double precision, effect double precision)
RETURNS TABLE (regressed bigint, improved bigint, no_change bigint, p_below_005 bigint)
LANGUAGE sql AS $$
  WITH draws AS (
    SELECT t.trial, s.after, i.i, w.workload, c.calls,
           c.calls * CASE WHEN s.after AND NOT w.workload THEN 1 + effect ELSE 1 END
             * exp(drift * sqrt(-2 * ln(1 - c.u1)) * cos(2 * pi() * c.u2))
             + sqrt(c.calls) * 0.5 * sqrt(-2 * ln(1 - c.u3)) * cos(2 * pi() * c.u4) AS ms
      FROM generate_series(1, trials) t(trial)
     CROSS JOIN (VALUES (false), (true)) s(after)
     CROSS JOIN generate_series(1, intervals) i(i)
     CROSS JOIN (VALUES (false), (true)) w(workload)
     CROSS JOIN LATERAL (SELECT 20 + floor(random() * 181) AS calls, random() AS u1, random() AS u2,
                                random() AS u3, random() AS u4
                          WHERE t.trial + i.i > 0 AND s.after IS NOT NULL AND w.workload IS NOT NULL) c
  ), arrays AS (
    SELECT d.trial, d.workload,
           array_agg(d.ms ORDER BY d.i) FILTER (WHERE NOT d.after) AS nb,
           array_agg(d.calls::double precision ORDER BY d.i) FILTER (WHERE NOT d.after) AS db,
           array_agg(d.ms ORDER BY d.i) FILTER (WHERE d.after) AS na,
           array_agg(d.calls::double precision ORDER BY d.i) FILTER (WHERE d.after) AS da
      FROM draws d GROUP BY d.trial, d.workload
  ), judged AS (
    SELECT a.trial,
           pipeopt._verdict((a.t).change_pct, (a.t).p_value, (a.t).p_regression, (w.t).change_pct, (w.t).p_regression,
                            true, true, 10, 0.05) AS verdict,
           (a.t).p_value
      FROM (SELECT x.trial, pipeopt._ratio_test(x.nb, x.db, x.na, x.da, 0.1) AS t
              FROM arrays x WHERE NOT x.workload) a
      JOIN (SELECT x.trial, pipeopt._ratio_test(x.nb, x.db, x.na, x.da, 0.1) AS t
              FROM arrays x WHERE x.workload) w ON w.trial = a.trial
  )
  SELECT count(*) FILTER (WHERE j.verdict = 'regressed'), count(*) FILTER (WHERE j.verdict = 'improved'),
         count(*) FILTER (WHERE j.verdict = 'no_change'), count(*) FILTER (WHERE j.p_value < 0.05)
    FROM judged j
$$;
SELECT setseed(0.2026);
SELECT *, regressed <= 50 AS at_most_one_in_twenty FROM pg_temp.simulate(1000, 10, 0.1, 0);
SELECT *, regressed <= 50 AS at_most_one_in_twenty FROM pg_temp.simulate(1000, 5, 0.3, 0);
SELECT *, regressed <= 50 AS at_most_one_in_twenty FROM pg_temp.simulate(1000, 60, 0.1, 0);
-- and it is not blind: 50% slower is reverted, 30% faster is improved
SELECT regressed, regressed >= 900 AS caught FROM pg_temp.simulate(1000, 10, 0.1, 0.5);
SELECT improved, improved >= 900 AS seen FROM pg_temp.simulate(1000, 10, 0.1, -0.3);

-- ---------------------------------------------------------------------
-- Real changes. Each scenario: warm up, six rounds of its statements each
-- closed by a capture, the change by the apply worker, a capture to close
-- the interval that holds the change, six more rounds, and the monitor.
-- ---------------------------------------------------------------------
-- the statements run inside a function: count them too
SET pg_stat_statements.track = 'all';
CREATE SCHEMA mo;
CREATE FUNCTION mo.fill(t regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('INSERT INTO %s SELECT g, g %% 1000, g %% 997, repeat(''x'', 60) FROM generate_series(1, 40000) g', t);
  EXECUTE format('ANALYZE %s', t);
END $$;
CREATE TABLE mo.a (id int PRIMARY KEY, customer int, region int, pad text);
CREATE TABLE mo.b (id int PRIMARY KEY, customer int, region int, pad text);
CREATE INDEX b_customer ON mo.b (customer);
CREATE TABLE mo.c (id int PRIMARY KEY, customer int, region int, pad text);
SELECT mo.fill('mo.a'), mo.fill('mo.b'), mo.fill('mo.c');
-- rounds of a table's lookups by customer and by id, each closed by a capture
CREATE FUNCTION mo.rounds(t text, rounds int, calls int DEFAULT 30) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  FOR r IN 1..rounds LOOP
    FOR i IN 1..calls LOOP
      EXECUTE format('SELECT count(*) FROM mo.%I WHERE customer = $1', t) USING (r * calls + i) % 1000;
      EXECUTE format('SELECT pad FROM mo.%I WHERE id = $1', t) USING r * calls + i;
    END LOOP;
    PERFORM pipeopt.capture();
  END LOOP;
  RETURN rounds;
END $$;
-- a scenario warms up, forgets the history before it, and runs its
-- baseline rounds
CREATE FUNCTION mo.start(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM mo.rounds(t, 1, 10);
  DELETE FROM pipeopt.samples;
  PERFORM mo.rounds(t, 6);
END $$;
CREATE FUNCTION mo.fingerprint(t text, col text) RETURNS text LANGUAGE sql AS $$
  SELECT s.fingerprint FROM pipeopt.statements s
   WHERE s.query = format('SELECT %s FROM mo.%I WHERE %s = $1',
                          CASE col WHEN 'id' THEN 'pad' ELSE 'count(*)' END, t, col)
$$;

-- (1) a useful index: applied, the lookups get faster: improved, verified
SELECT mo.start('a');
INSERT INTO pipeopt.advice (kind, relid, target, target_key, saving_ms_per_hour, confidence, risk, reason)
VALUES ('create_index', 'mo.a'::regclass,
        jsonb_build_object('relid', 'mo.a'::regclass::oid, 'method', 'btree', 'attnums', '[2]'::jsonb),
        'mo:a', 5000, 0.9, 'low', 'lookups by customer')
RETURNING id AS ra \gset
INSERT INTO pipeopt.advice_statements
VALUES (:ra, mo.fingerprint('a', 'customer'), 100, 5, 1000, 10, 1000, 5000);
SELECT pipeopt.approve(:ra, 'lookups by customer');
SELECT status, outcome FROM pipeopt.apply_now(:ra);
SELECT baseline FROM pipeopt.capture();
SELECT mo.rounds('a', 6);
-- the window is open for an hour: nothing judged yet, a record opened
SELECT * FROM pipeopt.verify_changes();
SELECT verdict, applied_at IS NOT NULL AS applied_at, predicted_saving_ms_per_hour
  FROM pipeopt.verification WHERE advice_id = :ra;
SET pipeopt.validation_window = 0;
SELECT recommendation = :ra AS same, kind, verdict, change_pct < -50 AS much_faster, p_value < 0.05 AS significant,
       revert
  FROM pipeopt.verify_changes();
SELECT basis, statements, calls_before, calls_after, mean_ms_after < mean_ms_before AS faster,
       blocks_per_call_after < blocks_per_call_before AS fewer_blocks,
       actual_saving_ms_per_hour > 0 AS saved, predicted_saving_ms_per_hour,
       baseline_to <= applied_at AND window_from >= applied_at AS windows_apart,
       reverted, detail ~ '^1 affected statement\(s\) \(from the recommendation\): 180 calls before, 180 after' AS detail
  FROM pipeopt.verification WHERE advice_id = :ra;
SELECT s.fingerprint = mo.fingerprint('a', 'customer') AS lookup, s.calls_before, s.calls_after,
       s.mean_ms_after < s.mean_ms_before AS faster, s.p_value < 0.05 AS significant
  FROM pipeopt.verification_statements s JOIN pipeopt.verification v USING (change_id) WHERE v.advice_id = :ra;
SELECT status, status_reason FROM pipeopt.advice WHERE id = :ra;
-- judged once
SELECT count(*) FROM pipeopt.verify_changes();

-- (2) an approved drop of a useful index: the lookups regress; judged on
-- the statements that name its table (the recommendation lists none)
SELECT mo.start('b');
INSERT INTO pipeopt.advice (kind, relid, target, target_key, estimated_bytes, confidence, risk, reason)
VALUES ('drop_index', 'mo.b'::regclass,
        jsonb_build_object('relid', 'mo.b'::regclass::oid, 'indexrelid', 'mo.b_customer'::regclass::oid,
                           'rule', 'unused-index'),
        'mo:b', 1000000, 0.7, 'medium', 'thought unused')
RETURNING id AS rb \gset
SELECT pg_get_indexdef('mo.b_customer'::regclass) AS b_customer_def \gset
SELECT pipeopt.approve(:rb, 'looks unused');
SELECT status, outcome FROM pipeopt.apply_now(:rb);
SELECT baseline FROM pipeopt.capture();
SELECT mo.rounds('b', 6);
-- approved by a person: by default (pipeopt.auto_revert = automatic) a
-- regression is reported, not reverted
SELECT kind, verdict, change_pct > 100 AS much_slower, revert, detail ~ 'not reverted: pipeopt.auto_revert is automatic and the change was approved by a person' AS why
  FROM pipeopt.verify_changes();
SELECT basis, statements, p_regression < 0.05 AS beyond_threshold, revert_requested_at IS NULL AS no_revert
  FROM pipeopt.verification WHERE advice_id = :rb;
SELECT count(*) AS lookups_judged,
       count(*) FILTER (WHERE s.fingerprint = mo.fingerprint('b', 'customer') AND s.change_pct > 100) AS slower_lookup
  FROM pipeopt.verification_statements s JOIN pipeopt.verification v USING (change_id) WHERE v.advice_id = :rb;
SELECT status, status_reason ~ '^the effectiveness monitor found it regressed' AS reason,
       pipeopt._revert_pending() AS revert_pending
  FROM pipeopt.advice WHERE id = :rb;
-- judged again with pipeopt.auto_revert = all: a revert is requested,
-- for the apply worker (test/t/010_monitor.pl carries one out)
UPDATE pipeopt.verification SET verdict = 'pending', decided_at = NULL WHERE advice_id = :rb;
SET pipeopt.auto_revert = 'all';
SELECT verdict, revert FROM pipeopt.verify_changes();
RESET pipeopt.auto_revert;
SELECT revert_reason, pipeopt._revert_next_due() = :rb AS due, pipeopt._revert_pending() AS pending
  FROM pipeopt.verification WHERE advice_id = :rb;
-- a DBA rolls it back first: the monitor's revert is refused, recorded
SELECT status, outcome FROM pipeopt.rollback(:rb);
SELECT pg_get_indexdef('mo.b_customer'::regclass) = :'b_customer_def' AS index_back;
SELECT pipeopt._revert_next_due() IS NULL AS none_due;
SELECT r ->> 'ok' AS ok, r ->> 'reason' AS reason FROM pipeopt._revert_claim(:rb) r;
SELECT reverted, revert_outcome FROM pipeopt.verification WHERE advice_id = :rb;

-- (3) an index no statement uses: no change, not reverted (a strict
-- significance level, so that this one run is no coin toss; the noise
-- simulation above measures the rate at 0.05)
SELECT mo.start('c');
INSERT INTO pipeopt.advice (kind, relid, target, target_key, saving_ms_per_hour, confidence, risk, reason)
VALUES ('create_index', 'mo.c'::regclass,
        jsonb_build_object('relid', 'mo.c'::regclass::oid, 'method', 'btree', 'attnums', '[3]'::jsonb),
        'mo:c', 1e9, 0.9, 'low', 'an index on region')
RETURNING id AS rc \gset
INSERT INTO pipeopt.advice_statements
VALUES (:rc, mo.fingerprint('c', 'id'), 100, 5, 1000, 10, 1000, 1e9);
UPDATE pipeopt.advice SET status = 'approved', decided_by = 'pipeopt', decided_at = now(), automatic = true,
       approved_spec = pipeopt._advice_spec(kind, target), approved_state = pipeopt._target_state(kind, target)
 WHERE id = :rc;
SELECT status, outcome FROM pipeopt.apply_now(:rc);
SELECT baseline FROM pipeopt.capture();
SELECT mo.rounds('c', 6);
SET pipeopt.validation_alpha = 0.001;
SELECT kind, verdict, revert FROM pipeopt.verify_changes();
RESET pipeopt.validation_alpha;
SELECT v.reverted, v.revert_requested_at IS NULL AS no_revert, a.status, a.status_reason
  FROM pipeopt.verification v JOIN pipeopt.advice a ON a.id = v.advice_id WHERE v.advice_id = :rc;

-- too few calls when the window closes: insufficient, left applied
SELECT mo.start('c');
INSERT INTO pipeopt.advice (kind, relid, target, target_key, saving_ms_per_hour, confidence, risk, reason)
VALUES ('create_index', 'mo.c'::regclass,
        jsonb_build_object('relid', 'mo.c'::regclass::oid, 'method', 'btree', 'attnums', '[4]'::jsonb),
        'mo:c4', 10, 0.9, 'low', 'an index on pad')
RETURNING id AS rd \gset
SELECT pipeopt.approve(:rd, 'pad');
SELECT status, outcome FROM pipeopt.apply_now(:rd);
SELECT baseline FROM pipeopt.capture();
SELECT mo.rounds('c', 1);
SELECT kind, verdict, revert FROM pipeopt.verify_changes();
SELECT status, status_reason FROM pipeopt.advice WHERE id = :rd;

-- ---------------------------------------------------------------------
-- Feedback: each kind's record scales its new recommendations'
-- confidence. create_index: one improved beyond its prediction (scores
-- 1.5), one that saved nothing of 1e9 ms predicted (0): (4 + 1.5) / 6.
-- drop_index: one regression (0): 4 / 5.
-- ---------------------------------------------------------------------
SELECT kind, judged, improved, no_change, regressed, insufficient, reverted, confidence_factor
  FROM pipeopt.prediction_accuracy ORDER BY kind;
SELECT round(pipeopt._confidence_factor('create_index')::numeric, 3) AS create_index,
       round(pipeopt._confidence_factor('drop_index')::numeric, 3) AS drop_index,
       pipeopt._confidence_factor('vacuum') AS unknown_kind;
-- advise_indexes applies it: a duplicate index is proposed for dropping
-- with 0.9 x 0.8
CREATE INDEX a_id_dup ON mo.a (id);
SELECT drop_recommendations >= 1 AS proposes FROM pipeopt.advise_indexes();
SELECT confidence FROM pipeopt.advice
 WHERE kind = 'drop_index' AND status = 'proposed' AND target ->> 'indexrelid' = 'mo.a_id_dup'::regclass::oid::text;

-- readers see the record; only superusers judge
SELECT has_table_privilege('pipeopt_reader', 'pipeopt.prediction_accuracy', 'SELECT') AS reader,
       has_table_privilege('pg_read_all_stats', 'pipeopt.prediction_accuracy', 'SELECT') AS stats_reader,
       has_function_privilege('pipeopt_approver', 'pipeopt.verify_changes()', 'EXECUTE') AS approver_judges;
RESET pg_stat_statements.track;
RESET pipeopt.validation_window;
\c :home
DROP DATABASE regress_monitor;
