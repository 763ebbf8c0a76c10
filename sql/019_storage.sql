-- The storage and statistics advisor: known right answers on synthetic
-- data. BRIN for the column in insertion order and not for a shuffled
-- one (both sizes and costs from the what-if planner); extended
-- statistics that fix a measured misestimate, applied by policy and
-- rolled back; autovacuum settings for a table whose dead tuples pile up,
-- applied and rolled back; a materialized view for a heavy repeated
-- aggregate, advisory only.
SET jit = off;
SET pipeopt.param_sample_rate = 0;
CREATE SCHEMA st;
-- An append-only table: created_at follows the insertion order, shuffled
-- does not. (Autovacuum off on every table here: nothing moves under the test.)
CREATE TABLE st.events (id bigint NOT NULL, created_at timestamptz NOT NULL, shuffled int NOT NULL,
                        device int NOT NULL, payload text)
  WITH (autovacuum_enabled = false);
INSERT INTO st.events
SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '1 second',
       ((g::bigint * 7919) % 300007)::int, g % 50, repeat('p', 60)
  FROM generate_series(1, 300000) g;
-- A skewed multi-column filter: zone and region always agree.
CREATE TABLE st.parcels (id int NOT NULL, region int NOT NULL, zone int NOT NULL, weight int)
  WITH (autovacuum_enabled = false);
INSERT INTO st.parcels SELECT g, g % 100, g % 100, g % 7 FROM generate_series(1, 30000) g;
-- A table updated in place, never vacuumed.
CREATE TABLE st.counters (id int PRIMARY KEY, hits int NOT NULL, pad text)
  WITH (autovacuum_enabled = false);
INSERT INTO st.counters SELECT g, 0, repeat('c', 40) FROM generate_series(1, 20000) g;
-- A large table that is only read.
CREATE TABLE st.sales (id int NOT NULL, region int NOT NULL, amount numeric NOT NULL)
  WITH (autovacuum_enabled = false);
