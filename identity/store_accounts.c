/* The SQL behind the account RPCs: accounts looked up, inserted and updated inside the
 * handler's transaction, with parameters only. Rules live in rpc_accounts.c, not here. */
#include "store_accounts.h"

#include <stdio.h>
#include <stdlib.h>

/* The columns account_from_row reads. */
#define ACCOUNT_COLS                                                                                   \
  "a.id::text, a.username, a.full_name, a.unit_id::text, a.unit_path::text, a.roles, a.status, "       \
  "a.person_record_id, a.must_change_password, a.email, " DB_RFC3339("a.created_at") ", "              \
  DB_RFC3339("a.updated_at") ", coalesce(" DB_RFC3339("a.last_login_at") ", ''), a.status_reason, a.version"

static long long col_ll(const PGresult *r, int row, int c) { return strtoll(PQgetvalue(r, row, c), NULL, 10); }

static id_account *account_from_row(srv_ctx *ctx, const PGresult *r, int row) {
  id_account *a = srv_new(ctx, &hoso__identity__v1__account__descriptor);
  a->id = srv_strdup(ctx, PQgetvalue(r, row, 0));
  a->username = srv_strdup(ctx, PQgetvalue(r, row, 1));
  a->full_name = srv_strdup(ctx, PQgetvalue(r, row, 2));
  a->unit_id = srv_strdup(ctx, PQgetvalue(r, row, 3));
  a->unit_path = srv_strdup(ctx, PQgetvalue(r, row, 4));
  roles_to_enums(ctx, (unsigned)col_ll(r, row, 5), &a->roles, &a->n_roles);
  a->status = (Hoso__Identity__V1__AccountStatus)col_ll(r, row, 6);
  a->person_record_id = srv_strdup(ctx, PQgetvalue(r, row, 7));
  a->must_change_password = PQgetvalue(r, row, 8)[0] == 't';
  a->email = srv_strdup(ctx, PQgetvalue(r, row, 9));
  a->created_at = srv_strdup(ctx, PQgetvalue(r, row, 10));
  a->updated_at = srv_strdup(ctx, PQgetvalue(r, row, 11));
  a->last_login_at = srv_strdup(ctx, PQgetvalue(r, row, 12));
  a->status_reason = srv_strdup(ctx, PQgetvalue(r, row, 13));
  a->version = col_ll(r, row, 14);
  return a;
}

/* The one account of r: 1 with *out (when out is given), 0 when r has none, -1. r is cleared. */
static int one_account(srv_ctx *ctx, PGresult *r, id_account **out) {
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  if (out) *out = found ? account_from_row(ctx, r, 0) : NULL;
  PQclear(r);
  return found;
}


int accounts_get(srv_ctx *ctx, const char *id, int lock, id_account **out) {
  return one_account(ctx,
                     db_q(ctx->db,
                          lock ? "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.id = $1::bigint FOR UPDATE"
                               : "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.id = $1::bigint",
                          1, id),
                     out);
}

int accounts_names(srv_ctx *ctx, const char *ids, account_name_row **out, size_t *n) {
  PGresult *r = db_q(ctx->db,
                     "SELECT a.id::text, a.full_name, a.unit_path::text FROM accounts a WHERE a.id = ANY ($1::bigint[]) ORDER BY a.id",
                     1, ids);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    (*out)[i].id = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
    (*out)[i].full_name = srv_strdup(ctx, PQgetvalue(r, (int)i, 1));
    (*out)[i].unit_path = srv_strdup(ctx, PQgetvalue(r, (int)i, 2));
  }
  PQclear(r);
  return 0;
}

static int exists(srv_ctx *ctx, const char *sql, int n, const char *a, const char *b) {
  PGresult *r = db_q(ctx->db, sql, n, a, b);
  if (!r) return -1;
  int found = PQntuples(r) > 0;
  PQclear(r);
  return found;
}

int accounts_username_taken(srv_ctx *ctx, const char *username) {
  return exists(ctx, "SELECT 1 FROM accounts WHERE username = $1", 1, username, NULL);
}

int accounts_person_taken(srv_ctx *ctx, const char *person_record_id, const char *exclude_id) {
  /* The same predicate as the partial unique index accounts_person_record_key. */
  return exists(ctx,
                "SELECT 1 FROM accounts WHERE person_record_id = $1 AND status IN (1, 2) "
                "AND ($2::bigint IS NULL OR id <> $2::bigint)",
                2, person_record_id, exclude_id);
}

int accounts_next_id(srv_ctx *ctx, char *out, size_t n) {
  PGresult *r = db_q(ctx->db, "SELECT nextval(pg_get_serial_sequence('accounts', 'id'))::text", 0);
  if (!r) return -1;
  snprintf(out, n, "%s", PQgetvalue(r, 0, 0));
  PQclear(r);
  return 0;
}

