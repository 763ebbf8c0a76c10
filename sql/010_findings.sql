-- Findings on the captured workload: analyze(), runtime rules, ranking,
-- suppressions.

CREATE TABLE events (id bigint PRIMARY KEY, kind text, payload text);
SELECT baseline FROM pipeopt.capture();

-- A naive loader: one INSERT per row, 1,200 times (not echoed).
\set ECHO none
SELECT format('INSERT INTO events VALUES (%s, %L, %L)', g, 'k' || g % 7, repeat('x', 20))
  FROM generate_series(1, 1200) g \gexec
\set ECHO all
-- A report that sorts more than work_mem holds.
SET work_mem = '64kB';
SELECT count(*) FROM (SELECT g FROM generate_series(1, 200000) g ORDER BY g DESC) s;
RESET work_mem;
SELECT * FROM events WHERE id = 1;
SELECT baseline FROM pipeopt.capture();

SELECT statements > 0 AS analyzed, findings > 0 AS found FROM pipeopt.analyze();

SELECT rule, category, severity, left(query, 40) AS query, calls,
       regexp_replace(message, '[0-9]+\.[0-9]+', 'N.NN', 'g') AS message
  FROM pipeopt.findings
 WHERE rule IN ('row-by-row-insert', 'temp-spill', 'select-star')
   AND (query LIKE '%events%' OR query LIKE '%generate_series(%')
 ORDER BY rule;
SELECT evidence->>'calls' AS calls, evidence->>'rows_per_call' AS rows_per_call
  FROM pipeopt.findings WHERE rule = 'row-by-row-insert';
-- ranked by share of total time
SELECT count(*) AS out_of_order FROM (
  SELECT share_of_total_time, lag(share_of_total_time) OVER () AS prev FROM pipeopt.findings) x
 WHERE prev < share_of_total_time;

-- Only new or changed statements are analyzed again.
SELECT statements FROM pipeopt.analyze();
SELECT * FROM events WHERE id = 2;
SELECT baseline FROM pipeopt.capture();
SELECT count(DISTINCT fingerprint) AS sampled_last FROM pipeopt.samples
 WHERE capture_id = (SELECT max(capture_id) FROM pipeopt.captures) \gset
SELECT statements = :sampled_last AS only_changed,
       statements < (SELECT count(*) FROM pipeopt.statements) AS not_all
  FROM pipeopt.analyze();
SELECT statements = (SELECT count(*) FROM pipeopt.statements) AS all_again FROM pipeopt.analyze(all_statements => true);

-- Suppress a finding for one statement, with a reason.
SELECT fingerprint AS loader FROM pipeopt.findings WHERE rule = 'row-by-row-insert' \gset
SELECT pipeopt.suppress(:'loader', 'row-by-row-insert', '');
SELECT pipeopt.suppress(:'loader', 'no-such-rule', 'because');
SELECT pipeopt.suppress('0000000000000000', 'row-by-row-insert', 'because');
SELECT pipeopt.suppress(:'loader', 'row-by-row-insert', 'one-off backfill, replaced by COPY next release');
SELECT count(*) AS shown FROM pipeopt.findings WHERE rule = 'row-by-row-insert';
SELECT rule, reason, suppressed_by = current_user AS by_me FROM pipeopt.suppressions;
SELECT pipeopt.unsuppress(:'loader', 'row-by-row-insert');
SELECT count(*) AS shown FROM pipeopt.findings WHERE rule = 'row-by-row-insert';

