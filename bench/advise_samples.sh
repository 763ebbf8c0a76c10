#!/usr/bin/env bash
# The index advisor on TPC-H at scale 0.1 (primary keys only), generic plans
# against parameter samples: the 22 queries run once with every statement's
# constants sampled (pipeopt.param_sample_rate = 1) and captured; then
# pipeopt.advise_indexes(BUDGET) (40MB unless given) runs over the same
# workload twice: with pipeopt.param_samples_per_statement = 0 (every
# statement planned generically) and as set (each costed on its sample).
# Prints each run's planner calls and recommendations, and each statement's
# basis.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
BUDGET=${BUDGET:-40MB}

cluster_start samples "jit = off
pipeopt.sample_interval = 0"
tpch_captured 'SET pipeopt.param_sample_rate = 1;'
bpsql -d tpch -c "SELECT count(*) || ' statements sampled' FROM pipeopt.param_samples"

for run in generic samples; do
  echo
  echo "== pipeopt.advise_indexes('$BUDGET'), $run =="
  as_pg psql -X -q -d tpch -v ON_ERROR_STOP=1 <<SQL
\pset footer off
$([ "$run" = generic ] && echo 'SET pipeopt.param_samples_per_statement = 0;')
SELECT statements, statements_planned, recommendations, planner_calls,
       round((workload_cost_after / workload_cost_before)::numeric, 4) AS estimated_cost_ratio
  FROM pipeopt.advise_indexes('$BUDGET');
SELECT round(extract(epoch FROM finished_at - started_at)::numeric, 2) AS seconds
  FROM pipeopt.advisor_runs ORDER BY run_id DESC LIMIT 1;
SELECT basis, count(*) AS statements, sum(samples) AS samples, sum(samples_unusable) AS unusable,
       string_agg(DISTINCT sample_error, '; ') AS errors
  FROM pipeopt.advisor_statements GROUP BY basis ORDER BY basis;
SELECT regexp_replace(statement, '_pipeopt_[0-9]+', '') AS statement,
       pg_size_pretty(estimated_bytes) AS size, statements, confidence
  FROM pipeopt.index_advice WHERE kind = 'create_index' AND status = 'proposed' ORDER BY statement;
SQL
done
