#!/usr/bin/python3
"""Run Extend, as implemented by the index selection evaluation platform
(hyrise/index_selection_evaluation, Kossmann et al., VLDB 2020), on a
database that is already loaded: bench/index_selection.sh's driver.

The platform is not part of this repository: its copy is imported from
EXTEND_DIR (default /tmp/index_selection_evaluation). Its own TPC-H path
generates data and queries with dbgen/qgen from git, which this machine
cannot fetch; so this driver builds the platform's Workload and Query
objects itself, exactly as its TPC-H path does after qgen:
  - the columns are every column of every table (the platform reads them
    from dbgen's dss.ddl; here from the catalog, with the platform's own
    WorkloadParser.get_tables());
  - a query's indexable columns are those whose name occurs in its text
    (the platform's QueryGenerator._store_indexable_columns());
and runs ExtendAlgorithm unchanged, with the platform's CostEvaluation and
PostgresDatabaseConnector (HypoPG what-if indexes, EXPLAIN costs).

One adaptation: SelectionAlgorithm.__init__ calls drop_indexes(), which
drops every index of the public schema; the platform's databases have no
primary keys, ours do (DROP INDEX on them fails). It is replaced by one
that drops only the indexes no constraint needs (there are none here).
Budgets are given in MiB, as pipeopt reads '5MB'; the platform's MB are
10^6 bytes, so it gets budget_MB = MiB * 1.048576 (the same bytes).

A second mode, --sizes=pipeopt, sets the size of each candidate to
pipeopt.hypothetical_index()'s estimate for HypoPG's index definition
instead of hypopg_relation_size() (plans still come from HypoPG): Extend's
search under pipeopt's size model, to tell the size model from the search.

Usage: extend_driver.py [--sizes=pipeopt] DBNAME QUERY_FILE... -- BUDGET_MIB...
Prints, per budget, one tab-separated line:
  budget_mib  seconds  cost_requests  cache_hits  planner_calls
  hypopg_creates  cost_before  cost_after  index;index;...
where seconds is the wall time of constructing and running the algorithm
(what the platform reports as its calculation time, without connecting),
cost_requests the what-if cost requests (one per query per evaluated
configuration), planner_calls the EXPLAINs actually sent (requests that
missed the platform's cost cache), and cost_before/after the workload cost
without and with the chosen indexes as the platform's own CostEvaluation
prices them (HypoPG), computed after the timed part.
"""
import logging
import os
import sys
import time
import types

EXTEND_DIR = os.environ.get("EXTEND_DIR", "/tmp/index_selection_evaluation")
sys.path.insert(0, EXTEND_DIR)

from selection.algorithms.extend_algorithm import ExtendAlgorithm  # noqa: E402
from selection.cost_evaluation import CostEvaluation  # noqa: E402
from selection.dbms.postgres_dbms import PostgresDatabaseConnector  # noqa: E402
from selection.query_generator import QueryGenerator  # noqa: E402
from selection.what_if_index_creation import WhatIfIndexCreation  # noqa: E402
from selection.workload import Query, Workload  # noqa: E402
from selection.workload_parser import WorkloadParser  # noqa: E402


def drop_non_constraint_indexes(self):
    rows = self.exec_fetch(
        "SELECT format('%I', c.relname) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indexrelid"
        " WHERE c.relnamespace = 'public'::regnamespace"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
        "                 WHERE k.conindid = i.indexrelid)",
        one=False,
    )
    for (name,) in rows:
        self.exec_only(f"DROP INDEX {name}")


PostgresDatabaseConnector.drop_indexes = drop_non_constraint_indexes


def pipeopt_index_size(self, index_oid):
    (size,) = self.db_connector.exec_fetch(
        "SELECT estimated_bytes FROM pipeopt.hypothetical_index("
        f"hypopg_get_indexdef({int(index_oid)}))"
    )
    assert size > 0, "no size estimate"
    return size


def index_definition(index):
    return f"CREATE INDEX ON {index.table()} ({index.joined_column_names()})"


def main(argv):
    pipeopt_sizes = argv[1] == "--sizes=pipeopt"
    if pipeopt_sizes:
        WhatIfIndexCreation.estimate_index_size = pipeopt_index_size
        argv = argv[:1] + argv[2:]
    sep = argv.index("--")
    dbname, query_files, budgets = argv[1], argv[2:sep], argv[sep + 1 :]
    logging.getLogger().setLevel(logging.WARNING)

    # The platform's TPC-H column assignment (QueryGenerator with dss.ddl's
    # columns), the columns read from the catalog by its WorkloadParser.
    tables = WorkloadParser("postgres", dbname, "tpch").get_tables()
    columns = [c for t in tables.values() for c in t.columns]
    generator = types.SimpleNamespace(columns=columns)
    queries = []
    for path in query_files:
        with open(path) as f:
            query = Query(int(os.path.basename(path)[1:3]), f.read())
        QueryGenerator._store_indexable_columns(generator, query)
        queries.append(query)
    workload = Workload(queries)

    for budget in budgets:
        mib = float(budget)
        # The platform connects anew for each algorithm run (_run_algorithm).
        connector = PostgresDatabaseConnector(dbname)
        start = time.perf_counter()
        algorithm = ExtendAlgorithm(
            connector,
            {
                # the platform's MB are 10^6 bytes; ours are MiB
                "budget_MB": mib * 1024 * 1024 / 1e6,
                "max_index_width": 3,
            },
        )
        try:
            indexes = algorithm.calculate_best_indexes(workload)
        except AssertionError as e:
            # Extend assumes that a wider index is bigger; pipeopt's sizes
            # are whole pages, so extending a one-page index of a tiny
            # table (nation, region) trips its assertion. Only in this mode.
            if not pipeopt_sizes:
                raise
            print(f"extend_driver: budget {budget}: stopped: {e}", file=sys.stderr)
            connector.close()
            continue
        seconds = time.perf_counter() - start
        requests = algorithm.cost_evaluation.cost_requests
        hits = algorithm.cost_evaluation.cache_hits
        planner_calls = connector.cost_estimations
        creates = connector.simulated_indexes

        evaluation = CostEvaluation(connector)
        before = evaluation.calculate_cost(workload, [])
        after = evaluation.calculate_cost(workload, indexes)
        evaluation.complete_cost_estimation()
        connector.close()
        print(
            f"{budget}\t{seconds:.4f}\t{requests}\t{hits}\t{planner_calls}\t"
            f"{creates}\t{before}\t{after}\t"
            + ";".join(index_definition(i) for i in indexes)
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv)
