/*
 * The recommendation lifecycle, part 1: who may decide, the decisions, and
 * what a decision is bound to.
 *
 * Status machine of pipeopt.advice (81_index_advice.sql moves proposed
 * advice to obsolete or superseded; this file and 83_apply.sql do the rest):
 *
 *   proposed  -> approved     approve(), or _auto_approve() by policy
 *   proposed  -> rejected     reject()
 *   approved  -> rejected     reject() before the worker claims it
 *   approved  -> proposed     the approval lapsed: the target's catalog state
 *                             or the specification changed since approval
 *   approved  -> applying     _apply_claim(), committed before the DDL runs
 *   applying  -> applied      _apply_finish() after the DDL succeeded
 *   applying  -> approved     the attempt failed; retried after a backoff
 *   applying  -> failed       ... pipeopt.apply_max_attempts times
 *   applied | verified -> reverting -> reverted   rollback()
 *   reverting -> applied | verified               the rollback failed
 *   applied   -> verified     the effectiveness monitor's verdict
 *   any open state -> obsolete   its target is gone
 *
 * Users change state only through the SECURITY DEFINER functions below;
 * the tables belong to the extension's owner.
 */

-- ---------------------------------------------------------------------
-- Roles. Roles are cluster-wide: pipeopt in another database may have
-- created them already. (A role with CREATEROLE could have made them
-- first; such a role can grant itself any non-superuser role anyway.)
-- ---------------------------------------------------------------------
DO $roles$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pipeopt_reader') THEN
    CREATE ROLE pipeopt_reader NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pipeopt_approver') THEN
    CREATE ROLE pipeopt_approver NOLOGIN;
  END IF;
  IF NOT pg_catalog.pg_has_role('pipeopt_approver', 'pipeopt_reader', 'MEMBER') THEN
    GRANT pipeopt_reader TO pipeopt_approver;
  END IF;
END
$roles$;

