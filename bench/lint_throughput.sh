#!/usr/bin/env bash
# Statements linted per second, inside a backend (pipeopt.lint()) and by the
# offline pipeopt-lint, on a mix of the 22 TPC-H queries (long analytic
# statements) and short OLTP/ETL statements, raw and normalized. Side by
# side, in the same runs: pipeopt.fingerprint() of the same texts (what
# capture does per new statement: a libpg_query parse to classify, then
# pg_query_fingerprint(), which parses again), as a yardstick.
# Interleaved repetitions, medians. Target from the issue: at least 50,000
# statements per second for parse-only rules.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

REPS=${REPS:-7}
ROUNDS=${ROUNDS:-1000}		# times the mix is linted per measurement
tpch=${TPCH_QUERIES:-$here/../../shared/bench/tpch/queries}

cluster_start lint "pipeopt.sample_interval = 0"
bpsql -d postgres -c 'CREATE EXTENSION pipeopt CASCADE' >/dev/null 2>&1

# The mix: TPC-H queries (when the shared data is there) and short statements.
bpsql -d postgres <<'SQL'
CREATE TABLE mix (q text);
INSERT INTO mix VALUES
  ('SELECT id, status, total FROM sales WHERE customer_id = $1 ORDER BY ordered_at DESC LIMIT 10'),
  ('SELECT * FROM clients WHERE id = $1'),
  ('INSERT INTO sales (id, customer_id, status, total) VALUES ($1, $2, $3, $4)'),
  ('INSERT INTO staging SELECT * FROM unnest($1::int[], $2::text[])'),
  ('UPDATE sales SET status = $1 WHERE id = $2'),
  ('DELETE FROM sessions WHERE expires_at < now()'),
  ('SELECT c.country, count(*), sum(o.total) FROM sales o JOIN clients c ON c.id = o.customer_id GROUP BY c.country'),
  ('SELECT id FROM clients WHERE id NOT IN (SELECT customer_id FROM sales)'),
  ('SELECT id FROM products WHERE name ILIKE ''%phone%'' ORDER BY random() LIMIT 5'),
  ('INSERT INTO daily (day, n) SELECT date_trunc(''day'', ordered_at), count(*) FROM sales GROUP BY 1 ON CONFLICT (day) DO UPDATE SET n = excluded.n'),
  ('SELECT o.id, (SELECT count(*) FROM items i WHERE i.order_id = o.id) FROM sales o WHERE o.ordered_at > $1'),
  ('WITH recent AS (SELECT * FROM sales WHERE ordered_at > now() - interval ''1 day'') SELECT status, count(*) FROM recent GROUP BY status');
SQL
ntpch=0
if [ -d "$tpch" ]; then
  for f in "$tpch"/q*.sql; do
    # psql expands :'q' only in its input, not in -c
    echo "INSERT INTO mix VALUES (:'q')" |
      as_pg psql -X -q -v ON_ERROR_STOP=1 -d postgres -v q="$(cat "$f")"
    ntpch=$((ntpch + 1))
  done
fi
# The tables the statements name, with indexes: the catalog rules analyze
# every statement with a WHERE, ON, DISTINCT or UNION against them.
bpsql -d postgres <<'SQL' >/dev/null
CREATE TABLE sales (id bigint PRIMARY KEY, customer_id bigint, status text, total numeric, ordered_at timestamptz);
CREATE INDEX ON sales (customer_id);
CREATE INDEX ON sales (ordered_at);
CREATE TABLE clients (id bigint PRIMARY KEY, country text, name text);
CREATE TABLE products (id bigint PRIMARY KEY, name text);
CREATE TABLE items (id bigint PRIMARY KEY, order_id bigint);
CREATE INDEX ON items (order_id);
CREATE TABLE staging (a int, b text);
CREATE TABLE sessions (id bigint PRIMARY KEY, expires_at timestamptz);
CREATE TABLE daily (day timestamptz PRIMARY KEY, n bigint);
SQL
if [ -f "$tpch/../schema.sql" ]; then
  as_pg psql -X -q -d postgres -f "$tpch/../schema.sql" >/dev/null
  as_pg psql -X -q -d postgres -f "$tpch/../primary-keys.sql" >/dev/null
