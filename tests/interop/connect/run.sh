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

PG_BIN="${HOSO_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
[ -n "$PG_BIN" ] || { echo "connect interop: no PostgreSQL server binaries" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

TMP="$(mktemp -d /tmp/hoso-interop-connect-XXXXXX)"
[ "$(id -u)" -ne 0 ] || chown postgres: "$TMP"
chmod 700 "$TMP"
IDN_PID=""
GW_PID=""
STATUS=1

cleanup() {
  for p in "$GW_PID" "$IDN_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
  if [ "$STATUS" -ne 0 ]; then
    for f in "$TMP/gateway.log" "$TMP/identity.log" "$TMP/server.log"; do
      [ -f "$f" ] && { echo "---- $f (last lines)"; tail -n 40 "$f"; }
    done
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
  >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log"; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -w -t 60 -l "$TMP/server.log" \
  -o "-c listen_addresses='' -k '$TMP' -p 5432 -c fsync=off -c synchronous_commit=off" start >/dev/null
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$TMP" -p 5432 -U postgres -d postgres \
  -c "CREATE ROLE hoso LOGIN NOSUPERUSER" -c "CREATE DATABASE hoso OWNER hoso"

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
IDN_ADDR="127.0.0.1:$(free_port)"
GW_ADDR="127.0.0.1:$(free_port)"
# Only what the processes need: a developer's own HOSO_* settings must not change the test.
# exec: the background job must be the process itself, so $! is what gets the signal.
run_clean() {
  exec env -i PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
    LSAN_OPTIONS="${LSAN_OPTIONS:-}" HOSO_LOG_LEVEL=info HOSO_IDENTITY_ADDR="$IDN_ADDR" "$@"
}
run_clean HOSO_PG_DSN="host=$TMP port=5432 dbname=hoso user=hoso" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
  HOSO_TRUSTED_PROXIES=127.0.0.1 "$BUILD/hoso-identity" >"$TMP/identity.log" 2>&1 </dev/null &
IDN_PID=$!
run_clean HOSO_GATEWAY_ADDR="$GW_ADDR" HOSO_GATEWAY_READY_BACKENDS=identity \
  "$BUILD/hoso-gateway" >"$TMP/gateway.log" 2>&1 </dev/null &
GW_PID=$!

# Ready when the gateway's /readyz says identity serves.
ready() {
  (exec 3<>"/dev/tcp/${GW_ADDR%:*}/${GW_ADDR##*:}" &&
    printf 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3 &&
    IFS= read -r -t 2 line <&3 && [[ "$line" == "HTTP/1.1 200 "* ]]) 2>/dev/null
}
for ((i = 0; i < 600; i++)); do
  ready && break
  for p in "$IDN_PID" "$GW_PID"; do
    kill -0 "$p" 2>/dev/null || { echo "connect interop: a service exited during start-up" >&2; exit 1; }
  done
  sleep 0.1
done
ready || { echo "connect interop: the gateway was not ready within 60 s" >&2; exit 1; }

(cd "$HERE" && HOSO_GATEWAY_URL="http://$GW_ADDR" HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD" node connect.test.mjs)

# Both must also stop cleanly (drain, no leak reports under the sanitizers).
for name in gateway identity; do
  if [ "$name" = gateway ]; then pid="$GW_PID"; else pid="$IDN_PID"; fi
  kill -TERM "$pid"
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && { echo "connect interop: $name still running 20 s after SIGTERM" >&2; exit 1; }
  rc=0
  wait "$pid" || rc=$?
  if [ "$name" = gateway ]; then GW_PID=""; else IDN_PID=""; fi
  [ "$rc" -eq 0 ] || { echo "connect interop: $name exited with status $rc after SIGTERM" >&2; exit 1; }
  echo "ok - $name stopped cleanly"
done
STATUS=0
