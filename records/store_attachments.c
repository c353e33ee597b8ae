/* The SQL of the attachments (store_attachments.h): the metadata columns, the bytes as bytea in
 * text form, reads in the caller's scope or with every unit visible. */
#include "store_attachments.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_COLS                                                                            \
  "a.id::text, a.record_id::text, a.file_name, a.content_type, a.size::text, a.sha256, "     \
  "a.description, a.uploaded_by, "                                                           \
  "to_char(a.uploaded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "               \
  "COALESCE(a.change_request_id::text, '')"

static att_meta *meta_from(srv_ctx *ctx, const PGresult *r, int row) {
  att_meta *m = srv_new(ctx, &hoso__records__v1__attachment_meta__descriptor);
  m->id = srv_strdup(ctx, PQgetvalue(r, row, 0));
  m->record_id = srv_strdup(ctx, PQgetvalue(r, row, 1));
  m->file_name = srv_strdup(ctx, PQgetvalue(r, row, 2));
  m->content_type = srv_strdup(ctx, PQgetvalue(r, row, 3));
  m->size = strtoll(PQgetvalue(r, row, 4), NULL, 10);
  m->sha256 = srv_strdup(ctx, PQgetvalue(r, row, 5));
  m->description = srv_strdup(ctx, PQgetvalue(r, row, 6));
  m->uploaded_by = srv_strdup(ctx, PQgetvalue(r, row, 7));
  m->uploaded_at = srv_strdup(ctx, PQgetvalue(r, row, 8));
  m->change_request_id = srv_strdup(ctx, PQgetvalue(r, row, 9));
  return m;
}

static PGresult *read_rows(srv_ctx *ctx, int anywhere, const char *sql, const char *id) {
  const char *p[1] = {id};
  return anywhere ? srv_exec_all_units(ctx, sql, 1, p) : db_exec(ctx->db, sql, 1, p);
}

int attachments_get(srv_ctx *ctx, const char *id, int anywhere, att_meta **out) {
  PGresult *r = read_rows(ctx, anywhere, "SELECT " META_COLS " FROM attachments a WHERE a.id = $1::bigint", id);
  if (!r) return -1;
  int found = PQntuples(r) == 1;
  if (found) *out = meta_from(ctx, r, 0);
  PQclear(r);
  return found;
}

int attachments_insert(srv_ctx *ctx, const attachment_new *n, att_meta **out) {
  char size[32];
  snprintf(size, sizeof size, "%zu", n->len);
  PGresult *r = db_q(ctx->db,
                     "INSERT INTO attachments AS a (record_id, unit_path, file_name, content_type, size, "
                     "sha256, description, uploaded_by, change_request_id) VALUES ($1::bigint, "
                     "$2::public.ltree, $3, $4, $5::bigint, $6, $7, current_setting('hoso.actor'), "
                     "NULLIF($8, '')::bigint) RETURNING " META_COLS,
                     8, n->record_id, n->unit_path, n->file_name, n->content_type, size, n->sha256, n->description,
                     n->change_request_id ? n->change_request_id : "");
  if (!r) return -1;
  *out = meta_from(ctx, r, 0);
  PQclear(r);
  /* bytea in text form ("\x" + hex): db_exec passes text parameters only. */
  static const char hexd[] = "0123456789abcdef";
  char *hex = malloc(2 * n->len + 3);
  if (!hex) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "content: out of memory; retry");
  hex[0] = '\\';
  hex[1] = 'x';
  for (size_t i = 0; i < n->len; i++) {
    hex[2 + 2 * i] = hexd[n->content[i] >> 4];
    hex[3 + 2 * i] = hexd[n->content[i] & 15];
  }
  hex[2 + 2 * n->len] = 0;
  int rc = db_cmd(ctx->db, "INSERT INTO attachment_contents (attachment_id, content) VALUES ($1::bigint, $2::bytea)",
                  2, (*out)->id, hex);
  free(hex);
  return rc != 0 ? -1 : 0;
}

int attachments_content(srv_ctx *ctx, const char *id, int anywhere, const unsigned char **content, size_t *len) {
  PGresult *r = read_rows(ctx, anywhere, "SELECT c.content FROM attachment_contents c WHERE c.attachment_id = $1::bigint", id);
  if (!r) return -1;
  if (PQntuples(r) != 1) {
    PQclear(r);
    return 0;
  }
  size_t n = 0;
  unsigned char *b = PQunescapeBytea((const unsigned char *)PQgetvalue(r, 0, 0), &n);
  PQclear(r);
  if (!b) return srv_fail(ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "out of memory; retry");
  unsigned char *copy = srv_alloc(ctx, n ? n : 1);
  memcpy(copy, b, n);
  PQfreemem(b);
  *content = copy;
  *len = n;
  return 1;
}

int attachments_of_record(srv_ctx *ctx, const char *record_id, int anywhere, att_meta ***out, size_t *n) {
  PGresult *r = read_rows(ctx, anywhere,
                          "SELECT " META_COLS " FROM attachments a WHERE a.record_id = $1::bigint ORDER BY a.id", record_id);
  if (!r) return -1;
  *n = (size_t)PQntuples(r);
  *out = srv_alloc(ctx, (*n ? *n : 1) * sizeof **out);
  for (size_t i = 0; i < *n; i++) (*out)[i] = meta_from(ctx, r, (int)i);
  PQclear(r);
  return 0;
}
