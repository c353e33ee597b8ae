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

/* The record as records has it now, read as the system administrator (NULL: not found). */
Hoso__Records__V1__Record *th_tr_record(th_tr *t, const char *record_id);

/* Today in Vietnam plus `days` (YYYY-MM-DD). */
void th_tr_day(int days, char out[11]);

#endif
