#!/usr/bin/env bash
# The reporting service at scale: a dedicated bench cluster (its own PostgreSQL at default
# durability), identity, records and reporting from a release build, the demo's unit tree made
# by hoso-gen-records, then COUNT people's reporting facts written straight into records' tables
# by SQL (the distributions of the demo generator: categories, genders, ages, degrees, ...; a
# third of them with a second period from 1 March of this year — a move, a new degree — so a
# past day's report reads history), then bench_reporting (BM01/BNV beside its bare SQL floor,
# today, as of 31 December of last year (a day the service warms) and of 15 September of last
# year (one it does not), and a streamed XLSX export) and pgbench on the floor's statement.
# bench_reporting waits for the service's background warm-up, then times the first request of
# each day, the repeated ones, and requests after 5 people changed each time.
#
#   bench/reporting_1m.sh                 # 1 000 000 people (COUNT=100000 for a province)
#   KEEP=1 bench/reporting_1m.sh          # leave the cluster and services running
#   bench/reporting_1m.sh stop            # stop what a KEEP=1 run left
#   SKIP_BUILD=1 bench/reporting_1m.sh    # use the binaries already in build-bench/
#
# The facts are written by SQL rather than loaded through ImportRecords because the load of a
# million dossiers takes most of an hour here (docs/BENCHMARKS.md, records at 1 M) and is not
# what this bench measures; the rows are the rows records writes (030_report_facts.sql).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${BENCH_DIR:-$ROOT/var/bench-reporting}"
BUILD="${HOSO_BENCH_BUILD:-$ROOT/build-bench}"
COUNT="${COUNT:-1000000}"
RUNS="${RUNS:-5}"
PG_PORT="${PG_PORT:-55599}"
PW="Bench-quan-tri-2026!"
ID_ADDR="127.0.0.1:${ID_PORT:-55591}"
REC_ADDR="127.0.0.1:${REC_PORT:-55592}"
REP_ADDR="127.0.0.1:${REP_PORT:-55594}"

