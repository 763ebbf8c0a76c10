/*
 * The recommendation lifecycle, part 2: application and rollback, and the
 * record of every change.
 *
 * The apply worker (src/apply/) runs, one change at a time per database:
 *   _apply_recover()         settle attempts a crash or a kill interrupted
 *   _apply_claim(id, action) approved -> applying (or applied -> reverting),
 *                            the change_log row and the DDL; committed
 *                            before the DDL runs
 *   the DDL                  as a top-level statement, in its own transactions
 *   _apply_leftover(log)     after a failed build: the INVALID index it left
 *   _apply_finish(log, ...)  applied / retried / failed / reverted
 * The DDL is generated here, when claimed, from the structured target and
 * the catalogs as they are then; no SQL text is ever read back from a table.
 */

-- Every change pipeopt made or tried to make, and how to undo it.
CREATE TABLE @extschema@.change_log (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  advice_id       bigint NOT NULL,
  action          text NOT NULL CHECK (action IN ('apply', 'rollback')),
  kind            text NOT NULL,
  target          jsonb NOT NULL,
  approved_by     name,
  approved_at     timestamptz,
  approval_note   text,
  automatic       boolean NOT NULL DEFAULT false,
  requested_by    name NOT NULL,
  reason          text,		-- why, when pipeopt asked (87_revert.sql)
  attempt         integer NOT NULL,
  ddl             text,
  -- the index the change creates or drops
  object_schema   name,
  object_name     name,
  object_oid      oid,
  started_at      timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
  finished_at     timestamptz,
  duration_ms     double precision,
  outcome         text NOT NULL DEFAULT 'running'
                  CHECK (outcome IN ('running', 'succeeded', 'failed')),
  error           text,
  cleanup         text,
  state_before    jsonb,
  state_after     jsonb,
  -- the operation that undoes it: {"action": "drop_index", ...} or
  -- {"action": "create_index", "spec": <_index_spec()>}
  inverse         jsonb
);
CREATE INDEX ON @extschema@.change_log (advice_id, id);
CREATE UNIQUE INDEX change_log_one_running ON @extschema@.change_log (advice_id)
  WHERE outcome = 'running';
COMMENT ON TABLE @extschema@.change_log IS
  'Every change pipeopt applied or rolled back: approval, exact DDL, duration, outcome, state before and after, and its inverse';

-- Requests of apply_now() and rollback(), and what came of them.
CREATE TABLE @extschema@.apply_requests (
  token         bigint PRIMARY KEY,
  advice_id     bigint NOT NULL,
  action        text NOT NULL CHECK (action IN ('apply', 'rollback')),
  requested_by  name NOT NULL,
  requested_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  finished_at   timestamptz,
  outcome       text CHECK (outcome IN ('succeeded', 'failed', 'refused')),
  detail        text,
  log_id        bigint
);

-- The decisions and the history survive a dump and restore. (Targets hold
-- OIDs: after a restore, approvals lapse unless the catalog state matches,
-- and a rollback refuses an index whose name no longer matches its OID.)
SELECT pg_catalog.pg_extension_config_dump('@extschema@.advice',
  'WHERE status NOT IN (''proposed'', ''obsolete'', ''superseded'')');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.advice', 'id'), '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.change_log', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('@extschema@.change_log', 'id'), '');

