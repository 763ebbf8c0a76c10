-- Index selection: known right answers on a small schema.
CREATE SCHEMA si;
CREATE TABLE si.orders (id bigint PRIMARY KEY, customer int NOT NULL, status text NOT NULL,
                        placed timestamptz NOT NULL, total numeric, shop int NOT NULL);
INSERT INTO si.orders
  SELECT g, g % 20000, (ARRAY['new','paid','shipped','done'])[1 + g % 4],
         timestamptz '2026-01-01' + g * interval '30 seconds', g % 500, g % 10000
    FROM generate_series(1, 200000) g;
CREATE TABLE si.customers (id int PRIMARY KEY, region text NOT NULL);
INSERT INTO si.customers SELECT g, 'r' || (g % 50) FROM generate_series(0, 19999) g;
ANALYZE si.orders, si.customers;

-- an equality lookup, a selective range, an ORDER BY ... LIMIT, a join key
SELECT definition, statements_improved, workload_cost_after < workload_cost_before AS cheaper
  FROM pipeopt.select_indexes(ARRAY[
    'SELECT * FROM si.orders WHERE customer = $1',
    'SELECT count(*) FROM si.orders WHERE placed >= $1 AND placed < $2',
    'SELECT id FROM si.orders ORDER BY placed DESC LIMIT 20',
    'SELECT c.region, o.total FROM si.customers c JOIN si.orders o ON o.customer = c.id WHERE c.id = 17'],
    '20MB')
 ORDER BY 1;

-- equality columns first: customer = $1 AND placed > $2 gets (customer, placed)
SELECT definition FROM pipeopt.select_indexes(ARRAY[
  'SELECT * FROM si.orders WHERE customer = $1 AND placed > $2 ORDER BY placed'], '20MB');

-- nothing fits a budget of 8kB; a status column of four values is not worth an index
SELECT count(*) FROM pipeopt.select_indexes(ARRAY['SELECT * FROM si.orders WHERE customer = 5'], '8kB');
SELECT count(*) FROM pipeopt.select_indexes(ARRAY['SELECT * FROM si.orders WHERE status <> ''done''']);

-- weights: a budget for one index goes to the statement that runs most
SELECT definition, estimated_bytes < 2 * 1024 * 1024 AS fits FROM pipeopt.select_indexes(
  ARRAY['SELECT * FROM si.orders WHERE customer = $1', 'SELECT * FROM si.orders WHERE shop = $1'],
  '2MB', ARRAY[1000, 1]::float8[]);
SELECT definition FROM pipeopt.select_indexes(
  ARRAY['SELECT * FROM si.orders WHERE customer = $1', 'SELECT * FROM si.orders WHERE shop = $1'],
  '2MB', ARRAY[1, 1000]::float8[]);

-- pipeopt.index_min_saving: an index that saves less than this share of
-- the workload's cost is not chosen (shop = $1 runs once for 100,000 runs
-- of customer = $1); at 0 every saving counts
SELECT definition FROM pipeopt.select_indexes(
  ARRAY['SELECT * FROM si.orders WHERE customer = $1', 'SELECT * FROM si.orders WHERE shop = $1'],
  '20MB', ARRAY[100000, 1]::float8[]) ORDER BY 1;
SET pipeopt.index_min_saving = 0;
SELECT definition FROM pipeopt.select_indexes(
  ARRAY['SELECT * FROM si.orders WHERE customer = $1', 'SELECT * FROM si.orders WHERE shop = $1'],
  '20MB', ARRAY[100000, 1]::float8[]) ORDER BY 1;
RESET pipeopt.index_min_saving;

-- a statement that does not plan is left out, with a notice
SELECT count(*) FROM pipeopt.select_indexes(ARRAY['SELECT * FROM si.nowhere WHERE x = 1',
                                                  'SELECT * FROM si.orders WHERE customer = 5']);
-- bad input
SELECT * FROM pipeopt.select_indexes(ARRAY['SELECT 1'], 'lots');
SELECT * FROM pipeopt.select_indexes(ARRAY['SELECT 1'], '1MB', ARRAY[1, 2]::float8[]);
SELECT * FROM pipeopt.select_indexes(ARRAY['SELECT 1'], '1MB', NULL, 0);

-- Planner calls: one plan with all of a table's candidates at once shows
-- that none of them helps the statement, so the seven on a table of 20
-- rows do not cost a plan each: fewer calls than one per candidate (9) and
-- one for the statement as it is. (30,000 rows or fewer: ANALYZE reads
-- them all, the plans are stable.)
CREATE TABLE si.facts (id int PRIMARY KEY, k int NOT NULL, v int NOT NULL);
INSERT INTO si.facts SELECT g, g % 3000, g % 20 FROM generate_series(1, 30000) g;
CREATE TABLE si.codes (id int PRIMARY KEY, a int, b int, c int, d int, e int, f int);
INSERT INTO si.codes SELECT g, g % 5, g % 3, g % 4, g % 6, g % 7, g % 2 FROM generate_series(1, 20) g;
ANALYZE si.facts, si.codes;
SELECT definition, planner_calls < 1 + 9 AS fewer_than_one_per_candidate
  FROM pipeopt.select_indexes(ARRAY[
    'SELECT * FROM si.facts f JOIN si.codes t ON t.id = f.v
      WHERE f.k = $1 AND t.a < 3 AND t.b = 1 AND t.c > 0 AND t.d >= 2 AND t.e < 6 AND t.f = 1']);

DROP SCHEMA si CASCADE;
