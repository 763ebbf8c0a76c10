#!/usr/bin/env bash
# The cost of parameter sampling (pipeopt.param_sample_rate), two ways:
#
# 1. pgbench throughput at rates 0 (off), 0.01 (the default) and 1 (every
#    statement), side by side. One server, one configuration; the rate is
#    switched with ALTER SYSTEM + pg_reload_conf() between runs (each run's
#    connections start after the reload). Runs come in ROUNDS rounds of one
#    run per rate, the order rotating from round to round so that a drift
#    of the machine favours no rate. Per rate: median tps; per round: the
#    ratios tps(rate) / tps(0); the summary gives the median of those
#    ratios. Done for each pgbench protocol in MODES: "simple" parses every
#    statement (literal samples, post_parse_analyze_hook), "prepared" binds
#    parameters to a statement parsed once (bind samples, ExecutorStart_hook).
# 2. The cost of one sampled statement, which pgbench's run-to-run noise
#    cannot resolve at 1%: one backend runs STMTS dynamic statements in a
#    PL/pgSQL loop, with a literal ("SELECT 7 + <i>") or a bound parameter
#    ("SELECT $1::integer" USING i), at rate 0 and at rate 1, interleaved REPS
#    times, timed by the backend's own CPU time (/proc/self/schedstat); the
#    difference of the medians is what taking one sample costs, and 1% of it
#    what the default rate adds to each statement.
#
# The worker does not tick (sample_interval = 0): at rate 1 the ring is
# full and every sample overwrites the oldest, which costs the same as
# filling a free slot. Nothing is asserted.
#
# Environment: ROUNDS (default 5), RUN_SECONDS (10), SCALE (10), CLIENTS (4),
# THREADS (2), PGBENCH_ARGS (-S, select-only), MODES ("simple prepared"),
# STMTS (100000), REPS (5).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

ROUNDS=${ROUNDS:-5}
RUN_SECONDS=${RUN_SECONDS:-10}
SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-4}
THREADS=${THREADS:-2}
PGBENCH_ARGS=${PGBENCH_ARGS--S}
MODES=${MODES:-simple prepared}
STMTS=${STMTS:-100000}
REPS=${REPS:-5}
RATES=(0 0.01 1)

pgbench_cluster param_sample

set_rate() {
  bpsql -d bench -c "ALTER SYSTEM SET pipeopt.param_sample_rate = $1" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 1
}

sampled() {
  bpsql -d bench -c "SELECT sampled FROM pipeopt.param_sample_stats()"
}

echo "param_sample_overhead: $ROUNDS rounds of ${RUN_SECONDS}s runs per rate (${RATES[*]}), pgbench -n $PGBENCH_ARGS -c $CLIENTS -j $THREADS, scale $SCALE, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
for mode in $MODES; do
  # warm-up, not counted
  set_rate 0
  run_pgbench -M "$mode" >/dev/null
  echo
  echo "-- pgbench -M $mode"
  printf '%-6s %-16s %12s %12s %12s %9s %9s %10s\n' round order tps_0 tps_0.01 tps_1 r_0.01 r_1 samples_1
  for r in "${RATES[@]}"; do : >"$BENCH_DIR/tps_$r"; done
  : >"$BENCH_DIR/ratio_0.01"
  : >"$BENCH_DIR/ratio_1"
  for ((round = 1; round <= ROUNDS; round++)); do
    # rotate the order: 0 0.01 1, then 0.01 1 0, then 1 0 0.01, ...
    order=()
    for ((k = 0; k < 3; k++)); do order+=("${RATES[$(((round - 1 + k) % 3))]}"); done
    declare -A tps=()
    for r in "${order[@]}"; do
      set_rate "$r"
      s0=$(sampled)
      tps[$r]=$(run_pgbench -M "$mode")
      [ "$r" = 1 ] && n1=$(($(sampled) - s0))
      echo "${tps[$r]}" >>"$BENCH_DIR/tps_$r"
    done
    r001=$(awk -v a="${tps[0.01]}" -v b="${tps[0]}" 'BEGIN { printf "%.4f", a / b }')
    r1=$(awk -v a="${tps[1]}" -v b="${tps[0]}" 'BEGIN { printf "%.4f", a / b }')
    echo "$r001" >>"$BENCH_DIR/ratio_0.01"
    echo "$r1" >>"$BENCH_DIR/ratio_1"
    printf '%-6s %-16s %12.1f %12.1f %12.1f %9s %9s %10s\n' "$round" "$(IFS=,; echo "${order[*]}")" \
      "${tps[0]}" "${tps[0.01]}" "${tps[1]}" "$r001" "$r1" "$n1"
  done
  read -r m0 _ _ < <(stats %.1f <"$BENCH_DIR/tps_0")
  read -r m001 _ _ < <(stats %.1f <"$BENCH_DIR/tps_0.01")
  read -r m1 _ _ < <(stats %.1f <"$BENCH_DIR/tps_1")
  read -r q001 q001min q001max < <(stats %.4f <"$BENCH_DIR/ratio_0.01")
  read -r q1 q1min q1max < <(stats %.4f <"$BENCH_DIR/ratio_1")
  echo "median tps: rate 0 $m0, rate 0.01 $m001, rate 1 $m1"
  echo "median ratio to rate 0: 0.01 -> $q001 (min $q001min, max $q001max); 1 -> $q1 (min $q1min, max $q1max)"