int accounts_insert(srv_ctx *ctx, const account_new *n, id_account **out) {
  char roles[16];
  snprintf(roles, sizeof roles, "%u", n->roles);
  const char *p[] = {n->username, n->full_name,    n->unit_id,    n->unit_path,
                     roles,       n->person_record_id ? n->person_record_id : "",
                     n->email ? n->email : "",     n->password_phc,
                     n->must_change_password ? "true" : "false", n->created_by, n->id};
  return one_account(ctx,
                 db_exec(ctx->db,
                         "INSERT INTO accounts AS a (id, username, full_name, unit_id, unit_path, roles, "
                         "person_record_id, email, password_phc, must_change_password, created_by) "
                         "VALUES (coalesce($11::bigint, nextval(pg_get_serial_sequence('accounts', 'id'))), "
                         "$1, $2, $3::bigint, $4::ltree, $5::int, $6, $7, $8, $9::boolean, $10) "
                         "RETURNING " ACCOUNT_COLS,
                         11, p),
                 out);
}

int accounts_set_status(srv_ctx *ctx, const char *id, int status, const char *reason, id_account **out) {
  char st[8];
  snprintf(st, sizeof st, "%d", status);
  return one_account(ctx,
                 db_q(ctx->db,
                      "UPDATE accounts AS a SET status = $2::smallint, status_reason = $3, "
                      "version = a.version + 1, updated_at = now() WHERE a.id = $1::bigint "
                      "RETURNING " ACCOUNT_COLS,
                      3, id, st, reason),
                 out);
}

int accounts_set_roles(srv_ctx *ctx, const char *id, unsigned roles, const char *person_record_id,
                       id_account **out) {
  char r[16];
  snprintf(r, sizeof r, "%u", roles);
  return one_account(ctx,
                 db_q(ctx->db,
                      "UPDATE accounts AS a SET roles = $2::int, person_record_id = $3, "
                      "version = a.version + 1, updated_at = now() WHERE a.id = $1::bigint "
                      "RETURNING " ACCOUNT_COLS,
                      3, id, r, person_record_id),
                 out);
}

int accounts_set_password(srv_ctx *ctx, const char *id, const char *phc, id_account **out) {
  return one_account(ctx,
                 db_q(ctx->db,
                      "UPDATE accounts AS a SET password_phc = $2, must_change_password = true, "
                      "password_changed_at = now(), version = a.version + 1, updated_at = now() "
                      "WHERE a.id = $1::bigint RETURNING " ACCOUNT_COLS,
                      2, id, phc),
                 out);
}

int accounts_list(srv_ctx *ctx, const account_query *q, id_account ***out, size_t *n) {
  char st[8], lim[16];
  snprintf(st, sizeof st, "%d", q->status);
  snprintf(lim, sizeof lim, "%d", q->limit);
  /* Two statements rather than one with an OR, so each can use its own index
   * (accounts_unit for one unit, accounts_unit_path for a subtree). */
  PGresult *r = q->direct_only ? db_q(ctx->db,
                                      "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.unit_id = $1::bigint "
                                      "AND ($2::int = 0 OR a.status = $2::int) AND a.username > $3 "
                                      "ORDER BY a.username LIMIT $4::int",
                                      4, q->unit_id, st, q->after, lim)
                               : db_q(ctx->db,
                                      "SELECT " ACCOUNT_COLS " FROM accounts a WHERE a.unit_path <@ $1::ltree "
                                      "AND ($2::int = 0 OR a.status = $2::int) AND a.username > $3 "
                                      "ORDER BY a.username LIMIT $4::int",
                                      4, q->unit_path, st, q->after, lim);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) (*out)[i] = account_from_row(ctx, r, (int)i);
  PQclear(r);
  return 0;
}

int accounts_use_count(srv_ctx *ctx, const char *unit_id, const char *path, const char *from, const char *to,
                       Hoso__Identity__V1__UnitAccountUse ***out, size_t *n) {
  char self[16];
  snprintf(self, sizeof self, "%u", (unsigned)ROLE_SELF);
  PGresult *r = db_q(ctx->db,
                     "SELECT CASE WHEN nlevel(a.unit_path) > nlevel($2::public.ltree) "
                     "THEN subpath(a.unit_path, nlevel($2::public.ltree), 1)::text ELSE $1 END, "
                     "count(*) FILTER (WHERE a.status = 1), "
                     "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM account_use u WHERE u.account_id = a.id "
                     "AND u.month BETWEEN date_trunc('month', $3::date)::date AND $4::date)) "
                     "FROM accounts a WHERE a.unit_path OPERATOR(public.<@) $2::public.ltree "
                     "AND a.roles & ~$5::int <> 0 GROUP BY 1 ORDER BY 1",
                     5, unit_id, path, from, to, self);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    Hoso__Identity__V1__UnitAccountUse *u = srv_new(ctx, &hoso__identity__v1__unit_account_use__descriptor);
    u->unit_id = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
    u->active = col_ll(r, (int)i, 1);
    u->in_use = col_ll(r, (int)i, 2);
    (*out)[i] = u;
  }
  PQclear(r);
  return 0;
}