say() { printf 'reporting_1m: %s\n' "$*" >&2; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

stop_all() {
  for s in reporting records identity; do
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
  cmake --build "$BUILD" -j2 --target hoso-identity hoso-records hoso-reporting hoso-gen-records bench_reporting >/dev/null
fi

psql_su() { "$(pg_bin)/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR/sock" -p "$PG_PORT" -U postgres "$@"; }
DSN="host=$DIR/sock port=$PG_PORT dbname=hoso user=hoso"
MIGRATE_DSN="host=$DIR/sock port=$PG_PORT dbname=hoso user=hoso_owner"
READ_DSN="host=$DIR/sock port=$PG_PORT dbname=hoso user=hoso_report"

start_svc() { # name addr_var addr
  (
    export HOSO_PG_DSN="$DSN" "$2=$3" HOSO_IDENTITY_ADDR="$ID_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR"
    export HOSO_REPORTING_ADDR="$REP_ADDR" HOSO_REPORTING_PG_DSN="$READ_DSN" HOSO_ADMIN_PASSWORD="$PW"
    export HOSO_PG_MIGRATE_DSN="$MIGRATE_DSN" HOSO_KEY_ENCRYPTION_KEY="$DIR/kek" \
      HOSO_AUDIT_CHECKPOINT_KEY="$DIR/audit-checkpoint.key" HOSO_AUDIT_CHECKPOINT_FILE="$DIR/checkpoints.log"
    export HOSO_PLAINTEXT=1 HOSO_ROOT_UNIT_NAME="Ủy ban nhân dân tỉnh Bắc Giang" HOSO_ROOT_UNIT_CODE="BG"
    exec setsid nohup "$BUILD/hoso-$1" >>"$DIR/$1.log" 2>&1 </dev/null
  ) &
  echo $! >"$DIR/$1.pid"
  for _ in $(seq 1 200); do
    grep -q 'listening' "$DIR/$1.log" 2>/dev/null && return 0
    sleep 0.3
  done
  say "$1 did not start; see $DIR/$1.log"
  exit 1
}

stop_all
rm -rf "$DIR"
mkdir -p "$DIR/sock"
[ "$(id -u)" = 0 ] && chown postgres "$DIR" "$DIR/sock"
as_pg "$(pg_bin)/initdb" -D "$DIR/pg" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log"
as_pg "$(pg_bin)/pg_ctl" -D "$DIR/pg" -w -t 60 -l "$DIR/postgres.log" \
  -o "-c listen_addresses='' -k $DIR/sock -p $PG_PORT -c shared_buffers=2GB -c work_mem=64MB" start >/dev/null
psql_su -d postgres -c "CREATE ROLE hoso_owner LOGIN NOSUPERUSER" -c "CREATE ROLE hoso LOGIN NOSUPERUSER" \
  -c "CREATE ROLE hoso_report LOGIN NOSUPERUSER" -c "CREATE DATABASE hoso OWNER hoso_owner"
(umask 077 && openssl rand -hex 32 >"$DIR/kek" && openssl genpkey -algorithm ed25519 -out "$DIR/audit-checkpoint.key")
trap '[ "${KEEP:-0}" = 1 ] || stop_all' EXIT
: >"$DIR/identity.log" >"$DIR/records.log" >"$DIR/reporting.log"
start_svc identity HOSO_IDENTITY_ADDR "$ID_ADDR"
start_svc records HOSO_RECORDS_ADDR "$REC_ADDR"
export HOSO_IDENTITY_ADDR="$ID_ADDR" HOSO_RECORDS_ADDR="$REC_ADDR" HOSO_REPORTING_ADDR="$REP_ADDR"
export HOSO_ADMIN_PASSWORD="$PW" HOSO_PLAINTEXT=1
say "unit tree (hoso-gen-records)"
"$BUILD/hoso-gen-records" --seed 2026 --count 0 --units-file "$DIR/leaves.txt" >/dev/null

say "writing $COUNT people's reporting facts"
t0=$(date +%s)
psql_su -d hoso -v count="$COUNT" <<'SQL'
SET search_path = records, public;
CREATE TEMP TABLE leaves AS
  SELECT row_number() OVER (ORDER BY u.id) AS n, u.id, u.path FROM identity.units u
   WHERE NOT EXISTS (SELECT 1 FROM identity.units c WHERE c.parent_id = u.id);
-- Deterministic draws from the record number: h(g, k) in [0, 1).
CREATE TEMP TABLE people AS
SELECT g AS id, l.id AS unit_id, l.path AS unit_path,
       (abs(hashint8(g * 7 + 1)) % 1000) / 1000.0 AS r1, (abs(hashint8(g * 7 + 2)) % 1000) / 1000.0 AS r2,
       (abs(hashint8(g * 7 + 3)) % 1000) / 1000.0 AS r3, (abs(hashint8(g * 7 + 4)) % 1000) / 1000.0 AS r4,
       (abs(hashint8(g * 7 + 5)) % 1000) / 1000.0 AS r5, (abs(hashint8(g * 7 + 6)) % 1000) / 1000.0 AS r6
  FROM generate_series(100001, 100000 + :count) g
  JOIN leaves l ON l.n = 1 + (abs(hashint8(g)) % (SELECT count(*) FROM leaves));
SET session_replication_role = replica;  -- the bench's own rows: no triggers, no foreign-key checks
INSERT INTO records (id, managing_unit_id, unit_path, version, status, workflow_state, verified, full_name,
                     birth_date, gender, category, data)
SELECT id, unit_id, unit_path, 1, 1, 3, true, 'Người Số ' || id, date '1962-01-01' + (r1 * 15000)::int,
       CASE WHEN r2 < 0.52 THEN 1 ELSE 2 END,
       CASE WHEN r3 < 0.64 THEN 2 WHEN r3 < 0.85 THEN 3 WHEN r3 < 0.93 THEN 5 WHEN r3 < 0.97 THEN 1 ELSE 4 END, '\x'
  FROM people;
INSERT INTO fact_periods (record_id, valid_from, valid_to, known_from, managing_unit_id, unit_path, status,
  workflow_state, category, full_name, birth_date, gender, ethnicity_code, religion_code, party_member, rank_code,
  salary_step, salary_coefficient, salary_date, position_code, degree_code, political_theory_code,
  state_management_code, it_class, english_class, other_language_class, ethnic_language, general_education,
  staffing_code, recruitment_date, home_town, professional_title, missing_2c)
SELECT p.id, date '2005-01-01' + (p.r4 * 5000)::int,
       CASE WHEN p.r6 < 0.33 THEN make_date(extract(year FROM now())::int, 3, 1) ELSE 'infinity' END,
       now() - interval '400 days', p.unit_id, p.unit_path, 1, 3, r.category, r.full_name, r.birth_date, r.gender,
       CASE WHEN p.r5 < 0.85 THEN '01' ELSE lpad((2 + (p.r5 * 100)::int % 50)::text, 2, '0') END,
       CASE WHEN p.r4 < 0.9 THEN '00' ELSE '01' END, p.r1 < 0.55,
       (ARRAY['01.001','01.002','01.003','01.003','01.003','01.004','01.005','V.07.04.32'])[1 + (p.r2 * 8)::int % 8],
       1 + (p.r3 * 9)::int % 9, 2.34, date '2020-01-01' + (p.r5 * 2000)::int, '',
       (ARRAY['TS','THS','DH','DH','DH','CD','TC','SC'])[1 + (p.r6 * 8)::int % 8],
       (ARRAY['CN','CC','TC','SC',''])[1 + (p.r1 * 5)::int % 5], (ARRAY['CVCC','CVC','CV',''])[1 + (p.r3 * 4)::int % 4],
       (p.r4 * 3)::int % 3, (p.r5 * 3)::int % 3, (p.r6 * 3)::int % 3, p.r2 < 0.05, '12/12', 'BIEN_CHE',
       date '2005-01-01' + (p.r4 * 5000)::int, '', '', 0
  FROM people p JOIN records r ON r.id = p.id;
-- the second period of a third of them: from 1 March, another degree and another unit
INSERT INTO fact_periods (record_id, valid_from, valid_to, known_from, managing_unit_id, unit_path, status,
  workflow_state, category, full_name, birth_date, gender, ethnicity_code, religion_code, party_member, rank_code,
  salary_step, salary_coefficient, salary_date, position_code, degree_code, political_theory_code,
  state_management_code, it_class, english_class, other_language_class, ethnic_language, general_education,
  staffing_code, recruitment_date, home_town, professional_title, missing_2c)
SELECT f.record_id, f.valid_to, 'infinity', now() - interval '200 days', l.id, l.path, f.status, f.workflow_state,
       f.category, f.full_name, f.birth_date, f.gender, f.ethnicity_code, f.religion_code, f.party_member, f.rank_code,
       f.salary_step, f.salary_coefficient, f.salary_date, f.position_code, 'THS', f.political_theory_code,
       f.state_management_code, f.it_class, f.english_class, f.other_language_class, f.ethnic_language,
       f.general_education, f.staffing_code, f.recruitment_date, f.home_town, f.professional_title, f.missing_2c
  FROM fact_periods f JOIN leaves l ON l.n = 1 + (f.record_id % (SELECT count(*) FROM leaves))
 WHERE f.valid_to <> 'infinity';
SET session_replication_role = origin;
-- no change marks (records 051) for rows written with the triggers off: no kept set exists yet,
-- so the first report of a day counts every leaf anyway
VACUUM ANALYZE records;
VACUUM ANALYZE fact_periods;
SQL
say "facts written in $(($(date +%s) - t0)) s: $(psql_su -d hoso -At -c "SELECT count(*) || ' periods, ' || pg_size_pretty(pg_total_relation_size('records.fact_periods')) FROM records.fact_periods")"

start_svc reporting HOSO_REPORTING_ADDR "$REP_ADDR"
say "bench_reporting ($RUNS runs each; load average $(cut -d' ' -f1-3 /proc/loadavg))"
HOSO_REPORTING_PG_DSN="$READ_DSN" "$BUILD/bench_reporting" --runs "$RUNS" --floor-sql "$DIR/floor.sql" \
  --pid "$(cat "$DIR/reporting.pid")" --change-dsn "host=$DIR/sock port=$PG_PORT dbname=hoso user=postgres" |
  tee "$DIR/bench.txt"
say "pgbench on the floor's statement (10 transactions)"
"$(pg_bin)/pgbench" -n -h "$DIR/sock" -p "$PG_PORT" -U hoso_report -f "$DIR/floor.sql" -t 10 hoso 2>&1 |
  grep -E "latency average|tps" | tee -a "$DIR/bench.txt"
