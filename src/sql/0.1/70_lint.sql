/* Analysis: pipeopt.lint() and pipeopt.rules. */

CREATE FUNCTION @extschema@.lint(
  sql text, evidence jsonb DEFAULT NULL, as_role regrole DEFAULT NULL,
  OUT statement integer, OUT rule text, OUT severity text,
  OUT location integer, OUT line integer, OUT col integer,
  OUT message text, OUT why text, OUT fix text, OUT evidence jsonb)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pipeopt_lint'
LANGUAGE C STABLE;
COMMENT ON FUNCTION @extschema@.lint(text, jsonb, regrole) IS
  'Anti-pattern findings for any SQL text, one row per finding; evidence (calls, rows, ...) feeds the runtime rules; the catalog rules analyze as as_role (default: the caller)';

CREATE FUNCTION @extschema@.rules(
  OUT id text, OUT category text, OUT severity text, OUT needs text,
  OUT summary text, OUT why text, OUT fix text, OUT enabled boolean)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pipeopt_rules'
LANGUAGE C STABLE STRICT;

CREATE VIEW @extschema@.rules AS SELECT * FROM @extschema@.rules();
COMMENT ON VIEW @extschema@.rules IS
  'Every lint rule with its documentation, and whether pipeopt.disabled_rules turns it off';