-- ---------------------------------------------------------------------
-- Structured index definitions, to recreate a dropped index on rollback.
-- NULL for an index pipeopt could not recreate this way (expressions, a
-- predicate).
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._index_spec(indexrelid oid)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT jsonb_build_object(
           'relid', i.indrelid, 'schema', n.nspname, 'name', c.relname, 'method', am.amname,
           'unique', i.indisunique,
           'keys', (SELECT jsonb_agg(jsonb_build_object(
                             'attnum', k.attnum,
                             'opclass', (SELECT jsonb_build_array(ocn.nspname, oc.opcname)
                                           FROM pg_opclass oc JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace
                                          WHERE oc.oid = (i.indclass::oid[])[k.ord - 1]),
                             'collation', (SELECT jsonb_build_array(cn.nspname, co.collname)
                                             FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                            WHERE co.oid = (i.indcollation::oid[])[k.ord - 1]),
                             'desc', ((i.indoption::int2[])[k.ord - 1] & 1) <> 0,
                             'nulls_first', ((i.indoption::int2[])[k.ord - 1] & 2) <> 0)
                           ORDER BY k.ord)
                      FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                     WHERE k.ord <= i.indnkeyatts),
           'include', (SELECT coalesce(jsonb_agg(k.attnum ORDER BY k.ord), '[]')
                         FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                        WHERE k.ord > i.indnkeyatts),
           'options', (SELECT coalesce(jsonb_agg(jsonb_build_array(o.option_name, o.option_value)), '[]')
                         FROM pg_options_to_table(c.reloptions) o),
           'tablespace', (SELECT t.spcname FROM pg_tablespace t WHERE t.oid = c.reltablespace))
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_am am ON am.oid = c.relam
   WHERE i.indexrelid = _index_spec.indexrelid
     AND i.indexprs IS NULL AND i.indpred IS NULL
     AND 0 <> ALL (i.indkey::int2[])
$f$;

-- CREATE INDEX CONCURRENTLY for a spec of _index_spec(), named name, with
-- the table's and columns' names as they are now; NULL if the table or a
-- column is gone.
CREATE FUNCTION @extschema@._index_ddl_from_spec(spec jsonb, name text)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT format('CREATE %sINDEX CONCURRENTLY %I ON %I.%I USING %I (%s)%s%s%s',
                CASE WHEN (spec ->> 'unique')::boolean THEN 'UNIQUE ' ELSE '' END,
                name, tn.nspname, t.relname, spec ->> 'method', k.cols,
                CASE WHEN inc.cols IS NOT NULL THEN format(' INCLUDE (%s)', inc.cols) ELSE '' END,
                CASE WHEN jsonb_array_length(spec -> 'options') > 0
                     THEN format(' WITH (%s)',
                                 (SELECT string_agg(format('%I = %L', o ->> 0, o ->> 1), ', ')
                                    FROM jsonb_array_elements(spec -> 'options') o))
                     ELSE '' END,
                CASE WHEN spec ->> 'tablespace' IS NOT NULL
                     THEN format(' TABLESPACE %I', spec ->> 'tablespace') ELSE '' END)
    FROM pg_class t
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
   CROSS JOIN LATERAL (
     SELECT string_agg(
              format('%I%s %I.%I%s', a.attname,
                     CASE WHEN e.k -> 'collation' <> 'null'
                          THEN format(' COLLATE %I.%I', e.k -> 'collation' ->> 0, e.k -> 'collation' ->> 1)
                          ELSE '' END,
                     e.k -> 'opclass' ->> 0, e.k -> 'opclass' ->> 1,
                     CASE WHEN (e.k ->> 'desc')::boolean
                          THEN ' DESC' || CASE WHEN (e.k ->> 'nulls_first')::boolean THEN '' ELSE ' NULLS LAST' END
                          ELSE CASE WHEN (e.k ->> 'nulls_first')::boolean THEN ' NULLS FIRST' ELSE '' END END),
              ', ' ORDER BY e.ord) AS cols,
            count(a.attname) = count(*) AS complete
       FROM jsonb_array_elements(spec -> 'keys') WITH ORDINALITY e(k, ord)
       LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = (e.k ->> 'attnum')::smallint
                               AND NOT a.attisdropped) k
   CROSS JOIN LATERAL (
     SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY e.ord) AS cols,
            count(a.attname) = count(*) AS complete
       FROM jsonb_array_elements_text(spec -> 'include') WITH ORDINALITY e(att, ord)
       LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = e.att::smallint
                               AND NOT a.attisdropped) inc
   WHERE t.oid = (spec ->> 'relid')::oid AND t.relkind IN ('r', 'm')
     AND k.complete AND inc.complete
