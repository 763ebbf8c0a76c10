/* The index advisor over the captured workload, and the recommendation store. */

-- ---------------------------------------------------------------------
-- The recommendation store: one row per piece of advice, whatever the
-- advisor. A recommendation says what to do as a structured target (OIDs
-- and attribute numbers, never SQL text); the DDL is built from it, with
-- the names as they are, only when it is shown or applied (_advice_ddl).
--
-- Status (this file moves proposed advice to obsolete and superseded;
-- 82_lifecycle.sql implements approval, application and rollback):
--   proposed -> approved -> applying -> applied -> verified | reverted | failed
--   proposed -> rejected
--   proposed -> obsolete    a run no longer proposes it (its reason is kept),
--                           or its target is gone
--   proposed -> superseded  a run proposes a wider index that serves it
--                           (superseded_by)
-- At most one open (proposed, approved, applying, reverting) recommendation
-- per target.
-- ---------------------------------------------------------------------

CREATE TABLE @extschema@.advice (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind             text NOT NULL CHECK (kind IN ('create_index', 'drop_index',
                                                 -- the storage advisor (87_storage.sql)
                                                 'create_statistics', 'set_table_storage',
                                                 'create_materialized_view',
                                                 -- the partition advisor (86_partition.sql)
                                                 'partition_table', 'drop_partitions')),
  status           text NOT NULL DEFAULT 'proposed'
                   CHECK (status IN ('proposed', 'approved', 'applying', 'applied', 'verified',
                                     'reverting', 'reverted', 'failed', 'rejected', 'obsolete',
                                     'superseded')),
  relid            oid NOT NULL,
  target           jsonb NOT NULL,
  target_key       text NOT NULL,
  estimated_bytes  bigint,
  saving_ms_per_hour double precision,
  cost_before      double precision,
  cost_after       double precision,
  maintenance_cost double precision,
  confidence       double precision CHECK (confidence BETWEEN 0 AND 1),
  risk             text CHECK (risk IN ('low', 'medium', 'high')),
  reason           text NOT NULL,
  evidence         jsonb NOT NULL DEFAULT '{}',
  run_id           bigint,
  status_reason    text,
  superseded_by    bigint,
  -- the decision (82_lifecycle.sql): who approved or rejected it, when and
  -- why; the specification and catalog state an approval is bound to
  decided_by       name,
  decided_at       timestamptz,
  decision_note    text,
  automatic        boolean NOT NULL DEFAULT false,
  approved_spec    text,
  approved_state   jsonb,
  -- application attempts, and when the next one may start (backoff)
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  created_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  updated_at       timestamptz NOT NULL DEFAULT pg_catalog.now(),
  status_changed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
CREATE UNIQUE INDEX advice_open_target ON @extschema@.advice (target_key)
  WHERE status IN ('proposed', 'approved', 'applying', 'reverting');
CREATE INDEX ON @extschema@.advice (status, kind);
COMMENT ON TABLE @extschema@.advice IS
  'The recommendation store: every advisor''s recommendations, targets as structured specifications';

-- The statements a recommendation is expected to speed up, as planned in
-- its run: cost today, with every recommendation of the run, and with all
-- of them but this one.
CREATE TABLE @extschema@.advice_statements (
  advice_id        bigint NOT NULL REFERENCES @extschema@.advice ON DELETE CASCADE,
  fingerprint      text NOT NULL,
  calls_per_hour   double precision NOT NULL,
  mean_ms          double precision NOT NULL,
  cost_before      double precision NOT NULL,
  cost_after       double precision NOT NULL,
  cost_without     double precision NOT NULL,
  saving_ms_per_hour double precision NOT NULL,
  PRIMARY KEY (advice_id, fingerprint)
);

-- One row per run of an advisor.
CREATE TABLE @extschema@.advisor_runs (
  run_id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  advisor              text NOT NULL,
  started_at           timestamptz NOT NULL,
  finished_at          timestamptz NOT NULL,
  budget_bytes         bigint,
  window_hours         double precision,
  statements           integer NOT NULL,
  statements_planned   integer NOT NULL,
  planner_calls        integer NOT NULL,
  workload_cost_before double precision,
  workload_cost_after  double precision,
  recommendations      integer NOT NULL
);

-- The last index advisor run: each statement it looked at (and why one
-- was left out), and each candidate it considered and did not recommend.
-- basis: how its costs were estimated: 'constants' (no $n), 'samples'
-- (the mean of custom plans over that many parameter samples), 'generic'
-- (no usable sample); samples_unusable of its samples did not convert to
-- the types of its $n or did not plan (sample_error says why the first).
CREATE TABLE @extschema@.advisor_statements (
  run_id       bigint NOT NULL,
  fingerprint  text NOT NULL,
  userid       oid,
  calls_per_hour double precision NOT NULL,
  mean_ms      double precision NOT NULL,
  cost_before  double precision,
  cost_after   double precision,
  error        text,
  basis        text CHECK (basis IN ('constants', 'generic', 'samples')),
  samples      integer NOT NULL DEFAULT 0,
  samples_unusable integer NOT NULL DEFAULT 0,
  sample_error text
);
CREATE TABLE @extschema@.index_candidates (
  run_id           bigint NOT NULL,
  relid            oid NOT NULL,
  attnums          smallint[] NOT NULL,
  definition       text NOT NULL,
  estimated_bytes  bigint,
  saving           double precision,
  maintenance_cost double precision,
  reason           text NOT NULL
);

-- The name of the index a create_index recommendation builds: its table,
-- its columns and the recommendation's id (so pipeopt can tell its own).
CREATE FUNCTION @extschema@._advice_index_name(target jsonb, id bigint)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT left(c.relname || '_' || string_agg(a.attname, '_' ORDER BY k.ord), 40) || '_pipeopt_' || id
    FROM pg_class c
   CROSS JOIN LATERAL jsonb_array_elements_text(target -> 'attnums') WITH ORDINALITY k(att, ord)
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.att::smallint AND NOT a.attisdropped
   WHERE c.oid = (target ->> 'relid')::oid
   GROUP BY c.relname
$f$;

-- The DDL of a recommendation, from its structured target and the catalogs
-- as they are now (names quoted one by one, never read back from text);
-- NULL when the target is gone.
CREATE FUNCTION @extschema@._advice_ddl(kind text, target jsonb, id bigint)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE kind
    WHEN 'create_index' THEN (
      SELECT format('CREATE INDEX CONCURRENTLY %I ON %I.%I USING %s (%s)',
                    @extschema@._advice_index_name(target, id),
                    n.nspname, c.relname,
                    -- a B-tree, or the storage advisor's BRIN
                    CASE target ->> 'method' WHEN 'brin' THEN 'brin' ELSE 'btree' END,
                    string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord))
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
       CROSS JOIN LATERAL jsonb_array_elements_text(target -> 'attnums') WITH ORDINALITY k(att, ord)
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.att::smallint AND NOT a.attisdropped
       WHERE c.oid = (target ->> 'relid')::oid AND c.relkind = 'r'
       GROUP BY c.relname, n.nspname
      HAVING count(a.attname) = count(*))
    WHEN 'drop_index' THEN (
      SELECT format('DROP INDEX CONCURRENTLY %I.%I', n.nspname, c.relname)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.oid = (target ->> 'indexrelid')::oid AND c.relkind = 'i')
    WHEN 'create_statistics' THEN @extschema@._storage_ddl(kind, target, id)
    WHEN 'set_table_storage' THEN @extschema@._storage_ddl(kind, target, id)
    WHEN 'create_materialized_view' THEN @extschema@._storage_ddl(kind, target, id)
    -- the partition advisor (80_partition_script.sql, 86_partition.sql)
    WHEN 'partition_table' THEN @extschema@._partition_script(target, id, 'apply')
    WHEN 'drop_partitions' THEN (
      SELECT string_agg(format(E'ALTER TABLE %I.%I DETACH PARTITION %I.%I;\nDROP TABLE %I.%I;',
                               pn.nspname, p.relname, n.nspname, c.relname, n.nspname, c.relname),
                        E'\n' ORDER BY j.o)
        FROM jsonb_array_elements(target -> 'partitions') WITH ORDINALITY j(part, o)
        JOIN pg_inherits i ON i.inhrelid = (j.part ->> 'relid')::oid AND i.inhparent = (target ->> 'relid')::oid
        JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace)
  END
