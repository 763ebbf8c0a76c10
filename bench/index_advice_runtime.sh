#!/usr/bin/env bash
# The index advisor's recommendations, measured on TPC-H at scale 0.1
# (primary keys only): the 22 queries run once so that pg_stat_statements
# sees them, pipeopt captures them and pipeopt.advise_indexes(BUDGET) (40MB
# unless given) recommends; a copy of the database gets the recommended
# indexes built. Then the 22 queries run ROUNDS times (3 unless given: as
# is, they take about 2 minutes a round) in
# both databases, alternating which goes first; each round's total and
# each query's time are kept. Prints medians and the ratio indexed / as is.
# SAMPLE_RATE (0 unless given) is pipeopt.param_sample_rate while the
# workload runs: 1 gives every query a parameter sample to be costed on,
# 0 leaves them all to generic plans.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
BUDGET=${BUDGET:-40MB}
ROUNDS=${ROUNDS:-3}
SAMPLE_RATE=${SAMPLE_RATE:-0}

cluster_start advice "jit = off
pipeopt.sample_interval = 0"
tpch_captured "SET pipeopt.param_sample_rate = $SAMPLE_RATE;"
# Runs a statement to the end, its rows discarded; returns milliseconds.
bpsql -d tpch <<'SQL'
CREATE FUNCTION bench.run(sql text) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp(); r record;
BEGIN
  FOR r IN EXECUTE sql LOOP END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
SQL

echo "== pipeopt.advise_indexes('$BUDGET') =="
as_pg psql -X -q -d tpch -v ON_ERROR_STOP=1 <<SQL
\pset footer off
SELECT statements, statements_planned, recommendations, planner_calls,
       round((workload_cost_after / workload_cost_before)::numeric, 4) AS estimated_cost_ratio
  FROM pipeopt.advise_indexes('$BUDGET');
SELECT statement, pg_size_pretty(estimated_bytes) AS size, saving_ms_per_hour, statements
  FROM pipeopt.index_advice WHERE kind = 'create_index' AND status = 'proposed' ORDER BY id;
SQL
bpsql -d postgres -c 'CREATE DATABASE tpch_idx TEMPLATE tpch'
bpsql -d tpch_idx -o /dev/null <<'SQL'
SELECT replace(statement, ' CONCURRENTLY', '') FROM pipeopt.index_advice
 WHERE kind = 'create_index' AND status = 'proposed' ORDER BY id \gexec
SQL
bpsql -d tpch_idx -c 'ANALYZE' && bpsql -d tpch -c 'ANALYZE'
echo "built: $(bpsql -d tpch_idx -c "SELECT pg_size_pretty(sum(pg_relation_size(indexrelid))) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE '%pipeopt%'")"

echo "== the 22 queries, $ROUNDS rounds, alternating =="
out=$BENCH_DIR/times
: >"$out"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) -eq 1 ]; then order="tpch tpch_idx"; else order="tpch_idx tpch"; fi
  for db in $order; do
    bpsql -d "$db" -F ' ' -c "SELECT '$db', $r, n, bench.run(sql) FROM bench.q ORDER BY n" >>"$out"
  done
done
chown postgres: "$out" 2>/dev/null || true
bpsql -d tpch <<SQL
CREATE TEMP TABLE t (db text, round int, n int, ms float8);
\copy t FROM '$out' WITH (DELIMITER ' ')
\pset footer off
\pset format aligned
\pset tuples_only off
SELECT n AS query,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE db = 'tpch')::numeric, 1) AS as_is_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE db = 'tpch_idx')::numeric, 1) AS indexed_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE db = 'tpch_idx')
            / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE db = 'tpch'))::numeric, 3) AS ratio
  FROM t GROUP BY n ORDER BY n;
WITH totals AS (SELECT db, round, sum(ms) AS ms FROM t GROUP BY db, round)
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE db = 'tpch')::numeric) AS as_is_total_ms,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE db = 'tpch_idx')::numeric) AS indexed_total_ms,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE db = 'tpch_idx')
            / percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE db = 'tpch'))::numeric, 3) AS ratio,
       count(*) / 2 AS rounds
  FROM totals;
SQL
