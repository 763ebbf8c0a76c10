#!/usr/bin/env bash
# BRIN against B-tree on an append-only events table whose created_at
# follows the insertion order (what the storage advisor recommends BRIN
# for, docs/storage.md):
#
# 1. Size: each index as the what-if planner estimates it
#    (pipeopt.hypothetical_index) and as built, and how long it took to build.
# 2. The planner's cost of a time-window query with each hypothetical index
#    (pipeopt.whatif, a custom plan for the window's values), as the advisor
#    sees it.
# 3. Query time: the same time windows (QUERIES random windows of WINDOWS
#    seconds each, one row per second) with only the B-tree, only the
#    BRIN index, and neither (a sequential scan). Both indexes are built;
#    a variant runs in a transaction that drops the other index and rolls
#    back. ROUNDS rounds of one run per variant, the order rotating from
#    round to round so that a drift of the machine favours none; per
#    round the ratios BRIN/B-tree and seq/BRIN, and the medians. Parallel
#    query off: one backend's time. Nothing is asserted.
#
# Environment: ROWS (default 2000000), WINDOWS (seconds per window, default
# "600 86400": 10 minutes and a day), QUERIES (per run, default 50),
# ROUNDS (default 7).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

ROWS=${ROWS:-2000000}
WINDOWS=${WINDOWS:-600 86400}
QUERIES=${QUERIES:-50}
ROUNDS=${ROUNDS:-7}

cluster_start brin "
shared_buffers = 512MB
max_parallel_workers_per_gather = 0
pipeopt.sample_interval = 0
"
as_pg createdb bench
bpsql -d bench <<SQL
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION pipeopt;
CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, device int NOT NULL, payload text);
INSERT INTO events
SELECT g, timestamptz '2025-01-01 00:00+00' + g * interval '1 second', g % 1000, repeat('p', 40)
  FROM generate_series(1, $ROWS) g;
VACUUM ANALYZE events;
SQL

echo "brin: $ROWS rows ($(bpsql -d bench -c "SELECT pg_size_pretty(pg_table_size('events'))") heap), created_at in insertion order (correlation $(bpsql -d bench -c "SELECT round(correlation::numeric, 3) FROM pg_stats WHERE tablename = 'events' AND attname = 'created_at'")), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"

# --- 1. sizes: estimated, then built ----------------------------------------
est_btree=$(bpsql -d bench -c "SELECT estimated_bytes FROM pipeopt.hypothetical_index('CREATE INDEX ON events (created_at)')")
est_brin=$(bpsql -d bench -c "SELECT estimated_bytes FROM pipeopt.hypothetical_index('CREATE INDEX ON events USING brin (created_at)')")

# --- 2. the planner's costs with each hypothetical index --------------------
echo
echo "-- what-if planner: cost of one window query in the middle of the table (custom plan), no index built yet"
printf '%-10s %12s %12s %12s %12s\n' window seq btree brin brin/btree
for w in $WINDOWS; do
  bpsql -d bench -F ' ' <<SQL | awk -v w="$w" '{ printf "%-10s %12.1f %12.1f %12.1f %12.2f\n", w "s", $1, $2, $3, $3 / $2 }'
SELECT b.cost_before, b.cost_after, r.cost_after
  FROM pipeopt.whatif('SELECT id, payload FROM events WHERE created_at >= \$1 AND created_at < \$2',
                      ARRAY['CREATE INDEX ON events (created_at)'], '{}',
                      ARRAY[(timestamptz '2025-01-01 00:00+00' + $ROWS / 2 * interval '1 second')::text,
                            (timestamptz '2025-01-01 00:00+00' + ($ROWS / 2 + $w) * interval '1 second')::text]) b,
       pipeopt.whatif('SELECT id, payload FROM events WHERE created_at >= \$1 AND created_at < \$2',
                      ARRAY['CREATE INDEX ON events USING brin (created_at)'], '{}',
                      ARRAY[(timestamptz '2025-01-01 00:00+00' + $ROWS / 2 * interval '1 second')::text,
                            (timestamptz '2025-01-01 00:00+00' + ($ROWS / 2 + $w) * interval '1 second')::text]) r
SQL
done

t0=$(date +%s.%N)
bpsql -d bench -c "CREATE INDEX events_btree ON events (created_at)"
t1=$(date +%s.%N)
bpsql -d bench -c "CREATE INDEX events_brin ON events USING brin (created_at)"
t2=$(date +%s.%N)
bpsql -d bench -c "ANALYZE events"
read -r btree_bytes brin_bytes < <(bpsql -d bench -F ' ' -c \
  "SELECT pg_relation_size('events_btree'), pg_relation_size('events_brin')")
