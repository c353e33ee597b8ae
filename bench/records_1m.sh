#!/usr/bin/env bash
# The records service at scale: a dedicated bench cluster (its own PostgreSQL at default
# durability, identity and records from a release build), N generated dossiers bulk-loaded
# through ImportRecords and timed, then bench_records (GetRecord and name search) against it.
#
#   bench/records_1m.sh            # 1 000 000 records (COUNT=... for another size)
#   FORMAT=json bench/records_1m.sh   # load JSON Lines instead of binary Record messages
#   KEEP=1 bench/records_1m.sh     # leave the cluster and services running afterwards
#   bench/records_1m.sh stop       # stop what a KEEP=1 run left
#   bench/records_1m.sh again      # start the cluster of the last run again and rerun bench_records
#   SKIP_BUILD=1 bench/records_1m.sh   # use the binaries already in build-bench/
#   LOAD_ONLY=1 bench/records_1m.sh    # the load and its figures only, no bench_records
#
# Everything lives under var/bench-records/ (about 12 GB for 1 M records). PostgreSQL keeps
# its durability defaults (fsync, synchronous_commit, full_page_writes on); only memory,
# checkpoint spacing and WAL file preparation are set, as a production server would be:
# shared_buffers=4GB, max_wal_size=8GB, maintenance_work_mem=512MB, wal_init_zero=off.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${BENCH_DIR:-$ROOT/var/bench-records}"
BUILD="${HOSO_BENCH_BUILD:-$ROOT/build-bench}"
COUNT="${COUNT:-1000000}"
SEED="${SEED:-20261101}"
THREADS="${THREADS:-2}"
FORMAT="${FORMAT:-proto}"
# More server settings ("-c name=value ..."). The default leaves new WAL files unfilled: a fresh
# cluster otherwise writes every 16 MB WAL file twice during the load (zeros, then the WAL),
# 7 % of PostgreSQL's CPU per record (BENCHMARKS.md), where a server that has been running
# recycles its old WAL files instead. Durability is the same (the WAL is still fsynced at
# every commit). PG_EXTRA=" " keeps the zero-filling.
PG_EXTRA="${PG_EXTRA:--c wal_init_zero=off}"   # ImportRecords' format for the load: proto (IMPORT_FORMAT_PROTO) or json
PG_PORT="${PG_PORT:-55499}"
PW="Bench-quan-tri-2026!"
ID_ADDR="127.0.0.1:${ID_PORT:-55491}"
REC_ADDR="127.0.0.1:${REC_PORT:-55492}"

