-- The recommendation lifecycle: decisions by SQL, changes applied by the
-- apply worker, rollback records, ranking, automation and privileges.
SELECT current_user AS su \gset
\set SHOW_CONTEXT never
-- stable ids in messages, whatever tests ran before
SELECT setval(pg_get_serial_sequence('pipeopt.advice', 'id'), 1000) IS NOT NULL AS ids_from_1001;
CREATE SCHEMA lc;
CREATE TABLE lc.orders (id int PRIMARY KEY, customer int, status text, note text, spot point);
INSERT INTO lc.orders
SELECT g, g % 500, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END, 'n' || g, point(g, g)
  FROM generate_series(1, 20000) g;
CREATE INDEX orders_note_idx ON lc.orders (note DESC) INCLUDE (status) WITH (fillfactor = 70);
CREATE INDEX orders_lower_idx ON lc.orders (lower(note));
ANALYZE lc.orders;

-- the install script's roles; an approver is also a reader
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname LIKE 'pipeopt\_%' ORDER BY 1;
SELECT pg_has_role('pipeopt_approver', 'pipeopt_reader', 'MEMBER') AS approver_reads;
-- the decisions and the history survive a dump
SELECT c.relname FROM pg_extension e, unnest(e.extconfig) t(oid) JOIN pg_class c ON c.oid = t.oid
 WHERE e.extname = 'pipeopt' ORDER BY 1;

-- recommendations as an advisor stores them
INSERT INTO pipeopt.advice (kind, relid, target, target_key, saving_ms_per_hour, estimated_bytes,
                            confidence, risk, reason)
SELECT k, 'lc.orders'::regclass, t, 'lc:' || n, s, b, c, r, 'test ' || n
  FROM (VALUES
    (1, 'create_index', jsonb_build_object('relid', 'lc.orders'::regclass::oid, 'method', 'btree', 'attnums', '[2]'::jsonb),
     1200.0, 500000, 0.9, 'low'),
    (2, 'create_index', jsonb_build_object('relid', 'lc.orders'::regclass::oid, 'method', 'btree', 'attnums', '[3]'::jsonb),
     900.0, 400000, 0.5, 'medium'),
    (3, 'drop_index', jsonb_build_object('relid', 'lc.orders'::regclass::oid, 'indexrelid', 'lc.orders_note_idx'::regclass::oid, 'rule', 'unused-index'),
     NULL, 800000, 0.7, 'medium'),
    (4, 'drop_index', jsonb_build_object('relid', 'lc.orders'::regclass::oid, 'indexrelid', 'lc.orders_lower_idx'::regclass::oid, 'rule', 'unused-index'),
     NULL, 600000, 0.7, 'medium'),
    (5, 'create_index', jsonb_build_object('relid', 'lc.orders'::regclass::oid, 'method', 'btree', 'attnums', '[5]'::jsonb),
     10.0, 100000, 0.9, 'low')
  ) v(n, k, t, s, b, c, r);
SELECT max(id) FILTER (WHERE target_key = 'lc:1') AS r1, max(id) FILTER (WHERE target_key = 'lc:2') AS r2,
       max(id) FILTER (WHERE target_key = 'lc:3') AS r3, max(id) FILTER (WHERE target_key = 'lc:4') AS r4,
       max(id) FILTER (WHERE target_key = 'lc:5') AS r5
  FROM pipeopt.advice \gset

-- ranking: saving x confidence x risk weight; drops (no time saving) by
-- the storage they free
SELECT reason, kind, status, row_number() OVER (ORDER BY rank) AS place, score, saving_per_month
  FROM pipeopt.recommendations WHERE relation = 'lc.orders' ORDER BY rank;
-- with prices, money decides: CPU time saved against the storage it takes
SET pipeopt.cost_per_cpu_hour = 0.1;
SET pipeopt.cost_per_gb_month = 100;
SELECT reason, row_number() OVER (ORDER BY rank) AS place, saving_per_month, score
  FROM pipeopt.recommendations WHERE relation = 'lc.orders' ORDER BY rank;
RESET pipeopt.cost_per_cpu_hour;
RESET pipeopt.cost_per_gb_month;

