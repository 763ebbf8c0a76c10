-- The catalog rules: parse analysis as the statement's role, in a
-- security-restricted context, with the indexes the planner would see.

CREATE SCHEMA app;
CREATE TABLE app.accounts (id bigint PRIMARY KEY, email text, region text,
                           code char(4), opened_at timestamptz, closed_at timestamptz);
CREATE INDEX accounts_email ON app.accounts (email);
CREATE INDEX accounts_opened ON app.accounts (opened_at);
CREATE INDEX accounts_code ON app.accounts (code);
CREATE INDEX accounts_open_region ON app.accounts (region) WHERE closed_at IS NULL;
CREATE TABLE app.logins (id bigint PRIMARY KEY, account_id bigint, at timestamptz);
CREATE INDEX ON app.logins (account_id);

-- Positive and negative cases, one statement each.
SELECT statement, rule, severity, message
  FROM pipeopt.lint($$
SELECT id FROM app.accounts WHERE lower(email) = $1;
SELECT id FROM app.accounts WHERE email = lower($1);
SELECT id FROM app.accounts WHERE opened_at::date = $1;
SELECT id FROM app.accounts WHERE opened_at >= $1 AND opened_at < $2;
SELECT id FROM app.accounts WHERE id = $1::numeric;
SELECT id FROM app.accounts WHERE id = $1;
SELECT id FROM app.accounts WHERE code = $1::text;
SELECT id FROM app.accounts WHERE lower(region) = $1 AND closed_at IS NULL;
SELECT id FROM app.accounts WHERE lower(region) = $1;
SELECT id FROM app.accounts WHERE email = $1 OR region = $2;
SELECT id FROM app.accounts WHERE email = $1 OR opened_at > $2;
SELECT a.id FROM app.accounts a JOIN app.logins l ON l.account_id = a.id WHERE a.email = $1 OR l.at > $2;
SELECT DISTINCT a.id, a.email FROM app.accounts a JOIN app.logins l ON l.account_id = a.id;
SELECT DISTINCT l.id FROM app.logins l JOIN app.accounts a ON a.id = l.account_id;
SELECT id, 'account' FROM app.accounts UNION SELECT id, 'login' FROM app.logins;
SELECT id FROM app.accounts UNION SELECT account_id FROM app.logins;
SELECT id, $1 FROM app.accounts UNION SELECT id, $2 FROM app.logins
$$) WHERE rule NOT IN ('limit-without-order-by')
 ORDER BY statement, rule;

-- An expression index makes the function-on-indexed-column finding go.
CREATE INDEX accounts_lower_email ON app.accounts ((lower(email)));
SELECT count(*) AS findings FROM pipeopt.lint('SELECT id FROM app.accounts WHERE lower(email) = $1');
-- A trigram index takes back leading-wildcard-like.
CREATE EXTENSION pg_trgm;
SELECT rule FROM pipeopt.lint($$SELECT id FROM app.accounts WHERE email LIKE '%@example.com'$$);
CREATE INDEX accounts_email_trgm ON app.accounts USING gin (email gin_trgm_ops);
SELECT rule FROM pipeopt.lint($$SELECT id FROM app.accounts WHERE email LIKE '%@example.com'$$);

-- limit-without-order-by is taken back when WHERE fixes a unique key (at
-- most one row, also through an outer reference), kept when it does not,
-- or when it fixes only part of a composite one.
CREATE TABLE app.memberships (account_id bigint, team text, role text, UNIQUE (account_id, team));
SELECT statement, rule FROM pipeopt.lint($$
  SELECT email FROM app.accounts WHERE id = $1 LIMIT 1;
  SELECT email FROM app.accounts WHERE region = $1 LIMIT 1;
  SELECT role FROM app.memberships WHERE account_id = $1 AND team = $2 LIMIT 1;
  SELECT role FROM app.memberships WHERE account_id = $1 LIMIT 1;
  SELECT (SELECT l.at FROM app.logins l WHERE l.id = a.id LIMIT 1) FROM app.accounts a;
  SELECT a.email FROM app.accounts a JOIN app.logins l ON l.account_id = a.id WHERE a.id = $1 LIMIT 1$$)
 ORDER BY 1, 2;

