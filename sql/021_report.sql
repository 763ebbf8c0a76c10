-- Reports and metrics: report(), report_html(), metrics() and
-- metric_values() over a history around two real changes (one improved,
-- one regressed and rolled back), with the verdicts the effectiveness
-- monitor would record; what each role may see; the exposition format.
--
-- A database of its own (nothing left by earlier tests), whose name needs
-- escaping in a Prometheus label.
SELECT current_database() AS regress_db, current_user AS su \gset
SELECT E'regress "report" \\ db\nline 2' AS dbname \gset
CREATE DATABASE :"dbname";
\c :"dbname"
SET client_min_messages = warning;
CREATE EXTENSION pipeopt CASCADE;
RESET client_min_messages;
\set SHOW_CONTEXT never

-- A report of nothing: every section says so.
\a\t
SELECT regexp_replace(pipeopt.report(), '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5}( [A-Z0-9+:-]+)?', '<time>', 'g');
\a\t

-- Timings in the expected output: what is masked where it is printed.
CREATE FUNCTION mask(t text) RETURNS text LANGUAGE sql AS $$
  SELECT regexp_replace(regexp_replace(t, '[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{5}( [A-Z0-9+:-]+)?', '<time>', 'g'),
                        'last capture -?[0-9]+ min ago', 'last capture <n> min ago')
$$;

CREATE SCHEMA shop;
CREATE TABLE shop.orders (id int PRIMARY KEY, customer int NOT NULL, status text NOT NULL, note text);
INSERT INTO shop.orders SELECT g, g % 500, CASE WHEN g % 10 = 0 THEN 'open' ELSE 'done' END, 'n' || g
  FROM generate_series(1, 5000) g;
-- a name that is markup, and an index on it nobody uses
CREATE TABLE shop."<b>x & ""y""</b>" (id int, v int);
CREATE INDEX spare_idx ON shop."<b>x & ""y""</b>" (v);
ANALYZE shop.orders;

-- The statements, as pg_stat_statements writes them (one with a newline,
-- a tab and a terminal escape sequence in a comment).
INSERT INTO pipeopt.statements (fingerprint, query, kind) VALUES
  ('f000000000000001', 'SELECT count(*) FROM shop.orders WHERE customer = $1', 'select'),
  ('f000000000000002', 'SELECT * FROM shop."<b>x & ""y""</b>" WHERE id NOT IN (SELECT customer FROM shop.orders)', 'select'),
  ('f000000000000003', E'SELECT note\n  FROM shop.orders\tWHERE note = $1 /* \x1b[31mred\x1b[0m */', 'select'),
  ('f000000000000004', 'UPDATE shop.orders SET status = $1 WHERE id = $2', 'update');

-- Recommendations, as the advisor stores them.
INSERT INTO pipeopt.advice (kind, relid, target, target_key, saving_ms_per_hour, estimated_bytes, confidence, risk, reason)
VALUES
  ('create_index', 'shop.orders'::regclass,
   jsonb_build_object('relid', 'shop.orders'::regclass::oid, 'method', 'btree', 'attnums', '[2]'::jsonb),
   'rep:customer', 8000, 200000, 0.9, 'low', 'customer lookups scan the table'),
  ('create_index', 'shop.orders'::regclass,
   jsonb_build_object('relid', 'shop.orders'::regclass::oid, 'method', 'btree', 'attnums', '[4]'::jsonb),
   'rep:note', 500, 300000, 0.6, 'medium', 'note lookups scan the table'),
  ('create_index', 'shop.orders'::regclass,
   jsonb_build_object('relid', 'shop.orders'::regclass::oid, 'method', 'btree', 'attnums', '[3]'::jsonb),
   'rep:status', 1200, 150000, 0.5, 'medium', 'status filters'),
  ('drop_index', 'shop."<b>x & ""y""</b>"'::regclass,
   jsonb_build_object('relid', 'shop."<b>x & ""y""</b>"'::regclass::oid,
                      'indexrelid', 'shop.spare_idx'::regclass::oid, 'rule', 'unused-index'),
   'rep:spare', NULL, 8192, 0.7, 'medium', 'never used');
INSERT INTO pipeopt.advice_statements (advice_id, fingerprint, calls_per_hour, mean_ms, cost_before, cost_after,
                                       cost_without, saving_ms_per_hour)
