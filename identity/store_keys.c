/* The SQL of the token signing keys (store_keys.h). */
#include "store_keys.h"

#include <stdio.h>

int signing_keys_lock(srv_ctx *ctx) {
  return db_cmd(ctx->db, "SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))", 0);
}

int signing_keys_current(srv_ctx *ctx, long max_age, signing_key *out) {
  char age[32];
  snprintf(age, sizeof age, "%ld", max_age);
  PGresult *r = db_q(ctx->db,
                     "SELECT kid, private_sealed, private_pem, public_pem, "
                     "extract(epoch FROM now() - created_at) > $1::bigint "
                     "FROM signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
                     1, age);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  if (found) {
    out->kid = srv_strdup(ctx, PQgetvalue(r, 0, 0));
    out->private_sealed = PQgetisnull(r, 0, 1) ? NULL : srv_strdup(ctx, PQgetvalue(r, 0, 1));
    out->private_pem = PQgetisnull(r, 0, 2) ? NULL : srv_strdup(ctx, PQgetvalue(r, 0, 2));
    out->public_pem = srv_strdup(ctx, PQgetvalue(r, 0, 3));
    out->older = PQgetvalue(r, 0, 4)[0] == 't';
  }
  PQclear(r);
  return found;
}

int signing_keys_retire(srv_ctx *ctx, int grace) {
  char g[32];
  snprintf(g, sizeof g, "%d", grace);
  return db_cmd(ctx->db,
                "UPDATE signing_keys SET retired_at = now(), expires_at = now() + make_interval(secs => $1::int) "
                "WHERE retired_at IS NULL",
                1, g);
}

int signing_keys_insert(srv_ctx *ctx, const char *kid, const char *private_sealed, const char *private_pem,
                        const char *public_pem) {
  return db_cmd(ctx->db,
                "INSERT INTO signing_keys (kid, private_sealed, private_pem, public_pem) VALUES ($1, $2, $3, $4)", 4,
                kid, private_sealed, private_pem, public_pem);
}

int signing_keys_in_clear(srv_ctx *ctx, signing_key_clear **out, size_t *n) {
  PGresult *r = db_q(ctx->db,
                     "SELECT kid, private_pem, retired_at IS NULL FROM signing_keys WHERE private_pem IS NOT NULL", 0);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n + 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    (*out)[i].kid = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
    (*out)[i].private_pem = srv_strdup(ctx, PQgetvalue(r, (int)i, 1));
    (*out)[i].active = PQgetvalue(r, (int)i, 2)[0] == 't';
  }
  PQclear(r);
  return 0;
}

int signing_keys_seal(srv_ctx *ctx, const char *kid, const char *private_sealed) {
  return db_cmd(ctx->db, "UPDATE signing_keys SET private_sealed = $2, private_pem = NULL WHERE kid = $1", 2, kid,
                private_sealed);
}

int signing_keys_published(srv_ctx *ctx, Hoso__Identity__V1__PublicKey ***out, size_t *n) {
  PGresult *r = db_q(ctx->db,
                     "SELECT kid, public_pem, " DB_RFC3339("created_at") ", coalesce(" DB_RFC3339("expires_at") ", '') "
                     "FROM signing_keys WHERE expires_at IS NULL OR expires_at > now() ORDER BY created_at",
                     0);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n + 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) {
    Hoso__Identity__V1__PublicKey *k = srv_new(ctx, &hoso__identity__v1__public_key__descriptor);
    k->kid = srv_strdup(ctx, PQgetvalue(r, (int)i, 0));
    k->alg = "ES256";
    k->public_key_pem = srv_strdup(ctx, PQgetvalue(r, (int)i, 1));
    k->created_at = srv_strdup(ctx, PQgetvalue(r, (int)i, 2));
    k->retires_at = srv_strdup(ctx, PQgetvalue(r, (int)i, 3));
    (*out)[i] = k;
  }
  PQclear(r);
  return 0;
}