say() { printf 'records_1m: %s\n' "$*" >&2; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_all() {
  for s in records identity; do
    if [ -f "$DIR/$s.pid" ]; then
      kill "$(cat "$DIR/$s.pid")" 2>/dev/null || true
      rm -f "$DIR/$s.pid"
    fi
  done
  if [ -f "$DIR/pg/PG_VERSION" ]; then as_pg "$(pg_bin)/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || true; fi
}

if [ "${1:-}" = stop ]; then
  stop_all
  exit 0
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  say "release build in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DHOSO_TESTS=OFF -DHOSO_BENCH=ON >/dev/null
  cmake --build "$BUILD" -j2 --target hoso-identity hoso-records hoso-gen-records bench_records >/dev/null
fi

pg_start() {
  as_pg "$(pg_bin)/pg_ctl" -D "$DIR/pg" -w -t 60 -l "$DIR/postgres.log" \
    -o "-c listen_addresses='' -k $DIR/sock -p $PG_PORT -c shared_buffers=4GB -c max_wal_size=8GB -c maintenance_work_mem=512MB $PG_EXTRA" start >/dev/null
}
psql_su() { psql -X -q -h "$DIR/sock" -p "$PG_PORT" -U postgres "$@"; }
DSN="host=$DIR/sock port=$PG_PORT dbname=hoso user=hoso"
MIGRATE_DSN="host=$DIR/sock port=$PG_PORT dbname=hoso user=hoso_owner"
# no TLS here: services, the generator and the bench say so (they refuse plaintext otherwise)
export HOSO_PLAINTEXT=1

start_svc() { # name addr_var addr
  (
    export HOSO_PG_DSN="$DSN" "$2=$3" HOSO_IDENTITY_ADDR="$ID_ADDR" HOSO_ADMIN_PASSWORD="$PW"
    export HOSO_PG_MIGRATE_DSN="$MIGRATE_DSN" HOSO_KEY_ENCRYPTION_KEY="$DIR/kek" \
      HOSO_AUDIT_CHECKPOINT_KEY="$DIR/audit-checkpoint.key" HOSO_AUDIT_CHECKPOINT_FILE="$DIR/checkpoints.log"
    export HOSO_ROOT_UNIT_NAME="Ủy ban nhân dân tỉnh Bắc Giang" HOSO_ROOT_UNIT_CODE="BG"
    exec setsid nohup "$BUILD/hoso-$1" >>"$DIR/$1.log" 2>&1 </dev/null
  ) &
  echo $! >"$DIR/$1.pid"
  for _ in $(seq 1 100); do
    grep -q 'listening' "$DIR/$1.log" 2>/dev/null && return 0
    sleep 0.3
  done
  say "$1 did not start; see $DIR/$1.log"
  exit 1
}
start_services() {
  : >"$DIR/identity.log"
  : >"$DIR/records.log"
  start_svc identity HOSO_IDENTITY_ADDR "$ID_ADDR"
  start_svc records HOSO_RECORDS_ADDR "$REC_ADDR"
  trap '[ "${KEEP:-0}" = 1 ] || stop_all' EXIT
  export HOSO_IDENTITY_ADDR="$ID_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_ADMIN_PASSWORD="$PW"
}

if [ "${1:-}" = again ]; then
  [ -f "$DIR/pg/PG_VERSION" ] || { say "no earlier run in $DIR"; exit 1; }
  stop_all
  pg_start
  start_services
  say "bench_records"
  "$BUILD/bench_records" | tee "$DIR/bench.txt"
  exit 0
fi

stop_all
rm -rf "$DIR"
mkdir -p "$DIR/sock"
[ "$(id -u)" = 0 ] && chown postgres "$DIR" "$DIR/sock"
as_pg "$(pg_bin)/initdb" -D "$DIR/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log"
pg_start
psql_su -d postgres -c "CREATE ROLE hoso_owner LOGIN NOSUPERUSER" -c "CREATE ROLE hoso LOGIN NOSUPERUSER" \
  -c "CREATE DATABASE hoso OWNER hoso_owner"
(umask 077 && openssl rand -hex 32 >"$DIR/kek" && openssl genpkey -algorithm ed25519 -out "$DIR/audit-checkpoint.key")
start_services

# CPU time (clock ticks) of the records service and of every PostgreSQL process.
ticks() { awk '{ t += $14 + $15 } END { print t + 0 }' "$@" 2>/dev/null || echo 0; }
pg_procs() { local pm; pm=$(head -1 "$DIR/pg/postmaster.pid"); echo "/proc/$pm/stat"; for c in $(pgrep -P "$pm"); do echo "/proc/$c/stat"; done; }

case "$FORMAT" in proto) FILE="$DIR/records.pb" ;; json) FILE="$DIR/records.jsonl" ;; *) say "FORMAT must be proto or json"; exit 2 ;; esac
say "generating $COUNT dossiers (seed $SEED) into $FILE"
t0=$(date +%s)
"$BUILD/hoso-gen-records" --seed "$SEED" --count "$COUNT" --format "$FORMAT" --out "$FILE"
say "generated in $(($(date +%s) - t0)) s"
say "unit tree"
# The tree alone first (no records), so that the load's CPU figures are the load's only.
"$BUILD/hoso-gen-records" --seed "$SEED" --count 0 --threads "$THREADS" --units-file "$DIR/leaves.txt" >/dev/null
say "bulk load through ImportRecords ($FORMAT, $THREADS calls at once); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
rec_stat="/proc/$(cat "$DIR/records.pid")/stat"
r0=$(ticks "$rec_stat"); p0=$(ticks $(pg_procs))
"$BUILD/hoso-gen-records" --seed "$SEED" --count "$COUNT" --threads "$THREADS" --format "$FORMAT" \
  --units-file "$DIR/leaves.txt" --from "$FILE" | tee "$DIR/load.txt"
r1=$(ticks "$rec_stat"); p1=$(ticks $(pg_procs))
hz=$(getconf CLK_TCK)
awk -v r=$((r1 - r0)) -v p=$((p1 - p0)) -v n="$COUNT" -v hz="$hz" -v la="$(cut -d' ' -f1-3 /proc/loadavg)" \
  'BEGIN { printf "CPU per record: records service %.0f us, PostgreSQL %.0f us (load average after: %s)\n", r / hz / n * 1e6, p / hz / n * 1e6, la }' \
  | tee -a "$DIR/load.txt"
say "VACUUM ANALYZE (what autovacuum does after a load; the search plans need the statistics)"
t0=$(date +%s)
psql_su -d hoso -c "VACUUM (ANALYZE) records.records" -c "VACUUM (ANALYZE) records.record_versions"
say "vacuum analyze in $(($(date +%s) - t0)) s"
psql_su -d hoso -At -c "SELECT 'records: ' || count(*) || ', table+indexes ' || pg_size_pretty(pg_total_relation_size('records.records')) || ', versions ' || pg_size_pretty(pg_total_relation_size('records.record_versions')) FROM records.records"
[ "${LOAD_ONLY:-0}" = 1 ] && exit 0
say "bench_records"
"$BUILD/bench_records" | tee "$DIR/bench.txt"
