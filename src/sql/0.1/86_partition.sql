/*
 * The partition advisor, part 2: the procedures the apply worker calls to
 * run a migration (80_partition_script.sql generates its steps), and the
 * advisor: which large table to partition, on which column, how, and what
 * it saves (87_partition_advice.sql: retention, storing, reading).
 */

-- ---------------------------------------------------------------------
-- Run by the apply worker as top-level statements (CALL), so that each
-- batch commits: a procedure with a SET clause could not, so these check
-- instead that they run with the worker's search_path; every name in them
-- is qualified. EXECUTE is revoked from PUBLIC.
-- ---------------------------------------------------------------------
CREATE PROCEDURE @extschema@._partition_run(id bigint, action text)
LANGUAGE plpgsql
AS $p$
DECLARE
  a @extschema@.advice;
  st record;
  late text[] := '{}';
  q text;
BEGIN
  IF pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.<>) 'pg_catalog, pg_temp' THEN
    RAISE EXCEPTION 'pipeopt._partition_run must run with search_path = pg_catalog, pg_temp'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'The apply worker runs it; call pipeopt.apply_now() or pipeopt.rollback() instead.';
  END IF;
  SELECT * INTO a FROM @extschema@.advice x WHERE x.id OPERATOR(pg_catalog.=) _partition_run.id;
  IF NOT FOUND OR a.kind OPERATOR(pg_catalog.<>) 'partition_table' THEN
    RAISE EXCEPTION 'recommendation % is not a partitioning', id USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR st IN SELECT * FROM @extschema@._partition_steps(a.target, a.id, action) s
             WHERE s.phase OPERATOR(pg_catalog.<>) 'plan' ORDER BY s.step LOOP
    IF st.phase OPERATOR(pg_catalog.=) ANY ('{after,maintain}'::text[]) THEN
      late := late OPERATOR(pg_catalog.||) st.sql;
      CONTINUE;
    END IF;
    EXECUTE st.sql;
    IF st.commit_after THEN
      COMMIT;
    END IF;
  END LOOP;
  -- the table is partitioned now: statistics and pg_partman are extras,
  -- whose failure is noted, not a failure of the change
  IF pg_catalog.cardinality(late) OPERATOR(pg_catalog.>) 0 THEN
    BEGIN
      FOREACH q IN ARRAY late LOOP
        EXECUTE q;
      END LOOP;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS q = MESSAGE_TEXT;
      RAISE WARNING 'pipeopt partitioned the table of recommendation %, but its maintenance set-up failed: %', id, q;
      UPDATE @extschema@.change_log l SET error = 'maintenance set-up failed: ' OPERATOR(pg_catalog.||) q
       WHERE l.advice_id OPERATOR(pg_catalog.=) _partition_run.id AND l.outcome OPERATOR(pg_catalog.=) 'running';
    END;
    COMMIT;
  END IF;
END
$p$;

-- Why the apply worker may not start a migration now (NULL: it may), for
-- _apply_claim(): applying needs no blocker (_partition_blockers) and free
-- names for every table it creates or renames to; rolling back needs the
-- kept original table and the partitioned one under their names.
CREATE FUNCTION @extschema@._partition_claim(a @extschema@.advice,
                                             applied @extschema@.change_log DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  nm record;
  blockers text[];
  taken text;
BEGIN
  IF applied.id IS NULL THEN
    blockers := @extschema@._partition_blockers(a.relid, (a.target ->> 'attnum')::smallint);
    IF cardinality(blockers) > 0 THEN
      RETURN 'pipeopt would not migrate it itself: ' || array_to_string(blockers, '; ');
    END IF;
    SELECT * INTO nm FROM @extschema@._partition_names(a.target, a.id);
    SELECT x INTO taken
      FROM unnest(ARRAY[nm.new_name, nm.old_name, left(nm.base, 40) || '_default_pipeopt_' || a.id]
                  || ARRAY(SELECT l.name FROM @extschema@._partition_layout(a.target, nm.base) l)) x
     WHERE @extschema@._relation_exists(nm.schema, x)
     LIMIT 1;
    IF taken IS NOT NULL THEN
      RETURN format('a relation named %I.%I exists already', nm.schema, taken);
    END IF;
    RETURN NULL;
  END IF;
  SELECT * INTO nm FROM @extschema@._partition_names(a.target, a.id, applied.state_before -> 'table' ->> 1);
  IF NOT FOUND OR nm.current <> nm.old_name THEN
    RETURN 'the original table is no longer kept under the name the migration gave it; roll back by hand';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = nm.schema AND c.relname = nm.base AND c.relkind = 'p') THEN
    RETURN format('there is no partitioned table %I.%I to roll back from', nm.schema, nm.base);
  END IF;
  IF @extschema@._relation_exists(nm.schema, nm.new_name) THEN
    RETURN format('a relation named %I.%I exists already', nm.schema, nm.new_name);
  END IF;
  RETURN NULL;
