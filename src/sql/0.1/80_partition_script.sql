/*
 * The partition advisor, part 1: the migration of a table to the
 * partitioned table a partition_table recommendation specifies, and back.
 *
 * The script is generated from the structured target (relation OID, key
 * attribute number, method, interval or width, list values or modulus) and
 * the catalogs as they are when it is shown or run; names are quoted one
 * by one. It is the same list of steps that people read
 * (pipeopt.partition_script()) and that the apply worker runs
 * (CALL pipeopt._partition_run(id, action)):
 *
 *   prepare   the partitioned table <t>_pipeopt_new_<id> (LIKE the table,
 *             INCLUDING ALL: columns, defaults, constraints, indexes,
 *             identity), its partitions and a default one, the owner and
 *             the grants; a trigger on the table notes the key of every row
 *             written from now on (pipeopt.partition_changes)
 *   copy      one batch per partition, each in its own transaction; the
 *             table stays readable and writable
 *   swap      one short transaction under pipeopt.apply_lock_timeout: lock
 *             the table, copy again the batches written since their copy,
 *             hand the sequences over, rename the table to
 *             <t>_pipeopt_old_<id> (kept for rollback) and the new one to <t>
 *   maintain  pg_partman takes over creating partitions ahead when it is
 *             installed in the database; otherwise the plan says what to
 *             create and when
 * Rollback is the same in the other direction: the kept table is emptied,
 * refilled in batches from the partitioned one, swapped back under a short
 * lock, and the partitioned table dropped.
 */

-- The keys of rows written to a table while it is copied, per change: the
-- swap copies again every batch one of them falls in.
CREATE TABLE @extschema@.partition_changes (
  advice_id  bigint NOT NULL,
  key        text,
  truncated  boolean NOT NULL DEFAULT false
);
CREATE INDEX ON @extschema@.partition_changes (advice_id);
COMMENT ON TABLE @extschema@.partition_changes IS
  'Partition key values written to a table while pipeopt copies it into (or back from) a partitioned table';

-- Row trigger on the table being copied: TG_ARGV[0] the recommendation,
-- TG_ARGV[1] the key column's name. Runs as pipeopt's owner only to write
-- the key; it reads nothing else.
CREATE FUNCTION @extschema@._partition_mark()
RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO @extschema@.partition_changes (advice_id, truncated) VALUES (TG_ARGV[0]::bigint, true);
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO @extschema@.partition_changes (advice_id, key)
    VALUES (TG_ARGV[0]::bigint, to_jsonb(OLD) ->> TG_ARGV[1]);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO @extschema@.partition_changes (advice_id, key)
    VALUES (TG_ARGV[0]::bigint, to_jsonb(NEW) ->> TG_ARGV[1]);
  END IF;
  RETURN NULL;
END
$f$;

