-- Retention drops whole day partitions, and what only they referred to.

SET pipeopt.retention = '2d';
-- History as it would be 10 days ago: a capture in its own partitions.
SELECT pipeopt._ensure_partitions(now() - interval '10 days') AS created;
INSERT INTO pipeopt.statements (fingerprint, query, kind)
VALUES ('00000000000000aa', 'SELECT old_history', 'select');
WITH c AS (
  INSERT INTO pipeopt.captures (captured_at, interval_start)
  VALUES (now() - interval '10 days', now() - interval '10 days 1 minute')
  RETURNING capture_id, captured_at)
INSERT INTO pipeopt.samples
SELECT c.capture_id, c.captured_at, '00000000000000aa', 10, true,
       1, 0, 1.0, 1.0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  FROM c;
SELECT count(*) AS old_partitions FROM pg_class
 WHERE relnamespace = 'pipeopt'::regnamespace
   AND relname ~ '_[0-9]{8}$'
   AND to_date(right(relname, 8), 'YYYYMMDD') < current_date - 5;

-- Partitions belong to the extension: pg_dump leaves them out with it.
SELECT count(*) AS partitions_outside_extension
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
 WHERE c.relnamespace = 'pipeopt'::regnamespace AND c.relkind = 'r'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e');

SELECT dropped_partitions FROM pipeopt.capture();

SELECT count(*) AS old_partitions FROM pg_class
 WHERE relnamespace = 'pipeopt'::regnamespace
   AND relname ~ '_[0-9]{8}$'
   AND to_date(right(relname, 8), 'YYYYMMDD') < current_date - 5;
SELECT count(*) AS old_captures FROM pipeopt.captures WHERE captured_at < now() - interval '5 days';
SELECT count(*) AS old_statement FROM pipeopt.statements WHERE fingerprint = '00000000000000aa';
-- today's history stays
SELECT count(*) > 0 AS recent_captures FROM pipeopt.captures;
SELECT count(*) > 0 AS todays_partition FROM pg_class
 WHERE relnamespace = 'pipeopt'::regnamespace
   AND relname = 'samples_' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMMDD');
RESET pipeopt.retention;

-- Retention is a superuser setting.
CREATE ROLE regress_pipeopt_user;
SET ROLE regress_pipeopt_user;
SET pipeopt.retention = '1h';
SELECT * FROM pipeopt.capture();
RESET ROLE;
DROP ROLE regress_pipeopt_user;
