-- The partition advisor. Known answers on synthetic data: an append-only
-- events table (2,000,000 rows over two years, a timestamp column) read by
-- time ranges, and a small, static dimension table. The time column and a
-- monthly interval are chosen; the migration (run by the apply worker)
-- gives a partitioned table with the same rows and the same constraints,
-- pg_partman takes over its maintenance, and the rollback restores the
-- original. Writes made while a table is copied are copied again at the
-- swap. Retention: partitions older than every statement reads.
SET jit = off;
SET pipeopt.param_sample_rate = 0;
\set SHOW_CONTEXT never
-- stable ids in messages, whatever tests ran before
SELECT setval(pg_get_serial_sequence('pipeopt.advice', 'id'), 1800) IS NOT NULL AS ids_from_1801;
CREATE SCHEMA pt18;
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE TABLE pt18.devices (device_id int PRIMARY KEY, name text NOT NULL, region text NOT NULL);
INSERT INTO pt18.devices SELECT g, 'device ' || g, (ARRAY['eu', 'us', 'asia'])[1 + g % 3]
  FROM generate_series(1, 1000) g;
CREATE TABLE pt18.events (
  id bigint GENERATED ALWAYS AS IDENTITY,
  created_at timestamptz NOT NULL,
  device_id int NOT NULL,
  kind smallint NOT NULL CHECK (kind BETWEEN 0 AND 9),
  payload text,
  PRIMARY KEY (id, created_at));
-- two years up to now, a row every 31.5 seconds, in time order
INSERT INTO pt18.events (created_at, device_id, kind, payload)
SELECT now() - interval '730 days' + g * interval '31.5 seconds', 1 + g % 1000, g % 10, 'p' || g
  FROM generate_series(1, 2000000) g;
GRANT SELECT ON pt18.events TO pg_monitor;
VACUUM ANALYZE pt18.events;
VACUUM ANALYZE pt18.devices;
SELECT pg_stat_force_next_flush();
SELECT baseline IS NOT NULL AS captured FROM pipeopt.capture();

-- The workload (not echoed), sampled: the newest hours, a week by region
-- (a join with the dimension table), one device's last two days, and
-- lookups in the dimension table.
SET pipeopt.param_sample_rate = 1;
\set ECHO none
\o /dev/null
SELECT format('SELECT count(*) FROM pt18.events WHERE created_at > %L', date_trunc('hour', now()) - g * interval '1 hour')
  FROM generate_series(1, 12) g \gexec
SELECT format('SELECT d.region, count(*) FROM pt18.events e JOIN pt18.devices d ON d.device_id = e.device_id'
              ' WHERE e.created_at >= %L AND e.created_at < %L GROUP BY d.region',
              date_trunc('day', now()) - (g + 7) * interval '1 day', date_trunc('day', now()) - g * interval '1 day')
  FROM generate_series(1, 6) g \gexec
SELECT format('SELECT id, kind FROM pt18.events WHERE device_id = %s AND created_at > now() - interval %L', g, '2 days')
  FROM generate_series(1, 6) g \gexec
SELECT format('SELECT name FROM pt18.devices WHERE device_id = %s', g) FROM generate_series(1, 20) g \gexec
\o
\set ECHO all
SET pipeopt.param_sample_rate = 0;
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();

-- 1. The advisor: tables of at least 50MB, partitions of about 8MB.
SET pipeopt.partition_min_size = '50MB';
SELECT tables >= 1 AS considered, recommendations >= 1 AS recommended
  FROM pipeopt.advise_partitions('8MB');
SELECT id AS events_advice FROM pipeopt.partition_advice WHERE relation = 'pt18.events' \gset
-- the time column, by month: about two years and a year's growth in
-- partitions of a few MB; the primary key includes it
SELECT kind, status, key, method, interval, partitions BETWEEN 24 AND 27 AS two_years,
       partitions_in_a_year BETWEEN 36 AND 40 AS three_years, partition_bytes BETWEEN 4e6 AND 6e6 AS about_5mb,
       constraints, blockers, risk, confidence BETWEEN 0.5 AND 1 AS confidence
  FROM pipeopt.partition_advice WHERE id = :events_advice;