VALUES (1, 'f000000000000001', 600, 15, 100, 8, 100, 8000),
       (2, 'f000000000000003', 300, 1, 100, 60, 100, 500);

-- Two real changes, applied by the apply worker.
SELECT pipeopt.approve(1, 'customer lookups');
SELECT status, outcome, statement FROM pipeopt.apply_now(1);
SELECT pipeopt.approve(2, 'note lookups');
SELECT status, outcome, statement FROM pipeopt.apply_now(2);
SELECT finished_at AS t_change FROM pipeopt.change_log WHERE id = 1 \gset

-- The history around them: six 10-minute captures before, three after
-- (statement 1 gets faster, statement 3 slower).
SELECT pipeopt._ensure_partitions(:'t_change'::timestamptz - interval '2 hours') IS NOT NULL AS partitions,
       pipeopt._ensure_partitions(:'t_change'::timestamptz) IS NOT NULL AS partitions_now;
INSERT INTO pipeopt.captures (interval_start, captured_at, statements)
SELECT :'t_change'::timestamptz + (k - 1) * interval '10 minutes', :'t_change'::timestamptz + k * interval '10 minutes', 4
  FROM generate_series(-6, 3) k WHERE k <> 0 ORDER BY k;
INSERT INTO pipeopt.samples (capture_id, captured_at, fingerprint, userid, toplevel, calls, plans, total_exec_time,
  sum_sq_exec_time, total_plan_time, rows, shared_blks_hit, shared_blks_read, shared_blks_dirtied, shared_blks_written,
  local_blks_hit, local_blks_read, local_blks_dirtied, local_blks_written, temp_blks_read, temp_blks_written,
  blk_read_time, blk_write_time, wal_records, wal_fpi, wal_bytes)
SELECT c.capture_id, c.captured_at, s.fp, :'su'::regrole::oid, true, s.calls, 0,
       s.calls * s.mean, s.calls * s.mean ^ 2, 0, s.calls, s.calls * s.blocks, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
  FROM pipeopt.captures c
 CROSS JOIN LATERAL (VALUES
   ('f000000000000001', 100, CASE WHEN c.captured_at < :'t_change' THEN 15.0 ELSE 0.2 END,
                             CASE WHEN c.captured_at < :'t_change' THEN 40 ELSE 3 END),
   ('f000000000000002', 10, 40.0, 30),
   ('f000000000000003', 50, CASE WHEN c.captured_at < :'t_change' THEN 1.0 ELSE 1.5 END, 5),
   ('f000000000000004', 20, 1.5, 4)) s(fp, calls, mean, blocks);
SELECT * FROM pipeopt.analyze();

-- What the effectiveness monitor records for a change: its affected
-- statements before and after, the verdict, predicted against actual.
-- per affected statement: calls, mean time and blocks per call before
-- and after the change
CREATE FUNCTION affected(change bigint)
RETURNS TABLE (fingerprint text, calls_before numeric, calls_after numeric, mean_before float8, mean_after float8,
               blocks_before float8, blocks_after float8)
LANGUAGE sql AS $$
  SELECT s.fingerprint,
         sum(s.calls) FILTER (WHERE NOT s.after), sum(s.calls) FILTER (WHERE s.after),
         sum(s.total_exec_time) FILTER (WHERE NOT s.after) / sum(s.calls) FILTER (WHERE NOT s.after),
         sum(s.total_exec_time) FILTER (WHERE s.after) / sum(s.calls) FILTER (WHERE s.after),
         sum(s.shared_blks_hit) FILTER (WHERE NOT s.after)::float8 / sum(s.calls) FILTER (WHERE NOT s.after),
         sum(s.shared_blks_hit) FILTER (WHERE s.after)::float8 / sum(s.calls) FILTER (WHERE s.after)
    FROM pipeopt.change_log l
    JOIN (SELECT x.*, x.captured_at > (SELECT y.finished_at FROM pipeopt.change_log y WHERE y.id = change) AS after
            FROM pipeopt.samples x) s
      ON s.fingerprint IN (SELECT a.fingerprint FROM pipeopt.advice_statements a WHERE a.advice_id = l.advice_id)
   WHERE l.id = change
   GROUP BY s.fingerprint
