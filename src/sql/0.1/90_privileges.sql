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
-- The recommendation lifecycle: readers see every recommendation and
-- change; approvers decide, apply and roll back (through SECURITY DEFINER
-- functions only: the tables stay the extension owner's).
GRANT SELECT ON @extschema@.recommendations, @extschema@.index_advice, @extschema@.advice,
                @extschema@.advice_statements, @extschema@.advisor_runs,
                @extschema@.advisor_statements, @extschema@.index_candidates,
                @extschema@.change_log, @extschema@.apply_requests,
                @extschema@.automation, @extschema@.automation_policy,
                @extschema@.verification, @extschema@.verification_statements,
                @extschema@.findings
  TO pipeopt_reader;
GRANT SELECT ON @extschema@.recommendations, @extschema@.change_log, @extschema@.apply_requests,
                @extschema@.automation, @extschema@.automation_policy,
                @extschema@.verification, @extschema@.verification_statements
  TO pg_read_all_stats;
-- the effectiveness monitor's record per kind (88_feedback.sql)
GRANT SELECT ON @extschema@.prediction_accuracy TO pipeopt_reader, pg_read_all_stats;
-- what the views call
GRANT EXECUTE ON FUNCTION @extschema@._advice_ddl(text, jsonb, bigint),
                          @extschema@._advice_index_name(jsonb, bigint),
                          @extschema@._automation()
  TO pipeopt_reader, pg_read_all_stats;
GRANT EXECUTE ON FUNCTION @extschema@.approve(bigint, text),
                          @extschema@.reject(bigint, text),
                          @extschema@.apply_now(bigint),
                          @extschema@.rollback(bigint),
                          @extschema@.set_automation(text, text, double precision)
  TO pipeopt_approver;

-- The view filters its rows itself (pg_read_all_stats or superuser only).
GRANT SELECT ON @extschema@.parameter_samples TO PUBLIC;
