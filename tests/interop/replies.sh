#!/usr/bin/env bash
# Driver of replies.test.js: a private PostgreSQL cluster, the real hoso-identity, then (once the
# test's setup phase has made units, an approver and the transfers service client)
# hoso-records and hoso-gateway from BUILD_DIR; every reply of the record paths is decoded by
# foreign decoders; every service must then stop cleanly.
set -euo pipefail

BUILD="$(cd "${1:?usage: replies.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ADMIN_PASSWORD="Quan-tri-vien-replies-2026!"

command -v node >/dev/null || { echo "replies: node is not installed (./hoso test installs it)" >&2; exit 1; }
for b in hoso-identity hoso-records hoso-gateway; do
  [ -x "$BUILD/$b" ] || { echo "replies: $BUILD/$b is not built" >&2; exit 1; }
done

NAME=replies
# shellcheck source=lib.sh
. "$HERE/lib.sh"
interop_npm_ci
interop_pg_start

interop_start identity HOSO_IDENTITY_ADDR HOSO_PG_DSN="$PG_DSN" \
  HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$BUILD/hoso-identity"
IDN_PID=$SPAWNED
IDN_ADDR=$STARTED_ADDR

SETUP="$(cd "$HERE" && HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  node replies.test.js setup)"
CLIENT_ID="$(node -e 'console.log(JSON.parse(process.argv[1]).clientId)' "$SETUP")"

interop_start records HOSO_RECORDS_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_IDENTITY_ADDR="$IDN_ADDR" \
  HOSO_TRANSFERS_CLIENT_ID="$CLIENT_ID" "$BUILD/hoso-records"
REC_PID=$SPAWNED
REC_ADDR=$STARTED_ADDR
interop_start gateway HOSO_GATEWAY_ADDR HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" \
  HOSO_GATEWAY_READY_BACKENDS=identity,records "$BUILD/hoso-gateway"
GW_PID=$SPAWNED
GW_ADDR=$STARTED_ADDR

interop_wait_gateway "$GW_ADDR" "$IDN_PID" "$REC_PID" "$GW_PID"

(cd "$HERE" && HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" \
  HOSO_GATEWAY_URL="http://$GW_ADDR" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  HOSO_REPLIES_SETUP="$SETUP" node replies.test.js)

interop_stop "$GW_PID" gateway
interop_stop "$REC_PID" records
interop_stop "$IDN_PID" identity
STATUS=0
