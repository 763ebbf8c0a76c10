#!/usr/bin/env bash
# Install, idempotently, everything pipeopt needs to build, run, test and
# benchmark on Debian 12 (pg_stat_statements ships in postgresql-15; headless
# chromium renders the HTML report in test/t/011_report_browser.pl). When
# every package is present it exits at once, without apt-get.
set -euo pipefail

pkgs=(
  make gcc binutils
  postgresql-15 postgresql-server-dev-15
  postgresql-15-hypopg
  postgresql-15-partman
  libpg-query-dev liblz4-dev lz4
  clang-14 libclang-rt-14-dev
  libipc-run-perl
  chromium fonts-dejavu-core
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (or with sudo) to install them." >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Debian's postgresql-common would create and start a 'main' cluster on
# install; pipeopt's tests and demo use their own throw-away clusters.
mkdir -p /etc/postgresql-common
if ! grep -qs '^create_main_cluster' /etc/postgresql-common/createcluster.conf; then
  echo 'create_main_cluster = false' >> /etc/postgresql-common/createcluster.conf
fi
# keep the createcluster.conf written above: no conffile prompt without a tty
apt-get install -y -q --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}"
