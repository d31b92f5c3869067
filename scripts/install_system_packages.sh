#!/usr/bin/env bash
# Debian packages the test suite needs, installed with apt-get only when missing (idempotent; `make test` and
# .ci/run call it). Add a package as one more line of PACKAGES: "<package> <command that proves it is there>".
set -euo pipefail

# PostgreSQL: the prediction store's tests run a real server (tests/servers/postgres.py).
PACKAGES=(
  "postgresql compgen -G '/usr/lib/postgresql/*/bin/pg_ctl'"
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
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