-- the dimension table is too small to be considered
SELECT count(*) AS dimension_advice FROM pipeopt.partition_advice WHERE relation = 'pt18.devices';
-- each time-range statement reads one or two months of 25 after pruning
SELECT left(st.query, 45) AS statement, s.cost_before AS blocks_before,
       s.cost_after < s.cost_before * 0.1 AS pruned, s.saving_ms_per_hour > 0 AS saves
  FROM pipeopt.advice_statements s JOIN pipeopt.statements st USING (fingerprint)
 WHERE s.advice_id = :events_advice ORDER BY 1;
SELECT e ->> 'unknown_values' AS unknown, e ->> 'index_serves_it' AS indexed, count(*)
  FROM pipeopt.advice a, jsonb_array_elements(a.evidence -> 'statements') e
 WHERE a.id = :events_advice GROUP BY 1, 2;
SELECT jsonb_array_elements_text(evidence -> 'assumptions') AS assumption
  FROM pipeopt.advice WHERE id = :events_advice;

-- 2. The migration script: its phases, in order, and what runs in each.
SELECT phase, count(*) AS steps, bool_or(commit_after) AS commits
  FROM pipeopt._partition_steps((SELECT target FROM pipeopt.advice WHERE id = :events_advice), :events_advice, 'apply')
 GROUP BY phase ORDER BY min(step);
SELECT regexp_replace(sql, '_\d+', '_N', 'g') AS statement
  FROM pipeopt._partition_steps((SELECT target FROM pipeopt.advice WHERE id = :events_advice), :events_advice, 'apply')
 WHERE phase IN ('swap', 'after', 'maintain') AND sql !~ '^(DELETE FROM pt18|INSERT INTO pt18.events_pipeopt)'
   AND sql !~ 'create_parent'
 ORDER BY step;
-- the script people read: commented, with the transactions marked
SELECT pipeopt.partition_script(:events_advice) ~ '-- == copy ==' AS has_copy,
       pipeopt.partition_script(:events_advice) ~ 'COMMIT;' AS has_commits,
       (SELECT statement FROM pipeopt.recommendations WHERE id = :events_advice)
         = pipeopt.partition_script(:events_advice) AS shown_in_recommendations;

-- 3. Applied by the apply worker. What the table holds and its
-- constraints, before.
CREATE TABLE pt18.events_copy AS SELECT * FROM pt18.events;
CREATE TEMP TABLE before_constraints AS
SELECT contype, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'pt18.events'::regclass;
SELECT 'pt18.events'::regclass::oid AS original_oid \gset
SELECT pipeopt.approve(:events_advice, 'monthly partitions');
SELECT status, outcome, regexp_replace(statement, '\d+', 'N') AS statement
  FROM pipeopt.apply_now(:events_advice);
SELECT c.relkind, c.oid <> :original_oid AS new_table,
       (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid) >= 25 AS partitions
  FROM pg_class c WHERE c.oid = 'pt18.events'::regclass;
-- the same rows
SELECT count(*) AS rows, (SELECT count(*) FROM (SELECT * FROM pt18.events EXCEPT ALL SELECT * FROM pt18.events_copy) x)
       + (SELECT count(*) FROM (SELECT * FROM pt18.events_copy EXCEPT ALL SELECT * FROM pt18.events) x) AS differences
  FROM pt18.events;
-- the same constraints, privileges and owner
SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'pt18.events'::regclass
EXCEPT SELECT * FROM before_constraints;
SELECT * FROM before_constraints
EXCEPT SELECT contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'pt18.events'::regclass;
SELECT has_table_privilege('pg_monitor', 'pt18.events', 'SELECT') AS monitor_reads,
       pg_get_userbyid(relowner) = current_user AS owner FROM pg_class WHERE oid = 'pt18.events'::regclass;
-- the original, kept for rollback
SELECT relname FROM pg_class WHERE oid = :original_oid;
-- the identity goes on; rows land in their month
INSERT INTO pt18.events (created_at, device_id, kind) VALUES (now(), 1, 1)
RETURNING id > (SELECT max(id) FROM pt18.events_copy) AS id_goes_on, tableoid::regclass::text ~ '^pt18.events_p\d{4}_\d\d$' AS in_month;
-- pruning: a day reads one partition, all of it reads every one
CREATE FUNCTION pg_temp.scanned(q text) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE plan text;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO plan;
  RETURN (SELECT count(*) FROM regexp_matches(plan, '"Relation Name"', 'g'));
