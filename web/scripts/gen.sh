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
TMP="$OUT.tmp.$$"
rm -rf "$TMP" && mkdir -p "$TMP"
protoc -I "$PROTO" -I "$PB_INC" --plugin=protoc-gen-es="$HERE/node_modules/.bin/protoc-gen-es" \
  --es_out="$TMP" --es_opt=target=ts,import_extension=none \
  common.proto identity.proto records.proto transfers.proto reporting.proto google/api/annotations.proto google/api/http.proto
rm -rf "$OUT" && mv "$TMP" "$OUT"
