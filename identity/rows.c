/* Row ↔ message helpers shared by the identity handlers: units and accounts selected with
 * UNIT_COLS / ACCOUNT_COLS become proto messages in the call's arena. */
#include <stdlib.h>
#include "identity.h"

static const char *col(const PGresult *r, int row, int c) { return PQgetvalue(r, row, c); }

static long long col_ll(const PGresult *r, int row, int c) { return strtoll(PQgetvalue(r, row, c), NULL, 10); }

id_unit *unit_from_row(srv_ctx *ctx, const PGresult *r, int row, int c) {
  id_unit *u = srv_new(ctx, &hoso__identity__v1__unit__descriptor);
  u->id = srv_strdup(ctx, col(r, row, c + 0));
  u->parent_id = srv_strdup(ctx, col(r, row, c + 1));
  u->code = srv_strdup(ctx, col(r, row, c + 2));
  u->name = srv_strdup(ctx, col(r, row, c + 3));
  u->type = (Hoso__Identity__V1__UnitType)col_ll(r, row, c + 4);
  u->level = (int32_t)col_ll(r, row, c + 5);
  u->path = srv_strdup(ctx, col(r, row, c + 6));
  u->staffing_quota = (int32_t)col_ll(r, row, c + 7);
  u->status = (Hoso__Identity__V1__UnitStatus)col_ll(r, row, c + 8);
  u->merged_into_id = srv_strdup(ctx, col(r, row, c + 9));
  u->version = col_ll(r, row, c + 10);
  u->created_at = srv_strdup(ctx, col(r, row, c + 11));
  u->updated_at = srv_strdup(ctx, col(r, row, c + 12));
  u->child_count = (int32_t)col_ll(r, row, c + 13);
  return u;
}

id_account *account_from_row(srv_ctx *ctx, const PGresult *r, int row, int c) {
  id_account *a = srv_new(ctx, &hoso__identity__v1__account__descriptor);
  a->id = srv_strdup(ctx, col(r, row, c + 0));
  a->username = srv_strdup(ctx, col(r, row, c + 1));
  a->full_name = srv_strdup(ctx, col(r, row, c + 2));
  a->unit_id = srv_strdup(ctx, col(r, row, c + 3));
  a->unit_path = srv_strdup(ctx, col(r, row, c + 4));
  roles_to_enums(ctx, (unsigned)col_ll(r, row, c + 5), &a->roles, &a->n_roles);
  a->status = (Hoso__Identity__V1__AccountStatus)col_ll(r, row, c + 6);
  a->person_record_id = srv_strdup(ctx, col(r, row, c + 7));
  a->must_change_password = col(r, row, c + 8)[0] == 't';
  a->email = srv_strdup(ctx, col(r, row, c + 9));
  a->created_at = srv_strdup(ctx, col(r, row, c + 10));
  a->updated_at = srv_strdup(ctx, col(r, row, c + 11));
  a->last_login_at = srv_strdup(ctx, col(r, row, c + 12));
  a->status_reason = srv_strdup(ctx, col(r, row, c + 13));
  a->version = col_ll(r, row, c + 14);
  return a;
}

unsigned roles_from_enums(const Hoso__Common__V1__Role *roles, size_t n) {
  unsigned bits = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned b = tok_role_bit((int)roles[i]);
    if (!b) return 0;
    bits |= b;
  }
  return bits;
}

void roles_to_enums(srv_ctx *ctx, unsigned bits, Hoso__Common__V1__Role **out, size_t *n) {
  *n = 0;
  *out = srv_alloc(ctx, 8 * sizeof **out);
  for (int v = 1; v <= 6; v++)
    if (bits & tok_role_bit(v)) (*out)[(*n)++] = (Hoso__Common__V1__Role)v;
}
