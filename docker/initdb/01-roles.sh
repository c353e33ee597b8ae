#!/bin/sh
# Run once by the postgres image on an empty data directory, as the superuser: the owner role
# that migrates, the services' role (not a superuser, no BYPASSRLS: row-level security binds
# it), reporting's read role hoso_report (the same), and database hoso owned by the first. The
# passwords come from the compose environment. tests/ops/compose_check.sh runs this very file.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v owner_pw="$HOSO_DB_OWNER_PASSWORD" -v app_pw="$HOSO_DB_PASSWORD" -v report_pw="$HOSO_REPORT_DB_PASSWORD" <<'SQL'
CREATE ROLE hoso_owner LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'owner_pw';
CREATE ROLE hoso LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'app_pw';
CREATE ROLE hoso_report LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'report_pw';
CREATE DATABASE hoso OWNER hoso_owner;
SQL
