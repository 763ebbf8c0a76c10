-- The index advisor costs a statement with $n parameters on its parameter
-- samples: the mean of custom plans over the sampled values, instead of
-- a generic plan's default selectivities (a third of the table for
-- created_at > $1). Known answer: an index that pays for its writes only
-- for statements as selective as their samples show.
SET jit = off;
SET pipeopt.param_sample_rate = 0;
SELECT current_user AS su \gset
CREATE SCHEMA ps16;
-- 200,000 rows whose created_at is not in the table's physical order
CREATE TABLE ps16.events (id int NOT NULL, created_at timestamptz NOT NULL,
                          amount numeric NOT NULL, kind int NOT NULL, note text);
INSERT INTO ps16.events
SELECT g, timestamptz '2025-01-01 00:00+00' + ((g::bigint * 7919) % 200000) * interval '1 minute',
       g % 1000, g % 10, repeat('x', 80)
  FROM generate_series(1, 200000) g;
VACUUM ANALYZE ps16.events;
-- loaded before the advisor's window: the load is no write load
SELECT pg_stat_force_next_flush();
SELECT pg_stat_reset_single_table_counters('ps16.events'::regclass);
SELECT baseline FROM pipeopt.capture() \gset

-- The workload (not echoed): 20 reads of the newest rows, sampled; 60,000
-- older rows inserted; three statements run once, unsampled.
SET pipeopt.param_sample_rate = 1;
\set ECHO none
\o /dev/null
SELECT format('SELECT id, amount FROM ps16.events WHERE created_at > %L',
              timestamptz '2025-05-19 20:00+00' + g * interval '1 minute')
  FROM generate_series(1, 20) g \gexec
SET pipeopt.param_sample_rate = 0;
INSERT INTO ps16.events
SELECT g, timestamptz '2025-01-01 00:00+00' + (g % 100000) * interval '1 minute', g % 1000, g % 10, 'new'
  FROM generate_series(200001, 260000) g;
SELECT id FROM ps16.events WHERE created_at > '2025-05-19 21:00+00' AND kind = 3;
SELECT id FROM ps16.events WHERE created_at > '2025-05-19 21:00+00';
SELECT id FROM ps16.events WHERE amount > sqrt(998001);
\o
\set ECHO all
ANALYZE ps16.events;
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();

-- The read's samples, as captured.
SELECT st.query, count(*) AS samples, min(p.params[1]) AS first, max(p.params[1]) AS last
  FROM pipeopt.param_samples p JOIN pipeopt.statements st USING (fingerprint)
 WHERE st.query LIKE '%ps16.events WHERE created_at > $1'
 GROUP BY st.query;
