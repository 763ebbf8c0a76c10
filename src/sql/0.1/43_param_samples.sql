/* Capture, part 3: example values of statement parameters (parameter samples). */

-- Values of the $n of captured statements, from a sampled fraction of
-- executions (pipeopt.param_sample_rate; src/capture/param_sample.h).
-- params[k] is the value of $(first_param + k - 1) in the statement's
-- stored text (statements.query; see param_sample_queryids below); a
-- literal sample starts after the statement's own $n (first_param > 1 when
-- it has some), a bind sample always at $1.
CREATE TABLE @extschema@.param_samples (
  fingerprint  text NOT NULL REFERENCES @extschema@.statements ON DELETE CASCADE,
  queryid      bigint NOT NULL,
  userid       oid NOT NULL,
  sampled_at   timestamptz NOT NULL,
  source       text NOT NULL CHECK (source IN ('literal', 'bind')),
  first_param  integer NOT NULL,
  params       text[] NOT NULL
);
CREATE INDEX ON @extschema@.param_samples (fingerprint, sampled_at);
CREATE INDEX ON @extschema@.param_samples (sampled_at);
COMMENT ON TABLE @extschema@.param_samples IS
  'Example values of the $n of captured statements: params[k] is $(first_param + k - 1)';

CREATE FUNCTION @extschema@._drain_param_samples(
  OUT sampled_at timestamptz, OUT userid oid, OUT queryid bigint,
  OUT source text, OUT first_param integer, OUT params text[])
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pipeopt_drain_param_samples'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@._drain_param_samples() IS
  'Remove and return the parameter samples of the current database from the shared ring';

CREATE FUNCTION @extschema@.param_sample_stats(
  OUT slots integer, OUT pending integer, OUT sampled bigint,
  OUT overwritten bigint, OUT skipped bigint)
RETURNS record
AS 'MODULE_PATHNAME', 'pipeopt_param_sample_stats_sql'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.param_sample_stats() IS
  'The ring of parameter samples: its size, entries not drained yet, and counters since server start';

-- Whether the $n of a queryid's pg_stat_statements text are those of its
-- statement's stored text. One statement (fingerprint) can have queryids
-- whose texts number their $n differently: "c = 'x' AND id = 5" gives
-- "c = $1 AND id = $2", the same with id bound by the client gives
-- "c = $2 AND id = $1". A queryid's samples are kept only if its text has
-- the same $n in the same order as statements.query, so that params[k] is
-- always the value of $(first_param + k - 1) in statements.query. Checked
-- once per queryid, when it is first sampled (the only time capture reads
-- texts for parameter samples).
CREATE TABLE @extschema@.param_sample_queryids (
  queryid         bigint PRIMARY KEY
                  REFERENCES @extschema@.statement_queryids ON DELETE CASCADE,
  numbered_alike  boolean NOT NULL
);
COMMENT ON TABLE @extschema@.param_sample_queryids IS
  'Queryids whose pg_stat_statements text numbers its $n as the statement''s stored text does (internal)';

-- The $n of a text, in order of appearance.
CREATE FUNCTION @extschema@._param_symbols(query text)
RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT ARRAY(SELECT m[1] FROM regexp_matches(query, '[$]([0-9]+)', 'g') AS m)
$f$;

-- One step of capture(), after the statements are registered: drain the
-- ring, keep the samples of known queryids numbered like their statement's
-- text (the others are dropped), then keep only the newest
-- pipeopt.param_samples_per_statement per statement and role, and nothing
-- older than pipeopt.retention.
CREATE FUNCTION @extschema@._store_param_samples(pgss text, dbid oid, now_ts timestamptz)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $f$
DECLARE
  keep integer := current_setting('pipeopt.param_samples_per_statement')::integer;
  cutoff timestamptz := now_ts - make_interval(mins =>
      (SELECT s.setting::integer FROM pg_settings s WHERE s.name = 'pipeopt.retention'));
  qids bigint[];
  unchecked bigint[];
BEGIN
  WITH ins AS (
    INSERT INTO @extschema@.param_samples
           (fingerprint, queryid, userid, sampled_at, source, first_param, params)
    SELECT m.fingerprint, d.queryid, d.userid, d.sampled_at, d.source,
           d.first_param, d.params
      FROM @extschema@._drain_param_samples() d
      JOIN @extschema@.statement_queryids m ON m.queryid = d.queryid
     WHERE keep > 0 AND d.sampled_at > cutoff
    RETURNING param_samples.queryid
  )
  SELECT array_agg(DISTINCT i.queryid) INTO qids FROM ins i;

  IF qids IS NOT NULL THEN
    unchecked := ARRAY(SELECT q FROM unnest(qids) AS q
                        WHERE NOT EXISTS (SELECT 1 FROM @extschema@.param_sample_queryids c
                                           WHERE c.queryid = q));
    IF cardinality(unchecked) > 0 THEN
      EXECUTE format($q$
        INSERT INTO @extschema@.param_sample_queryids (queryid, numbered_alike)
        SELECT DISTINCT ON (s.queryid) s.queryid,
               @extschema@._param_symbols(s.query) = @extschema@._param_symbols(st.query)
          FROM %I.pg_stat_statements(true) s
          JOIN @extschema@.statement_queryids m ON m.queryid = s.queryid
          JOIN @extschema@.statements st ON st.fingerprint = m.fingerprint
         WHERE s.dbid = $1 AND s.queryid = ANY ($2) AND s.query IS NOT NULL
         ORDER BY s.queryid
        ON CONFLICT (queryid) DO NOTHING$q$, pgss)
        USING dbid, unchecked;
    END IF;
    -- a queryid gone from pg_stat_statements meanwhile is checked next time
    DELETE FROM @extschema@.param_samples p
     WHERE p.queryid = ANY (qids)
       AND NOT EXISTS (SELECT 1 FROM @extschema@.param_sample_queryids c
                        WHERE c.queryid = p.queryid AND c.numbered_alike);

    DELETE FROM @extschema@.param_samples x
     WHERE x.ctid IN (
       SELECT r.ctid
         FROM (SELECT q.ctid,
                      row_number() OVER (PARTITION BY q.fingerprint, q.userid
                                         ORDER BY q.sampled_at DESC) AS rn
                 FROM @extschema@.param_samples q
                WHERE q.fingerprint IN (SELECT m.fingerprint
                                          FROM @extschema@.statement_queryids m
                                         WHERE m.queryid = ANY (qids))) r
        WHERE r.rn > keep);
  END IF;
  DELETE FROM @extschema@.param_samples x WHERE x.sampled_at <= cutoff;
END
$f$;

-- Parameter values are data: only roles that may read every role's
-- statistics see them. security_barrier keeps a caller's own functions in
-- a WHERE clause from seeing rows before the privilege check does.
CREATE VIEW @extschema@.parameter_samples WITH (security_barrier) AS
  SELECT p.fingerprint, st.query, p.queryid, p.userid, p.sampled_at, p.source,
         p.first_param, p.params
    FROM @extschema@.param_samples p
    JOIN @extschema@.statements st ON st.fingerprint = p.fingerprint
   WHERE pg_catalog.pg_has_role(CURRENT_USER, 'pg_read_all_stats'::pg_catalog.name, 'USAGE');
COMMENT ON VIEW @extschema@.parameter_samples IS
  'Parameter samples with their statement text; rows only for roles with the privileges of pg_read_all_stats';
