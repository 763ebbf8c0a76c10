-- The what-if planner: hypothetical index sizes against built ones, plan
-- costs against HypoPG's and against the planner's with the index built.
CREATE SCHEMA wi;
CREATE TABLE wi.events (id bigint PRIMARY KEY, account int NOT NULL, kind text,
                        at timestamptz NOT NULL, amount numeric);
INSERT INTO wi.events
  SELECT g, g % 5000, 'kind-' || (g % 7), timestamptz '2026-01-01' + g * interval '1 minute',
         (g % 1000) / 10.0
    FROM generate_series(1, 200000) g;
ANALYZE wi.events;
CREATE TABLE wi.tiny (a int);

-- Sizes: the estimate within 25% of the index really built, deduplication
-- on repetitive keys (account: 40 rows per value), none on a unique one.
CREATE TABLE wi.sizes (def text, est bigint, dedup boolean, real bigint);
INSERT INTO wi.sizes (def) VALUES
  ('CREATE INDEX ON wi.events (account)'),
  ('CREATE INDEX ON wi.events (kind)'),
  ('CREATE INDEX ON wi.events (at)'),
  ('CREATE INDEX ON wi.events (amount)'),
  ('CREATE INDEX ON wi.events (account, at)'),
  ('CREATE INDEX ON wi.events (account) INCLUDE (amount)'),
  ('CREATE UNIQUE INDEX ON wi.events (id, account)'),
  ('CREATE INDEX ON wi.events (account) WITH (fillfactor = 50)'),
  ('CREATE INDEX ON wi.events USING hash (account)'),
  ('CREATE INDEX ON wi.events USING brin (at)');
DO $$
DECLARE r record; idx regclass;
BEGIN
  FOR r IN SELECT def FROM wi.sizes LOOP
    UPDATE wi.sizes s SET est = h.estimated_bytes, dedup = h.deduplicated
      FROM pipeopt.hypothetical_index(r.def) h WHERE s.def = r.def;
    EXECUTE r.def;
    SELECT c.oid INTO idx FROM pg_class c WHERE c.relkind = 'i' ORDER BY c.oid DESC LIMIT 1;
    UPDATE wi.sizes SET real = pg_relation_size(idx) WHERE def = r.def;
    EXECUTE format('DROP INDEX %s', idx);
  END LOOP;
END $$;
SELECT def, dedup, est BETWEEN real * 0.75 AND real * 1.25 AS within_25pct
  FROM wi.sizes ORDER BY def;
SELECT relation, definition, method, estimated_entries BETWEEN 25000 AND 32000 AS about_a_seventh, tree_height
  FROM pipeopt.hypothetical_index('create index on wi.events (at desc nulls last) where kind = ''kind-1''');

-- Known right answers: an equality lookup, a selective range, an ORDER BY
-- ... LIMIT and a join key use the index; a predicate on most rows does not.
CREATE TABLE wi.accounts (id int PRIMARY KEY, name text);
INSERT INTO wi.accounts SELECT g, 'a' || g FROM generate_series(0, 4999) g;
ANALYZE wi.accounts;
SELECT w.indexes_used, w.cost_after < w.cost_before AS cheaper
  FROM (VALUES ('SELECT * FROM wi.events WHERE account = 42'),
               ('SELECT * FROM wi.events WHERE at BETWEEN ''2026-02-01'' AND ''2026-02-02'''),
               ('SELECT * FROM wi.events ORDER BY at DESC LIMIT 10'),
               ('SELECT a.name, e.amount FROM wi.accounts a JOIN wi.events e ON e.account = a.id WHERE a.name = ''a7'''),
               ('SELECT * FROM wi.events WHERE account > 10')) s(q),
       LATERAL pipeopt.whatif(s.q, ARRAY['CREATE INDEX ON wi.events (account)',
                                         'CREATE INDEX ON wi.events (at)']) w;
-- normalized texts ($n, interval $1) plan too, generically
SELECT indexes_used FROM pipeopt.whatif(
  'SELECT * FROM wi.events WHERE account = $1 AND at > now() - interval $2',
  ARRAY['CREATE INDEX ON wi.events (account)']);

-- The same index, the same size: the same cost as HypoPG's.
CREATE EXTENSION hypopg;
CREATE TABLE wi.agree (q text, def text, ours float8, hypopg float8);
INSERT INTO wi.agree (q, def) VALUES
  ('SELECT * FROM wi.events WHERE account = 42', 'CREATE INDEX ON wi.events (account)'),
  ('SELECT count(*) FROM wi.events WHERE at < ''2026-01-20''', 'CREATE INDEX ON wi.events (at)'),
  ('SELECT account, sum(amount) FROM wi.events WHERE kind = ''kind-3'' GROUP BY 1', 'CREATE INDEX ON wi.events (kind, account)'),
  ('SELECT * FROM wi.events ORDER BY account, at LIMIT 5', 'CREATE INDEX ON wi.events (account, at)');
DO $$
DECLARE r record; pages bigint; plan json;
BEGIN
  FOR r IN SELECT * FROM wi.agree LOOP
    PERFORM hypopg_reset();
    SELECT hypopg_relation_size(indexrelid) / 8192 INTO pages FROM hypopg_create_index(r.def);
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || r.q INTO plan;
    PERFORM hypopg_reset();		-- ours must not see HypoPG's
    UPDATE wi.agree SET hypopg = (plan->0->'Plan'->>'Total Cost')::float8,
           ours = (SELECT cost_after FROM pipeopt.whatif(r.q, ARRAY[r.def || format(' WITH (pages = %s)', pages)]))
     WHERE q = r.q;
  END LOOP;
