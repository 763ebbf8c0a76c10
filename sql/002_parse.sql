-- Parsing: fingerprints, kinds, normalization, what is stored.

-- The fingerprint ignores literal values, parameter numbers and layout...
SELECT pipeopt.fingerprint('SELECT a FROM t WHERE b = 1')
     = pipeopt.fingerprint('select a
                              from t where b = $1') AS same_fingerprint;
-- ...but not the shape of the statement.
SELECT pipeopt.fingerprint('SELECT a FROM t WHERE b = 1')
     = pipeopt.fingerprint('SELECT a FROM t WHERE c = 1') AS different_column;

SELECT kind, query, parse_error
  FROM (VALUES ('SELECT 1'),
               ('INSERT INTO t VALUES ($1)'),
               ('UPDATE t SET a = $1'),
               ('DELETE FROM t'),
               ('MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE'),
               ('VALUES (1)'),
               ('CREATE TABLE x (a int)'),
               ('-- only a comment')) v(q),
       LATERAL pipeopt.parse_statement(v.q);

-- Utility statements are stored normalized: no password, no literal.
SELECT kind, query FROM pipeopt.parse_statement($$ALTER ROLE app PASSWORD 'hunter2' VALID UNTIL '2030-01-01'$$);
SELECT kind, query FROM pipeopt.parse_statement($$CREATE USER etl WITH PASSWORD 'hunter2'$$);
SELECT kind, query FROM pipeopt.parse_statement($$SET statement_timeout = '5s'$$);
-- Literals that pg_query_normalize() leaves in utility statements are masked.
SELECT query FROM pipeopt.parse_statement(
  $$CREATE SERVER s FOREIGN DATA WRAPPER w OPTIONS (host 'db.internal', password 'hunter2')$$);
SELECT query FROM pipeopt.parse_statement($$ALTER SYSTEM SET work_mem = '64MB'$$);
SELECT query FROM pipeopt.parse_statement($$COPY t FROM '/srv/secret/export.csv'$$);
-- A text with several statements is a utility text if any of them is one.
SELECT kind, query FROM pipeopt.parse_statement($$SELECT 1; ALTER ROLE x PASSWORD 'hunter2'$$);
SELECT kind, query FROM pipeopt.parse_statement($$SELECT 1; SELECT 2$$);
SELECT pipeopt.fingerprint($$ALTER ROLE app PASSWORD 'a'$$)
     = pipeopt.fingerprint($$ALTER ROLE app PASSWORD 'b'$$) AS password_not_in_identity;

-- DML from pg_stat_statements is already normalized and kept as it is.
SELECT query FROM pipeopt.parse_statement('SELECT $1::numeric(10,2) FROM t LIMIT $2');

-- A text that does not parse: error and position kept, literals masked.
SELECT kind, query, parse_error, parse_error_position
  FROM pipeopt.parse_statement($$SELEC 'secret', E'it\'s', $tag$ body $tag$, "ident" -- 'c'$$);
SELECT query FROM pipeopt.parse_statement($$ALTER ROLE x PASSWORD 'unterminated$$);
SELECT query FROM pipeopt.parse_statement($$GRANT x TO $$ || 'y''s' || $$ 'z$$);
SELECT fingerprint ~ '^[0-9a-f]{16}$' AS hex_identity
  FROM pipeopt.parse_statement('SELEC 1');

-- Normalize, and its error on a text that does not parse.
SELECT pipeopt.normalize($$SELECT * FROM t WHERE a = 'x' AND b IN (1, 2, 3)$$);
SELECT pipeopt.normalize('SELEC 1');

-- Deep nesting beyond libpg_query's parser stack is a parse error, not a crash.
SELECT kind, parse_error
  FROM pipeopt.parse_statement('SELECT ' || repeat('(', 20000) || '1' || repeat(')', 20000));
