# shellcheck shell=bash
# bench/lib.sh: helpers shared by the benchmarks (sourced, not run).
#
# Every benchmark runs against its own throw-away cluster: created with
# initdb in a mktemp directory owned by postgres, reachable only through a
# unix socket inside that directory, stopped and removed on exit.

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BIN=$("$PG_CONFIG" --bindir)

# PostgreSQL refuses to run as root: as root, run servers and clients as the
# postgres user; as anyone else, as that user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- env PATH="$PG_BIN:$PATH" "$@"
  else
    env PATH="$PG_BIN:$PATH" "$@"
  fi
}

# The benchmarks measure the installed pipeopt, not the build tree.
require_pipeopt_installed() {
  local lib ext
  lib=$("$PG_CONFIG" --pkglibdir)/pipeopt.so
  ext=$("$PG_CONFIG" --sharedir)/extension/pipeopt.control
  if [ ! -f "$lib" ] || [ ! -f "$ext" ]; then
    echo "bench: pipeopt is not installed; run 'make install' (or 'make bench')." >&2
    exit 1
  fi
}

# cluster_start NAME EXTRA_CONF: initdb, configure, start. Sets BENCH_DIR,
# PGPORT and PGHOST (exported, so psql and pgbench find the server) and an
# EXIT trap that stops the server and removes the directory.
cluster_start() {
  local name=$1 extra_conf=$2
  require_pipeopt_installed
  BENCH_DIR=$(mktemp -d "/tmp/pipeopt-bench-$name.XXXXXX")
  mkdir -p "$BENCH_DIR/sock"
  trap cluster_cleanup EXIT
  trap 'exit 130' INT TERM
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$BENCH_DIR"
  fi
  # No TCP listener and a socket directory of our own: the port only names
  # the socket, so any number is free; a random one keeps runs apart in logs
  # (BENCH_PORT picks one).
  PGPORT=${BENCH_PORT:-$((5433 + RANDOM % 20000))}
  PGHOST=$BENCH_DIR/sock
  export PGPORT PGHOST
  as_pg initdb -D "$BENCH_DIR/data" -U postgres --auth=trust -E UTF8 \
    --locale=C --no-sync >"$BENCH_DIR/initdb.log" 2>&1
  cat >>"$BENCH_DIR/data/postgresql.conf" <<EOF

# --- pipeopt benchmark ---
listen_addresses = ''
port = $PGPORT
unix_socket_directories = '$PGHOST'
shared_preload_libraries = 'pg_stat_statements,pipeopt'
$extra_conf
EOF
  as_pg pg_ctl -D "$BENCH_DIR/data" -l "$BENCH_DIR/server.log" -w -t 60 start >/dev/null
}

cluster_cleanup() {
  local rc=$?
  if [ -n "${BENCH_DIR:-}" ] && [ -d "$BENCH_DIR" ]; then
    if [ -f "$BENCH_DIR/data/postmaster.pid" ]; then
      as_pg pg_ctl -D "$BENCH_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
    fi
    if [ "$rc" -ne 0 ] && [ -f "$BENCH_DIR/server.log" ]; then
      echo "--- server log (last 30 lines) ---" >&2
      tail -n 30 "$BENCH_DIR/server.log" >&2
    fi
    rm -rf "$BENCH_DIR"
  fi
  return "$rc"
}

# psql without psqlrc, stopping at the first error, quiet, unaligned.
bpsql() {
  as_pg psql -X -q -v ON_ERROR_STOP=1 -At "$@"
}

# stats [FORMAT]: read numbers, one a line; print "median min max", each
# printed with FORMAT (default %.2f).
stats() {
  sort -g | awk -v f="${1:-%.2f}" '{ v[NR] = $1 }
    END {
      if (NR == 0) { print "- - -"; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf f " " f " " f "\n", m, v[1], v[NR]
    }'
}

# The rules that exist only to use the catalogs (parse analysis in the
# server), for turning them off in pipeopt.disabled_rules.
CATALOG_RULES=function-on-indexed-column,implicit-cast-on-indexed-column,or-across-columns,union-without-all,distinct-masking-join-fanout

# pgbench_cluster NAME: a cluster (cluster_start) whose shared_buffers hold
# the whole pgbench database "bench" of scale SCALE, so runs measure CPU
# rather than the page cache; pg_stat_statements and pipeopt created in it,
# the worker not sampling.
pgbench_cluster() {
  cluster_start "$1" "
shared_buffers = 512MB
pg_stat_statements.track = top
pipeopt.sample_interval = 0
"
  as_pg createdb bench
  bpsql -d bench <<'SQL'
CREATE EXTENSION pg_stat_statements;
CREATE EXTENSION pipeopt;
SQL
  as_pg pgbench -i -q -s "$SCALE" bench >"$BENCH_DIR/pgbench-init.log" 2>&1
}

# run_pgbench [OPTION...]: one timed pgbench run on "bench" (PGBENCH_ARGS,
# CLIENTS, THREADS, RUN_SECONDS); prints its tps (excluding connection time).
run_pgbench() {
  local out
  # shellcheck disable=SC2086  # PGBENCH_ARGS is a list of options
  out=$(as_pg pgbench -n "$@" $PGBENCH_ARGS -c "$CLIENTS" -j "$THREADS" -T "$RUN_SECONDS" bench 2>&1)
  echo "$out" | awk '/^tps = / { print $3; found = 1 } END { if (!found) exit 1 }' \
    || { echo "$out" >&2; exit 1; }
}

# tpch_load: TPC-H at scale 0.1 (TPCH_DIR, primary keys only) in database
# "tpch" with pipeopt, and its 22 queries in bench.q (n, sql).
tpch_load() {
  local tpch=${TPCH_DIR:-$(dirname "${BASH_SOURCE[0]}")/../../shared/bench/tpch} f
  [ -d "$tpch" ] || { echo "bench: no TPC-H data in $tpch" >&2; exit 1; }
  as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" bash "$tpch/load.sh" tpch >/dev/null
  bpsql -d tpch -c 'CREATE EXTENSION pipeopt CASCADE' >/dev/null
  bpsql -d tpch -c 'CREATE SCHEMA bench; CREATE TABLE bench.q (n int, sql text)'
  for f in "$tpch"/queries/q*.sql; do
    echo "INSERT INTO bench.q VALUES ($(basename "$f" .sql | tr -dc 0-9 | sed 's/^0//'), :'s')" |
      as_pg psql -X -q -v ON_ERROR_STOP=1 -d tpch -v s="$(sed 's/;[[:space:]]*$//' "$f")"
  done
}

# tpch_captured [SQL]: tpch_load, then the 22 queries run once in one
# session (after SQL, such as a SET) between two captures.
tpch_captured() {
  tpch_load
  echo "== the workload: the 22 queries once, captured =="
  bpsql -d tpch -c 'SELECT baseline FROM pipeopt.capture()' >/dev/null
  bpsql -d tpch -c 'SELECT pg_stat_statements_reset()' >/dev/null
  bpsql -d tpch >/dev/null <<SQL
${1:-}
SELECT rtrim(sql) FROM bench.q ORDER BY n \gexec
SQL
  bpsql -d tpch -c 'SELECT pg_stat_force_next_flush()' >/dev/null
  bpsql -d tpch -c 'SELECT baseline FROM pipeopt.capture()' >/dev/null
}