END $$;
SELECT (date_trunc('month', now()) - interval '3 months')::date AS day \gset
SELECT pg_temp.scanned(format('SELECT count(*) FROM pt18.events WHERE created_at >= %L AND created_at < %L',
                              :'day', :'day'::date + 1)) AS one_day,
       pg_temp.scanned('SELECT count(*) FROM pt18.events') >= 26 AS everything;
-- pg_partman maintains it from now on; the default partition is its own
SELECT parent_table, control, partition_interval FROM partman.part_config;
SELECT count(*) AS in_default FROM pt18.events_default;
SELECT action, outcome, error, state_after ->> 'relkind' AS relkind FROM pipeopt.change_log WHERE advice_id = :events_advice;

-- 4. Retention: every captured statement reads rows of the last two weeks
-- at most: the months before are proposed for dropping, advice only.
SELECT tables, drop_recommendations FROM pipeopt.advise_partitions('8MB');
SELECT id AS drop_advice FROM pipeopt.partition_advice WHERE kind = 'drop_partitions' \gset
SELECT kind, relid::regclass AS relation, risk, jsonb_array_length(target -> 'partitions') BETWEEN 20 AND 25 AS months,
       (target ->> 'horizon')::interval BETWEEN interval '12 days' AND interval '15 days' AS horizon,
       reason ~ 'no captured statement reads rows of pt18.events older than' AS reason
  FROM pipeopt.advice WHERE id = :drop_advice;
SELECT regexp_replace(split_part(statement, E'\n', 1), '\d{4}_\d\d', 'YYYY_MM', 'g') AS first_statement
  FROM pipeopt.recommendations WHERE id = :drop_advice;
SELECT pipeopt.approve(:drop_advice);

-- 5. Rollback: the original table again, with the rows written since.
DELETE FROM pt18.events WHERE id = 7;
SELECT status, outcome, regexp_replace(statement, '\d+', 'N') AS statement FROM pipeopt.rollback(:events_advice);
SELECT c.oid = :original_oid AS original, c.relkind FROM pg_class c WHERE c.oid = 'pt18.events'::regclass;
SELECT count(*) AS rows, count(*) FILTER (WHERE id = 7) AS deleted, max(id) > (SELECT max(id) FROM pt18.events_copy) AS new_row
  FROM pt18.events;
SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'pt18.events'::regclass ORDER BY 1;
SELECT relname FROM pg_class WHERE relnamespace = 'pt18'::regnamespace AND relname LIKE 'events%' ORDER BY 1;
SELECT count(*) AS partman_tables FROM partman.part_config;
INSERT INTO pt18.events (created_at, device_id, kind) VALUES (now(), 1, 1) RETURNING id > 2000001 AS id_goes_on;

-- 6. Writes while a table is copied are copied again at the swap: the
-- steps run by hand, with writes between the copy and the swap.
CREATE TABLE pt18.small (id int, at date NOT NULL, v text, PRIMARY KEY (id, at));
INSERT INTO pt18.small SELECT g, date '2025-01-01' + g % 90, 'v' || g FROM generate_series(1, 9000) g;
CREATE TEMP TABLE small_spec AS
SELECT jsonb_build_object('relid', 'pt18.small'::regclass::oid, 'attnum', 2, 'method', 'range', 'unit', 'month',
                          'from', '2025-01-01', 'to', '2025-03-31', 'premake', 1) AS spec;
DO $$
DECLARE st record;
BEGIN
  FOR st IN SELECT s.* FROM small_spec, pipeopt._partition_steps(spec, 999999, 'apply') s
             WHERE s.phase IN ('prepare', 'copy') ORDER BY s.step LOOP
    EXECUTE st.sql;
  END LOOP;
END
$$;
INSERT INTO pt18.small VALUES (9001, '2025-02-10', 'new'), (9002, '2031-01-01', 'far future');
UPDATE pt18.small SET v = 'changed' WHERE id = 10;
UPDATE pt18.small SET at = '2025-03-15' WHERE id = 11;
DELETE FROM pt18.small WHERE id = 12;
SELECT count(*) AS noted FROM pipeopt.partition_changes WHERE advice_id = 999999;
CREATE TEMP TABLE small_expected AS SELECT * FROM pt18.small;
DO $$
DECLARE st record;
BEGIN
  FOR st IN SELECT s.* FROM small_spec, pipeopt._partition_steps(spec, 999999, 'apply') s
             WHERE s.phase = 'swap' ORDER BY s.step LOOP
    EXECUTE st.sql;
  END LOOP;
