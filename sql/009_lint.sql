-- Lint rules: positive, negative and undecided cases, raw and normalized ($n).

CREATE TEMP TABLE cases (id serial, expect text, sql text);
INSERT INTO cases (expect, sql) VALUES
  -- select-star
  ('select-star', 'SELECT * FROM orders'),
  ('select-star', 'SELECT o.* FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.id = $1'),
  ('select-star', 'INSERT INTO archive SELECT * FROM staging'),
  ('-', 'SELECT id FROM orders WHERE EXISTS (SELECT * FROM items i WHERE i.order_id = orders.id)'),
  ('-', 'SELECT count(*) FROM orders'),
  -- cartesian-product
  ('cartesian-product', 'SELECT o.id, c.name FROM orders o, customers c'),
  ('cartesian-product', 'SELECT o.id FROM orders o JOIN customers c ON true'),
  ('-', 'SELECT o.id FROM orders o CROSS JOIN customers c WHERE o.total > $1'),
  ('cartesian-product', 'SELECT o.id, c.name FROM orders o CROSS JOIN (SELECT max(ts) AS m FROM events) l, customers c WHERE o.ts > l.m'),
  ('-', 'SELECT o.id FROM (orders o JOIN items i ON i.order_id = o.id) AS j, customers c WHERE j.customer_id = c.id'),
  ('-', 'SELECT o.id FROM orders o WHERE EXISTS (SELECT 1 FROM items i, shipments s WHERE i.order_id = o.id AND s.order_id = o.id)'),
  ('cartesian-product', 'SELECT o.id FROM orders o, (SELECT count(*) OVER () AS n FROM items) w'),
  ('cartesian-product', 'SELECT a.id FROM a, b, c WHERE a.id = b.a_id'),
  ('-', 'SELECT x FROM a, b WHERE x = y'),
  ('cartesian-product', 'SELECT x FROM a, b WHERE x = 1 AND a.z > $1'),
  ('cartesian-product', 'SELECT 1 FROM a, b, c WHERE x = y'),
  ('-', 'SELECT o.id FROM orders o, customers c WHERE c.id = o.customer_id'),
  ('-', 'SELECT o.id FROM orders o JOIN customers c USING (customer_id)'),
  ('-', 'SELECT o.id FROM orders o NATURAL JOIN customers'),
  ('-', 'SELECT t.x, g FROM t, generate_series(1, 3) g'),
  ('-', 'SELECT o.id, mx.m FROM orders o, (SELECT max(total) AS m FROM orders) mx'),
  ('-', 'SELECT a.id FROM a, b WHERE EXISTS (SELECT 1 FROM c WHERE c.a = a.id AND c.b = b.id)'),
  ('-', 'SELECT a.id, s.v FROM a, LATERAL (SELECT b.v FROM b WHERE b.a_id = a.id) s'),
  ('not-in-subquery', 'SELECT a.id FROM a, b WHERE a.id NOT IN (SELECT y FROM c) AND b.a_id = a.id'),
  ('cartesian-product', 'SELECT a.id FROM a, b WHERE a.id NOT IN (SELECT y FROM c)'),
  -- not-in-subquery
  ('not-in-subquery', 'SELECT id FROM customers WHERE id NOT IN (SELECT customer_id FROM orders)'),
  ('not-in-subquery', 'SELECT c.id FROM customers c WHERE c.id <> ALL (SELECT customer_id FROM orders)'),
  ('not-in-subquery', 'SELECT id FROM t WHERE id NOT IN (SELECT x FROM u WHERE y = $1)'),
  ('-', 'SELECT id FROM customers WHERE id NOT IN ($1, $2, $3)'),
  ('-', 'SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)'),
  ('-', 'SELECT id FROM customers WHERE id IN (SELECT customer_id FROM orders)'),
  -- order-by-random
  ('order-by-random', 'SELECT id FROM products ORDER BY random() LIMIT 5'),
  ('order-by-random', 'SELECT id FROM products ORDER BY pg_catalog.random() LIMIT $1'),
  ('-', 'SELECT id FROM products ORDER BY created_at DESC LIMIT 5'),
  -- leading-wildcard-like
  ('leading-wildcard-like', $$SELECT id FROM products WHERE name LIKE '%phone'$$),
  ('leading-wildcard-like', $$SELECT id FROM products WHERE name ILIKE '_ab%'$$),
  ('leading-wildcard-like', $$SELECT id FROM products WHERE name LIKE '%' || $1$$),
  ('leading-wildcard-like (undecided)', 'SELECT id FROM products WHERE name LIKE $1'),
  ('leading-wildcard-like', $$SELECT id FROM products WHERE name ILIKE '%' || $1 || '%'$$),
  ('leading-wildcard-like (undecided)', 'SELECT id FROM products WHERE name LIKE $1::text'),
  ('-', $$SELECT id FROM products WHERE name LIKE 'phone%'$$),
  ('-', $$SELECT id FROM products WHERE name NOT LIKE 'abc%'$$),
  -- offset-pagination
  ('offset-pagination', 'SELECT id FROM orders ORDER BY id LIMIT 20 OFFSET 100000'),
  ('offset-pagination', 'SELECT id FROM orders ORDER BY id LIMIT 20 OFFSET 5000000000'),
  ('offset-pagination (undecided)', 'SELECT id FROM orders ORDER BY id LIMIT $1 OFFSET $2'),
  ('-', 'SELECT id FROM orders ORDER BY id LIMIT 20 OFFSET 40'),
  -- limit-without-order-by
  ('limit-without-order-by', 'SELECT id FROM orders WHERE status = $1 LIMIT 10'),
  ('limit-without-order-by', 'SELECT id FROM a UNION ALL SELECT id FROM b LIMIT 10'),
  ('-', 'SELECT 1 WHERE EXISTS (SELECT * FROM a UNION ALL SELECT * FROM b)'),
  ('-', 'SELECT id FROM orders ORDER BY id LIMIT 10'),
  ('-', 'SELECT 1 WHERE EXISTS (SELECT 1 FROM orders WHERE status = $1 LIMIT 1)'),
  ('-', 'SELECT id FROM orders ORDER BY id LIMIT ALL'),
  -- having-without-aggregate
  ('having-without-aggregate', 'SELECT customer_id FROM orders GROUP BY customer_id HAVING customer_id > 10'),
  ('-', 'SELECT customer_id FROM orders GROUP BY customer_id HAVING count(*) > $1'),
  ('-', 'SELECT customer_id FROM orders GROUP BY customer_id HAVING my_agg(total) > 10'),
  ('-', 'SELECT region, product FROM sales GROUP BY ROLLUP (region, product) HAVING GROUPING(product) = 0'),
  -- correlated-subquery-in-select-list
  ('correlated-subquery-in-select-list', 'SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) FROM customers c'),
  ('-', 'SELECT c.id, (SELECT max(total) FROM orders) FROM customers c'),
  ('correlated-subquery-in-select-list', 'SELECT c.id, coalesce((SELECT sum(o.total) FROM orders o WHERE o.customer_id = c.id), 0) FROM customers c'),
  ('-', $$SELECT e.id, (SELECT string_agg(x, ',') FROM jsonb_array_elements_text(e.payload->'tags') x) FROM events e$$),
  -- update-or-delete-without-where
  ('update-or-delete-without-where', 'DELETE FROM staging'),
  ('update-or-delete-without-where', 'UPDATE accounts SET balance = $1'),
  ('-', 'DELETE FROM staging WHERE loaded_at < $1'),
  ('-', 'TRUNCATE staging'),
  -- large-in-list
  ('large-in-list', 'SELECT id FROM t WHERE id IN (' ||
     (SELECT string_agg('$' || g, ', ') FROM generate_series(1, 60) g) || ')'),
  ('-', 'SELECT id FROM t WHERE id IN (1, 2, 3, 4, 5, 6, 7, 8, 9, 10)'),
  -- count-for-existence
  ('count-for-existence', 'SELECT CASE WHEN (SELECT count(*) FROM orders WHERE customer_id = 7) > 0 THEN 1 END'),
  ('count-for-existence (undecided)', 'SELECT (SELECT count(*) FROM orders WHERE customer_id = $1) > $2'),
  ('-', 'SELECT count(*) FROM orders WHERE customer_id = 7'),
  ('-', 'SELECT (SELECT count(*) FROM orders WHERE customer_id = 7) > 1'),
  ('count-for-existence', 'SELECT 0 < (SELECT count(*) FROM orders WHERE customer_id = 7)'),
  -- statements that are not queries, and texts that do not parse
  ('-', $q$CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $b$ BEGIN RETURN 1; END $b$$q$),
  ('-', $q$DO $b$ BEGIN PERFORM 1; END $b$$q$),
  ('-', 'CREATE TABLE t (id int PRIMARY KEY)'),
  -- schema rules on DDL
  ('table-without-primary-key', 'CREATE TABLE events (at timestamptz, payload jsonb)'),
  ('-', 'CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY, total numeric, PRIMARY KEY (id))'),
  ('-', 'CREATE TEMP TABLE scratch (a int)'),
  ('-', $$CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')$$),
  ('-', 'CREATE TABLE copy_of (LIKE orders INCLUDING ALL)'),
  ('char-n-type, serial-column', 'CREATE TABLE c (id serial PRIMARY KEY, code char(3))'),
  ('money-type, timestamp-without-time-zone, varchar-length-limit',
   'CREATE TABLE p (id int PRIMARY KEY, price money, at timestamp, name varchar(80), note varchar, seen timestamptz)'),
  ('money-type, timestamp-without-time-zone', 'ALTER TABLE orders ADD COLUMN placed timestamp, ALTER COLUMN total TYPE money'),
  ('-', 'CREATE TABLE t1 (a int); ALTER TABLE ONLY t1 ADD CONSTRAINT t1_pkey PRIMARY KEY (a)'),
  ('serial-column', 'CREATE TABLE t3 (id serial8 PRIMARY KEY)'),
  ('-', 'ALTER TYPE address ADD ATTRIBUTE zip varchar(10)'),
  ('select-star', 'EXPLAIN SELECT * FROM orders'),
  ('select-star', 'CREATE VIEW v AS SELECT * FROM orders'),
  ('parse-error', 'SELEC 1'),
  ('parse-error', 'n := (SELECT count(*) FROM pg_class WHERE relkind = $1)');

SELECT c.id, c.expect,
       coalesce(string_agg(l.rule || CASE WHEN l.evidence->>'decided' = 'false' THEN ' (undecided)' ELSE '' END,
                           ', ' ORDER BY l.rule), '-') AS found
  FROM cases c LEFT JOIN LATERAL pipeopt.lint(c.sql) l ON true
 GROUP BY c.id, c.expect ORDER BY c.id;

-- Undecided findings are info; decided ones carry the rule's severity.
SELECT rule, severity, evidence FROM pipeopt.lint($$SELECT id FROM products WHERE name LIKE $1$$);
SELECT rule, severity, evidence FROM pipeopt.lint($$SELECT id FROM products WHERE name LIKE '%phone'$$);

-- Locations: byte offset (from 1), line and column of each finding.
SELECT statement, rule, location, line, col
  FROM pipeopt.lint(E'SELECT id\n  FROM orders\n  ORDER BY random();\n\nDELETE FROM staging;\nSELEC oops;\nSELECT * FROM t')
 ORDER BY location;

-- Parse errors after multibyte characters: the byte offset and the column
-- (in characters) still point at the token.
SELECT rule, location, line, col, message FROM pipeopt.lint($$SELECT 'ééé', '😀' FROM t WHER x$$);

-- Every finding explains itself.
SELECT count(*) FILTER (WHERE why IS NULL OR fix IS NULL OR message IS NULL) AS unexplained
  FROM cases c, pipeopt.lint(c.sql) l WHERE l.rule <> 'parse-error';

-- Rules can be turned off, and must exist to be named.
SET pipeopt.disabled_rules = 'select-star, order-by-random';
SELECT rule FROM pipeopt.lint('SELECT * FROM t ORDER BY random() LIMIT 1');
SELECT id FROM pipeopt.rules WHERE NOT enabled ORDER BY id;
SET pipeopt.disabled_rules = 'select-star, no-such-rule';
RESET pipeopt.disabled_rules;

-- Bad input: a clean result or a parse error, never a crash or a hang.
SELECT count(*) AS empty FROM pipeopt.lint('');
SELECT count(*) AS blank FROM pipeopt.lint(E'  \n-- only a comment\n');
SELECT rule, message FROM pipeopt.lint('SELECT ' || repeat('(', 100000) || '1' || repeat(')', 100000));
SELECT count(*) AS deep_but_parsed FROM pipeopt.lint('SELECT ' || repeat('(', 5000) || '1' || repeat(')', 5000));
SELECT count(*) AS long_chain FROM pipeopt.lint('SELECT ' || repeat('a + ', 250000) || '1 FROM t');
SELECT count(*) AS one_megabyte_literal FROM pipeopt.lint('SELECT ''' || repeat('x', 1000000) || ''' FROM t WHERE id = 1');
SELECT rule FROM pipeopt.lint(E'SELECT 1; SELECT ''unterminated');
-- prefix operators have no left operand (this once crashed the backend)
SELECT count(*) AS prefix_op FROM pipeopt.lint('SELECT OPERATOR(pg_catalog.>) (SELECT count(*) FROM t)');
SELECT count(*) AS prefix_op_key FROM pipeopt.lint('DELETE FROM t WHERE OPERATOR(pg_catalog.=) $1', '{"calls": 5000, "rows": 1}');
-- long expressions inside the conditions that rules read on their own
SELECT count(*) AS long_join_condition FROM pipeopt.lint('SELECT a.id FROM a, b WHERE a.x = ' || repeat('b.y + ', 200000) || '1');
SELECT rule FROM pipeopt.lint('SELECT k FROM t GROUP BY k HAVING k = ' || repeat('k + ', 200000) || '1');
-- evidence with numbers out of range: an error, and nothing leaks
SELECT * FROM pipeopt.lint('INSERT INTO t (a) VALUES ($1)', '{"calls": 1e400, "rows": 1}');
SELECT rule, evidence FROM pipeopt.lint('INSERT INTO t (a) VALUES ($1)', '{"calls": 1e300, "rows": 1, "window_hours": 1e-300}');
SELECT rule, statement FROM pipeopt.lint('SELECT 1; /* ; */ SELEC 2; DELETE FROM t');
-- an unclosed parenthesis does not swallow the statements after it; comments nest
SELECT rule, statement FROM pipeopt.lint('SELECT count(id FROM t; SELECT * FROM a, b; DELETE FROM big');
SELECT rule, statement FROM pipeopt.lint('SELECT 1 /* a /* nested ; */ still */ FROM t; SELEC x; DELETE FROM t');
-- a finding about a whole statement points at its first token
SELECT rule, line, col FROM pipeopt.lint(E'SELECT 1;\n\n  /* c */ SELECT a FROM t', '{"calls": 10, "temp_blks_written": 100}');

-- Anyone may lint; it needs no capture and no privilege on history.
CREATE ROLE regress_pipeopt_linter;
SET ROLE regress_pipeopt_linter;
SELECT count(*) AS findings FROM pipeopt.lint('SELECT * FROM t');
SELECT count(*) > 10 AS rules_visible FROM pipeopt.rules;
RESET ROLE;
DROP ROLE regress_pipeopt_linter;