done
set_rate 0

# --- 2. cost of one sampled statement, in one backend ---------------------
echo
echo "-- one backend, $STMTS dynamic statements per measurement, $REPS interleaved repetitions, CPU us per statement"
bpsql -d bench <<SQL
-- CPU time of this backend (ns): unlike wall time, not inflated when the
-- machine's other work takes the CPU away
CREATE FUNCTION pg_temp.cpu_ns() RETURNS bigint LANGUAGE sql AS
  \$\$SELECT split_part(pg_read_file('/proc/self/schedstat'), ' ', 1)::bigint\$\$;
CREATE FUNCTION pg_temp.run(bind boolean, n integer) RETURNS double precision
LANGUAGE plpgsql AS \$\$
DECLARE cpu0 bigint := pg_temp.cpu_ns(); x integer;
BEGIN
  FOR i IN 1..n LOOP
    IF bind THEN
      EXECUTE 'SELECT \$1::integer' INTO x USING i;
    ELSE
      EXECUTE 'SELECT 7 + ' || i INTO x;
    END IF;
  END LOOP;
  RETURN (pg_temp.cpu_ns() - cpu0) / 1e3 / n;   -- CPU us per statement
END \$\$;
CREATE TEMP TABLE m (path text, rate float8, us float8, samples bigint);
DO \$\$
DECLARE r integer; s0 bigint; us float8;
BEGIN
  PERFORM pg_temp.run(false, 2000), pg_temp.run(true, 2000);  -- warm-up
  FOR rep IN 1..$REPS LOOP
    FOREACH r IN ARRAY ARRAY[0, 1] LOOP
      PERFORM set_config('pipeopt.param_sample_rate', r::text, false);
      s0 := (SELECT sampled FROM pipeopt.param_sample_stats());
      us := pg_temp.run(false, $STMTS);
      INSERT INTO m SELECT 'literal', r, us, (SELECT sampled FROM pipeopt.param_sample_stats()) - s0;
      s0 := (SELECT sampled FROM pipeopt.param_sample_stats());
      us := pg_temp.run(true, $STMTS);
      INSERT INTO m SELECT 'bind', r, us, (SELECT sampled FROM pipeopt.param_sample_stats()) - s0;
    END LOOP;
  END LOOP;
  PERFORM set_config('pipeopt.param_sample_rate', '0', false);
END \$\$;
\pset format aligned
\pset tuples_only off
SELECT path,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE rate = 0)::numeric, 3) AS us_rate_0,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE rate = 1)::numeric, 3) AS us_rate_1,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE rate = 1)
            - percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE rate = 0))::numeric, 3) AS us_per_sample,
       round((100 * 0.01 * (percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE rate = 1)
            - percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE rate = 0))
            / percentile_cont(0.5) WITHIN GROUP (ORDER BY us) FILTER (WHERE rate = 0))::numeric, 3) AS pct_at_1pct,
       (sum(samples) FILTER (WHERE rate = 1) / $REPS)::bigint AS samples_per_run
  FROM m GROUP BY path ORDER BY path DESC;
SQL
echo "(us_per_sample: what one sampled statement costs more; pct_at_1pct: what rate 0.01 adds to"
echo " a statement of this loop, 1% of that over its time at rate 0; statements of a real workload"
echo " are longer, so the share is smaller)"