END
$$;
SELECT relkind, (SELECT count(*) FROM pg_inherits WHERE inhparent = 'pt18.small'::regclass) >= 4 AS partitions
  FROM pg_class WHERE oid = 'pt18.small'::regclass;
SELECT (SELECT count(*) FROM (SELECT * FROM pt18.small EXCEPT ALL SELECT * FROM small_expected) x)
     + (SELECT count(*) FROM (SELECT * FROM small_expected EXCEPT ALL SELECT * FROM pt18.small) x) AS differences,
       (SELECT count(*) FROM pt18.small_default) AS in_default,
       (SELECT count(*) FROM pipeopt.partition_changes) AS noted_left;

-- 7. What is refused.
SELECT pipeopt.advise_partitions(max_partitions => 1);
SELECT pipeopt.advise_partitions('1kB');
SELECT pipeopt.partition_script(-1);
SELECT pipeopt.partition_script(:events_advice, 'sideways');
-- a key the primary key does not include, and a referencing table
CREATE TABLE pt18.orders (id int PRIMARY KEY, at timestamptz NOT NULL);
CREATE TABLE pt18.lines (order_id int REFERENCES pt18.orders);
SELECT unnest(pipeopt._partition_blockers('pt18.orders'::regclass, 2::smallint)) AS blocker;
CALL pipeopt._partition_run(:events_advice, 'apply');
CREATE ROLE pt18_reader;
GRANT pipeopt_reader TO pt18_reader;
SET ROLE pt18_reader;
SELECT kind, script IS NOT NULL AS reader_sees_script FROM pipeopt.partition_advice WHERE id = :events_advice;
RESET ROLE;
DROP ROLE pt18_reader;

-- 8. List and hash layouts: a few common values get a partition each; a
-- column of many values compared only for equality is hashed. Both
-- migrate with the same rows.
CREATE TABLE pt18.regions (id int, region text NOT NULL, v int);
INSERT INTO pt18.regions SELECT g, (ARRAY['eu', 'us', 'asia'])[1 + g % 3], g FROM generate_series(1, 3000) g;
CREATE TABLE pt18.orders2 (id int, customer int NOT NULL, v int, PRIMARY KEY (customer, id));
INSERT INTO pt18.orders2 SELECT g, g % 500, g FROM generate_series(1, 3000) g;
ANALYZE pt18.regions;
ANALYZE pt18.orders2;
CREATE TEMP TABLE layouts AS
SELECT c.oid AS relid, pipeopt._partition_candidate(c.oid, 2::smallint, 8192, 300, NULL, true)
         || jsonb_build_object('relid', c.oid, 'attnum', 2) AS spec
  FROM pg_class c WHERE c.oid IN ('pt18.regions'::regclass, 'pt18.orders2'::regclass);
SELECT relid::regclass, spec ->> 'method' AS method, spec -> 'values' AS list_values, spec ->> 'modulus' AS modulus
  FROM layouts ORDER BY 1;
CREATE TEMP TABLE regions_copy AS SELECT * FROM pt18.regions;
CREATE TEMP TABLE orders2_copy AS SELECT * FROM pt18.orders2;
DO $$
DECLARE st record; l record;
BEGIN
  FOR l IN SELECT * FROM layouts LOOP
    FOR st IN SELECT s.* FROM pipeopt._partition_steps(l.spec, l.relid::bigint, 'apply') s
               WHERE s.phase IN ('prepare', 'copy', 'swap') ORDER BY s.step LOOP
      EXECUTE st.sql;
    END LOOP;
  END LOOP;
END
$$;
SELECT c.oid::regclass AS relation, c.relkind, (SELECT count(*) FROM pg_inherits WHERE inhparent = c.oid) AS partitions
  FROM pg_class c WHERE c.oid IN ('pt18.regions'::regclass, 'pt18.orders2'::regclass) ORDER BY 1;
SELECT (SELECT count(*) FROM (SELECT * FROM pt18.regions EXCEPT ALL SELECT * FROM regions_copy) x)
     + (SELECT count(*) FROM (SELECT * FROM regions_copy EXCEPT ALL SELECT * FROM pt18.regions) x) AS regions_differences,
       (SELECT count(*) FROM (SELECT * FROM pt18.orders2 EXCEPT ALL SELECT * FROM orders2_copy) x)
     + (SELECT count(*) FROM (SELECT * FROM orders2_copy EXCEPT ALL SELECT * FROM pt18.orders2) x) AS orders_differences;
