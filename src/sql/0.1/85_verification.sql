/*
 * The effectiveness monitor's record: what each applied change really did.
 *
 * One row per applied change (change_log row with action 'apply' and
 * outcome 'succeeded'), created when the change is applied and completed
 * when the validation window has enough calls. The per-statement detail is
 * in verification_statements. The monitor (86_monitor.sql) fills both,
 * the automatic revert (87_revert.sql) completes the revert columns;
 * reports, metrics and the confidence feedback (88_feedback.sql) read them.
 * docs/monitor.md says how a verdict is reached.
 *
 * verdict:
 *   pending      the validation window is still open
 *   improved     the affected statements are faster, significantly
 *   no_change    no significant difference either way
 *   regressed    slower by more than pipeopt.revert_threshold, significantly
 *   insufficient too few calls before or after to say (window closed)
 *
 * mean_ms_* and blocks_per_call_* are plain means over the affected
 * statements called both before and after (calls_* count them all);
 * change_pct and the p-values compare the statements at the
 * baseline's mix (each statement's calls priced at its own baseline mean),
 * so a shift in which statements run is not read as a change in speed.
 */
CREATE TABLE @extschema@.verification (
  change_id        bigint PRIMARY KEY REFERENCES @extschema@.change_log (id) ON DELETE CASCADE,
  advice_id        bigint NOT NULL,
  kind             text NOT NULL,
  applied_at       timestamptz NOT NULL,
  baseline_from    timestamptz,
  baseline_to      timestamptz,
  window_from      timestamptz,
  window_to        timestamptz,
  calls_before     bigint,
  calls_after      bigint,
  mean_ms_before   double precision,	-- per call, over the affected statements
  mean_ms_after    double precision,
  blocks_per_call_before double precision,
  blocks_per_call_after  double precision,
  change_pct       double precision,	-- (after - before) / before * 100
  p_value          double precision,
  predicted_saving_ms_per_hour double precision,
  actual_saving_ms_per_hour    double precision,
  verdict          text NOT NULL DEFAULT 'pending'
                   CHECK (verdict IN ('pending', 'improved', 'no_change', 'regressed', 'insufficient')),
  decided_at       timestamptz,
  reverted         boolean NOT NULL DEFAULT false,
  revert_change_id bigint,		-- the rollback's change_log row
  detail           text,
  -- which statements were judged: 'recommendation' (advice_statements) or
  -- 'table' (the statements that name the change's table)
  basis            text CHECK (basis IN ('recommendation', 'table')),
  statements       integer,		-- affected statements with calls
  -- one-sided: slower than pipeopt.revert_threshold allows
  p_regression     double precision,
  -- the whole workload (every statement seen before), at the baseline's mix
  workload_change_pct   double precision,
  workload_p_value      double precision,
  workload_p_regression double precision,
  -- the revert the monitor decided (87_revert.sql): when, why, and how it
  -- ended ('succeeded', 'refused: ...', 'failed: ...'; NULL while due)
  revert_requested_at timestamptz,
  revert_reason    text,
  revert_outcome   text
);
CREATE INDEX ON @extschema@.verification (advice_id);
COMMENT ON TABLE @extschema@.verification IS
  'What each applied change really did: the affected statements before and after, the verdict, predicted against actual saving';

CREATE TABLE @extschema@.verification_statements (
  change_id        bigint NOT NULL REFERENCES @extschema@.verification (change_id) ON DELETE CASCADE,
  fingerprint      text NOT NULL,
  calls_before     bigint,
  calls_after      bigint,
  mean_ms_before   double precision,
  mean_ms_after    double precision,
  blocks_per_call_before double precision,
  blocks_per_call_after  double precision,
  change_pct       double precision,
  p_value          double precision,
  PRIMARY KEY (change_id, fingerprint)
);

SELECT pg_catalog.pg_extension_config_dump('@extschema@.verification', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.verification_statements', '');
