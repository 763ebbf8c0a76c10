/* Workload bundles: the records of export_workload() and import_workload(). */

-- The lines of a bundle, in order: header, records, end. docs/bundle.md.
CREATE FUNCTION @extschema@._export_lines(since timestamptz)
RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH caps AS (
    SELECT c.* FROM @extschema@.captures c WHERE c.captured_at > since
  ), smp AS (
    SELECT s.* FROM @extschema@.samples s WHERE s.captured_at > since
  ), lines AS (
    SELECT 0 AS part, 0::bigint AS n,
           json_build_object(
             'format', 'pipeopt-workload', 'version', 1,
             'exported_at', now(), 'since', since,
             'source', json_build_object(
               'system_identifier', (SELECT x.system_identifier::text FROM pg_control_system() x),
               'database', current_database(),
               'server_version', current_setting('server_version'),
               'pipeopt_version', (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pipeopt')))::text AS line
    UNION ALL
    SELECT 1, row_number() OVER (ORDER BY st.fingerprint),
           json_build_object('type', 'statement', 'fingerprint', st.fingerprint, 'query', st.query,
                             'kind', st.kind, 'parse_error', st.parse_error,
                             'parse_error_position', st.parse_error_position,
                             'first_seen', st.first_seen,
                             'queryids', (SELECT count(*) FROM @extschema@.statement_queryids q
                                           WHERE q.fingerprint = st.fingerprint))::text
      FROM @extschema@.statements st
     WHERE EXISTS (SELECT 1 FROM smp WHERE smp.fingerprint = st.fingerprint)
    UNION ALL
    SELECT 2, c.capture_id,
           json_build_object('type', 'capture', 'capture_id', c.capture_id, 'origin', c.origin,
                             'origin_capture_id', c.origin_capture_id,
                             'interval_start', c.interval_start, 'captured_at', c.captured_at,
                             'baseline', c.baseline, 'reset_detected', c.reset_detected)::text
      FROM caps c
    UNION ALL
    SELECT 3, row_number() OVER (ORDER BY s.capture_id, s.fingerprint, s.userid, s.toplevel),
           (json_build_object('type', 'sample', 'role', (SELECT r.rolname FROM pg_roles r WHERE r.oid = s.userid))::jsonb
            || (to_jsonb(s) - 'captured_at'))::text
      FROM smp s
    UNION ALL
    SELECT 4, row_number() OVER (ORDER BY t.capture_id, t.relid),
           (jsonb_build_object('type', 'table_sample') || (to_jsonb(t) - 'captured_at'))::text
      FROM @extschema@.table_samples t WHERE t.captured_at > since
    UNION ALL
    SELECT 5, row_number() OVER (ORDER BY i.capture_id, i.indexrelid),
           (jsonb_build_object('type', 'index_sample') || (to_jsonb(i) - 'captured_at'))::text
      FROM @extschema@.index_samples i WHERE i.captured_at > since
  )
  SELECT l.line FROM lines l ORDER BY l.part, l.n
$f$;

-- Load the lines of a bundle. The caller (C) has checked the lz4 frame and
-- the encoding; everything else is checked here, and any error leaves the
-- database as it was.
CREATE FUNCTION @extschema@._import_lines(body text,
  OUT statements integer, OUT captures integer, OUT samples integer,
  OUT table_samples integer, OUT index_samples integer)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  header jsonb;
  bundle_origin text;
  nrecords bigint;
  last_type text;
  day date;
  target text;
  loaded integer;
BEGIN
  IF pg_is_in_recovery() THEN
    RAISE EXCEPTION 'pipeopt cannot import a workload bundle on a standby'
      USING ERRCODE = 'read_only_sql_transaction',
            HINT = 'Import it on a primary server.';
  END IF;
  BEGIN
    CREATE TEMP TABLE pipeopt_import_records ON COMMIT DROP AS
      SELECT l.n, l.line::jsonb AS r
        FROM regexp_split_to_table(body, E'\n') WITH ORDINALITY AS l(line, n)
       WHERE l.line <> '';
  EXCEPTION WHEN invalid_text_representation THEN
    RAISE EXCEPTION 'corrupt workload bundle: a record is not valid JSON'
      USING ERRCODE = 'invalid_binary_representation',
            DETAIL = SQLERRM,
            HINT = 'Export the workload again with pipeopt.export_workload().';
  END;

  SELECT r INTO header FROM pipeopt_import_records WHERE n = 1;
  IF header IS NULL OR header->>'format' IS DISTINCT FROM 'pipeopt-workload' THEN
    RAISE EXCEPTION 'not a pipeopt workload bundle'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The first record does not say "format": "pipeopt-workload".',
            HINT = 'Pass a bundle made by pipeopt.export_workload().';
  END IF;
  IF (header->>'version') IS DISTINCT FROM '1' THEN
    RAISE EXCEPTION 'unsupported workload bundle version %', coalesce(header->>'version', 'null')
      USING ERRCODE = 'feature_not_supported',
            DETAIL = 'This pipeopt reads bundle format version 1.',
            HINT = 'Import the bundle with the pipeopt version that exported it, or a newer one.';
  END IF;
  SELECT r->>'type', (r->>'records')::bigint INTO last_type, nrecords
    FROM pipeopt_import_records ORDER BY n DESC LIMIT 1;
  IF last_type IS DISTINCT FROM 'end'
     OR nrecords IS DISTINCT FROM (SELECT count(*) - 2 FROM pipeopt_import_records) THEN
    RAISE EXCEPTION 'corrupt workload bundle: it is truncated'
      USING ERRCODE = 'invalid_binary_representation',
            DETAIL = 'The end record is missing or does not match the number of records.',
            HINT = 'Export the workload again with pipeopt.export_workload().';
  END IF;

  bundle_origin := 'bundle:' || coalesce(header #>> '{source,system_identifier}', '?')
            || '/' || coalesce(header #>> '{source,database}', '?');
  IF header #>> '{source,system_identifier}' = (SELECT x.system_identifier::text FROM pg_control_system() x)
     AND header #>> '{source,database}' = current_database() THEN
    RAISE EXCEPTION 'workload bundle comes from this very database'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'Its samples are already here; importing them would count them twice.',
            HINT = 'Import the bundle into another database or server.';
  END IF;

  -- Serialize with capture(): both create partitions.
  LOCK TABLE @extschema@.capture_state IN SHARE ROW EXCLUSIVE MODE;

  WITH ins AS (
    INSERT INTO @extschema@.statements
           (fingerprint, query, kind, parse_error, parse_error_position, first_seen)
    SELECT x.fingerprint, x.query, x.kind, x.parse_error, x.parse_error_position,
           coalesce(x.first_seen, now())
      FROM pipeopt_import_records i,
           jsonb_populate_record(NULL::@extschema@.statements, i.r) x
     WHERE i.r->>'type' = 'statement'
    ON CONFLICT (fingerprint) DO NOTHING
    RETURNING 1)
  SELECT count(*) INTO statements FROM ins;

  -- New captures, keyed by where they were first taken.
  CREATE TEMP TABLE pipeopt_import_captures ON COMMIT DROP AS
    SELECT (i.r->>'capture_id')::bigint AS source_id,
           CASE WHEN i.r->>'origin' = 'local' THEN bundle_origin ELSE i.r->>'origin' END AS origin,
           CASE WHEN i.r->>'origin' = 'local' THEN (i.r->>'capture_id')::bigint
                ELSE (i.r->>'origin_capture_id')::bigint END AS origin_capture_id,
           (i.r->>'interval_start')::timestamptz AS interval_start,
           (i.r->>'captured_at')::timestamptz AS captured_at,
           coalesce((i.r->>'baseline')::boolean, false) AS baseline,
           coalesce((i.r->>'reset_detected')::boolean, false) AS reset_detected,
           NULL::bigint AS capture_id
      FROM pipeopt_import_records i
     WHERE i.r->>'type' = 'capture';
  IF EXISTS (SELECT 1 FROM pipeopt_import_captures WHERE captured_at IS NULL OR source_id IS NULL) THEN
    RAISE EXCEPTION 'corrupt workload bundle: a capture record lacks its id or time'
      USING ERRCODE = 'invalid_binary_representation';
  END IF;

  WITH ins AS (
    INSERT INTO @extschema@.captures AS cap
           (origin, origin_capture_id, interval_start, captured_at, finished_at, baseline, reset_detected)
    SELECT c.origin, c.origin_capture_id, c.interval_start, c.captured_at, c.captured_at,
           c.baseline, c.reset_detected
      FROM pipeopt_import_captures c
    ON CONFLICT ON CONSTRAINT captures_origin_origin_capture_id_key DO NOTHING
    RETURNING cap.capture_id AS new_id, cap.origin AS new_origin, cap.origin_capture_id AS new_origin_id)
  UPDATE pipeopt_import_captures c SET capture_id = ins.new_id
    FROM ins
   WHERE (ins.new_origin, ins.new_origin_id) = (c.origin, c.origin_capture_id);
  GET DIAGNOSTICS captures = ROW_COUNT;

  FOR day IN SELECT DISTINCT (c.captured_at AT TIME ZONE 'UTC')::date
               FROM pipeopt_import_captures c WHERE c.capture_id IS NOT NULL LOOP
    PERFORM @extschema@._ensure_partitions(day::timestamp AT TIME ZONE 'UTC');
  END LOOP;

  -- Samples of captures already present (imported before) are skipped.
  -- Record type "sample" goes into table samples, and so on.
  FOREACH target IN ARRAY ARRAY['samples', 'table_samples', 'index_samples'] LOOP
    EXECUTE format($q$
      INSERT INTO @extschema@.%1$I
      SELECT x.*
        FROM pipeopt_import_records i
        JOIN pipeopt_import_captures c ON c.source_id = (i.r->>'capture_id')::bigint
       CROSS JOIN LATERAL jsonb_populate_record(NULL::@extschema@.%1$I,
                i.r || jsonb_build_object('capture_id', c.capture_id,
                                          'captured_at', c.captured_at)) x
       WHERE i.r->>'type' = %2$L AND c.capture_id IS NOT NULL$q$,
      target, rtrim(target, 's'));
    GET DIAGNOSTICS loaded = ROW_COUNT;
    CASE target
      WHEN 'samples' THEN samples := loaded;
      WHEN 'table_samples' THEN table_samples := loaded;
      ELSE index_samples := loaded;
    END CASE;
  END LOOP;

  DROP TABLE pipeopt_import_records;
  DROP TABLE pipeopt_import_captures;
EXCEPTION
  WHEN not_null_violation OR invalid_text_representation OR invalid_datetime_format
       OR datetime_field_overflow OR numeric_value_out_of_range OR foreign_key_violation THEN
    RAISE EXCEPTION 'corrupt workload bundle: a record has a missing or invalid field'
      USING ERRCODE = 'invalid_binary_representation',
            DETAIL = SQLERRM,
            HINT = 'Export the workload again with pipeopt.export_workload().';
END
$f$;