fi
nmix=$(bpsql -d postgres -c 'SELECT count(*) FROM mix')
bytes=$(bpsql -d postgres -c 'SELECT sum(octet_length(q)) FROM mix')
echo "lint throughput: $nmix statements in the mix ($ntpch TPC-H queries), $bytes bytes; $ROUNDS rounds per measurement, $REPS repetitions, $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"

# One measurement: statements per second of FUNC over the mix, server-side clock.
measure() {
  bpsql -d postgres <<SQL
SET enable_memoize = off;	-- the same text must be linted every time, not cached
SET jit = off;			-- else ~125 ms of JIT compiling the benchmark query itself is counted
SELECT set_config('bench.t0', clock_timestamp()::text, false);
-- m depends on g: without it the planner evaluates FUNC once per mix row and
-- materializes the result for every round. x.*: evaluated, not optimized away.
SELECT count(x.*) FROM mix m0, generate_series(1, $ROUNDS) g,
       LATERAL (SELECT m0.q || CASE WHEN g < 0 THEN ' ' ELSE '' END AS q) m, LATERAL ($1) x;
SELECT round($nmix * $ROUNDS / extract(epoch FROM clock_timestamp() - current_setting('bench.t0')::timestamptz));
SQL
}

# lint: parse-only rules (as_role '-': nobody to analyze as, so no catalog
# rule and no parse analysis); lint+catalog: every rule, with parse analysis
# of each statement that has a WHERE, ON, DISTINCT or UNION; fingerprint:
# the yardstick. Interleaved.
: >"$BENCH_DIR/lint.txt"
: >"$BENCH_DIR/cat.txt"
: >"$BENCH_DIR/fp.txt"
for _ in $(seq "$REPS"); do
  measure "SELECT l.rule FROM pipeopt.lint(m.q, NULL, '-') l" | tail -1 >>"$BENCH_DIR/lint.txt"
  measure 'SELECT l.rule FROM pipeopt.lint(m.q) l' | tail -1 >>"$BENCH_DIR/cat.txt"
  measure 'SELECT pipeopt.fingerprint(m.q)' | tail -1 >>"$BENCH_DIR/fp.txt"
done
read -r lint_med lint_min lint_max < <(stats %.0f <"$BENCH_DIR/lint.txt")
read -r cat_med cat_min cat_max < <(stats %.0f <"$BENCH_DIR/cat.txt")
read -r fp_med fp_min fp_max < <(stats %.0f <"$BENCH_DIR/fp.txt")
printf '%-34s %12s %12s %12s\n' "in a backend (statements/s)" median min max
printf '%-34s %12s %12s %12s\n' "pipeopt.lint(), parse-only rules" "$lint_med" "$lint_min" "$lint_max"
printf '%-34s %12s %12s %12s\n' "pipeopt.lint(), all rules" "$cat_med" "$cat_min" "$cat_max"
printf '%-34s %12s %12s %12s\n' "pipeopt.fingerprint() (yardstick)" "$fp_med" "$fp_min" "$fp_max"
awk -v a="$lint_med" -v b="$fp_med" 'BEGIN { printf "ratio lint (parse-only) / fingerprint: %.2f\n", a / b }'
awk -v a="$cat_med" -v b="$lint_med" 'BEGIN { printf "ratio lint (all rules) / lint (parse-only): %.2f\n", a / b }'

# The offline command on the same mix, as one file.
bpsql -d postgres -c "SELECT string_agg(q, E';\n') || E';\n' FROM mix, generate_series(1, $ROUNDS)" >"$BENCH_DIR/mix.sql"
chmod a+r "$BENCH_DIR/mix.sql"
: >"$BENCH_DIR/cli.txt"
for _ in $(seq "$REPS"); do
  t0=$(date +%s%N)
  "$PG_BIN/pipeopt-lint" --fail-on error "$BENCH_DIR/mix.sql" >/dev/null || true
  t1=$(date +%s%N)
  awk -v n=$((nmix * ROUNDS)) -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f\n", n / (ns / 1e9) }' >>"$BENCH_DIR/cli.txt"
done
read -r cli_med cli_min cli_max < <(stats %.0f <"$BENCH_DIR/cli.txt")
printf '%-34s %12s %12s %12s\n' "pipeopt-lint (statements/s)" "$cli_med" "$cli_min" "$cli_max"
echo "(target from the issue: at least 50,000 statements/s for parse-only rules)"
