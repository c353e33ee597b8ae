#!/usr/bin/env bash
# Interop test driver: installs the Node.js client's packages, starts a private PostgreSQL cluster
# and the real hoso-identity from BUILD_DIR, runs interop.test.js against it, cleans up.
set -euo pipefail

BUILD="$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ADMIN_PASSWORD="Quan-tri-vien-interop-2026!"

command -v node >/dev/null || { echo "interop: node is not installed (./hoso test installs it)" >&2; exit 1; }
[ -x "$BUILD/hoso-identity" ] || { echo "interop: $BUILD/hoso-identity is not built" >&2; exit 1; }

# npm ci once; a lock, because two test runs may share this source tree.
(
  flock 9
  if [ ! -d "$HERE/node_modules/@grpc/grpc-js" ] || [ ! -d "$HERE/node_modules/@grpc/proto-loader" ]; then
    cd "$HERE"
    npm ci --no-audit --no-fund --loglevel=error
  fi
) 9>"/tmp/hoso-interop-npm.lock"

PG_BIN="${HOSO_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
[ -n "$PG_BIN" ] || { echo "interop: no PostgreSQL server binaries" >&2; exit 1; }

# initdb and postgres refuse root: as root, they run as postgres in a directory it owns.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

TMP="$(mktemp -d /tmp/hoso-interop-XXXXXX)"
[ "$(id -u)" -ne 0 ] || chown postgres: "$TMP"
chmod 700 "$TMP"
SVC_PID=""
STATUS=1

cleanup() {
  if [ -n "$SVC_PID" ] && kill -0 "$SVC_PID" 2>/dev/null; then
    kill -KILL "$SVC_PID" 2>/dev/null || true
  fi
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
  if [ "$STATUS" -ne 0 ]; then
    for f in "$TMP/identity.log" "$TMP/server.log"; do
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

PORT="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
export HOSO_IDENTITY_ADDR="127.0.0.1:$PORT"
export HOSO_ADMIN_PASSWORD="$ADMIN_PASSWORD"
# Only what the service needs: a developer's own HOSO_* settings must not change the test.
env -i PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
  LSAN_OPTIONS="${LSAN_OPTIONS:-}" HOSO_PG_DSN="host=$TMP port=5432 dbname=hoso user=hoso" \
  HOSO_IDENTITY_ADDR="$HOSO_IDENTITY_ADDR" HOSO_ADMIN_PASSWORD="$HOSO_ADMIN_PASSWORD" \
  HOSO_LOG_LEVEL=info "$BUILD/hoso-identity" >"$TMP/identity.log" 2>&1 </dev/null &
SVC_PID=$!

(cd "$HERE" && node interop.test.js)

# The service must also stop cleanly (drain, no leak reports under the sanitizers).
kill -TERM "$SVC_PID"
for ((i = 0; i < 200; i++)); do
  kill -0 "$SVC_PID" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$SVC_PID" 2>/dev/null && { echo "interop: hoso-identity still running 20 s after SIGTERM" >&2; exit 1; }
rc=0
wait "$SVC_PID" || rc=$?
SVC_PID=""
if [ "$rc" -ne 0 ]; then
  echo "interop: hoso-identity exited with status $rc after SIGTERM" >&2
  exit 1
fi
echo "ok - hoso-identity stopped cleanly"
STATUS=0
