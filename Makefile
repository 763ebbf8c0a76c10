# pipeopt: PGXS build.
#
#   make test   install dependencies, build, install, run every test
#   make demo   install dependencies, build, install, run the demo
#
# On a fresh machine there is no pg_config yet: the PGXS part below is only
# included once the server development package is present, and the two
# entry points above install it first and then call make again.

EXTENSION = pipeopt
PG_CONFIG ?= /usr/lib/postgresql/15/bin/pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

MODULE_big = pipeopt
OBJS = \
	src/pipeopt.o \
	src/guc.o \
	src/parse/parse.o \
	src/parse/sandbox.o \
	src/parse/mask.o \
	src/capture/registry.o \
	src/capture/worker.o \
	src/capture/hooks.o \
	src/capture/param_sample.o \
	src/capture/bundle.o \
	src/sqlapi/parse_api.o \
	src/sqlapi/capture_api.o \
	src/sqlapi/lint_api.o \
	src/sqlapi/advise_api.o \
	src/advise/hypo_index.o \
	src/advise/hypo_size.o \
	src/advise/whatif_plan.o \
	src/advise/select.o \
	src/advise/select_collect.o \
	src/advise/select_cost.o \
	src/advise/select_step.o \
	src/sqlapi/index_advice_api.o \
	src/sqlapi/lifecycle_api.o \
	src/apply/apply_worker.o \
	src/apply/toplevel.o \
	src/storage/storage_quals.o \
	src/storage/storage_api.o \
	src/partition/partition_quals.o \
	src/verify/ratio_test.o \
	src/verify/relations.o \
	src/sqlapi/verify_api.o \
	$(LINT_OBJS) \
	$(CATALOG_OBJS) \
	src/parse/pg_query_isolated.o

# The rule engine: built into pipeopt.so and, a second time, into the
# offline command pipeopt-lint (linked with libpg_query.a as it is).
LINT_SRCS = src/lint/engine.c src/lint/util.c src/lint/rules.c src/parse/sqlscan.c \
	src/lint/rules_select.c src/lint/rules_predicates.c \
	src/lint/rules_joins.c src/lint/rules_dml.c src/lint/rules_runtime.c \
	src/lint/rules_schema.c
LINT_OBJS = $(LINT_SRCS:.c=.o)
# The rules that need the catalogs: in the server only.
CATALOG_OBJS = src/lint/catalog.o src/lint/catalog_index.o \
	src/lint/rules_catalog_quals.o src/lint/rules_catalog_sets.o \
	src/lint/rules_catalog_rows.o
CLI_OBJS = $(patsubst %.c,%.cli.o,$(LINT_SRCS) src/cli/pipeopt_lint.c src/cli/bundle_read.c)
SCRIPTS_built = pipeopt-lint

# The install script of each version is built from the files of
# src/sql/<version>/, one responsibility each, in name order.
DATA_built = pipeopt--0.1.sql
REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --temp-config=$(srcdir)/test/regress.conf --temp-instance=tmp_check
EXTRA_CLEAN = tmp_check results regression.diffs regression.out $(CLI_OBJS) test/fuzz/lint_fuzz test/fuzz/bundle_fuzz

PG_CPPFLAGS = -I$(srcdir)/src
SHLIB_LINK = -llz4 -Wl,--version-script=$(srcdir)/src/pipeopt.map
LIBPG_QUERY_A ?= /usr/lib/x86_64-linux-gnu/libpg_query.a

.DEFAULT_GOAL := all

# The prebuilt libpg_query object has no LLVM bitcode: build none at all
# ("override", or PGXS's Makefile.global would turn it back on).
override with_llvm = no

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL 15 development files are missing: run 'make test' or 'make demo'," >&2
	@echo "or scripts/install-deps.sh, to install them." >&2
	@exit 1
endif

# libpg_query carries its own copy of palloc, memory contexts, elog and the
# parser. Link it as one relocatable object in which only pg_query_* stay
# global, so none of its symbols can bind to (or shadow) the server's.
pipeopt--0.1.sql: $(sort $(wildcard src/sql/0.1/*.sql))
	cat $^ > $@

# Every object depends on the project's headers (PGXS does not track them).
$(OBJS) $(CLI_OBJS): $(wildcard src/*.h src/*/*.h)

%.cli.o: %.c
	$(CC) $(CFLAGS) -DPIPEOPT_LINT_CLI $(CPPFLAGS) -c -o $@ $<

pipeopt-lint: $(CLI_OBJS) $(LIBPG_QUERY_A)
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJS) $(LIBPG_QUERY_A) $(LDFLAGS) -llz4 -lm

src/parse/pg_query_isolated.o: $(LIBPG_QUERY_A) scripts/isolate-pg-query.sh
	scripts/isolate-pg-query.sh $(LIBPG_QUERY_A) $@

# libFuzzer target for the rule engine (clang-14 comes with the server
# development package; its fuzzer runtime with libclang-rt-14-dev).
FUZZ_CC ?= clang-14
FUZZ_FLAGS = -g -O1 -fsanitize=fuzzer,address -Wno-ignored-attributes -DPIPEOPT_LINT_CLI
test/fuzz/lint_fuzz: test/fuzz/lint_fuzz.c $(LINT_SRCS) $(LIBPG_QUERY_A)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(CPPFLAGS) -o $@ \
		test/fuzz/lint_fuzz.c $(LINT_SRCS) $(LIBPG_QUERY_A) -lm
test/fuzz/bundle_fuzz: test/fuzz/bundle_fuzz.c src/cli/bundle_read.c $(LINT_SRCS) $(LIBPG_QUERY_A)
	$(FUZZ_CC) $(FUZZ_FLAGS) $(CPPFLAGS) -o $@ \
		test/fuzz/bundle_fuzz.c src/cli/bundle_read.c $(LINT_SRCS) $(LIBPG_QUERY_A) -llz4 -lm

fuzz: test/fuzz/lint_fuzz test/fuzz/bundle_fuzz

.PHONY: deps test demo bench fuzz

deps:
	@scripts/install-deps.sh

test: deps
	$(MAKE) all fuzz
	$(MAKE) install
	scripts/run-tests.sh

demo: deps
	$(MAKE) all
	$(MAKE) install
	scripts/demo.sh

bench: deps
	$(MAKE) all
	$(MAKE) install
	bench/run-all.sh
