#!/usr/bin/env bash
# pipeopt's index selection (pipeopt.select_indexes) side by side with the
# reference implementation of Extend (Schlosser et al., ICDE 2019) in the
# index selection evaluation platform (hyrise/index_selection_evaluation,
# Kossmann et al., VLDB 2020), on TPC-H at scale 0.1 with primary keys only,
# the 22 queries, budgets of 5, 10, 20 and 40 MiB, indexes of up to 3 columns.
#
# Three selections per budget:
#   pipeopt     pipeopt.select_indexes(queries, budget, NULL, 3)
#   extend      the platform's ExtendAlgorithm, unchanged: HypoPG what-if
#               costs and HypoPG's index sizes (bench/extend_driver.py)
#   extend_ps   the same search, candidate sizes from pipeopt's size model
#               (pipeopt.hypothetical_index): separates the size model from
#               the search
# each run REPS times, interleaved (median time). Then every selection is
# priced with the same three yardsticks: HypoPG (hypothetical indexes,
# EXPLAIN), pipeopt.whatif(), and the indexes really built (EXPLAIN), the
# 22 costs summed and divided by the same sum without the indexes.
#
# The platform is not vendored: EXTEND_DIR (default
# /tmp/index_selection_evaluation) must hold a copy (see bench/README.md).
# Planner costs only, nothing is asserted; timings are medians of REPS.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

REPS=${REPS:-3}
BUDGETS=${BUDGETS:-"5 10 20 40"}          # MiB, as pipeopt reads '5MB'
RUN_TIMEOUT=${RUN_TIMEOUT:-5s}            # per query when run for pg_stat_statements; 0: none
EXTEND_DIR=${EXTEND_DIR:-/tmp/index_selection_evaluation}
PYTHON=/usr/bin/python3                   # Debian's, which python3-psycopg2 serves
tpch=${TPCH_DIR:-$here/../../shared/bench/tpch}
[ -d "$tpch" ] || { echo "index_selection: no TPC-H data in $tpch" >&2; exit 1; }
if [ ! -f "$EXTEND_DIR/selection/algorithms/extend_algorithm.py" ]; then
  echo "index_selection: no copy of hyrise/index_selection_evaluation in $EXTEND_DIR" >&2
  echo "  (set EXTEND_DIR; bench/README.md says how to fetch it)" >&2
  exit 1
fi

