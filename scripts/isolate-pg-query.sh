#!/usr/bin/env bash
# Turn libpg_query.a into one relocatable object whose only global symbols
# are the pg_query_* entry points (see docs/internals.md, "libpg_query").
# Usage: isolate-pg-query.sh /path/to/libpg_query.a output.o
set -euo pipefail
archive=$1
out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ld -r -o "$tmp/all.o" --whole-archive "$archive"
nm -g --defined-only "$tmp/all.o" | awk '{print $3}' | grep '^pg_query_' > "$tmp/keep.txt"
objcopy --keep-global-symbols="$tmp/keep.txt" "$tmp/all.o" "$out"