$f$;

-- The index named schema.name, if any.
CREATE FUNCTION @extschema@._index_named(schema name, name name)
RETURNS TABLE (indexrelid oid, indrelid oid, valid boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT i.indexrelid, i.indrelid, i.indisvalid
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_index i ON i.indexrelid = c.oid
   WHERE n.nspname = schema AND c.relname = name
$f$;

-- A relation of that name exists in that schema.
CREATE FUNCTION @extschema@._relation_exists(schema name, name name)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = schema AND c.relname = name)
$f$;

-- Inside the maintenance window pipeopt.apply_window ('HH:MM-HH:MM', local
-- time, may wrap midnight; empty: any time).
CREATE FUNCTION @extschema@._in_apply_window(at timestamptz DEFAULT pg_catalog.now())
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN w.s = '' THEN true
              WHEN w.a <= w.b THEN at::time >= w.a AND at::time < w.b
              ELSE at::time >= w.a OR at::time < w.b END
    FROM (SELECT s, CASE WHEN s <> '' THEN split_part(s, '-', 1)::time END AS a,
                    CASE WHEN s <> '' THEN split_part(s, '-', 2)::time END AS b
            FROM (SELECT btrim(current_setting('pipeopt.apply_window')) AS s) x) w
$f$;

-- Whether a change creates an index: applying a create_index, or rolling
-- back a drop_index (the index named in its change_log row).
CREATE FUNCTION @extschema@._creates_index(action text, kind text)
RETURNS boolean
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT kind IN ('create_index', 'drop_index') AND (action = 'apply') = (kind = 'create_index')
$f$;

-- Move a recommendation to status, with the note that says why.
CREATE FUNCTION @extschema@._set_status(advice_id bigint, status text, reason text)
RETURNS void
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $f$
  UPDATE @extschema@.advice x
     SET status = _set_status.status, status_reason = _set_status.reason, status_changed_at = now(), updated_at = now()
   WHERE x.id = advice_id
$f$;

-- ---------------------------------------------------------------------
-- Claim: check the recommendation and its approval, record the attempt,
-- and return the DDL to run. {"ok": false, "reason": ...} when there is
-- nothing to run; a lapse or an obsolete target is recorded (committed).
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._apply_claim(advice_id bigint, action text, requested_by name)
RETURNS jsonb
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  a @extschema@.advice;
  state jsonb;
  ddl text;
  obj_schema name;
  obj_name name;
  obj_oid oid;
  inverse jsonb;
  applied @extschema@.change_log;
  log_id bigint;
  attempt integer;
  state_before jsonb;
  next_status text;
  storage jsonb;