-- Samples that cannot be used, added by hand: fewer values than $n; a
-- value that does not convert; one that makes planning fail; and a value
-- of another role (never used: only the planned role's values are).
INSERT INTO pipeopt.param_samples (fingerprint, queryid, userid, sampled_at, source, first_param, params)
SELECT st.fingerprint, q.queryid, v.userid, now(), 'bind', 1, v.params
  FROM (VALUES ('SELECT id FROM ps16.events WHERE created_at > $1 AND kind = $2',
                '{2025-05-19 21:00+00}'::text[], current_user::regrole::oid),
               ('SELECT id FROM ps16.events WHERE created_at > $1', '{soon}', current_user::regrole::oid),
               ('SELECT id FROM ps16.events WHERE created_at > $1', '{2025-05-19 21:00+00}',
                'pg_monitor'::regrole::oid),
               ('SELECT id FROM ps16.events WHERE amount > sqrt($1)', '{998001}', current_user::regrole::oid),
               ('SELECT id FROM ps16.events WHERE amount > sqrt($1)', '{-1}', current_user::regrole::oid))
       AS v(query, params, userid)
  JOIN pipeopt.statements st ON st.query = v.query
  JOIN LATERAL (SELECT min(m.queryid) AS queryid FROM pipeopt.statement_queryids m
                 WHERE m.fingerprint = st.fingerprint) q ON true;

-- 1. Without samples (none used): every statement is planned generically;
-- a third of the table is too much for the index to be worth its writes.
SET pipeopt.param_samples_per_statement = 0;
SELECT statements_planned > 0 AS planned FROM pipeopt.advise_indexes('10MB');
SELECT st.query, a.basis, a.samples, a.samples_unusable
  FROM pipeopt.advisor_statements a JOIN pipeopt.statements st USING (fingerprint)
 WHERE st.query LIKE '%FROM ps16.events WHERE %'
 ORDER BY st.query COLLATE "C";
SELECT count(*) AS proposed FROM pipeopt.index_advice
 WHERE status = 'proposed' AND kind = 'create_index' AND relation = 'ps16.events';
SELECT definition, split_part(reason, ':', 1) AS reason
  FROM pipeopt.index_candidates WHERE relid = 'ps16.events'::regclass AND attnums = '{2}';

-- 2. With samples: the read is costed on its 16 newest samples (a few
-- dozen rows each), and the index on created_at is recommended. Its
-- confidence, 0.95 x (0.5 + 0.5 x 22/30 calls) x basis, has a basis near
-- the 0.9 of 4 or more samples: nearly all it saves, it saves the sampled
-- read (generically planned, it would be 0.6).
RESET pipeopt.param_samples_per_statement;
SELECT statements_planned > 0 AS planned FROM pipeopt.advise_indexes('10MB');
SELECT st.query, a.basis, a.samples, a.samples_unusable, a.sample_error
  FROM pipeopt.advisor_statements a JOIN pipeopt.statements st USING (fingerprint)
 WHERE st.query LIKE '%FROM ps16.events WHERE %'
 ORDER BY st.query COLLATE "C";
SELECT regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N') AS statement,
       round(confidence::numeric, 1) AS confidence
  FROM pipeopt.index_advice
 WHERE status = 'proposed' AND kind = 'create_index' AND relation = 'ps16.events';
SELECT a.evidence -> 'sampled_plans' AS sampled_plans
  FROM pipeopt.advice a
 WHERE a.status = 'proposed' AND a.kind = 'create_index' AND a.relid = 'ps16.events'::regclass;
-- The read costs far less with it on its samples than generically.
SELECT s.cost_after < 0.2 * s.cost_before AS much_cheaper
  FROM pipeopt.advice_statements s
  JOIN pipeopt.advice a ON a.id = s.advice_id AND a.status = 'proposed' AND a.relid = 'ps16.events'::regclass
  JOIN pipeopt.statements st ON st.fingerprint = s.fingerprint
 WHERE st.query = 'SELECT id, amount FROM ps16.events WHERE created_at > $1';

-- 3. whatif() plans with given values too (a custom plan).
SELECT cost_after < 0.9 * cost_before AS index_helps
  FROM pipeopt.whatif('SELECT id, amount FROM ps16.events WHERE created_at > $1',
                      ARRAY['CREATE INDEX ON ps16.events (created_at)']);
SELECT cost_after < 0.2 * cost_before AS index_helps, indexes_used
  FROM pipeopt.whatif('SELECT id, amount FROM ps16.events WHERE created_at > $1',
                      ARRAY['CREATE INDEX ON ps16.events (created_at)'], '{}',
                      ARRAY['2025-05-19 21:00+00']);
SELECT cost_before FROM pipeopt.whatif('SELECT id FROM ps16.events WHERE created_at > $1', '{}', '{}', '{NULL}');
-- As a literal would be: '2' under interval $2 day is two days (not seconds).
SELECT (SELECT cost_after FROM pipeopt.whatif(q, i, '{}', '{2025-05-19 21:00+00,2}'))
     = (SELECT cost_after FROM pipeopt.whatif(q, i, '{}', '{2025-05-19 21:00+00,2 days}')) AS days,
       (SELECT cost_after FROM pipeopt.whatif(q, i, '{}', '{2025-05-19 21:00+00,2}'))
     > (SELECT cost_after FROM pipeopt.whatif(q, i, '{}', '{2025-05-19 21:00+00,2 seconds}')) AS not_seconds
  FROM (VALUES ('SELECT id FROM ps16.events WHERE created_at > timestamptz $1 - interval $2 day',
                '{CREATE INDEX ON ps16.events (created_at)}'::text[])) v(q, i);
SELECT * FROM pipeopt.whatif('SELECT id FROM ps16.events WHERE created_at > $1', '{}', '{}', '{soon}');
SELECT * FROM pipeopt.whatif('SELECT id FROM ps16.events WHERE amount > sqrt($1)', '{}', '{}', '{-1}');
SELECT * FROM pipeopt.whatif('SELECT id FROM ps16.events WHERE created_at > $1', '{}', '{}', '{1, 2}');

-- 4. A value is converted as the role that ran the statement, in the
-- sandbox: the check of a domain (user code) sees that role.
CREATE ROLE ps16_app LOGIN;
ALTER ROLE ps16_app SET pipeopt.param_sample_rate = 1;
GRANT USAGE ON SCHEMA ps16 TO ps16_app;
GRANT SELECT ON ps16.events TO ps16_app;
CREATE FUNCTION ps16.checked(timestamptz) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS
  $$BEGIN RAISE NOTICE 'checked as %', current_user; RETURN true; END$$;
CREATE DOMAIN ps16.stamp AS timestamptz CHECK (ps16.checked(VALUE));
\c - ps16_app
SELECT count(*) FROM ps16.events WHERE created_at > (SELECT '2025-05-19 21:00+00'::ps16.stamp);
\c - :su
SET pipeopt.param_sample_rate = 0;
SELECT baseline FROM pipeopt.capture();
SELECT statements_planned > 0 AS planned FROM pipeopt.advise_indexes('10MB');
SELECT st.query, a.userid::regrole AS planned_as, a.basis, a.samples
  FROM pipeopt.advisor_statements a JOIN pipeopt.statements st USING (fingerprint)
 WHERE st.query LIKE '%ps16.stamp%';

DROP SCHEMA ps16 CASCADE;
DROP ROLE ps16_app;
