/* First start of identity: a signing key, the root unit of the deployment and the system
 * administrator `admin` (password from HOSO_ADMIN_PASSWORD, or generated and printed once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cfg.h"
#include "identity.h"
#include "key_seal.h"
#include "log.h"
#include "pw.h"
#include "val.h"

typedef struct {
  char phc[PW_PHC_MAX];
  int must_change;
  int created_admin;
  const char *root_code;
  char *root_name;
} boot_st;

static int boot_tx(db_conn *db, void *p) {
  boot_st *st = p;
  /* Several replicas may start together; one bootstraps. */
  if (db_cmd(db, "SELECT pg_advisory_xact_lock(hashtext('identity.bootstrap'))", 0) != 0) return -1;
  PGresult *r = db_q(db, "SELECT id::text, path::text FROM units WHERE parent_id IS NULL ORDER BY id LIMIT 1", 0);
  if (!r) return -1;
  char root_id[32] = "", root_path[64] = "";
  if (PQntuples(r) == 1) {
    snprintf(root_id, sizeof root_id, "%s", PQgetvalue(r, 0, 0));
    snprintf(root_path, sizeof root_path, "%s", PQgetvalue(r, 0, 1));
  }
  PQclear(r);
  if (!root_id[0]) {
    r = db_q(db,
             "WITH n AS (SELECT nextval('units_id_seq') AS id) "
             "INSERT INTO units (id, code, name, type, level, path) "
             "SELECT n.id, $1, $2, 1, 1, (n.id::text)::public.ltree FROM n RETURNING id::text, path::text",
             2, st->root_code, st->root_name);
    if (!r) return -1;
    snprintf(root_id, sizeof root_id, "%s", PQgetvalue(r, 0, 0));
    snprintf(root_path, sizeof root_path, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    if (db_cmd(db, "INSERT INTO unit_history (unit_id, action, name, code, actor_id, reason) "
                   "VALUES ($1::bigint, 'CREATED', $2, $3, 'system', 'bootstrap')",
               3, root_id, st->root_name, st->root_code) != 0)
      return -1;
    audit_entry e = {.actor_id = "system", .action = "UNIT_CREATE", .target_type = "unit",
                     .target_id = root_id, .unit_path = root_path, .outcome = "ok",
                     .detail_json = "{\"reason\":\"bootstrap root unit\"}"};
    if (audit_write(db, &e) != 0) return -1;
    log_info("created the root unit %s (%s)", root_id, st->root_name);
  }
  r = db_q(db, "SELECT 1 FROM accounts WHERE username = 'admin'", 0);
  if (!r) return -1;
  int have_admin = PQntuples(r) == 1;
  PQclear(r);
  if (have_admin) return 0;
  char roles[16];
  snprintf(roles, sizeof roles, "%u", (unsigned)ROLE_SYSTEM_ADMIN);
  r = db_q(db,
           "INSERT INTO accounts (username, full_name, unit_id, unit_path, roles, password_phc, "
           "must_change_password, created_by) "
           "VALUES ('admin', 'Quản trị hệ thống', $1::bigint, $2::public.ltree, $3::int, $4, $5::boolean, 'system') "
           "RETURNING id::text",
           5, root_id, root_path, roles, st->phc, st->must_change ? "true" : "false");
  if (!r) return -1;
  char id[32];
  snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  audit_entry e = {.actor_id = "system", .action = "ACCOUNT_CREATE", .target_type = "account",
                   .target_id = id, .unit_path = root_path, .outcome = "ok",
                   .detail_json = "{\"username\":\"admin\",\"roles\":[\"SYSTEM_ADMIN\"],\"reason\":\"bootstrap\"}"};
  if (audit_write(db, &e) != 0) return -1;
  st->created_admin = 1;
  return 0;
}

int identity_bootstrap(db_conn *db) {
  if (seal_init() != 0) return -1;
  if (keys_ensure(db) != 0 || keys_check_signer(db) != 0) {
    log_error("could not create or load the token signing key");
    return -1;
  }
  boot_st st;
  memset(&st, 0, sizeof st);
  st.root_code = cfg_str("HOSO_ROOT_UNIT_CODE", "UBND-TINH");
  st.root_name = val_nfc_clean(cfg_str("HOSO_ROOT_UNIT_NAME", "Ủy ban nhân dân tỉnh"));
  if (!st.root_name || val_code(st.root_code)) {
    log_error("HOSO_ROOT_UNIT_NAME / HOSO_ROOT_UNIT_CODE are not valid");
    return -1;
  }
  const char *given = cfg_str("HOSO_ADMIN_PASSWORD", NULL);
  char generated[64] = "";
  if (given) {
    const char *why = pw_policy_check(given, "admin");
    if (why) {
      log_error("HOSO_ADMIN_PASSWORD: %s", why);
      free(st.root_name);
      return -1;
    }
  } else {
    pw_random_secret(15, generated, sizeof generated);
    st.must_change = 1;
  }
  /* Hashing is cheap next to start-up, and keeps the transaction short. */
  int rc = pw_hash(given ? given : generated, st.phc);
  if (rc == 0) rc = db_tx(db, DB_READ_COMMITTED, "*", "system", boot_tx, &st);
  if (rc == 0 && st.created_admin) {
    if (given)
      log_info("bootstrap administrator 'admin' created with the password from HOSO_ADMIN_PASSWORD");
    else
      /* Printed once, to the terminal that started the service; only the hash is stored. */
      fprintf(stderr, "bootstrap administrator 'admin' created; one-time password: %s (change it at first login)\n",
              generated);
  }
  free(st.root_name);
  if (rc != 0) log_error("bootstrap failed: %s", db_err_message(db));
  return rc == 0 ? 0 : -1;
}
