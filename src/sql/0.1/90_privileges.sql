/* Privileges. */

REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
GRANT USAGE ON SCHEMA @extschema@ TO PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.parse_statement(text),
                          @extschema@.fingerprint(text),
                          @extschema@.normalize(text),
                          @extschema@.lint(text, jsonb, regrole),
                          @extschema@.rules(),
                          @extschema@.hypothetical_index(text),
                          @extschema@.whatif(text, text[], regclass[], text[]),
                          @extschema@.select_indexes(text[], text, double precision[], integer) TO PUBLIC;
GRANT SELECT ON @extschema@.rules TO PUBLIC;
GRANT SELECT ON @extschema@.findings, @extschema@.statement_findings,
                @extschema@.schema_findings,
                @extschema@.suppressions,
                @extschema@.statements, @extschema@.statement_queryids,
                @extschema@.captures, @extschema@.capture_failures,
                @extschema@.samples, @extschema@.table_samples,
                @extschema@.index_samples, @extschema@.top_statements,
                @extschema@.index_advice, @extschema@.advice, @extschema@.advice_statements,
                @extschema@.advisor_runs, @extschema@.advisor_statements,
                @extschema@.index_candidates,
                @extschema@.param_samples
  TO pg_read_all_stats;
GRANT EXECUTE ON FUNCTION @extschema@.top_statements(timestamptz, timestamptz),
                          @extschema@.statement_history(text, timestamptz, timestamptz),
                          @extschema@.workers(),
                          @extschema@.param_sample_stats()
  TO pg_read_all_stats;
-- The view filters its rows itself (pg_read_all_stats or superuser only).
GRANT SELECT ON @extschema@.parameter_samples TO PUBLIC;