$$;
CREATE FUNCTION monitor_records(change bigint, verdict text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO pipeopt.verification (change_id, advice_id, kind, applied_at, baseline_from, baseline_to,
    window_from, window_to, calls_before, calls_after, mean_ms_before, mean_ms_after,
    blocks_per_call_before, blocks_per_call_after, change_pct, p_value,
    predicted_saving_ms_per_hour, actual_saving_ms_per_hour, verdict, decided_at)
  SELECT l.id, l.advice_id, l.kind, l.finished_at,
         (SELECT min(c.interval_start) FROM pipeopt.captures c WHERE c.captured_at <= l.finished_at),
         l.finished_at, l.finished_at, (SELECT max(c.captured_at) FROM pipeopt.captures c),
         sum(v.calls_before), sum(v.calls_after),
         sum(v.mean_before * v.calls_before) / sum(v.calls_before),
         sum(v.mean_after * v.calls_after) / sum(v.calls_after),
         sum(v.blocks_before * v.calls_before) / sum(v.calls_before),
         sum(v.blocks_after * v.calls_after) / sum(v.calls_after),
         (sum(v.mean_after * v.calls_after) / sum(v.calls_after))
           / (sum(v.mean_before * v.calls_before) / sum(v.calls_before)) * 100 - 100,
         0.001, a.saving_ms_per_hour,
         -- time saved per call, times the calls of an hour after the change
         -- (three 10-minute captures)
         (sum(v.mean_before * v.calls_before) / sum(v.calls_before)
          - sum(v.mean_after * v.calls_after) / sum(v.calls_after)) * sum(v.calls_after) / 0.5,
         verdict, now()
    FROM pipeopt.change_log l
    JOIN pipeopt.advice a ON a.id = l.advice_id
   CROSS JOIN affected(change) v
   WHERE l.id = change
   GROUP BY l.id, l.advice_id, l.kind, l.finished_at, a.saving_ms_per_hour;
  INSERT INTO pipeopt.verification_statements (change_id, fingerprint, calls_before, calls_after,
    mean_ms_before, mean_ms_after, blocks_per_call_before, blocks_per_call_after, change_pct, p_value)
  SELECT change, v.fingerprint, v.calls_before, v.calls_after, v.mean_before, v.mean_after,
         v.blocks_before, v.blocks_after, v.mean_after / v.mean_before * 100 - 100, 0.001
    FROM affected(change) v;
$$;
SELECT monitor_records(1, 'improved');
SELECT monitor_records(2, 'regressed');
-- the regression is undone through the change's rollback record, and the
-- verdict says so
SELECT status, outcome, statement FROM pipeopt.rollback(2);
UPDATE pipeopt.verification v SET reverted = true,
       revert_change_id = (SELECT max(l.id) FROM pipeopt.change_log l WHERE l.action = 'rollback' AND l.advice_id = 2)
 WHERE v.change_id = 2;
SELECT change_id, verdict, round(change_pct::numeric, 1) AS change_pct, reverted, revert_change_id
  FROM pipeopt.verification ORDER BY change_id;

-- The text report: every section, every line within 100 columns, no
-- control character but the line ends.
\a\t
SELECT mask(pipeopt.report());
\a\t
SELECT max(length(l)) AS widest, count(*) AS lines,
       bool_or(l ~ '[\x01-\x09\x0b-\x1f\x7f-\x9f]') AS control_characters
  FROM regexp_split_to_table(pipeopt.report(), E'\n') l;
SELECT pipeopt.report() = pipeopt.report() AS stable;
-- what the terminal would obey or reorder: escape sequences, C1 controls,
-- bidirectional overrides
SELECT pipeopt._report_clean(E'a\x1b[31mb\u0085c\u202Ed\u2066e\t \n f') AS cleaned,
       pipeopt._report_fit('0123456789', 8) AS cut, pipeopt._report_fit('01234567', 8) AS fits;
-- one item per list
\a\t
SELECT mask(pipeopt.report(1));
\a\t
SELECT pipeopt.report(0);
SELECT pipeopt.report(NULL);

-- The HTML report: one page, nothing to load, every user text escaped.
SELECT pipeopt.report_html() AS html \gset
SELECT left(:'html', 16) AS doctype,
       :'html' ~ '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">' AS csp,
       :'html' !~* '<script|<link|<img|<iframe|<object|<embed|\ssrc=|\shref=|url\(|@import' AS loads_nothing,
       right(:'html', 15) = E'</body></html>\n' AS complete;
-- the table's name and the statement texts, escaped wherever they appear
SELECT (SELECT count(*) FROM regexp_matches(:'html', '&lt;b&gt;x &amp; &quot;&quot;y&quot;&quot;&lt;/b&gt;', 'g')) > 0 AS name_escaped,
       position('<b>x' IN :'html') = 0 AS no_raw_markup,
       position(E'\x1b' IN :'html') = 0 AS no_escape_character;
-- the charts and what is drawn in them
SELECT m[1] AS chart, count(*) FROM regexp_matches(:'html', '<svg class="chart ([a-z-]+)"', 'g') m
 GROUP BY 1 ORDER BY 1;
SELECT m[1] AS fingerprint, m[2]::int AS points
  FROM regexp_matches(:'html', '<svg class="chart timeline" data-fingerprint="([^"]*)" data-points="([0-9]+)"', 'g') m
 ORDER BY 1;
-- every change is marked on each statement's time line; the ones that
-- concern the statement are labelled
SELECT count(*) FILTER (WHERE m[1] = ' affects') AS labelled, count(*) AS marks
  FROM regexp_matches(:'html', '<g class="change( affects)?" data-change="[0-9]+"><line', 'g') m;
SELECT (regexp_matches(:'html', '<g class="change" data-change="([0-9]+)" transform', 'g'))[1] AS before_after;
SELECT count(*) AS top_bars FROM regexp_matches(:'html', '<rect class="bar"', 'g');
SELECT count(*) AS series FROM regexp_matches(:'html', '<polyline class="series" points="[0-9., ]+"', 'g');
SELECT count(*) AS sections FROM regexp_matches(:'html', '<section id="[a-z-]+"><h2>', 'g');

-- Metrics: names, labels and values as Prometheus reads them.
SELECT metric, labels,
       CASE WHEN metric IN ('pipeopt_capture_lag_seconds', 'pipeopt_last_capture_timestamp_seconds')
            THEN value = value ELSE NULL END AS is_number,
       CASE WHEN metric NOT IN ('pipeopt_capture_lag_seconds', 'pipeopt_last_capture_timestamp_seconds')
            THEN value END AS value
  FROM pipeopt.metric_values();
-- A checker of the text exposition format (0.0.4): every line a HELP, a
-- TYPE or a sample; one HELP and one TYPE per family, before its samples;
-- label values escaped; values Go's ParseFloat reads; a final line feed.
CREATE FUNCTION exposition_errors(body text) RETURNS SETOF text LANGUAGE sql AS $$
  WITH l AS (
    SELECT x.line, x.n FROM regexp_split_to_table(body, E'\n') WITH ORDINALITY x(line, n)
  ), k AS (
    SELECT l.n, l.line,
           CASE WHEN l.line ~ '^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* ([^\\\n]|\\[\\n])*$' THEN 'help'
                WHEN l.line ~ '^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$' THEN 'type'
                WHEN l.line ~ ('^[a-zA-Z_:][a-zA-Z0-9_:]*'
                               || '(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*\})?'
                               || ' (NaN|[+-]Inf|[+-]?[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?)$') THEN 'sample'
                WHEN l.line = '' AND l.n = (SELECT max(n) FROM l) THEN 'end'
                ELSE 'bad' END AS kind,
           substring(l.line FROM '^(?:# (?:HELP|TYPE) )?([a-zA-Z_:][a-zA-Z0-9_:]*)') AS name
      FROM l
  ), placed AS (
    SELECT k.*, (SELECT t.name FROM k t WHERE t.kind = 'type' AND t.n < k.n ORDER BY t.n DESC LIMIT 1) AS family,
           lag(k.kind) OVER (ORDER BY k.n) AS prev_kind, lag(k.name) OVER (ORDER BY k.n) AS prev_name
      FROM k
  )
  SELECT format('line %s is not valid: %s', n, line) FROM placed WHERE kind = 'bad'
  UNION ALL
  SELECT format('line %s: a sample of %s under the TYPE of %s', n, name, coalesce(family, 'nothing'))
    FROM placed WHERE kind = 'sample' AND family IS DISTINCT FROM name
  UNION ALL
  SELECT format('line %s: TYPE of %s not right after its HELP', n, name)
    FROM placed WHERE kind = 'type' AND (prev_kind IS DISTINCT FROM 'help' OR prev_name <> name)
  UNION ALL
  SELECT format('%s has %s HELP and %s TYPE lines', name, count(*) FILTER (WHERE kind = 'help'),
                count(*) FILTER (WHERE kind = 'type'))
    FROM placed WHERE kind IN ('help', 'type') GROUP BY name
   HAVING count(*) FILTER (WHERE kind = 'help') <> 1 OR count(*) FILTER (WHERE kind = 'type') <> 1
  UNION ALL
  SELECT format('%s does not start with pipeopt_', name) FROM placed WHERE kind <> 'end' AND name !~ '^pipeopt_'
  UNION ALL
  SELECT 'no final line feed' WHERE right(body, 1) <> E'\n'
  UNION ALL
  SELECT format('line %s: a counter not named _total: %s', n, name)
    FROM placed WHERE kind = 'type' AND line ~ ' counter$' AND name !~ '_total$'
$$;
-- the checker catches what it should
SELECT * FROM exposition_errors(E'# HELP pipeopt_x a\n# TYPE pipeopt_x gauge\npipeopt_x{a="b"c"} 1\npipeopt_y 2\npipeopt_x 1,5');
SELECT * FROM exposition_errors(pipeopt.metrics());
SELECT line FROM regexp_split_to_table(pipeopt.metrics(), E'\n') line
 WHERE line ~ '^pipeopt_(build_info|changes|verdicts_current\{verdict="(improved|regressed)"|saving)';
-- the findings metric counts what the findings view shows: a suppressed
-- finding left out
SELECT (SELECT count(*) FROM pipeopt.findings) AS findings,
       (SELECT sum(value) FROM pipeopt.metric_values() WHERE metric = 'pipeopt_findings_current') AS metric;
SELECT pipeopt.suppress('f000000000000002', 'select-star', 'the report test reads every column');
SELECT (SELECT count(*) FROM pipeopt.findings) AS findings,
       (SELECT sum(value) FROM pipeopt.metric_values() WHERE metric = 'pipeopt_findings_current') AS metric;
SELECT pipeopt.unsuppress('f000000000000002', 'select-star');
-- and a disabled rule's
SET pipeopt.disabled_rules = 'not-in-subquery';
SELECT (SELECT count(*) FROM pipeopt.findings) AS findings,
       (SELECT sum(value) FROM pipeopt.metric_values() WHERE metric = 'pipeopt_findings_current') AS metric;
RESET pipeopt.disabled_rules;
SELECT pipeopt._prom_escape(E'a"b\\c\nd', true) AS label_value, pipeopt._prom_escape(E'a"b\\c\nd', false) AS help,
       pipeopt._prom_value('NaN') AS nan, pipeopt._prom_value('Infinity') AS inf,
       pipeopt._prom_value('-Infinity') AS minus_inf, pipeopt._prom_value(1e20) AS big;

-- Who may call them. Readers: no history, statements by fingerprint.
CREATE ROLE regress_rep_reader;
GRANT pipeopt_reader TO regress_rep_reader;
CREATE ROLE regress_rep_stats;
GRANT pg_read_all_stats TO regress_rep_stats;
CREATE ROLE regress_rep_nobody;
SET ROLE regress_rep_reader;
\a\t
SELECT mask(pipeopt.report());
\a\t
SELECT pipeopt.report_html() AS html \gset
SELECT position('SELECT count(*)' IN :'html') = 0 AS no_texts,
       position('f000000000000001' IN :'html') = 0 AS no_fingerprints_of_history,
       :'html' ~ 'readable by pg_read_all_stats only' AS says_why,
       :'html' ~ '<svg class="chart before-after"' AS before_after_chart,
       :'html' !~ '<svg class="chart (timeline|top)"' AS no_history_charts;
SELECT count(*) AS metrics FROM pipeopt.metric_values();
SELECT * FROM exposition_errors(pipeopt.metrics());
RESET ROLE;
-- readers of all statistics see everything
SELECT mask(pipeopt.report()) AS su_report \gset
SET ROLE regress_rep_stats;
SELECT mask(pipeopt.report()) = :'su_report' AS same_as_superuser;
SELECT pipeopt.report() ~ 'SELECT count\(\*\) FROM shop.orders WHERE customer = \$1' AS texts,
       pipeopt.report_html() ~ '<svg class="chart timeline"' AS history_charts;
RESET ROLE;
SET ROLE regress_rep_nobody;
SELECT pipeopt.report();
SELECT pipeopt.report_html();
SELECT pipeopt.metrics();
RESET ROLE;

\c :regress_db
DROP DATABASE :"dbname";
DROP ROLE regress_rep_reader, regress_rep_stats, regress_rep_nobody;
