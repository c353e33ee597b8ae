/* The transfers service in a test world (th_world.h): started beside identity and records, and
 * the calls every transfers test makes — a transfer started, acted on, read, and waited for
 * until records has the move. */
#ifndef HOSO_TH_TRANSFERS_H
#define HOSO_TH_TRANSFERS_H

#include "records.pb-c.h"
#include "th_world.h"
#include "transfers.pb-c.h"

#define TR "/hoso.transfers.v1.Transfers/"
typedef Hoso__Transfers__V1__Transfer th_transfer;

typedef struct {
  th_world *w;
  th_svc svc;
  cli_chan *ch;
} th_tr;

/* Starts hoso-transfers on w's database with its service client (extra_env after: a later
 * entry overrides) and opens a channel to it (t zeroed the first time). 0 / -1. */
int th_tr_start(th_tr *t, th_world *w, const char *const *extra_env);
/* Stops it (exit status must be 0) and closes the channel. 0 / -1. */
int th_tr_stop(th_tr *t);
/* SIGKILL, wait until it is gone, and close the channel (a crash). */
void th_tr_kill(th_tr *t);
/* Waits (30 s at most) until the process of s has ended, after a SIGKILL when kill_it; pid 0
 * then. 0 / -1. */
int th_tr_wait_gone(th_svc *s, int kill_it);

/* A unary call to transfers with a bearer token. */
grpc_status_code th_tr_call(th_tr *t, const char *method, const void *req, const ProtobufCMessageDescriptor *resp_desc,
                            void **resp, const char *token, cli_status *st);

/* A package as ExportTransferPackage streams it: the first message (what it is), the bytes of
 * the chunks that followed, how many messages and the largest chunk. */
typedef struct {
  Hoso__Transfers__V1__ExportTransferPackageResponse *head;
  uint8_t *bytes;
  size_t len;
  int messages;
  size_t largest_chunk;
} th_package;
/* ExportTransferPackage as tok into *out (th_package_free it whatever the status). */
grpc_status_code th_tr_export(th_tr *t, const char *tok, const char *transfer_id, th_package *out, cli_status *st);
void th_package_free(th_package *p);
/* ImportTransferPackage as tok: bytes[0..len) in chunks of 1 MiB, the first message announcing
 * `size` bytes (len for a whole package) for unit_id; *out (may be NULL) on OK. */
grpc_status_code th_tr_import(th_tr *t, const char *tok, const uint8_t *bytes, size_t len, long long size,
                              const char *unit_id, const char *request_id,
                              Hoso__Transfers__V1__ImportTransferPackageResponse **out, cli_status *st);

/* A small valid PDF, as a scan. */
Hoso__Transfers__V1__Scan *th_tr_scan(void);
/* A decision effective on `effective` (number "NN/QĐ-UBND"), signed the same day. */
Hoso__Transfers__V1__Decision *th_tr_decision(const char *effective);

/* StartTransfer of `kind` (to may be NULL for OUT_OF_SYSTEM, final NULL for none) with a
 * decision effective on `effective` and its scan; the reply's transfer (free with
 * th_tr_free), or NULL when the status is not OK (then *st holds it). */
th_transfer *th_tr_begin(th_tr *t, const char *tok, const char *record, int kind, const char *to, const char *final,
                         const char *effective, cli_status *st);
/* An action by name ("SendTransfer", "ReceiveTransfer", "RejectTransfer", "CancelTransfer",
 * "ForwardTransfer", "RefuseRequest") with a reason where one is needed; the transfer after it
 * or NULL (status in *st). */
th_transfer *th_tr_act(th_tr *t, const char *tok, const char *method, const char *transfer_id, cli_status *st);
/* GetTransfer (NULL when refused). */
th_transfer *th_tr_get(th_tr *t, const char *tok, const char *transfer_id, cli_status *st);
void th_tr_free(th_transfer *x);

/* Waits (up to timeout_ms) until records has every move of the transfer (delivered). 0 / -1. */
int th_tr_wait_delivered(th_tr *t, const char *transfer_id, int timeout_ms);
/* Waits (up to timeout_ms) until the transfer is in `state`. 0 / -1. */
int th_tr_wait_state(th_tr *t, const char *transfer_id, int state, int timeout_ms);

/* Waits (up to timeout_ms) until ListDeadlines of unit (NULL: the caller's whole scope), asked
 * with tok, shows record's step of kind `step` (records' own steps arrive through the service's
 * job); that deadline (free with protobuf_c_message_free_unpacked), or NULL. */
Hoso__Transfers__V1__Deadline *th_tr_wait_deadline(th_tr *t, const char *tok, const char *unit, const char *record,
                                                    int step, int timeout_ms);

/* The record as records has it now, read as the system administrator (NULL: not found). */
Hoso__Records__V1__Record *th_tr_record(th_tr *t, const char *record_id);

/* The deployment's package key for a test: a fresh P-256 key in a private file under the build's
 * test-logs/ (named with tag and the pid), its path in path; env gets "HOSO_PACKAGE_KEY=<path>"
 * for th_tr_start. 0 / -1. The caller unlinks it. */
int th_tr_package_key(const char *tag, char *path, size_t n, char *env, size_t env_n);

/* Today in Vietnam plus `days` (YYYY-MM-DD). */
void th_tr_day(int days, char out[11]);

#endif
