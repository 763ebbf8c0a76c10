#!/usr/bin/env bash
# make demo: start a throw-away PostgreSQL 15 cluster that preloads
# pg_stat_statements and pipeopt, run a small shop workload (a naive
# row-by-row loader, then dashboards under pgbench), and print what
# pipeopt's worker captured. The cluster is removed on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
bindir=$("$PG_CONFIG" --bindir)
dir=$(mktemp -d /tmp/pipeopt-demo.XXXXXX)
port=$((20000 + RANDOM % 20000))

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
cp "$here"/demo/*.sql "$dir/"

cleanup() {
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

psql_demo() { as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -d shop "$@"; }
say() { printf '\n== %s\n' "$*"; }

say "Starting a throw-away cluster (port $port) with pg_stat_statements and pipeopt preloaded"
as_pg "$bindir/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = ''
port = $port
unix_socket_directories = '$dir'
shared_preload_libraries = 'pg_stat_statements,pipeopt'
pipeopt.sample_interval = 2
CONF
as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
as_pg "$bindir/createdb" -h "$dir" -p "$port" -U postgres shop
psql_demo -U postgres -c 'CREATE EXTENSION pipeopt CASCADE' 2>/dev/null
psql_demo -U postgres -f "$dir/schema.sql"

say "Loading the shop row by row, the way a naive ETL job does"
psql_demo -U postgres <<'SQL'
SELECT format('INSERT INTO shop.customers VALUES (%s, %L, %L, now() - interval ''1 day'' * %s)',
              g, 'customer ' || g, (ARRAY['DE','FR','US','JP','BR'])[1 + g % 5], g % 365)
  FROM generate_series(1, 2000) g \gexec
SELECT format('INSERT INTO shop.orders VALUES (%s, %s, %L, now() - interval ''1 hour'' * %s, %s)',
              g, 1 + g % 2000, (ARRAY['new','paid','shipped'])[1 + g % 3], g % 2000, (g % 500) + 0.99)
  FROM generate_series(1, 6000) g \gexec
INSERT INTO shop.order_items
SELECT o.id, l, 'SKU-' || (o.id * l) % 97, 1 + l % 3, 9.99 FROM shop.orders o, generate_series(1, 3) l;
ANALYZE;
SQL

say "Running the dashboards for 8 seconds (pgbench, 2 clients)"
as_pg "$bindir/pgbench" -n -h "$dir" -p "$port" -U postgres -c 2 -T 8 -f "$dir/dashboard.sql" shop 2>/dev/null \
  | grep -E 'transactions actually processed|tps'

say "Waiting for the worker's next two ticks"
n=$(psql_demo -U postgres -Atc 'SELECT count(*) FROM pipeopt.captures')
for _ in $(seq 1 30); do
  [ "$(psql_demo -U postgres -Atc 'SELECT count(*) FROM pipeopt.captures')" -ge $((n + 2)) ] && break
  sleep 1
done

say "The worker (pipeopt.workers())"
psql_demo -U postgres -c "SELECT datname, state, ticks, failures FROM pipeopt.workers() WHERE datname = 'shop'"

say "Captures so far (pipeopt.captures)"
psql_demo -U postgres -c "SELECT count(*) AS captures, count(*) FILTER (WHERE baseline) AS baselines,
  sum(statement_samples) AS statement_samples, sum(new_statements) AS statements_found,
  sum(table_samples) AS table_samples FROM pipeopt.captures"

say "Top statements over the whole history (pipeopt.top_statements)"
psql_demo -U postgres -c "SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 60) AS query, calls,
  round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
  round(share_of_total_time::numeric, 1) AS pct, round(rows_per_call::numeric, 1) AS rows_per_call,
  round(cache_hit_ratio::numeric, 3) AS hit
  FROM pipeopt.top_statements LIMIT 10"

say "The loader's INSERT: thousands of calls, one row each (one statement, however many literals)"
psql_demo -U postgres -c "SELECT fingerprint, left(query, 60) AS query, calls, rows
  FROM pipeopt.top_statements WHERE query LIKE 'INSERT INTO shop.%VALUES%' ORDER BY calls DESC"

say "History of the top statement (pipeopt.statement_history)"
psql_demo -U postgres -c "SELECT to_char(h.captured_at, 'HH24:MI:SS') AS captured, h.calls,
  round(h.total_exec_time::numeric, 1) AS total_ms, round(h.mean_exec_time::numeric, 3) AS mean_ms, h.rows
  FROM (SELECT fingerprint FROM pipeopt.top_statements LIMIT 1) t,
       pipeopt.statement_history(t.fingerprint) h"

say "What is wrong with this workload (pipeopt.findings, analyzed after each capture)"
psql_demo -U postgres -c "SELECT rule, severity, left(regexp_replace(query, '\s+', ' ', 'g'), 48) AS query,
  calls, round(share_of_total_time::numeric, 1) AS pct, left(message, 70) AS message
  FROM pipeopt.findings WHERE query LIKE '%shop.%' LIMIT 12"

say "Tables: writes and sizes (pipeopt.table_samples)"
psql_demo -U postgres -c "SELECT schemaname || '.' || relname AS table_name, sum(n_tup_ins) AS inserted,
  sum(seq_scan) AS seq_scans, sum(idx_scan) AS idx_scans,
  (array_agg(n_live_tup ORDER BY captured_at DESC))[1] AS live_rows,
  pg_size_pretty((array_agg(table_bytes ORDER BY captured_at DESC))[1]) AS size
  FROM pipeopt.table_samples GROUP BY 1 ORDER BY 1"

say "A workload bundle for offline analysis (pipeopt.export_workload())"
psql_demo -U postgres -c "SELECT pg_size_pretty(length(pipeopt.export_workload())::bigint) AS bundle_size"
echo
echo "Done. The cluster is removed on exit."
