/*
 * Automatic revert: the effectiveness monitor decides, the apply worker
 * undoes the change through its rollback record.
 *
 *   _should_revert(automatic)  pipeopt.auto_revert: does a regression of
 *                              this change get reverted without a person?
 *   _revert_next_due()         the next revert to carry out, for the apply
 *                              worker (before any approved change: the harm
 *                              is ongoing); NULL if none
 *   _revert_pending()          whether one is due (the db worker's tick)
 *   _revert_claim(advice_id)   _apply_claim(id, 'rollback', 'pipeopt monitor')
 *                              with the reason recorded in change_log
 *   _revert_finished(log_id)   its outcome, on the verification record
 *
 * A revert is retried after a failure like an approved change
 * (pipeopt.apply_retry_delay, doubled, up to pipeopt.apply_max_attempts),
 * ignores pipeopt.apply_window (it restores what the DBA had), and is given
 * up when the claim is refused (someone rolled the change back or changed
 * its index since). verify_changes() settles a revert whose worker was
 * interrupted once the apply worker's recovery has finished its rollback.
 */

CREATE FUNCTION @extschema@._should_revert(automatic boolean)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE current_setting('pipeopt.auto_revert')
           WHEN 'all' THEN true
           WHEN 'automatic' THEN automatic
           ELSE false END
$f$;

-- Failed rollbacks the monitor asked for since a change, and the last one's end.
CREATE FUNCTION @extschema@._revert_failures(advice_id bigint, change_id bigint,
                                             OUT failures integer, OUT last_failed timestamptz)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT count(*)::integer, max(l.finished_at)
    FROM @extschema@.change_log l
   WHERE l.advice_id = _revert_failures.advice_id AND l.id > change_id AND l.action = 'rollback'
     AND l.requested_by = 'pipeopt monitor' AND l.outcome = 'failed'
$f$;

CREATE FUNCTION @extschema@._revert_next_due()
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  -- advice before verification: the order DROP EXTENSION locks them in
  SELECT v.advice_id
    FROM @extschema@.advice a
    JOIN @extschema@.verification v ON v.advice_id = a.id
   CROSS JOIN LATERAL @extschema@._revert_failures(v.advice_id, v.change_id) f
   WHERE v.revert_requested_at IS NOT NULL AND NOT v.reverted AND v.revert_outcome IS NULL
     AND a.status IN ('applied', 'verified')
     AND (f.failures = 0
          OR f.last_failed + current_setting('pipeopt.apply_retry_delay')::interval * 2 ^ (f.failures - 1) <= now())
   ORDER BY v.revert_requested_at, v.change_id
   LIMIT 1
$f$;

CREATE FUNCTION @extschema@._revert_pending()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT @extschema@._revert_next_due() IS NOT NULL
$f$;

-- Claim the rollback of a change the monitor decided to revert: as
-- _apply_claim() returns it. The claim's change_log row says who asked
-- ('pipeopt monitor') and why (its reason); the verification names it.
CREATE FUNCTION @extschema@._revert_claim(advice_id bigint)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  v @extschema@.verification;
  claim jsonb;
  log_id bigint;
BEGIN
  SELECT * INTO v FROM @extschema@.verification x
   WHERE x.advice_id = _revert_claim.advice_id AND x.revert_requested_at IS NOT NULL
     AND NOT x.reverted AND x.revert_outcome IS NULL
   ORDER BY x.change_id DESC LIMIT 1
     FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('ok', false,
                              'reason', format('no revert of recommendation %s is due', advice_id));
  END IF;
  claim := @extschema@._apply_claim(advice_id, 'rollback', 'pipeopt monitor');
  IF (claim ->> 'ok')::boolean THEN
    log_id := (claim ->> 'log_id')::bigint;
    UPDATE @extschema@.change_log x SET reason = v.revert_reason WHERE x.id = log_id;
    UPDATE @extschema@.verification x SET revert_change_id = log_id WHERE x.change_id = v.change_id;
  ELSE
    UPDATE @extschema@.verification x SET revert_outcome = 'refused: ' || (claim ->> 'reason')
     WHERE x.change_id = v.change_id;
  END IF;
  RETURN claim;
END
$f$;

-- After the apply worker finished a revert's rollback: reverted, or given
-- up after pipeopt.apply_max_attempts failures (else retried later).
CREATE FUNCTION @extschema@._revert_finished(log_id bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  l @extschema@.change_log;
  v @extschema@.verification;
BEGIN
  SELECT * INTO l FROM @extschema@.change_log x WHERE x.id = log_id;
  SELECT * INTO v FROM @extschema@.verification x WHERE x.revert_change_id = log_id FOR UPDATE;
  IF NOT FOUND OR l.outcome = 'running' THEN
    RETURN;
  END IF;
  IF l.outcome = 'succeeded' THEN
    UPDATE @extschema@.verification x SET reverted = true, revert_outcome = 'succeeded'
     WHERE x.change_id = v.change_id;
  ELSIF (SELECT f.failures FROM @extschema@._revert_failures(v.advice_id, v.change_id) f)
        >= current_setting('pipeopt.apply_max_attempts')::integer THEN
    UPDATE @extschema@.verification x SET revert_outcome = 'failed: ' || coalesce(l.error, 'unknown error')
     WHERE x.change_id = v.change_id;
  END IF;
END
$f$;
