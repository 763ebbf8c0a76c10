#!/usr/bin/env bash
# Run every pipeopt benchmark (see bench/README.md). Called by "make bench"
# after building and installing; each benchmark starts and removes its own
# throw-away cluster. Takes about 20 minutes on 2 cores. Prints measurements
# only: no threshold makes it fail; a benchmark that breaks does.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

echo "pipeopt benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs," \
  "$(awk '/MemTotal/ { printf "%.0f GB RAM", $2 / 1048576 }' /proc/meminfo)," \
  "$("${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" --version)"

# Other work on the machine skews both benchmarks, pgbench most: show it.
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

failed=()
for b in capture_tick lint_throughput pgbench_overhead param_sample_overhead whatif_accuracy \
  index_advice_runtime advise_samples index_selection brin partition; do
  echo
  echo "=== $b ==="
  # The reference implementation of Extend is fetched outside this
  # repository (bench/README.md); without it, say so and go on.
  if [ "$b" = index_selection ] &&
     [ ! -f "${EXTEND_DIR:-/tmp/index_selection_evaluation}/selection/algorithms/extend_algorithm.py" ]; then
    echo "skipped: no copy of hyrise/index_selection_evaluation in" \
      "${EXTEND_DIR:-/tmp/index_selection_evaluation} (set EXTEND_DIR; see bench/README.md)"
    continue
  fi
  # A broken benchmark must not hide the other one's numbers.
  "$here/$b.sh" || failed+=("$b")
done

echo
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "bench: failed: ${failed[*]}" >&2
  exit 1
fi