-- The runtime rules, fed evidence directly: each fires with enough of it,
-- and stays silent with too little or none.
CREATE TEMP TABLE runtime_cases (expect text, sql text, evidence jsonb);
INSERT INTO runtime_cases VALUES
  ('row-by-row-insert', 'INSERT INTO t (a, b) VALUES ($1, $2)', '{"calls": 5000, "rows": 5000, "window_hours": 1}'),
  ('-', 'INSERT INTO t (a, b) VALUES ($1, $2)', '{"calls": 10, "rows": 10}'),
  ('-', 'INSERT INTO t (a, b) VALUES ($1, $2)', NULL),
  ('-', 'INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)', '{"calls": 5000, "rows": 10000}'),
  ('row-by-row-upsert', 'INSERT INTO t VALUES ($1, $2) ON CONFLICT (a) DO UPDATE SET b = excluded.b', '{"calls": 2000, "rows": 2000}'),
  ('row-by-row-update-delete', 'UPDATE t SET b = $1 WHERE a = $2', '{"calls": 3000, "rows": 3000}'),
  ('row-by-row-update-delete', 'DELETE FROM t WHERE a = $1 AND c = $2', '{"calls": 3000, "rows": 1500}'),
  ('-', 'UPDATE t SET b = $1 WHERE a > $2', '{"calls": 3000, "rows": 3000}'),
  ('n-plus-one-lookup', 'SELECT name FROM customers WHERE id = $1', '{"calls": 50000, "rows": 50000}'),
  ('-', 'SELECT name FROM customers WHERE id = $1', '{"calls": 50, "rows": 50}'),
  ('-', 'SELECT c.name FROM customers c JOIN orders o ON o.cid = c.id WHERE c.id = $1', '{"calls": 50000, "rows": 50000}'),
  ('temp-spill', 'SELECT a FROM t ORDER BY b', '{"calls": 10, "temp_blks_written": 12800}'),
  ('low-cache-hit', 'SELECT a FROM t WHERE b = $1', '{"calls": 10, "shared_blks_hit": 100, "shared_blks_read": 9000}'),
  ('-', 'SELECT a FROM t WHERE b = $1', '{"calls": 10, "shared_blks_hit": 90000, "shared_blks_read": 9000}'),
  ('high-planning-time', 'SELECT a FROM t WHERE b = $1', '{"calls": 500, "plans": 500, "total_plan_time": 900, "total_exec_time": 100}'),
  ('-', 'SELECT a FROM t WHERE b = $1', '{"calls": 500, "plans": 500, "total_plan_time": 50, "total_exec_time": 100}'),
  ('jit-overhead', 'SELECT sum(a) FROM t', '{"calls": 50, "total_exec_time": 500, "jit_functions": 300, "jit_time": 120}'),
  ('-', 'SELECT sum(a) FROM t', '{"calls": 50, "total_exec_time": 500, "jit_functions": 300, "jit_time": 20}'),
  ('-', 'SELECT sum(a) FROM t', '{"calls": 5, "total_exec_time": 50, "jit_functions": 30, "jit_time": 20}'),
  ('large-in-list', 'SELECT a FROM t WHERE b IN ($1, $2, $3)', '{"calls": 50, "queryids": 12}'),
  ('-', 'SELECT a FROM t WHERE b IN ($1, $2, $3)', '{"calls": 50, "queryids": 3}');
SELECT c.expect, coalesce(string_agg(l.rule, ', ' ORDER BY l.rule), '-') AS found, l2.message
  FROM runtime_cases c
  LEFT JOIN LATERAL pipeopt.lint(c.sql, c.evidence) l ON true
  LEFT JOIN LATERAL (SELECT x.message FROM pipeopt.lint(c.sql, c.evidence) x LIMIT 1) l2 ON true
 GROUP BY c.expect, c.sql, c.evidence, l2.message
 ORDER BY c.expect, c.sql, c.evidence::text;
SELECT * FROM pipeopt.lint('SELECT 1', '[1, 2]');
SELECT count(*) AS none FROM pipeopt.lint(NULL);

-- From the real counters: JIT forced on a small query run a dozen times,
-- and one IN-list statement run with twelve list lengths.
SET jit = on;
SET jit_above_cost = 0;
SET jit_optimize_above_cost = 0;
\set ECHO none
\o /dev/null
SELECT 'SELECT count(*) FROM events WHERE payload <> ''y''' FROM generate_series(1, 12) \gexec
SELECT format('SELECT id FROM events WHERE id IN (%s)', string_agg(g::text, ', '))
  FROM generate_series(2, 13) n, generate_series(1, n) g GROUP BY n \gexec
\o
\set ECHO all
RESET jit;
RESET jit_above_cost;
RESET jit_optimize_above_cost;
SELECT baseline FROM pipeopt.capture();
SELECT findings > 0 AS found FROM pipeopt.analyze();
SELECT count(*) = 1 OR NOT pg_jit_available() AS jit_overhead_found
  FROM pipeopt.findings WHERE rule = 'jit-overhead' AND query LIKE '%payload <>%';
SELECT rule, evidence->>'queryids' AS queryids FROM pipeopt.findings
 WHERE rule = 'large-in-list' AND query LIKE 'SELECT id FROM events WHERE id IN%';