END
$f$;

-- After a failed or interrupted migration whose swap did not commit:
-- remove what it made (the triggers, the noted keys, the table it was
-- filling), which pipeopt can tell is its own: the names were free when
-- the change was claimed. The table being copied is left as it was.
CREATE PROCEDURE @extschema@._partition_abort(id bigint, action text)
LANGUAGE plpgsql
AS $p$
DECLARE
  a @extschema@.advice;
  orig name;
  nm record;
  src text;
BEGIN
  IF pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.<>) 'pg_catalog, pg_temp' THEN
    RAISE EXCEPTION 'pipeopt._partition_abort must run with search_path = pg_catalog, pg_temp'
      USING ERRCODE = 'insufficient_privilege',
            HINT = 'The apply worker runs it after a failed change.';
  END IF;
  SELECT * INTO a FROM @extschema@.advice x WHERE x.id OPERATOR(pg_catalog.=) _partition_abort.id;
  IF action OPERATOR(pg_catalog.=) 'rollback' THEN
    SELECT l.state_before -> 'table' ->> 1 INTO orig FROM @extschema@.change_log l
     WHERE l.advice_id OPERATOR(pg_catalog.=) a.id AND l.action OPERATOR(pg_catalog.=) 'apply'
       AND l.outcome OPERATOR(pg_catalog.=) 'succeeded'
     ORDER BY l.id DESC LIMIT 1;
  END IF;
  SELECT * INTO nm FROM @extschema@._partition_names(a.target, a.id, orig);
  IF NOT FOUND OR @extschema@._partition_swapped(a.target, a.id, action, orig) THEN
    RETURN;
  END IF;
  src := CASE WHEN action OPERATOR(pg_catalog.=) 'apply'
              THEN pg_catalog.format('%I.%I', nm.schema, nm.current)
              ELSE pg_catalog.format('%I.%I', nm.schema, nm.base) END;
  EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', 'pipeopt_partition_' OPERATOR(pg_catalog.||) id, src);
  EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s',
                            'pipeopt_partition_' OPERATOR(pg_catalog.||) id OPERATOR(pg_catalog.||) '_truncate', src);
  DELETE FROM @extschema@.partition_changes c WHERE c.advice_id OPERATOR(pg_catalog.=) a.id;
  IF action OPERATOR(pg_catalog.=) 'apply' AND EXISTS (
       SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
        WHERE n.nspname OPERATOR(pg_catalog.=) nm.schema AND c.relname OPERATOR(pg_catalog.=) nm.new_name
          AND c.relkind OPERATOR(pg_catalog.=) 'p') THEN
    EXECUTE pg_catalog.format('DROP TABLE %I.%I', nm.schema, nm.new_name);
  END IF;
  -- a rollback leaves the kept table emptied or half filled: the next
  -- rollback empties it again; the partitioned table is still the live one
END
$p$;

-- ---------------------------------------------------------------------
-- The advisor
-- ---------------------------------------------------------------------

CREATE FUNCTION @extschema@._partition_quals(query text, userid oid, samples jsonb,
  OUT sample integer, OUT relid oid, OUT attnum smallint, OUT clause integer, OUT op text,
  OUT value text, OUT valtype oid, OUT error text)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pipeopt_partition_quals'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@._partition_quals(text, oid, jsonb) IS
  'The tables a statement scans and the conditions on their columns that partition pruning could use, with their values per parameter sample, analyzed as the role that ran it';

-- Where x falls in a histogram of equal-frequency buckets (bounds h,
-- sorted): the share of rows below x, interpolated inside its bucket.
CREATE FUNCTION @extschema@._hist_cdf(h double precision[], x double precision)
RETURNS double precision
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE
    WHEN x IS NULL OR cardinality(h) < 2 THEN NULL
    WHEN x <= h[1] THEN 0
    WHEN x >= h[cardinality(h)] THEN 1
    ELSE (SELECT ((k - 1) + CASE WHEN h[k + 1] > h[k] THEN (x - h[k]) / (h[k + 1] - h[k]) ELSE 0 END)
                 / (cardinality(h) - 1)
            FROM generate_series(1, cardinality(h) - 1) k
           WHERE h[k] <= x AND x < h[k + 1]
           ORDER BY k LIMIT 1)
  END
$f$;

-- A key value as a position on a line: seconds since the epoch for times,
-- the number for integers; NULL for a value of another kind.
CREATE FUNCTION @extschema@._partition_position(value text, valtype oid)
RETURNS double precision
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE
    WHEN valtype IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
      THEN extract(epoch FROM value::timestamptz)::double precision
    WHEN valtype IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype, 'numeric'::regtype)
      THEN value::double precision
  END
