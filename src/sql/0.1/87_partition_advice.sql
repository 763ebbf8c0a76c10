/*
 * The partition advisor, part 3: retention (partitions no captured
 * statement reads), storing a run's advice, and what people read: the view
 * pipeopt.partition_advice and pipeopt.partition_script().
 */

-- Retention, for advise_partitions(): a table range-partitioned on one
-- time column whose every captured statement bounds the key from below
-- (in every sample) reads nothing older than the largest such age; its
-- partitions wholly older than that, with a margin of a quarter of it (at
-- least a day), are proposed for detaching and dropping. Advisory only.
CREATE FUNCTION @extschema@._partition_retention(hours double precision)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  t record;
  horizon interval;
  cutoff timestamptz;
  parts jsonb;
BEGIN
  FOR t IN
    SELECT p.partrelid AS relid, p.partattrs[0] AS attnum
      FROM pg_partitioned_table p JOIN pg_class cl ON cl.oid = p.partrelid
      JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partstrat = 'r' AND p.partnatts = 1 AND p.partattrs[0] > 0
       AND a.atttypid IN ('date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype)
       AND cl.relnamespace <> '@extschema@'::regnamespace
       AND EXISTS (SELECT 1 FROM pipeopt_part_quals q WHERE q.relid = p.partrelid AND q.op = 'scan')
  LOOP
    -- per walk of a statement scanning it: the oldest key it reads, as an
    -- age at the time of its sample (or now, for constants)
    WITH walks AS (
      SELECT DISTINCT q.fingerprint, q.sample FROM pipeopt_part_quals q
       WHERE q.relid = t.relid AND q.op = 'scan'
    ), lows AS (
      SELECT w.fingerprint, w.sample,
             max(@extschema@._partition_position(q.value, q.valtype))
               FILTER (WHERE q.op IN ('>', '>=', '=')) AS low
        FROM walks w
        LEFT JOIN pipeopt_part_quals q ON q.fingerprint = w.fingerprint AND q.sample IS NOT DISTINCT FROM w.sample
                                      AND q.relid = t.relid AND q.attnum = t.attnum
       GROUP BY w.fingerprint, w.sample
    )
    SELECT CASE WHEN bool_and(l.low IS NOT NULL)
                THEN max(coalesce(s.sampled_at, now()) - to_timestamp(l.low)) END
      INTO horizon
      FROM lows l LEFT JOIN pipeopt_part_samples s ON s.fingerprint = l.fingerprint AND s.sample = l.sample;
    CONTINUE WHEN horizon IS NULL;
    horizon := greatest(horizon, interval '0');
    cutoff := now() - horizon - greatest(horizon / 4, interval '1 day');
    SELECT jsonb_agg(jsonb_build_object('relid', b.oid, 'upper', b.upper) ORDER BY b.upper), sum(pg_table_size(b.oid))
      INTO parts
      FROM (SELECT c.oid, (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']*)''\)'))[1]::timestamptz AS upper
              FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = t.relid) b
     WHERE b.upper IS NOT NULL AND b.upper <= cutoff;
    CONTINUE WHEN parts IS NULL;
    INSERT INTO pipeopt_part_new
    SELECT 'drop_partitions', t.relid, 'drop_partitions:' || t.relid,
           jsonb_build_object('relid', t.relid, 'attnum', t.attnum, 'partitions', parts,
                              'horizon', horizon::text, 'cutoff', cutoff::text),
           (SELECT sum(pg_table_size((j ->> 'relid')::oid)) FROM jsonb_array_elements(parts) j),
           NULL, NULL, NULL,
           -- every statement bounds the key: the uncertainty is statements not captured
           CASE WHEN hours >= 24 THEN 0.8 ELSE 0.5 END, 'high',
           format('no captured statement reads rows of %s older than %s: %s partitions end before %s',
                  t.relid::regclass, justify_interval(date_trunc('minute', horizon)), jsonb_array_length(parts),
                  cutoff),
           jsonb_build_object('horizon', horizon::text, 'window_hours', round(hours::numeric, 1),
                              'assumptions', jsonb_build_array(
                                'the captured statements are every statement that reads the table (reports run monthly or yearly may not have been captured)'));
  END LOOP;
END
$f$;