-- Schema findings from the catalogs, refreshed by analyze().
CREATE TABLE parent (id int PRIMARY KEY, code text);
CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent, kind text, at timestamptz);
CREATE TABLE child2 (id int PRIMARY KEY, parent_id int REFERENCES parent);
CREATE INDEX child2_parent ON child2 (parent_id, id);
CREATE TABLE logs (at timestamptz, msg text);
CREATE INDEX child_kind ON child (kind);
CREATE INDEX child_kind_at ON child (kind, at);
CREATE INDEX child_kind2 ON child (kind);
CREATE INDEX child_lower_kind ON child (lower(kind));
CREATE INDEX child_kind_recent ON child (kind) WHERE at > '2026-01-01';
CREATE UNIQUE INDEX parent_code ON parent (code);
CREATE INDEX parent_code2 ON parent (code);
SELECT schema_findings > 0 AS found FROM pipeopt.analyze();
SELECT relation, rule, severity, message FROM pipeopt.findings
 WHERE relation IN ('public.parent', 'public.child', 'public.child2', 'public.logs')
 ORDER BY relation, rule, message;
SELECT evidence->>'references' AS references FROM pipeopt.findings WHERE rule = 'missing-fk-index' AND relation = 'public.child';
-- fixed, and gone at the next analysis
CREATE INDEX ON child (parent_id);
DROP INDEX child_kind2;
SELECT schema_findings >= 0 AS refreshed FROM pipeopt.analyze();
SELECT relation, rule, message FROM pipeopt.findings
 WHERE relation IN ('public.parent', 'public.child', 'public.child2', 'public.logs')
 ORDER BY relation, rule, message;
-- disabled rules are not reported
SET pipeopt.disabled_rules = 'table-without-primary-key';
SELECT schema_findings >= 0 AS refreshed FROM pipeopt.analyze();
SELECT count(*) AS without_pk FROM pipeopt.findings WHERE rule = 'table-without-primary-key';
RESET pipeopt.disabled_rules;
DROP TABLE child, child2, parent, logs;

-- unused-index: observed for pipeopt.unused_index_days and never scanned;
-- a scanned index, a unique one and the primary key are not reported.
CREATE TABLE watched (id int PRIMARY KEY, a int, b int, c int);
CREATE INDEX watched_a ON watched (a);
CREATE INDEX watched_b ON watched (b);
CREATE UNIQUE INDEX watched_c ON watched (c);
INSERT INTO watched SELECT g, g, g, g FROM generate_series(1, 1000) g;
ANALYZE watched;
SELECT baseline FROM pipeopt.capture();
SET enable_seqscan = off;
SELECT count(*) FROM watched WHERE a = 5;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();
-- eight days pass (first seen eight days earlier)
UPDATE pipeopt.index_counters SET first_seen = first_seen - interval '8 days'
 WHERE indexrelid IN (SELECT indexrelid FROM pg_index WHERE indrelid = 'watched'::regclass);
SELECT schema_findings > 0 AS found FROM pipeopt.analyze();
SELECT relation, rule, message, evidence->>'window_days' AS days FROM pipeopt.findings
 WHERE rule = 'unused-index' AND relation = 'public.watched';
SET pipeopt.unused_index_days = 30;
SELECT schema_findings >= 0 AS refreshed FROM pipeopt.analyze();
SELECT count(*) AS unused_within_30_days FROM pipeopt.findings
 WHERE rule = 'unused-index' AND relation = 'public.watched';
RESET pipeopt.unused_index_days;
DROP TABLE watched;

-- bulk-load-into-heavily-indexed-table: 60,000 rows into a table with six
-- indexes; the same load into a table with two is not reported.
CREATE TABLE heavy (id int PRIMARY KEY, a int, b int, c int, d int, e int);
CREATE INDEX ON heavy (a);
CREATE INDEX ON heavy (b);
CREATE INDEX ON heavy (c);
CREATE INDEX ON heavy (d);
CREATE INDEX ON heavy (e);
CREATE TABLE light (id int PRIMARY KEY, a int);
CREATE INDEX ON light (a);
SELECT baseline FROM pipeopt.capture();
INSERT INTO heavy SELECT g, g, g, g, g, g FROM generate_series(1, 60000) g;
INSERT INTO light SELECT g, g FROM generate_series(1, 60000) g;
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();
SELECT schema_findings > 0 AS found FROM pipeopt.analyze();
SELECT relation, rule, message, evidence->>'indexes' AS indexes FROM pipeopt.findings
 WHERE rule = 'bulk-load-into-heavily-indexed-table' AND relation IN ('public.heavy', 'public.light');
DROP TABLE heavy, light;

DROP TABLE events;