-- ---------------------------------------------------------------------
-- Automation per kind of recommendation. The defaults live in
-- _automation(); this table holds only what a DBA set (so a dump and
-- restore keeps it without clashing with the defaults).
--   advisory   pipeopt only advises; approval is refused
--   approval   applied once approved (the default)
--   automatic  approved by the worker when confidence >= min_confidence
--              and risk is low
-- ---------------------------------------------------------------------
CREATE TABLE @extschema@.automation (
  kind            text PRIMARY KEY CHECK (kind IN ('create_index', 'drop_index',
                                                   -- the storage advisor (87_storage.sql)
                                                   'create_statistics', 'set_table_storage',
                                                   'create_materialized_view',
                                                   -- the partition advisor (86_partition.sql)
                                                   'partition_table', 'drop_partitions')),
  mode            text NOT NULL CHECK (mode IN ('advisory', 'approval', 'automatic')),
  min_confidence  double precision NOT NULL CHECK (min_confidence BETWEEN 0 AND 1),
  updated_by      name NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.automation', '');

CREATE FUNCTION @extschema@._automation()
RETURNS TABLE (kind text, mode text, min_confidence double precision, configured boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT d.kind, coalesce(a.mode, d.mode), coalesce(a.min_confidence, d.min_confidence),
         a.kind IS NOT NULL
    FROM (VALUES ('create_index', 'approval', 0.9::double precision),
                 -- dropping is never automatic unless a DBA says so
                 ('drop_index', 'approval', 0.95::double precision),
                 -- extended statistics only change estimates: low risk, automatic
                 ('create_statistics', 'automatic', 0.8::double precision),
                 ('set_table_storage', 'approval', 0.9::double precision),
                 -- never applied by pipeopt (see set_automation)
                 ('create_materialized_view', 'advisory', 0.9::double precision),
                 -- the partition advisor: a table rewrite needs a DBA; dropping data is advice only
                 ('partition_table', 'approval', 0.9::double precision),
                 ('drop_partitions', 'advisory', 0.95::double precision)) d(kind, mode, min_confidence)
    LEFT JOIN @extschema@.automation a ON a.kind = d.kind
$f$;
CREATE VIEW @extschema@.automation_policy AS
  SELECT * FROM @extschema@._automation();

CREATE FUNCTION @extschema@.set_automation(kind text, mode text,
                                           min_confidence double precision DEFAULT 0.9)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  PERFORM @extschema@._require_approver('set automation');
  IF kind IS NULL OR kind NOT IN (SELECT p.kind FROM @extschema@._automation() p) THEN
    RAISE EXCEPTION 'unknown kind of recommendation "%"', kind
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'SELECT kind FROM pipeopt.automation_policy lists the kinds.';
  END IF;
  IF mode IS NULL OR mode NOT IN ('advisory', 'approval', 'automatic') THEN
    RAISE EXCEPTION 'unknown automation mode "%"', mode
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The modes are advisory, approval and automatic.';
  END IF;
  IF kind = 'create_materialized_view' AND mode <> 'advisory' THEN
    -- its definition is a captured statement's text: pipeopt never runs it
    RAISE EXCEPTION 'recommendations of kind create_materialized_view are advisory only'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'A materialized view is defined by a captured statement, which pipeopt never runs as DDL.',
            HINT = 'Run its script from pipeopt.storage_advice yourself, as the role that should own the view.';
  END IF;
  IF min_confidence IS NULL OR min_confidence < 0 OR min_confidence > 1 THEN
    RAISE EXCEPTION 'min_confidence must be between 0 and 1'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO @extschema@.automation AS a (kind, mode, min_confidence, updated_by)
  VALUES (set_automation.kind, set_automation.mode, set_automation.min_confidence, session_user)
  ON CONFLICT ON CONSTRAINT automation_pkey DO UPDATE
     SET mode = excluded.mode, min_confidence = excluded.min_confidence,
         updated_by = excluded.updated_by, updated_at = now();
END
$f$;

-- The caller must be a member of pipeopt_approver (superusers are). The
-- functions run as their owner, so the login role (session_user) is the
-- one checked and recorded; EXECUTE is granted to pipeopt_approver only.
CREATE FUNCTION @extschema@._require_approver(what text)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  IF NOT pg_has_role(session_user, 'pipeopt_approver', 'MEMBER') THEN
    RAISE EXCEPTION 'permission denied to % a pipeopt recommendation', what
      USING ERRCODE = 'insufficient_privilege',
            DETAIL = format('Role %s is not a member of pipeopt_approver.', session_user),
            HINT = 'A superuser can GRANT pipeopt_approver TO the role.';
  END IF;
END
$f$;

-- ---------------------------------------------------------------------
-- What an approval is bound to: the specification (kind and structured
-- target) and the target's catalog state, read when approved and again
-- when applied. NULL when the target is gone.
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._advice_spec(kind text, target jsonb)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT md5(kind || ':' || target::text)
$f$;

CREATE FUNCTION @extschema@._target_state(kind text, target jsonb)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE kind
    WHEN 'create_index' THEN (
      SELECT jsonb_build_object(
               'table', jsonb_build_array(n.nspname, c.relname),
               'columns', (SELECT jsonb_agg(jsonb_build_array(a.attname,
                                                              format_type(a.atttypid, a.atttypmod))
                                            ORDER BY k.ord)
                             FROM jsonb_array_elements_text(target -> 'attnums') WITH ORDINALITY k(att, ord)
                             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.att::smallint
                                                AND NOT a.attisdropped))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid = (target ->> 'relid')::oid AND c.relkind = 'r')
    WHEN 'drop_index' THEN (
      SELECT jsonb_build_object(
               'table', jsonb_build_array(tn.nspname, t.relname),
               'index', jsonb_build_array(n.nspname, c.relname),
               'definition', pg_get_indexdef(i.indexrelid),
               'valid', i.indisvalid,
               'protected', i.indisprimary OR i.indisreplident OR i.indisexclusion
                            OR EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid))
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace
       WHERE i.indexrelid = (target ->> 'indexrelid')::oid AND i.indrelid = (target ->> 'relid')::oid)
    WHEN 'create_statistics' THEN @extschema@._storage_state(kind, target)
    WHEN 'set_table_storage' THEN @extschema@._storage_state(kind, target)
    WHEN 'create_materialized_view' THEN @extschema@._storage_state(kind, target)
    -- a plain table to partition: its name, key, columns and constraints
    WHEN 'partition_table' THEN (
      SELECT jsonb_build_object(
               'table', jsonb_build_array(n.nspname, c.relname),
               'key', (SELECT jsonb_build_array(a.attname, format_type(a.atttypid, a.atttypmod))
                         FROM pg_attribute a WHERE a.attrelid = c.oid
                          AND a.attnum = (target ->> 'attnum')::smallint AND NOT a.attisdropped),
               'columns', (SELECT md5(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum))
                             FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
               'constraints', (SELECT md5(string_agg(k.conname || ' ' || pg_get_constraintdef(k.oid), ',' ORDER BY k.conname))
                                 FROM pg_constraint k WHERE k.conrelid = c.oid))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid = (target ->> 'relid')::oid AND c.relkind = 'r')
    -- partitions to drop: those still attached
    WHEN 'drop_partitions' THEN (
      SELECT jsonb_build_object('table', jsonb_build_array(pn.nspname, p.relname),
                                'partitions', (SELECT jsonb_agg(c.relname ORDER BY c.relname)
                                                 FROM jsonb_array_elements(target -> 'partitions') j
                                                 JOIN pg_inherits i ON i.inhrelid = (j ->> 'relid')::oid
                                                                   AND i.inhparent = p.oid
                                                 JOIN pg_class c ON c.oid = i.inhrelid))
        FROM pg_class p JOIN pg_namespace pn ON pn.oid = p.relnamespace
       WHERE p.oid = (target ->> 'relid')::oid AND p.relkind = 'p')
  END
$f$;

-- ---------------------------------------------------------------------
-- Decisions
-- ---------------------------------------------------------------------

-- The recommendation, locked; an error if there is none.
CREATE FUNCTION @extschema@._lock_advice(advice_id bigint)
RETURNS @extschema@.advice
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  a @extschema@.advice;
BEGIN
  SELECT * INTO a FROM @extschema@.advice x WHERE x.id = advice_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'recommendation % does not exist', advice_id
      USING ERRCODE = 'no_data_found',
            HINT = 'SELECT id, kind, status FROM pipeopt.recommendations lists them.';
  END IF;
  RETURN a;
END
$f$;

-- Why a recommendation cannot be approved now (NULL if it can).
CREATE FUNCTION @extschema@._approval_refusal(a @extschema@.advice)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  state jsonb := @extschema@._target_state(a.kind, a.target);
  mode text := (SELECT p.mode FROM @extschema@._automation() p WHERE p.kind = a.kind);
BEGIN
  IF state IS NULL THEN
    RETURN 'its target is gone';
  END IF;
  IF mode = 'advisory' THEN
    RETURN format('recommendations of kind %s are advisory (pipeopt.set_automation)', a.kind);
  END IF;
  IF a.kind = 'drop_index' AND (state ->> 'protected')::boolean THEN
    RETURN 'the index backs a constraint or the replica identity';
  END IF;
  IF a.kind = 'partition_table'
     AND cardinality(@extschema@._partition_blockers(a.relid, (a.target ->> 'attnum')::smallint)) > 0 THEN
    RETURN 'pipeopt would not migrate it itself: '
           || array_to_string(@extschema@._partition_blockers(a.relid, (a.target ->> 'attnum')::smallint), '; ')
           || ' (pipeopt.partition_script() shows the migration to run by hand)';
  END IF;
  IF a.kind = 'drop_index' AND @extschema@._index_spec((a.target ->> 'indexrelid')::oid) IS NULL THEN
    RETURN 'the index has expressions or a predicate, so pipeopt could not recreate it on rollback';
  END IF;
  RETURN NULL;
END
$f$;

-- proposed -> approved, bound to the specification and the target's
-- catalog state as they are now.
CREATE FUNCTION @extschema@._set_approved(a @extschema@.advice, decided_by name, note text,
                                          automatic boolean)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $f$
  UPDATE @extschema@.advice x
     SET status = 'approved', decided_by = _set_approved.decided_by, decided_at = now(),
         decision_note = note, automatic = _set_approved.automatic,
         approved_spec = @extschema@._advice_spec(a.kind, a.target),
         approved_state = @extschema@._target_state(a.kind, a.target),
         attempts = 0, next_attempt_at = NULL,
         status_reason = CASE WHEN _set_approved.automatic THEN 'approved automatically by policy'
                              ELSE 'approved by ' || _set_approved.decided_by END,
         status_changed_at = now(), updated_at = now()
   WHERE x.id = a.id
$f$;

CREATE FUNCTION @extschema@.approve(id bigint, note text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  a @extschema@.advice;
  refusal text;
BEGIN
  PERFORM @extschema@._require_approver('approve');
  a := @extschema@._lock_advice(approve.id);
  IF a.status <> 'proposed' THEN
    RAISE EXCEPTION 'recommendation % is %, not proposed', a.id, a.status
      USING ERRCODE = 'object_not_in_prerequisite_state',
            DETAIL = coalesce('Its status note: ' || a.status_reason || '.', 'Only proposed recommendations can be approved.');
  END IF;
  refusal := @extschema@._approval_refusal(a);
  IF refusal IS NOT NULL THEN
    RAISE EXCEPTION 'recommendation % cannot be approved: %', a.id, refusal
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  PERFORM @extschema@._set_approved(a, session_user, note, false);
  RETURN 'approved';
END
$f$;

CREATE FUNCTION @extschema@.reject(id bigint, reason text)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  a @extschema@.advice;
BEGIN
  PERFORM @extschema@._require_approver('reject');
  IF coalesce(btrim(reason), '') = '' THEN
    RAISE EXCEPTION 'a rejection needs a reason'
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'The reason is kept with the recommendation for whoever reads it next.';
  END IF;
  a := @extschema@._lock_advice(reject.id);
  IF a.status IN ('applied', 'verified') THEN
    RAISE EXCEPTION 'recommendation % is %: only proposed or approved recommendations can be rejected',
                    a.id, a.status
      USING ERRCODE = 'object_not_in_prerequisite_state',
            HINT = format('To undo the change, call pipeopt.rollback(%s).', a.id);
  ELSIF a.status NOT IN ('proposed', 'approved') THEN
    RAISE EXCEPTION 'recommendation % is %: only proposed or approved recommendations can be rejected',
                    a.id, a.status
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  UPDATE @extschema@.advice x
     SET status = 'rejected', decided_by = session_user, decided_at = now(), decision_note = reject.reason,
         status_reason = 'rejected by ' || session_user || ': ' || reject.reason,
         status_changed_at = now(), updated_at = now()
   WHERE x.id = a.id;
  RETURN 'rejected';
END
$f$;

-- Approve, by policy, what automation allows: proposed, low risk, and
-- confident enough. Called by the worker before it applies.
CREATE FUNCTION @extschema@._auto_approve()
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  a @extschema@.advice;
  n integer := 0;
BEGIN
  FOR a IN
    SELECT x.* FROM @extschema@.advice x
      JOIN @extschema@._automation() p ON p.kind = x.kind
     WHERE x.status = 'proposed' AND p.mode = 'automatic' AND x.risk = 'low'
       AND x.confidence >= p.min_confidence
     ORDER BY x.id
       FOR UPDATE OF x SKIP LOCKED
  LOOP
    IF @extschema@._approval_refusal(a) IS NULL THEN
      PERFORM @extschema@._set_approved(a, 'pipeopt',
                                        format('automatic: confidence %s, risk %s', a.confidence, a.risk),
                                        true);
      n := n + 1;
    END IF;
  END LOOP;
  RETURN n;
END
$f$;
