/* What the record handlers (rpc_*.c) share beyond common/srv.h's checks: message equality,
 * the optimistic version check, the prose fields of a record, a change's reason, the replay of
 * a repeated request, a person acting on their own record. */
#ifndef HOSO_RECORDS_RPC_UTIL_H
#define HOSO_RECORDS_RPC_UTIL_H

#include <stdint.h>
#include "records.h"

#define REC_TEXT_MAX_CHARS 2000     /* a reason, a note, any text field of a record */

/* 1 when a and b pack to the same bytes (NULL counts as the empty message). */
int rec_msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* Optimistic concurrency: expected 0 means "not checked"; any other value must be r's version,
 * else ABORTED "record was changed by someone else (now version N); reload and retry". */
int rec_check_version(srv_ctx *ctx, const rec_t *r, int64_t expected);

/* The string fields of records and reasons whose line breaks are kept (NULL-terminated, for
 * pbwalk_nfc): the declared personal history, work descriptions, discipline reasons, the text
 * of a change reason. Everything else is one line. */
const ProtobufCFieldDescriptor *const *rec_prose_fields(void);

/* A reason as stored: copied, text NFC and at most 2000 characters (required: not empty), the
 * decision's dates YYYY-MM-DD; messages name "<field>.text", "<field>.decision.date". *out is
 * NULL when in is NULL and the text is not required. 0 / -1. */
int rec_reason_clean(srv_ctx *ctx, const char *field, const rec_reason *in, int text_required,
                     rec_reason **out);

/* Idempotent replay (common/idem.h) for the handlers that answer with the record: on a repeated
 * request_id, *replayed is 1 and *out the result of the first call, the record as that call left
 * it (its version, recorded by rec_idem_done), never as it is now, to a caller who may read the
 * record now (RIGHT_READ), audited as a read (RECORD_READ, in the transaction); a caller who may
 * no longer read it (transferred out, moved away) gets the record's id only, which the first call
 * gave, never a refusal. In a transaction; 0, DB_TX_ROLLBACK (status set) or -1. */
int rec_replay(srv_ctx *ctx, const char *request_id, int *replayed, rec_t **out);
/* idem_done for those handlers: the record r the call answers with, and its version. */
int rec_idem_done(srv_ctx *ctx, const char *request_id, const rec_t *r);

/* A person acting on their own record: the SELF role with a record id, and no unit-wide right
 * that would make the call one of a unit's. */
int rec_self_only(const srv_ctx *ctx);

/* In a transaction: the caller's own record (the SELF token's record id), and the
 * transaction's row-level scope narrowed to its managing unit (a person's account may sit in
 * another unit than the one managing the record). 0, or -1 (status set). */
int rec_own_record_scope(srv_ctx *ctx, rec_t **cur);

#endif