# Debian packages the comparison needs: psycopg2 for the platform, HypoPG.
missing=()
"$PYTHON" -c 'import psycopg2' 2>/dev/null || missing+=(python3-psycopg2)
[ -f "$("$PG_CONFIG" --sharedir)/extension/hypopg.control" ] || missing+=(postgresql-15-hypopg)
if [ ${#missing[@]} -gt 0 ]; then
  echo "index_selection: installing ${missing[*]} (apt-get)"
  sudo=
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

cluster_start idxsel "pipeopt.sample_interval = 0
jit = off"
as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" bash "$tpch/load.sh" tpch >/dev/null   # ends with VACUUM ANALYZE
bpsql -d tpch -c 'CREATE EXTENSION pipeopt CASCADE' -c 'CREATE EXTENSION hypopg' >/dev/null 2>&1
bpsql -d tpch -c 'CREATE SCHEMA bench; CREATE TABLE bench.q (n int PRIMARY KEY, sql text)'
qfiles=("$tpch"/queries/q*.sql)
for f in "${qfiles[@]}"; do
  echo "INSERT INTO bench.q VALUES ($(basename "$f" .sql | tr -dc 0-9 | sed 's/^0//'), :'s')" |
    as_pg psql -X -q -v ON_ERROR_STOP=1 -d tpch -v s="$(cat "$f")"
done

# The 22 queries once, so that pg_stat_statements sees them (the selection
# itself is given the texts). Without indexes Q17 and Q20 run about 30 s
# each at this scale: RUN_TIMEOUT cancels them (RUN_TIMEOUT=0 waits).
bpsql -d tpch -c 'SELECT pg_stat_statements_reset()' >/dev/null
for f in "${qfiles[@]}"; do
  as_pg psql -X -q -d tpch -c "SET statement_timeout = '$RUN_TIMEOUT'" -f "$f" >/dev/null 2>&1 || true
done
echo "queries run to completion (in pg_stat_statements): $(bpsql -d tpch -c \
  "SELECT count(*) FROM pg_stat_statements
   WHERE query ~* '^\\s*(select|with)' AND query !~ 'pg_stat_statements|statement_timeout'") of ${#qfiles[@]} (RUN_TIMEOUT=$RUN_TIMEOUT)"

as_pg psql -X -q -v ON_ERROR_STOP=1 -d tpch <<'SQL'
CREATE TABLE bench.runs (alg text, rep int, budget int, ms float8, planner_calls int,
                         cost_requests int, cache_hits int, hypopg_creates int,
                         own_before float8, own_after float8, defs text[]);
CREATE TABLE bench.extend_raw (budget int, seconds float8, requests int, hits int, calls int,
                               creates int, before float8, after float8, defs text);
-- One pipeopt selection, timed in the server (the texts read before).
CREATE FUNCTION bench.run_pipeopt(p_rep int, p_budget int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  qs text[] := (SELECT array_agg(sql ORDER BY n) FROM bench.q);
  t0 timestamptz; t1 timestamptz; d text[]; b float8; a float8; c int;
BEGIN
  t0 := clock_timestamp();
  SELECT array_agg(s.definition ORDER BY s.ord), min(s.workload_cost_before),
         min(s.workload_cost_after), min(s.planner_calls)
    INTO d, b, a, c
    FROM pipeopt.select_indexes(qs, p_budget || 'MB', NULL, 3)
         WITH ORDINALITY AS s(definition, relation, estimated_bytes, saving, statements_improved,
                              workload_cost_before, workload_cost_after, planner_calls, ord);
  t1 := clock_timestamp();
  INSERT INTO bench.runs (alg, rep, budget, ms, planner_calls, own_before, own_after, defs)
  VALUES ('pipeopt', p_rep, p_budget, extract(epoch FROM t1 - t0) * 1000, c, b, a, coalesce(d, '{}'));
END $$;
SQL

run_pipeopt() { bpsql -d tpch -c "SELECT bench.run_pipeopt($1, $2)" >/dev/null; }
# run_extend ALG REP BUDGET: the platform's Extend in a fresh Python process.
run_extend() {
  local opt=()
  [ "$1" = extend_ps ] && opt=(--sizes=pipeopt)
  as_pg env PGHOST="$PGHOST" PGPORT="$PGPORT" PYTHONDONTWRITEBYTECODE=1 EXTEND_DIR="$EXTEND_DIR" \
    "$PYTHON" "$here/extend_driver.py" "${opt[@]}" tpch "${qfiles[@]}" -- "$3" |
    as_pg psql -X -q -v ON_ERROR_STOP=1 -d tpch \
      -c "TRUNCATE bench.extend_raw" \
      -c "\\copy bench.extend_raw FROM pstdin" \
      -c "INSERT INTO bench.runs SELECT '$1', $2, budget, seconds * 1000, calls, requests, hits, creates,
                 before, after, CASE WHEN defs = '' THEN '{}' ELSE string_to_array(defs, ';') END
            FROM bench.extend_raw"
}

echo "load average before the selections: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "selections: $REPS repetitions x budgets $BUDGETS MiB x (pipeopt, extend, extend_ps), interleaved"
for rep in $(seq 1 "$REPS"); do
  for b in $BUDGETS; do
    if [ $((rep % 2)) -eq 1 ]; then
      run_pipeopt "$rep" "$b"; run_extend extend "$rep" "$b"; run_extend extend_ps "$rep" "$b"
    else
      run_extend extend_ps "$rep" "$b"; run_extend extend "$rep" "$b"; run_pipeopt "$rep" "$b"
    fi
  done
done

echo "load average after the selections: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "pricing every selection with HypoPG, pipeopt.whatif() and the indexes built"
as_pg psql -X -q -v ON_ERROR_STOP=1 -d tpch <<'SQL'
-- The selections (from the first repetition; the check below says whether
-- the others chose the same), and no index at all as budget 0.
CREATE TABLE bench.sel AS
  SELECT alg, budget, defs FROM bench.runs WHERE rep = 1
  UNION ALL SELECT 'none', 0, '{}';
CREATE TABLE bench.qcost (alg text, budget int, n int, hypopg float8, whatif float8, built float8);
CREATE TABLE bench.size (alg text, budget int, hypopg_bytes bigint, pipeopt_bytes bigint, built_bytes bigint);
DO $$
DECLARE s record; q record; d text; plan json; hsize bigint; psize bigint; bsize bigint;
BEGIN
  FOR s IN SELECT * FROM bench.sel ORDER BY alg, budget LOOP
    -- HypoPG
    PERFORM hypopg_reset();
    hsize := 0; psize := 0;
    FOREACH d IN ARRAY s.defs LOOP
      hsize := hsize + (SELECT hypopg_relation_size(indexrelid) FROM hypopg_create_index(d));
      psize := psize + (SELECT estimated_bytes FROM pipeopt.hypothetical_index(d));
    END LOOP;
    FOR q IN SELECT * FROM bench.q LOOP
      EXECUTE 'EXPLAIN (FORMAT JSON) ' || q.sql INTO plan;
      INSERT INTO bench.qcost (alg, budget, n, hypopg, whatif)
      VALUES (s.alg, s.budget, q.n, (plan->0->'Plan'->>'Total Cost')::float8,
              (SELECT cost_after FROM pipeopt.whatif(q.sql, s.defs)));
    END LOOP;
    PERFORM hypopg_reset();
    -- built
    FOREACH d IN ARRAY s.defs LOOP
      EXECUTE d;
    END LOOP;
    SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0) INTO bsize
      FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relnamespace = 'public'::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid);
    FOR q IN SELECT * FROM bench.q LOOP
      EXECUTE 'EXPLAIN (FORMAT JSON) ' || q.sql INTO plan;
      UPDATE bench.qcost SET built = (plan->0->'Plan'->>'Total Cost')::float8
       WHERE alg = s.alg AND budget = s.budget AND n = q.n;
    END LOOP;
    FOR d IN SELECT format('DROP INDEX %s', i.indexrelid::regclass)
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
              WHERE c.relnamespace = 'public'::regnamespace
                AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) LOOP
      EXECUTE d;
    END LOOP;
    INSERT INTO bench.size VALUES (s.alg, s.budget, hsize, psize, bsize);
  END LOOP;
