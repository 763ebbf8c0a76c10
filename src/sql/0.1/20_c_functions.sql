/* Functions written in C: parsing, prerequisites, workers, bundles. */

CREATE FUNCTION @extschema@.parse_statement(
  query text,
  OUT fingerprint text, OUT kind text, OUT query text,
  OUT parse_error text, OUT parse_error_position integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pipeopt_parse_statement_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.parse_statement(text) IS
  'Fingerprint, kind and storable text of one statement, as capture records it';

CREATE FUNCTION @extschema@.fingerprint(query text)
RETURNS text
AS 'MODULE_PATHNAME', 'pipeopt_fingerprint_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@.normalize(query text)
RETURNS text
AS 'MODULE_PATHNAME', 'pipeopt_normalize_sql'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION @extschema@._pgss_schema()
RETURNS text
AS 'MODULE_PATHNAME', 'pipeopt_pgss_schema'
LANGUAGE C STABLE STRICT;

CREATE FUNCTION @extschema@.workers(
  OUT datid oid, OUT datname text, OUT state text, OUT pid integer,
  OUT state_since timestamptz, OUT last_capture timestamptz,
  OUT last_failure timestamptz, OUT ticks bigint, OUT failures bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'pipeopt_workers'
LANGUAGE C VOLATILE STRICT;

CREATE FUNCTION @extschema@.export_workload(since timestamptz DEFAULT '-infinity')
RETURNS bytea
AS 'MODULE_PATHNAME', 'pipeopt_export_workload'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.export_workload(timestamptz) IS
  'Statements, samples and table statistics since a time, as one lz4 frame (docs/bundle.md)';

CREATE FUNCTION @extschema@.import_workload(bundle bytea,
  OUT statements integer, OUT captures integer, OUT samples integer,
  OUT table_samples integer, OUT index_samples integer)
RETURNS record
AS 'MODULE_PATHNAME', 'pipeopt_import_workload'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.import_workload(bytea) IS
  'Load a bundle made by export_workload(); all or nothing';
