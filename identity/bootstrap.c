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
#include "store_accounts.h"
#include "store_units.h"
#include "val.h"

typedef struct {
  char phc[PW_PHC_MAX];
  int must_change;
  int created_admin;
  const char *root_code;
  char *root_name;
} boot_st;

static int boot_tx(srv_ctx *ctx, void *p) {
  boot_st *st = p;
  /* Several replicas may start together; one bootstraps. */
  if (units_lock_tree(ctx, 1) != 0) return -1;
  unit_row root;
  int have_root = units_root(ctx, &root);
  if (have_root < 0) return -1;
  if (!have_root) {
    char id[24];
    if (units_insert(ctx, NULL, st->root_code, st->root_name, 1, 0, id) != 0 ||
        units_history_add(ctx, id, "CREATED", "system", "bootstrap", NULL) != 0 ||
        units_find(ctx, id, UNIT_LOCK_NONE, &root) != 1)
      return -1;
    audit_entry e = {.actor_id = "system", .action = "UNIT_CREATE", .target_type = "unit",
                     .target_id = root.id, .unit_path = root.path, .outcome = "ok",
                     .detail_json = "{\"reason\":\"bootstrap root unit\"}"};
    if (audit_write(ctx->db, &e) != 0) return -1;
    log_info("created the root unit %s (%s)", root.id, st->root_name);
  }
  int have_admin = accounts_username_taken(ctx, "admin");
  if (have_admin < 0) return -1;
  if (have_admin) return 0;
  id_account *admin;
  account_new n = {.username = "admin", .full_name = "Quản trị hệ thống", .unit_id = root.id,
                   .unit_path = root.path, .password_phc = st->phc, .created_by = "system",
                   .roles = ROLE_SYSTEM_ADMIN, .must_change_password = st->must_change};
  if (accounts_insert(ctx, &n, &admin) != 1) return -1;
  audit_entry e = {.actor_id = "system", .action = "ACCOUNT_CREATE", .target_type = "account",
                   .target_id = admin->id, .unit_path = root.path, .outcome = "ok",
                   .detail_json = "{\"username\":\"admin\",\"roles\":[\"SYSTEM_ADMIN\"],\"reason\":\"bootstrap\"}"};
  if (audit_write(ctx->db, &e) != 0) return -1;
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
  srv_ctx *ctx = rc == 0 ? srv_job_new(db, "bootstrap") : NULL;
  static const tok_claims system_actor = {.sub = "system", .username = "system", .scope = "*"};
  if (ctx) ctx->auth = &system_actor;
  if (rc == 0) rc = ctx ? srv_tx_scoped(ctx, DB_READ_COMMITTED, "*", boot_tx, &st) : -1;
  srv_job_free(ctx);
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
