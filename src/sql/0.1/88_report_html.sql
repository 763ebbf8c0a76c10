/*
 * Reports people read, part 2: the HTML report.
 *   pipeopt.report_html(items)   one self-contained page with SVG charts
 *
 * The page loads nothing: styles are inline, charts are inline SVG, there
 * is no script, and its Content-Security-Policy (default-src 'none')
 * makes a browser refuse anything else. Every piece of text that comes
 * from users (statement texts, names, messages, reasons) goes through
 * _html(). Charts:
 *   statement time over time   mean time per call of a statement at each
 *                              capture, every change marked on it
 *   before and after           each change's affected statements, mean
 *                              time per call before and after
 *   top statements             total execution time per statement
 * It runs as the caller and shows what the caller may read, like report()
 * (88_report.sql).
 */

-- Text as HTML character data or an attribute value. Characters HTML does
-- not allow (C0 controls but tab and newlines, DEL, C1) become U+FFFD.
CREATE FUNCTION @extschema@._html(t text)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT replace(replace(replace(replace(replace(
           regexp_replace(t, '[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]', U&'\FFFD', 'g'),
           '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')
$f$;

-- A coordinate: one decimal, never NaN or infinite (a browser rejects the
-- whole attribute).
CREATE FUNCTION @extschema@._svg_num(x double precision)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN x IS NULL OR x IN ('NaN', 'Infinity', '-Infinity') THEN '0'
              ELSE round(x::numeric, 1)::text END
$f$;

-- A duration in ms for a label: 3 significant digits or so.
CREATE FUNCTION @extschema@._report_ms(ms double precision)
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN ms IS NULL THEN '-'
              WHEN abs(ms) >= 100000 THEN round((ms / 1000)::numeric, 0) || ' s'
              WHEN abs(ms) >= 100 THEN round(ms::numeric, 0) || ' ms'
              WHEN abs(ms) >= 1 THEN round(ms::numeric, 2) || ' ms'
              ELSE round(ms::numeric, 4) || ' ms' END
$f$;

-- ---------------------------------------------------------------------
-- Chart: one statement's mean time per call at each capture in
-- [t0, t1], each change of that period marked (a change that affects the
-- statement in full colour and labelled with its id).
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._report_svg_timeline(fingerprint text, label text, t0 timestamptz, t1 timestamptz)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  -- plot area: x from 70 to 850, y from 150 (0) up to 20 (ymax)
  WITH pts AS (
    SELECT h.captured_at AS at, h.mean_exec_time AS mean, h.calls,
           70 + extract(epoch FROM h.captured_at - t0) / greatest(extract(epoch FROM t1 - t0), 1) * 780 AS x
      FROM @extschema@.statement_history(fingerprint, t0, t1) h
     WHERE h.calls > 0
  ), scale AS (
    SELECT greatest(max(p.mean) * 1.1, 0.001) AS ymax, count(*) AS n FROM pts p
  ), plotted AS (
    SELECT p.*, 150 - p.mean / s.ymax * 130 AS y FROM pts p, scale s
  ), marks AS (
    -- the changes of the period: applied (green) and rolled back (orange)
    SELECT l.id, l.action, coalesce(l.ddl, l.kind) AS what,
           @extschema@._svg_num(70 + extract(epoch FROM l.finished_at - t0)
                                     / greatest(extract(epoch FROM t1 - t0), 1) * 780) AS x,
           EXISTS (SELECT 1 FROM @extschema@.verification_statements vs
                    WHERE vs.fingerprint = _report_svg_timeline.fingerprint
                      AND (vs.change_id = l.id
                           OR vs.change_id IN (SELECT v.change_id FROM @extschema@.verification v
                                                WHERE v.revert_change_id = l.id)))
           OR EXISTS (SELECT 1 FROM @extschema@.advice_statements a
                       WHERE a.advice_id = l.advice_id AND a.fingerprint = _report_svg_timeline.fingerprint) AS affects
      FROM @extschema@.change_log l
     WHERE l.outcome = 'succeeded' AND l.finished_at BETWEEN t0 AND t1
  )
  SELECT format('<svg class="chart timeline" data-fingerprint="%s" data-points="%s" width="880" height="190" viewBox="0 0 880 190" role="img" aria-label="%s">',
                @extschema@._html(fingerprint), s.n, @extschema@._html('mean time per call of ' || label))
    || format('<title>%s</title>', @extschema@._html(label))
    || '<line x1="70" y1="150" x2="850" y2="150" stroke="#888"/><line x1="70" y1="150" x2="70" y2="20" stroke="#888"/>'
    || format('<text x="64" y="24" font-size="11" text-anchor="end" fill="#333">%s</text>', @extschema@._report_ms(s.ymax))
    || '<text x="64" y="154" font-size="11" text-anchor="end" fill="#333">0</text>'
    -- seconds matter in a short history
    || format('<text x="70" y="168" font-size="11" fill="#333">%s</text>',
              to_char(t0, CASE WHEN t1 - t0 < interval '1 day' THEN 'YYYY-MM-DD HH24:MI:SS' ELSE 'YYYY-MM-DD HH24:MI' END))
    || format('<text x="850" y="168" font-size="11" text-anchor="end" fill="#333">%s</text>',
              to_char(t1, CASE WHEN t1 - t0 < interval '1 day' THEN 'YYYY-MM-DD HH24:MI:SS' ELSE 'YYYY-MM-DD HH24:MI' END))
    || coalesce((SELECT string_agg(format(
                   '<g class="change%s" data-change="%s"><line x1="%s" y1="14" x2="%s" y2="150" stroke="%s" stroke-width="%s" stroke-dasharray="5 3"/>%s<title>change %s, %s: %s</title></g>',
                   CASE WHEN m.affects THEN ' affects' ELSE '' END, m.id, m.x, m.x,
                   CASE m.action WHEN 'apply' THEN '#2ca02c' ELSE '#ff7f0e' END,
                   CASE WHEN m.affects THEN 2 ELSE 1 END,
                   CASE WHEN m.affects THEN format('<text x="%s" y="12" font-size="11" fill="#333">#%s</text>', m.x, m.id)
                        ELSE '' END,
                   m.id, m.action, @extschema@._html(m.what)), '' ORDER BY m.id)
                   FROM marks m), '')
    || CASE WHEN s.n > 1
            THEN format('<polyline class="series" points="%s" fill="none" stroke="#1f77b4" stroke-width="2"/>',
                        (SELECT string_agg(@extschema@._svg_num(p.x) || ',' || @extschema@._svg_num(p.y), ' ' ORDER BY p.at)
                           FROM plotted p))
            ELSE '' END
    || coalesce((SELECT string_agg(format(
                   '<circle class="point" cx="%s" cy="%s" r="3" fill="#1f77b4"><title>%s: %s per call, %s calls</title></circle>',
                   @extschema@._svg_num(p.x), @extschema@._svg_num(p.y), @extschema@._report_time(p.at),
                   @extschema@._report_ms(p.mean), p.calls), '' ORDER BY p.at)
                   FROM plotted p), '')
    || '</svg>'
    FROM scale s
$f$;

-- ---------------------------------------------------------------------
-- Chart: before and after, for the last `items` changes measured by the
-- monitor: mean time per call of their affected statements before the
-- change (light) and after it (dark), each change on its own scale.
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._report_svg_before_after(items integer)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH v AS (
    SELECT x.*, row_number() OVER (ORDER BY x.change_id DESC) - 1 AS i,
           greatest(x.mean_ms_before, x.mean_ms_after, 0.000001) AS top
      FROM @extschema@.verification x
     WHERE x.mean_ms_before IS NOT NULL AND x.mean_ms_after IS NOT NULL
     ORDER BY x.change_id DESC
     LIMIT items)
  SELECT format('<svg class="chart before-after" data-changes="%s" width="880" height="%s" viewBox="0 0 880 %s" role="img" aria-label="mean time per call before and after each change">',
                count(*), count(*) * 56 + 10, count(*) * 56 + 10)
         || string_agg(format(
              '<g class="change" data-change="%s" transform="translate(0,%s)">'
              '<text x="0" y="14" font-size="12" fill="#222">change %s, %s</text>'
              '<text x="0" y="30" font-size="11" fill="#555">%s, %s%%</text>'
              '<rect class="before" x="230" y="4" width="%s" height="18" fill="#74a9cf"><title>before: %s per call, %s calls</title></rect>'
              '<text x="%s" y="17" font-size="11" fill="#333">before %s</text>'
              '<rect class="after" x="230" y="26" width="%s" height="18" fill="#1f77b4"><title>after: %s per call, %s calls</title></rect>'
              '<text x="%s" y="39" font-size="11" fill="#333">after %s</text></g>',
              v.change_id, v.i * 56 + 6,
              v.change_id, @extschema@._html(v.kind),
              @extschema@._html(v.verdict || CASE WHEN v.reverted THEN ', reverted' ELSE '' END),
              @extschema@._report_num(v.change_pct),
              @extschema@._svg_num(greatest(v.mean_ms_before / v.top * 520, 2)),
              @extschema@._report_ms(v.mean_ms_before), coalesce(v.calls_before::text, '-'),
              @extschema@._svg_num(236 + greatest(v.mean_ms_before / v.top * 520, 2)),
              @extschema@._report_ms(v.mean_ms_before),
              @extschema@._svg_num(greatest(v.mean_ms_after / v.top * 520, 2)),
              @extschema@._report_ms(v.mean_ms_after), coalesce(v.calls_after::text, '-'),
              @extschema@._svg_num(236 + greatest(v.mean_ms_after / v.top * 520, 2)),
              @extschema@._report_ms(v.mean_ms_after)), '' ORDER BY v.i)
         || '</svg>'
    FROM v
  HAVING count(*) > 0
$f$;

-- ---------------------------------------------------------------------
-- Chart: the top `items` statements by total execution time.
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@._report_svg_top(items integer, texts boolean)
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  WITH t AS (
    SELECT x.*, row_number() OVER (ORDER BY x.total_exec_time DESC, x.fingerprint) - 1 AS i,
           greatest(max(x.total_exec_time) OVER (), 0.000001) AS top,
           CASE WHEN texts THEN x.query ELSE 'statement ' || x.fingerprint END AS label
      FROM @extschema@.top_statements() x
     ORDER BY x.total_exec_time DESC, x.fingerprint
     LIMIT items)
  SELECT format('<svg class="chart top" data-statements="%s" width="880" height="%s" viewBox="0 0 880 %s" role="img" aria-label="total execution time per statement">',
                count(*), count(*) * 40 + 10, count(*) * 40 + 10)
         || string_agg(format(
              '<g class="statement" data-fingerprint="%s" transform="translate(0,%s)">'
              '<text x="0" y="13" font-size="12" fill="#222">%s<title>%s</title></text>'
              '<rect class="bar" x="0" y="18" width="%s" height="14" fill="#1f77b4"/>'
              '<text x="%s" y="30" font-size="11" fill="#333">%s, %s%%, %s calls</text></g>',
              @extschema@._html(t.fingerprint), t.i * 40 + 4,
              @extschema@._html(@extschema@._report_fit(t.label, 110)), @extschema@._html(t.label),
              @extschema@._svg_num(greatest(t.total_exec_time / t.top * 600, 2)),
              @extschema@._svg_num(greatest(t.total_exec_time / t.top * 600, 2) + 6),
              @extschema@._report_ms(t.total_exec_time), @extschema@._report_num(t.share_of_total_time),
              t.calls), '' ORDER BY t.i)
         || '</svg>'
    FROM t
  HAVING count(*) > 0
$f$;

-- An HTML table: a header row and rows of cells (each cell HTML already).
CREATE FUNCTION @extschema@._html_table(class text, head text[], rows text[])
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT CASE WHEN coalesce(cardinality(rows), 0) = 0 THEN '<p class="none">none</p>'
              ELSE format('<table class="%s"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>', class,
                          (SELECT string_agg('<th>' || h || '</th>', '' ORDER BY i)
                             FROM unnest(head) WITH ORDINALITY u(h, i)),
                          array_to_string(rows, '')) END
$f$;

-- ---------------------------------------------------------------------
-- report_html()
-- ---------------------------------------------------------------------
CREATE FUNCTION @extschema@.report_html(items integer DEFAULT 10)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
#variable_conflict use_variable
DECLARE
  acc record;
  h record;
  r record;
  t0 timestamptz;
  t1 timestamptz;
  body text[] := '{}';
  rows text[];
  chart text;
  n bigint;
  no_history constant text :=
    '<p class="none">Not shown: the captured history is readable by pg_read_all_stats only.</p>';
BEGIN
  PERFORM @extschema@._report_check_items(items);
  acc := @extschema@._report_access();

  IF NOT acc.texts THEN
    body := body || '<p class="note">Statement texts are shown as fingerprints: reading them needs pg_read_all_stats.</p>'::text;
  END IF;

  -- history -------------------------------------------------------------
  body := body || '<section id="history"><h2>History</h2>'::text;
  IF NOT acc.history THEN
    body := body || no_history;
  ELSE
    h := @extschema@._report_history();
    body := body || CASE WHEN h.captures = 0 THEN '<p class="none">none</p>'
                         ELSE format('<p>%s captures from %s to %s (%s h); %s statements tracked, %s with samples.</p>',
                                     h.captures, @extschema@._report_time(h.first_capture),
                                     @extschema@._report_time(h.last_capture), @extschema@._report_num(h.hours),
                                     h.statements, h.sampled_statements) END;
    t0 := h.first_capture;
    t1 := greatest(h.last_capture, h.first_capture + interval '1 second');
  END IF;
  body := body || '</section>'::text;

  -- statement time over time: the statements the last changes affected,
  -- then the busiest ones
  body := body || '<section id="statement-time"><h2>Statement time over time</h2>'::text;
  IF NOT acc.history THEN
    body := body || no_history;
  ELSE
    n := 0;
    FOR r IN
      WITH changed AS (
        SELECT DISTINCT vs.fingerprint FROM @extschema@.verification_statements vs
         WHERE vs.change_id IN (SELECT c.change_id FROM @extschema@._report_changes(items) c)
        UNION
        SELECT DISTINCT a.fingerprint FROM @extschema@.advice_statements a
         WHERE a.advice_id IN (SELECT c.advice_id FROM @extschema@._report_changes(items) c
                                WHERE c.outcome = 'succeeded'))
      SELECT t.fingerprint, t.query, t.total_exec_time, t.fingerprint IN (SELECT fingerprint FROM changed) AS changed
        FROM @extschema@.top_statements() t
       ORDER BY t.fingerprint IN (SELECT fingerprint FROM changed) DESC, t.total_exec_time DESC, t.fingerprint
       LIMIT least(items, 8)
    LOOP
      n := n + 1;
      chart := @extschema@._report_svg_timeline(
                 r.fingerprint, CASE WHEN acc.texts THEN r.query ELSE 'statement ' || r.fingerprint END, t0, t1);
      body := body || format('<figure>%s<figcaption><code>%s</code>%s</figcaption></figure>', chart,
                             @extschema@._html(@extschema@._report_fit(
                               CASE WHEN acc.texts THEN r.query ELSE 'statement ' || r.fingerprint END, 300)),
                             CASE WHEN r.changed THEN ' <span class="tag">changed</span>' ELSE '' END);
    END LOOP;
    IF n = 0 THEN
      body := body || '<p class="none">none</p>'::text;
    ELSE
      body := body || '<p class="legend">Mean time per call at each capture. Dashed lines: changes applied (green) and rolled back (orange); labelled when they concern the statement.</p>'::text;
    END IF;
  END IF;
  body := body || '</section>'::text;

  -- before and after --------------------------------------------------------
  body := body || ('<section id="before-after"><h2>Before and after each change</h2>'
               || coalesce(@extschema@._report_svg_before_after(items)
                           || '<p class="legend">Mean time per call of the statements each change affects, before it (light) and after it (dark), as the effectiveness monitor measured them.</p>',
                           '<p class="none">none</p>')
               || '</section>');

  -- top statements ----------------------------------------------------------
  body := body || '<section id="top-statements"><h2>Top statements</h2>'::text;
  IF NOT acc.history THEN
    body := body || no_history;
  ELSE
    body := body || coalesce(@extschema@._report_svg_top(items, acc.texts), '<p class="none">none</p>');
  END IF;
  body := body || '</section>'::text;

  -- findings ------------------------------------------------------------
  IF acc.findings THEN
    SELECT array_agg(format('<tr><td class="%s">%s</td><td class="num">%s</td><td>%s</td><td>%s</td><td><code>%s</code></td></tr>',
                            @extschema@._html(f.severity), @extschema@._html(f.severity),
                            @extschema@._report_num(f.share_of_total_time), @extschema@._html(f.rule),
                            @extschema@._html(f.message),
                            @extschema@._html(coalesce('table ' || f.relation,
                                                       CASE WHEN acc.texts THEN f.query ELSE 'statement ' || f.fingerprint END)))
                     ORDER BY f.ord)
      INTO rows
      FROM (SELECT x.*, row_number() OVER (ORDER BY x.share_of_total_time DESC,
                                           CASE x.severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                                           x.fingerprint NULLS LAST, x.relation, x.rule, x.location NULLS FIRST, x.message) AS ord
              FROM @extschema@.findings x) f
     WHERE f.ord <= items;
    body := body || ('<section id="findings"><h2>Findings</h2>'
                 || @extschema@._html_table('findings', '{severity,share %,rule,message,statement or table}', rows)
                 || '</section>');
  ELSE
    body := body || ('<section id="findings"><h2>Findings</h2>'
                 || '<p class="none">Not shown: the findings are ranked by the captured history, readable by pg_read_all_stats only.</p>'
                 || '</section>');
  END IF;

  -- open recommendations ------------------------------------------------
  SELECT array_agg(format('<tr><td class="num">%s</td><td class="num">%s</td><td>%s</td><td>%s</td><td class="num">%s</td><td class="num">%s</td><td>%s</td><td><code>%s</code></td></tr>',
                          x.rank, x.id, @extschema@._html(x.kind), @extschema@._html(x.status),
                          @extschema@._report_num(x.saving_ms_per_hour), @extschema@._report_num(x.confidence, 2),
                          @extschema@._html(coalesce(x.risk, '-')),
                          @extschema@._html(coalesce(x.statement, x.reason)))
                   ORDER BY x.rank, x.id)
    INTO rows
    FROM (SELECT y.* FROM @extschema@.recommendations y WHERE y.status IN ('proposed', 'approved')
           ORDER BY y.rank, y.id LIMIT items) x;
  body := body || ('<section id="recommendations"><h2>Open recommendations</h2>'
               || @extschema@._html_table('recommendations',
                    '{rank,id,kind,status,saving ms/h,confidence,risk,statement}', rows)
               || '</section>');

  -- recent changes --------------------------------------------------------
  SELECT array_agg(format('<tr><td class="num">%s</td><td class="num">%s</td><td>%s</td><td>%s%s</td><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td><td><code>%s</code></td></tr>',
                          c.change_id, c.advice_id, @extschema@._report_time(c.at), @extschema@._html(c.action),
                          CASE WHEN c.automatic THEN ' (automatic)' ELSE '' END,
                          @extschema@._html(c.kind), @extschema@._html(c.outcome),
                          @extschema@._html(CASE WHEN c.reverts IS NOT NULL THEN 'undoes change ' || c.reverts
                                                 WHEN c.reverted THEN coalesce(c.verdict, '-') || ', reverted'
                                                 ELSE coalesce(c.verdict, '-') END),
                          @extschema@._report_num(c.change_pct),
                          @extschema@._html(CASE WHEN c.outcome = 'failed' THEN 'failed: ' || coalesce(c.error, 'unknown error')
                                                 ELSE coalesce(c.statement, 'nothing to do') END))
                   ORDER BY c.change_id DESC)
    INTO rows
    FROM @extschema@._report_changes(items) c;
  body := body || ('<section id="changes"><h2>Recent changes</h2>'
               || @extschema@._html_table('changes',
                    '{change,recommendation,at,action,kind,outcome,verdict,change %,statement}', rows)
               || '</section>');

  -- predicted against actual ------------------------------------------------
  SELECT array_agg(format('<tr><td class="num">%s</td><td>%s</td><td>%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td></tr>',
                          o.change_id, @extschema@._html(o.kind), @extschema@._html(o.verdict),
                          @extschema@._report_ms(o.mean_ms_before), @extschema@._report_ms(o.mean_ms_after),
                          @extschema@._report_num(o.change_pct), @extschema@._report_num(o.predicted),
                          @extschema@._report_num(o.actual))
                   ORDER BY o.change_id DESC)
    INTO rows
    FROM @extschema@._report_outcomes(items) o;
  body := body || ('<section id="predicted-actual"><h2>Predicted against actual</h2>'
               || @extschema@._html_table('outcomes',
                    '{change,kind,verdict,before,after,change %,predicted ms/h,actual ms/h}', rows));
  SELECT array_agg(format('<tr><td>%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td></tr>',
                          @extschema@._html(k.kind), k.changes, k.improved, k.no_change, k.regressed,
                          @extschema@._report_num(k.predicted), @extschema@._report_num(k.actual),
                          @extschema@._report_num(k.actual / nullif(k.predicted, 0), 2))
                   ORDER BY k.kind)
    INTO rows
    FROM @extschema@._report_outcomes_by_kind() k;
  IF rows IS NOT NULL THEN
    body := body || @extschema@._html_table('outcomes-by-kind',
                      '{kind,changes,improved,no change,regressed,predicted ms/h,actual ms/h,actual/predicted}', rows);
  END IF;
  body := body || '</section>'::text;

  RETURN '<!DOCTYPE html>' || E'\n'
    || '<html lang="en"><head><meta charset="utf-8">' || E'\n'
    || '<meta http-equiv="Content-Security-Policy" content="default-src ''none''; style-src ''unsafe-inline''">' || E'\n'
    || '<meta name="viewport" content="width=device-width, initial-scale=1">' || E'\n'
    || format('<title>pipeopt report: %s</title>', @extschema@._html(current_database())) || E'\n'
    || '<style>'
    || 'body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}'
    || 'h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc}'
    || 'table{border-collapse:collapse;font-size:13px;width:100%}'
    || 'th,td{border-bottom:1px solid #e4e4e4;padding:3px 6px;text-align:left;vertical-align:top}'
    || 'td.num{text-align:right;white-space:nowrap}code{font-size:12px;word-break:break-word}'
    || 'td.error{color:#b00020;font-weight:bold}td.warning{color:#a05a00}'
    || 'figure{margin:0 0 14px}figcaption{font-size:12px;color:#444}'
    || '.none,.note,.legend,.meta{color:#666;font-size:13px}.tag{background:#e0f0e0;padding:0 4px;font-size:11px}'
    || 'svg{display:block}'
    || '</style></head>' || E'\n'
    || '<body>' || E'\n'
    || format('<h1>pipeopt report</h1><p class="meta">database %s, %s</p>',
              @extschema@._html(current_database()), to_char(now(), 'YYYY-MM-DD HH24:MI TZ')) || E'\n'
    || array_to_string(body, E'\n') || E'\n'
    || '</body></html>' || E'\n';
END
$f$;
COMMENT ON FUNCTION @extschema@.report_html(integer) IS
  'One self-contained HTML page: history, SVG charts of statement time over time with the changes marked, before and after each change, top statements, and the tables of report()';
