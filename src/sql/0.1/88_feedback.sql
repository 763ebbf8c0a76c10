/*
 * Feedback: each kind's record of predicted against actual savings, and
 * the factor by which it scales the confidence of the kind's future
 * recommendations (advise_indexes() multiplies by _confidence_factor()).
 *
 * Each judged change (improved, no_change or regressed; insufficient and
 * pending ones do not count) scores:
 *   0                               it regressed
 *   actual / predicted, in [0, 1.5] a saving was predicted
 *   1                               none was (dropping an index)
 * and the factor is the mean score shrunk towards 1 by four imaginary
 * changes that scored 1, bounded to [0.5, 1.1]:
 *   factor = (4 + sum(score)) / (4 + changes)
 * A kind that keeps saving less than predicted loses up to half its
 * confidence; one that saves as predicted, or more, gains at most 10%;
 * a single change moves it by at most a fifth of its score's distance.
 */

CREATE VIEW @extschema@.prediction_accuracy AS
WITH scored AS (
  SELECT v.kind, v.verdict, v.reverted, v.predicted_saving_ms_per_hour AS predicted,
         v.actual_saving_ms_per_hour AS actual,
         CASE WHEN v.verdict NOT IN ('improved', 'no_change', 'regressed') THEN NULL
              WHEN v.verdict = 'regressed' THEN 0
              WHEN v.predicted_saving_ms_per_hour > 0
              THEN least(greatest(coalesce(v.actual_saving_ms_per_hour, 0) / v.predicted_saving_ms_per_hour, 0), 1.5)
              ELSE 1 END AS score
    FROM @extschema@.verification v
)
SELECT k.kind,
       count(s.kind) FILTER (WHERE s.verdict <> 'pending') AS judged,
       count(s.kind) FILTER (WHERE s.verdict = 'improved') AS improved,
       count(s.kind) FILTER (WHERE s.verdict = 'no_change') AS no_change,
       count(s.kind) FILTER (WHERE s.verdict = 'regressed') AS regressed,
       count(s.kind) FILTER (WHERE s.verdict = 'insufficient') AS insufficient,
       count(s.kind) FILTER (WHERE s.reverted) AS reverted,
       round(sum(s.predicted) FILTER (WHERE s.score IS NOT NULL AND s.predicted > 0)::numeric, 1)
         AS predicted_ms_per_hour,
       round(sum(s.actual) FILTER (WHERE s.score IS NOT NULL AND s.predicted > 0)::numeric, 1)
         AS actual_ms_per_hour,
       round((sum(s.actual) FILTER (WHERE s.score IS NOT NULL AND s.predicted > 0)
              / nullif(sum(s.predicted) FILTER (WHERE s.score IS NOT NULL AND s.predicted > 0), 0))::numeric, 3)
         AS actual_to_predicted,
       round(least(greatest((4 + coalesce(sum(s.score), 0)) / (4 + count(s.score)), 0.5), 1.1)::numeric, 3)
         AS confidence_factor
  FROM (SELECT DISTINCT p.kind FROM @extschema@._automation() p) k
  LEFT JOIN scored s ON s.kind = k.kind
 GROUP BY k.kind;
COMMENT ON VIEW @extschema@.prediction_accuracy IS
  'Per kind of change: verdicts, predicted against actual saving, and the factor applied to the confidence of new recommendations';

-- The confidence factor of a kind (1 for a kind with no record).
CREATE FUNCTION @extschema@._confidence_factor(kind text)
RETURNS double precision
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $f$
  SELECT coalesce((SELECT p.confidence_factor::double precision FROM @extschema@.prediction_accuracy p
                    WHERE p.kind = _confidence_factor.kind), 1)
$f$;
