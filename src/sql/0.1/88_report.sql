/*
 * Reports people read, part 1: the plain-text report, and what it shares
 * with the HTML report (88_report_html.sql).
 *   pipeopt.report(items)   one text for a terminal, at most 100 columns
 *
 * Both reports run as the caller (SECURITY INVOKER): what a role may read
 * decides what it sees. Members of pipeopt_reader read findings,
 * recommendations, changes and verdicts; the captured history (timings of
 * every statement) and statement texts need pg_read_all_stats, as
 * everywhere else in pipeopt. A section the caller may not read says so;
 * a statement whose text it may not read is shown by its fingerprint.
 *
 * Every list has a stable order (ties broken by id or fingerprint) and at
 * most `items` rows; an empty section says "none".
 */

-- ---------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------

-- Text from users (statement texts, names) on one line, safe for a
-- terminal: whitespace runs become one space; control characters (C0,
-- DEL, C1: a terminal would obey an escape sequence), line and paragraph
-- separators and bidirectional overrides (they reorder what is shown)
-- become U+FFFD.
CREATE FUNCTION @extschema@._report_clean(t text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT btrim(regexp_replace(regexp_replace(t, '\s+', ' ', 'g'),
                              '[\x01-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]',
                              U&'\FFFD', 'g'))
$f$;

-- t cleaned and cut to width characters, "..." marking a cut.
CREATE FUNCTION @extschema@._report_fit(t text, width integer)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN length(c) <= width THEN c ELSE left(c, greatest(width - 3, 0)) || '...' END
    FROM (SELECT @extschema@._report_clean(t) AS c) x
$f$;

-- A number with a fixed count of decimals; '-' for none.
CREATE FUNCTION @extschema@._report_num(x double precision, decimals integer DEFAULT 1)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN x IS NULL THEN '-'
              WHEN x = 'NaN' THEN 'NaN'
              WHEN x IN ('Infinity', '-Infinity') THEN x::text
              ELSE round(x::numeric, decimals)::text END
$f$;

-- A time to the minute, in the session's time zone; '-' for none.
CREATE FUNCTION @extschema@._report_time(ts timestamptz)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT coalesce(to_char(ts, 'YYYY-MM-DD HH24:MI'), '-')
$f$;

-- What the caller may read: the captured history (timings), statement
-- texts, and the findings (the view ranks them by the history's timings).
CREATE FUNCTION @extschema@._report_access(OUT history boolean, OUT texts boolean, OUT findings boolean)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT has_table_privilege('@extschema@.samples', 'SELECT')
           AND has_table_privilege('@extschema@.captures', 'SELECT')
           AND has_function_privilege('@extschema@.top_statements(timestamptz, timestamptz)', 'EXECUTE')
           AND has_function_privilege('@extschema@.statement_history(text, timestamptz, timestamptz)', 'EXECUTE'),
         has_table_privilege('@extschema@.statements', 'SELECT'),
         has_table_privilege('@extschema@.findings', 'SELECT')
           AND has_function_privilege('@extschema@.top_statements(timestamptz, timestamptz)', 'EXECUTE')
$f$;

CREATE FUNCTION @extschema@._report_check_items(items integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
BEGIN
  IF items IS NULL OR items < 1 OR items > 1000 THEN
    RAISE EXCEPTION 'items must be between 1 and 1000, not %', coalesce(items::text, 'NULL')
      USING ERRCODE = 'invalid_parameter_value',
            DETAIL = 'items is the longest any list of the report may be.';
  END IF;
END
$f$;

-- ---------------------------------------------------------------------
-- The data of both reports
-- ---------------------------------------------------------------------

-- The captured history at a glance (callers that may read it).
CREATE FUNCTION @extschema@._report_history(
  OUT captures bigint, OUT first_capture timestamptz, OUT last_capture timestamptz,
  OUT hours double precision, OUT statements bigint, OUT sampled_statements bigint)
RETURNS record
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT count(*), min(coalesce(c.interval_start, c.captured_at)), max(c.captured_at),
         extract(epoch FROM max(c.captured_at) - min(coalesce(c.interval_start, c.captured_at))) / 3600,
         (SELECT count(*) FROM @extschema@.statements),
         (SELECT count(DISTINCT s.fingerprint) FROM @extschema@.samples s)
    FROM @extschema@.captures c
$f$;

-- The last `items` changes, newest first, with the monitor's verdict on
-- each applied one, and for a rollback the verdict that led to it, if the
-- monitor reverted it.
CREATE FUNCTION @extschema@._report_changes(items integer)
RETURNS TABLE (change_id bigint, advice_id bigint, action text, kind text, outcome text,
               at timestamptz, statement text, error text, automatic boolean,
               verdict text, change_pct double precision, reverted boolean, reverts bigint)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT l.id, l.advice_id, l.action, l.kind, l.outcome,
         coalesce(l.finished_at, l.started_at), l.ddl, l.error, l.automatic,
         coalesce(v.verdict, r.verdict), v.change_pct, coalesce(v.reverted, false), r.change_id
    FROM @extschema@.change_log l
    LEFT JOIN @extschema@.verification v ON v.change_id = l.id
    LEFT JOIN @extschema@.verification r ON r.revert_change_id = l.id
   ORDER BY l.id DESC
   LIMIT items
$f$;

-- Predicted against actual saving of the last `items` changes with a
-- verdict, newest first.
CREATE FUNCTION @extschema@._report_outcomes(items integer)
RETURNS TABLE (change_id bigint, advice_id bigint, kind text, verdict text,
               mean_ms_before double precision, mean_ms_after double precision,
               change_pct double precision, predicted double precision, actual double precision,
               reverted boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT v.change_id, v.advice_id, v.kind, v.verdict, v.mean_ms_before, v.mean_ms_after,
         v.change_pct, v.predicted_saving_ms_per_hour, v.actual_saving_ms_per_hour, v.reverted
    FROM @extschema@.verification v
   WHERE v.verdict IN ('improved', 'no_change', 'regressed')
   ORDER BY v.change_id DESC
   LIMIT items
$f$;

-- Per kind, over every change with a verdict: how many, and the saving
-- predicted and measured (summed over the changes that have both).
CREATE FUNCTION @extschema@._report_outcomes_by_kind()
RETURNS TABLE (kind text, changes bigint, improved bigint, no_change bigint, regressed bigint,
               predicted double precision, actual double precision)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT v.kind, count(*), count(*) FILTER (WHERE v.verdict = 'improved'),
         count(*) FILTER (WHERE v.verdict = 'no_change'), count(*) FILTER (WHERE v.verdict = 'regressed'),
         sum(v.predicted_saving_ms_per_hour) FILTER (WHERE v.actual_saving_ms_per_hour IS NOT NULL),
         sum(v.actual_saving_ms_per_hour) FILTER (WHERE v.predicted_saving_ms_per_hour IS NOT NULL)
    FROM @extschema@.verification v
   WHERE v.verdict IN ('improved', 'no_change', 'regressed')
   GROUP BY v.kind
   ORDER BY v.kind
$f$;

-- ---------------------------------------------------------------------
-- report()
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@.report(items integer DEFAULT 10)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  acc record;
  h record;
  r record;
  o text[] := '{}';
  n bigint;
  shown bigint;
  summary text;
  saving double precision;
  history_note constant text :=
    '  not shown: the captured history is readable by pg_read_all_stats only';
BEGIN
  PERFORM @extschema@._report_check_items(items);
  acc := @extschema@._report_access();

  o := o || format('pipeopt report: database %s, %s',
                   @extschema@._report_fit(current_database(), 40),
                   to_char(now(), 'YYYY-MM-DD HH24:MI TZ'));
  IF NOT acc.texts THEN
    o := o || 'statement texts are shown as fingerprints: reading them needs pg_read_all_stats'::text;
  END IF;

  -- history -------------------------------------------------------------
  o := o || ''::text || 'HISTORY'::text;
  IF NOT acc.history THEN
    o := o || history_note;
  ELSE
    h := @extschema@._report_history();
    IF h.captures = 0 THEN
      o := o || '  none'::text;
    ELSE
      o := o || format('  captures     %s, %s to %s (%s h)', h.captures,
                       @extschema@._report_time(h.first_capture), @extschema@._report_time(h.last_capture),
                       @extschema@._report_num(h.hours));
      o := o || format('  last capture %s min ago',
                       @extschema@._report_num(extract(epoch FROM now() - h.last_capture) / 60, 0));
      o := o || format('  statements   %s tracked, %s with samples', h.statements, h.sampled_statements);
    END IF;
  END IF;

  -- top statements ----------------------------------------------------------
  o := o || ''::text || 'TOP STATEMENTS  by total execution time over the retained history'::text;
  IF NOT acc.history THEN
    o := o || history_note;
  ELSE
    shown := 0;
    FOR r IN SELECT row_number() OVER (ORDER BY t.total_exec_time DESC, t.fingerprint) AS place, t.*
               FROM @extschema@.top_statements() t
              ORDER BY t.total_exec_time DESC, t.fingerprint
              LIMIT items LOOP
      IF shown = 0 THEN
        o := o || format('%4s %10s %7s %10s %10s  %s', '#', 'total s', 'share %', 'calls', 'mean ms', 'statement');
      END IF;
      shown := shown + 1;
      o := o || format('%4s %10s %7s %10s %10s  %s', r.place,
                       @extschema@._report_num(r.total_exec_time / 1000, 2),
                       @extschema@._report_num(r.share_of_total_time),
                       r.calls, @extschema@._report_num(r.mean_exec_time, 2),
                       @extschema@._report_fit(CASE WHEN acc.texts THEN r.query
                                                    ELSE 'statement ' || r.fingerprint END, 53));
    END LOOP;
    IF shown = 0 THEN
      o := o || '  none'::text;
    ELSE
      SELECT count(*) INTO n FROM @extschema@.top_statements() t;
      IF n > shown THEN
        o := o || format('  (%s more)', n - shown);
      END IF;
    END IF;
  END IF;

  -- findings ------------------------------------------------------------
  IF NOT acc.findings THEN
    o := o || ''::text || 'FINDINGS'::text
           || '  not shown: the findings are ranked by the captured history, readable by pg_read_all_stats only'::text;
  ELSE
    SELECT count(*),
           concat_ws(', ', nullif(count(*) FILTER (WHERE f.severity = 'error'), 0) || ' error',
                           nullif(count(*) FILTER (WHERE f.severity = 'warning'), 0) || ' warning',
                           nullif(count(*) FILTER (WHERE f.severity = 'info'), 0) || ' info')
      INTO n, summary
      FROM @extschema@.findings f;
    o := o || ''::text || CASE WHEN n = 0 THEN 'FINDINGS' ELSE format('FINDINGS  %s: %s', n, summary) END;
    shown := 0;
    FOR r IN SELECT f.* FROM @extschema@.findings f
              ORDER BY f.share_of_total_time DESC,
                       CASE f.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                       f.fingerprint NULLS LAST, f.relation, f.rule, f.location NULLS FIRST, f.message
              LIMIT items LOOP
      shown := shown + 1;
      o := o || format('  %-7s %6s%%  %s', r.severity, @extschema@._report_num(r.share_of_total_time),
                       @extschema@._report_fit(r.rule || ': ' || r.message, 80));
      o := o || ('                   ' || @extschema@._report_fit(
                   coalesce('table ' || r.relation,
                            CASE WHEN acc.texts THEN r.query ELSE 'statement ' || r.fingerprint END), 81));
    END LOOP;
    IF shown = 0 THEN
      o := o || '  none'::text;
    ELSIF n > shown THEN
      o := o || format('  (%s more)', n - shown);
    END IF;
  END IF;

  -- open recommendations ------------------------------------------------
  SELECT count(*), sum(x.saving_ms_per_hour) INTO n, saving
    FROM @extschema@.recommendations x WHERE x.status IN ('proposed', 'approved');
  SELECT string_agg(format('%s %s', s.status, s.n), ', ' ORDER BY s.status) INTO summary
    FROM (SELECT x.status, count(*) AS n FROM @extschema@.advice x GROUP BY x.status) s;
  o := o || ''::text || CASE WHEN n = 0 THEN 'OPEN RECOMMENDATIONS'
                             ELSE format('OPEN RECOMMENDATIONS  %s, expected saving %s ms per hour',
                                         n, @extschema@._report_num(saving)) END;
  shown := 0;
  FOR r IN SELECT x.* FROM @extschema@.recommendations x
            WHERE x.status IN ('proposed', 'approved')
            ORDER BY x.rank, x.id
            LIMIT items LOOP
    IF shown = 0 THEN
      o := o || format('%4s %6s  %-12s %-9s %11s %10s  %-6s  %s',
                       'rank', 'id', 'kind', 'status', 'saving ms/h', 'confidence', 'risk', 'relation');
    END IF;
    shown := shown + 1;
    o := o || format('%4s %6s  %-12s %-9s %11s %10s  %-6s  %s', r.rank, r.id,
                     @extschema@._report_fit(r.kind, 12), r.status,
                     @extschema@._report_num(r.saving_ms_per_hour),
                     @extschema@._report_num(r.confidence, 2), coalesce(r.risk, '-'),
                     @extschema@._report_fit(coalesce(r.relation, '(gone)'), 32));
    o := o || ('            ' || @extschema@._report_fit(coalesce(r.statement, r.reason), 88));
  END LOOP;
  IF shown = 0 THEN
    o := o || '  none'::text;
  ELSIF n > shown THEN
    o := o || format('  (%s more)', n - shown);
  END IF;
  IF summary IS NOT NULL THEN
    o := o || ('  all recommendations by status: ' || summary);
  END IF;

  -- recent changes --------------------------------------------------------
  SELECT format('%s applied, %s rolled back (%s by the monitor), %s failed, %s running',
                count(*) FILTER (WHERE l.action = 'apply' AND l.outcome = 'succeeded'),
                count(*) FILTER (WHERE l.action = 'rollback' AND l.outcome = 'succeeded'),
                (SELECT count(*) FROM @extschema@.verification v WHERE v.reverted),
                count(*) FILTER (WHERE l.outcome = 'failed'),
                count(*) FILTER (WHERE l.outcome = 'running')),
         count(*)
    INTO summary, n
    FROM @extschema@.change_log l;
  o := o || ''::text || CASE WHEN n = 0 THEN 'RECENT CHANGES' ELSE 'RECENT CHANGES  ' || summary END;
  shown := 0;
  FOR r IN SELECT * FROM @extschema@._report_changes(items) LOOP
    IF shown = 0 THEN
      o := o || format('%6s %6s  %-16s  %-8s  %-12s  %-9s  %-17s %8s',
                       'change', 'rec', 'at', 'action', 'kind', 'outcome', 'verdict', 'change %');
    END IF;
    shown := shown + 1;
    o := o || format('%6s %6s  %-16s  %-8s  %-12s  %-9s  %-17s %8s', r.change_id, r.advice_id,
                     @extschema@._report_time(r.at), r.action || CASE WHEN r.automatic THEN '*' ELSE '' END,
                     @extschema@._report_fit(r.kind, 12), r.outcome,
                     CASE WHEN r.reverts IS NOT NULL THEN 'undoes ' || r.reverts
                          WHEN r.reverted THEN coalesce(r.verdict, '-') || ', reverted'
                          ELSE coalesce(r.verdict, '-') END,
                     @extschema@._report_num(r.change_pct));
    o := o || ('               ' || @extschema@._report_fit(
                 CASE WHEN r.outcome = 'failed' THEN 'failed: ' || coalesce(r.error, 'unknown error')
                      ELSE coalesce(r.statement, 'nothing to do') END, 85));
  END LOOP;
  IF shown = 0 THEN
    o := o || '  none'::text;
  ELSE
    IF n > shown THEN
      o := o || format('  (%s more)', n - shown);
    END IF;
    IF EXISTS (SELECT 1 FROM @extschema@._report_changes(items) c WHERE c.automatic) THEN
      o := o || '  * approved automatically by policy'::text;
    END IF;
  END IF;

  -- predicted against actual ------------------------------------------------
  o := o || ''::text || 'PREDICTED AGAINST ACTUAL  saving in ms per hour of workload, changes with a verdict'::text;
  shown := 0;
  FOR r IN SELECT * FROM @extschema@._report_outcomes(items) LOOP
    IF shown = 0 THEN
      o := o || format('%6s  %-12s  %-9s %10s %10s %8s %12s %12s',
                       'change', 'kind', 'verdict', 'before ms', 'after ms', 'change %', 'predicted', 'actual');
    END IF;
    shown := shown + 1;
    o := o || format('%6s  %-12s  %-9s %10s %10s %8s %12s %12s', r.change_id,
                     @extschema@._report_fit(r.kind, 12), r.verdict,
                     @extschema@._report_num(r.mean_ms_before, 3), @extschema@._report_num(r.mean_ms_after, 3),
                     @extschema@._report_num(r.change_pct), @extschema@._report_num(r.predicted),
                     @extschema@._report_num(r.actual));
  END LOOP;
  IF shown = 0 THEN
    o := o || '  none'::text;
  ELSE
    o := o || format('  %-14s %7s %9s %9s %9s %12s %12s %8s',
                     'by kind', 'changes', 'improved', 'no change', 'regressed', 'predicted', 'actual', 'ratio');
    FOR r IN SELECT * FROM @extschema@._report_outcomes_by_kind() LOOP
      o := o || format('  %-14s %7s %9s %9s %9s %12s %12s %8s',
                       @extschema@._report_fit(r.kind, 14), r.changes, r.improved, r.no_change, r.regressed,
                       @extschema@._report_num(r.predicted), @extschema@._report_num(r.actual),
                       @extschema@._report_num(r.actual / nullif(r.predicted, 0), 2));
    END LOOP;
  END IF;

  RETURN array_to_string(o, E'\n') || E'\n';
END
$f$;
COMMENT ON FUNCTION @extschema@.report(integer) IS
  'A plain-text report for a terminal: history, top statements, findings, open recommendations, recent changes with verdicts, predicted against actual savings';