END $$;
SELECT def, abs(ours / hypopg - 1) <= 0.01 AS within_1pct FROM wi.agree ORDER BY def;
-- HypoPG's own hypothetical indexes stay out of our plans
SELECT count(*) FROM hypopg_create_index('CREATE INDEX ON wi.events (account)');
SELECT cardinality(indexes_used) AS ours_used, cost_after = cost_before AS unchanged
  FROM pipeopt.whatif('SELECT * FROM wi.events WHERE account = 42');
SELECT hypopg_reset();

-- Our estimate against the planner's cost with the index really built.
CREATE TABLE wi.built (q text, def text, hypothetical float8, real float8);
INSERT INTO wi.built (q, def) SELECT q, def FROM wi.agree;
DO $$
DECLARE r record; plan json; idx regclass;
BEGIN
  FOR r IN SELECT * FROM wi.built LOOP
    UPDATE wi.built SET hypothetical = (SELECT cost_after FROM pipeopt.whatif(r.q, ARRAY[r.def])) WHERE q = r.q;
    EXECUTE r.def;
    SELECT c.oid INTO idx FROM pg_class c WHERE c.relkind = 'i' ORDER BY c.oid DESC LIMIT 1;
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || r.q INTO plan;
    UPDATE wi.built SET real = (plan->0->'Plan'->>'Total Cost')::float8 WHERE q = r.q;
    EXECUTE format('DROP INDEX %s', idx);
  END LOOP;
END $$;
SELECT def, abs(hypothetical / real - 1) <= 0.05 AS within_5pct FROM wi.built ORDER BY def;

-- Hiding a real index: what the statement would cost without it.
CREATE INDEX events_account ON wi.events (account);
SELECT cost_after > cost_before AS dearer_without
  FROM pipeopt.whatif('SELECT * FROM wi.events WHERE account = 42', hide => ARRAY['wi.events_account'::regclass]);
DROP INDEX wi.events_account;

-- Bad input: clear errors.
SELECT * FROM pipeopt.hypothetical_index('SELECT 1');
SELECT * FROM pipeopt.hypothetical_index('CREATE INDEX ON wi.events USING gin (kind)');
SELECT * FROM pipeopt.hypothetical_index('CREATE INDEX ON wi.events (nope)');
SELECT * FROM pipeopt.hypothetical_index('CREATE INDEX ON wi.events (account) WITH (deduplicate_items = off)');
SELECT * FROM pipeopt.whatif('SELECT * FROM wi.events WHERE', '{}');
SELECT * FROM pipeopt.whatif('VACUUM wi.events');
SELECT * FROM pipeopt.whatif('SELECT 1; SELECT 2');
SELECT * FROM pipeopt.whatif('SELECT 1', hide => ARRAY['wi.events'::regclass]);
CREATE TABLE wi.parted (k int) PARTITION BY RANGE (k);
SELECT * FROM pipeopt.hypothetical_index('CREATE INDEX ON wi.parted (k)');

-- As the caller: no privilege on the table, no plan and no size.
CREATE ROLE regress_pipeopt_outsider;
SET ROLE regress_pipeopt_outsider;
SELECT * FROM pipeopt.whatif('SELECT * FROM wi.tiny');
SELECT * FROM pipeopt.hypothetical_index('CREATE INDEX ON wi.tiny (a)');
RESET ROLE;
GRANT USAGE ON SCHEMA wi TO regress_pipeopt_outsider;
SET ROLE regress_pipeopt_outsider;
SELECT * FROM pipeopt.whatif('SELECT * FROM wi.tiny');
SELECT * FROM pipeopt.hypothetical_index('CREATE INDEX ON wi.tiny (a)');
RESET ROLE;
-- A volatile function is not run (nor usable as an index condition); the
-- planner does run stable ones to estimate selectivity: in a
-- security-restricted context, where they cannot change the role. No lock
-- outlives the call.
CREATE FUNCTION wi.loud() RETURNS int LANGUAGE plpgsql VOLATILE AS
$$BEGIN RAISE EXCEPTION 'wi.loud ran'; END$$;
CREATE FUNCTION wi.escalate() RETURNS int LANGUAGE plpgsql STABLE AS
$$BEGIN PERFORM set_config('role', 'none', false); RETURN 1; END$$;
BEGIN;
SELECT cardinality(indexes_used) FROM pipeopt.whatif('SELECT * FROM wi.events WHERE account = wi.loud()',
                                                     ARRAY['CREATE INDEX ON wi.events (account)']);
SELECT count(*) AS locks_on_events FROM pg_locks
 WHERE pid = pg_backend_pid() AND relation = 'wi.events'::regclass AND mode <> 'AccessShareLock';
COMMIT;
SELECT * FROM pipeopt.whatif('SELECT * FROM wi.events WHERE account = wi.escalate()');

DROP EXTENSION hypopg;
DROP SCHEMA wi CASCADE;
DROP ROLE regress_pipeopt_outsider;
