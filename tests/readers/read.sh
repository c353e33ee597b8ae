#!/usr/bin/env bash
# Runs read.mjs (exceljs, csv-parse) after installing its packages once from the lock file;
# used by the reporting tests to read back the files the service writes.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v node >/dev/null || { echo "read.sh: node is not installed (./hoso test installs it)" >&2; exit 1; }
(
  flock 9
  if [ ! -d "$HERE/node_modules/exceljs" ] || [ ! -d "$HERE/node_modules/csv-parse" ]; then
    cd "$HERE"
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
) 9>"/tmp/hoso-readers-npm.lock"
exec node "$HERE/read.mjs" "$@"
