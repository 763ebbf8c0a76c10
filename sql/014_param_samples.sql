-- Parameter samples: example values of the $n of captured statements,
-- numbered as pg_stat_statements numbers its constants.

SET pipeopt.param_sample_rate = 0;  -- the default samples 1% at random
CREATE TABLE regress_ps (id int, c text, d date, n numeric);
-- Other tests sample 1% of their statements at random: start empty.
SELECT count(*) >= 0 AS drained FROM pipeopt._drain_param_samples();
DELETE FROM pipeopt.param_samples;
CREATE TYPE regress_ps_mood AS ENUM ('sad', 'ok');
CREATE ROLE regress_ps_role LOGIN;
SELECT skipped AS skipped_before FROM pipeopt.param_sample_stats() \gset

-- 1. What the ring receives, drained by hand.
SET pipeopt.param_sample_rate = 1;
SELECT count(*) FROM regress_ps WHERE id = 42 AND c = 'it''s' AND d = date '2024-02-29';
SELECT count(*) FROM regress_ps WHERE id = -7 AND n > - 1.5 AND n < 1e3;
SELECT count(*) FROM regress_ps WHERE id IN (1, 2, 3) OR c = E'tab\there' OR c = $$dollar$$;
SELECT count(*), NULL AS nothing FROM regress_ps WHERE true LIMIT ALL;
PREPARE regress_ps_q(int, text) AS
  SELECT count(*) FROM regress_ps WHERE id = $1 AND c = $2 AND n = 99;
EXECUTE regress_ps_q(17, 'seven''teen');
EXECUTE regress_ps_q(18, NULL);
-- a value of a type whose output function is not built in: no bind sample
PREPARE regress_ps_enum(regress_ps_mood) AS SELECT count(*) FROM regress_ps WHERE c = $1::text;
EXECUTE regress_ps_enum('ok');
-- bound dates, times and intervals are kept in ISO form, whatever the
-- session's DateStyle and IntervalStyle
SET DateStyle = 'SQL, DMY';
SET IntervalStyle = 'sql_standard';
PREPARE regress_ps_d(date, timestamptz, interval) AS
  SELECT count(*) FROM regress_ps WHERE d = $1 OR d < $2 OR d > now() - $3;
EXECUTE regress_ps_d('29/02/2024', '31/12/2024 10:00 UTC', '2 days 3 hours');
RESET DateStyle;
RESET IntervalStyle;
-- a value longer than 200 bytes: no sample
SELECT count(*) FROM regress_ps WHERE c = 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
-- utility statements are never sampled
ALTER ROLE regress_ps_role PASSWORD 'hunter2-param-sample';
SET pipeopt.param_sample_rate = 0;
-- turned off: nothing
SELECT count(*) FROM regress_ps WHERE id = 1234;
EXECUTE regress_ps_q(19, 'nineteen');

CREATE TEMP TABLE ring AS SELECT * FROM pipeopt._drain_param_samples();
SELECT r.source, r.first_param, r.params, s.query
  FROM ring r LEFT JOIN pg_stat_statements s ON s.queryid = r.queryid AND s.userid = r.userid
 WHERE s.query LIKE '%regress_ps%'
 ORDER BY r.sampled_at, r.source;
SELECT count(*) AS secrets FROM ring WHERE array_to_string(params, ',') ~ 'hunter2|1234|nineteen';
SELECT skipped - :skipped_before AS skipped FROM pipeopt.param_sample_stats();
DROP TABLE ring;

-- 2. A capture stores them under the statement's fingerprint; params[k]
-- is $(first_param + k - 1) of the statement's text.
SELECT baseline IS NOT NULL AS captured FROM pipeopt.capture();
DEALLOCATE regress_ps_q;
SET pipeopt.param_sample_rate = 1;
-- the same location twice in the tree (BETWEEN SYMMETRIC): one $n
SELECT count(*) FROM regress_ps WHERE id BETWEEN SYMMETRIC 10 AND 5 OR n = 0.5;
SELECT count(*) FROM regress_ps WHERE d > date '2025-01-01' AND c LIKE 'a%';
PREPARE regress_ps_q(int, text) AS
  SELECT count(*) FROM regress_ps WHERE id = $1 AND c = $2 AND n = 99;
EXECUTE regress_ps_q(20, 'twenty');
-- not in pg_stat_statements, so no queryid maps it to a statement: dropped
SET pg_stat_statements.track = none;
SELECT count(*) FROM regress_ps WHERE n = 555;
RESET pg_stat_statements.track;
SET pipeopt.param_sample_rate = 0;
SELECT baseline IS NOT NULL AS captured FROM pipeopt.capture();
SELECT source, first_param, params, query
  FROM pipeopt.parameter_samples
 WHERE query LIKE '%regress_ps%'
 ORDER BY sampled_at, source;