INSERT INTO st.sales SELECT g, g % 20, g % 1000 FROM generate_series(1, 200000) g;
-- (the inserts counted before VACUUM sets the tables' live rows)
SELECT pg_stat_force_next_flush();
VACUUM ANALYZE st.events, st.parcels, st.counters, st.sales;
SELECT pg_stat_force_next_flush();
-- The advisor's window starts here: the earlier tests' history is forgotten.
SELECT pipeopt.capture() IS NOT NULL AS captured;
DELETE FROM pipeopt.samples;
DELETE FROM pipeopt.table_samples;
DELETE FROM pipeopt.index_samples;
DELETE FROM pipeopt.captures;

-- The estimate before any advice: independent columns, 100 times too few.
CREATE FUNCTION st.estimate(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO p;
  RETURN (p -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
END $$;
SELECT st.estimate('SELECT id FROM st.parcels WHERE region = 7 AND zone = 7') AS estimate,
       (SELECT count(*) FROM st.parcels WHERE region = 7 AND zone = 7) AS actual;

-- The workload (not echoed): 200,000 events appended (by a loader whose
-- statements are not tracked); then, their values sampled, ten-minute
-- windows of events by time and by the shuffled column; the skewed
-- filter; a per-region summary of the sales, over and over; three rounds
-- of updates of the counters, each followed by a capture.
\set ECHO none
\o /dev/null
SET pg_stat_statements.track = none;
INSERT INTO st.events
SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '1 second',
       ((g::bigint * 7919) % 300007)::int, g % 50, repeat('p', 60)
  FROM generate_series(300001, 500000) g;
ANALYZE st.events;
SET pg_stat_statements.track = top;
SET pipeopt.param_sample_rate = 1;
SELECT format('SELECT id, payload FROM st.events WHERE created_at >= %L AND created_at < %L',
              timestamptz '2025-01-02 00:00+00' + g * interval '1 hour',
              timestamptz '2025-01-02 00:10+00' + g * interval '1 hour')
  FROM generate_series(1, 20) g \gexec
SELECT format('SELECT id, payload FROM st.events WHERE shuffled >= %s AND shuffled < %s', g * 10000, g * 10000 + 600)
  FROM generate_series(1, 20) g \gexec
SELECT format('SELECT id, weight FROM st.parcels WHERE region = %s AND zone = %s', g % 100, g % 100)
  FROM generate_series(1, 30) g \gexec
SELECT 'SELECT region, count(*), sum(amount) FROM st.sales GROUP BY region' FROM generate_series(1, 30) \gexec
SET pipeopt.param_sample_rate = 0;
UPDATE st.counters SET hits = hits + 1 WHERE id % 5 < 2;
SELECT pg_stat_force_next_flush();
SELECT pipeopt.capture();
UPDATE st.counters SET hits = hits + 1 WHERE id % 5 < 2;
SELECT pg_stat_force_next_flush();
SELECT pipeopt.capture();
UPDATE st.counters SET hits = hits + 1 WHERE id % 5 < 2;
SELECT pg_stat_force_next_flush();
SELECT pipeopt.capture();
\o
\set ECHO all

-- The index advisor proposes a B-tree on created_at...
SELECT recommendations > 0 AS proposed FROM pipeopt.advise_indexes('100MB');
SELECT regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N') AS statement
  FROM pipeopt.index_advice WHERE status = 'proposed' AND statement LIKE '%(created_at)';
-- ...the storage advisor a BRIN index instead.
SELECT statements > 0 AS looked, statements_planned > 0 AS planned, brin_indexes, statistics,
       autovacuum_settings, materialized_views
  FROM pipeopt.advise_storage();

-- Every candidate it looked at, and why it was or was not recommended.
SELECT kind, relid::regclass AS relation,
       (SELECT string_agg(attname, ', ') FROM pg_attribute a WHERE a.attrelid = c.relid AND a.attnum = ANY (c.attnums)) AS columns,
       outcome, regexp_replace(reason, '-?[0-9][0-9.]*', 'N', 'g') AS reason
  FROM pipeopt.storage_candidates c
 ORDER BY 1, 2::text, 3, 5;

-- BRIN: chosen for created_at (correlation 1) with both sizes and costs;
-- not for shuffled, where a BRIN index would not even be used.
SELECT kind, relation, regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N') AS statement, risk,
       (evidence ->> 'correlation')::numeric = 1 AS correlated,
       (evidence ->> 'brin_bytes')::bigint * 100 < (evidence ->> 'btree_bytes')::bigint AS hundred_times_smaller,
       (evidence ->> 'cost_brin')::float8 < 0.9 * (evidence ->> 'cost_before')::float8 AS brin_lowers_cost,
       (evidence ->> 'cost_btree')::float8 <= (evidence ->> 'cost_brin')::float8 AS btree_cheaper_to_run,
       saving_ms_per_hour > 0 AS saves
  FROM pipeopt.storage_advice WHERE kind = 'create_index';
SELECT abs((detail ->> 'correlation')::float8) < 0.1 AS uncorrelated,
       (detail ->> 'cost_brin')::float8 = (detail ->> 'cost_before')::float8 AS brin_unused,
       (detail ->> 'cost_btree')::float8 < (detail ->> 'cost_before')::float8 AS btree_would_help
  FROM pipeopt.storage_candidates WHERE kind = 'create_index' AND relid = 'st.events'::regclass
   AND attnums = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'st.events'::regclass AND attname = 'shuffled')];
-- The B-tree on created_at is superseded by the BRIN, and the index
-- advisor does not propose it again while the BRIN is open.
SELECT b.status, regexp_replace(b.status_reason, '[0-9]+', 'N') AS why
  FROM pipeopt.advice b
 WHERE b.kind = 'create_index' AND b.target ->> 'method' = 'btree' AND b.relid = 'st.events'::regclass
   AND b.target -> 'attnums' = '[2]';
SELECT count(*) AS btree_on_created_at_again
  FROM (SELECT 1 FROM pipeopt.advise_indexes('100MB')) r, pipeopt.advice b
 WHERE b.kind = 'create_index' AND b.target ->> 'method' = 'btree' AND b.status = 'proposed'
   AND b.relid = 'st.events'::regclass AND b.target -> 'attnums' = '[2]';

-- Applied and rolled back like any index.
SELECT id AS brin_id FROM pipeopt.advice WHERE kind = 'create_index' AND target ->> 'method' = 'brin' \gset
SELECT pipeopt.approve(:brin_id, 'time windows on an append-only table');
SELECT status, outcome, regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N') AS statement
  FROM pipeopt.apply_now(:brin_id);
SELECT regexp_replace(pg_get_indexdef(i.indexrelid), '_pipeopt_[0-9]+', '_pipeopt_N') AS built
  FROM pg_index i WHERE i.indrelid = 'st.events'::regclass;
SELECT status, outcome FROM pipeopt.rollback(:brin_id);
SELECT count(*) AS indexes_left FROM pg_index WHERE indrelid = 'st.events'::regclass;

-- Extended statistics: the measured misestimate, the statement, and the
-- policy that applies it without a DBA (low risk, confident enough).
SELECT relation, regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N', 'g') AS statement, risk,
       confidence >= 0.8 AS confident, evidence ->> 'estimated_rows' AS estimated_rows,
       evidence ->> 'rows_per_call' AS rows_per_call, evidence ->> 'misestimate' AS times_off
  FROM pipeopt.storage_advice WHERE kind = 'create_statistics';
SELECT kind, mode, min_confidence FROM pipeopt.automation_policy
 WHERE kind IN ('create_statistics', 'set_table_storage', 'create_materialized_view') ORDER BY kind;
SELECT pipeopt._auto_approve() > 0 AS approved_by_policy;
SELECT id AS stats_id FROM pipeopt.advice WHERE kind = 'create_statistics' \gset
SELECT status, decided_by, automatic FROM pipeopt.advice WHERE id = :stats_id;
SELECT status, outcome FROM pipeopt.apply_now(:stats_id);
-- after: the planner's estimate is the truth
SELECT st.estimate('SELECT id FROM st.parcels WHERE region = 7 AND zone = 7') AS estimate_after;
SELECT regexp_replace(pg_get_statisticsobjdef(s.oid), '_pipeopt_[0-9]+', '_pipeopt_N') AS created,
       pg_get_userbyid(s.stxowner) = pg_get_userbyid(c.relowner) AS owned_by_table_owner
  FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid WHERE s.stxrelid = 'st.parcels'::regclass;
SELECT action, outcome, inverse ->> 'action' AS undo, object_oid IS NOT NULL AS recorded_oid
  FROM pipeopt.change_log WHERE advice_id = :stats_id;
-- rollback drops the statistics object: the estimate is back where it was
SELECT status, outcome, regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N') AS statement
  FROM pipeopt.rollback(:stats_id);
SELECT count(*) AS statistics_left FROM pg_statistic_ext WHERE stxrelid = 'st.parcels'::regclass;
SELECT st.estimate('SELECT id FROM st.parcels WHERE region = 7 AND zone = 7') AS estimate_after_rollback;

-- Autovacuum: 29% to 44% of the counters' tuples dead in each sample, and
-- autovacuum off for the table.
SELECT relation, statement, risk, (evidence ->> 'samples')::integer >= 3 AS samples,
       evidence ->> 'dead_share_min_last_3' AS dead_share_min, evidence ->> 'dead_share_latest' AS dead_share_now
  FROM pipeopt.storage_advice WHERE kind = 'set_table_storage';
SELECT id AS av_id FROM pipeopt.advice WHERE kind = 'set_table_storage' \gset
SELECT pipeopt.approve(:av_id, 'counters bloat');
SELECT status, outcome, statement FROM pipeopt.apply_now(:av_id);
SELECT reloptions FROM pg_class WHERE oid = 'st.counters'::regclass;
SELECT inverse ->> 'action' AS undo, inverse -> 'options' AS previous
  FROM pipeopt.change_log WHERE advice_id = :av_id AND action = 'apply';
-- rollback restores the options it found (and resets those that were unset)
SELECT status, outcome, statement FROM pipeopt.rollback(:av_id);
SELECT reloptions FROM pg_class WHERE oid = 'st.counters'::regclass;

-- A materialized view for the per-region summary: the script with its
-- unique index and refresh plan. Advisory only: never approved or run.
SELECT relation, regexp_replace(regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N', 'g'),
                                'every [0-9]+ minutes', 'every N minutes') AS statement,
       saving_ms_per_hour > 0 AS saves, (evidence ->> 'share_of_time')::float8 >= 0.1 AS heavy
  FROM pipeopt.storage_advice WHERE kind = 'create_materialized_view';
SELECT id AS mv_id FROM pipeopt.advice WHERE kind = 'create_materialized_view' \gset
DO $$
BEGIN
  PERFORM pipeopt.approve((SELECT id FROM pipeopt.advice WHERE kind = 'create_materialized_view'), 'why not');
EXCEPTION WHEN object_not_in_prerequisite_state THEN
  RAISE NOTICE '%', regexp_replace(SQLERRM, '[0-9]+', 'N');
END $$;
SELECT pipeopt.set_automation('create_materialized_view', 'approval');
-- the script it gives works, run by hand
SELECT regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_9', 'g') AS script
  FROM pipeopt.storage_advice WHERE id = :mv_id \gset
\o /dev/null
:script
\o
SELECT count(*) AS regions FROM st.sales_summary_pipeopt_9;

-- A second run repeats what is still true, and marks obsolete what is not.
SELECT brin_indexes, statistics, autovacuum_settings, materialized_views FROM pipeopt.advise_storage();
SELECT kind, status FROM pipeopt.advice
 WHERE pipeopt._storage_kind(kind, target) ORDER BY kind, status;

-- Bad input.
SELECT * FROM pipeopt.advise_storage(0);
