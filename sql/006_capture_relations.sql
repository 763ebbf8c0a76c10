-- Capture of table and index statistics as deltas.

CREATE TABLE items (id int PRIMARY KEY, v int);
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();

INSERT INTO items SELECT g, g FROM generate_series(1, 500) g;
UPDATE items SET v = v + 1 WHERE v <= 10;
DELETE FROM items WHERE v > 495;
SET enable_seqscan = off;
SELECT v FROM items WHERE id = 3;
SELECT v FROM items WHERE id = 4;
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM items;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT pg_stat_force_next_flush();
SELECT table_samples > 0 AS tables, index_samples > 0 AS indexes FROM pipeopt.capture();

SELECT schemaname, relname, n_tup_ins, n_tup_upd, n_tup_del, seq_scan > 0 AS seq_scanned,
       idx_scan >= 2 AS idx_scanned, n_live_tup, table_bytes > 0 AS sized
  FROM pipeopt.table_samples
 WHERE relname = 'items' AND capture_id = (SELECT max(capture_id) FROM pipeopt.captures);
SELECT indexrelname, idx_scan >= 2 AS scanned, index_bytes > 0 AS sized
  FROM pipeopt.index_samples
 WHERE relname = 'items' AND capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

-- No activity: no new rows. The counters of the next capture are deltas.
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();
SELECT count(*) AS idle_rows FROM pipeopt.table_samples
 WHERE relname = 'items' AND capture_id = (SELECT max(capture_id) FROM pipeopt.captures);
INSERT INTO items VALUES (1000, 1);
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();
SELECT n_tup_ins, n_tup_upd, n_tup_del FROM pipeopt.table_samples
 WHERE relname = 'items' AND capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

-- Resetting another table's counters moves the database's reset time in
-- PostgreSQL 15; it must not make this table's whole counters a delta.
CREATE TABLE other (a int);
INSERT INTO other VALUES (1);
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();
INSERT INTO items VALUES (1001, 1);
SELECT pg_stat_reset_single_table_counters('other'::regclass);
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();
SELECT relname, n_tup_ins FROM pipeopt.table_samples
 WHERE relname IN ('items', 'other') AND capture_id = (SELECT max(capture_id) FROM pipeopt.captures)
 ORDER BY relname;
DROP TABLE other;

-- pipeopt's own tables are not part of the workload.
SELECT count(*) AS own_tables FROM pipeopt.table_samples WHERE schemaname = 'pipeopt';
DROP TABLE items;