BEGIN
  SELECT * INTO a FROM @extschema@.advice x WHERE x.id = advice_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN jsonb_build_object('ok', false, 'reason', format('recommendation %s does not exist', advice_id));
  END IF;
  state := @extschema@._target_state(a.kind, a.target);

  IF action = 'apply' THEN
    IF a.status <> 'approved' THEN
      RETURN jsonb_build_object('ok', false,
                                'reason', format('recommendation %s is %s, not approved', a.id, a.status));
    END IF;
    IF state IS NULL THEN
      PERFORM @extschema@._set_status(a.id, 'obsolete', 'its target is gone');
      RETURN jsonb_build_object('ok', false, 'reason', 'its target is gone; the recommendation is obsolete');
    END IF;
    IF a.approved_spec IS DISTINCT FROM @extschema@._advice_spec(a.kind, a.target)
       OR a.approved_state IS DISTINCT FROM state THEN
      UPDATE @extschema@.advice x
         SET status = 'proposed', approved_spec = NULL, approved_state = NULL,
             status_reason = format('the approval by %s lapsed: the target changed since (%s)',
                                    a.decided_by, state::text),
             status_changed_at = now(), updated_at = now()
       WHERE x.id = a.id;
      RETURN jsonb_build_object('ok', false,
                                'reason', 'the approval lapsed: the target changed since it was approved');
    END IF;

    IF a.kind = 'create_index' THEN
      obj_schema := state -> 'table' ->> 0;
      obj_name := @extschema@._advice_index_name(a.target, a.id);
      -- an index that serves it already (built by hand since)
      SELECT format('%I.%I', n.nspname, c.relname) INTO ddl
        FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am m ON m.oid = c.relam
       WHERE i.indrelid = a.relid AND i.indisvalid AND i.indpred IS NULL
         AND m.amname = coalesce(a.target ->> 'method', 'btree')
         AND (i.indkey::int2[])[0:jsonb_array_length(a.target -> 'attnums') - 1]
             = ARRAY(SELECT x::smallint FROM jsonb_array_elements_text(a.target -> 'attnums') x)
       LIMIT 1;
      IF ddl IS NOT NULL THEN
        PERFORM @extschema@._set_status(a.id, 'obsolete', 'index ' || ddl || ' serves it already');
        RETURN jsonb_build_object('ok', false, 'reason', 'index ' || ddl || ' serves it already');
      END IF;
      IF @extschema@._relation_exists(obj_schema, obj_name) THEN
        RETURN jsonb_build_object('ok', false,
                                  'reason', format('a relation named %I.%I exists already', obj_schema, obj_name));
      END IF;
      ddl := @extschema@._advice_ddl(a.kind, a.target, a.id);
      inverse := jsonb_build_object('action', 'drop_index', 'schema', obj_schema, 'name', obj_name);
    ELSIF a.kind IN ('create_statistics', 'set_table_storage', 'create_materialized_view') THEN
      -- the storage advisor's kinds (87_storage.sql)
      storage := @extschema@._storage_claim(a, state);
      IF NOT (storage ->> 'ok')::boolean THEN
        RETURN storage;
      END IF;
      ddl := storage ->> 'ddl';
      obj_schema := storage ->> 'schema';
      obj_name := storage ->> 'name';
      inverse := storage -> 'inverse';
    ELSIF a.kind = 'partition_table' THEN
      -- the partition advisor: the migration runs as a procedure whose
      -- steps are generated when it starts (86_partition.sql)
      ddl := @extschema@._partition_claim(a);
      IF ddl IS NOT NULL THEN
        RETURN jsonb_build_object('ok', false, 'reason', ddl);
      END IF;
      obj_schema := state -> 'table' ->> 0;
      obj_name := (SELECT x.new_name FROM @extschema@._partition_names(a.target, a.id) x);
      ddl := format('CALL %I._partition_run(%s, %L)', '@extschema@', a.id, 'apply');
      inverse := jsonb_build_object('action', 'unpartition');
    ELSIF a.kind = 'drop_partitions' THEN
      RETURN jsonb_build_object('ok', false, 'reason', 'dropping partitions is advice only: run it by hand');
    ELSE
      obj_schema := state -> 'index' ->> 0;
      obj_name := state -> 'index' ->> 1;
      obj_oid := (a.target ->> 'indexrelid')::oid;
      inverse := jsonb_build_object('action', 'create_index', 'spec', @extschema@._index_spec(obj_oid));
      IF (state ->> 'protected')::boolean OR inverse -> 'spec' = 'null' OR inverse -> 'spec' IS NULL THEN
        RETURN jsonb_build_object('ok', false, 'reason', 'pipeopt cannot drop this index and recreate it');
      END IF;
      ddl := @extschema@._advice_ddl(a.kind, a.target, a.id);
    END IF;
    attempt := a.attempts + 1;
    state_before := state;
    next_status := 'applying';
    UPDATE @extschema@.advice x SET attempts = attempt WHERE x.id = a.id;
  ELSIF action <> 'rollback' THEN
    RAISE EXCEPTION 'unknown action "%"', action USING ERRCODE = 'invalid_parameter_value';
  ELSIF a.status NOT IN ('applied', 'verified') THEN
    RETURN jsonb_build_object('ok', false,
                              'reason', format('recommendation %s is %s: only applied or verified changes can be rolled back',
                                               a.id, a.status));
  ELSE
    SELECT * INTO applied FROM @extschema@.change_log l
     WHERE l.advice_id = a.id AND l.action = 'apply' AND l.outcome = 'succeeded'
     ORDER BY l.id DESC LIMIT 1;
    IF NOT FOUND THEN
      RETURN jsonb_build_object('ok', false, 'reason', 'no record of the change to roll back');
    END IF;
    IF applied.inverse ->> 'action' = 'unpartition' THEN
      -- back to the original table, kept under another name (86_partition.sql)
      ddl := @extschema@._partition_claim(a, applied);
      IF ddl IS NOT NULL THEN
        RETURN jsonb_build_object('ok', false, 'reason', ddl);
      END IF;
      obj_schema := applied.state_before -> 'table' ->> 0;
      obj_name := applied.state_before -> 'table' ->> 1;
      obj_oid := a.relid;
      ddl := format('CALL %I._partition_run(%s, %L)', '@extschema@', a.id, 'rollback');
      inverse := jsonb_build_object('action', 'partition');
    ELSIF applied.inverse ->> 'action' = 'drop_index' THEN
      -- drop the index the change created: the same OID under the same name
      obj_oid := (applied.inverse ->> 'indexrelid')::oid;
      obj_schema := applied.inverse ->> 'schema';
      obj_name := applied.inverse ->> 'name';
      IF NOT EXISTS (SELECT 1 FROM @extschema@._index_named(obj_schema, obj_name) x WHERE x.indexrelid = obj_oid) THEN
        IF EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = obj_oid) OR @extschema@._relation_exists(obj_schema, obj_name) THEN
          RETURN jsonb_build_object('ok', false,
                                    'reason', format('index %I.%I is no longer the one pipeopt created (OID %s); roll back by hand',
                                                     obj_schema, obj_name, obj_oid));
        END IF;
        ddl := NULL;	-- dropped by someone already: nothing to run
      ELSE
        SELECT format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, c.relname) INTO ddl
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = obj_oid;
      END IF;
      inverse := jsonb_build_object('action', 'create_index', 'spec', @extschema@._index_spec(obj_oid));
    ELSIF applied.inverse ->> 'action' IN ('drop_statistics', 'set_table_storage') THEN
      -- the storage advisor's kinds (87_storage.sql)
      storage := @extschema@._storage_undo(applied);
      IF NOT (storage ->> 'ok')::boolean THEN
        RETURN storage;
      END IF;
      ddl := storage ->> 'ddl';
      obj_schema := storage ->> 'schema';
      obj_name := storage ->> 'name';
      obj_oid := (applied.inverse ->> 'oid')::oid;
      inverse := storage -> 'inverse';
    ELSE
      -- recreate the index the change dropped, under its name if it is free
      obj_schema := applied.inverse -> 'spec' ->> 'schema';
      obj_name := applied.inverse -> 'spec' ->> 'name';
      IF @extschema@._relation_exists(obj_schema, obj_name) THEN
        obj_name := left(obj_name, 50) || '_restored';
        IF @extschema@._relation_exists(obj_schema, obj_name) THEN
          RETURN jsonb_build_object('ok', false,
                                    'reason', format('a relation named %I.%I exists already', obj_schema, obj_name));
        END IF;
      END IF;
      ddl := @extschema@._index_ddl_from_spec(applied.inverse -> 'spec', obj_name);
      IF ddl IS NULL THEN
        RETURN jsonb_build_object('ok', false,
                                  'reason', 'the table or a column of the dropped index is gone; it cannot be recreated');
      END IF;
      inverse := jsonb_build_object('action', 'drop_index', 'schema', obj_schema, 'name', obj_name);
    END IF;
    attempt := 1;
    -- the status to return to if the rollback fails
    state_before := jsonb_build_object('status', a.status, 'target', state);
    next_status := 'reverting';
  END IF;

  -- the attempt, recorded (and committed by the caller) before its DDL runs
  INSERT INTO @extschema@.change_log AS l
         (advice_id, action, kind, target, approved_by, approved_at, approval_note, automatic,
          requested_by, attempt, ddl, object_schema, object_name, object_oid, state_before, inverse)
  VALUES (a.id, action, a.kind, a.target, a.decided_by, a.decided_at, a.decision_note, a.automatic,
          requested_by, attempt, ddl, obj_schema, obj_name, obj_oid, state_before, inverse)
  RETURNING l.id INTO log_id;
  PERFORM @extschema@._set_status(a.id, next_status,
                                  next_status || ': ' || coalesce(ddl, 'nothing left to undo'));
  RETURN jsonb_build_object('ok', true, 'log_id', log_id, 'ddl', ddl);
