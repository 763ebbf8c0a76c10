/*
 * The recommendation lifecycle, part 3: what people see and call.
 *   pipeopt.recommendations   every recommendation, ranked, with its inputs
 *   pipeopt.apply_now(id)     apply an approved change now and wait
 *   pipeopt.rollback(id)      undo an applied change and wait
 */

-- ---------------------------------------------------------------------
-- Ranking. value: ms of statement time saved per hour of the sampled
-- workload or, when pipeopt.cost_per_cpu_hour or pipeopt.cost_per_gb_month
-- is set, money saved per month (CPU time saved, minus the storage an
-- index takes or plus the storage a drop frees). score = value x
-- confidence x risk weight (low 1, medium 0.5, high 0.25). Open
-- recommendations (proposed, approved) are ranked by score, then by the
-- storage they free.
-- ---------------------------------------------------------------------
CREATE VIEW @extschema@.recommendations AS
WITH priced AS (
  SELECT a.*, p.mode AS automation,
         CASE a.risk WHEN 'low' THEN 1.0 WHEN 'medium' THEN 0.5 ELSE 0.25 END AS risk_weight,
         -- 730 hours in a month; CPU time saved counts as CPU hours
         coalesce(a.saving_ms_per_hour, 0) * 730 / 3600000.0
           * current_setting('pipeopt.cost_per_cpu_hour')::double precision
         + CASE a.kind WHEN 'drop_index' THEN 1 ELSE -1 END * coalesce(a.estimated_bytes, 0) / 1073741824.0
           * current_setting('pipeopt.cost_per_gb_month')::double precision AS money,
         current_setting('pipeopt.cost_per_cpu_hour')::double precision > 0
           OR current_setting('pipeopt.cost_per_gb_month')::double precision > 0 AS priced
    FROM @extschema@.advice a
    LEFT JOIN @extschema@._automation() p ON p.kind = a.kind
), scored AS (
  SELECT p.*,
         CASE WHEN p.priced THEN p.money ELSE coalesce(p.saving_ms_per_hour, 0) END
           * coalesce(p.confidence, 0) * p.risk_weight AS score
    FROM priced p
)
SELECT s.id, s.kind, s.status,
       CASE WHEN s.status IN ('proposed', 'approved')
            THEN rank() OVER (PARTITION BY s.status IN ('proposed', 'approved')
                              ORDER BY s.score DESC, CASE s.kind WHEN 'drop_index' THEN s.estimated_bytes END
                                       DESC NULLS LAST, s.id) END AS rank,
       CASE WHEN c.oid IS NOT NULL THEN format('%I.%I', n.nspname, c.relname) END AS relation,
       s.target,
       @extschema@._advice_ddl(s.kind, s.target, s.id) AS statement,
       round(s.saving_ms_per_hour::numeric, 1) AS saving_ms_per_hour,
       CASE WHEN s.priced THEN round(s.money::numeric, 2) END AS saving_per_month,
       s.estimated_bytes, s.confidence, s.risk, round(s.score::numeric, 3) AS score,
       s.automation, s.reason, s.status_reason,
       s.decided_by, s.decided_at, s.decision_note, s.automatic, s.attempts, s.next_attempt_at,
       s.created_at, s.status_changed_at
  FROM scored s
  LEFT JOIN pg_catalog.pg_class c ON c.oid = s.relid
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace;
COMMENT ON VIEW @extschema@.recommendations IS
  'Every recommendation of every advisor, ranked by expected saving against risk and size';

-- ---------------------------------------------------------------------
-- apply_now() and rollback(): one change, by an apply worker, waited for.
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._request_change(advice_id bigint, action text, requested_by name)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pipeopt_request_change'
LANGUAGE C VOLATILE STRICT;

