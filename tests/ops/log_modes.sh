#!/usr/bin/env bash
# Log files are 0640 (docs/SECURITY.md, Transport): identity (with its PostgreSQL) and the
# gateway started as ./hoso up starts them, through tools/run-logged.sh, under the most permissive
# umask (000), one over a log an older run left world-readable (0666) and one on a new file:
# both logs end 0640 and hold the service's own lines. Fails if run-logged leaves the mode to
# the umask or to the file's past.
set -euo pipefail

BUILD="$(cd "${1:?usage: log_modes.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for b in hoso-identity hoso-gateway; do
  [ -x "$BUILD/$b" ] || { echo "log_modes: $BUILD/$b is not built" >&2; exit 1; }
done
command -v node >/dev/null || { echo "log_modes: node is not installed (./hoso test installs it)" >&2; exit 1; }

NAME=log_modes
# shellcheck source=../interop/lib.sh
. "$HERE/../interop/lib.sh"
interop_pg_start

umask 000
touch "$TMP/identity.log"
chmod 666 "$TMP/identity.log" # left world-readable by an older ./hoso

interop_start identity HOSO_IDENTITY_ADDR HOSO_PG_DSN="$PG_DSN" \
  HOSO_ADMIN_PASSWORD="Quan-tri-vien-log-modes-2026!" "$BUILD/hoso-identity"
IDN_PID=$SPAWNED
IDN_ADDR=$STARTED_ADDR
interop_start gateway HOSO_GATEWAY_ADDR HOSO_IDENTITY_ADDR="$IDN_ADDR" "$BUILD/hoso-gateway"
GW_PID=$SPAWNED

check() {
  local log="$TMP/$1.log" mode i
  # the service's own start-up line (JSON, naming it), waited for: up to 60 s
  for ((i = 0; i < 600; i++)); do
    grep -q "\"service\":\"$1\"" "$log" && break
    sleep 0.1
  done
  grep -q "\"service\":\"$1\"" "$log" || { echo "log_modes: $1 wrote nothing to its log" >&2; exit 1; }
  mode="$(stat -c %a "$log")"
  [ "$mode" = 640 ] || { echo "log_modes: $log has mode $mode, not 640" >&2; exit 1; }
  echo "ok - $1.log is 0640 and holds $(wc -l <"$log") lines of $1"
}
check identity
check gateway

# and what ./hoso itself makes for a log (private_log: the same tool, no command)
: >"$TMP/hoso-made.log"
chmod 666 "$TMP/hoso-made.log"
"$INTEROP_ROOT/tools/run-logged.sh" "$TMP/hoso-made.log"
[ "$(stat -c %a "$TMP/hoso-made.log")" = 640 ] || { echo "log_modes: run-logged without a command left the mode" >&2; exit 1; }
grep -q 'private_log() {' "$INTEROP_ROOT/hoso" && grep -A2 'private_log() {' "$INTEROP_ROOT/hoso" | grep -q 'tools/run-logged.sh' ||
  { echo "log_modes: ./hoso's private_log does not use tools/run-logged.sh" >&2; exit 1; }
grep -q 'exec setsid "$ROOT/tools/run-logged.sh" "$log"' "$INTEROP_ROOT/hoso" ||
  { echo "log_modes: ./hoso up does not start services through tools/run-logged.sh" >&2; exit 1; }

for p in "$GW_PID" "$IDN_PID"; do
  kill -TERM "$p"
  for ((i = 0; i < 300; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$p" 2>/dev/null; then echo "log_modes: pid $p did not stop" >&2; exit 1; fi
done
STATUS=0
echo "log_modes: ok"
