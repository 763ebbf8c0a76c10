-- Precision and recall of the lint rules on the labelled corpus (the table
-- corpus(n, raw_labels, normalized_labels, sql) loaded from labelled.tsv).
-- Each statement is scored twice: as written, and normalized the way
-- pg_stat_statements stores it. Only decided findings count as predictions
-- (an undecided one says it cannot tell); parse errors count as findings.
-- Prints one row per rule and an overall row.

CREATE TEMP VIEW corpus_cases AS
  SELECT c.n, 'raw' AS form, c.sql AS text, c.raw_labels AS labels FROM corpus c
  UNION ALL
  SELECT c.n, 'normalized', pipeopt.normalize(c.sql),
         CASE c.normalized_labels WHEN '=' THEN c.raw_labels ELSE c.normalized_labels END
    FROM corpus c;

CREATE TEMP TABLE corpus_scored AS
  WITH expected AS (
    SELECT k.n, k.form, e.rule
      FROM corpus_cases k, unnest(string_to_array(nullif(k.labels, '-'), ',')) e(rule)
  ), predicted AS (
    SELECT DISTINCT k.n, k.form, l.rule
      FROM corpus_cases k, pipeopt.lint(k.text) l
     WHERE coalesce(l.evidence->>'decided', 'true') <> 'false'
  )
  SELECT coalesce(e.rule, p.rule) AS rule, coalesce(e.n, p.n) AS n, coalesce(e.form, p.form) AS form,
         e.rule IS NOT NULL AS expected, p.rule IS NOT NULL AS predicted
    FROM expected e
    FULL JOIN predicted p ON (p.n, p.form, p.rule) = (e.n, e.form, e.rule);

SELECT (SELECT count(*) FROM corpus_cases) AS statements_scored,
       (SELECT count(*) FROM corpus) AS statements_in_corpus;

SELECT rule,
       count(*) FILTER (WHERE expected AND predicted) AS tp,
       count(*) FILTER (WHERE predicted AND NOT expected) AS fp,
       count(*) FILTER (WHERE expected AND NOT predicted) AS fn,
       round(count(*) FILTER (WHERE expected AND predicted)::numeric
             / nullif(count(*) FILTER (WHERE predicted), 0), 3) AS precision,
       round(count(*) FILTER (WHERE expected AND predicted)::numeric
             / nullif(count(*) FILTER (WHERE expected), 0), 3) AS recall
  FROM corpus_scored GROUP BY ROLLUP (rule) ORDER BY rule NULLS LAST;

-- what went wrong, if anything
SELECT s.rule, s.form, CASE WHEN s.predicted THEN 'false positive' ELSE 'missed' END AS error,
       left(k.text, 90) AS statement
  FROM corpus_scored s JOIN corpus_cases k USING (n, form)
 WHERE s.expected <> s.predicted ORDER BY s.n, s.form;
