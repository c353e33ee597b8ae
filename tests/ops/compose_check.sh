#!/usr/bin/env bash
# docker/compose.yaml as far as this machine can check it (no Docker engine, no registry: the
# images are not built here; docs/SECURITY.md says so): its rules checked by compose_check.py
# with a real YAML parser, then the very initdb script the postgres image runs, run against a
# fresh PostgreSQL as its superuser, the roles it makes checked (no superuser, no BYPASSRLS), and
# the compose file's migration jobs run as it gives them, as hoso_owner granting hoso.
set -euo pipefail

BUILD="$(cd "${1:?usage: compose_check.sh BUILD_DIR}" && pwd)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python3 -c 'import yaml' || { echo "compose_check: python3-yaml is not installed (./hoso test installs it)" >&2; exit 1; }

NAME=compose_check
# shellcheck source=../interop/lib.sh
. "$HERE/../interop/lib.sh"
DOCKER="$INTEROP_ROOT/docker"

as_pg "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 --no-sync \
  >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log"; exit 1; }
as_pg "$PG_BIN/pg_ctl" -D "$TMP/data" -w -t 60 -l "$TMP/server.log" \
  -o "-c listen_addresses='' -k '$TMP' -p 5432 -c fsync=off" start >/dev/null

# the .env of docker/README.md (trust authentication here: the passwords are only carried)
export HOSO_PG_SUPERUSER_PASSWORD=su-pw HOSO_DB_OWNER_PASSWORD=owner-pw HOSO_DB_PASSWORD=app-pw \
  HOSO_REPORT_DB_PASSWORD=report-pw HOSO_ADMIN_PASSWORD=Quan-tri-vien-compose-2026!

# what the postgres image does with /docker-entrypoint-initdb.d/*.sh: sources it as the superuser
# with POSTGRES_USER and the compose environment, psql reaching the server it is starting
for f in "$DOCKER"/initdb/*.sh; do
  PGHOST="$TMP" PGPORT=5432 POSTGRES_USER=postgres sh "$f"
done
psql_q() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$TMP" -p 5432 -U postgres -d postgres -c "$1"; }
roles="$(psql_q "SELECT string_agg(rolname || ':' || (rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb), ' ' ORDER BY rolname)
                 FROM pg_roles WHERE rolname LIKE 'hoso%'")"
[ "$roles" = "hoso:false hoso_owner:false hoso_report:false" ] ||
  { echo "compose_check: initdb made roles [$roles]; want hoso, hoso_owner, hoso_report, none privileged" >&2; exit 1; }
owner="$(psql_q "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'hoso'")"
[ "$owner" = hoso_owner ] || { echo "compose_check: database hoso is owned by [$owner]" >&2; exit 1; }
echo "ok - initdb/: hoso, hoso_owner, hoso_report without superuser, BYPASSRLS, CREATEROLE or CREATEDB; hoso owned by hoso_owner"

python3 "$HERE/compose_check.py" "$DOCKER/compose.yaml" "$DOCKER/Dockerfile" "$BUILD" "$TMP" 5432

# after the jobs: the services' role reads under row-level security, the tables are the owner's
owned="$("$PG_BIN/psql" -X -q -At -h "$TMP" -p 5432 -U postgres -d hoso -c \
  "SELECT count(*) FROM pg_tables WHERE schemaname IN ('identity','records','transfers','reporting') AND tableowner <> 'hoso_owner'")"
[ "$owned" = 0 ] || { echo "compose_check: $owned tables are not owned by hoso_owner" >&2; exit 1; }
n="$("$PG_BIN/psql" -X -q -At -h "$TMP" -p 5432 -U postgres -d hoso -c \
  "SELECT count(DISTINCT schemaname) FROM pg_tables WHERE schemaname IN ('identity','records','transfers','reporting')")"
[ "$n" = 4 ] || { echo "compose_check: only $n of the 4 services' schemas were migrated" >&2; exit 1; }
STATUS=0
echo "compose_check: ok"
