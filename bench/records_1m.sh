#!/usr/bin/env bash
# The records service at scale: a dedicated bench cluster (its own PostgreSQL at default
# durability, identity and records from a release build), N generated dossiers bulk-loaded
# through ImportRecords and timed, then bench_records (GetRecord, name search, free text)
# against it, each beside its floor: the same SQL run bare by pgbench on the same data
# (GetRecord's read-only transaction without its audit row; the searches' statements), with
# the ratio the targets are stated in (docs/BENCHMARKS.md, "Records (1 M)").
#
#   SECONDS_EACH=20 ROUNDS=2 ... the length of each measurement, and how many times the pairs
#   (service, floor) run one after the other; REC_WORKERS=32 the records service's workers;
#   PAIRS="get name text" which pairs run (e.g. PAIRS=get: GetRecord and its floor only)
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
    # as many workers as the bench's concurrent calls: a read waits for its audit batch
    [ "$1" = records ] && export HOSO_WORKERS="${REC_WORKERS:-32}"
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

SECS="${SECONDS_EACH:-20}"
ROUNDS="${ROUNDS:-2}"
PAIRS="${PAIRS:-get name text}"
has_pair() { case " $PAIRS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# The floors: the service's own statements, bare, by pgbench as the services' role (row-level
# security applies) with the administrator's scope, prepared as the service prepares them.
write_floors() {
  cat >"$DIR/floor_get.sql" <<'EOF'
\set id random(:lo, :hi)
\startpipeline
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
SELECT set_config('hoso.scope', '*', true), set_config('hoso.actor', '1', true), set_config('statement_timeout', '29000', true);
SELECT data, unit_path::text, status, (SELECT string_agg(g.unit_path::text, ',') FROM read_grants g WHERE g.record_id = records.id AND g.ended_at IS NULL AND (g.until IS NULL OR g.until >= hoso_today())) FROM records WHERE id = :id;
COMMIT;
\endpipeline
EOF
  # (pgbench takes every ":word" for a variable, even in a literal: the time's colons as chr(58))
  local cols="r.id::text, r.full_name, COALESCE(r.birth_date::text, ''), r.gender, r.managing_unit_id::text, r.unit_path::text, r.status, r.workflow_state, r.rank_code, r.position_code, r.category, r.ethnicity_code, r.degree_code, r.home_town, r.version, replace(to_char(r.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24#MI#SS\"Z\"'), '#', chr(58))"
  local begin="\\startpipeline
BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY;
SELECT set_config('hoso.scope', '*', true), set_config('hoso.actor', '1', true), set_config('statement_timeout', '29000', true);"
  cat >"$DIR/floor_name.sql" <<EOF
\\set n random(1, :nq)
SELECT q FROM bench.q WHERE kind = 'name' AND id = :n \\gset
$begin
WITH m AS MATERIALIZED (SELECT s.record_id AS id, s.rank AS rk, s.given_folded AS g, s.name_folded AS nf, s.birth_date AS bd FROM search_match(:q, '') s WHERE true), p AS (SELECT * FROM m WHERE true ORDER BY rk, g COLLATE "C", nf COLLATE "C", coalesce(bd, 'infinity'), id LIMIT 21) SELECT $cols, p.rk::text, p.g, p.nf, coalesce(p.bd, 'infinity')::text, p.id::text, c.n FROM (SELECT count(*) AS n FROM (SELECT 1 FROM m LIMIT 1001) x) c LEFT JOIN (p JOIN records r ON r.id = p.id) ON true ORDER BY p.rk, p.g COLLATE "C", p.nf COLLATE "C", coalesce(p.bd, 'infinity'), p.id;
COMMIT;
\\endpipeline
EOF
  cat >"$DIR/floor_text.sql" <<EOF
\\set n random(1, :nq)
SELECT q FROM bench.q WHERE kind = 'text' AND id = :n \\gset
$begin
WITH m AS MATERIALIZED (SELECT s.record_id AS id, s.rank AS rk, s.given_folded AS g, s.name_folded AS nf, s.birth_date AS bd FROM search_match('', :q) s WHERE true), p AS (SELECT * FROM m WHERE true ORDER BY g COLLATE "C", nf COLLATE "C", id LIMIT 21) SELECT $cols, p.g, p.nf, p.id::text, '', '', c.n FROM (SELECT count(*) AS n FROM (SELECT 1 FROM m LIMIT 1001) x) c LEFT JOIN (p JOIN records r ON r.id = p.id) ON true ORDER BY p.g COLLATE "C", p.nf COLLATE "C", p.id;
COMMIT;
\\endpipeline
EOF
}

# floor LABEL CLIENTS SCRIPT: pgbench for SECS seconds; prints "LABEL: N tps  p50 p95 p99" and
# leaves "tps p95 p99" in $DIR/last_floor.
floor() {
  local d
  d=$(mktemp -d "$DIR/pgbench.XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres "$d"
  local lo hi nq
  lo=$(psql_su -d hoso -At -c "SELECT min(id) FROM records.records")
  hi=$(psql_su -d hoso -At -c "SELECT max(id) FROM records.records")
  nq=$(psql_su -d hoso -At -c "SELECT count(*) FROM bench.q WHERE kind = 'name'")
  if ! (cd "$d" && PGOPTIONS="-c search_path=records,public" "$(pg_bin)/pgbench" -n -M prepared -c "$2" \
    -j "$(( $2 < 2 ? $2 : 2 ))" -T "$SECS" -f "$3" -l -D lo="$lo" -D hi="$hi" -D nq="$nq" \
    -h "$DIR/sock" -p "$PG_PORT" -U hoso hoso >out.txt 2>&1); then
    cat "$d/out.txt" >&2
    say "pgbench failed ($d)"
    exit 1
  fi
  local tps
  tps=$(awk '/^tps = / { print $3; exit }' "$d/out.txt")
  cat "$d"/pgbench_log.* | awk '{ print $3 / 1000 }' | sort -n >"$d/lat"
  awk -v tps="$tps" -v label="$1" '{ v[NR] = $1 } END {
      n = NR; p50 = v[int((n - 1) * 0.50) + 1]; p95 = v[int((n - 1) * 0.95) + 1]; p99 = v[int((n - 1) * 0.99) + 1];
      printf "%-44s %7d runs  %8.0f/s  p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms\n", label, n, tps, p50, p95, p99;
      printf "%s %s %s\n", tps, p95, p99 > "/dev/stderr" }' "$d/lat" 2>"$DIR/last_floor"
  rm -rf "$d"
}

# CPU time (clock ticks) of the records service and of every PostgreSQL process.
# The CPU (user + system clock ticks) of the processes whose /proc/PID/stat files are named; a
# process that ended since it was listed (a backend whose client left) counts nothing, and the
# answer is always one number (an awk over all files at once printed its sum and then, failing on
# the vanished file, a second '0' that broke the arithmetic after the load).
ticks() {
  local f t=0 a
  for f in "$@"; do
    a=$(awk '{ print $14 + $15 }' "$f" 2>/dev/null) || a=0
    t=$((t + ${a:-0}))
  done
  echo "$t"
}
pg_procs() { local pm; pm=$(head -1 "$DIR/pg/postmaster.pid"); echo "/proc/$pm/stat"; for c in $(pgrep -P "$pm"); do echo "/proc/$c/stat"; done; }
# PostgreSQL's CPU including its backends that have ended (the postmaster's reaped children:
# pgbench's connections end with it).
pg_ticks() {
  local pm; pm=$(head -1 "$DIR/pg/postmaster.pid")
  echo $(( $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat") + $(ticks $(for c in $(pgrep -P "$pm"); do echo "/proc/$c/stat"; done)) ))
}
# The CPU of the whole machine (user + system + softirq ... of every core), in clock ticks.
cpu_all() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }

# The figure after `key` (e.g. "p95") on the line of bench_records' output that names `label`.
figure() { grep -F "$1" "$3" | tail -1 | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }'; }
rate() { grep -F "$1" "$2" | tail -1 | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /\/s$/) { sub(/\/s$/, "", $i); print $i; exit } }'; }

run_benches() {
  say "bench_records beside pgbench, $ROUNDS rounds of ${SECS} s each; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  write_floors
  local out="$DIR/bench.txt" svc="$DIR/svc.txt"
  : >"$out"
  "$BUILD/bench_records" --seconds 1 --only name --queries "$DIR/queries.tsv" >/dev/null
  psql_su -d hoso -c "DROP SCHEMA IF EXISTS bench CASCADE" -c "CREATE SCHEMA bench" \
    -c "CREATE TABLE bench.q (kind text, id int, q text, PRIMARY KEY (kind, id))" \
    -c "GRANT USAGE ON SCHEMA bench TO hoso" -c "GRANT SELECT ON bench.q TO hoso"
  awk -F'\t' '{ n[$1]++; print $1 "\t" n[$1] "\t" $2 }' "$DIR/queries.tsv" |
    psql_su -d hoso -c "COPY bench.q FROM STDIN"
  for round in $(seq 1 "$ROUNDS"); do
    # Round 1 on the table of search words as the load left it; then it is put in name order
    # (what docs/OPERATIONS.md asks after a bulk load) and the next rounds run on that.
    if [ "$round" = 2 ] && [ "${CLUSTER:-1}" = 1 ]; then
      local t0
      t0=$(date +%s)
      psql_su -d hoso -c "CLUSTER records.record_search USING record_search_by_name" -c "ANALYZE records.record_search"
      echo "CLUSTER records.record_search (name order) in $(($(date +%s) - t0)) s; the rounds below run on it" | tee -a "$out"
    fi
    # CPU per call: the records service, PostgreSQL and the whole machine (the client's share is
    # the rest) over the GetRecord phase, and PostgreSQL and the machine over the floor's
    local rec_stat="/proc/$(cat "$DIR/records.pid")/stat" r0 p0 a0 r1 p1 a1
    if has_pair get; then
    # the counters start when bench_records has its sample (80 searches) and begins the calls
    "$BUILD/bench_records" --seconds "$SECS" --only get | while IFS= read -r line; do
      case "$line" in "records in the database"*) echo "$(ticks "$rec_stat") $(pg_ticks) $(cpu_all)" >"$DIR/cpu0" ;; esac
      printf '%s\n' "$line"
    done | tee -a "$out" >"$svc"
    r1=$(ticks "$rec_stat"); p1=$(pg_ticks); a1=$(cpu_all)
    read -r r0 p0 a0 <"$DIR/cpu0"
    local s_rate s_p99 s_calls
    s_rate=$(rate "GetRecord" "$svc"); s_p99=$(figure "GetRecord" p99 "$svc")
    s_calls=$(grep -F "GetRecord" "$svc" | tail -1 | awk '{ for (i = 2; i <= NF; i++) if ($i == "calls" && $(i - 1) ~ /^[0-9]+$/) { print $(i - 1); exit } }')
    local fp0 fa0 fp1 fa1
    fp0=$(pg_ticks); fa0=$(cpu_all)
    floor "floor: GetRecord's read-only transaction, 32" 32 "$DIR/floor_get.sql" | tee -a "$out"
    fp1=$(pg_ticks); fa1=$(cpu_all)
    read -r f_tps _ f_p99 <"$DIR/last_floor"
    awk -v n="$s_calls" -v r=$((r1 - r0)) -v p=$((p1 - p0)) -v a=$((a1 - a0)) -v fn="$(awk -v t="$f_tps" -v s="$SECS" 'BEGIN { print t * s }')" \
      -v fp=$((fp1 - fp0)) -v fa=$((fa1 - fa0)) -v hz="$(getconf CLK_TCK)" 'BEGIN {
      if (n > 0 && fn > 0) printf "CPU per GetRecord: records service %.0f us, PostgreSQL %.0f us, whole machine %.0f us; per floor transaction: PostgreSQL %.0f us, whole machine %.0f us\n",
        r / hz / n * 1e6, p / hz / n * 1e6, a / hz / n * 1e6, fp / hz / fn * 1e6, fa / hz / fn * 1e6 }' | tee -a "$out"
    awk -v a="$s_rate" -v b="$f_tps" -v p="$s_p99" -v fp="$f_p99" -v r="$round" 'BEGIN {
      printf "round %d: GetRecord with durable read audit %.0f calls/s (p99 %.2f ms) = %.0f %% of the bare read-only transaction (%.0f/s, p99 %.2f ms); target >= 70 %%\n", r, a, p, 100 * a / b, b, fp }' | tee -a "$out"
    fi
    for kind in name text; do
      has_pair "$kind" || continue
      "$BUILD/bench_records" --seconds "$SECS" --only "$kind" --queries "$DIR/queries.tsv" >"$svc.all"
      for c in 1 4; do
        if [ "$c" = 1 ]; then grep -F ", 1 caller" "$svc.all" >"$svc"; else grep -F "4 concurrent" "$svc.all" >"$svc"; fi
        tee -a "$out" <"$svc"
        floor "floor: $kind search statement, $c" "$c" "$DIR/floor_$kind.sql" | tee -a "$out"
        read -r _ f_p95 _ <"$DIR/last_floor"
        awk -v s="$(figure "" p95 "$svc")" -v f="$f_p95" -v k="$kind" -v c="$c" -v r="$round" 'BEGIN {
          printf "round %d: %s search, %d caller(s): p95 %.2f ms = %.2fx the bare statement (p95 %.2f ms); target within 2x\n", r, k, c, s, s / f, f }' | tee -a "$out"
      done
    done
  done
  say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

if [ "${1:-}" = again ]; then
  [ -f "$DIR/pg/PG_VERSION" ] || { say "no earlier run in $DIR"; exit 1; }
  stop_all
  pg_start
  start_services
  run_benches
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
psql_su -d hoso -c "VACUUM (ANALYZE) records.records" -c "VACUUM (ANALYZE) records.record_versions" \
  -c "VACUUM (ANALYZE) records.record_search"
say "vacuum analyze in $(($(date +%s) - t0)) s"
psql_su -d hoso -At -c "SELECT 'records: ' || count(*) || ', table+indexes ' || pg_size_pretty(pg_total_relation_size('records.records')) || ', versions ' || pg_size_pretty(pg_total_relation_size('records.record_versions')) || ', search words ' || pg_size_pretty(pg_total_relation_size('records.record_search')) FROM records.records"
[ "${LOAD_ONLY:-0}" = 1 ] && exit 0
run_benches
