#!/usr/bin/env bash
# Debian packages the test suite needs, installed with apt-get only when missing (idempotent; `make test`, and so
# .ci/run, calls it). Add a package as one more line of PACKAGES: "<package> <command that proves it is there>".
set -euo pipefail

PACKAGES=(
  # PostgreSQL: the prediction store's tests run a real server (tests/servers/postgres.py).
  "postgresql compgen -G '/usr/lib/postgresql/*/bin/pg_ctl'"
  # Chromium: the page tests drive it with Playwright (tests/browser.py); Playwright's own builds are not
  # downloadable here.
  "chromium test -x /usr/bin/chromium"
  # wrk: the overload test and bench/ drive the service with a C load generator (a Python one on the same cores
  # steals the CPU it measures).
  "wrk command -v wrk"
  # A Java runtime: pyspark starts a JVM (the batch job, tests/batch). Debian's default (17 on bookworm, 21 on
  # trixie; Spark 4.1 runs on both).
  "default-jre-headless command -v java"
)

missing=()
for entry in "${PACKAGES[@]}"; do
  package=${entry%% *}
  check=${entry#* }
  if ! eval "$check" >/dev/null 2>&1; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo ">> system packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "install_system_packages.sh: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi

echo ">> installing Debian packages: ${missing[*]}"
install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}")
# apt-get update only when needed: no package lists yet (fresh containers), or they are too old to install from.
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || ! "${install[@]}"; then
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${install[@]}"
fi
