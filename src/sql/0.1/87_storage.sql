/*
 * The storage and statistics advisor, part 1: its kinds of recommendation
 * in the common store and lifecycle (87_storage_advise.sql is the advisor).
 *
 *   create_index (method brin)  a BRIN index instead of a B-tree; a
 *                               create_index like the index advisor's, so
 *                               it is built, cleaned up after a failure
 *                               and rolled back the same way
 *   create_statistics           CREATE STATISTICS (ndistinct, dependencies,
 *                               mcv) on columns filtered together, then
 *                               ANALYZE of those columns, in one
 *                               transaction; rollback drops the object
 *   set_table_storage           ALTER TABLE ... SET (autovacuum_...); the
 *                               previous values are kept for rollback
 *   create_materialized_view    advisory only: pipeopt never runs it
 *
 * As for indexes, the DDL is generated when shown or claimed, from the
 * structured target and the catalogs as they are then; option names come
 * from the list below, values are cast to numbers or booleans first.
 */

-- The reloptions set_table_storage may set, and the type of each value.
CREATE FUNCTION @extschema@._storage_options()
RETURNS TABLE (name text, type text)
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  VALUES ('autovacuum_enabled', 'boolean'),
         ('autovacuum_vacuum_scale_factor', 'numeric'),
         ('autovacuum_vacuum_threshold', 'integer'),
         ('autovacuum_vacuum_insert_scale_factor', 'numeric'),
         ('autovacuum_analyze_scale_factor', 'numeric'),
         ('autovacuum_vacuum_cost_limit', 'integer'),
         ('autovacuum_vacuum_cost_delay', 'numeric')
$f$;

