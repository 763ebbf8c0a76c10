/* Privileges. */

REVOKE ALL ON ALL TABLES IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA @extschema@ FROM PUBLIC;
REVOKE ALL ON ALL PROCEDURES IN SCHEMA @extschema@ FROM PUBLIC;
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
                @extschema@.verification, @extschema@.verification_statements
  TO pipeopt_reader;
-- (not findings: they show every role's statement texts and read the
-- history, which are pg_read_all_stats's)
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
-- the partition advisor's view and script (86_partition.sql)
GRANT SELECT ON @extschema@.partition_advice TO pipeopt_reader, pg_read_all_stats;
GRANT EXECUTE ON FUNCTION @extschema@.partition_script(bigint, text),
                          @extschema@._partition_script(jsonb, bigint, text),
                          @extschema@._partition_steps(jsonb, bigint, text),
                          @extschema@._partition_names(jsonb, bigint, name),
                          @extschema@._partition_layout(jsonb, name),
                          @extschema@._partition_batch(jsonb, text, text, text, text, text, text, integer, boolean),
                          @extschema@._partition_columns(oid),
                          @extschema@._partition_sequences(oid)
  TO pipeopt_reader, pg_read_all_stats;
GRANT EXECUTE ON FUNCTION @extschema@.approve(bigint, text),
                          @extschema@.reject(bigint, text),
                          @extschema@.apply_now(bigint),
                          @extschema@.rollback(bigint),
                          @extschema@.set_automation(text, text, double precision)
  TO pipeopt_approver;

-- The storage advisor (87_storage*.sql): its advice and candidates, and
-- what _advice_ddl calls to show its statements.
GRANT SELECT ON @extschema@.storage_advice, @extschema@.storage_candidates
  TO pipeopt_reader, pg_read_all_stats;
GRANT EXECUTE ON FUNCTION @extschema@._storage_ddl(text, jsonb, bigint),
                          @extschema@._storage_alter_table(oid, jsonb),
                          @extschema@._storage_option_list(jsonb),
                          @extschema@._storage_options(),
                          @extschema@._storage_current(oid, text[]),
                          @extschema@._view_name(jsonb, bigint)
  TO pipeopt_reader, pg_read_all_stats;

-- The view filters its rows itself (pg_read_all_stats or superuser only).
GRANT SELECT ON @extschema@.parameter_samples TO PUBLIC;

-- Reports and metrics (88_report.sql, 88_report_html.sql, 89_metrics.sql).
-- The reports run as the caller and show what it may read (the history
-- and statement texts need pg_read_all_stats); the metrics are counts and
-- sums only, computed with the owner's rights.
GRANT EXECUTE ON FUNCTION @extschema@.report(integer), @extschema@.report_html(integer),
                          @extschema@.metrics(), @extschema@.metric_values(),
                          @extschema@._report_clean(text), @extschema@._report_fit(text, integer),
                          @extschema@._report_num(double precision, integer),
                          @extschema@._report_time(timestamptz), @extschema@._report_access(),
                          @extschema@._report_check_items(integer), @extschema@._report_history(),
                          @extschema@._report_changes(integer), @extschema@._report_outcomes(integer),
                          @extschema@._report_outcomes_by_kind(),
                          @extschema@._html(text), @extschema@._svg_num(double precision),
                          @extschema@._report_ms(double precision),
                          @extschema@._report_svg_timeline(text, text, timestamptz, timestamptz),
                          @extschema@._report_svg_before_after(integer),
                          @extschema@._report_svg_top(integer, boolean),
                          @extschema@._html_table(text, text[], text[])
  TO pipeopt_reader, pg_read_all_stats;
