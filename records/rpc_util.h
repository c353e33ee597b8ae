/* Helpers every record handler (rpc_*.c) shares: input checks that name the field, the role
 * check made before any transaction, copies of messages into the call arena, version checks. */
#ifndef HOSO_RECORDS_RPC_UTIL_H
#define HOSO_RECORDS_RPC_UTIL_H

#include <stdint.h>
#include "records.h"

#define REC_TEXT_MAX_CHARS 2000     /* a reason, a note, any text field of a record */
#define REC_REQUEST_ID_MAX_CHARS 128

/* Inside a transaction body: pass a non-zero result (-1, status set or database error) up. */
#define REC_TRY(x)              \
  do {                          \
    int rc_ = (x);              \
    if (rc_ != 0) return rc_;   \
  } while (0)

/* INVALID_ARGUMENT "<field>: ..." unless v is an id (a positive decimal number). 0 / -1. */
int rec_check_id(srv_ctx *ctx, const char *field, const char *v);

/* request_id: opaque client key, compared byte for byte, at most 128 characters. 0 / -1. */
int rec_check_request_id(srv_ctx *ctx, const char *request_id);

/* The role half of the scope rule, before any transaction: PERMISSION_DENIED with `what` when
 * none of the caller's roles gives `right` anywhere (UNAUTHENTICATED without a caller). With
 * self_ok, a SELF caller passes too (reads of its own record are decided per record). 0 / -1. */
int rec_need_right(srv_ctx *ctx, unsigned right, int self_ok, const char *what);

/* A deep copy of m in the call arena (packed and unpacked with srv_allocator): the request is
 * read-only and freed by the runtime, the copy may be normalized and changed. NULL for NULL. */
void *rec_msg_copy(srv_ctx *ctx, const ProtobufCMessage *m);

/* 1 when a and b pack to the same bytes (NULL counts as the empty message). */
int rec_msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* Optimistic concurrency: expected 0 means "not checked"; any other value must be r's version,
 * else ABORTED "record was changed by someone else (now version N); reload and retry". */
int rec_check_version(srv_ctx *ctx, const rec_t *r, int64_t expected);

/* One text field as stored: NFC, trimmed (val_nfc_clean), at most max characters, not empty
 * when required; *out in the arena. INVALID_ARGUMENT "<field>: ..." otherwise. 0 / -1. */
int rec_text_clean(srv_ctx *ctx, const char *field, const char *in, int required, size_t max,
                   const char **out);
/* The same for prose that keeps its line breaks (notes, reasons, descriptions):
 * val_nfc_clean_lines. */
int rec_prose_clean(srv_ctx *ctx, const char *field, const char *in, int required, size_t max,
                    const char **out);

/* The string fields of records and reasons whose line breaks are kept (NULL-terminated, for
 * pbwalk_nfc): the declared personal history, work descriptions, discipline reasons, the text
 * of a change reason. Everything else is one line. */
const ProtobufCFieldDescriptor *const *rec_prose_fields(void);

/* A reason as stored: copied, text NFC and at most 2000 characters (required: not empty), the
 * decision's dates YYYY-MM-DD; messages name "<field>.text", "<field>.decision.date". *out is
 * NULL when in is NULL and the text is not required. 0 / -1. */
int rec_reason_clean(srv_ctx *ctx, const char *field, const rec_reason *in, int text_required,
                     rec_reason **out);

#endif
