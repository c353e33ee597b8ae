#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on its committed seed corpus (read only: new
# inputs go to a temporary directory), and prints libFuzzer's final figures (executions,
# coverage). Usage: run.sh FUZZER SEED_CORPUS_DIR [SECONDS]; HOSO_FUZZ_SECONDS overrides.
# A crash, leak or sanitizer report fails the test; its input is kept in <build>/fuzz/artifacts.
set -euo pipefail
bin="$1"
corpus="$2"
seconds="${HOSO_FUZZ_SECONDS:-${3:-5}}"
name="$(basename "$bin")"
art="$(dirname "$bin")/artifacts"
mkdir -p "$art"
work="$(mktemp -d "/tmp/hoso-$name-XXXXXX")"
trap 'rm -rf "$work"' EXIT
# one process, bounded in time and memory; -timeout catches an input that hangs the parser
rc=0
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$art/$name-" "$work" "$corpus" >"$work/log" 2>&1 || rc=$?
grep -E '^#[0-9]+[[:space:]]+(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added' "$work/log" || true
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$work/log"
  echo "$name: failed (exit $rc); the input is in $art"
  exit 1
fi
echo "$name: ok ($seconds s, corpus $(ls "$corpus" | wc -l) seeds)"