-- Store a run's partition advice: refresh what it repeats, add what is new,
-- record each partitioning's statements, and make obsolete the proposed
-- advice of these kinds that it no longer gives.
CREATE FUNCTION @extschema@._partition_store(run_id bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
BEGIN
  UPDATE @extschema@.advice a
     SET target = n.target, estimated_bytes = n.estimated_bytes, saving_ms_per_hour = n.saving_ms_per_hour,
         cost_before = n.cost_before, cost_after = n.cost_after, confidence = n.confidence, risk = n.risk,
         reason = n.reason, evidence = n.evidence, run_id = _partition_store.run_id, updated_at = now()
    FROM pipeopt_part_new n
   WHERE a.target_key = n.target_key AND a.status = 'proposed';
  INSERT INTO @extschema@.advice (kind, relid, target, target_key, estimated_bytes, saving_ms_per_hour,
                                  cost_before, cost_after, confidence, risk, reason, evidence, run_id)
  SELECT n.kind, n.relid, n.target, n.target_key, n.estimated_bytes, n.saving_ms_per_hour,
         n.cost_before, n.cost_after, n.confidence, n.risk, n.reason, n.evidence, run_id
    FROM pipeopt_part_new n
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.advice a
                      WHERE a.target_key = n.target_key AND a.status IN ('proposed', 'approved', 'applying', 'reverting'));
  -- for a partitioning: cost columns hold blocks read per call
  DELETE FROM @extschema@.advice_statements s
   USING @extschema@.advice a WHERE a.id = s.advice_id AND a.run_id = _partition_store.run_id
     AND a.kind = 'partition_table';
  INSERT INTO @extschema@.advice_statements
  SELECT a.id, f.fingerprint, f.calls_per_hour, f.mean_ms, f.blocks_before, f.blocks_after, f.blocks_before,
         f.saving_ms_per_hour
    FROM pipeopt_part_affected f
    JOIN @extschema@.advice a ON a.target_key = f.target_key AND a.run_id = _partition_store.run_id
                             AND a.status = 'proposed';
  UPDATE @extschema@.advice a
     SET status = 'obsolete', status_changed_at = now(),
         status_reason = CASE WHEN @extschema@._advice_ddl(a.kind, a.target, a.id) IS NULL THEN 'its target is gone'
                              ELSE 'no longer recommended' END
   WHERE a.status = 'proposed' AND a.kind IN ('partition_table', 'drop_partitions')
     AND a.run_id IS DISTINCT FROM _partition_store.run_id;
END
$f$;

-- Partition advice for people: what to partition and how, or which
-- partitions to drop; the script, and what it is expected to save.
CREATE VIEW @extschema@.partition_advice AS
SELECT a.id, a.kind, a.status,
       CASE WHEN c.oid IS NOT NULL THEN format('%I.%I', n.nspname, c.relname) END AS relation,
       (SELECT quote_ident(att.attname) FROM pg_catalog.pg_attribute att
         WHERE att.attrelid = a.relid AND att.attnum = (a.target ->> 'attnum')::smallint) AS key,
       a.target ->> 'method' AS method,
       coalesce(a.target ->> 'unit', a.target ->> 'width', a.target ->> 'modulus') AS interval,
       (a.target ->> 'partitions')::integer AS partitions,
       (a.target ->> 'partitions_in_a_year')::integer AS partitions_in_a_year,
       (a.target ->> 'partition_bytes')::bigint AS partition_bytes,
       a.target -> 'constraints' AS constraints,
       a.target -> 'blockers' AS blockers,
       round(a.saving_ms_per_hour::numeric, 1) AS saving_ms_per_hour,
       a.estimated_bytes, a.confidence, a.risk, a.reason, a.status_reason,
       @extschema@._advice_ddl(a.kind, a.target, a.id) AS script,
       a.evidence, a.created_at, a.updated_at
  FROM @extschema@.advice a
  LEFT JOIN pg_catalog.pg_class c ON c.oid = a.relid
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE a.kind IN ('partition_table', 'drop_partitions');
COMMENT ON VIEW @extschema@.partition_advice IS
  'Tables to partition (key, layout, constraints, migration script) and partitions to drop, with their expected saving';

-- The migration of a partition_table recommendation, as it would run now
-- (action 'apply', or 'rollback' once applied).
CREATE FUNCTION @extschema@.partition_script(id bigint, action text DEFAULT 'apply')
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  a @extschema@.advice;
BEGIN
  IF action IS NULL OR action NOT IN ('apply', 'rollback') THEN
    RAISE EXCEPTION 'unknown action "%"', action
      USING ERRCODE = 'invalid_parameter_value', HINT = 'The actions are apply and rollback.';
  END IF;
  SELECT * INTO a FROM @extschema@.advice x WHERE x.id = partition_script.id;
  IF NOT FOUND OR a.kind <> 'partition_table' THEN
    RAISE EXCEPTION 'recommendation % is not a partitioning', id
      USING ERRCODE = 'no_data_found',
            HINT = 'SELECT id FROM pipeopt.partition_advice WHERE kind = ''partition_table'' lists them.';
  END IF;
  RETURN @extschema@._partition_script(a.target, a.id, action);
END
$f$;
COMMENT ON FUNCTION @extschema@.partition_script(bigint, text) IS
  'The ordered, commented migration script of a partitioning recommendation (or its rollback), generated now from its specification';