-- The outcome the worker recorded for request token, or an error.
CREATE FUNCTION @extschema@._request_outcome(token bigint, advice_id bigint)
RETURNS TABLE (recommendation bigint, status text, outcome text, statement text, duration_ms double precision,
               detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_column
DECLARE
  r @extschema@.apply_requests;
BEGIN
  SELECT * INTO r FROM @extschema@.apply_requests q WHERE q.token = _request_outcome.token;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the apply worker stopped without reporting what became of recommendation %', advice_id
      USING ERRCODE = 'internal_error',
            HINT = 'pipeopt.change_log and the server log tell what it did; the next apply worker settles an interrupted change.';
  END IF;
  IF r.outcome = 'refused' THEN
    RAISE EXCEPTION 'recommendation % was not changed: %', advice_id, r.detail
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN QUERY
    SELECT a.id, a.status, r.outcome, l.ddl, round(l.duration_ms::numeric, 1)::double precision,
           coalesce(r.detail, l.cleanup)
      FROM @extschema@.advice a
      LEFT JOIN @extschema@.change_log l ON l.id = r.log_id
     WHERE a.id = _request_outcome.advice_id;
END
$f$;

-- Check the recommendation's status for action (without locking its row:
-- the worker must be free to claim it while the caller waits), hand it to
-- an apply worker, wait, and report the outcome.
CREATE FUNCTION @extschema@._request(advice_id bigint, action text)
RETURNS TABLE (recommendation bigint, status text, outcome text, statement text, duration_ms double precision,
               detail text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_column
DECLARE
  a @extschema@.advice;
BEGIN
  SELECT * INTO a FROM @extschema@.advice x WHERE x.id = _request.advice_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'recommendation % does not exist', _request.advice_id USING ERRCODE = 'no_data_found';
  END IF;
  IF action = 'apply' AND a.status = 'proposed' THEN
    RAISE EXCEPTION 'recommendation % is proposed, not approved', a.id
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = format('Approve it first: SELECT pipeopt.approve(%s, ''why'');', a.id);
  ELSIF action = 'apply' AND a.status <> 'approved' THEN
    RAISE EXCEPTION 'recommendation % is %, not approved', a.id, a.status
      USING ERRCODE = 'object_not_in_prerequisite_state';
  ELSIF action = 'rollback' AND a.status NOT IN ('applied', 'verified') THEN
    RAISE EXCEPTION 'recommendation % is %: only applied or verified changes can be rolled back', a.id, a.status
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  RETURN QUERY SELECT * FROM @extschema@._request_outcome(
    @extschema@._request_change(a.id, action, session_user), a.id);
END
$f$;

CREATE FUNCTION @extschema@.apply_now(id bigint)
RETURNS TABLE (recommendation bigint, status text, outcome text, statement text, duration_ms double precision,
               detail text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  PERFORM @extschema@._require_approver('apply');
  RETURN QUERY SELECT * FROM @extschema@._request(apply_now.id, 'apply');
END
$f$;

CREATE FUNCTION @extschema@.rollback(id bigint)
RETURNS TABLE (recommendation bigint, status text, outcome text, statement text, duration_ms double precision,
               detail text)
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  PERFORM @extschema@._require_approver('roll back');
  RETURN QUERY SELECT * FROM @extschema@._request(rollback.id, 'rollback');
END
$f$;

-- The effectiveness monitor's verdict on an applied change: applied ->
-- verified (improved or no significant change). A regression is undone
-- through rollback instead. Returns the status it leaves.
CREATE FUNCTION @extschema@._verify(advice_id bigint, verdict text)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  a @extschema@.advice;
BEGIN
  SELECT * INTO a FROM @extschema@.advice x WHERE x.id = advice_id FOR UPDATE;
  IF NOT FOUND OR a.status <> 'applied' THEN
    RETURN a.status;			-- rolled back, reverting, or verified already
  END IF;
  PERFORM @extschema@._set_status(a.id, 'verified', 'verified: ' || verdict);
  RETURN 'verified';
END
$f$;