$f$;

-- Why pipeopt may not run the migration of a table itself (NULL: it may):
-- too large to rewrite online, a key constraints cannot take, or objects
-- that would stay with the original table (LIKE copies columns,
-- constraints and indexes, not these).
CREATE FUNCTION @extschema@._partition_blockers(relid oid, attnum smallint)
RETURNS text[]
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT array_remove(ARRAY[
    CASE WHEN pg_table_size(relid) >= pg_size_bytes(current_setting('pipeopt.max_online_rewrite_size'))
         THEN format('the table (%s) is not smaller than pipeopt.max_online_rewrite_size (%s)',
                     pg_size_pretty(pg_table_size(relid)), current_setting('pipeopt.max_online_rewrite_size')) END,
    (SELECT format('%s %s does not include the partition key: widen it to (%s), which then no longer enforces (%s) alone',
                   CASE k.contype WHEN 'p' THEN 'primary key'
                   WHEN 'u' THEN 'unique constraint' ELSE 'exclusion constraint' END, quote_ident(k.conname),
                   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.o)
                      FROM unnest(k.conkey || attnum) WITH ORDINALITY u(att, o)
                      JOIN pg_attribute a ON a.attrelid = relid AND a.attnum = u.att),
                   (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY u.o)
                      FROM unnest(k.conkey) WITH ORDINALITY u(att, o)
                      JOIN pg_attribute a ON a.attrelid = relid AND a.attnum = u.att))
       FROM pg_constraint k WHERE k.conrelid = relid AND k.contype IN ('p', 'u', 'x')
        AND NOT attnum = ANY (k.conkey) LIMIT 1),
    (SELECT format('foreign key %s of table %s references it', quote_ident(k.conname), k.conrelid::regclass)
       FROM pg_constraint k WHERE k.confrelid = relid AND k.contype = 'f' LIMIT 1),
    (SELECT format('foreign key %s (LIKE does not copy foreign keys)', quote_ident(k.conname))
       FROM pg_constraint k WHERE k.conrelid = relid AND k.contype = 'f' LIMIT 1),
    (SELECT format('view %s uses it', r.ev_class::regclass)
       FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
      WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = relid AND r.ev_class <> relid LIMIT 1),
    (SELECT format('trigger %s', quote_ident(t.tgname))
       FROM pg_trigger t WHERE t.tgrelid = relid AND NOT t.tgisinternal LIMIT 1),
    (SELECT 'row level security' FROM pg_class c WHERE c.oid = relid AND c.relrowsecurity),
    (SELECT format('publication %s', quote_ident(p.pubname))
       FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid WHERE pr.prrelid = relid LIMIT 1),
    (SELECT 'inheritance' FROM pg_inherits i WHERE i.inhrelid = relid OR i.inhparent = relid LIMIT 1),
    (SELECT 'replica identity ' || c.relreplident::text FROM pg_class c
      WHERE c.oid = relid AND c.relreplident NOT IN ('d', 'n'))
  ], NULL)
$f$;

-- The layout of one candidate key: method, interval or width, list values
-- or modulus, and the partitions' expected size, so that partitions fall
-- near target_bytes and, with a year's growth, number at most
-- max_partitions. NULL when the column suits no layout.
CREATE FUNCTION @extschema@._partition_candidate(
  relid oid, attnum smallint, target_bytes bigint, max_partitions integer, rows_per_day double precision,
  equality_only boolean)
RETURNS jsonb
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  st record;
  typ oid;
  bytes double precision := pg_table_size(relid);
  nrows double precision;
  h double precision[];
  lo double precision;
  hi double precision;
  span_days double precision;
  per_day double precision;
  best jsonb;
  best_score double precision;
  u record;
  w double precision;
  mag double precision;
  count_now integer;
  count_year integer;
  year_values double precision;
  modulus integer;
