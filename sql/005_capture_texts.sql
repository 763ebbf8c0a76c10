-- Capture of texts: parse errors recorded, utility statements normalized.

CREATE ROLE regress_pipeopt_app;
SELECT baseline FROM pipeopt.capture();

-- pg_stat_statements keeps this one verbatim, password included.
ALTER ROLE regress_pipeopt_app PASSWORD 'hunter2-do-not-store';
SELECT count(*) AS verbatim_in_pgss FROM pg_stat_statements WHERE query LIKE '%hunter2%';

-- With track = all, pg_stat_statements records PL/pgSQL expressions and
-- assignments as they are written: fragments that are not SQL statements.
SET pg_stat_statements.track = 'all';
CREATE FUNCTION regress_count_tables() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  n := (SELECT count(*) FROM pg_class WHERE relkind = 'r');
  RETURN n;
END $$;
SELECT regress_count_tables() > 0 AS counted;
SELECT regress_count_tables() > 0 AS counted;
RESET pg_stat_statements.track;

SELECT new_statements >= 2 AS registered FROM pipeopt.capture();

SELECT count(*) AS stored_password FROM pipeopt.statements WHERE query LIKE '%hunter2%';
SELECT kind, query FROM pipeopt.statements WHERE query LIKE 'ALTER ROLE regress_pipeopt_app%';

-- The broken one is stored with its error, and its calls are sampled.
SELECT st.kind, st.query, st.parse_error, st.parse_error_position, s.toplevel, s.calls
  FROM pipeopt.statements st JOIN pipeopt.samples s USING (fingerprint)
 WHERE st.query LIKE 'n := %';
SELECT parse_error IS NOT NULL AS flagged FROM pipeopt.top_statements
 WHERE query LIKE 'n := %';
DROP FUNCTION regress_count_tables();

DROP ROLE regress_pipeopt_app;