END $$;
-- An index as "table(columns)", whoever wrote it.
CREATE FUNCTION bench.short(d text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(regexp_replace(d, '^CREATE INDEX ON (public\.)?(\w+) (USING btree )?\((.*)\)$', '\2(\4)'),
                        ', ', ',', 'g') $$;
CREATE VIEW bench.rel AS
  SELECT c.alg, c.budget,
         sum(c.hypopg) / sum(z.hypopg) AS hypopg, sum(c.whatif) / sum(z.whatif) AS whatif,
         sum(c.built) / sum(z.built) AS built,
         sum(c.whatif) FILTER (WHERE c.n NOT IN (17, 20)) / sum(z.whatif) FILTER (WHERE c.n NOT IN (17, 20)) AS whatif_wo_17_20
    FROM bench.qcost c JOIN bench.qcost z ON z.alg = 'none' AND z.n = c.n
   GROUP BY c.alg, c.budget;
CREATE VIEW bench.med AS
  SELECT alg, budget, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms,
         min(ms) AS min_ms, max(ms) AS max_ms,
         min(planner_calls) AS planner_calls, count(DISTINCT planner_calls) AS calls_variants,
         min(cost_requests) AS cost_requests, count(DISTINCT defs) AS selections
    FROM bench.runs GROUP BY alg, budget;
SQL

as_pg psql -X -q -v ON_ERROR_STOP=1 -d tpch <<'SQL'
\pset footer off
\echo
\echo == Workload cost without indexes (22 queries), per yardstick; share of Q17 and Q20 ==
SELECT round(sum(hypopg)) AS hypopg, round(sum(whatif)) AS whatif, round(sum(built)) AS built,
       round((100 * sum(whatif) FILTER (WHERE n IN (17, 20)) / sum(whatif))::numeric, 1) AS q17_q20_pct
  FROM bench.qcost WHERE alg = 'none';
\echo
\echo == Relative workload cost (with the selection / without), same yardstick for all ==
\echo    whatif = pipeopt.whatif(); hypopg = HypoPG; built = the indexes really built;
\echo    wo_17_20: whatif over the 20 other queries
SELECT r.budget AS mib, y.yardstick,
       round(y.p::numeric, 4) AS pipeopt, round(y.e::numeric, 4) AS extend,
       round(y.s::numeric, 4) AS extend_ps,
       round((y.p / y.e)::numeric, 3) AS pipeopt_over_extend
  FROM (SELECT DISTINCT budget FROM bench.sel WHERE budget > 0) r
  CROSS JOIN LATERAL (
    SELECT k.yardstick,
           (SELECT CASE k.yardstick WHEN 'whatif' THEN whatif WHEN 'hypopg' THEN hypopg
                                    WHEN 'built' THEN built ELSE whatif_wo_17_20 END
              FROM bench.rel WHERE alg = 'pipeopt' AND budget = r.budget) AS p,
           (SELECT CASE k.yardstick WHEN 'whatif' THEN whatif WHEN 'hypopg' THEN hypopg
                                    WHEN 'built' THEN built ELSE whatif_wo_17_20 END
              FROM bench.rel WHERE alg = 'extend' AND budget = r.budget) AS e,
           (SELECT CASE k.yardstick WHEN 'whatif' THEN whatif WHEN 'hypopg' THEN hypopg
                                    WHEN 'built' THEN built ELSE whatif_wo_17_20 END
              FROM bench.rel WHERE alg = 'extend_ps' AND budget = r.budget) AS s
      FROM (VALUES (1, 'whatif'), (2, 'hypopg'), (3, 'built'), (4, 'wo_17_20')) k(o, yardstick)
     ORDER BY k.o) y
 ORDER BY r.budget;
\echo
\echo == The table: relative cost (whatif / HypoPG yardsticks), planner calls, median time ==
SELECT p.budget AS mib,
       round(rp.whatif::numeric, 4) || ' / ' || round(rp.hypopg::numeric, 4) AS pipeopt_rel,
       round(re.whatif::numeric, 4) || ' / ' || round(re.hypopg::numeric, 4) AS extend_rel,
       p.planner_calls AS pipeopt_calls, e.planner_calls AS extend_calls,
       round((p.planner_calls::numeric / e.planner_calls), 2) AS calls_ratio,
       round(p.ms::numeric) AS pipeopt_ms, round(e.ms::numeric) AS extend_ms,
       s.planner_calls AS extend_ps_calls, round(s.ms::numeric) AS extend_ps_ms
  FROM bench.med p
  JOIN bench.med e ON e.alg = 'extend' AND e.budget = p.budget
  LEFT JOIN bench.med s ON s.alg = 'extend_ps' AND s.budget = p.budget
  JOIN bench.rel rp ON rp.alg = 'pipeopt' AND rp.budget = p.budget
  JOIN bench.rel re ON re.alg = 'extend' AND re.budget = p.budget
 WHERE p.alg = 'pipeopt' ORDER BY p.budget;
\echo
\echo == Each algorithm, own numbers (median/min/max ms over the repetitions) ==
\echo    own_rel: its own cost model (pipeopt: its what-if planner; Extend: the platform CostEvaluation, HypoPG)
\echo    selections: distinct index sets over the repetitions (1 = deterministic)
SELECT m.alg, m.budget AS mib, round(m.ms::numeric) AS median_ms, round(m.min_ms::numeric) AS min_ms,
       round(m.max_ms::numeric) AS max_ms, m.planner_calls, m.cost_requests,
       (SELECT min(hypopg_creates) FROM bench.runs r WHERE r.alg = m.alg AND r.budget = m.budget) AS hypopg_creates,
       (SELECT round((min(own_after) / min(own_before))::numeric, 4) FROM bench.runs r
         WHERE r.alg = m.alg AND r.budget = m.budget) AS own_rel,
       m.selections, m.calls_variants
  FROM bench.med m ORDER BY m.budget, m.alg;
\echo
\echo == Sizes of each selection, MiB: by HypoPG, by pipeopt, built ==
SELECT z.budget AS mib, z.alg,
       (SELECT cardinality(defs) FROM bench.sel s WHERE s.alg = z.alg AND s.budget = z.budget) AS indexes,
       round(z.hypopg_bytes / 1048576.0, 2) AS hypopg, round(z.pipeopt_bytes / 1048576.0, 2) AS pipeopt,
       round(z.built_bytes / 1048576.0, 2) AS built
  FROM bench.size z WHERE z.budget > 0 ORDER BY z.budget, z.alg;
\echo
\echo == Chosen indexes, in the order chosen (an extended index at the step that extended it) ==
SELECT s.budget AS mib, s.alg, string_agg(bench.short(d), ' ' ORDER BY o) AS indexes
  FROM bench.sel s LEFT JOIN LATERAL unnest(s.defs) WITH ORDINALITY AS u(d, o) ON true
 WHERE s.budget > 0 GROUP BY s.budget, s.alg ORDER BY s.budget, s.alg;
\echo
\echo == Where pipeopt and Extend differ: per query, whatif cost relative to no index ==
\echo    (queries whose relative cost differs by more than 1% of the no-index cost)
SELECT p.budget AS mib, p.n AS query, round((p.whatif / z.whatif)::numeric, 4) AS pipeopt,
       round((e.whatif / z.whatif)::numeric, 4) AS extend, round((s.whatif / z.whatif)::numeric, 4) AS extend_ps,
       round(z.whatif) AS no_index_cost
  FROM bench.qcost p
  JOIN bench.qcost e ON e.alg = 'extend' AND e.budget = p.budget AND e.n = p.n
  LEFT JOIN bench.qcost s ON s.alg = 'extend_ps' AND s.budget = p.budget AND s.n = p.n
  JOIN bench.qcost z ON z.alg = 'none' AND z.n = p.n
 WHERE p.alg = 'pipeopt' AND (abs(p.whatif - e.whatif) > 0.01 * z.whatif OR coalesce(abs(p.whatif - s.whatif) > 0.01 * z.whatif, false))
 ORDER BY p.budget, p.n;
SQL
