/* Migrations (db_migrate): versioned series applied in order, each migration in its own
 * transaction, serialized across processes by an advisory lock. */
#include "db_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* <schema>.schema_migrations (series, version, name, applied_at) records what was applied.
 * The common migrations (common/migrations, series 'common'), a common module's (e.g.
 * common/migrations/unit_tree, series 'unit_tree') and the service's own (series 'service') are
 * independent version series, so a service's 001 never collides with common's 001. */

/* One advisory lock key ("hosomigr") for every schema: services starting together on one
 * database also race on the shared extensions, not only on their own schema. */
#define MIGRATE_LOCK_KEY "7525360424773576562"

static int check_order(const char *series, const db_migration *m) {
  int last = 0;
  for (; m && m->version; m++) {
    if (m->version <= last || !m->name || !m->sql) {
      log_error("migrations (%s): version %d is out of order, repeated or incomplete", series,
                m->version);
      return -1;
    }
    last = m->version;
  }
  return 0;
}

static int apply_one(db_conn *c, const char *schema, const char *path, const char *ins,
                     const char *series, const db_migration *m) {
  char ver[16];
  snprintf(ver, sizeof ver, "%d", m->version);
  PGresult *r = NULL;
  /* search_path is transaction-local, so the SQL files name no schema and the session keeps
   * its own path afterwards; a migration may build indexes for as long as it takes. The scope
   * is every unit: tables FORCE row-level security even for their owner, and a migration that
   * fills a new column or index from the rows already there must see them all (without it an
   * UPDATE of existing data saw no row: found upgrading a deployment with data to records 030,
   * whose NOT NULL then failed; 020's search words would have stayed empty silently). */
  if (db_cmd(c, "BEGIN", 0) < 0 ||
      db_cmd(c,
             "SELECT set_config('search_path', $1, true), "
             "set_config('statement_timeout', '0', true), set_config('hoso.scope', '*', true)",
             1, path) < 0 ||
      !(r = db__exec_script(c, m->sql)) || db_cmd(c, ins, 3, series, ver, m->name) < 0 ||
      db_cmd(c, "COMMIT", 0) < 0) {
    log_error("migration %s/%s %03d_%s failed: %s%s%s", schema, series, m->version, m->name,
              c->sqlstate, *c->sqlstate ? " " : "", c->message);
    PQclear(r);
    db__rollback_quietly(c);
    return -1;
  }
  PQclear(r);
  log_info("migration applied: %s/%s %03d_%s", schema, series, m->version, m->name);
  return 0;
}

static int apply_series(db_conn *c, const char *schema, const char *table, const char *path,
                        const char *series, const db_migration *migs) {
  int rc = -1;
  char *sel = NULL, *ins = NULL;
  PGresult *done = NULL;
  if (asprintf(&sel, "SELECT version, name FROM %s WHERE series = $1 ORDER BY version", table) <
      0)
    sel = NULL;
  if (asprintf(&ins, "INSERT INTO %s (series, version, name) VALUES ($1, $2, $3)", table) < 0)
    ins = NULL;
  if (!sel || !ins) {
    db__set_err(c, DB_OTHER, "", "", "out of memory");
    goto out;
  }
  if (!(done = db_q(c, sel, 1, series))) goto out;
  int n = PQntuples(done);
  /* versions the database has but this binary lacks: an older binary after a newer one */
  for (int i = 0; i < n; i++) {
    int v = atoi(PQgetvalue(done, i, 0));
    const db_migration *m = migs;
    while (m && m->version && m->version != v) m++;
    if (!m || !m->version)
      log_warn("schema %s has %s migration %d (%s) that this binary does not know", schema, series,
               v, PQgetvalue(done, i, 1));
    else if (strcmp(m->name, PQgetvalue(done, i, 1)) != 0)
      log_warn("schema %s: %s migration %d was applied as '%s', this binary calls it '%s'", schema,
               series, v, PQgetvalue(done, i, 1), m->name);
  }
  for (const db_migration *m = migs; m && m->version; m++) {
    int applied = 0;
    for (int i = 0; i < n && !applied; i++) applied = atoi(PQgetvalue(done, i, 0)) == m->version;
    if (applied) continue;
    if (apply_one(c, schema, path, ins, series, m) < 0) goto out;
  }
  rc = 0;
out:
  PQclear(done);
  free(sel);
  free(ins);
  return rc;
}

int db_migrate(db_conn *c, const char *schema, const db_migration *migs) {
  const db_series series[] = {{"service", migs}, {NULL, NULL}};
  return db_migrate_series(c, schema, series);
}

int db_migrate_series(db_conn *c, const char *schema, const db_series *series) {
  static const char *const extensions[] = {
      "CREATE EXTENSION IF NOT EXISTS ltree WITH SCHEMA public",
      "CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public",
      "CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public",
  };
  int rc = -1, locked = 0;
  char *ident = NULL, *path = NULL, *table = NULL, *sql = NULL;
  if (!schema || !*schema) {
    log_error("db_migrate: no schema given");
    return -1;
  }
  if (check_order("common", common_migrations) < 0) return -1;
  for (const db_series *x = series; x && x->name; x++)
    if (strcmp(x->name, "common") == 0 || check_order(x->name, x->migs) < 0) return -1;
  if (c->in_tx) {
    log_error("db_migrate: called inside a transaction");
    return -1;
  }
  db_err_clear(c);
  if (db_ensure(c) < 0) goto out;
  if (db_cmd(c, "SELECT pg_advisory_lock($1::bigint)", 1, MIGRATE_LOCK_KEY) < 0) goto out;
  locked = 1;
  for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++)
    if (db_cmd(c, extensions[i], 0) < 0) goto out;
  if (!(ident = PQescapeIdentifier(c->pg, schema, strlen(schema)))) {
    db__set_err(c, DB_OTHER, "", "", PQerrorMessage(c->pg));
    goto out;
  }
  if (asprintf(&path, "%s, public", ident) < 0) path = NULL;
  if (asprintf(&table, "%s.schema_migrations", ident) < 0) table = NULL;
  if (asprintf(&sql, "CREATE SCHEMA IF NOT EXISTS %s", ident) < 0) sql = NULL;
  if (!path || !table || !sql) {
    db__set_err(c, DB_OTHER, "", "", "out of memory");
    goto out;
  }
  if (db_cmd(c, sql, 0) < 0) goto out;
  free(sql);
  if (asprintf(&sql,
               "CREATE TABLE IF NOT EXISTS %s (series text NOT NULL, version int NOT NULL, "
               "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now(), "
               "PRIMARY KEY (series, version))",
               table) < 0) {
    sql = NULL;
    db__set_err(c, DB_OTHER, "", "", "out of memory");
    goto out;
  }
  if (db_cmd(c, sql, 0) < 0) goto out;
  if (apply_series(c, schema, table, path, "common", common_migrations) < 0) goto out;
  for (const db_series *x = series; x && x->name; x++)
    if (apply_series(c, schema, table, path, x->name, x->migs) < 0) goto out;
  rc = 0;
out:
  if (rc < 0) log_error("migrations of schema %s stopped: %s", schema, c->message);
  if (locked && c->pg && PQstatus(c->pg) == CONNECTION_OK) {
    /* quietly: the error recorded above says why we stopped; a lost connection has released
     * the lock anyway */
    const char *key = MIGRATE_LOCK_KEY;
    PQclear(PQexecParams(c->pg, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, &key, NULL,
                         NULL, 0));
  }
  free(sql);
  free(table);
  free(path);
  PQfreemem(ident);
  return rc;
}
