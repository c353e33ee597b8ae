#!/usr/bin/env bash
# Browser end-to-end driver, run by ctest: builds the production bundle (npm ci, generated
# clients, vite build into BUILD_DIR/web-dist), checks it (bundle.mjs), starts a private
# PostgreSQL and the real identity, records, transfers, reporting (with the services' own service
# clients, made by hoso-seed as ./hoso up makes them, and a package signing key) and gateway
# (serving that bundle) from BUILD_DIR, runs the scenarios in Debian's Chromium
# (browser.test.mjs), stops everything cleanly. Screenshots go to BUILD_DIR/screenshots.
set -euo pipefail

BUILD="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
WEB="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INTEROP="$(cd "$WEB/../tests/interop" && pwd)"
ADMIN_PASSWORD="Quan-tri-vien-web-2026!"
CHROMIUM="${HOSO_CHROMIUM:-/usr/bin/chromium}"

command -v node >/dev/null || { echo "web e2e: node is not installed (./hoso test installs it)" >&2; exit 1; }
[ -x "$CHROMIUM" ] || { echo "web e2e: $CHROMIUM is missing (Debian package chromium; ./hoso test installs it)" >&2; exit 1; }
for b in hoso-identity hoso-records hoso-transfers hoso-reporting hoso-gateway hoso-seed; do
  [ -x "$BUILD/$b" ] || { echo "web e2e: $BUILD/$b is not built" >&2; exit 1; }
done

. "$WEB/e2e/npm.sh"
web_npm_ci "$WEB"
DIST="$BUILD/web-dist"
(cd "$WEB" && npx tsc -p . && HOSO_WEB_OUT="$DIST" npx vite build --logLevel warn && node scripts/compress.mjs "$DIST")
node "$WEB/e2e/bundle.mjs" "$DIST"

NAME=web-e2e
# shellcheck source=../../tests/interop/lib.sh
. "$INTEROP/lib.sh"
interop_pg_start

# identity is told where records will listen: it asks records to confirm a person's link
interop_hold_port
interop_start identity HOSO_IDENTITY_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_RECORDS_ADDR="127.0.0.1:$HELD_PORT" \
  HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" HOSO_TRUSTED_PROXIES=127.0.0.1 \
  HOSO_ROOT_UNIT_NAME="Ủy ban nhân dân tỉnh Bắc Giang" HOSO_ROOT_UNIT_CODE=BG "$BUILD/hoso-identity"
IDN_PID=$SPAWNED
IDN_ADDR=$STARTED_ADDR
# the services' own service clients, as ./hoso up makes them (records follows the unit tree
# and lets the transfers client move records; transfers calls records as itself)
SVC_ENV="$TMP/service-clients.env"
HOSO_PLAINTEXT=1 HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" "$BUILD/hoso-seed" service-clients --addr "$IDN_ADDR" \
  --out "$SVC_ENV" >"$TMP/seed.log" 2>&1 || { cat "$TMP/seed.log"; exit 1; }
svc_env() { sed -n "s/^$1=//p" "$SVC_ENV"; }
PKG_KEY="$TMP/package-signing.pem"
(umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKG_KEY" 2>/dev/null)

# the search's count capped at 1 (1 000 in a deployment), so that a screen shows "more than"
interop_start_held records HOSO_RECORDS_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_SEARCH_COUNT_CAP=1 \
  HOSO_TRUSTED_PROXIES=127.0.0.1 HOSO_TRANSFERS_CLIENT_ID="$(svc_env HOSO_TRANSFERS_CLIENT_ID)" \
  HOSO_RECORDS_CLIENT_ID="$(svc_env HOSO_RECORDS_CLIENT_ID)" HOSO_RECORDS_CLIENT_SECRET="$(svc_env HOSO_RECORDS_CLIENT_SECRET)" \
  "$BUILD/hoso-records"
REC_PID=$SPAWNED
REC_ADDR=$STARTED_ADDR
interop_start transfers HOSO_TRANSFERS_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_IDENTITY_ADDR="$IDN_ADDR" \
  HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_TRUSTED_PROXIES=127.0.0.1 HOSO_TRANSFERS_JOBS_MS=200 HOSO_PACKAGE_KEY="$PKG_KEY" \
  HOSO_TRANSFERS_CLIENT_ID="$(svc_env HOSO_TRANSFERS_CLIENT_ID)" HOSO_TRANSFERS_CLIENT_SECRET="$(svc_env HOSO_TRANSFERS_CLIENT_SECRET)" \
  "$BUILD/hoso-transfers"
TR_PID=$SPAWNED
TR_ADDR=$STARTED_ADDR
interop_start reporting HOSO_REPORTING_ADDR HOSO_PG_DSN="$PG_DSN" HOSO_REPORTING_PG_DSN="$PG_REPORT_DSN" \
  HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_TRANSFERS_ADDR="$TR_ADDR" HOSO_TRUSTED_PROXIES=127.0.0.1 \
  HOSO_REPORTING_CLIENT_ID="$(svc_env HOSO_REPORTING_CLIENT_ID)" HOSO_REPORTING_CLIENT_SECRET="$(svc_env HOSO_REPORTING_CLIENT_SECRET)" \
  "$BUILD/hoso-reporting"
RP_PID=$SPAWNED
RP_ADDR=$STARTED_ADDR
interop_start gateway HOSO_GATEWAY_ADDR HOSO_IDENTITY_ADDR="$IDN_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" \
  HOSO_TRANSFERS_ADDR="$TR_ADDR" HOSO_REPORTING_ADDR="$RP_ADDR" HOSO_GATEWAY_READY_BACKENDS=identity,records,transfers,reporting \
  HOSO_GATEWAY_STATIC_DIR="$DIST" "$BUILD/hoso-gateway"
GW_PID=$SPAWNED
GW_ADDR=$STARTED_ADDR

interop_wait_gateway "$GW_ADDR" "$IDN_PID" "$REC_PID" "$TR_PID" "$RP_PID" "$GW_PID"

mkdir -p "$BUILD/screenshots"
(cd "$WEB" && HOSO_GATEWAY_URL="http://$GW_ADDR" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  HOSO_CHROMIUM="$CHROMIUM" HOSO_SHOTS="$BUILD/screenshots" HOSO_TMP="$TMP" node e2e/browser.test.mjs)

interop_stop "$GW_PID" gateway
interop_stop "$RP_PID" reporting
interop_stop "$TR_PID" transfers
interop_stop "$REC_PID" records
interop_stop "$IDN_PID" identity
STATUS=0