echo
echo "-- size (bytes)"
printf '%-8s %14s %14s %10s\n' index estimated built build_s
printf '%-8s %14s %14s %10.2f\n' btree "$est_btree" "$btree_bytes" "$(echo "$t1 - $t0" | bc)"
printf '%-8s %14s %14s %10.2f\n' brin "$est_brin" "$brin_bytes" "$(echo "$t2 - $t1" | bc)"
echo "btree/brin size ratio: $(awk -v a="$btree_bytes" -v b="$brin_bytes" 'BEGIN { printf "%.0f", a / b }')"

# --- 3. query time, interleaved ----------------------------------------------
# run(variant, window): ms per query over QUERIES windows (the same windows
# for every variant: a fixed seed), the other index dropped in a
# transaction that is rolled back.
bpsql -d bench <<'SQL'
CREATE FUNCTION run(width integer, n integer) RETURNS double precision
LANGUAGE plpgsql AS $$
DECLARE
  t0 timestamptz;
  total double precision := 0;
  lo timestamptz;
  x bigint;
  span double precision := extract(epoch FROM (SELECT max(created_at) - min(created_at) FROM events)) - width;
BEGIN
  PERFORM setseed(0.42);
  FOR i IN 1..n LOOP
    lo := timestamptz '2025-01-01 00:00+00' + random() * span * interval '1 second';
    t0 := clock_timestamp();
    SELECT count(payload) INTO x FROM events WHERE created_at >= lo AND created_at < lo + width * interval '1 second';
    total := total + extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN total / n;
END $$;
SQL
variant_ms() {
  local v=$1 w=$2 drop
  case $v in
    btree) drop="DROP INDEX events_brin;" ;;
    brin) drop="DROP INDEX events_btree;" ;;
    seq) drop="DROP INDEX events_brin; DROP INDEX events_btree;" ;;
  esac
  bpsql -d bench -c "BEGIN; $drop SELECT run($w, $QUERIES); ROLLBACK;" | grep -E '^[0-9.]+$'
}

variants=(btree brin seq)
for w in $WINDOWS; do
  # warm-up, not counted
  for v in "${variants[@]}"; do variant_ms "$v" "$w" >/dev/null; done
  echo
  echo "-- windows of ${w}s (about $w rows), $QUERIES queries per run, ms per query"
  printf '%-6s %-16s %10s %10s %10s %11s %9s\n' round order btree brin seq brin/btree seq/brin
  : >"$BENCH_DIR/r_brin_btree"
  : >"$BENCH_DIR/r_seq_brin"
  for v in "${variants[@]}"; do : >"$BENCH_DIR/ms_$v"; done
  for ((round = 1; round <= ROUNDS; round++)); do
    order=()
    for ((k = 0; k < 3; k++)); do order+=("${variants[$(((round - 1 + k) % 3))]}"); done
    declare -A ms=()
    for v in "${order[@]}"; do
      ms[$v]=$(variant_ms "$v" "$w")
      echo "${ms[$v]}" >>"$BENCH_DIR/ms_$v"
    done
    rb=$(awk -v a="${ms[brin]}" -v b="${ms[btree]}" 'BEGIN { printf "%.2f", a / b }')
    rs=$(awk -v a="${ms[seq]}" -v b="${ms[brin]}" 'BEGIN { printf "%.1f", a / b }')
    echo "$rb" >>"$BENCH_DIR/r_brin_btree"
    echo "$rs" >>"$BENCH_DIR/r_seq_brin"
    printf '%-6s %-16s %10.3f %10.3f %10.3f %11s %9s\n' "$round" "$(IFS=,; echo "${order[*]}")" \
      "${ms[btree]}" "${ms[brin]}" "${ms[seq]}" "$rb" "$rs"
  done
  read -r mb _ _ < <(stats %.3f <"$BENCH_DIR/ms_btree")
  read -r mr _ _ < <(stats %.3f <"$BENCH_DIR/ms_brin")
  read -r ms_ _ _ < <(stats %.3f <"$BENCH_DIR/ms_seq")
  read -r q qmin qmax < <(stats %.2f <"$BENCH_DIR/r_brin_btree")
  read -r s smin smax < <(stats %.1f <"$BENCH_DIR/r_seq_brin")
  echo "median ms per query: btree $mb, brin $mr, seq $ms_"
  echo "median ratio brin/btree: $q (min $qmin, max $qmax); seq/brin: $s (min $smin, max $smax)"
done