-- The names a migration uses, from the target and the catalogs as they
-- are: the table's schema, its name now and its original name (the
-- rollback finds the original table renamed), the key column and its
-- type, the names of the new, kept and (after rollback) dropped tables.
CREATE FUNCTION @extschema@._partition_names(target jsonb, id bigint, original name DEFAULT NULL)
RETURNS TABLE (schema name, current name, base name, key name, keytype text, new_name name,
               old_name name, owner name, key_not_null boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT n.nspname, c.relname, coalesce(original, c.relname), a.attname,
         format_type(a.atttypid, a.atttypmod),
         left(coalesce(original, c.relname), 40) || '_pipeopt_new_' || id,
         left(coalesce(original, c.relname), 40) || '_pipeopt_old_' || id,
         pg_get_userbyid(c.relowner), a.attnotnull
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = (target ->> 'attnum')::smallint
                       AND NOT a.attisdropped
   WHERE c.oid = (target ->> 'relid')::oid
$f$;

-- The partitions of a target, in order: name, bounds (range), value
-- (list) or remainder (hash); the default partition last (not for hash).
-- Time ranges run from the target's first bound in steps of its unit up
-- to pipeopt's premake of intervals past the data and past now, truncated
-- as date_trunc does in the session's time zone; names follow
-- pg_partman's (<table>_p2024_01 for a month), so it can take over.
CREATE FUNCTION @extschema@._partition_layout(target jsonb, base name)
RETURNS TABLE (ord integer, name text, lo text, hi text, list_value text, remainder integer,
               is_default boolean)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  method text := target ->> 'method';
  unit text := target ->> 'unit';
  premake integer := coalesce((target ->> 'premake')::integer, 4);
  step interval;
  fmt text;
  t timestamptz;
  stop timestamptz;
  w numeric;
  v numeric;
  vstop numeric;
  prefix text := left(base, 40) || '_p';
BEGIN
  ord := 0;
  IF method = 'range' AND unit IS NOT NULL THEN
    IF unit NOT IN ('day', 'week', 'month', 'year') THEN
      RAISE EXCEPTION 'unknown partition unit "%"', unit USING ERRCODE = 'invalid_parameter_value';
    END IF;
    step := ('1 ' || unit)::interval;
    fmt := CASE unit WHEN 'day' THEN 'YYYY_MM_DD' WHEN 'week' THEN 'IYYY"w"IW'
                     WHEN 'month' THEN 'YYYY_MM' ELSE 'YYYY' END;
    t := date_trunc(unit, (target ->> 'from')::timestamptz);
    stop := greatest(date_trunc(unit, (target ->> 'to')::timestamptz),
                     date_trunc(unit, now())) + premake * step;
    WHILE t < stop LOOP
      ord := ord + 1;
      name := prefix || to_char(t, fmt);
      lo := t::text;
      hi := (t + step)::text;
      is_default := false;
      RETURN NEXT;
      t := t + step;
    END LOOP;
  ELSIF method = 'range' THEN
    w := (target ->> 'width')::numeric;
    IF w IS NULL OR w <= 0 OR w <> trunc(w) THEN
      RAISE EXCEPTION 'the partition width must be a positive integer' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v := floor((target ->> 'from')::numeric / w) * w;
    vstop := (floor((target ->> 'to')::numeric / w) + premake) * w;
    WHILE v < vstop LOOP
      ord := ord + 1;
      name := prefix || v::text;
      lo := v::text;
      hi := (v + w)::text;
      is_default := false;
      RETURN NEXT;
      v := v + w;
    END LOOP;
  ELSIF method = 'list' THEN
    FOR list_value IN SELECT x FROM jsonb_array_elements_text(target -> 'values') x LOOP
      ord := ord + 1;
      name := prefix || ord;
      is_default := false;
      RETURN NEXT;
    END LOOP;
    list_value := NULL;
  ELSIF method = 'hash' THEN
    FOR r IN 0 .. (target ->> 'modulus')::integer - 1 LOOP
      ord := ord + 1;
      name := prefix || r;
      remainder := r;
      is_default := false;
      RETURN NEXT;
    END LOOP;
    RETURN;
  ELSE
    RAISE EXCEPTION 'unknown partitioning method "%"', method USING ERRCODE = 'invalid_parameter_value';
  END IF;
  ord := ord + 1;
  name := left(base, 40) || '_default';
  lo := NULL; hi := NULL; list_value := NULL; remainder := NULL;
  is_default := true;
  RETURN NEXT;
END
$f$;

-- Which rows of a partition (or of the default one) a batch copies, as a
-- condition on key (an SQL expression: the column, or a noted key cast to
-- the key's type). partitioned: the partitioned table, for hash.
CREATE FUNCTION @extschema@._partition_batch(target jsonb, key text, keytype text, partitioned text,
                                             lo text, hi text, list_value text, remainder integer,
                                             is_default boolean)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE
    WHEN target ->> 'method' = 'hash' THEN
      format('pg_catalog.satisfies_hash_partition(%L::pg_catalog.regclass, %s, %s, %s)',
             partitioned, (target ->> 'modulus')::integer, remainder, key)
    WHEN NOT is_default AND target ->> 'method' = 'range' THEN
      format('(%1$s >= %2$L::%4$s AND %1$s < %3$L::%4$s)', key, lo, hi, keytype)
    WHEN NOT is_default THEN
      format('%s = %L::%s', key, list_value, keytype)
    WHEN target ->> 'method' = 'range' THEN
      (SELECT format('(%1$s IS NULL OR %1$s < %2$L::%4$s OR %1$s >= %3$L::%4$s)', key,
                     (SELECT l.lo FROM @extschema@._partition_layout(target, 'x') l WHERE l.ord = 1),
                     (SELECT l.hi FROM @extschema@._partition_layout(target, 'x') l
                       WHERE NOT l.is_default ORDER BY l.ord DESC LIMIT 1), keytype))
    ELSE
      format('(%1$s IS NULL OR %1$s NOT IN (%2$s))', key,
             (SELECT string_agg(format('%L::%s', x, keytype), ', ')
                FROM jsonb_array_elements_text(target -> 'values') x))
  END
$f$;

-- The columns a copy writes (generated columns are computed again), as a
-- quoted list.
CREATE FUNCTION @extschema@._partition_columns(relid oid)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
    FROM pg_attribute a
   WHERE a.attrelid = relid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
$f$;

-- The sequences of a table's columns: identity (its own sequence, which
-- the copy's LIKE gives the new table afresh) and serial (a sequence the
-- column owns, which the new table's default keeps using).
CREATE FUNCTION @extschema@._partition_sequences(relid oid)
RETURNS TABLE (attname name, identity boolean, seq_schema name, seq_name name)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT a.attname, a.attidentity <> '', sn.nspname, s.relname
    FROM pg_depend d
    JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
   WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
     AND d.refobjid = relid AND d.deptype IN ('a', 'i')
   ORDER BY a.attnum
$f$;

-- The steps that copy src (the table rows come from) into dst (which takes
-- them) and swap the names, for action 'apply' or 'rollback'. Each step:
-- its phase, whether its transaction commits after it, a comment and the
-- statement. Returns no row when the target is gone.
CREATE FUNCTION @extschema@._partition_steps(target jsonb, id bigint, action text)
RETURNS TABLE (step integer, phase text, commit_after boolean, note text, sql text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  nm record;
  orig name;
  s text;            -- the table rows are copied from, qualified and quoted
  d text;            -- the table they are copied into
  cols text;
  layout record;
  pk text;
  dirty text;
  marks text;
  seq record;
  partman name;
  part_qualified text;
  unit_name text;
BEGIN
  IF action = 'rollback' THEN
    -- the original table was renamed; its change_log row names it
    SELECT l.state_before -> 'table' ->> 1 INTO orig FROM @extschema@.change_log l
     WHERE l.advice_id = id AND l.action = 'apply' AND l.outcome = 'succeeded'
     ORDER BY l.id DESC LIMIT 1;
    IF orig IS NULL THEN
      RETURN;
    END IF;
  END IF;
  SELECT * INTO nm FROM @extschema@._partition_names(target, id, orig);
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF action = 'apply' THEN
    s := format('%I.%I', nm.schema, nm.current);
    d := format('%I.%I', nm.schema, nm.new_name);
  ELSE
    s := format('%I.%I', nm.schema, nm.base);
    d := format('%I.%I', nm.schema, nm.current);
  END IF;
  cols := @extschema@._partition_columns((target ->> 'relid')::oid);
  pk := quote_ident(nm.key);
  marks := format('pipeopt_partition_%s', id);
  SELECT e.extnamespace::regnamespace::name INTO partman FROM pg_extension e WHERE e.extname = 'pg_partman';
  step := 0;
  commit_after := false;

  -- prepare ---------------------------------------------------------------
  phase := 'prepare';
  IF action = 'apply' THEN
    step := step + 1;
    note := format('the partitioned table, with the columns, defaults, constraints, indexes and identity of %s', s);
    sql := format('CREATE TABLE %s (LIKE %s INCLUDING ALL) PARTITION BY %s (%I)', d, s,
                  upper(target ->> 'method'), nm.key);
    RETURN NEXT;
    FOR layout IN SELECT * FROM @extschema@._partition_layout(target, nm.base) ORDER BY 1 LOOP
      step := step + 1;
      note := CASE WHEN layout.is_default THEN 'the default partition: rows outside every range or list'
                   ELSE 'partition ' || layout.ord END;
      sql := format('CREATE TABLE %I.%I PARTITION OF %s ', nm.schema, layout.name, d)
             || CASE WHEN layout.is_default THEN 'DEFAULT'
                     WHEN target ->> 'method' = 'range'
                       THEN format('FOR VALUES FROM (%L) TO (%L)', layout.lo, layout.hi)
                     WHEN target ->> 'method' = 'list' THEN format('FOR VALUES IN (%L)', layout.list_value)
                     ELSE format('FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                                 (target ->> 'modulus')::integer, layout.remainder) END;
      RETURN NEXT;
      step := step + 1;
      note := 'owned as the table is';
      sql := format('ALTER TABLE %I.%I OWNER TO %I', nm.schema, layout.name, nm.owner);
      RETURN NEXT;
    END LOOP;
    step := step + 1;
    note := 'owned as the table is';
    sql := format('ALTER TABLE %s OWNER TO %I', d, nm.owner);
    RETURN NEXT;
    FOR sql IN
      SELECT format('GRANT %s ON %s TO %s%s', g.privilege_type, d,
                    CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(g.grantee)) END,
                    CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
        FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) g
       WHERE c.oid = (target ->> 'relid')::oid AND g.grantee <> c.relowner
       ORDER BY g.grantee, g.privilege_type
    LOOP
      step := step + 1;
      note := 'the privileges of the table';
      RETURN NEXT;
    END LOOP;
  ELSE
    step := step + 1;
    note := 'empty the kept original table, to be filled again from the partitioned one';
    sql := format('TRUNCATE ONLY %s', d);
    RETURN NEXT;
  END IF;
  step := step + 1;
  note := 'note the key of every row written from now on, to copy its batch again at the swap';
  sql := format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW '
                'EXECUTE FUNCTION @extschema@._partition_mark(%L, %L)', marks, s, id, nm.key);
  RETURN NEXT;
  step := step + 1;
  sql := format('CREATE TRIGGER %I AFTER TRUNCATE ON %s FOR EACH STATEMENT '
                'EXECUTE FUNCTION @extschema@._partition_mark(%L, %L)', marks || '_truncate', s, id, nm.key);
  commit_after := true;
  RETURN NEXT;

  -- copy: one batch per partition -----------------------------------------
  phase := 'copy';
  FOR layout IN SELECT * FROM @extschema@._partition_layout(target, nm.base) ORDER BY 1 LOOP
    step := step + 1;
    note := format('batch %s: the rows of %s', layout.ord, layout.name);
    sql := format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s WHERE %s',
                  d, cols, cols, s,
                  @extschema@._partition_batch(target, pk, nm.keytype,
                                               CASE WHEN action = 'apply' THEN d ELSE s END,
                                               layout.lo, layout.hi, layout.list_value,
                                               layout.remainder, layout.is_default));
    RETURN NEXT;
  END LOOP;

  -- swap: one short transaction -------------------------------------------
  phase := 'swap';
  commit_after := false;
  step := step + 1;
  note := 'wait for the table''s lock no longer than pipeopt.apply_lock_timeout';
  sql := format('SELECT pg_catalog.set_config(''lock_timeout'', %L, true)',
                current_setting('pipeopt.apply_lock_timeout'));
  RETURN NEXT;
  step := step + 1;
  note := 'no writes from here to the commit';
  sql := format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', s);
  RETURN NEXT;
  FOR layout IN SELECT * FROM @extschema@._partition_layout(target, nm.base) ORDER BY 1 LOOP
    dirty := format('EXISTS (SELECT 1 FROM @extschema@.partition_changes m WHERE m.advice_id = %s '
                    'AND (m.truncated OR %s))', id,
                    @extschema@._partition_batch(target, format('m.key::%s', nm.keytype), nm.keytype,
                                                 CASE WHEN action = 'apply' THEN d ELSE s END,
                                                 layout.lo, layout.hi, layout.list_value,
                                                 layout.remainder, layout.is_default));
    step := step + 1;
    note := format('batch %s again if rows of it were written since it was copied', layout.ord);
    sql := format('DELETE FROM %s WHERE %s AND %s', d,
                  @extschema@._partition_batch(target, pk, nm.keytype,
                                               CASE WHEN action = 'apply' THEN d ELSE s END,
                                               layout.lo, layout.hi, layout.list_value,
                                               layout.remainder, layout.is_default), dirty);
    RETURN NEXT;
    step := step + 1;
    sql := format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s WHERE %s AND %s',
                  d, cols, cols, s,
                  @extschema@._partition_batch(target, pk, nm.keytype,
                                               CASE WHEN action = 'apply' THEN d ELSE s END,
                                               layout.lo, layout.hi, layout.list_value,
                                               layout.remainder, layout.is_default), dirty);
    RETURN NEXT;
  END LOOP;
  step := step + 1;
  note := 'stop noting writes';
  sql := format('DROP TRIGGER %I ON %s', marks, s);
  RETURN NEXT;
  step := step + 1;
  sql := format('DROP TRIGGER %I ON %s', marks || '_truncate', s);
  RETURN NEXT;
  step := step + 1;
  sql := format('DELETE FROM @extschema@.partition_changes WHERE advice_id = %s', id);
  RETURN NEXT;
  FOR seq IN SELECT * FROM @extschema@._partition_sequences((target ->> 'relid')::oid) LOOP
    step := step + 1;
    IF seq.identity AND action = 'apply' THEN
      note := format('the new identity sequence of %I goes on from the table''s', seq.attname);
      sql := format('SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(%L, %L), s.last_value, s.is_called) '
                    'FROM %I.%I s', d, quote_ident(seq.attname), seq.seq_schema, seq.seq_name);
    ELSIF seq.identity THEN
      note := format('the table''s identity sequence of %I goes on from the partitioned table''s', seq.attname);
      sql := format('SELECT pg_catalog.setval(%L::pg_catalog.regclass, pg_catalog.pg_sequence_last_value('
                    'pg_catalog.pg_get_serial_sequence(%L, %L)::pg_catalog.regclass), true) '
                    'WHERE pg_catalog.pg_sequence_last_value(pg_catalog.pg_get_serial_sequence(%L, %L)::pg_catalog.regclass) IS NOT NULL',
                    format('%I.%I', seq.seq_schema, seq.seq_name), s, quote_ident(seq.attname),
                    s, quote_ident(seq.attname));
    ELSE
      note := format('the sequence of %I belongs to the table that uses it', seq.attname);
      sql := format('ALTER SEQUENCE %I.%I OWNED BY %s.%I', seq.seq_schema, seq.seq_name,
                    d, seq.attname);
    END IF;
    RETURN NEXT;
  END LOOP;
  IF action = 'apply' THEN
    step := step + 1;
    note := 'keep the original table, renamed, for rollback';
    sql := format('ALTER TABLE %s RENAME TO %I', s, nm.old_name);
    RETURN NEXT;
    step := step + 1;
    note := 'the partitioned table takes its name';
    sql := format('ALTER TABLE %s RENAME TO %I', d, nm.base);
    commit_after := true;
    RETURN NEXT;
  ELSE
    step := step + 1;
    note := 'the partitioned table steps aside';
    sql := format('ALTER TABLE %s RENAME TO %I', s, nm.new_name);
    RETURN NEXT;
    step := step + 1;
    note := 'the original table takes its name back';
    sql := format('ALTER TABLE %s RENAME TO %I', d, nm.base);
    RETURN NEXT;
    IF partman IS NOT NULL THEN
      step := step + 1;
      note := 'pg_partman no longer maintains it';
      sql := format('DELETE FROM %I.part_config WHERE parent_table = %L', partman,
                    format('%I.%I', nm.schema, nm.base));
      RETURN NEXT;
    END IF;
    step := step + 1;
    note := 'the partitioned table and its partitions (their rows are back in the original table)';
    sql := format('DROP TABLE %I.%I', nm.schema, nm.new_name);
    commit_after := true;
    RETURN NEXT;
    RETURN;
  END IF;

  -- after -----------------------------------------------------------------
  phase := 'after';
  commit_after := false;
  step := step + 1;
  note := 'statistics for the planner';
  sql := format('ANALYZE %I.%I', nm.schema, nm.base);
  RETURN NEXT;

  -- maintain --------------------------------------------------------------
  phase := 'maintain';
  part_qualified := format('%I.%I', nm.schema, nm.base);
  IF partman IS NOT NULL AND target ->> 'method' = 'range' AND nm.key_not_null THEN
    -- pg_partman creates <table>_default itself: ours steps aside and its
    -- rows are routed again once pg_partman has made its partitions
    commit_after := false;
    step := step + 1;
    note := 'pg_partman creates its own default partition: set ours aside';
    sql := format('ALTER TABLE %s DETACH PARTITION %I.%I', part_qualified, nm.schema, left(nm.base, 40) || '_default');
    RETURN NEXT;
    step := step + 1;
    sql := format('ALTER TABLE %I.%I RENAME TO %I', nm.schema, left(nm.base, 40) || '_default',
                  left(nm.base, 40) || '_default_pipeopt_' || id);
    RETURN NEXT;
    step := step + 1;
    note := 'pg_partman creates partitions ahead from now on (its run_maintenance)';
    unit_name := coalesce('1 ' || (target ->> 'unit'), target ->> 'width');
    sql := format('SELECT %I.create_parent(p_parent_table := %L, p_control := %L, p_type := ''native'', '
                  'p_interval := %L, p_premake := %s, p_start_partition := %L)',
                  partman, part_qualified, nm.key, unit_name, coalesce((target ->> 'premake')::integer, 4),
                  (SELECT l.lo FROM @extschema@._partition_layout(target, nm.base) l WHERE l.ord = 1));
    RETURN NEXT;
    step := step + 1;
    note := 'the rows of the old default partition, routed again';
    sql := format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %I.%I', part_qualified, cols, cols,
                  nm.schema, left(nm.base, 40) || '_default_pipeopt_' || id);
    RETURN NEXT;
    step := step + 1;
    sql := format('DROP TABLE %I.%I', nm.schema, left(nm.base, 40) || '_default_pipeopt_' || id);
    commit_after := true;
    RETURN NEXT;
  ELSIF target ->> 'method' = 'range' THEN
    -- the plan: shown, never run by pipeopt
    phase := 'plan';
    commit_after := false;
    SELECT * INTO layout FROM @extschema@._partition_layout(target, nm.base) l
     WHERE NOT l.is_default ORDER BY l.ord DESC LIMIT 1;
    step := step + 1;
    note := format('without pg_partman (CREATE EXTENSION pg_partman; Debian postgresql-15-partman): before %s, '
                   'and every %s after, create the next partition, on a schedule (cron, pg_cron); '
                   'rows beyond the last partition land in the default partition, which then has to be '
                   'split before a partition covering them can be created',
                   layout.hi, coalesce(target ->> 'unit', 'width of ' || (target ->> 'width')));
    sql := format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', nm.schema,
                  left(nm.base, 40) || '_p_next', part_qualified, layout.hi,
                  CASE WHEN target ? 'unit'
                       THEN ((layout.hi::timestamptz) + ('1 ' || (target ->> 'unit'))::interval)::text
                       ELSE (layout.hi::numeric + (target ->> 'width')::numeric)::text END);
    RETURN NEXT;
  END IF;
  phase := 'plan';
  commit_after := false;
  step := step + 1;
  note := 'once the partitioned table has served long enough that no rollback is wanted: drop the original table';
  sql := format('DROP TABLE %I.%I', nm.schema, nm.old_name);
  RETURN NEXT;
