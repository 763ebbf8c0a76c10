#!/usr/bin/env bash
# make demo: the whole story on a throw-away PostgreSQL 15 cluster that
# preloads pg_stat_statements and pipeopt. A small shop is loaded by a
# naive row-by-row loader and read by dashboards (pgbench); pipeopt
# captures the workload, finds what is wrong with it, recommends indexes
# (and the drop of an unused duplicate), a DBA approves, pipeopt applies
# the changes, the dashboards run again, and the monitor measures what
# each change did; the report ends it. The cluster is removed on exit.
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
pipeopt.advise_interval = 0
pipeopt.param_sample_rate = 0.2
pipeopt.unused_index_days = 1
pipeopt.validation_window = 10
pipeopt.validation_min_calls = 50
CONF
as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null
as_pg "$bindir/createdb" -h "$dir" -p "$port" -U postgres shop
psql_demo -U postgres -c 'CREATE EXTENSION pipeopt CASCADE' 2>/dev/null
psql_demo -U postgres -f "$dir/schema.sql"

say "Loading the shop row by row, the way a naive ETL job does (45,000 INSERTs)"
psql_demo -U postgres -f "$dir/load.sql" >/dev/null

dashboards() {
  as_pg "$bindir/pgbench" -n -h "$dir" -p "$port" -U postgres -c 2 -T "$1" -f "$dir/dashboard.sql" shop 2>/dev/null \
    | grep -E 'transactions actually processed|tps'
}
say "Running the dashboards for 15 seconds (pgbench, 2 clients)"
dashboards 15
psql_demo -U postgres -c 'SELECT 1 FROM pipeopt.capture()' >/dev/null

say "Captured: the top statements (pipeopt.top_statements)"
psql_demo -U postgres -c "SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 64) AS query, calls,
  round(mean_exec_time::numeric, 3) AS mean_ms, round(share_of_total_time::numeric, 1) AS pct
  FROM pipeopt.top_statements WHERE query ~ 'shop\.' LIMIT 8"

say "What is wrong with this workload (pipeopt.findings)"
psql_demo -U postgres -c "SELECT rule, severity, left(regexp_replace(query, '\s+', ' ', 'g'), 50) AS query,
  left(message, 60) AS message
  FROM pipeopt.findings WHERE query ~ 'shop\.' OR query IS NULL ORDER BY severity, rule LIMIT 12"

say "Recommendations (pipeopt.advise_indexes(), then pipeopt.recommendations)"
psql_demo -U postgres -c "SELECT statements, recommendations, drop_recommendations, planner_calls FROM pipeopt.advise_indexes('10MB')"
psql_demo -U postgres -c "SELECT id, rank, kind, statement, saving_ms_per_hour, confidence, risk
  FROM pipeopt.recommendations WHERE status = 'proposed' ORDER BY rank"

say "A DBA approves them (pipeopt.approve) and applies them now (pipeopt.apply_now)"
psql_demo -U postgres -Atc "SELECT id FROM pipeopt.recommendations WHERE status = 'proposed' ORDER BY rank" |
while read -r id; do
  psql_demo -U postgres -c "SELECT pipeopt.approve($id, 'demo: looks right')" >/dev/null
  psql_demo -U postgres -c "SELECT recommendation, status, outcome, left(statement, 70) AS statement,
    round(duration_ms::numeric) AS ms FROM pipeopt.apply_now($id)"
done

say "Running the same dashboards again for 15 seconds"
dashboards 15
psql_demo -U postgres -c 'SELECT 1 FROM pipeopt.capture()' >/dev/null

say "Measured before and after, per statement (pipeopt.statement_history around the change)"
psql_demo -U postgres -c "WITH applied AS (SELECT min(finished_at) AS at FROM pipeopt.change_log
                                         WHERE outcome = 'succeeded')
  SELECT left(regexp_replace(t.query, '\s+', ' ', 'g'), 60) AS query,
         round((sum(h.total_exec_time) FILTER (WHERE h.captured_at < a.at)
                / nullif(sum(h.calls) FILTER (WHERE h.captured_at < a.at), 0))::numeric, 3) AS ms_before,
         round((sum(h.total_exec_time) FILTER (WHERE h.captured_at > a.at)
                / nullif(sum(h.calls) FILTER (WHERE h.captured_at > a.at), 0))::numeric, 3) AS ms_after
    FROM pipeopt.top_statements t, applied a, pipeopt.statement_history(t.fingerprint) h
   WHERE t.query ~ '^SELECT .*shop\.'
   GROUP BY t.query ORDER BY 2 DESC NULLS LAST"
say "What each change really did: the effectiveness monitor's verdicts (pipeopt.verification)"
# the worker judges each change once its validation window has passed;
# verify_changes() does the same on demand
for _ in $(seq 1 30); do
  psql_demo -U postgres -c 'SELECT count(*) FROM pipeopt.verify_changes()' >/dev/null
  [ "$(psql_demo -U postgres -Atc "SELECT count(*) FROM pipeopt.verification WHERE verdict = 'pending'")" -eq 0 ] && break
  sleep 1
done
psql_demo -U postgres -c "SELECT v.change_id, v.verdict, round(v.mean_ms_before::numeric, 3) AS ms_before,
  round(v.mean_ms_after::numeric, 3) AS ms_after, round(v.predicted_saving_ms_per_hour::numeric) AS predicted_ms_per_h,
  round(v.actual_saving_ms_per_hour::numeric) AS actual_ms_per_h, a.status, v.reverted
  FROM pipeopt.verification v JOIN pipeopt.advice a ON a.id = v.advice_id ORDER BY v.change_id"

say "The report (pipeopt.report(); pipeopt.report_html() is the same as one HTML page)"
psql_demo -U postgres -Atc "SELECT pipeopt.report()"
echo
echo "Done. The cluster is removed on exit."
