/* The service's schema before it serves: migrations applied as the owner role
 * (HOSO_PG_MIGRATE_DSN), the services' role granted what it needs, and refusal to run as a role
 * that could rewrite the audit log (its owner, a member of it, a superuser) or ignore row-level
 * security. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cfg.h"
#include "log.h"
#include "srv_int.h"
#include "unit_tree.h"

/* The series of cfg's schema after the common one, in the order they are applied: a module's
 * tables first (the service's own migrations may refer to them). Ends with a NULL name. */
static void series_of(const srv_config *cfg, db_series out[3]) {
  size_t n = 0;
  if (cfg->follow_units) out[n++] = (db_series){"unit_tree", unit_tree_migrations};
  out[n++] = (db_series){"service", cfg->migrations};
  out[n] = (db_series){NULL, NULL};
}

/* A database that is still starting (containers, ./hoso up) is waited for, not fatal. */
static int wait_for(db_conn *db, const char *what) {
  long wait_s = cfg_int("HOSO_PG_WAIT", 30, 0, 3600);
  for (long waited = 0;; waited++) {
    if (db_ensure(db) == 0) return 0;
    if (waited >= wait_s) {
      log_error("%s: PostgreSQL not reachable after %lds: %s", what, wait_s, db_err_message(db));
      return -1;
    }
    if (waited == 0) log_warn("%s: database not reachable yet; retrying (HOSO_PG_WAIT=%lds)", what, wait_s);
    sleep(1);
  }
}

/* Migrations as the owner, then the grants of app_role (re-applied every time: a migration may
 * have made new tables). */
static int migrate_as_owner(const char *dsn, const srv_config *cfg, const char *app_role) {
  db_conn *owner = db_open(dsn, cfg->schema);
  int rc = -1;
  if (!owner || wait_for(owner, "HOSO_PG_MIGRATE_DSN") != 0) goto out;
  db_series series[3];
  series_of(cfg, series);
  if (db_migrate_series(owner, cfg->schema, series) != 0) goto out;
  if (db_cmd(owner, "SELECT grant_service_role($1)", 1, app_role) != 0) {
    log_error("granting the services' role %s on schema %s failed: %s", app_role, cfg->schema,
              db_err_message(owner));
    goto out;
  }
  rc = 0;
out:
  db_close(owner);
  return rc;
}

/* Every migration this binary knows is in the schema's record. */
static int check_migrated(db_conn *db, const srv_config *cfg) {
  PGresult *r = db_q(db, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0);
  if (!r) return -1;
  int have = PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  if (have && !(r = db_q(db, "SELECT series, version FROM schema_migrations", 0))) return -1;
  db_series series[4] = {{"common", common_migrations}};
  series_of(cfg, series + 1);
  int missing = 0;
  for (const db_series *x = series; x->name && !missing; x++)
    for (const db_migration *m = x->migs; m && m->version && !missing; m++) {
      int found = 0;
      for (int i = 0; have && i < PQntuples(r) && !found; i++)
        found = !strcmp(PQgetvalue(r, i, 0), x->name) && atoi(PQgetvalue(r, i, 1)) == m->version;
      if (!found) {
        log_error("schema %s lacks %s migration %03d_%s: migrate it as the owner role (HOSO_PG_MIGRATE_DSN, "
                  "or `hoso-%s migrate`; docs/OPERATIONS.md)",
                  cfg->schema, x->name, m->version, m->name, cfg->service);
        missing = 1;
      }
    }
  if (have) PQclear(r);
  return missing ? -1 : 0;
}

/* The services' role must not be able to do what the audit log's owner can. */
static int check_role(db_conn *db, const srv_config *cfg) {
  PGresult *r = db_q(db,
                     "SELECT current_user, r.rolsuper OR r.rolbypassrls, pg_has_role(current_user, c.relowner, 'MEMBER'), "
                     "has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE') OR "
                     "has_table_privilege(c.oid, 'TRUNCATE') OR has_table_privilege(c.oid, 'INSERT') "
                     "FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.oid = 'audit_log'::regclass",
                     0);
  if (!r) return -1;
  int rc = 0;
  if (PQntuples(r) != 1) {
    log_error("schema %s has no audit log", cfg->schema);
    rc = -1;
  } else if (PQgetvalue(r, 0, 1)[0] == 't') {
    log_error("HOSO_PG_DSN connects as %s, a superuser or a role that bypasses row-level security: "
              "connect the services as a role without either (docs/SECURITY.md)",
              PQgetvalue(r, 0, 0));
    rc = -1;
  } else if (PQgetvalue(r, 0, 2)[0] == 't' || PQgetvalue(r, 0, 3)[0] == 't') {
    log_error("HOSO_PG_DSN connects as %s, which owns or may change %s.audit_log: connect the services "
              "as a role that only appends to it, and migrate as the owner (HOSO_PG_MIGRATE_DSN; "
              "docs/SECURITY.md)",
              PQgetvalue(r, 0, 0), cfg->schema);
    rc = -1;
  }
  PQclear(r);
  return rc;
}

int srv_schema_ready(db_conn *app, const srv_config *cfg) {
  if (wait_for(app, "HOSO_PG_DSN") != 0) return -1;
  const char *mdsn = cfg_str("HOSO_PG_MIGRATE_DSN", NULL);
  PGresult *r = db_q(app, "SELECT current_user, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user", 0);
  if (!r) return -1;
  char role[128];
  snprintf(role, sizeof role, "%s", PQgetvalue(r, 0, 0));
  int super = PQgetvalue(r, 0, 1)[0] == 't';
  PQclear(r);
  /* before anything is granted to it */
  if (super) {
    log_error("HOSO_PG_DSN connects as %s, a superuser or a role that bypasses row-level security: "
              "connect the services as a role without either (docs/SECURITY.md)", role);
    return -1;
  }
  if (mdsn) {
    if (migrate_as_owner(mdsn, cfg, role) != 0) return -1;
    /* The owner's credentials are not the running service's business. */
    unsetenv("HOSO_PG_MIGRATE_DSN");
  }
  if (check_migrated(app, cfg) != 0 || check_role(app, cfg) != 0) {
    if (db_err_kind(app) != DB_OK) log_error("checking schema %s: %s", cfg->schema, db_err_message(app));
    return -1;
  }
  return 0;
}
