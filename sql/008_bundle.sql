-- Workload bundles: export, import elsewhere, same statements and samples.

CREATE TABLE bundled (id int PRIMARY KEY, note text);
SELECT baseline FROM pipeopt.capture();
INSERT INTO bundled VALUES (1, 'a'), (2, 'b');
SELECT note FROM bundled WHERE id = 1;
SELECT note FROM bundled WHERE id = 2;
SELECT pg_stat_force_next_flush();
SELECT baseline FROM pipeopt.capture();

-- What the other side must get back, as digests (the same queries run on both sides).
\set samples_q 'SELECT md5(string_agg(format(''%s|%s|%s|%s|%s|%s|%s|%s|%s'', s.captured_at, s.fingerprint, s.userid, s.toplevel, s.calls, s.rows, s.total_exec_time, s.shared_blks_hit, s.wal_bytes), '','' ORDER BY s.captured_at, s.fingerprint, s.userid, s.toplevel)) FROM pipeopt.samples s'
\set statements_q 'SELECT md5(string_agg(format(''%s|%s|%s|%s'', st.fingerprint, st.query, st.kind, st.parse_error), '','' ORDER BY st.fingerprint)) FROM pipeopt.statements st WHERE EXISTS (SELECT 1 FROM pipeopt.samples s WHERE s.fingerprint = st.fingerprint)'
\set tables_q 'SELECT md5(string_agg(format(''%s|%s|%s|%s'', t.captured_at, t.relname, t.n_tup_ins, t.n_live_tup), '','' ORDER BY t.captured_at, t.relname)) FROM pipeopt.table_samples t'
SELECT (:samples_q) AS samples_digest, (:statements_q) AS statements_digest,
       (:tables_q) AS tables_digest, (SELECT count(*) FROM pipeopt.samples) AS nsamples \gset

SELECT pipeopt.export_workload() AS bundle \gset
-- an lz4 frame: magic number 04 22 4d 18
SELECT substring(:'bundle'::bytea FROM 1 FOR 4) AS magic;

-- Not back into the database it came from: that would count it twice.
SELECT * FROM pipeopt.import_workload(:'bundle');

CREATE DATABASE regress_pipeopt_import;
\c regress_pipeopt_import
CREATE EXTENSION pipeopt CASCADE;
SELECT statements > 0 AS statements, captures > 0 AS captures,
       samples = :nsamples AS all_samples, table_samples > 0 AS table_samples
  FROM pipeopt.import_workload(:'bundle');

SELECT (:samples_q) = :'samples_digest' AS same_samples,
       (:statements_q) = :'statements_digest' AS same_statements,
       (:tables_q) = :'tables_digest' AS same_table_samples;
SELECT count(*) > 0 AS ranked FROM pipeopt.top_statements WHERE query = 'SELECT note FROM bundled WHERE id = $1';
SELECT DISTINCT origin ~ '^bundle:[0-9]+/contrib_regression$' AS origin_named FROM pipeopt.captures;

-- Importing the same bundle twice adds nothing.
SELECT * FROM pipeopt.import_workload(:'bundle');

-- Bad input: a clear error, and nothing changes.
SELECT count(*) AS samples_before FROM pipeopt.samples \gset
SELECT * FROM pipeopt.import_workload('\x00010203');
SELECT * FROM pipeopt.import_workload(''::bytea);
-- truncated
SELECT * FROM pipeopt.import_workload(substring(:'bundle'::bytea FROM 1 FOR length(:'bundle'::bytea) - 9));
-- one byte changed in the middle: lz4 or its checksum catches it (which of
-- the two depends on the byte, so only the message is shown)
\set VERBOSITY terse
SELECT * FROM pipeopt.import_workload(
  set_byte(:'bundle'::bytea, length(:'bundle'::bytea) / 2,
           (get_byte(:'bundle'::bytea, length(:'bundle'::bytea) / 2) + 1) % 256));
\set VERBOSITY default
-- trailing garbage
SELECT * FROM pipeopt.import_workload(:'bundle'::bytea || '\x00'::bytea);
SELECT count(*) = :samples_before AS unchanged FROM pipeopt.samples;

\c contrib_regression
-- The database has a pipeopt worker; DROP DATABASE stops it first.
DROP DATABASE regress_pipeopt_import;
DROP TABLE bundled;
