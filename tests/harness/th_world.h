/* A small world for service tests: PostgreSQL, identity and records started, a province with
 * two districts, accounts of every role with their tokens, and a service client for the
 * transfers service. One call to set up, one to tear down. */
#ifndef HOSO_TH_WORLD_H
#define HOSO_TH_WORLD_H

#include "th.h"

/* Units made (beside the bootstrap root "UBND tỉnh"):
 *   root ─┬─ d1  "UBND huyện Lục Nam" ── d1u "Trường THCS Thị trấn Đồi Ngô"
 *         └─ d2  "UBND huyện Yên Thế"
 * Tokens are full access tokens (first-login password changes already done). */
typedef struct {
  th_pg pg;
  th_svc identity, records;
  cli_chan *id_ch, *rec_ch;
  char root_id[32], d1_id[32], d1u_id[32], d2_id[32];
  char root_path[64], d1_path[64], d1u_path[64], d2_path[64];
  char *tok_admin;       /* SYSTEM_ADMIN at the root */
  char *tok_d1_admin;    /* UNIT_ADMIN of d1 */
  char *tok_d1_updater;  /* UPDATER of d1 */
  char *tok_d1_reader;   /* READER of d1 */
  char *tok_d1u_updater; /* UPDATER of d1u (below d1) */
  char *tok_d2_admin;    /* UNIT_ADMIN of d2 */
  char *tok_d2_updater;  /* UPDATER of d2 */
  char *tok_d2_reader;   /* READER of d2 */
  char *tok_transfers;   /* SERVICE token of the transfers service client (grant: root) */
  char transfers_client_id[64];
  char transfers_client_secret[128]; /* its secret, for a transfers service started here */
  char records_client_id[64];       /* the records service client (grant: root), whose */
  char records_client_secret[128];  /* credentials records gets to follow the unit tree */
  const char *const *records_env;   /* the extra environment th_world_start was given */
  char reporting_client_id[64];     /* reporting's service client (grant: root), made by the */
  char reporting_client_secret[128];/* first th_world_reporting_start */
  /* records' port, chosen before identity starts: identity calls records (LinkPerson) and is
   * told the address then; held (records_port_fd) until records first starts on it. */
  int records_port, records_port_fd;
} th_world;

/* Starts everything. records_env: extra "K=V" for the records service (NULL-terminated, may be
 * NULL, kept for th_world_records_start); HOSO_IDENTITY_ADDR, HOSO_TRANSFERS_CLIENT_ID and
 * HOSO_RECORDS_CLIENT_ID / _SECRET are set by the world (a later entry overrides). Set
 * start_records = 0 to get only PostgreSQL + identity + the accounts. 0 / -1 (reason printed). */
int th_world_start(th_world *w, int start_records, const char *const *records_env);
/* Starts a records process into s with the world's environment (as th_world_start does for
 * w->records): to start records again after th_svc_stop, or a second process on the same
 * database. 0 / -1. */
int th_world_records_start(th_world *w, th_svc *s);
/* Starts hoso-<name>, a service of common/services.tsv, into s (the caller stops it with
 * th_svc_stop before th_world_stop): its address variable set to a free port, the world's
 * HOSO_IDENTITY_ADDR and HOSO_RECORDS_ADDR (when records runs), the transfers and records client
 * ids, and for transfers and records their own secret; extra_env ("K=V", NULL-terminated, may be NULL) after
 * them (a later entry overrides). 0 / -1 (reason printed). */
int th_world_service_start(th_world *w, const char *name, th_svc *s, const char *const *extra_env);
/* th_world_service_start on a port the caller reserved with th_port_hold (another service was
 * told of the address first): *held_fd is closed right before the start. 0 / -1. */
int th_world_service_start_held(th_world *w, const char *name, th_svc *s, const char *const *extra_env, int *held_fd,
                                int port);
/* The same on the address s had, after it was stopped or killed (a crash and a restart). */
int th_world_service_restart(th_world *w, const char *name, th_svc *s, const char *const *extra_env);
/* th_world_service_start for reporting, with HOSO_REPORTING_PG_DSN as the role hoso_report. */
int th_world_reporting_start(th_world *w, th_svc *s, const char *const *extra_env);
/* Stops the services (their exit status must be 0) and destroys the cluster. 0 / -1. */
int th_world_stop(th_world *w);

/* A unit under parent made by admin (type: hoso.identity.v1.UnitType value); its id and path
 * (path may be NULL). 0 / -1 (reason printed). */
int th_world_unit(th_world *w, const char *parent, const char *code, const char *name, int type, char id[32],
                  char path[64]);
/* A minimal valid dossier (name, birth date, gender, category) in unit, created with token;
 * its id. 0 / -1 (reason printed). */
int th_world_record(th_world *w, const char *token, const char *unit, const char *name, char id[32]);

/* The password of the world's accounts after their first login. */
#define TH_WORLD_PASSWORD "Mat-khau-chinh-thuc-2026"

/* A SELF account in unit_id linked to record_id; returns its full access token (malloc'd). */
char *th_world_self_token(th_world *w, const char *unit_id, const char *record_id);
/* A new account with one role (hoso.common.v1.Role value) in unit_id; returns its token. */
char *th_world_account_token(th_world *w, const char *username, const char *unit_id, int role);
/* A new account with roles (hoso.common.v1.Role values) in unit_id, linked to record_id (NULL:
 * none), made by the world's SYSTEM_ADMIN; its full access token (malloc'd), or NULL. */
char *th_world_account(th_world *w, const char *username, const char *unit_id, const int *roles, size_t n_roles,
                       const char *record_id);

/* A unary call to identity or records with a bearer token (NULL: none). *resp (may be NULL
 * to discard) is freed by the caller with protobuf_c_message_free_unpacked. */
grpc_status_code th_call(cli_chan *ch, const char *method, const void *req,
                         const ProtobufCMessageDescriptor *resp_desc, void **resp,
                         const char *token, cli_status *st);
/* th_call as if from the client address addr (x-forwarded-for: the service must take the test
 * for the gateway, e.g. HOSO_TRUSTED_PROXIES=127.0.0.1 in plaintext); NULL: th_call. */
grpc_status_code th_call_from(cli_chan *ch, const char *addr, const char *method, const void *req,
                              const ProtobufCMessageDescriptor *resp_desc, void **resp, const char *token,
                              cli_status *st);
/* th_call with its own deadline (ms) instead of 15 s: for the calls whose work grows with a
 * loaded machine (a whole 4 MiB import under the sanitizers), which the test waits out. */
grpc_status_code th_call_ms(cli_chan *ch, const char *method, const void *req,
                            const ProtobufCMessageDescriptor *resp_desc, void **resp, const char *token,
                            int timeout_ms, cli_status *st);

/* The lines of a service log (th_svc.log) that tell of a fault inside the service (an
 * error-level line, a sanitizer report), each printed to stderr; returns how many. A test whose
 * refusals must all be chosen statuses checks its services' logs after th_world_stop. */
int th_log_errors(const char *path);

/* cmocka check of one call's outcome: the status is want and, when field is not NULL, the
 * message starts with "<field>:" (every refusal names its field). */
void th_expect(grpc_status_code got, const cli_status *st, grpc_status_code want, const char *field);

#endif
