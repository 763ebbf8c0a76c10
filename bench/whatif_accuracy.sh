#!/usr/bin/env bash
# How right the what-if planner is, on TPC-H at scale 0.1 (primary keys
# only), side by side with HypoPG (Debian postgresql-15-hypopg):
#  1. size: every column of every table as a one-column B-tree, and ten
#     multi-column, INCLUDE and unique ones: the estimate (ours, HypoPG's)
#     against the index really built, per candidate;
#  2. cost: the 22 queries under each of twelve indexes: our hypothetical
#     plan cost against the planner's cost with the index really built, and
#     HypoPG's against the same; and, given HypoPG's size, ours against
#     HypoPG's (the same planner integration must give the same cost).
# Deterministic given the statistics (ANALYZE samples rows): no timing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

cluster_start whatif ""
tpch_load
bpsql -d tpch -c 'CREATE EXTENSION hypopg' >/dev/null 2>&1

echo "== 1. index sizes: estimate / built, B-tree (and hash, BRIN) candidates on TPC-H =="
as_pg psql -X -q -v ON_ERROR_STOP=1 -d tpch <<'SQL'
CREATE TABLE bench.size (def text, ours bigint, hypopg bigint, built bigint, dedup boolean);
INSERT INTO bench.size (def)
SELECT format('CREATE INDEX ON %I (%I)', c.relname, a.attname)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL VALUES
 ('CREATE INDEX ON lineitem (l_orderkey, l_linenumber)'), ('CREATE INDEX ON lineitem (l_shipdate, l_discount)'),
 ('CREATE INDEX ON lineitem (l_partkey, l_suppkey)'), ('CREATE INDEX ON lineitem (l_returnflag, l_linestatus)'),
 ('CREATE INDEX ON orders (o_orderdate, o_orderpriority)'), ('CREATE INDEX ON orders (o_custkey, o_orderdate)'),
 ('CREATE INDEX ON partsupp (ps_suppkey, ps_partkey)'), ('CREATE INDEX ON part (p_brand, p_container)'),
 ('CREATE INDEX ON lineitem (l_shipdate) INCLUDE (l_extendedprice)'), ('CREATE UNIQUE INDEX ON orders (o_orderkey, o_custkey)');
DO $$
DECLARE r record; idx regclass;
BEGIN
  FOR r IN SELECT def FROM bench.size LOOP
    UPDATE bench.size SET ours = h.estimated_bytes, dedup = h.deduplicated,
           hypopg = (SELECT hypopg_relation_size(indexrelid) FROM hypopg_create_index(r.def))
      FROM pipeopt.hypothetical_index(r.def) h WHERE def = r.def;
    PERFORM hypopg_reset();
    EXECUTE r.def;
    SELECT c.oid INTO idx FROM pg_class c WHERE c.relkind = 'i' ORDER BY c.oid DESC LIMIT 1;
    UPDATE bench.size SET built = pg_relation_size(idx) WHERE def = r.def;
    EXECUTE format('DROP INDEX %s', idx);
  END LOOP;
END $$;
\pset footer off
SELECT def AS candidate, built, ours, round(ours::numeric / built, 2) AS ours_ratio,
       hypopg, round(hypopg::numeric / built, 2) AS hypopg_ratio, dedup
  FROM bench.size ORDER BY ours::numeric / built, def;
SELECT count(*) AS candidates,
       count(*) FILTER (WHERE ours BETWEEN built * 0.75 AND built * 1.25) AS ours_within_25pct,
       round(100.0 * count(*) FILTER (WHERE ours BETWEEN built * 0.75 AND built * 1.25) / count(*), 1) AS ours_pct,
       count(*) FILTER (WHERE hypopg BETWEEN built * 0.75 AND built * 1.25) AS hypopg_within_25pct,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ours::float8 / built)::numeric, 2) AS ours_median_ratio,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY hypopg::float8 / built)::numeric, 2) AS hypopg_median_ratio
  FROM bench.size;
SQL

echo
echo "== 2. plan costs: 22 TPC-H queries x 12 indexes =="
as_pg psql -X -q -v ON_ERROR_STOP=1 -d tpch <<'SQL'
CREATE TABLE bench.ix (def text);
INSERT INTO bench.ix VALUES ('CREATE INDEX ON lineitem (l_shipdate)'), ('CREATE INDEX ON lineitem (l_partkey)'),
 ('CREATE INDEX ON orders (o_orderdate)'), ('CREATE INDEX ON orders (o_custkey)'), ('CREATE INDEX ON lineitem (l_orderkey)'),
 ('CREATE INDEX ON part (p_size)'), ('CREATE INDEX ON customer (c_mktsegment)'),
 ('CREATE INDEX ON lineitem (l_shipdate, l_discount, l_quantity)'), ('CREATE INDEX ON lineitem (l_suppkey)'),
 ('CREATE INDEX ON partsupp (ps_suppkey)'), ('CREATE INDEX ON part (p_type, p_size)'),
 ('CREATE INDEX ON orders (o_orderdate) INCLUDE (o_orderpriority)');
CREATE TABLE bench.cost (n int, def text, ours float8, ours_hypopg_size float8, hypopg float8, built float8,
                         used boolean);
DO $$
DECLARE q record; i record; w record; plan json; idx regclass; pages bigint;
BEGIN
  FOR i IN SELECT * FROM bench.ix LOOP
    EXECUTE i.def;
    SELECT c.oid INTO idx FROM pg_class c WHERE c.relkind = 'i' ORDER BY c.oid DESC LIMIT 1;
    FOR q IN SELECT * FROM bench.q LOOP
      EXECUTE 'EXPLAIN (FORMAT JSON) ' || q.sql INTO plan;
      INSERT INTO bench.cost (n, def, built) VALUES (q.n, i.def, (plan->0->'Plan'->>'Total Cost')::float8);
    END LOOP;
    EXECUTE format('DROP INDEX %s', idx);
    FOR q IN SELECT * FROM bench.q LOOP
      SELECT hypopg_relation_size(indexrelid) / 8192 INTO pages FROM hypopg_create_index(i.def);
      EXECUTE 'EXPLAIN (FORMAT JSON) ' || q.sql INTO plan;
      PERFORM hypopg_reset();
      SELECT * INTO w FROM pipeopt.whatif(q.sql, ARRAY[i.def]);
      UPDATE bench.cost SET hypopg = (plan->0->'Plan'->>'Total Cost')::float8, ours = w.cost_after,
             used = cardinality(w.indexes_used) > 0,
             ours_hypopg_size = (SELECT cost_after FROM pipeopt.whatif(q.sql, ARRAY[i.def || format(' WITH (pages = %s)', pages)]))
       WHERE n = q.n AND def = i.def;
    END LOOP;
  END LOOP;
END $$;
\pset footer off
SELECT count(*) AS pairs, count(*) FILTER (WHERE used) AS index_used,
       count(*) FILTER (WHERE used AND abs(ours / built - 1) <= 0.05) AS ours_within_5pct_of_built,
       count(*) FILTER (WHERE used AND abs(hypopg / built - 1) <= 0.05) AS hypopg_within_5pct_of_built,
       count(*) FILTER (WHERE abs(ours_hypopg_size / hypopg - 1) <= 0.01) AS same_size_within_1pct_of_hypopg,
       max(abs(ours_hypopg_size / hypopg - 1)) AS same_size_max_rel_diff
  FROM bench.cost;
SELECT n AS query, def AS index, round(built) AS built, round(ours) AS ours, round(hypopg) AS hypopg
  FROM bench.cost WHERE used ORDER BY n, def;
SQL
