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

-- a statement that does not plan is left out, with a notice
SELECT count(*) FROM pipeopt.select_indexes(ARRAY['SELECT * FROM si.nowhere WHERE x = 1',
                                                  'SELECT * FROM si.orders WHERE customer = 5']);
-- bad input
SELECT * FROM pipeopt.select_indexes(ARRAY['SELECT 1'], 'lots');
SELECT * FROM pipeopt.select_indexes(ARRAY['SELECT 1'], '1MB', ARRAY[1, 2]::float8[]);
SELECT * FROM pipeopt.select_indexes(ARRAY['SELECT 1'], '1MB', NULL, 0);

DROP SCHEMA si CASCADE;