-- "name = value, ..." for the options of a jsonb object: names from the
-- list above only, values cast to their type (NULL if anything is amiss).
CREATE FUNCTION @extschema@._storage_option_list(options jsonb)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN count(*) = count(o.name) AND count(*) > 0
              THEN string_agg(format('%s = %s', o.name,
                                     CASE o.type WHEN 'boolean' THEN (e.value #>> '{}')::boolean::text
                                                 WHEN 'integer' THEN (e.value #>> '{}')::integer::text
                                                 ELSE (e.value #>> '{}')::numeric::text END),
                              ', ' ORDER BY e.key) END
    FROM jsonb_each(options) e
    LEFT JOIN @extschema@._storage_options() o ON o.name = e.key
   WHERE e.value <> 'null'
$f$;

-- The current values of some reloptions of a table: {name: text or null}.
CREATE FUNCTION @extschema@._storage_current(relid oid, names text[])
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT jsonb_object_agg(k.name, o.option_value ORDER BY k.name)
    FROM unnest(names) k(name)
    LEFT JOIN pg_class c ON c.oid = relid
    LEFT JOIN LATERAL pg_options_to_table(c.reloptions) o ON o.option_name = k.name
$f$;

-- Options to SET (non-null values) and RESET (nulls) as one ALTER TABLE.
CREATE FUNCTION @extschema@._storage_alter_table(relid oid, options jsonb)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT format('ALTER TABLE %I.%I %s', n.nspname, c.relname,
                concat_ws(', ',
                  'SET (' || @extschema@._storage_option_list(
                               (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(options) e
                                 WHERE e.value <> 'null')) || ')',
                  'RESET (' || (SELECT string_agg(o.name, ', ' ORDER BY o.name)
                                  FROM jsonb_each(options) e
                                  JOIN @extschema@._storage_options() o ON o.name = e.key
                                 WHERE e.value = 'null') || ')'))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE c.oid = relid AND c.relkind = 'r'
     -- every name is one pipeopt knows
     AND NOT EXISTS (SELECT 1 FROM jsonb_object_keys(options) k
                      WHERE k NOT IN (SELECT o.name FROM @extschema@._storage_options() o))
$f$;

-- The statistics object named schema.name on table relid, if any.
CREATE FUNCTION @extschema@._statistics_named(schema name, name name)
RETURNS TABLE (oid oid, relid oid)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT s.oid, s.stxrelid FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace
   WHERE n.nspname = schema AND s.stxname = name
$f$;

-- The name of a materialized view pipeopt proposes.
CREATE FUNCTION @extschema@._view_name(target jsonb, id bigint)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT left(c.relname, 40) || '_summary_pipeopt_' || id
    FROM pg_class c WHERE c.oid = (target ->> 'relid')::oid
$f$;

-- The DDL of a storage recommendation (the create_index branch of
-- _advice_ddl builds BRIN indexes); NULL when the target is gone.
CREATE FUNCTION @extschema@._storage_ddl(kind text, target jsonb, id bigint)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE kind
    WHEN 'create_statistics' THEN (
      -- the object belongs to the table's owner, as an index would
      SELECT format(E'CREATE STATISTICS %I.%I (%s) ON %s FROM %I.%I;\nALTER STATISTICS %I.%I OWNER TO %I;\nANALYZE %I.%I (%s)',
                    n.nspname, @extschema@._advice_index_name(target, id), k.kinds, k.cols, n.nspname, c.relname,
                    n.nspname, @extschema@._advice_index_name(target, id), r.rolname,
                    n.nspname, c.relname, k.cols)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_roles r ON r.oid = c.relowner
       CROSS JOIN LATERAL (
         SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY x.ord) AS cols,
                count(a.attname) = count(*) AND count(*) >= 2 AS complete,
                (SELECT string_agg(s, ', ' ORDER BY s)
                   FROM jsonb_array_elements_text(target -> 'kinds') s
                  WHERE s IN ('ndistinct', 'dependencies', 'mcv')) AS kinds
           FROM jsonb_array_elements_text(target -> 'attnums') WITH ORDINALITY x(att, ord)
           LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.att::smallint
                                   AND NOT a.attisdropped) k
       WHERE c.oid = (target ->> 'relid')::oid AND c.relkind = 'r' AND k.complete AND k.kinds IS NOT NULL)
    WHEN 'set_table_storage' THEN
      @extschema@._storage_alter_table((target ->> 'relid')::oid, target -> 'options')
    WHEN 'create_materialized_view' THEN (
      -- advisory: shown, never run (see set_automation)
      SELECT format(E'CREATE MATERIALIZED VIEW %I.%I (%s) AS\n%s;\n%s%s',
                    n.nspname, @extschema@._view_name(target, id),
                    (SELECT string_agg(quote_ident(x), ', ' ORDER BY o)
                       FROM jsonb_array_elements_text(target -> 'columns') WITH ORDINALITY e(x, o)),
                    rtrim(target ->> 'definition', E'; \n'),
                    CASE WHEN jsonb_array_length(target -> 'unique_columns') > 0
                         THEN format(E'CREATE UNIQUE INDEX ON %I.%I (%s);\n', n.nspname,
                                     @extschema@._view_name(target, id),
                                     (SELECT string_agg(quote_ident(x), ', ' ORDER BY o)
                                        FROM jsonb_array_elements_text(target -> 'unique_columns')
                                             WITH ORDINALITY e(x, o)))
                         ELSE '' END,
                    format(E'-- refresh every %s minutes (pg_cron, or the job that loads the tables):\nREFRESH MATERIALIZED VIEW %s%I.%I;',
                           target ->> 'refresh_minutes',
                           CASE WHEN jsonb_array_length(target -> 'unique_columns') > 0
                                THEN 'CONCURRENTLY ' ELSE '' END,
                           n.nspname, @extschema@._view_name(target, id)))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid = (target ->> 'relid')::oid
         AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements_text(target -> 'relids') r
                          WHERE NOT EXISTS (SELECT 1 FROM pg_class t WHERE t.oid = r::oid)))
  END
$f$;

-- What an approval of a storage recommendation is bound to; NULL when the
-- target is gone.
CREATE FUNCTION @extschema@._storage_state(kind text, target jsonb)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE kind
    WHEN 'create_statistics' THEN (
      SELECT jsonb_build_object(
               'table', jsonb_build_array(n.nspname, c.relname),
               'owner', (SELECT r.rolname FROM pg_roles r WHERE r.oid = c.relowner),
               'columns', (SELECT jsonb_agg(jsonb_build_array(a.attname, format_type(a.atttypid, a.atttypmod))
                                            ORDER BY x.ord)
                             FROM jsonb_array_elements_text(target -> 'attnums') WITH ORDINALITY x(att, ord)
                             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = x.att::smallint
                                                AND NOT a.attisdropped))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid = (target ->> 'relid')::oid AND c.relkind = 'r')
    WHEN 'set_table_storage' THEN (
      SELECT jsonb_build_object(
               'table', jsonb_build_array(n.nspname, c.relname),
               'options', @extschema@._storage_current(c.oid,
                            ARRAY(SELECT jsonb_object_keys(target -> 'options'))))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid = (target ->> 'relid')::oid AND c.relkind = 'r')
    WHEN 'create_materialized_view' THEN (
      SELECT jsonb_build_object('tables', jsonb_agg(jsonb_build_array(n.nspname, c.relname) ORDER BY c.oid))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid IN (SELECT r::oid FROM jsonb_array_elements_text(target -> 'relids') r)
      HAVING count(*) = jsonb_array_length(target -> 'relids'))
  END
$f$;

-- Claim (apply): the DDL, the object it creates, and the inverse, or
-- {"ok": false, "reason": ...}. Called by _apply_claim under the row lock.
CREATE FUNCTION @extschema@._storage_claim(a @extschema@.advice, state jsonb)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  schema name := state -> 'table' ->> 0;
  name name;
BEGIN
  IF a.kind = 'create_statistics' THEN
    name := @extschema@._advice_index_name(a.target, a.id);
    IF EXISTS (SELECT 1 FROM @extschema@._statistics_named(schema, name)) THEN
      RETURN jsonb_build_object('ok', false,
                                'reason', format('a statistics object named %I.%I exists already', schema, name));
    END IF;
    RETURN jsonb_build_object('ok', true, 'ddl', @extschema@._advice_ddl(a.kind, a.target, a.id),
                              'schema', schema, 'name', name,
                              'inverse', jsonb_build_object('action', 'drop_statistics',
                                                            'schema', schema, 'name', name));
  ELSIF a.kind = 'set_table_storage' THEN
    RETURN jsonb_build_object('ok', true, 'ddl', @extschema@._advice_ddl(a.kind, a.target, a.id),
                              'schema', schema, 'name', state -> 'table' ->> 1,
                              'inverse', jsonb_build_object('action', 'set_table_storage',
                                                            'relid', a.relid,
                                                            'options', state -> 'options'));
  END IF;
  RETURN jsonb_build_object('ok', false,
                            'reason', format('recommendations of kind %s are advisory: pipeopt does not apply them', a.kind));
END
$f$;

-- Claim (rollback): the DDL that undoes an applied storage change, and
-- the inverse of that; {"ok": false, ...} when it cannot be undone.
CREATE FUNCTION @extschema@._storage_undo(applied @extschema@.change_log)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  inv jsonb := applied.inverse;
  stat_oid oid := (inv ->> 'oid')::oid;
BEGIN
  IF inv ->> 'action' = 'drop_statistics' THEN
    -- the object the change created: the same OID under the same name
    IF NOT EXISTS (SELECT 1 FROM @extschema@._statistics_named(inv ->> 'schema', inv ->> 'name') s
                    WHERE s.oid = stat_oid) THEN
      IF EXISTS (SELECT 1 FROM pg_statistic_ext s WHERE s.oid = stat_oid)
         OR EXISTS (SELECT 1 FROM @extschema@._statistics_named(inv ->> 'schema', inv ->> 'name')) THEN
        RETURN jsonb_build_object('ok', false,
                                  'reason', format('statistics object %I.%I is no longer the one pipeopt created (OID %s); roll back by hand',
                                                   inv ->> 'schema', inv ->> 'name', stat_oid));
      END IF;
      RETURN jsonb_build_object('ok', true, 'ddl', NULL, 'schema', inv ->> 'schema', 'name', inv ->> 'name',
                                'inverse', jsonb_build_object('action', 'create_statistics'));
    END IF;
    RETURN jsonb_build_object('ok', true,
                              'ddl', format('DROP STATISTICS %I.%I', inv ->> 'schema', inv ->> 'name'),
                              'schema', inv ->> 'schema', 'name', inv ->> 'name',
                              'inverse', jsonb_build_object('action', 'create_statistics'));
  END IF;
  -- set_table_storage: the previous values back (RESET those that had none)
  IF @extschema@._storage_alter_table((inv ->> 'relid')::oid, inv -> 'options') IS NULL THEN
    RETURN jsonb_build_object('ok', false, 'reason', 'the table is gone');
  END IF;
  RETURN jsonb_build_object('ok', true,
                            'ddl', @extschema@._storage_alter_table((inv ->> 'relid')::oid, inv -> 'options'),
                            'schema', applied.object_schema, 'name', applied.object_name,
                            'inverse', jsonb_build_object('action', 'set_table_storage',
                                                          'relid', inv ->> 'relid',
                                                          'options', @extschema@._storage_current(
                                                            (inv ->> 'relid')::oid,
                                                            ARRAY(SELECT jsonb_object_keys(inv -> 'options')))));
END
$f$;

-- Whether a claimed storage change took effect (its one transaction
-- committed): the statistics object exists (or is gone, for a rollback),
-- the table's options are those set.
CREATE FUNCTION @extschema@._storage_done(l @extschema@.change_log)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE
    WHEN l.kind = 'create_statistics' THEN
      EXISTS (SELECT 1 FROM @extschema@._statistics_named(l.object_schema, l.object_name))
        = (l.action = 'apply')
    WHEN l.kind = 'set_table_storage' THEN (
      SELECT @extschema@._storage_current(o.relid, ARRAY(SELECT jsonb_object_keys(o.options)))
             = (SELECT jsonb_object_agg(e.key, CASE WHEN e.value = 'null' THEN NULL ELSE e.value #>> '{}' END)
                  FROM jsonb_each(o.options) e)
        FROM (SELECT (l.target ->> 'relid')::oid AS relid,
                     CASE l.action WHEN 'apply' THEN l.target -> 'options' ELSE l.inverse -> 'options' END
                       AS options) o)
  END
$f$;

-- After a storage change succeeded: the object it created (to drop only
-- that one on rollback) and the state it left.
CREATE FUNCTION @extschema@._storage_finished(l @extschema@.change_log,
                                              OUT object_oid oid, OUT state_after jsonb, OUT inverse jsonb)
RETURNS record
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  inverse := l.inverse;
  IF l.kind = 'create_statistics' AND l.action = 'apply' THEN
    SELECT s.oid INTO object_oid FROM @extschema@._statistics_named(l.object_schema, l.object_name) s;
    state_after := jsonb_build_object('statistics', pg_get_statisticsobjdef(object_oid));
    inverse := inverse || jsonb_build_object('oid', object_oid);
  ELSIF l.kind = 'create_statistics' THEN
    state_after := jsonb_build_object('statistics', NULL);
  ELSE
    state_after := jsonb_build_object('options',
                     @extschema@._storage_current((l.target ->> 'relid')::oid,
                                                  ARRAY(SELECT jsonb_object_keys(l.target -> 'options'))));
  END IF;
END
$f$;

-- Storage advice for people: what to create or set, the statement(s) it
-- would run (or, for a materialized view, the script to run by hand), and
-- the measurements behind it.
CREATE VIEW @extschema@.storage_advice AS
SELECT a.id, a.kind, a.status,
       CASE WHEN c.oid IS NOT NULL THEN format('%I.%I', n.nspname, c.relname) END AS relation,
       @extschema@._advice_ddl(a.kind, a.target, a.id) AS statement,
       a.estimated_bytes,
       round(a.saving_ms_per_hour::numeric, 1) AS saving_ms_per_hour,
       a.confidence, a.risk, a.reason, a.evidence, a.status_reason, a.created_at, a.updated_at
  FROM @extschema@.advice a
  LEFT JOIN pg_catalog.pg_class c ON c.oid = a.relid
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE a.kind IN ('create_statistics', 'set_table_storage', 'create_materialized_view')
    OR (a.kind = 'create_index' AND a.target ->> 'method' = 'brin');
COMMENT ON VIEW @extschema@.storage_advice IS
  'BRIN indexes, extended statistics, autovacuum settings and materialized views to create or set, with the statement each would run and its evidence';