$f$;

-- Indexes to drop: unused and duplicate or prefix-redundant B-trees (the
-- schema rules, which never name an index behind a primary key, a unique or
-- exclusion constraint, or the replica identity), and INVALID indexes that
-- no one is building now. One reason per index: the surest.
CREATE FUNCTION @extschema@._drop_candidates()
RETURNS TABLE (relid oid, indexrelid oid, rule text, message text, estimated_bytes bigint,
               confidence double precision, risk text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT DISTINCT ON (d.indexrelid) d.* FROM (
  SELECT s.relid, (s.evidence ->> 'index')::regclass::oid AS indexrelid, s.rule, s.message,
         (s.evidence ->> 'index_bytes')::bigint AS estimated_bytes,
         CASE s.rule WHEN 'unused-index' THEN 0.7 ELSE 0.9 END AS confidence,
         CASE s.rule WHEN 'unused-index' THEN 'medium' ELSE 'low' END AS risk
    FROM @extschema@._schema_rules() s
   WHERE s.rule IN ('unused-index', 'duplicate-or-redundant-index')
  UNION ALL
  SELECT i.indrelid, i.indexrelid, 'invalid-index',
         format('index %s is INVALID (a failed or interrupted build): it is maintained but never used',
                i.indexrelid::regclass),
         pg_relation_size(i.indexrelid), 0.95, 'low'
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE NOT i.indisvalid
     AND n.nspname NOT IN ('pg_catalog', 'information_schema', '@extschema@')
     AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp'
     -- not an index being built right now
     AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)
     AND NOT EXISTS (SELECT 1 FROM pg_locks l
                      WHERE l.locktype = 'relation' AND l.relation IN (i.indexrelid, i.indrelid)
                        AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database())
                        AND l.mode = 'ShareUpdateExclusiveLock' AND l.pid <> pg_backend_pid())
  ) d
  ORDER BY d.indexrelid, d.confidence DESC
