#!/bin/sh
# Generates the TypeScript clients of proto/ into src/api/gen with protoc (Debian's
# protobuf-compiler) and the pinned @bufbuild/protoc-gen-es of package-lock.json. Generated at
# every build, never committed: proto/ stays the one source, and a changed .proto cannot leave a
# stale client behind. Same input, same pinned plugin: the same output.
set -eu
HERE="$(cd "$(dirname "$0")/.." && pwd)"
PROTO="$HERE/../proto"
command -v protoc >/dev/null || { echo "gen: protoc is missing (Debian package protobuf-compiler)" >&2; exit 1; }
[ -x "$HERE/node_modules/.bin/protoc-gen-es" ] || { echo "gen: run npm ci first" >&2; exit 1; }
# google/protobuf/descriptor.proto, imported by google/api/annotations.proto
PB_INC=/usr/include
[ -f "$PB_INC/google/protobuf/descriptor.proto" ] || { echo "gen: $PB_INC/google/protobuf/descriptor.proto is missing (Debian package libprotobuf-dev)" >&2; exit 1; }
OUT="$HERE/src/api/gen"
# web/unit and web/e2e run this at the same time under ctest -j2 while the other one's tsc may
# read src/ (a directory appearing there, or gen/ gone for a moment, failed its type check:
# TS6053). So one generation at a time (flock), made outside src/, and put in place only when
# it differs from what is there: the second run of a build finds it the same and leaves it.
exec 9>"$HERE/.gen.lock"
flock 9
TMP="$(mktemp -d "${TMPDIR:-/tmp}/hoso-web-gen.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
protoc -I "$PROTO" -I "$PB_INC" --plugin=protoc-gen-es="$HERE/node_modules/.bin/protoc-gen-es" \
  --es_out="$TMP" --es_opt=target=ts,import_extension=none \
  common.proto identity.proto records.proto transfers.proto reporting.proto google/api/annotations.proto google/api/http.proto
if ! diff -r "$TMP" "$OUT" >/dev/null 2>&1; then
  rm -rf "$OUT" && cp -R "$TMP" "$OUT"
fi