BEGIN
  SELECT greatest(c.reltuples, 1) INTO nrows FROM pg_class c WHERE c.oid = relid;
  SELECT a.atttypid INTO typ FROM pg_attribute a WHERE a.attrelid = relid AND a.attnum = _partition_candidate.attnum;
  SELECT s.* INTO st FROM pg_stats s
    JOIN pg_class c ON c.relname = s.tablename JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = s.attname
   WHERE c.oid = relid AND a.attnum = _partition_candidate.attnum AND NOT s.inherited;
  IF NOT FOUND THEN
    RETURN NULL;	-- no statistics: ANALYZE first
  END IF;

  IF typ IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype, 'int2'::regtype,
             'int4'::regtype, 'int8'::regtype) AND st.histogram_bounds IS NOT NULL AND NOT equality_only THEN
    h := ARRAY(SELECT @extschema@._partition_position(x, typ)
                 FROM unnest(st.histogram_bounds::text::text[]) x);
    lo := h[1];
    hi := h[cardinality(h)];
    IF typ IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN
      span_days := greatest((hi - lo) / 86400, 1);
      -- the data's own rate, unless the captured inserts say otherwise
      per_day := coalesce(rows_per_day, nrows / span_days);
      FOR u IN SELECT x.unit, x.days FROM (VALUES ('day', 1.0), ('week', 7.0), ('month', 30.44), ('year', 365.25))
                 x(unit, days) LOOP
        count_now := ceil(span_days / u.days)::integer + 1;
        count_year := count_now + ceil(365.25 / u.days)::integer;
        IF count_year <= max_partitions OR u.unit = 'year' THEN
          IF best IS NULL OR abs(ln(greatest(bytes / nrows * per_day * u.days, 1) / target_bytes)) < best_score THEN
            best_score := abs(ln(greatest(bytes / nrows * per_day * u.days, 1) / target_bytes));
            best := jsonb_build_object(
              'method', 'range', 'unit', u.unit,
              'from', to_timestamp(lo)::text, 'to', to_timestamp(hi)::text,
              'partition_bytes', round(bytes / nrows * per_day * u.days),
              'partitions', count_now, 'partitions_in_a_year', count_year);
          END IF;
        END IF;
      END LOOP;
      RETURN best;
    END IF;
    -- integers: a width of 1, 2 or 5 times a power of ten giving partitions
    -- near the target; wider if a year's growth would pass max_partitions
    w := greatest((hi - lo) * target_bytes / greatest(bytes, 1), 1);
    mag := power(10, floor(log(w)));
    w := CASE WHEN w / mag < 1.5 THEN mag WHEN w / mag < 3.5 THEN 2 * mag WHEN w / mag < 7.5 THEN 5 * mag
              ELSE 10 * mag END;
    -- values a year adds: only for a key that grows with the table
    year_values := CASE WHEN abs(coalesce(st.correlation, 0)) >= 0.9
                        THEN coalesce(rows_per_day, 0) * 365.25 * (hi - lo) / nrows ELSE 0 END;
    WHILE ceil((hi - lo + year_values) / w) + 1 > max_partitions LOOP
      w := w * 2;
    END LOOP;
    RETURN jsonb_build_object('method', 'range', 'width', w::bigint, 'from', lo::bigint, 'to', hi::bigint,
                              'partition_bytes', round(bytes * w / greatest(hi - lo, 1)),
                              'partitions', ceil((hi - lo) / w)::integer + 1,
                              'partitions_in_a_year', ceil((hi - lo + year_values) / w)::integer + 1);
  END IF;

  -- few values, each common: a partition per value
  IF st.most_common_vals IS NOT NULL AND st.n_distinct > 0 AND st.n_distinct <= 64
     AND (SELECT sum(f) FROM unnest(st.most_common_freqs) f) >= 0.95 THEN
    RETURN jsonb_build_object('method', 'list',
                              'values', to_jsonb(st.most_common_vals::text::text[]),
                              'partition_bytes', round(bytes / st.n_distinct),
                              'partitions', st.n_distinct::integer + 1,
                              'partitions_in_a_year', st.n_distinct::integer + 1);
  END IF;
  -- many values compared only for equality: hash
  IF equality_only THEN
    modulus := 2;
    WHILE modulus < 256 AND bytes * (1 + coalesce(rows_per_day, 0) * 365.25 / nrows) / modulus > target_bytes LOOP
      modulus := modulus * 2;
    END LOOP;
    RETURN jsonb_build_object('method', 'hash', 'modulus', modulus, 'partition_bytes', round(bytes / modulus),
                              'partitions', modulus, 'partitions_in_a_year', modulus);
  END IF;
  RETURN NULL;
END
$f$;

