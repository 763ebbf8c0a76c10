#!/usr/bin/env bash
# pgbench throughput with pipeopt sampling every second, against
# pg_stat_statements alone.
#
# One server, one configuration: pg_stat_statements and pipeopt preloaded,
# the extension created in the benchmark database. The two sides differ only
# in pipeopt.sample_interval, switched by ALTER SYSTEM + pg_reload_conf():
#   pgss     sample_interval = 0: pipeopt's worker idles, pg_stat_statements
#            tracks every statement (the baseline)
#   pipeopt  sample_interval = 1: a capture tick every second
# Runs come in PAIRS pairs, the order inside a pair alternating (pgss first,
# then pipeopt first) so that a drift of the machine does not favour one
# side. Each pair's ratio is tps(pipeopt) / tps(pgss); the median ratio is
# the result. The worker's own CPU time (from /proc/PID/schedstat) is
# reported beside it: the direct cost of sampling, which stays readable when
# the machine's tps noise is larger than the 1% being looked for. The
# issue's target is a ratio of at least 0.99; nothing is asserted.
#
# Environment: PAIRS (default 7), RUN_SECONDS (default 12), SCALE (default
# 10), CLIENTS (default 4), THREADS (default 2), PGBENCH_ARGS (default -S,
# select-only; set it to "" for the TPC-B-like default script).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

PAIRS=${PAIRS:-7}
RUN_SECONDS=${RUN_SECONDS:-12}
SCALE=${SCALE:-10}
CLIENTS=${CLIENTS:-4}
THREADS=${THREADS:-2}
PGBENCH_ARGS=${PGBENCH_ARGS--S}

pgbench_cluster pgbench

# set_sampling SECONDS: the worker re-reads its configuration on SIGHUP and
# ticks at once when sampling is turned on. The pause lets that first tick
# (and the reload) finish before the run starts.
set_sampling() {
  bpsql -d bench -c "ALTER SYSTEM SET pipeopt.sample_interval = $1" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 2
}

worker_ticks() {
  bpsql -d bench -c "SELECT coalesce(sum(ticks), 0) FROM pipeopt.workers() WHERE datname = current_database()"
}

# CPU time (ns) the worker process has used: the direct cost of sampling,
# which on a noisy machine is a steadier measure than a tps difference.
worker_cpu_ns() {
  local pid
  pid=$(bpsql -d bench -c "SELECT pid FROM pipeopt.workers() WHERE datname = current_database() AND pid IS NOT NULL LIMIT 1")
  if [ -n "$pid" ] && [ -r "/proc/$pid/schedstat" ]; then
    cut -d' ' -f1 "/proc/$pid/schedstat"
  else
    echo 0
  fi
}

# one_side MODE: switch, run, print "tps ticks worker_cpu_ns".
one_side() {
  local ticks0 cpu0 tps
  if [ "$1" = pipeopt ]; then set_sampling 1; else set_sampling 0; fi
  ticks0=$(worker_ticks)
  cpu0=$(worker_cpu_ns)
  tps=$(run_pgbench)
  echo "$tps $(($(worker_ticks) - ticks0)) $(($(worker_cpu_ns) - cpu0))"
}

# Warm-up (not counted): caches, the worker's first (baseline) capture.
set_sampling 1
run_pgbench >/dev/null
set_sampling 0

echo "pgbench_overhead: $PAIRS pairs of ${RUN_SECONDS}s runs, pgbench -n $PGBENCH_ARGS -c $CLIENTS -j $THREADS, scale $SCALE, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
printf '%-5s %-14s %12s %12s %8s %7s %12s\n' pair order tps_pgss tps_pipeopt ratio ticks worker_cpu%
ratios=$BENCH_DIR/ratios
: >"$ratios"
: >"$BENCH_DIR/tps_pgss"
: >"$BENCH_DIR/tps_pipeopt"
: >"$BENCH_DIR/cpu_pct"
first_capture=$(bpsql -d bench -c "SELECT coalesce(max(capture_id), 0) FROM pipeopt.captures")
for ((p = 1; p <= PAIRS; p++)); do
  if ((p % 2)); then order="pgss,pipeopt"; else order="pipeopt,pgss"; fi
  for side in ${order/,/ }; do
    read -r tps ticks cpu < <(one_side "$side")
    if [ "$side" = pipeopt ]; then tps_on=$tps; ticks_on=$ticks; cpu_on=$cpu; else tps_off=$tps; fi
  done
  # the worker's CPU time during the pipeopt run, as a share of all CPUs
  cpu_pct=$(awk -v c="$cpu_on" -v t="$RUN_SECONDS" -v n="$(nproc)" 'BEGIN { printf "%.3f", 100 * c / (t * 1e9 * n) }')
  echo "$cpu_pct" >>"$BENCH_DIR/cpu_pct"
  ratio=$(awk -v a="$tps_on" -v b="$tps_off" 'BEGIN { printf "%.4f", a / b }')
  echo "$ratio" >>"$ratios"
  echo "$tps_off" >>"$BENCH_DIR/tps_pgss"
  echo "$tps_on" >>"$BENCH_DIR/tps_pipeopt"
  printf '%-5s %-14s %12.1f %12.1f %8s %7s %12s\n' "$p" "$order" "$tps_off" "$tps_on" "$ratio" "$ticks_on" "$cpu_pct"
done
set_sampling 0

read -r rmed rmin rmax < <(stats %.4f <"$ratios")
read -r off_med _ _ < <(stats %.1f <"$BENCH_DIR/tps_pgss")
read -r on_med _ _ < <(stats %.1f <"$BENCH_DIR/tps_pipeopt")
# the worker's own ticks during the measured runs, as it recorded them
read -r tick_ms tick_n < <(bpsql -d bench -F ' ' -c "
  SELECT coalesce(round((percentile_cont(0.5) WITHIN GROUP
                         (ORDER BY extract(epoch FROM finished_at - captured_at) * 1000))::numeric, 2), 0),
         count(*)
    FROM pipeopt.captures WHERE capture_id > $first_capture")
echo
echo "median ratio pipeopt/pgss: $rmed (min $rmin, max $rmax); median tps: pgss $off_med, pipeopt $on_med"
read -r cpu_med _ _ < <(stats %.3f <"$BENCH_DIR/cpu_pct")
echo "pipeopt worker: $tick_n ticks while sampling, median $tick_ms ms each (in capture());"
echo "  median CPU use $cpu_med% of the $(nproc) CPUs during a run: a CPU-bound workload loses about that much,"
echo "  i.e. expected ratio ~ $(awk -v c="$cpu_med" 'BEGIN { printf "%.4f", 1 - c / 100 }')"
echo "(target from the issue: median ratio >= 0.99; run-to-run tps noise on a shared VM can exceed 1%)"
