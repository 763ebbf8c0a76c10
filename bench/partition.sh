#!/usr/bin/env bash
# The partition advisor on the synthetic events workload: statement time on
# the unpartitioned table against the partitioned one the advisor's own
# migration produced, side by side in one cluster.
#
# 1. An append-only events table (ROWS rows over two years up to now, a row
#    every few seconds, primary key (id, created_at)) and a static devices
#    table; the workload (the newest hours, a week by region joined with
#    devices, one device's last two days), sampled and captured.
# 2. pipeopt.advise_partitions(TARGET) recommends; a copy of the table is
#    kept unpartitioned (events_plain, same rows and primary key); the
#    recommendation is approved and applied by the apply worker
#    (pipeopt.apply_now), which runs the migration script.
# 3. Each statement runs on both tables, REPS rounds, the order alternating
#    from round to round, timed in the server (clock_timestamp around
#    EXECUTE); per statement: the median ms on each, and the median of the
#    per-round ratios plain / partitioned. Nothing is asserted.
#
# Environment: ROWS (default 3000000), TARGET (16MB), REPS (7), PG_CONFIG,
# BENCH_PORT.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

ROWS=${ROWS:-3000000}
TARGET=${TARGET:-16MB}
REPS=${REPS:-7}

cluster_start partition "
shared_buffers = 512MB
pg_stat_statements.track = top
pipeopt.sample_interval = 0
pipeopt.param_sample_rate = 0
max_parallel_workers_per_gather = 0
jit = off
"
as_pg createdb bench
bpsql -d bench -v rows="$ROWS" <<'SQL'
CREATE EXTENSION pipeopt CASCADE;
CREATE SCHEMA pa;
CREATE TABLE pa.devices (device_id int PRIMARY KEY, name text NOT NULL, region text NOT NULL);
INSERT INTO pa.devices SELECT g, 'device ' || g, (ARRAY['eu', 'us', 'asia'])[1 + g % 3]
  FROM generate_series(1, 1000) g;
CREATE TABLE pa.events (
  id bigint GENERATED ALWAYS AS IDENTITY,
  created_at timestamptz NOT NULL,
  device_id int NOT NULL,
  kind smallint NOT NULL,
  payload text,
  PRIMARY KEY (id, created_at));
INSERT INTO pa.events (created_at, device_id, kind, payload)
SELECT now() - interval '730 days' + g * (interval '730 days' / :rows), 1 + g % 1000, g % 10, 'p' || g
  FROM generate_series(1, :rows) g;
VACUUM ANALYZE pa.events;
VACUUM ANALYZE pa.devices;
SELECT pg_stat_force_next_flush();
SELECT count(*) FROM pipeopt.capture();
SQL

# the workload, sampled
bpsql -d bench -o /dev/null <<'SQL'
SET pipeopt.param_sample_rate = 1;
SELECT format('SELECT count(*) FROM pa.events WHERE created_at > %L', date_trunc('hour', now()) - g * interval '1 hour')
  FROM generate_series(1, 12) g \gexec
SELECT format('SELECT d.region, count(*) FROM pa.events e JOIN pa.devices d ON d.device_id = e.device_id'
              ' WHERE e.created_at >= %L AND e.created_at < %L GROUP BY d.region',
              date_trunc('day', now()) - (g + 7) * interval '1 day', date_trunc('day', now()) - g * interval '1 day')
  FROM generate_series(1, 6) g \gexec
SELECT format('SELECT id, kind FROM pa.events WHERE device_id = %s AND created_at > now() - interval %L', g, '2 days')
  FROM generate_series(1, 6) g \gexec
SET pipeopt.param_sample_rate = 0;
SELECT pg_stat_force_next_flush();
SELECT count(*) FROM pipeopt.capture();
SQL

echo "== advise_partitions('$TARGET') on $ROWS rows ($(bpsql -d bench -c "SELECT pg_size_pretty(pg_table_size('pa.events'))"))"
bpsql -d bench -F ' | ' -c "SET pipeopt.partition_min_size = '10MB';
  SELECT recommendations FROM pipeopt.advise_partitions('$TARGET')" >/dev/null