$f$;

-- The parameter samples a statement is costed on, for _advise_indexes: the
-- newest pipeopt.param_samples_per_statement of the role it is planned as
-- (their values go through input functions as that role, and are that
-- role's data), numbered from $1 and covering every $n of its text; equal
-- values once, with their count. NULL: none (or the text has no $n).
CREATE FUNCTION @extschema@._plan_samples(fingerprint text, userid oid, query text)
RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT jsonb_agg(jsonb_build_object('params', to_jsonb(d.params), 'count', d.n) ORDER BY d.params)
    FROM (SELECT q.params, count(*) AS n
            FROM (SELECT p.params
                    FROM @extschema@.param_samples p
                   WHERE p.fingerprint = _plan_samples.fingerprint AND p.userid = _plan_samples.userid
                     AND p.first_param = 1
                     AND cardinality(p.params) >= (SELECT max(x::integer)
                                                     FROM unnest(@extschema@._param_symbols(query)) x)
                   ORDER BY p.sampled_at DESC
                   LIMIT current_setting('pipeopt.param_samples_per_statement')::integer) q
           GROUP BY q.params) d
$f$;

-- Run the index advisor over the captured workload: the statements that
-- took the most time in the retained history (up to max_statements), each
-- planned as the role that ran it most (on its parameter samples, if it
-- has usable ones), weighted by its calls per hour;
-- each table's writes per hour from its statistics. Records the run, its
-- statements and rejected candidates, and moves the recommendations
-- (see the status notes above).
-- ---------------------------------------------------------------------
-- The captured workload as the advisors take it (index, storage and
-- partition): the hours the local history covers (at least a minute), and
-- per statement that parses and was called, its calls, time and rows over
-- that history and the role that ran it most (one that still exists; NULL
-- when none does), which it is analyzed and planned as.
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._workload_hours()
RETURNS double precision
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT greatest(coalesce(extract(epoch FROM max(c.captured_at)
                                   - min(coalesce(c.interval_start, c.captured_at))) / 3600, 0),
                  1.0 / 60)::double precision
    FROM @extschema@.captures c WHERE c.origin = 'local'
$f$;

CREATE FUNCTION @extschema@._workload_statements()
RETURNS TABLE (fingerprint text, query text, kind text, userid oid, calls numeric,
               ms double precision, rows numeric)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH per_role AS (
    SELECT s.fingerprint, s.userid, sum(s.calls) AS calls, sum(s.total_exec_time) AS ms,
           sum(s.rows) AS rows
      FROM @extschema@.samples s
      JOIN @extschema@.captures c ON c.capture_id = s.capture_id AND c.origin = 'local'
     GROUP BY s.fingerprint, s.userid
  ), per_statement AS (
    SELECT p.fingerprint, sum(p.calls) AS calls, sum(p.ms) AS ms, sum(p.rows) AS rows,
           (array_agg(p.userid ORDER BY p.calls DESC, p.userid)
              FILTER (WHERE p.userid IN (SELECT r.oid FROM pg_roles r)))[1] AS userid
      FROM per_role p
     GROUP BY p.fingerprint
  )
  SELECT st.fingerprint, st.query, st.kind, p.userid, p.calls, p.ms, p.rows
    FROM per_statement p
    JOIN @extschema@.statements st ON st.fingerprint = p.fingerprint
   WHERE st.parse_error IS NULL AND p.calls > 0
$f$;

CREATE FUNCTION @extschema@.advise_indexes(
  budget text DEFAULT NULL, max_statements integer DEFAULT 200,
  OUT run_id bigint, OUT statements integer, OUT statements_planned integer,
  OUT recommendations integer, OUT drop_recommendations integer, OUT planner_calls integer,
  OUT workload_cost_before double precision, OUT workload_cost_after double precision)
RETURNS record
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  started timestamptz := clock_timestamp();
  budget_bytes bigint;
  hours double precision;
  result jsonb;
BEGIN
  IF max_statements IS NULL OR max_statements < 1 THEN
    RAISE EXCEPTION 'max_statements must be 1 or more'
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'It bounds how many of the most time-consuming statements are planned.';
  END IF;
  budget_bytes := @extschema@._budget_bytes(coalesce(budget, current_setting('pipeopt.index_budget')));
  -- one run at a time (the worker and a DBA may both call it)
  PERFORM pg_advisory_xact_lock('@extschema@.advisor_runs'::regclass::oid::bigint);

  hours := @extschema@._workload_hours();

  CREATE TEMP TABLE pipeopt_advise_stmts ON COMMIT DROP AS
  SELECT w.fingerprint, w.query, w.userid, w.calls / hours AS calls_per_hour,
         w.ms / greatest(w.calls, 1) AS mean_ms, w.rows / greatest(w.calls, 1) AS rows_per_call
    FROM @extschema@._workload_statements() w
   WHERE w.kind IN ('select', 'insert', 'update', 'delete', 'merge')
   ORDER BY w.ms DESC, w.fingerprint
   LIMIT max_statements;
  GET DIAGNOSTICS statements = ROW_COUNT;

  WITH writes AS (
    SELECT s.relid, sum(s.n_tup_ins) / hours AS ins, sum(s.n_tup_upd) / hours AS upd,
           sum(s.n_tup_hot_upd) / hours AS hot,
           (SELECT count(*)::integer FROM pg_index i WHERE i.indrelid = s.relid) AS indexes
      FROM @extschema@.table_samples s
      JOIN @extschema@.captures c ON c.capture_id = s.capture_id AND c.origin = 'local'
     GROUP BY s.relid
  )
  SELECT @extschema@._advise_indexes(
           (SELECT array_agg(t.fingerprint ORDER BY t.fingerprint) FROM pipeopt_advise_stmts t),
           (SELECT array_agg(t.query ORDER BY t.fingerprint) FROM pipeopt_advise_stmts t),
           (SELECT array_agg(t.userid ORDER BY t.fingerprint) FROM pipeopt_advise_stmts t),
           (SELECT array_agg(t.calls_per_hour ORDER BY t.fingerprint) FROM pipeopt_advise_stmts t),
           (SELECT array_agg(t.rows_per_call ORDER BY t.fingerprint) FROM pipeopt_advise_stmts t),
           budget_bytes,
           current_setting('pipeopt.max_index_columns')::integer,
           coalesce((SELECT array_agg(w.relid ORDER BY w.relid) FROM writes w), '{}'),
           coalesce((SELECT array_agg(w.ins ORDER BY w.relid) FROM writes w), '{}'),
           coalesce((SELECT array_agg(w.upd ORDER BY w.relid) FROM writes w), '{}'),
           coalesce((SELECT array_agg(w.hot ORDER BY w.relid) FROM writes w), '{}'),
           coalesce((SELECT array_agg(w.indexes ORDER BY w.relid) FROM writes w), '{}'),
           (SELECT array_agg(@extschema@._plan_samples(t.fingerprint, t.userid, t.query) ORDER BY t.fingerprint)
              FROM pipeopt_advise_stmts t))
    INTO result;
  result := coalesce(result, '{"statements": [], "chosen": [], "rejected": [], "planner_calls": 0, "statements_planned": 0}');

  statements_planned := (result ->> 'statements_planned')::integer;
  planner_calls := (result ->> 'planner_calls')::integer;
  workload_cost_before := (result ->> 'before')::double precision;
  workload_cost_after := (result ->> 'after')::double precision;

  INSERT INTO @extschema@.advisor_runs AS r
         (advisor, started_at, finished_at, budget_bytes, window_hours, statements,
          statements_planned, planner_calls, workload_cost_before, workload_cost_after, recommendations)
  VALUES ('index', started, clock_timestamp(), budget_bytes, hours, statements,
          statements_planned, planner_calls, workload_cost_before, workload_cost_after, 0)
  RETURNING r.run_id INTO run_id;

  DELETE FROM @extschema@.advisor_statements;
  INSERT INTO @extschema@.advisor_statements
  SELECT run_id, t.fingerprint, t.userid, t.calls_per_hour, t.mean_ms,
         (j ->> 'cost_before')::double precision, (j ->> 'cost_after')::double precision, j ->> 'error',
         j ->> 'basis', (j ->> 'samples')::integer, (j ->> 'samples_unusable')::integer,
         j ->> 'sample_error'
    FROM jsonb_array_elements(result -> 'statements') j
    JOIN pipeopt_advise_stmts t ON t.fingerprint = j ->> 'label';

  DELETE FROM @extschema@.index_candidates;
  INSERT INTO @extschema@.index_candidates
  SELECT run_id, (j ->> 'relid')::oid,
         ARRAY(SELECT x::smallint FROM jsonb_array_elements_text(j -> 'attnums') x),
         j ->> 'definition', (j ->> 'bytes')::bigint, (j ->> 'saving')::double precision,
         (j ->> 'maintenance')::double precision, j ->> 'reason'
    FROM jsonb_array_elements(result -> 'rejected') j;

  -- this run's chosen indexes, and each one's affected statements
  CREATE TEMP TABLE pipeopt_advise_chosen ON COMMIT DROP AS
    SELECT j, (j ->> 'relid')::oid AS relid,
           'create_index:' || (j ->> 'relid') || ':' || (j -> 'attnums')::text AS target_key
      FROM jsonb_array_elements(result -> 'chosen') j;
  CREATE TEMP TABLE pipeopt_advise_affected ON COMMIT DROP AS
    SELECT c.target_key, t.fingerprint, t.calls_per_hour, t.mean_ms,
           (s ->> 'cost_before')::double precision AS cost_before,
           (s ->> 'cost_after')::double precision AS cost_after,
           (s ->> 'cost_without')::double precision AS cost_without,
           -- measured time scaled by the share of the planner's cost it saves
           t.calls_per_hour * t.mean_ms
             * greatest((s ->> 'cost_without')::double precision - (s ->> 'cost_after')::double precision, 0)
             / greatest((s ->> 'cost_before')::double precision, 1e-9) AS saving_ms_per_hour,
           a.basis,
           -- how far its plans stand for its executions (see advise.md)
           CASE a.basis WHEN 'constants' THEN 1
                        WHEN 'samples' THEN 0.6 + 0.3 * least(a.samples / 4.0, 1)
                        ELSE 0.6 END AS basis_factor,
           t.calls_per_hour * hours AS calls
      FROM pipeopt_advise_chosen c
     CROSS JOIN LATERAL jsonb_array_elements(c.j -> 'statements') s
      JOIN pipeopt_advise_stmts t ON t.fingerprint = s ->> 'label'
      JOIN @extschema@.advisor_statements a ON a.run_id = advise_indexes.run_id AND a.fingerprint = t.fingerprint;

  -- this run's advice: new indexes, then indexes to drop
  CREATE TEMP TABLE pipeopt_advise_new ON COMMIT DROP AS
  SELECT 'create_index'::text AS kind, c.relid, c.target_key,
         jsonb_build_object('relid', c.relid, 'method', 'btree', 'attnums', c.j -> 'attnums') AS target,
         (c.j ->> 'bytes')::bigint AS estimated_bytes,
         coalesce(a.saving, 0) AS saving_ms_per_hour,
         a.cost_before, a.cost_after,
         (c.j ->> 'maintenance')::double precision AS maintenance_cost,
         -- confidence: the evidence (calls seen, up to 30), the plans'
         -- basis (constants, parameter samples, or generic plans) and the
         -- kind's record of predicted against actual savings (88_feedback.sql)
         least(round((0.95 * (0.5 + 0.5 * least(coalesce(a.calls, 0) / 30.0, 1))
                       * coalesce(a.basis, 1)
                       * @extschema@._confidence_factor('create_index'))::numeric, 2), 0.99)::double precision
           AS confidence,
         CASE WHEN (c.j ->> 'maintenance')::double precision > 0.1 * (c.j ->> 'saving')::double precision
                OR pg_relation_size(c.relid) > 10737418240 THEN 'medium' ELSE 'low' END AS risk,
         format('saves %s planner cost per hour over %s statements; %s', round((c.j ->> 'saving')::numeric),
                coalesce(a.n, 0), c.j ->> 'definition') AS reason,
         jsonb_build_object('definition', c.j ->> 'definition',
                            'saving_cost_per_hour', (c.j -> 'saving'),
                            'maintenance_cost_per_hour', (c.j -> 'maintenance'),
                            'calls', coalesce(a.calls, 0), 'generic_plans', coalesce(a.generic, 0),
                            'sampled_plans', coalesce(a.sampled, 0)) AS evidence
    FROM pipeopt_advise_chosen c
    LEFT JOIN LATERAL (
      SELECT sum(f.saving_ms_per_hour) AS saving, count(*) AS n, sum(f.calls) AS calls,
             sum(f.calls_per_hour * f.cost_without) AS cost_before,
             sum(f.calls_per_hour * f.cost_after) AS cost_after,
             count(*) FILTER (WHERE f.basis = 'generic') AS generic,
             count(*) FILTER (WHERE f.basis = 'samples') AS sampled,
             sum(f.basis_factor * (f.saving_ms_per_hour + 1e-9))
               / sum(f.saving_ms_per_hour + 1e-9) AS basis
        FROM pipeopt_advise_affected f WHERE f.target_key = c.target_key) a ON true
  UNION ALL
  SELECT 'drop_index', d.relid, 'drop_index:' || d.indexrelid,
         jsonb_build_object('relid', d.relid, 'indexrelid', d.indexrelid, 'rule', d.rule),
         d.estimated_bytes, NULL, NULL, NULL, NULL,
         least(round((d.confidence * @extschema@._confidence_factor('drop_index'))::numeric, 2), 0.99)::double precision,
         d.risk, d.message,
         jsonb_build_object('rule', d.rule)
    FROM @extschema@._drop_candidates() d;

  -- proposed advice this run repeats: refreshed
  UPDATE @extschema@.advice a
     SET estimated_bytes = n.estimated_bytes, saving_ms_per_hour = n.saving_ms_per_hour,
         cost_before = n.cost_before, cost_after = n.cost_after, maintenance_cost = n.maintenance_cost,
         confidence = n.confidence, risk = n.risk, reason = n.reason, evidence = n.evidence,
         run_id = advise_indexes.run_id, updated_at = now()
    FROM pipeopt_advise_new n
   WHERE a.target_key = n.target_key AND a.status = 'proposed';
  -- advice new to this run
  INSERT INTO @extschema@.advice (kind, relid, target, target_key, estimated_bytes, saving_ms_per_hour,
                                  cost_before, cost_after, maintenance_cost, confidence, risk, reason,
                                  evidence, run_id)
  SELECT n.kind, n.relid, n.target, n.target_key, n.estimated_bytes, n.saving_ms_per_hour,
         n.cost_before, n.cost_after, n.maintenance_cost, n.confidence, n.risk, n.reason, n.evidence, run_id
    FROM pipeopt_advise_new n
   WHERE NOT EXISTS (SELECT 1 FROM @extschema@.advice a
                      WHERE a.target_key IN (n.target_key, n.target_key || ':brin')
                        AND a.status IN ('proposed', 'approved', 'applying', 'reverting'));
  GET DIAGNOSTICS recommendations = ROW_COUNT;
  -- the affected statements of this run's proposed advice
  DELETE FROM @extschema@.advice_statements s
   USING @extschema@.advice a WHERE a.id = s.advice_id AND a.run_id = advise_indexes.run_id;
  INSERT INTO @extschema@.advice_statements
  SELECT a.id, f.fingerprint, f.calls_per_hour, f.mean_ms, f.cost_before, f.cost_after,
         f.cost_without, f.saving_ms_per_hour
    FROM pipeopt_advise_affected f
    JOIN @extschema@.advice a
      ON a.target_key = f.target_key AND a.run_id = advise_indexes.run_id AND a.status = 'proposed';

  -- proposed advice this run no longer gives: superseded by a wider index
  -- on the same leading columns, else obsolete (with the candidate's reason)
  UPDATE @extschema@.advice a
     SET status = 'superseded', superseded_by = w.id, status_changed_at = now(),
         status_reason = format('recommendation %s builds a wider index that serves it', w.id)
    FROM @extschema@.advice w
   WHERE a.status = 'proposed' AND a.kind = 'create_index' AND a.run_id IS DISTINCT FROM advise_indexes.run_id
     AND a.target ->> 'method' = 'btree'
     AND w.run_id = advise_indexes.run_id AND w.kind = 'create_index' AND w.status = 'proposed'
     AND w.relid = a.relid
     AND jsonb_array_length(w.target -> 'attnums') > jsonb_array_length(a.target -> 'attnums')
     AND (SELECT array_agg(x) FROM jsonb_array_elements(w.target -> 'attnums') WITH ORDINALITY e(x, o)
           WHERE o <= jsonb_array_length(a.target -> 'attnums'))
         = (SELECT array_agg(x) FROM jsonb_array_elements(a.target -> 'attnums') x);
  UPDATE @extschema@.advice a
     SET status = 'obsolete', status_changed_at = now(),
         status_reason = coalesce(
           (SELECT 'no longer recommended: ' || c.reason FROM @extschema@.index_candidates c
             WHERE a.kind = 'create_index' AND c.relid = a.relid
               AND c.attnums = ARRAY(SELECT x::smallint FROM jsonb_array_elements_text(a.target -> 'attnums') x)
             LIMIT 1),
           CASE WHEN @extschema@._advice_ddl(a.kind, a.target, a.id) IS NULL THEN 'its target is gone'
                ELSE 'no longer recommended' END)
   WHERE a.status = 'proposed' AND a.run_id IS DISTINCT FROM advise_indexes.run_id
     -- this advisor's own advice only (not the storage advisor's BRIN)
     AND a.kind IN ('create_index', 'drop_index') AND coalesce(a.target ->> 'method', 'btree') = 'btree';

  SELECT count(*) FILTER (WHERE a.kind = 'create_index'), count(*) FILTER (WHERE a.kind = 'drop_index')
    INTO recommendations, drop_recommendations
    FROM @extschema@.advice a WHERE a.run_id = advise_indexes.run_id AND a.status = 'proposed';
  UPDATE @extschema@.advisor_runs r SET recommendations = advise_indexes.recommendations + drop_recommendations,
                                        finished_at = clock_timestamp()
   WHERE r.run_id = advise_indexes.run_id;
  DROP TABLE pipeopt_advise_stmts, pipeopt_advise_chosen, pipeopt_advise_affected, pipeopt_advise_new;
END
$f$;
COMMENT ON FUNCTION @extschema@.advise_indexes(text, integer) IS
  'Recommend the indexes that save the captured workload the most time within budget (pipeopt.index_budget by default), and indexes to drop; each statement planned as the role that ran it';

-- Index advice for people: what to build or drop, the exact statement that
-- would run, and what it is expected to save.
CREATE VIEW @extschema@.index_advice AS
SELECT a.id, a.kind, a.status,
       CASE WHEN c.oid IS NOT NULL THEN format('%I.%I', n.nspname, c.relname) END AS relation,
       @extschema@._advice_ddl(a.kind, a.target, a.id) AS statement,
       a.estimated_bytes,
       round(a.saving_ms_per_hour::numeric, 1) AS saving_ms_per_hour,
       (SELECT count(*) FROM @extschema@.advice_statements s WHERE s.advice_id = a.id) AS statements,
       round(a.cost_before::numeric) AS cost_before, round(a.cost_after::numeric) AS cost_after,
       a.confidence, a.risk, a.reason, a.status_reason, a.created_at, a.updated_at
  FROM @extschema@.advice a
  LEFT JOIN pg_catalog.pg_class c ON c.oid = a.relid
  LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
 WHERE a.kind IN ('create_index', 'drop_index');
COMMENT ON VIEW @extschema@.index_advice IS
  'Indexes to create or drop, with the statement each would run and its expected saving';

CREATE FUNCTION @extschema@._advise_indexes(
  labels text[], texts text[], roles oid[], calls double precision[], rows_per_call double precision[],
  budget_bytes bigint, max_columns integer,
  tables oid[], inserts double precision[], updates double precision[],
  hot_updates double precision[], indexes integer[], samples jsonb[])
RETURNS jsonb
AS 'MODULE_PATHNAME', 'pipeopt_advise_indexes_internal'
LANGUAGE C VOLATILE;

CREATE FUNCTION @extschema@._budget_bytes(budget text)
RETURNS bigint
AS 'MODULE_PATHNAME', 'pipeopt_budget_bytes_sql'
LANGUAGE C IMMUTABLE STRICT;
