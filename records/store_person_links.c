/* The SQL of person_links (store_person_links.h). */
#include "store_person_links.h"

int person_links_set(srv_ctx *ctx, const char *account_id, const char *record_id, const char *linked_by) {
  return db_cmd(ctx->db,
                "INSERT INTO person_links (account_id, record_id, linked_by) VALUES ($1, $2::bigint, $3) "
                "ON CONFLICT (account_id, record_id) DO UPDATE SET linked_by = EXCLUDED.linked_by, "
                "linked_at = now()",
                3, account_id, record_id, linked_by);
}

int person_links_made(srv_ctx *ctx, const char *account_id, const char *record_id) {
  PGresult *r = db_q(ctx->db,
                     "SELECT 1 FROM person_links WHERE account_id = $1 AND record_id::text = $2", 2,
                     account_id, record_id);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  PQclear(r);
  return found;
}
