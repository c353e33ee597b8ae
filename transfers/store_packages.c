/* The SQL of a kept package (packages, package_chunks: 005_package_chunks.sql): its bytes in
 * pieces of at most 1 MiB, written and read one piece at a time, so that neither the export nor
 * a later download holds more than one piece of a dossier's scans. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "log.h"
#include "transfers.h"

int store_package_chunk_put(srv_ctx *ctx, const char *transfer_id, int part, int seq, const uint8_t *data, size_t len) {
  char *bytes = srv_bytea_text_malloc(data, len);
  if (!bytes) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "transfer_id: out of memory while storing the package; retry");
  char ps[16], ss[16];
  snprintf(ps, sizeof ps, "%d", part);
  snprintf(ss, sizeof ss, "%d", seq);
  const char *p[4] = {transfer_id, ps, ss, bytes};
  PGresult *r = db_exec(ctx->db,
                        "INSERT INTO package_chunks (transfer_id, part, seq, content) "
                        "VALUES ($1::bigint, $2::int, $3::int, $4::bytea)",
                        4, p);
  free(bytes);
  PQclear(r);
  return r ? 0 : -1;
}

int store_package_put(srv_ctx *ctx, const char *transfer_id, const char *sha, long long size, const char *key_id) {
  const char *p[4] = {transfer_id, sha, srv_printf(ctx, "%lld", size), key_id};
  return db_cmd_later(ctx->db, "INSERT INTO packages (transfer_id, sha256, size, key_id) VALUES ($1::bigint, $2, "
                               "$3::bigint, $4)", 4, p);
}

int store_package_get(srv_ctx *ctx, const char *transfer_id, char sha[65], long long *size) {
  PGresult *r = db_q(ctx->db, "SELECT sha256, size FROM packages WHERE transfer_id = $1::bigint", 1, transfer_id);
  if (!r) return -1;
  int rc = 0;
  if (PQntuples(r) != 1) {
    log_error("transfers: transfer %s is EXPORTED without its package", transfer_id);
    rc = srv_fail_internal(ctx);
  } else {
    snprintf(sha, 65, "%s", PQgetvalue(r, 0, 0));
    *size = atoll(PQgetvalue(r, 0, 1));
  }
  PQclear(r);
  return rc;
}

int store_package_chunk_next(srv_ctx *ctx, const char *transfer_id, int *part, int *seq, uint8_t *buf, size_t *len) {
  char ps[16], ss[16];
  snprintf(ps, sizeof ps, "%d", *part);
  snprintf(ss, sizeof ss, "%d", *seq);
  PGresult *r = db_q(ctx->db,
                     "SELECT part, seq, content FROM package_chunks WHERE transfer_id = $1::bigint "
                     "AND (part, seq) > ($2::int, $3::int) ORDER BY part, seq LIMIT 1",
                     3, transfer_id, ps, ss);
  if (!r) return -1;
  int rc = 0;
  if (PQntuples(r) == 1) {
    size_t hex = (size_t)PQgetlength(r, 0, 2);
    long n = hex >= 2 && (hex - 2) / 2 <= TR_CHUNK ? srv_bytea_decode(PQgetvalue(r, 0, 2), hex, buf) : -1;
    if (n < 0) {
      log_error("transfers: a stored piece of the package of transfer %s is not a piece", transfer_id);
      rc = srv_fail_internal(ctx);
    } else {
      *part = atoi(PQgetvalue(r, 0, 0));
      *seq = atoi(PQgetvalue(r, 0, 1));
      *len = (size_t)n;
      rc = 1;
    }
  }
  PQclear(r);
  return rc;
}
