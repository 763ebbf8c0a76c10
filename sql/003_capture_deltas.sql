-- Capture: exact per-interval deltas, one statement across queryid churn.

SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT baseline, reset_detected FROM pipeopt.capture();  -- the first capture is the baseline
SELECT count(*) AS samples_after_baseline FROM pipeopt.samples;

CREATE TABLE orders (id int PRIMARY KEY, customer int, amount numeric);
INSERT INTO orders SELECT g, g % 100, g FROM generate_series(1, 1000) g;
SELECT baseline FROM pipeopt.capture();

-- A statement run 7 times between two captures is recorded with 7 calls.
SELECT count(*) FROM orders WHERE customer = 1;
SELECT count(*) FROM orders WHERE customer = 2;
SELECT count(*) FROM orders WHERE customer = 3;
SELECT count(*) FROM orders WHERE customer = 4;
SELECT count(*) FROM orders WHERE customer = 5;
SELECT count(*) FROM orders WHERE customer = 6;
SELECT count(*) FROM orders WHERE customer = 7;
SELECT statement_samples > 0 AS sampled FROM pipeopt.capture();

CREATE VIEW counted AS
  SELECT s.capture_id, s.calls, s.rows, s.plans, s.total_exec_time > 0 AS timed,
         s.shared_blks_hit + s.shared_blks_read > 0 AS touched_blocks
    FROM pipeopt.samples s
    JOIN pipeopt.statements st USING (fingerprint)
   WHERE st.query = 'SELECT count(*) FROM orders WHERE customer = $1';
SELECT calls, rows, plans, timed, touched_blocks FROM counted
 WHERE capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

-- 3 more calls: 3, not 10.
SELECT count(*) FROM orders WHERE customer = 8;
SELECT count(*) FROM orders WHERE customer = 9;
SELECT count(*) FROM orders WHERE customer = 10;
SELECT baseline FROM pipeopt.capture();
SELECT calls FROM counted WHERE capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

-- Not run at all: no sample is stored for it.
SELECT baseline FROM pipeopt.capture();
SELECT count(*) AS unchanged_rows FROM counted
 WHERE capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

-- DROP TABLE / CREATE TABLE gives the query a new queryid, not a new statement.
DROP VIEW counted;
DROP TABLE orders;
CREATE TABLE orders (id int PRIMARY KEY, customer int, amount numeric);
SELECT count(*) FROM orders WHERE customer = 11;
SELECT count(*) FROM orders WHERE customer = 12;
SELECT baseline FROM pipeopt.capture();

SELECT count(*) AS statements,
       (SELECT count(*) FROM pipeopt.statement_queryids q WHERE q.fingerprint = st.fingerprint) AS queryids
  FROM pipeopt.statements st
 WHERE st.query = 'SELECT count(*) FROM orders WHERE customer = $1'
 GROUP BY st.fingerprint;

-- Its history, and the ranking over all of it.
SELECT h.calls, h.rows, h.mean_exec_time > 0 AS timed, h.interval_start < h.captured_at AS ordered
  FROM pipeopt.statements st, pipeopt.statement_history(st.fingerprint) h
 WHERE st.query = 'SELECT count(*) FROM orders WHERE customer = $1';
SELECT calls, rows, rows_per_call, share_of_total_time > 0 AS has_share,
       cache_hit_ratio BETWEEN 0 AND 1 AS hit_ratio_ok, kind
  FROM pipeopt.top_statements
 WHERE query = 'SELECT count(*) FROM orders WHERE customer = $1';
SELECT round(sum(share_of_total_time)) AS total_share FROM pipeopt.top_statements;
-- a window that excludes everything
SELECT count(*) FROM pipeopt.top_statements(now() + interval '1 day');

-- Every capture has a row; none of the samples is negative.
SELECT count(*) FILTER (WHERE finished_at IS NULL) AS unfinished,
       count(*) FILTER (WHERE baseline) AS baselines
  FROM pipeopt.captures;
SELECT count(*) AS negative_samples FROM pipeopt.samples
 WHERE calls < 0 OR plans < 0 OR rows < 0 OR total_exec_time < 0
    OR shared_blks_hit < 0 OR shared_blks_read < 0 OR wal_bytes < 0;