END
$f$;

-- ---------------------------------------------------------------------
-- Finish: record the outcome of a claimed change and move its
-- recommendation on. Idempotent: a finished change is left as it is.
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._apply_finish(log_id bigint, ok boolean, error text DEFAULT NULL,
                                          cleanup text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  l @extschema@.change_log;
  a @extschema@.advice;
  created oid;
  creates boolean;
  new_status text;
  reason text;
  delay interval;
BEGIN
  SELECT * INTO l FROM @extschema@.change_log x WHERE x.id = log_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF l.outcome <> 'running' THEN
    -- finished already: only a later cleanup is added to its record
    IF cleanup IS NOT NULL THEN
      UPDATE @extschema@.change_log x SET cleanup = concat_ws('; ', x.cleanup, _apply_finish.cleanup)
       WHERE x.id = l.id;
    END IF;
    RETURN NULL;
  END IF;
  SELECT * INTO a FROM @extschema@.advice x WHERE x.id = l.advice_id FOR UPDATE;
  creates := @extschema@._creates_index(l.action, l.kind);
  IF creates THEN
    SELECT x.indexrelid INTO created FROM @extschema@._index_named(l.object_schema, l.object_name) x;
  END IF;

  IF ok THEN
    UPDATE @extschema@.change_log x
       SET outcome = 'succeeded', finished_at = clock_timestamp(),
           duration_ms = extract(epoch FROM clock_timestamp() - l.started_at) * 1000,
           object_oid = coalesce(created, l.object_oid),
           state_after = CASE WHEN creates
                              THEN jsonb_build_object('index', pg_get_indexdef(created),
                                                      'valid', (SELECT i.indisvalid FROM pg_index i
                                                                 WHERE i.indexrelid = created))
                              ELSE jsonb_build_object('index', NULL) END,
           inverse = CASE WHEN creates THEN l.inverse || jsonb_build_object('indexrelid', created)
                          ELSE l.inverse END,
           cleanup = _apply_finish.cleanup
     WHERE x.id = l.id;
    IF l.kind IN ('create_statistics', 'set_table_storage') THEN
      -- the storage advisor's kinds: the object created, the state left
      UPDATE @extschema@.change_log x
         SET object_oid = coalesce(f.object_oid, x.object_oid), state_after = f.state_after, inverse = f.inverse
        FROM @extschema@._storage_finished(l) f
       WHERE x.id = l.id;
    END IF;
    IF l.action = 'apply' THEN
      new_status := 'applied';
      reason := 'applied: ' || l.ddl;
    ELSE
      new_status := 'reverted';
      reason := 'rolled back at the request of ' || l.requested_by
                || coalesce(': ' || l.ddl, ' (the index was gone already)');
    END IF;
    UPDATE @extschema@.advice x
       SET status = new_status, status_reason = reason, next_attempt_at = NULL,
           status_changed_at = now(), updated_at = now()
     WHERE x.id = a.id;
    IF l.kind = 'partition_table' THEN
      -- what the table is now: partitioned (apply) or plain again (rollback)
      UPDATE @extschema@.change_log x
         SET state_after = (SELECT jsonb_build_object('table', jsonb_build_array(n.nspname, c.relname),
                                                      'relkind', c.relkind,
                                                      'partitions', (SELECT count(*) FROM pg_inherits i
                                                                      WHERE i.inhparent = c.oid))
                              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE n.nspname = l.state_before -> 'table' ->> 0
                               AND c.relname = l.state_before -> 'table' ->> 1)
       WHERE x.id = l.id AND l.action = 'apply';
    END IF;
    RETURN new_status;
  END IF;

  UPDATE @extschema@.change_log x
     SET outcome = 'failed', finished_at = clock_timestamp(),
         duration_ms = extract(epoch FROM clock_timestamp() - l.started_at) * 1000,
         error = _apply_finish.error, cleanup = _apply_finish.cleanup
   WHERE x.id = l.id;
  IF l.action = 'rollback' THEN
    new_status := l.state_before ->> 'status';
    reason := 'rollback failed: ' || coalesce(error, 'unknown error');
  ELSIF a.attempts >= current_setting('pipeopt.apply_max_attempts')::integer THEN
    new_status := 'failed';
    reason := format('attempt %s of %s failed: %s', a.attempts,
                     current_setting('pipeopt.apply_max_attempts'), coalesce(error, 'unknown error'));
  ELSE
    -- retried after pipeopt.apply_retry_delay, doubled at each attempt
    new_status := 'approved';
    delay := current_setting('pipeopt.apply_retry_delay')::interval * 2 ^ (a.attempts - 1);
    reason := format('attempt %s failed: %s; retried after %s', a.attempts,
                     coalesce(error, 'unknown error'), delay);
  END IF;
  UPDATE @extschema@.advice x
     SET status = new_status, status_reason = reason,
         next_attempt_at = CASE WHEN new_status = 'approved' THEN now() + delay END,
         status_changed_at = now(), updated_at = now()
   WHERE x.id = a.id;
  RETURN new_status;
END
$f$;

-- After a failed build: the DROP INDEX CONCURRENTLY for the INVALID index
-- it left, if the change was to create the index named in its record (the
-- name was free when claimed, so an index of that name on that table is
-- pipeopt's own). NULL when there is nothing to clean up.
CREATE FUNCTION @extschema@._apply_leftover(log_id bigint)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT format('DROP INDEX CONCURRENTLY %I.%I', l.object_schema, l.object_name)
    FROM @extschema@.change_log l
   CROSS JOIN LATERAL @extschema@._index_named(l.object_schema, l.object_name) i
   WHERE l.id = log_id AND l.outcome = 'running'
     AND @extschema@._creates_index(l.action, l.kind)
     AND NOT i.valid
     AND i.indrelid = coalesce((l.target ->> 'relid')::oid, i.indrelid)
  UNION ALL
  -- a partitioning whose swap did not commit: remove what it made
  SELECT format('CALL %I._partition_abort(%s, %L)', '@extschema@', l.advice_id, l.action)
    FROM @extschema@.change_log l
   WHERE l.id = log_id AND l.outcome = 'running' AND l.kind = 'partition_table'
     AND NOT @extschema@._partition_swapped(l.target, l.advice_id, l.action,
                                            CASE WHEN l.action = 'rollback' THEN l.object_name END)
$f$;

-- Settle the changes a crash or a killed worker interrupted (the caller
-- holds the database's apply lock, so every running change is orphaned).
-- Settles at once what it can; returns the ones whose INVALID index must
-- be dropped first (then _apply_finish(log_id, false, ...)), and failed
-- attempts whose INVALID index is still there.
CREATE FUNCTION @extschema@._apply_recover()
RETURNS TABLE (log_id bigint, cleanup_ddl text)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  l @extschema@.change_log;
  creates boolean;
  idx record;
BEGIN
  FOR l IN SELECT * FROM @extschema@.change_log x WHERE x.outcome = 'running' ORDER BY x.id LOOP
    creates := @extschema@._creates_index(l.action, l.kind);
    IF l.kind = 'partition_table' THEN
      -- the swap committed: done; else remove what the attempt made
      IF @extschema@._partition_swapped(l.target, l.advice_id, l.action,
                                        CASE WHEN l.action = 'rollback' THEN l.object_name END) THEN
        PERFORM @extschema@._apply_finish(l.id, true, NULL, 'completed before an interruption');
      ELSE
        log_id := l.id;
        cleanup_ddl := @extschema@._apply_leftover(l.id);
        RETURN NEXT;
      END IF;
    ELSIF creates THEN
      SELECT * INTO idx FROM @extschema@._index_named(l.object_schema, l.object_name);
      IF FOUND AND idx.valid THEN
        PERFORM @extschema@._apply_finish(l.id, true, NULL, 'completed before an interruption');
      ELSIF FOUND THEN
        log_id := l.id;
        cleanup_ddl := @extschema@._apply_leftover(l.id);
        RETURN NEXT;
      ELSE
        PERFORM @extschema@._apply_finish(l.id, false, 'interrupted before the index was built', NULL);
      END IF;
    ELSIF l.kind IN ('create_statistics', 'set_table_storage') THEN
      -- one transaction: it committed or it did not
      IF @extschema@._storage_done(l) THEN
        PERFORM @extschema@._apply_finish(l.id, true, NULL, 'completed before an interruption');
      ELSE
        PERFORM @extschema@._apply_finish(l.id, false, 'interrupted before the change committed', NULL);
      END IF;
    ELSIF l.object_oid IS NULL OR NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = l.object_oid) THEN
      PERFORM @extschema@._apply_finish(l.id, true, NULL, 'completed before an interruption');
    ELSE
      PERFORM @extschema@._apply_finish(l.id, false, 'interrupted before the index was dropped', NULL);
    END IF;
  END LOOP;
  -- failed attempts whose INVALID index could not be dropped then (a lock
  -- held too long): try again, before the next attempt needs the name
  FOR l IN
    SELECT x.* FROM @extschema@.change_log x
     WHERE x.outcome = 'failed' AND @extschema@._creates_index(x.action, x.kind)
       AND EXISTS (SELECT 1 FROM @extschema@._index_named(x.object_schema, x.object_name) i
                    WHERE NOT i.valid AND i.indrelid = coalesce((x.target ->> 'relid')::oid, i.indrelid))
       AND NOT EXISTS (SELECT 1 FROM @extschema@.change_log y
                        WHERE y.id > x.id AND y.object_schema = x.object_schema
                          AND y.object_name = x.object_name)
  LOOP
    log_id := l.id;
    cleanup_ddl := format('DROP INDEX CONCURRENTLY %I.%I', l.object_schema, l.object_name);
    RETURN NEXT;
  END LOOP;
END
$f$;

-- The next approved change due now (its backoff over), in the
-- maintenance window; NULL if none.
CREATE FUNCTION @extschema@._apply_next_due()
RETURNS bigint
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT a.id FROM @extschema@.advice a
   WHERE a.status = 'approved' AND (a.next_attempt_at IS NULL OR a.next_attempt_at <= now())
     AND @extschema@._in_apply_window()
   ORDER BY a.next_attempt_at NULLS FIRST, a.decided_at, a.id
   LIMIT 1
$f$;

-- Work for an apply worker: an interrupted change, or one due now.
CREATE FUNCTION @extschema@._apply_pending()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT EXISTS (SELECT 1 FROM @extschema@.change_log l WHERE l.outcome = 'running')
      OR @extschema@._apply_next_due() IS NOT NULL
$f$;
