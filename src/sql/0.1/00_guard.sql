/*
 * pipeopt--0.1.sql is built from the files of src/sql/0.1/ in name order.
 * This one: the guard against running the script by hand or into a planted schema.
 */

\echo Use "CREATE EXTENSION pipeopt" to load this file. \quit

-- The schema must be empty and owned by us or a superuser (pg_restore creates
-- it before CREATE EXTENSION): a schema a user planted would let its owner
-- replace pipeopt's objects (CVE-2022-2625 class).
DO $guard$
BEGIN
  IF (SELECT n.nspowner <> (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = CURRENT_USER)
              AND NOT o.rolsuper
      FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles o ON o.oid = n.nspowner
      WHERE n.nspname = '@extschema@')
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c
                WHERE c.relnamespace = '@extschema@'::pg_catalog.regnamespace)
     OR EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
                WHERE p.pronamespace = '@extschema@'::pg_catalog.regnamespace)
  THEN
    RAISE EXCEPTION 'schema "@extschema@" already exists and is not empty or owned by an untrusted role'
      USING ERRCODE = 'duplicate_schema',
            DETAIL = 'pipeopt installs only into an empty schema owned by the installing role or a superuser.',
            HINT = 'Drop or rename the existing schema "@extschema@", then run CREATE EXTENSION pipeopt again.';
  END IF;
END
$guard$;
