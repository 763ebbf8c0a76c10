-- Capture across pg_stat_statements resets: never negative, never counted twice.

CREATE TABLE resets (id int PRIMARY KEY);
INSERT INTO resets VALUES (1);
SELECT baseline FROM pipeopt.capture();

CREATE VIEW counted AS
  SELECT s.capture_id, s.calls
    FROM pipeopt.samples s JOIN pipeopt.statements st USING (fingerprint)
   WHERE st.query = 'SELECT id FROM resets WHERE id = $1';

SELECT id FROM resets WHERE id = 1;
SELECT id FROM resets WHERE id = 1;
SELECT id FROM resets WHERE id = 1;
SELECT id FROM resets WHERE id = 1;
SELECT reset_detected FROM pipeopt.capture();
SELECT calls FROM counted WHERE capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

-- A full reset between two captures: the calls before it are gone, the
-- 2 after it are counted, and the capture says a reset happened.
SELECT id FROM resets WHERE id = 1;
SELECT id FROM resets WHERE id = 1;
SELECT id FROM resets WHERE id = 1;
SELECT pg_stat_statements_reset() IS NOT NULL AS reset;
SELECT id FROM resets WHERE id = 1;
SELECT id FROM resets WHERE id = 1;
SELECT reset_detected FROM pipeopt.capture();
SELECT calls FROM counted WHERE capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

-- The next capture is an ordinary one again.
SELECT id FROM resets WHERE id = 1;
SELECT reset_detected FROM pipeopt.capture();
SELECT calls FROM counted WHERE capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

-- Only this entry reset (stats_reset does not move): its counters went down.
SELECT id FROM resets WHERE id = 1;
SELECT id FROM resets WHERE id = 1;
SELECT id FROM resets WHERE id = 1;
SELECT pg_stat_statements_reset(0, 0, queryid) IS NOT NULL AS entry_reset
  FROM pg_stat_statements WHERE query = 'SELECT id FROM resets WHERE id = $1';
SELECT id FROM resets WHERE id = 1;
SELECT reset_detected FROM pipeopt.capture();
SELECT calls FROM counted WHERE capture_id = (SELECT max(capture_id) FROM pipeopt.captures);

SELECT count(*) AS negative_samples FROM pipeopt.samples
 WHERE calls < 0 OR plans < 0 OR rows < 0 OR total_exec_time < 0 OR sum_sq_exec_time < 0
    OR shared_blks_hit < 0 OR shared_blks_read < 0 OR temp_blks_read < 0 OR wal_bytes < 0;
DROP VIEW counted;
DROP TABLE resets;
