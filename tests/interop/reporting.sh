#!/usr/bin/env bash
# Driver of reporting.test.js: a private PostgreSQL cluster, the real hoso-identity, then (once
# the test's setup phase has made units and the transfers and reporting service clients)
# hoso-records, hoso-transfers, hoso-reporting and hoso-gateway from BUILD_DIR; a Node.js
# @grpc/grpc-js client decodes every reporting reply strictly, streamed files included, and the
# gateway's JSON faces answer; every service must then stop cleanly.
set -euo pipefail

BUILD="$(cd "${1:?usage: reporting.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ADMIN_PASSWORD="Quan-tri-vien-reporting-2026!"

command -v node >/dev/null || { echo "reporting: node is not installed (./hoso test installs it)" >&2; exit 1; }
for b in hoso-identity hoso-records hoso-transfers hoso-reporting hoso-gateway; do
  [ -x "$BUILD/$b" ] || { echo "reporting: $BUILD/$b is not built" >&2; exit 1; }
done

NAME=reporting
# shellcheck source=lib.sh
. "$HERE/lib.sh"
interop_npm_ci
interop_pg_start

interop_start identity HOSO_IDENTITY_ADDR HOSO_PG_DSN="$PG_DSN" \
  HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$BUILD/hoso-identity"
IDN_PID=$SPAWNED
IDN_ADDR=$STARTED_ADDR

SETUP="$(cd "$HERE" && HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  node reporting.test.js setup)"
field() { node -e 'console.log(JSON.parse(process.argv[1])[process.argv[2]])' "$SETUP" "$1"; }
TR_ID="$(field transfersId)"
TR_SECRET="$(field transfersSecret)"
RP_ID="$(field reportingId)"
RP_SECRET="$(field reportingSecret)"

interop_start records HOSO_RECORDS_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_IDENTITY_ADDR="$IDN_ADDR" \
  HOSO_TRANSFERS_CLIENT_ID="$TR_ID" "$BUILD/hoso-records"
REC_PID=$SPAWNED
REC_ADDR=$STARTED_ADDR
interop_start transfers HOSO_TRANSFERS_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_IDENTITY_ADDR="$IDN_ADDR" \
  HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_TRANSFERS_CLIENT_ID="$TR_ID" HOSO_TRANSFERS_CLIENT_SECRET="$TR_SECRET" \
  HOSO_TRANSFERS_JOBS_MS=200 "$BUILD/hoso-transfers"
TR_PID=$SPAWNED
TR_ADDR=$STARTED_ADDR
interop_start reporting HOSO_REPORTING_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_REPORTING_PG_DSN="$PG_REPORT_DSN" \
  HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_TRANSFERS_ADDR="$TR_ADDR" \
  HOSO_REPORTING_CLIENT_ID="$RP_ID" HOSO_REPORTING_CLIENT_SECRET="$RP_SECRET" "$BUILD/hoso-reporting"
RP_PID=$SPAWNED
RP_ADDR=$STARTED_ADDR
interop_start gateway HOSO_GATEWAY_ADDR HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" \
  HOSO_TRANSFERS_ADDR="$TR_ADDR" HOSO_REPORTING_ADDR="$RP_ADDR" \
  HOSO_GATEWAY_READY_BACKENDS=identity,records,transfers,reporting "$BUILD/hoso-gateway"
GW_PID=$SPAWNED
GW_ADDR=$STARTED_ADDR

interop_wait_gateway "$GW_ADDR" "$IDN_PID" "$REC_PID" "$TR_PID" "$RP_PID" "$GW_PID"

(cd "$HERE" && HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_TRANSFERS_ADDR="$TR_ADDR" \
  HOSO_REPORTING_ADDR="$RP_ADDR" HOSO_GATEWAY_URL="http://$GW_ADDR" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  HOSO_REPORTING_SETUP="$SETUP" node reporting.test.js)

interop_stop "$GW_PID" gateway
interop_stop "$RP_PID" reporting
interop_stop "$TR_PID" transfers
interop_stop "$REC_PID" records
interop_stop "$IDN_PID" identity
STATUS=0
