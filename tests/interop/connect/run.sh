#!/usr/bin/env bash
# Connect interop driver: installs the pinned npm packages, generates the client code from
# proto/ with protoc + protoc-gen-es, starts a private PostgreSQL cluster, the real
# hoso-identity and hoso-gateway from BUILD_DIR, runs connect.test.mjs, stops and cleans up.
set -euo pipefail

BUILD="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROTO="$(cd "$HERE/../../../proto" && pwd)"
ADMIN_PASSWORD="Quan-tri-vien-connect-2026!"

command -v node >/dev/null || { echo "connect interop: node is not installed (./hoso test installs it)" >&2; exit 1; }
command -v protoc >/dev/null || { echo "connect interop: protoc is not installed (Debian protobuf-compiler)" >&2; exit 1; }
for b in hoso-identity hoso-gateway; do
  [ -x "$BUILD/$b" ] || { echo "connect interop: $BUILD/$b is not built" >&2; exit 1; }
done

# google/protobuf/descriptor.proto (imported by google/api/annotations.proto): where the build found it
PB_INC="$(sed -n 's/^PROTOBUF_INCLUDE_DIR:PATH=//p' "$BUILD/CMakeCache.txt" 2>/dev/null || true)"
PB_INC="${PB_INC:-/usr/include}"

# npm ci once and the code generated per run, under a lock: two test runs may share this tree.
(
  flock 9
  cd "$HERE"
  if [ ! -d node_modules/@connectrpc/connect-node ] || [ ! -x node_modules/.bin/protoc-gen-es ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  rm -rf gen.tmp && mkdir gen.tmp
  protoc -I "$PROTO" -I "$PB_INC" --plugin=protoc-gen-es="$HERE/node_modules/.bin/protoc-gen-es" \
    --es_out=gen.tmp --es_opt=target=js,import_extension=js \
    identity.proto common.proto google/api/annotations.proto google/api/http.proto
  rm -rf gen && mv gen.tmp gen
) 9>"/tmp/hoso-interop-connect.lock"

NAME=interop-connect
# shellcheck source=../lib.sh
. "$HERE/../lib.sh"
interop_pg_start

# One after the other: each on a port its own process is seen to hold (lib.sh).
interop_start identity HOSO_IDENTITY_ADDR HOSO_PG_DSN="$PG_DSN" \
  HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" HOSO_TRUSTED_PROXIES=127.0.0.1 "$BUILD/hoso-identity"
IDN_PID=$SPAWNED
IDN_ADDR=$STARTED_ADDR
interop_start gateway HOSO_GATEWAY_ADDR HOSO_IDENTITY_ADDR="$IDN_ADDR" \
  HOSO_GATEWAY_READY_BACKENDS=identity "$BUILD/hoso-gateway"
GW_PID=$SPAWNED
GW_ADDR=$STARTED_ADDR

interop_wait_gateway "$GW_ADDR" "$IDN_PID" "$GW_PID"

(cd "$HERE" && HOSO_GATEWAY_URL="http://$GW_ADDR" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" node connect.test.mjs)

# Both must also stop cleanly (drain, no leak reports under the sanitizers).
interop_stop "$GW_PID" gateway
interop_stop "$IDN_PID" identity
STATUS=0