END
$f$;

-- The migration as people read it: each step's comment and statement, in
-- order, with the phases as headings and the transactions marked. NULL
-- when the target is gone.
CREATE FUNCTION @extschema@._partition_script(target jsonb, id bigint, action text DEFAULT 'apply')
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT string_agg(
           CASE WHEN s.phase IS DISTINCT FROM s.prev_phase
                THEN E'\n-- == ' || s.phase || E' ==\n' ELSE '' END
           || CASE WHEN s.note IS DISTINCT FROM s.prev_note THEN '-- ' || s.note || E'\n' ELSE '' END
           || CASE WHEN s.phase = 'plan' THEN '-- ' ELSE '' END || s.sql || ';'
           || CASE WHEN s.commit_after THEN E'\nCOMMIT;' ELSE '' END,
           E'\n' ORDER BY s.step)
    FROM (SELECT x.*, lag(x.phase) OVER (ORDER BY x.step) AS prev_phase,
                 lag(x.note) OVER (ORDER BY x.step) AS prev_note
            FROM @extschema@._partition_steps(target, id, action) x) s
$f$;

-- Has the swap of a change committed? For 'apply': the table (its OID)
-- carries the kept name; for 'rollback': it carries its own name again.
CREATE FUNCTION @extschema@._partition_swapped(target jsonb, id bigint, action text, original name)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN action = 'apply' THEN n.current = n.old_name ELSE n.current = n.base END
    FROM @extschema@._partition_names(target, id, original) n
$f$;