-- For one candidate layout of (relid, attnum): the share of the table's
-- rows each statement that scans it would still read after pruning, per
-- sample, averaged over its samples. unknown: a condition on the key whose
-- value is not known (a $n without usable samples), counted as no
-- pruning. Reads the advisor's temporary tables.
CREATE FUNCTION @extschema@._partition_fractions(relid oid, attnum smallint, spec jsonb)
RETURNS TABLE (fingerprint text, fraction double precision, unknown boolean, samples integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  typ oid := (SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = relid AND a.attnum = _partition_fractions.attnum);
  h double precision[];
  freqs jsonb;
BEGIN
  SELECT ARRAY(SELECT @extschema@._partition_position(x, typ) FROM unnest(s.histogram_bounds::text::text[]) x),
         (SELECT jsonb_object_agg(v, f) FROM unnest(s.most_common_vals::text::text[], s.most_common_freqs) u(v, f))
    INTO h, freqs
    FROM pg_stats s JOIN pg_class c ON c.relname = s.tablename
    JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = s.schemaname
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = s.attname
   WHERE c.oid = relid AND a.attnum = _partition_fractions.attnum AND NOT s.inherited;

  RETURN QUERY
  WITH parts AS (
    SELECT l.ord, l.is_default, l.list_value,
           @extschema@._partition_position(l.lo, typ) AS lo, @extschema@._partition_position(l.hi, typ) AS hi,
           CASE WHEN l.is_default THEN NULL
                WHEN spec ->> 'method' = 'range'
                  THEN @extschema@._hist_cdf(h, @extschema@._partition_position(l.hi, typ))
                       - @extschema@._hist_cdf(h, @extschema@._partition_position(l.lo, typ))
                WHEN spec ->> 'method' = 'list' THEN coalesce((freqs ->> l.list_value)::double precision, 0)
                ELSE 1.0 / (spec ->> 'modulus')::integer END AS mass
      FROM @extschema@._partition_layout(spec, 'x') l
  ), rest AS (
    SELECT greatest(1 - coalesce(sum(p.mass), 0), 0) AS mass FROM parts p WHERE NOT p.is_default
  ), walks AS (
    -- each walk of a statement (one per sample, or one without) that scans the table
    SELECT DISTINCT q.fingerprint, q.sample FROM pipeopt_part_quals q
     WHERE q.relid = _partition_fractions.relid AND q.op = 'scan'
  ), bounds AS (
    SELECT w.fingerprint, w.sample,
           max(@extschema@._partition_position(q.value, q.valtype)) FILTER (WHERE q.op IN ('>', '>=', '=')) AS lower,
           min(@extschema@._partition_position(q.value, q.valtype)) FILTER (WHERE q.op IN ('<', '<=', '=')) AS upper,
           array_agg(@extschema@._partition_position(q.value, q.valtype)) FILTER (WHERE q.op = 'in') AS in_pos,
           array_agg(q.value) FILTER (WHERE q.op IN ('=', 'in') AND q.value IS NOT NULL) AS eq_values,
           bool_or(q.op IS NOT NULL AND q.op <> 'scan' AND q.value IS NULL) AS unknown
      FROM walks w
      LEFT JOIN pipeopt_part_quals q
        ON q.fingerprint = w.fingerprint AND q.sample IS NOT DISTINCT FROM w.sample
       AND q.relid = _partition_fractions.relid AND q.attnum = _partition_fractions.attnum
     GROUP BY w.fingerprint, w.sample
  ), per_walk AS (
    SELECT b.fingerprint, b.sample, coalesce(b.unknown, false) AS unknown,
           CASE
             WHEN spec ->> 'method' = 'hash' THEN
               CASE WHEN b.eq_values IS NULL THEN 1.0
                    ELSE least((SELECT count(DISTINCT v) FROM unnest(b.eq_values) v), (spec ->> 'modulus')::integer)::double precision
                         / (spec ->> 'modulus')::integer END
             WHEN spec ->> 'method' = 'list' THEN
               CASE WHEN b.eq_values IS NULL THEN 1.0
                    ELSE least(coalesce((SELECT sum(p.mass) FROM parts p WHERE p.list_value = ANY (b.eq_values)), 0)
                               + (SELECT r.mass FROM rest r), 1) END
             WHEN b.lower IS NULL AND b.upper IS NULL AND b.in_pos IS NULL THEN 1.0
             ELSE least(coalesce((SELECT sum(p.mass) FROM parts p
                                   WHERE NOT p.is_default
                                     AND (b.lower IS NULL OR p.hi > b.lower)
                                     AND (b.upper IS NULL OR p.lo <= b.upper)
                                     AND (b.in_pos IS NULL OR EXISTS (SELECT 1 FROM unnest(b.in_pos) x
                                                                       WHERE x >= p.lo AND x < p.hi))), 0)
                        + (SELECT r.mass FROM rest r), 1)
           END AS fraction
      FROM bounds b
  )
  SELECT p.fingerprint, avg(p.fraction), bool_or(p.unknown), count(p.sample)::integer
    FROM per_walk p
   GROUP BY p.fingerprint;
END
$f$;

-- Run the partition advisor over the captured workload: for every plain
-- table of at least pipeopt.partition_min_size that captured statements
-- scan, the column whose pruning would save the most statement time, its
-- layout (target_size: the partition size aimed at; max_partitions: with a
-- year's growth) and each affected statement's blocks before and after;
-- and, for range-partitioned tables on a time column, the partitions no
-- captured statement reads (retention). Moves the recommendations of kinds
-- partition_table and drop_partitions as advise_indexes() moves its own.
CREATE FUNCTION @extschema@.advise_partitions(
  target_size text DEFAULT '1GB', max_partitions integer DEFAULT 300, max_statements integer DEFAULT 200,
  OUT run_id bigint, OUT statements integer, OUT tables integer, OUT recommendations integer,
  OUT drop_recommendations integer)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  started timestamptz := clock_timestamp();
  target_bytes bigint;
  min_bytes bigint := pg_size_bytes(current_setting('pipeopt.partition_min_size'));
  hours double precision;
  tb record;
  cand record;
  spec jsonb;
  per_day double precision;
  growth_source text;
  best record;
BEGIN
  IF max_partitions IS NULL OR max_partitions < 2 THEN
    RAISE EXCEPTION 'max_partitions must be 2 or more'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'It bounds how many partitions a table has after a year of growth.';
  END IF;
  IF max_statements IS NULL OR max_statements < 1 THEN
    RAISE EXCEPTION 'max_statements must be 1 or more'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'It bounds how many of the most time-consuming statements are analyzed.';
  END IF;
  target_bytes := @extschema@._budget_bytes(target_size);
  IF target_bytes IS NULL OR target_bytes < 8192 THEN
    RAISE EXCEPTION 'target_size must be at least 8kB'
      USING ERRCODE = 'invalid_parameter_value', HINT = 'Partitions of about 1GB to 10GB suit most tables.';
  END IF;
  PERFORM pg_advisory_xact_lock('@extschema@.partition_changes'::regclass::oid::bigint);

  hours := @extschema@._workload_hours();

  -- the statements that took the most time, each with the role that ran it most
  CREATE TEMP TABLE pipeopt_part_stmts ON COMMIT DROP AS
  SELECT w.fingerprint, w.query, w.userid, w.calls / hours AS calls_per_hour,
         w.ms / greatest(w.calls, 1) AS mean_ms
    FROM @extschema@._workload_statements() w
   WHERE w.kind IN ('select', 'update', 'delete', 'merge') AND w.userid IS NOT NULL
   ORDER BY w.ms DESC, w.fingerprint
   LIMIT max_statements;
  GET DIAGNOSTICS statements = ROW_COUNT;

  -- their parameter samples (the newest of the role it is analyzed as)
  CREATE TEMP TABLE pipeopt_part_samples ON COMMIT DROP AS
  SELECT t.fingerprint, (row_number() OVER (PARTITION BY t.fingerprint ORDER BY p.sampled_at DESC) - 1)::integer AS sample,
         p.sampled_at, p.params
    FROM pipeopt_part_stmts t
   CROSS JOIN LATERAL (
     SELECT x.sampled_at, x.params FROM @extschema@.param_samples x
      WHERE x.fingerprint = t.fingerprint AND x.userid = t.userid AND x.first_param = 1
      ORDER BY x.sampled_at DESC
      LIMIT current_setting('pipeopt.param_samples_per_statement')::integer) p;

  -- what pruning could use in each, per sample
  CREATE TEMP TABLE pipeopt_part_quals ON COMMIT DROP AS
  SELECT t.fingerprint, q.*
    FROM pipeopt_part_stmts t
   CROSS JOIN LATERAL @extschema@._partition_quals(
     t.query, t.userid,
     (SELECT jsonb_agg(to_jsonb(s.params) ORDER BY s.sample) FROM pipeopt_part_samples s
       WHERE s.fingerprint = t.fingerprint)) q;

  INSERT INTO @extschema@.advisor_runs AS r
         (advisor, started_at, finished_at, window_hours, statements, statements_planned, planner_calls,
          recommendations)
  VALUES ('partition', started, clock_timestamp(), hours, statements,
          (SELECT count(DISTINCT q.fingerprint) FROM pipeopt_part_quals q WHERE q.error IS NULL), 0, 0)
  RETURNING r.run_id INTO run_id;

  CREATE TEMP TABLE pipeopt_part_new (kind text, relid oid, target_key text, target jsonb, estimated_bytes bigint,
                                      saving_ms_per_hour double precision, cost_before double precision,
                                      cost_after double precision, confidence double precision, risk text,
                                      reason text, evidence jsonb) ON COMMIT DROP;
  CREATE TEMP TABLE pipeopt_part_affected (target_key text, fingerprint text, calls_per_hour double precision,
                                           mean_ms double precision, blocks_before double precision,
                                           blocks_after double precision, saving_ms_per_hour double precision)
    ON COMMIT DROP;
  CREATE TEMP TABLE pipeopt_part_eval (attnum smallint, spec jsonb, fingerprint text,
    fraction double precision, unknown boolean, samples integer) ON COMMIT DROP;
  tables := 0;

  -- ---- partitioning: large plain tables the workload scans ----
  FOR tb IN
    SELECT DISTINCT q.relid, pg_table_size(q.relid) AS bytes, greatest(cl.relpages, 1) AS pages
      FROM pipeopt_part_quals q JOIN pg_class cl ON cl.oid = q.relid
     WHERE q.op = 'scan' AND cl.relkind = 'r' AND pg_table_size(q.relid) >= min_bytes
     ORDER BY q.relid
  LOOP
    tables := tables + 1;
    -- growth: the captured inserts, over at least an hour of captures
    SELECT sum(s.n_tup_ins) / hours * 24 INTO per_day
      FROM @extschema@.table_samples s
      JOIN @extschema@.captures x ON x.capture_id = s.capture_id AND x.origin = 'local'
     WHERE s.relid = tb.relid AND hours >= 1;
    growth_source := CASE WHEN per_day IS NOT NULL THEN 'captured inserts' ELSE 'the key''s history' END;

    TRUNCATE pipeopt_part_eval;
    FOR cand IN
      SELECT q.attnum, bool_and(q.op IN ('=', 'in')) AS equality_only
        FROM pipeopt_part_quals q
       WHERE q.relid = tb.relid AND q.attnum IS NOT NULL
       GROUP BY q.attnum ORDER BY q.attnum
    LOOP
      spec := @extschema@._partition_candidate(tb.relid, cand.attnum, target_bytes, max_partitions, per_day,
                                               cand.equality_only);
      CONTINUE WHEN spec IS NULL;
      spec := spec || jsonb_build_object('relid', tb.relid, 'attnum', cand.attnum, 'premake', 4);
      INSERT INTO pipeopt_part_eval
      SELECT cand.attnum, spec, f.* FROM @extschema@._partition_fractions(tb.relid, cand.attnum, spec) f;
    END LOOP;

    -- the column whose pruning saves the most: blocks of this table each
    -- statement reads before (all of them) and after pruning; its time
    -- shared among the tables it scans by their size; none saved where
    -- an index on the column already avoids the scan
    SELECT e.attnum, e.spec,
           sum(x.saving) AS saving,
           sum(x.saving * x.conf) / nullif(sum(x.saving), 0) AS conf,
           count(*) FILTER (WHERE x.saving > 0) AS n,
           jsonb_agg(jsonb_build_object('fingerprint', e.fingerprint, 'fraction', round(e.fraction::numeric, 4),
                                        'blocks_before', tb.pages, 'blocks_after', round(tb.pages * e.fraction),
                                        'unknown_values', e.unknown, 'samples', e.samples,
                                        'index_serves_it', x.indexed)
                     ORDER BY e.fingerprint) AS stmts,
           bool_or(x.indexed) AS indexed, bool_or(e.unknown) AS unknown
      INTO best
      FROM pipeopt_part_eval e
      JOIN pipeopt_part_stmts s ON s.fingerprint = e.fingerprint
     CROSS JOIN LATERAL (
       SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = tb.relid AND i.indisvalid
                         AND i.indkey[0] = e.attnum) AS indexed,
              tb.pages::double precision / (SELECT sum(greatest(cl.relpages, 1)) FROM pg_class cl
                                            WHERE cl.oid IN (SELECT q.relid FROM pipeopt_part_quals q
                                                              WHERE q.fingerprint = e.fingerprint AND q.op = 'scan'))
                AS share,
              (SELECT count(DISTINCT q.relid) FROM pipeopt_part_quals q
                WHERE q.fingerprint = e.fingerprint AND q.op = 'scan') AS nrels) z
     CROSS JOIN LATERAL (
       SELECT z.indexed,
              CASE WHEN z.indexed THEN 0
                   ELSE s.calls_per_hour * s.mean_ms * z.share * (1 - e.fraction) END AS saving,
              -- how much of it is measured rather than assumed
              CASE WHEN e.unknown THEN 0.3
                   WHEN e.samples > 0 THEN 0.6 + 0.3 * least(e.samples / 4.0, 1)
                   ELSE 1.0 END * CASE WHEN z.nrels > 1 THEN 0.8 ELSE 1 END AS conf) x
     GROUP BY e.attnum, e.spec
     ORDER BY sum(x.saving) DESC, e.attnum
     LIMIT 1;
    CONTINUE WHEN best IS NULL OR coalesce(best.saving, 0) <= 0;

    spec := best.spec || jsonb_build_object(
      'constraints', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                               'name', k.conname, 'type', k.contype,
                               'columns', (SELECT jsonb_agg(a.attname ORDER BY u.o) FROM unnest(k.conkey) WITH ORDINALITY u(att, o)
                                             JOIN pg_attribute a ON a.attrelid = tb.relid AND a.attnum = u.att),
                               'compatible', best.attnum = ANY (k.conkey)) ORDER BY k.conname), '[]')
                        FROM pg_constraint k WHERE k.conrelid = tb.relid AND k.contype IN ('p', 'u', 'x')),
      'blockers', to_jsonb(@extschema@._partition_blockers(tb.relid, best.attnum)),
      'growth_rows_per_day', round(coalesce(per_day, 0)::numeric, 1), 'growth_source', growth_source,
      'target_bytes', target_bytes);
    INSERT INTO pipeopt_part_new
    SELECT 'partition_table', tb.relid, 'partition_table:' || tb.relid, spec, tb.bytes, best.saving,
           -- blocks read per hour by the affected statements, before and after
           (SELECT sum(s.calls_per_hour * (j ->> 'blocks_before')::double precision)
              FROM jsonb_array_elements(best.stmts) j JOIN pipeopt_part_stmts s ON s.fingerprint = j ->> 'fingerprint'),
           (SELECT sum(s.calls_per_hour * (j ->> 'blocks_after')::double precision)
              FROM jsonb_array_elements(best.stmts) j JOIN pipeopt_part_stmts s ON s.fingerprint = j ->> 'fingerprint'),
           round((best.conf * CASE WHEN growth_source = 'captured inserts' THEN 1 ELSE 0.9 END)::numeric, 2),
           CASE WHEN jsonb_array_length(spec -> 'blockers') > 0 THEN 'high' ELSE 'medium' END,
           format('partition %s by %s on %s (%s partitions of about %s): pruning saves an estimated %s ms per hour over %s statements',
                  tb.relid::regclass, spec ->> 'method', (SELECT quote_ident(a.attname) FROM pg_attribute a
                                                         WHERE a.attrelid = tb.relid AND a.attnum = best.attnum),
                  spec ->> 'partitions', pg_size_pretty((spec ->> 'partition_bytes')::bigint),
                  round(best.saving::numeric, 1), best.n),
           jsonb_build_object('statements', best.stmts,
                              'assumptions', to_jsonb(array_remove(ARRAY[
                                'a statement reads all of the table''s blocks today (a sequential scan)',
                                'statement time is shared among the tables it scans by their size',
                                CASE WHEN best.unknown THEN 'some conditions have values known only at execution (no parameter samples): counted as no pruning' END,
                                CASE WHEN growth_source <> 'captured inserts' THEN 'growth continues at the rate of the key''s history' END,
                                'the key''s distribution is that of pg_stats'], NULL)));
    INSERT INTO pipeopt_part_affected
    SELECT 'partition_table:' || tb.relid, e.fingerprint, s.calls_per_hour, s.mean_ms, tb.pages,
           tb.pages * e.fraction, (x ->> 'saving')::double precision
      FROM pipeopt_part_eval e
      JOIN pipeopt_part_stmts s ON s.fingerprint = e.fingerprint
     CROSS JOIN LATERAL (SELECT jsonb_build_object('saving',
        CASE WHEN EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = tb.relid AND i.indisvalid AND i.indkey[0] = e.attnum)
             THEN 0 ELSE s.calls_per_hour * s.mean_ms * (1 - e.fraction)
                         * tb.pages / (SELECT sum(greatest(cl.relpages, 1)) FROM pg_class cl
                                       WHERE cl.oid IN (SELECT q.relid FROM pipeopt_part_quals q
                                                         WHERE q.fingerprint = e.fingerprint AND q.op = 'scan')) END) x) y(x)
     WHERE e.attnum = best.attnum AND e.fraction < 1;
  END LOOP;

  PERFORM @extschema@._partition_retention(hours);
  PERFORM @extschema@._partition_store(run_id);

  SELECT count(*) FILTER (WHERE a.kind = 'partition_table'), count(*) FILTER (WHERE a.kind = 'drop_partitions')
    INTO recommendations, drop_recommendations
    FROM @extschema@.advice a WHERE a.run_id = advise_partitions.run_id AND a.status = 'proposed';
  UPDATE @extschema@.advisor_runs r SET recommendations = advise_partitions.recommendations + drop_recommendations,
                                        finished_at = clock_timestamp()
   WHERE r.run_id = advise_partitions.run_id;
  DROP TABLE pipeopt_part_stmts, pipeopt_part_samples, pipeopt_part_quals, pipeopt_part_new, pipeopt_part_affected,
             pipeopt_part_eval;
END
$f$;
COMMENT ON FUNCTION @extschema@.advise_partitions(text, integer, integer) IS
  'Recommend partitioning large tables on the column whose pruning saves the captured workload the most, and dropping partitions no statement reads';