SELECT count(*) AS untracked FROM pipeopt.param_samples WHERE params = '{555}';
-- every literal sample covers exactly the $n after the statement's own
SELECT count(*) AS literal_samples,
       count(*) FILTER (WHERE first_param + cardinality(params) - 1 =
                        (SELECT max(m[1]::integer) FROM regexp_matches(query, '\$(\d+)', 'g') m))
         AS covering
  FROM pipeopt.parameter_samples
 WHERE source = 'literal' AND query LIKE '%regress_ps%';

-- A queryid whose text numbers its $n otherwise than the statement's
-- stored text (same fingerprint, a value bound where the other has a
-- constant): its samples are dropped.
SELECT count(*) FROM regress_ps WHERE c = 'k' AND id = 7;
SELECT baseline IS NOT NULL AS captured FROM pipeopt.capture();
SET pg_stat_statements.track = 'all';
SET pipeopt.param_sample_rate = 1;
DO $$ BEGIN EXECUTE 'SELECT count(*) FROM regress_ps WHERE c = ''k'' AND id = $1' USING 8; END $$;
SELECT count(*) FROM regress_ps WHERE c = 'm' AND id = 9;
SET pipeopt.param_sample_rate = 0;
RESET pg_stat_statements.track;
SELECT baseline IS NOT NULL AS captured FROM pipeopt.capture();
SELECT s.query, c.numbered_alike
  FROM pipeopt.param_sample_queryids c
  JOIN (SELECT DISTINCT queryid, query FROM pg_stat_statements) s USING (queryid)
 WHERE s.query LIKE '%regress_ps WHERE c = %'
 ORDER BY 1;
SELECT source, first_param, params, query
  FROM pipeopt.parameter_samples
 WHERE query LIKE '%regress_ps WHERE c = %'
 ORDER BY sampled_at, source;

-- 3. Only the newest pipeopt.param_samples_per_statement per statement and
-- role are kept, and nothing older than pipeopt.retention.
SET pipeopt.param_samples_per_statement = 2;
SET pipeopt.param_sample_rate = 1;
SELECT count(*) FROM regress_ps WHERE id = 101;
SELECT count(*) FROM regress_ps WHERE id = 102;
SELECT count(*) FROM regress_ps WHERE id = 103;
SET pipeopt.param_sample_rate = 0;
INSERT INTO pipeopt.param_samples
SELECT fingerprint, queryid, userid, now() - interval '30 days', source, first_param, '{old}'
  FROM pipeopt.param_samples WHERE params = '{17,seven''teen}';
SELECT baseline IS NOT NULL AS captured FROM pipeopt.capture();
SELECT p.params
  FROM pipeopt.param_samples p JOIN pipeopt.statements st USING (fingerprint)
 WHERE st.query = 'SELECT count(*) FROM regress_ps WHERE id = $1'
 ORDER BY p.sampled_at;
SELECT count(*) AS expired FROM pipeopt.param_samples WHERE params = '{old}';
RESET pipeopt.param_samples_per_statement;

-- 4. A drain takes the current database's samples only.
SELECT pending AS pending_before FROM pipeopt.param_sample_stats() \gset
SET pipeopt.param_sample_rate = 1;
SELECT 434343 AS here;
SET pipeopt.param_sample_rate = 0;
CREATE DATABASE regress_ps_other;
\c regress_ps_other
SET pipeopt.param_sample_rate = 1;
SELECT 424242 AS elsewhere;
\c contrib_regression
SET pipeopt.param_sample_rate = 0;
SELECT params AS here FROM pipeopt._drain_param_samples();
SELECT pending - :pending_before AS elsewhere FROM pipeopt.param_sample_stats();
DROP DATABASE regress_ps_other;

-- 5. Who sees them: roles with the privileges of pg_read_all_stats.
CREATE SCHEMA regress_ps_own AUTHORIZATION regress_ps_role;
SET ROLE regress_ps_role;
SELECT count(*) AS visible FROM pipeopt.parameter_samples;
SELECT count(*) FROM pipeopt.param_samples;
SELECT * FROM pipeopt.param_sample_stats();
-- a function of the caller's in the WHERE clause sees no row either
CREATE FUNCTION regress_ps_own.peek(text[]) RETURNS boolean
  LANGUAGE plpgsql COST 0.0000001 AS $$BEGIN RAISE NOTICE 'peeked at %', $1; RETURN true; END$$;
SELECT count(*) AS visible FROM pipeopt.parameter_samples WHERE regress_ps_own.peek(params);
RESET ROLE;
GRANT pg_read_all_stats TO regress_ps_role;
SET ROLE regress_ps_role;
SELECT count(*) > 0 AS visible FROM pipeopt.parameter_samples;
SELECT count(*) > 0 AS readable FROM pipeopt.param_samples;
SELECT slots FROM pipeopt.param_sample_stats();
SELECT count(*) FROM pipeopt._drain_param_samples();
RESET ROLE;

DROP SCHEMA regress_ps_own CASCADE;
DROP ROLE regress_ps_role;
DEALLOCATE regress_ps_q;
DEALLOCATE regress_ps_enum;
DROP TABLE regress_ps;
DROP TYPE regress_ps_mood;
