# Shared by the interop drivers (run.sh, connect/run.sh): a private PostgreSQL cluster in a temp
# dir, service processes started with a clean environment, and a clean stop. Source it after
# setting NAME (for messages); then call interop_pg_start.

INTEROP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PG_BIN="${HOSO_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}"
[ -n "$PG_BIN" ] || { echo "$NAME: no PostgreSQL server binaries" >&2; exit 1; }

# initdb and postgres refuse root: as root, they run as postgres in a directory it owns.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

TMP="$(mktemp -d "/tmp/hoso-$NAME-XXXXXX")"
[ "$(id -u)" -ne 0 ] || chown postgres: "$TMP"
chmod 700 "$TMP"
# identity's key encryption key, as ./hoso up makes it (every service gets it; identity uses it)
KEK="$TMP/kek"
(umask 077 && openssl rand -hex 32 >"$KEK")
# and the key that signs the audit checkpoints, and the file they go to
AUDIT_KEY="$TMP/audit-checkpoint.key"
(umask 077 && openssl genpkey -algorithm ed25519 -out "$AUDIT_KEY")
INTEROP_PIDS=()
STATUS=1

interop_cleanup() {
  local p
  for p in "${INTEROP_PIDS[@]}"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -m immediate stop >/dev/null 2>&1 || true
  if [ "$STATUS" -ne 0 ]; then
    local f
    for f in "$TMP"/*.log; do
      [ -f "$f" ] && { echo "---- $f (last lines)"; tail -n 40 "$f"; }
    done
  fi
  rm -rf "$TMP"
}
trap interop_cleanup EXIT
trap 'exit 130' INT TERM

# The cluster, its roles and database hoso; PG_DSN and PG_MIGRATE_DSN for the services.
interop_pg_start() {
  as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
    >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log"; exit 1; }
  as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -w -t 60 -l "$TMP/server.log" \
    -o "-c listen_addresses='' -k '$TMP' -p 5432 -c fsync=off -c synchronous_commit=off" start >/dev/null
  # as in production: hoso_owner owns and migrates, the services run as hoso (srv_schema.c),
  # reporting reads records' published views as hoso_report (records/migrations/031)
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$TMP" -p 5432 -U postgres -d postgres \
    -c "CREATE ROLE hoso_owner LOGIN NOSUPERUSER" -c "CREATE ROLE hoso LOGIN NOSUPERUSER" \
    -c "CREATE ROLE hoso_report LOGIN NOSUPERUSER" -c "CREATE DATABASE hoso OWNER hoso_owner"
  PG_DSN="host=$TMP port=5432 dbname=hoso user=hoso"
  PG_MIGRATE_DSN="host=$TMP port=5432 dbname=hoso user=hoso_owner"
  PG_REPORT_DSN="host=$TMP port=5432 dbname=hoso user=hoso_report"
}

free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# interop_spawn LOGNAME VAR=value... BINARY: runs BINARY in the background with only the given
# settings (a developer's own HOSO_* must not change the test), stderr to $TMP/LOGNAME.log;
# the pid is appended to INTEROP_PIDS and left in SPAWNED.
interop_spawn() {
  local log="$1"
  shift
  # a fresh log for each start, made 0640 as ./hoso up makes a service's (tools/run-logged.sh)
  : >"$TMP/$log.log"
  "$INTEROP_ROOT/tools/run-logged.sh" "$TMP/$log.log" \
    env -i PATH="$PATH" ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
    LSAN_OPTIONS="${LSAN_OPTIONS:-}" HOSO_LOG_LEVEL=info HOSO_PLAINTEXT=1 \
    HOSO_KEY_ENCRYPTION_KEY="$KEK" HOSO_AUDIT_CHECKPOINT_KEY="$AUDIT_KEY" \
    HOSO_AUDIT_CHECKPOINT_FILE="$TMP/audit-checkpoints.log" \
    ${PG_MIGRATE_DSN:+HOSO_PG_MIGRATE_DSN="$PG_MIGRATE_DSN"} "$@" </dev/null &
  SPAWNED=$!
  INTEROP_PIDS+=("$SPAWNED")
}

# owns_listener PID PORT: whether process PID holds the socket listening on 127.0.0.1:PORT (from
# /proc/net/tcp{,6} and the socket inodes among its descriptors).
owns_listener() {
  local pid="$1" hex inode
  hex="$(printf '%04X' "$2")"
  for inode in $(awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' \
    /proc/net/tcp /proc/net/tcp6 2>/dev/null); do
    ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "socket:\[$inode\]" && return 0
  done
  return 1
}

# wait_listening LOGNAME PORT: 0 once $SPAWNED itself listens on 127.0.0.1:PORT; 1 when it
# exited during start-up having lost the port to someone else; exits the script otherwise.
wait_listening() {
  local log="$1" port="$2" i
  for ((i = 0; i < 600; i++)); do
    if owns_listener "$SPAWNED" "$port"; then
      STARTED_ADDR="127.0.0.1:$port"
      return 0
    fi
    kill -0 "$SPAWNED" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$SPAWNED" 2>/dev/null && { echo "$NAME: $log did not listen within 60 s" >&2; exit 1; }
  grep -qE 'cannot listen on|Address already in use' "$TMP/$log.log" ||
    { echo "$NAME: $log exited during start-up" >&2; exit 1; }
  return 1
}

# interop_start LOGNAME ADDR_VAR VAR=value... BINARY: interop_spawn on a free port given as
# ADDR_VAR=127.0.0.1:PORT, ready once that process itself listens there (another test running
# beside this one may have been handed the same free port: its service would answer a health
# check just as well). A start that lost the port to someone else is made again on another.
# Leaves the pid in SPAWNED and the address in STARTED_ADDR.
interop_start() {
  local log="$1" var="$2" attempt port
  shift 2
  for attempt in 1 2 3; do
    port="$(free_port)"
    interop_spawn "$log" "$var=127.0.0.1:$port" "$@"
    wait_listening "$log" "$port" && return 0
    mv "$TMP/$log.log" "$TMP/$log.lost-port-$attempt.log"
  done
  echo "$NAME: $log lost its port three times" >&2
  exit 1
}

# interop_hold_port: a free port kept by a listener of ours (HELD_PORT; its pid HELD_PID) until
# interop_start_held starts a service there: for a service whose address another one must be
# given first (identity calls records, and starts before it).
interop_hold_port() {
  local f="$TMP/held-port-$RANDOM" i
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{require("fs").writeFileSync(process.argv[1],String(s.address().port))})' "$f" &
  HELD_PID=$!
  INTEROP_PIDS+=("$HELD_PID")
  for ((i = 0; i < 300; i++)); do
    [ -s "$f" ] && break
    sleep 0.1
  done
  [ -s "$f" ] || { echo "$NAME: could not hold a port" >&2; exit 1; }
  HELD_PORT="$(cat "$f")"
}

# interop_start_held LOGNAME ADDR_VAR VAR=value... BINARY: interop_start on the port
# interop_hold_port kept (released just before), one attempt.
interop_start_held() {
  local log="$1" var="$2"
  shift 2
  kill "$HELD_PID" 2>/dev/null || true
  wait "$HELD_PID" 2>/dev/null || true
  interop_spawn "$log" "$var=127.0.0.1:$HELD_PORT" "$@"
  wait_listening "$log" "$HELD_PORT" || { echo "$NAME: $log lost the port held for it" >&2; exit 1; }
}

# interop_stop PID NAME: SIGTERM, wait up to 20 s, fail unless it exits 0 (drained, and no
# leak reports under the sanitizers).
interop_stop() {
  local pid="$1" name="$2" i rc=0
  kill -TERM "$pid"
  for ((i = 0; i < 200; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && { echo "$NAME: $name still running 20 s after SIGTERM" >&2; exit 1; }
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || { echo "$NAME: $name exited with status $rc after SIGTERM" >&2; exit 1; }
  echo "ok - $name stopped cleanly"
}

# interop_npm_ci: npm ci once for this folder (@grpc/grpc-js, @grpc/proto-loader, protobufjs); a lock, because two
# test runs may share this source tree.
interop_npm_ci() {
  (
    flock 9
    if [ ! -d "$HERE/node_modules/@grpc/grpc-js" ] || [ ! -d "$HERE/node_modules/@grpc/proto-loader" ] ||
      [ ! -d "$HERE/node_modules/protobufjs" ]; then
      cd "$HERE"
      npm ci --no-audit --no-fund --loglevel=error
    fi
  ) 9>"/tmp/hoso-interop-npm.lock"
}

# interop_wait_gateway ADDR PID...: waits (up to 60 s) until the gateway at ADDR answers /readyz
# 200 (every backend it checks serves); fails at once when one of the PIDs has exited.
interop_wait_gateway() {
  local addr="$1" i p
  shift
  ready() {
    (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}" &&
      printf 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3 &&
      IFS= read -r -t 2 line <&3 && [[ "$line" == "HTTP/1.1 200 "* ]]) 2>/dev/null
  }
  for ((i = 0; i < 600; i++)); do
    ready && return 0
    for p in "$@"; do
      kill -0 "$p" 2>/dev/null || { echo "$NAME: a service exited during start-up" >&2; exit 1; }
    done
    sleep 0.1
  done
  ready || { echo "$NAME: the gateway was not ready within 60 s" >&2; exit 1; }
}
