-- The index advisor over the captured workload: known right answers,
-- write-aware selection, reasons for what it left out, drop advice, the
-- recommendation store's life cycle, planning as the statement's role.
SET jit = off;
SELECT current_user AS su \gset
CREATE SCHEMA adv;
-- 30,000 rows or fewer: ANALYZE reads every row, so estimates are stable.
CREATE TABLE adv.customers (id int PRIMARY KEY, region text NOT NULL, name text);
INSERT INTO adv.customers SELECT g, 'r' || (g % 50), 'c' || g FROM generate_series(1, 3000) g;
CREATE TABLE adv."Order Lines" (
  id int PRIMARY KEY, customer_id int NOT NULL, created_at timestamptz NOT NULL,
  amount numeric NOT NULL, status text NOT NULL, note text);
INSERT INTO adv."Order Lines"
SELECT g, (g * 7919) % 3000 + 1, timestamptz '2026-01-01' + (g % 365) * interval '1 day' + (g % 1440) * interval '1 minute',
       (g::bigint * 104729) % 100000 / 100.0, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END, repeat('n', 40)
  FROM generate_series(1, 30000) g;
-- a table loaded heavily between captures, and read once
CREATE TABLE adv.events (id bigint PRIMARY KEY, device int NOT NULL, payload text);
-- a table whose updates are HOT today
CREATE TABLE adv.gauges (id int PRIMARY KEY, reading int NOT NULL, station int NOT NULL, pad text)
  WITH (fillfactor = 50);
INSERT INTO adv.gauges SELECT g, g % 1000, g % 997, repeat('p', 60) FROM generate_series(1, 20000) g;
CREATE ROLE adv_app LOGIN;
GRANT USAGE ON SCHEMA adv TO adv_app;
GRANT SELECT ON adv.customers, adv."Order Lines" TO adv_app;
ANALYZE adv.customers, adv."Order Lines", adv.gauges;
SELECT baseline FROM pipeopt.capture() \gset

-- The workload (not echoed): an equality lookup, a range scan on a selective
-- column, a join on a key with a selective filter, an ORDER BY ... LIMIT;
-- a bulk load and one read of the loaded table; updates that are HOT and
-- reads of both columns of the updated table.
\set ECHO none
\o /dev/null
SELECT format('SELECT id, amount FROM adv."Order Lines" WHERE customer_id = %s', g)
  FROM generate_series(1, 40) g \gexec
SELECT format('SELECT count(*) FROM adv."Order Lines" WHERE created_at >= %L AND created_at < %L',
              date '2026-03-01' + g, date '2026-03-02' + g)
  FROM generate_series(1, 20) g \gexec
SELECT format('SELECT o.id FROM adv.customers c JOIN adv."Order Lines" o ON o.customer_id = c.id WHERE c.name = %L', 'c' || g)
  FROM generate_series(1, 20) g \gexec
SELECT 'SELECT id, amount FROM adv."Order Lines" ORDER BY amount DESC LIMIT 10' FROM generate_series(1, 20) \gexec
INSERT INTO adv.events SELECT g, g % 5000, 'e' FROM generate_series(1, 100000) g;
SELECT count(*) FROM adv.events WHERE device = 7;
SELECT format('UPDATE adv.gauges SET reading = reading + 1 WHERE id = %s', g) FROM generate_series(1, 200) g \gexec
SELECT format('SELECT id FROM adv.gauges WHERE reading = %s', g) FROM generate_series(1, 20) g \gexec
SELECT format('SELECT id FROM adv.gauges WHERE station = %s', g) FROM generate_series(1, 20) g \gexec
\c - adv_app
\o /dev/null
SET jit = off;
SELECT format('SELECT name FROM adv.customers WHERE region = %L', 'r' || g) FROM generate_series(1, 30) g \gexec
\c - :su
\o
\set ECHO all
SET jit = off;
ANALYZE adv.events;
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();
-- the statements are planned generically here (016 tests parameter
-- samples): drop the 1% sampled at random
WITH d AS (DELETE FROM pipeopt.param_samples RETURNING 1) SELECT count(*) >= 0 AS dropped FROM d;

