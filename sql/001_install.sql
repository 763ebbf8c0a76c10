-- Installation: the extension, its schema guard, and its objects.

-- A schema planted by another role must not receive pipeopt's objects.
CREATE ROLE regress_pipeopt_planter;
CREATE SCHEMA pipeopt AUTHORIZATION regress_pipeopt_planter;
CREATE EXTENSION pipeopt CASCADE;
DROP SCHEMA pipeopt;
DROP ROLE regress_pipeopt_planter;

-- An empty schema a superuser made (pg_restore does so) is accepted.
CREATE ROLE regress_pipeopt_super SUPERUSER;
CREATE SCHEMA pipeopt AUTHORIZATION regress_pipeopt_super;
CREATE EXTENSION pipeopt CASCADE;
DROP EXTENSION pipeopt;
DROP SCHEMA pipeopt;
DROP ROLE regress_pipeopt_super;

CREATE EXTENSION pipeopt CASCADE;
SELECT extname, extversion, extrelocatable, n.nspname AS schema
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'pipeopt';

-- Every function pins its search_path (or is C and needs none), but the
-- procedures of a partition migration: they commit between batches, which a
-- SET clause forbids, and check the search_path themselves.
SELECT p.proname
  FROM pg_proc p
 WHERE p.pronamespace = 'pipeopt'::regnamespace
   AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
 ORDER BY 1;

-- What a user meets.
SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace = 'pipeopt'::regnamespace AND c.relkind IN ('r', 'p', 'v')
 ORDER BY 1;
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args
  FROM pg_proc p
 WHERE p.pronamespace = 'pipeopt'::regnamespace AND p.proname !~ '^_'
 ORDER BY 1, 2;

-- Nobody but superusers and pg_read_all_stats reads history or captures.
SELECT has_function_privilege('public', 'pipeopt.capture()', 'EXECUTE') AS public_capture,
       has_table_privilege('pg_read_all_stats', 'pipeopt.samples', 'SELECT') AS stats_reader_samples,
       has_table_privilege('pg_read_all_stats', 'pipeopt.statement_counters', 'SELECT') AS stats_reader_counters,
       has_function_privilege('public', 'pipeopt.fingerprint(text)', 'EXECUTE') AS public_fingerprint;

-- GUCs, with their defaults.
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'pipeopt.%' ORDER BY 1;