bpsql -d bench -F ' | ' -c "SELECT relation, key, method, interval, partitions, pg_size_pretty(partition_bytes),
                                   confidence, risk FROM pipeopt.partition_advice WHERE kind = 'partition_table'"
id=$(bpsql -d bench -c "SELECT id FROM pipeopt.partition_advice WHERE kind = 'partition_table' AND relation = 'pa.events'")
[ -n "$id" ] || { echo "bench: no partitioning recommended" >&2; exit 1; }

bpsql -d bench <<'SQL'
CREATE TABLE pa.events_plain (LIKE pa.events INCLUDING ALL);
INSERT INTO pa.events_plain OVERRIDING SYSTEM VALUE SELECT * FROM pa.events;
VACUUM ANALYZE pa.events_plain;
SQL
bpsql -d bench -c "SELECT pipeopt.approve($id, 'benchmark')" >/dev/null
echo "== migration by the apply worker"
bpsql -d bench -F ' | ' -c "SELECT status, outcome, round(duration_ms::numeric) AS ms FROM pipeopt.apply_now($id)"
bpsql -d bench -c "VACUUM ANALYZE pa.events" >/dev/null
bpsql -d bench -c "SELECT 'partitions: ' || count(*) FROM pg_inherits WHERE inhparent = 'pa.events'::regclass"

# timed statements: %s is the table
bpsql -d bench <<'SQL'
CREATE TABLE pa.q (n int, sql text);
INSERT INTO pa.q VALUES
  (1, format('SELECT count(*) FROM %%s WHERE created_at > %L', date_trunc('hour', now()) - interval '3 hours')),
  (2, format('SELECT d.region, count(*) FROM %%s e JOIN pa.devices d ON d.device_id = e.device_id'
             ' WHERE e.created_at >= %L AND e.created_at < %L GROUP BY d.region',
             date_trunc('day', now()) - interval '10 days', date_trunc('day', now()) - interval '3 days')),
  (3, 'SELECT id, kind FROM %s WHERE device_id = 42 AND created_at > now() - interval ''2 days'''),
  (4, format('SELECT count(*) FROM %%s WHERE created_at >= %L AND created_at < %L',
             date_trunc('month', now()) - interval '6 months', date_trunc('month', now()) - interval '5 months'));
CREATE FUNCTION pa.timed(q text) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE t timestamptz;
BEGIN
  t := clock_timestamp();
  EXECUTE q;
  RETURN extract(epoch FROM clock_timestamp() - t) * 1000;
END $$;
SQL

results=$(mktemp)
for n in 1 2 3 4; do
  # warm both tables' pages once
  for t in pa.events_plain pa.events; do
    bpsql -d bench -c "SELECT pa.timed(format(sql, '$t')) FROM pa.q WHERE n = $n" >/dev/null
  done
done
for r in $(seq 1 "$REPS"); do
  if [ $((r % 2)) -eq 1 ]; then order="pa.events_plain pa.events"; else order="pa.events pa.events_plain"; fi
  for n in 1 2 3 4; do
    for t in $order; do
      ms=$(bpsql -d bench -c "SELECT pa.timed(format(sql, '$t')) FROM pa.q WHERE n = $n")
      echo "$r $n $t $ms" >>"$results"
    done
  done
done

echo "== statement time, unpartitioned vs partitioned ($REPS interleaved rounds; ms median [min max])"
printf '%-3s %-28s %-28s %s\n' q plain partitioned "ratio plain/partitioned (median of rounds)"
for n in 1 2 3 4; do
  plain=$(awk -v n="$n" '$2 == n && $3 == "pa.events_plain" { print $4 }' "$results" | stats)
  part=$(awk -v n="$n" '$2 == n && $3 == "pa.events" { print $4 }' "$results" | stats)
  ratio=$(awk -v n="$n" '$2 == n { v[$1, $3] = $4; r[$1] = 1 }
            END { for (k in r) print v[k, "pa.events_plain"] / v[k, "pa.events"] }' "$results" | stats)
  printf '%-3s %-28s %-28s %s\n' "$n" "$plain" "$part" "$ratio"
done
bpsql -d bench -c "SELECT n || ': ' || sql FROM pa.q ORDER BY n"
rm -f "$results"