-- a recommendation whose table is gone shows no relation and no statement
CREATE TABLE lc.gone (x int);
INSERT INTO pipeopt.advice (kind, relid, target, target_key, reason)
VALUES ('create_index', 'lc.gone'::regclass,
        jsonb_build_object('relid', 'lc.gone'::regclass::oid, 'method', 'btree', 'attnums', '[1]'::jsonb),
        'lc:gone', 'test gone');
DROP TABLE lc.gone;
SELECT relation, statement, rank IS NOT NULL AS ranked FROM pipeopt.recommendations WHERE reason = 'test gone';
SELECT relation, statement FROM pipeopt.index_advice WHERE reason = 'test gone';
UPDATE pipeopt.advice SET status = 'obsolete' WHERE reason = 'test gone';

-- privileges: nobody but approvers decides; readers read
CREATE ROLE lc_user LOGIN;
CREATE ROLE lc_approver LOGIN;
GRANT pipeopt_approver TO lc_approver;
SET ROLE lc_user;
SELECT pipeopt.approve(:r1, 'mine');
SELECT count(*) FROM pipeopt.recommendations;
UPDATE pipeopt.advice SET status = 'approved' WHERE id = :r1;
RESET ROLE;
GRANT pipeopt_reader TO lc_user;
SET ROLE lc_user;
SELECT count(*) > 0 AS reader_sees FROM pipeopt.recommendations;
-- findings show every role's statements: pg_read_all_stats only
SELECT count(*) FROM pipeopt.findings;
SELECT pipeopt.reject(:r1, 'mine');
RESET ROLE;

-- decisions
\c - lc_approver
SELECT pipeopt.approve(:r1, 'customer lookups are slow');
SELECT decided_by, decision_note, status FROM pipeopt.advice WHERE id = :r1;
SELECT pipeopt.approve(:r1);
SELECT pipeopt.approve(-1);
SELECT pipeopt.reject(:r5, '  ');
SELECT pipeopt.reject(:r5, 'points are not compared with btree');
SELECT pipeopt.reject(:r5, 'twice');
-- an index with an expression could not be recreated on rollback
SELECT pipeopt.approve(:r4);
SELECT pipeopt.apply_now(:r2);
\c - :su

-- apply: the index is built, its record kept
SELECT recommendation = :r1 AS same, status, outcome,
       regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N') AS statement, detail
  FROM pipeopt.apply_now(:r1);
SELECT regexp_replace(pg_get_indexdef(i.indexrelid), '_pipeopt_[0-9]+', '_pipeopt_N') AS built, i.indisvalid
  FROM pg_index i WHERE i.indrelid = 'lc.orders'::regclass AND i.indexrelid::regclass::text ~ '_pipeopt_';
SELECT action, outcome, approved_by, approval_note, attempt, object_schema,
       regexp_replace(object_name, '_pipeopt_[0-9]+', '_pipeopt_N') AS object_name,
       inverse ->> 'action' AS inverse, (inverse ->> 'indexrelid')::oid = object_oid AS inverse_names_it,
       duration_ms >= 0 AS timed, state_before -> 'columns' AS columns, state_after ->> 'valid' AS valid
  FROM pipeopt.change_log WHERE advice_id = :r1;
SELECT pipeopt.apply_now(:r1);
SELECT status FROM pipeopt.advice WHERE id = :r1;

-- drop, then roll back: the index comes back exactly as it was
SELECT pg_get_indexdef('lc.orders_note_idx'::regclass) AS note_idx \gset
SELECT pipeopt.approve(:r3, 'never used');
SELECT status, outcome, statement FROM pipeopt.apply_now(:r3);
SELECT to_regclass('lc.orders_note_idx') AS dropped;
SELECT inverse -> 'spec' -> 'keys' AS keys, inverse -> 'spec' -> 'options' AS options
  FROM pipeopt.change_log WHERE advice_id = :r3;
SELECT status, outcome, statement FROM pipeopt.rollback(:r3);
SELECT pg_get_indexdef('lc.orders_note_idx'::regclass) = :'note_idx' AS same_definition;
SELECT pipeopt.rollback(:r3);

-- roll back a created index
SELECT status, outcome, regexp_replace(statement, '_pipeopt_[0-9]+', '_pipeopt_N') AS statement
  FROM pipeopt.rollback(:r1);
