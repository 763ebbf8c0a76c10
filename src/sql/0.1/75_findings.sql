/* Findings on the captured workload: analyze(), suppressions, the ranking. */

-- The findings of each captured statement, as of its last analysis.
CREATE TABLE @extschema@.statement_findings (
  fingerprint  text NOT NULL REFERENCES @extschema@.statements ON DELETE CASCADE,
  rule         text NOT NULL,
  severity     text NOT NULL,
  location     integer,
  message      text NOT NULL,
  evidence     jsonb NOT NULL,
  found_at     timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE INDEX ON @extschema@.statement_findings (fingerprint);

-- When each statement was analyzed, and up to which capture.
CREATE TABLE @extschema@.statement_analysis (
  fingerprint  text PRIMARY KEY REFERENCES @extschema@.statements ON DELETE CASCADE,
  analyzed_at  timestamptz NOT NULL,
  capture_id   bigint
);

-- A finding a DBA decided to live with, and why.
CREATE TABLE @extschema@.suppressions (
  fingerprint    text NOT NULL,
  rule           text NOT NULL,
  reason         text NOT NULL CHECK (btrim(reason) <> ''),
  suppressed_by  name NOT NULL DEFAULT CURRENT_USER,
  suppressed_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (fingerprint, rule)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.suppressions', '');

-- Analyze the statements that are new or have new samples since the last
-- analysis (all of them with all_statements => true): lint each text with its
-- runtime evidence summed over the retained history, and replace its
-- findings. The worker runs it after each capture, in its own transaction.
CREATE FUNCTION @extschema@.analyze(
  all_statements boolean DEFAULT false,
  OUT statements integer, OUT findings integer, OUT schema_findings integer)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  watermark bigint;
  newest bigint := (SELECT max(c.capture_id) FROM @extschema@.captures c);
  window_hours double precision :=
    (SELECT extract(epoch FROM max(c.captured_at) - min(coalesce(c.interval_start, c.captured_at))) / 3600
       FROM @extschema@.captures c);
BEGIN
  -- one analysis at a time (the worker and a DBA may both call it)
  PERFORM pg_advisory_xact_lock('@extschema@.statement_analysis'::regclass::oid::bigint);
  watermark := CASE WHEN all_statements THEN -1
                    ELSE coalesce((SELECT max(a.capture_id) FROM @extschema@.statement_analysis a), -1) END;

  CREATE TEMP TABLE pipeopt_analyze_todo ON COMMIT DROP AS
    SELECT st.fingerprint, st.query
      FROM @extschema@.statements st
     WHERE all_statements
        OR NOT EXISTS (SELECT 1 FROM @extschema@.statement_analysis a WHERE a.fingerprint = st.fingerprint)
        OR EXISTS (SELECT 1 FROM @extschema@.samples s
                    WHERE s.fingerprint = st.fingerprint AND s.capture_id > watermark);
  GET DIAGNOSTICS statements = ROW_COUNT;

  DELETE FROM @extschema@.statement_findings f
   USING pipeopt_analyze_todo t WHERE f.fingerprint = t.fingerprint;

  WITH evidence AS (
    SELECT s.fingerprint,
           jsonb_build_object(
             'calls', sum(s.calls), 'rows', sum(s.rows),
             'window_hours', coalesce(window_hours, 0),
             'total_exec_time', sum(s.total_exec_time), 'total_plan_time', sum(s.total_plan_time),
             'plans', sum(s.plans),
             'shared_blks_hit', sum(s.shared_blks_hit), 'shared_blks_read', sum(s.shared_blks_read),
             'temp_blks_written', sum(s.temp_blks_written),
             'jit_functions', sum(s.jit_functions), 'jit_time', sum(s.jit_time),
             -- pg_stat_statements entries of the statement: one per IN-list length, ...
             'queryids', (SELECT count(*) FROM @extschema@.statement_queryids q
                           WHERE q.fingerprint = s.fingerprint)) AS evidence
      FROM @extschema@.samples s
     WHERE s.fingerprint IN (SELECT t.fingerprint FROM pipeopt_analyze_todo t)
     GROUP BY s.fingerprint
  ), roles AS (
    -- the catalog rules analyze a statement as the local role that ran it
    -- most (none known: no catalog rules, never as the caller)
    SELECT DISTINCT ON (s.fingerprint) s.fingerprint, s.userid
      FROM @extschema@.samples s
      JOIN @extschema@.captures c ON c.capture_id = s.capture_id AND c.origin = 'local'
      JOIN pg_catalog.pg_roles r ON r.oid = s.userid
     WHERE s.fingerprint IN (SELECT t.fingerprint FROM pipeopt_analyze_todo t)
     GROUP BY s.fingerprint, s.userid
     ORDER BY s.fingerprint, sum(s.calls) DESC, s.userid
  ), found AS (
    INSERT INTO @extschema@.statement_findings (fingerprint, rule, severity, location, message, evidence)
    SELECT t.fingerprint, l.rule, l.severity, l.location, l.message, l.evidence
      FROM pipeopt_analyze_todo t
      LEFT JOIN evidence e ON e.fingerprint = t.fingerprint
      LEFT JOIN roles r ON r.fingerprint = t.fingerprint
     CROSS JOIN LATERAL @extschema@.lint(t.query, e.evidence, coalesce(r.userid, 0)::regrole) l
    RETURNING 1
  )
  SELECT count(*) INTO findings FROM found;

  INSERT INTO @extschema@.statement_analysis AS a (fingerprint, analyzed_at, capture_id)
  SELECT t.fingerprint, now(), newest FROM pipeopt_analyze_todo t
  ON CONFLICT (fingerprint) DO UPDATE SET analyzed_at = excluded.analyzed_at,
                                          capture_id = excluded.capture_id;
  DROP TABLE pipeopt_analyze_todo;

  -- the schema as it is now (catalog reads only), enabled rules only
  DELETE FROM @extschema@.schema_findings f;
  INSERT INTO @extschema@.schema_findings AS f (relid, schemaname, relname, rule, severity, message, evidence)
  SELECT s.relid, s.schemaname, s.relname, s.rule, s.severity, s.message, s.evidence
    FROM @extschema@._schema_rules() s
    JOIN @extschema@.rules() r ON r.id = s.rule AND r.enabled;
  GET DIAGNOSTICS schema_findings = ROW_COUNT;
END
$f$;
COMMENT ON FUNCTION @extschema@.analyze(boolean) IS
  'Find anti-patterns in captured statements that are new or have new samples (all with all_statements => true)';

CREATE FUNCTION @extschema@.suppress(fingerprint text, rule text, reason text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM @extschema@.rules() r WHERE r.id = suppress.rule) THEN
    RAISE EXCEPTION 'unknown rule "%"', rule
      USING ERRCODE = 'invalid_parameter_value',
            HINT = 'SELECT id FROM pipeopt.rules lists the rules.';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM @extschema@.statements s WHERE s.fingerprint = suppress.fingerprint) THEN
    RAISE EXCEPTION 'no captured statement has fingerprint "%"', fingerprint
      USING ERRCODE = 'no_data_found',
            HINT = 'Take the fingerprint from pipeopt.findings or pipeopt.top_statements.';
  END IF;
  IF reason IS NULL OR btrim(reason) = '' THEN
    RAISE EXCEPTION 'a suppression needs a reason'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'The reason is what the next person to read this finding will see.';
  END IF;
  INSERT INTO @extschema@.suppressions AS x (fingerprint, rule, reason)
  VALUES (suppress.fingerprint, suppress.rule, suppress.reason)
  ON CONFLICT ON CONSTRAINT suppressions_pkey
  DO UPDATE SET reason = excluded.reason, suppressed_by = CURRENT_USER, suppressed_at = now();
END
$f$;

CREATE FUNCTION @extschema@.unsuppress(fingerprint text, rule text)
RETURNS boolean
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH gone AS (
    DELETE FROM @extschema@.suppressions s
     WHERE s.fingerprint = unsuppress.fingerprint AND s.rule = unsuppress.rule
    RETURNING 1)
  SELECT count(*) > 0 FROM gone
$f$;

-- Findings people read: not suppressed, of enabled rules (a rule turned off
-- in pipeopt.disabled_rules disappears at once), ranked by the statement's share of
-- the total time of the retained history, then by severity; schema
-- findings (about a table, not a statement: fingerprint NULL, relation set)
-- after them.
CREATE VIEW @extschema@.findings AS
  SELECT * FROM (
    SELECT f.fingerprint, st.query, NULL::text AS relation, f.rule, r.category, f.severity,
           f.message, r.why, r.fix, f.evidence, f.location,
           coalesce(t.share_of_total_time, 0) AS share_of_total_time,
           coalesce(t.calls, 0) AS calls,
           coalesce(t.total_exec_time, 0) AS total_exec_time,
           f.found_at
      FROM @extschema@.statement_findings f
      JOIN @extschema@.statements st ON st.fingerprint = f.fingerprint
      JOIN @extschema@.rules() r ON r.id = f.rule AND r.enabled
      LEFT JOIN @extschema@.top_statements() t ON t.fingerprint = f.fingerprint
     WHERE NOT EXISTS (SELECT 1 FROM @extschema@.suppressions x
                        WHERE x.fingerprint = f.fingerprint AND x.rule = f.rule)
    UNION ALL
    SELECT NULL, NULL, format('%I.%I', s.schemaname, s.relname), s.rule, r.category, s.severity,
           s.message, r.why, r.fix, s.evidence, NULL,
           0, 0, 0, s.found_at
      FROM @extschema@.schema_findings s
      JOIN @extschema@.rules() r ON r.id = s.rule AND r.enabled
  ) f
  ORDER BY f.share_of_total_time DESC,
           CASE f.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
           f.fingerprint NULLS LAST, f.relation, f.location;
COMMENT ON VIEW @extschema@.findings IS
  'Anti-patterns in the captured workload, by the statement''s share of total time; suppressed ones left out';
