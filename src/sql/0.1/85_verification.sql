/*
 * The effectiveness monitor's record: what each applied change really did.
 *
 * One row per applied change (change_log row with action 'apply' and
 * outcome 'succeeded'), created when the change is applied and completed
 * when the validation window has enough calls. The per-statement detail is
 * in verification_statements. The monitor (issue 7) fills both; reports,
 * metrics and the confidence feedback read them.
 *
 * verdict:
 *   pending      the validation window is still open
 *   improved     the affected statements are faster, significantly
 *   no_change    no significant difference either way
 *   regressed    slower by more than pipeopt.revert_threshold, significantly
 *   insufficient too few calls before or after to say (window closed)
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
  detail           text
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
