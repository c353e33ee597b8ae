#!/usr/bin/env bash
# Interop test driver: installs the Node.js client's packages, starts a private PostgreSQL cluster
# and the real hoso-identity from BUILD_DIR, runs interop.test.js against it, cleans up.
set -euo pipefail

BUILD="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ADMIN_PASSWORD="Quan-tri-vien-interop-2026!"

command -v node >/dev/null || { echo "interop: node is not installed (./hoso test installs it)" >&2; exit 1; }
[ -x "$BUILD/hoso-identity" ] || { echo "interop: $BUILD/hoso-identity is not built" >&2; exit 1; }

NAME=interop
# shellcheck source=lib.sh
. "$HERE/lib.sh"
interop_npm_ci
interop_pg_start

export HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD"
interop_start identity HOSO_IDENTITY_ADDR HOSO_PG_DSN="$PG_DSN" \
  HOSO_ADMIN_PASSWORD="$HOSO_ADMIN_PASSWORD" "$BUILD/hoso-identity"
SVC_PID=$SPAWNED
export HOSO_IDENTITY_ADDR="$STARTED_ADDR"

(cd "$HERE" && node interop.test.js)

interop_stop "$SVC_PID" hoso-identity
STATUS=0
