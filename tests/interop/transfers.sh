#!/usr/bin/env bash
# Driver of transfers.test.js: a private PostgreSQL cluster, the real hoso-identity, then (once
# the test's setup phase has made units, updaters and the transfers service client) hoso-records
# and hoso-transfers from BUILD_DIR; a Node.js @grpc/grpc-js client drives whole transfers and
# decodes every reply strictly; every service must then stop cleanly.
set -euo pipefail

BUILD="$(cd "${1:?usage: transfers.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ADMIN_PASSWORD="Quan-tri-vien-transfers-2026!"

command -v node >/dev/null || { echo "transfers: node is not installed (./hoso test installs it)" >&2; exit 1; }
for b in hoso-identity hoso-records hoso-transfers; do
  [ -x "$BUILD/$b" ] || { echo "transfers: $BUILD/$b is not built" >&2; exit 1; }
done

NAME=transfers
# shellcheck source=lib.sh
. "$HERE/lib.sh"
interop_npm_ci
interop_pg_start

interop_start identity HOSO_IDENTITY_ADDR HOSO_PG_DSN="$PG_DSN" \
  HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$BUILD/hoso-identity"
IDN_PID=$SPAWNED
IDN_ADDR=$STARTED_ADDR

SETUP="$(cd "$HERE" && HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  node transfers.test.js setup)"
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$SETUP" "$1"; }
CLIENT_ID="$(field clientId)"
CLIENT_SECRET="$(field clientSecret)"

interop_start records HOSO_RECORDS_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_IDENTITY_ADDR="$IDN_ADDR" \
  HOSO_TRANSFERS_CLIENT_ID="$CLIENT_ID" "$BUILD/hoso-records"
REC_PID=$SPAWNED
REC_ADDR=$STARTED_ADDR
interop_start transfers HOSO_TRANSFERS_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_IDENTITY_ADDR="$IDN_ADDR" \
  HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_TRANSFERS_CLIENT_ID="$CLIENT_ID" HOSO_TRANSFERS_CLIENT_SECRET="$CLIENT_SECRET" \
  HOSO_TRANSFERS_JOBS_MS=200 "$BUILD/hoso-transfers"
TR_PID=$SPAWNED
TR_ADDR=$STARTED_ADDR

(cd "$HERE" && HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_TRANSFERS_ADDR="$TR_ADDR" \
  HOSO_TRANSFERS_SETUP="$SETUP" node transfers.test.js)

interop_stop "$TR_PID" transfers
interop_stop "$REC_PID" records
interop_stop "$IDN_PID" identity
STATUS=0
