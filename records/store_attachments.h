/* The SQL of the attachments (rpc_attachments.c): metadata rows and their bytes, stored once
 * and never deleted. Each runs inside the caller's transaction, in the caller's scope unless
 * `anywhere` (every unit visible: srv_all_units); what it reads is in the call's arena. */
#ifndef HOSO_RECORDS_STORE_ATTACHMENTS_H
#define HOSO_RECORDS_STORE_ATTACHMENTS_H

#include <stddef.h>
#include "records.h"

typedef Hoso__Records__V1__AttachmentMeta att_meta;

/* The attachment's metadata: 1 with *out, 0 when it is not there (or not visible), -1. */
int attachments_get(srv_ctx *ctx, const char *id, int anywhere, att_meta **out);

/* A new attachment of record_id, filed at unit_path, uploaded by the transaction's actor, with
 * its bytes; change_request_id (NULL or "": none) the person's request it supports. *out: its
 * metadata as stored. 0 / -1. */
typedef struct {
  const char *record_id, *unit_path, *file_name, *content_type, *sha256, *description, *change_request_id;
  const unsigned char *content;
  size_t len;
} attachment_new;
int attachments_insert(srv_ctx *ctx, const attachment_new *n, att_meta **out);

/* The bytes of attachment id: 1 with *content (len bytes), 0 when it has no content row, -1. */
int attachments_content(srv_ctx *ctx, const char *id, int anywhere, const unsigned char **content, size_t *len);

/* The attachments of a record in upload order. 0 / -1. */
int attachments_of_record(srv_ctx *ctx, const char *record_id, int anywhere, att_meta ***out, size_t *n);

#endif