SELECT count(*) AS pipeopt_indexes FROM pg_class WHERE relname ~ '^orders_.*_pipeopt_';
SELECT action, outcome FROM pipeopt.change_log WHERE advice_id IN (:r1, :r3) ORDER BY id;

-- an approval is bound to the target's catalog state: renaming the column
-- lapses it
SELECT pipeopt.approve(:r2, 'status filters');
ALTER TABLE lc.orders RENAME COLUMN status TO state;
SELECT pipeopt.apply_now(:r2);
SELECT status, status_reason ~ 'lapsed' AS lapsed FROM pipeopt.advice WHERE id = :r2;
ALTER TABLE lc.orders RENAME COLUMN state TO status;

-- apply_now must be a statement of its own
SELECT pipeopt.approve(:r2, 'again');
BEGIN;
SELECT pipeopt.apply_now(:r2);
ROLLBACK;
SET default_transaction_isolation = 'repeatable read';
SELECT pipeopt.apply_now(:r2);
RESET default_transaction_isolation;

-- a failed attempt is recorded, retried after a backoff, and failed for
-- good after pipeopt.apply_max_attempts (3)
UPDATE pipeopt.advice SET status = 'proposed' WHERE id = :r5;
SELECT pipeopt.approve(:r5, 'try it');
SELECT status, outcome, detail ~ 'operator class' AS why FROM pipeopt.apply_now(:r5);
SELECT status, attempts, next_attempt_at > now() AS backoff, status_reason ~ 'retried after 00:05:00' AS reason
  FROM pipeopt.advice WHERE id = :r5;
SELECT status, outcome FROM pipeopt.apply_now(:r5);
SELECT status, next_attempt_at > now() + interval '500 s' AS doubled FROM pipeopt.advice WHERE id = :r5;
SELECT status, outcome FROM pipeopt.apply_now(:r5);
SELECT status, attempts, status_reason ~ 'attempt 3 of 3 failed' AS reason FROM pipeopt.advice WHERE id = :r5;
SELECT attempt, outcome, error ~ 'operator class' AS error FROM pipeopt.change_log WHERE advice_id = :r5 ORDER BY id;

-- automation: approval by policy only where configured, and only for
-- low-risk, confident recommendations
UPDATE pipeopt.advice SET status = 'obsolete' WHERE relid <> 'lc.orders'::regclass AND status = 'proposed';
SELECT * FROM pipeopt.automation_policy ORDER BY kind;
SELECT pipeopt._auto_approve();
SELECT pipeopt.set_automation('create_index', 'automatic', 0.8);
SELECT pipeopt.set_automation('create_index', 'sometimes');
SELECT pipeopt.set_automation('vacuum', 'automatic');
UPDATE pipeopt.advice SET status = 'proposed', decided_by = NULL WHERE id IN (:r1, :r2);
SELECT pipeopt._auto_approve() >= 1 AS approved_some;
SELECT id = :r1 AS first, status, decided_by, automatic FROM pipeopt.advice WHERE id IN (:r1, :r2) ORDER BY id;
SELECT pipeopt.set_automation('create_index', 'advisory');
UPDATE pipeopt.advice SET status = 'proposed' WHERE id = :r1;
SELECT pipeopt.approve(:r1);
SELECT kind, mode, min_confidence, configured FROM pipeopt.automation_policy ORDER BY kind;
DELETE FROM pipeopt.automation;

-- the maintenance window, in local time, may wrap midnight
SET TimeZone = 'UTC';
SET pipeopt.apply_window = '22:00-02:00';
SELECT pipeopt._in_apply_window('2026-01-01 23:30+00') AS late,
       pipeopt._in_apply_window('2026-01-02 01:59+00') AS early,
       pipeopt._in_apply_window('2026-01-02 12:00+00') AS noon;
SET pipeopt.apply_window = '1:00 to 5:00';
RESET pipeopt.apply_window;
RESET TimeZone;

-- what is left for the worker: nothing due (the failed change waits for a
-- DBA), nothing running
SELECT pipeopt._apply_pending();
DROP ROLE lc_user;
REVOKE pipeopt_approver FROM lc_approver;
DROP ROLE lc_approver;