SELECT statements > 0 AS looked, statements_planned > 0 AS planned,
       workload_cost_after < workload_cost_before AS cheaper
  FROM pipeopt.advise_indexes('10MB');

-- The indexes it recommends on these tables, as the statements they would run.
SELECT relation, regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N') AS statement,
       saving_ms_per_hour > 0 AS saves, statements > 0 AS affects, confidence > 0 AS confident,
       risk IN ('low', 'medium') AS risk_rated
  FROM pipeopt.index_advice
 WHERE kind = 'create_index' AND status = 'proposed' AND relation LIKE 'adv.%'
 ORDER BY statement;

-- The bulk-loaded table: its index would not pay for its writes.
SELECT definition, split_part(reason, ':', 1) AS reason, maintenance_cost > saving AS writes_cost_more
  FROM pipeopt.index_candidates WHERE relid = 'adv.events'::regclass;
-- An index on the column the updates set breaks their HOT updates: it costs
-- more to keep than one on a column they leave alone.
SELECT (SELECT coalesce(a.maintenance_cost, c.maintenance_cost)
          FROM (SELECT 1) x
          LEFT JOIN pipeopt.advice a ON a.target_key = 'create_index:' || 'adv.gauges'::regclass::oid || ':[2]'
          LEFT JOIN pipeopt.index_candidates c ON c.relid = 'adv.gauges'::regclass AND c.attnums = '{2}')
     > (SELECT coalesce(a.maintenance_cost, c.maintenance_cost)
          FROM (SELECT 1) x
          LEFT JOIN pipeopt.advice a ON a.target_key = 'create_index:' || 'adv.gauges'::regclass::oid || ':[3]'
          LEFT JOIN pipeopt.index_candidates c ON c.relid = 'adv.gauges'::regclass AND c.attnums = '{3}')
       AS hot_breaking_costs_more;
-- Every candidate left out says why.
SELECT count(*) FILTER (WHERE reason IS NULL OR reason = '') AS without_reason,
       count(*) > 0 AS some_rejected
  FROM pipeopt.index_candidates;

-- Each affected statement, as planned: cheaper with the recommendations.
SELECT count(*) > 0 AS some, bool_and(s.cost_after < s.cost_before) AS all_cheaper,
       bool_and(s.cost_without >= s.cost_after) AS each_needed
  FROM pipeopt.advice_statements s JOIN pipeopt.advice a ON a.id = s.advice_id
 WHERE a.status = 'proposed' AND a.kind = 'create_index';

-- Built for real, the planner's cost agrees with the estimate (within 5%).
\set ECHO none
\o /dev/null
SELECT replace(statement, ' CONCURRENTLY', '') FROM pipeopt.index_advice
 WHERE kind = 'create_index' AND status = 'proposed' AND relation LIKE 'adv.%' ORDER BY id \gexec
\o
\set ECHO all
ANALYZE adv.customers, adv."Order Lines", adv.gauges;
SELECT count(*) > 0 AS compared,
       count(*) FILTER (WHERE abs(w.cost_before / s.cost_after - 1) <= 0.05)::float / nullif(count(*), 0) >= 0.95
         AS within_5_percent
  FROM pipeopt.advice_statements s
  JOIN pipeopt.advice a ON a.id = s.advice_id AND a.status = 'proposed' AND a.kind = 'create_index'
  JOIN pipeopt.statements st ON st.fingerprint = s.fingerprint
 CROSS JOIN LATERAL pipeopt.whatif(st.query) w
 WHERE a.relid::regclass::text LIKE 'adv.%';

-- A statement is planned as the role that ran it: without its privilege
-- it is left out, and says why.
REVOKE SELECT ON adv.customers FROM adv_app;
SELECT count(*) FROM pipeopt.advise_indexes('10MB');
SELECT error FROM pipeopt.advisor_statements a JOIN pipeopt.statements st USING (fingerprint)
 WHERE st.query LIKE '%adv.customers WHERE region%';

