#!/usr/bin/env bash
# Run every test of pipeopt against real PostgreSQL 15 servers:
#   1. pg_regress files sql/*.sql (expected output in expected/) against a
#      temporary instance that preloads pg_stat_statements and pipeopt;
#   2. isolation specs test/isolation/specs/*.spec (concurrent sessions);
#   3. TAP tests test/t/*.pl (workers, restarts, crashes, packaging).
# pipeopt must be installed already (make install). PostgreSQL refuses to run
# as root, so as root the tests run as the postgres user, in a scratch copy
# of the test inputs that this user owns. On failure the diffs are printed.
# The last line is "pipeopt: N passed, M failed".
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
pgxs_src=$(cd "$(dirname "$("$PG_CONFIG" --pgxs)")/.." && pwd)
pg_regress=$pgxs_src/test/regress/pg_regress

work=$(mktemp -d /tmp/pipeopt-test.XXXXXX)
cp -r "$top/sql" "$top/expected" "$top/test" "$top/META.json" "$top/pipeopt.control" "$work/"
mkdir -p "$work/src" && cp -r "$top/src/sql" "$work/src/"
mkdir -p "$work/out" "$work/tap"

as_tester() {
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$work"
    runuser -u postgres -- env PATH="$bindir:$PATH" "$@"
  else
    env PATH="$bindir:$PATH" "$@"
  fi
}

passed=0
failed=0

# --- pg_regress -------------------------------------------------------
tests=$(cd "$work/sql" && ls ./*.sql | sed 's#^\./##; s#\.sql$##' | sort)
as_tester "$pg_regress" \
  --temp-instance="$work/instance" \
  --temp-config="$work/test/regress.conf" \
  --inputdir="$work" --outputdir="$work/out" \
  --bindir="$bindir" --dbname=contrib_regression \
  $tests | tee "$work/regress.log"
regress_ok=$(grep -cE '\.\.\. ok' "$work/regress.log" || true)
regress_bad=$(grep -cE '\.\.\. FAILED' "$work/regress.log" || true)
passed=$((passed + regress_ok))
failed=$((failed + regress_bad))
if [ -s "$work/out/regression.diffs" ]; then
  echo "=== regression.diffs ==="
  cat "$work/out/regression.diffs"
fi
if [ "$regress_ok" -eq 0 ] && [ "$regress_bad" -eq 0 ]; then
  echo "pg_regress ran no test" >&2
  failed=$((failed + 1))
fi

# --- isolation ------------------------------------------------------------
# Specs in test/isolation/specs: concurrent sessions racing over the
# recommendation lifecycle (approve, reject, apply, rollback, verify).
specs=$(cd "$work/test/isolation/specs" && ls ./*.spec | sed 's#^\./##; s#\.spec$##' | sort)
as_tester "$pgxs_src/test/isolation/pg_isolation_regress" \
  --temp-instance="$work/iso-instance" \
  --temp-config="$work/test/regress.conf" \
  --inputdir="$work/test/isolation" --outputdir="$work/iso-out" \
  --bindir="$bindir" \
  $specs | tee "$work/isolation.log"
iso_ok=$(grep -cE '\.\.\. ok' "$work/isolation.log" || true)
iso_bad=$(grep -cE '\.\.\. FAILED' "$work/isolation.log" || true)
passed=$((passed + iso_ok))
failed=$((failed + iso_bad))
if [ -s "$work/iso-out/regression.diffs" ]; then
  echo "=== isolation regression.diffs ==="
  cat "$work/iso-out/regression.diffs"
fi
if [ "$iso_ok" -eq 0 ] && [ "$iso_bad" -eq 0 ]; then
  echo "pg_isolation_regress ran no test" >&2
  failed=$((failed + 1))
fi

# --- TAP ----------------------------------------------------------------
for t in "$work"/test/t/*.pl; do
  [ -e "$t" ] || continue
  name=$(basename "$t" .pl)
  mkdir -p "$work/tap/$name"
  if (cd "$work" && as_tester env TESTDIR="$work/tap/$name" PG_REGRESS="$pg_regress" \
        PIPEOPT_SRC="$work" prove -v -I "$pgxs_src/test/perl" "$t"); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    for log in "$work/tap/$name"/tmp_check/log/*; do
      [ -f "$log" ] || continue
      echo "=== $log (last 60 lines) ==="
      tail -n 60 "$log"
    done
  fi
done

# --- fuzzing -------------------------------------------------------------
# The rule engine and the bundle reader under libFuzzer, each for a bounded
# time (FUZZ_SECONDS), from its seed corpus; a crash, hang or sanitizer
# report fails the run.
fuzz() {
  local name=$1 corpus=$2
  if [ ! -x "$top/test/fuzz/$name" ]; then
    echo "fuzz: test/fuzz/$name was not built (make fuzz)" >&2
    failed=$((failed + 1))
    return
  fi
  mkdir -p "$work/fuzz/$name" && cp "$top/test/fuzz/$corpus"/* "$work/fuzz/$name/"
  if (cd "$work/fuzz" && ASAN_OPTIONS=detect_leaks=0 "$top/test/fuzz/$name" \
        -max_total_time="${FUZZ_SECONDS:-20}" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 "$name" >"$work/fuzz/$name.log" 2>&1); then
    echo "fuzz: $name, $(grep -o 'Done [0-9]* runs' "$work/fuzz/$name.log" | head -1) in ${FUZZ_SECONDS:-20} s ... ok"
    passed=$((passed + 1))
  else
    echo "fuzz: $name ... FAILED"
    tail -n 40 "$work/fuzz/$name.log"
    failed=$((failed + 1))
  fi
}
fuzz lint_fuzz corpus
fuzz bundle_fuzz bundle_corpus

echo "pipeopt: $passed passed, $failed failed"
if [ "$failed" -eq 0 ]; then
  rm -rf "$work"
else
  echo "test files and logs kept in $work"
  exit 1
fi