-- Nothing in the statement runs: parse analysis only.
CREATE FUNCTION app.loud(text) RETURNS text LANGUAGE plpgsql AS
$$BEGIN RAISE EXCEPTION 'app.loud ran'; END$$;
SELECT rule FROM pipeopt.lint('SELECT id FROM app.accounts WHERE code = app.loud($1)::text');

-- A statement that does not analyze (unknown table) keeps its tree findings.
SELECT rule FROM pipeopt.lint('SELECT * FROM app.nowhere WHERE lower(x) = $1');
-- and leaves no lock behind, nor do the others
BEGIN;
SELECT count(*) >= 0 FROM pipeopt.lint('SELECT id FROM app.accounts WHERE lower(region) = $1 AND closed_at IS NULL');
SELECT count(*) AS locks_held FROM pg_locks
 WHERE pid = pg_backend_pid() AND relation IN ('app.accounts'::regclass, 'app.accounts_email'::regclass);
COMMIT;

-- As a role: its login search_path, and only what it may see.
CREATE ROLE regress_pipeopt_app LOGIN;
ALTER ROLE regress_pipeopt_app SET search_path = app;
GRANT USAGE ON SCHEMA app TO regress_pipeopt_app;
CREATE SCHEMA hidden;
CREATE TABLE hidden.t (id int PRIMARY KEY, v text);
CREATE INDEX ON hidden.t (v);
-- unqualified: found through the role's search_path, not the caller's
SELECT rule FROM pipeopt.lint('SELECT id FROM accounts WHERE lower(email) = $1 OR opened_at::date = $2', NULL, 'regress_pipeopt_app');
SELECT rule FROM pipeopt.lint('SELECT id FROM accounts WHERE opened_at::date = $1');
-- a schema the role cannot use: no catalog finding as the role, one as the owner
SELECT rule FROM pipeopt.lint('SELECT id FROM hidden.t WHERE upper(v) = $1', NULL, 'regress_pipeopt_app');
SELECT rule FROM pipeopt.lint('SELECT id FROM hidden.t WHERE upper(v) = $1');
-- '-' (no role): the tree rules only
SELECT rule FROM pipeopt.lint('SELECT * FROM hidden.t WHERE upper(v) = $1', NULL, '-');
-- a role may lint only as a role whose privileges it has
CREATE ROLE regress_pipeopt_other;
SET ROLE regress_pipeopt_app;
SELECT rule FROM pipeopt.lint('SELECT id FROM accounts WHERE opened_at::date = $1');
SELECT rule FROM pipeopt.lint('SELECT 1', NULL, 'regress_pipeopt_other');
RESET ROLE;

-- On the captured workload: analyzed as the role that ran the statement.
SELECT current_user AS me \gset
SELECT capture_id > 0 AS captured FROM pipeopt.capture();
GRANT SELECT ON ALL TABLES IN SCHEMA app TO regress_pipeopt_app;
\c - regress_pipeopt_app
SELECT id FROM accounts WHERE date_trunc('day', opened_at) = '2024-05-01';
\c - :me
SELECT baseline FROM pipeopt.capture();
SELECT statements > 0 AS analyzed FROM pipeopt.analyze();
SELECT rule, message FROM pipeopt.findings
 WHERE query LIKE 'SELECT id FROM accounts WHERE date_trunc%' ORDER BY rule;

DROP SCHEMA app, hidden CASCADE;
DROP EXTENSION pg_trgm;
DROP OWNED BY regress_pipeopt_app;
DROP ROLE regress_pipeopt_app, regress_pipeopt_other;