-- Drop advice: exact duplicates, prefixes, unused and INVALID indexes; never
-- a primary key, a unique or exclusion constraint, the replica identity.
CREATE TABLE adv.d (id int PRIMARY KEY, a int, b int, c int, u int UNIQUE, r int NOT NULL);
INSERT INTO adv.d SELECT g, g % 10, g % 7, g, g, g FROM generate_series(1, 1000) g;
CREATE INDEX d_a ON adv.d (a);
CREATE INDEX d_a_again ON adv.d (a);
CREATE INDEX d_a_b ON adv.d (a, b);
CREATE INDEX d_c ON adv.d (c);
CREATE UNIQUE INDEX d_r ON adv.d (r);
ALTER TABLE adv.d REPLICA IDENTITY USING INDEX d_r;
CREATE INDEX d_id ON adv.d (id);
INSERT INTO adv.d VALUES (1001, 1, 1, 1, 1001, 1001);
CREATE UNIQUE INDEX CONCURRENTLY d_c_unique ON adv.d (c);
SELECT baseline FROM pipeopt.capture() \gset
UPDATE pipeopt.index_counters SET first_seen = now() - interval '30 days'
 WHERE indexrelid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'adv.d'::regclass);
SELECT drop_recommendations > 0 AS drops FROM pipeopt.advise_indexes('10MB');
SELECT statement, risk, split_part(reason, ' ', 1) || ' ...' AS reason
  FROM pipeopt.index_advice
 WHERE kind = 'drop_index' AND status = 'proposed' AND relation = 'adv.d'
 ORDER BY statement;

-- Life cycle: a second run over the same workload refreshes the same
-- recommendations; a dropped table's advice becomes obsolete and says why.
-- (tables of earlier tests may be analyzed in between: only adv's are compared)
SELECT run_id AS first_run FROM pipeopt.advise_indexes('10MB') \gset
SELECT count(*) AS open_before, max(id) AS last_id FROM pipeopt.advice
 WHERE status = 'proposed' AND relid IN (SELECT oid FROM pg_class WHERE relnamespace = 'adv'::regnamespace) \gset
SELECT run_id > :first_run AS ran_again FROM pipeopt.advise_indexes('10MB');
SELECT count(*) = :open_before AS same_open, bool_and(run_id > :first_run) AS refreshed,
       count(*) FILTER (WHERE id > :last_id) AS new_again
  FROM pipeopt.advice
 WHERE status = 'proposed' AND relid IN (SELECT oid FROM pg_class WHERE relnamespace = 'adv'::regnamespace);
SELECT 'adv.d'::regclass::oid AS d_oid \gset
DROP TABLE adv.d;
SELECT drop_recommendations FROM pipeopt.advise_indexes('10MB');
SELECT kind, status, status_reason, count(*) FROM pipeopt.advice
 WHERE relid = :d_oid GROUP BY 1, 2, 3;
-- a zero budget recommends nothing new; bad budgets are refused
SELECT recommendations FROM pipeopt.advise_indexes('0');
SELECT count(*) > 0 AS considered, bool_and(reason LIKE 'over budget: it needs %') AS all_over_budget
  FROM pipeopt.index_candidates;
SELECT * FROM pipeopt.advise_indexes('lots');
SELECT * FROM pipeopt.advise_indexes('10MB', 0);
-- The GUCs: the default budget, the widest index.
SET pipeopt.max_index_columns = 0;
SET pipeopt.index_budget = '1MB';
SELECT run_id > 0 AS ran FROM pipeopt.advise_indexes();
SELECT budget_bytes FROM pipeopt.advisor_runs ORDER BY run_id DESC LIMIT 1;
RESET pipeopt.index_budget;

-- Only privileged roles run the advisor; pg_read_all_stats reads advice.
SELECT has_function_privilege('adv_app', 'pipeopt.advise_indexes(text, integer)', 'EXECUTE') AS app_runs,
       has_table_privilege('adv_app', 'pipeopt.index_advice', 'SELECT') AS app_reads,
       has_table_privilege('pg_read_all_stats', 'pipeopt.index_advice', 'SELECT') AS stats_reads;

DROP SCHEMA adv CASCADE;
DROP ROLE adv_app;
