/* Internal interface of the identity service: the handlers of each RPC group and the row ↔
 * message helpers they share. The contract itself is proto/identity.proto. */
#ifndef HOSO_IDENTITY_H
#define HOSO_IDENTITY_H

#include "identity.pb-c.h"
#include "common.pb-c.h"
#include "srv.h"

typedef Hoso__Identity__V1__Unit id_unit;
typedef Hoso__Identity__V1__Account id_account;

/* Column lists whose rows unit_from_row / account_from_row read (prefix u. / a.). */
#define UNIT_COLS                                                                          \
  "u.id::text, coalesce(u.parent_id::text, ''), u.code, u.name, u.type, u.level, "         \
  "u.path::text, u.staffing_quota, u.status, coalesce(u.merged_into_id::text, ''), "       \
  "u.version, to_char(u.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), " \
  "to_char(u.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "           \
  "(SELECT count(*) FROM units c WHERE c.parent_id = u.id AND c.status = 1)"
#define UNIT_NCOLS 14

#define ACCOUNT_COLS                                                                       \
  "a.id::text, a.username, a.full_name, a.unit_id::text, a.unit_path::text, a.roles, "     \
  "a.status, a.person_record_id, a.must_change_password, a.email, "                        \
  "to_char(a.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "           \
  "to_char(a.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "           \
  "coalesce(to_char(a.last_login_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), " \
  "a.status_reason, a.version"
#define ACCOUNT_NCOLS 15

/* Build a message from row `row` of a result selected with the columns above, starting at
 * column `col0`; memory from the call's arena. (rows.c) */
id_unit *unit_from_row(srv_ctx *ctx, const PGresult *r, int row, int col0);
id_account *account_from_row(srv_ctx *ctx, const PGresult *r, int row, int col0);
/* Role bits (tok.h) ↔ repeated Role. roles_from_enums: 0 if any value is unknown. */
unsigned roles_from_enums(const Hoso__Common__V1__Role *roles, size_t n);
void roles_to_enums(srv_ctx *ctx, unsigned bits, Hoso__Common__V1__Role **out, size_t *n);

/* Signing keys (keys.c): the current signer (created on first use), rotation, and loading the
 * published public keys into a keyring. */
int keys_sign(srv_ctx *ctx, const tok_claims *claims, int ttl, char **jwt);
int keys_rotate(db_conn *db, char *kid_out, size_t kid_len);
int keys_load_ring(tok_keyring *kr, void *arg);
int keys_ensure(db_conn *db);
/* Loads the active signer now (opening its sealed private key): 0, or -1 logged. Start-up
 * refuses to serve tokens it could not sign. */
int keys_check_signer(db_conn *db);
/* The background check that rotates the signing key by age in a running identity (on_serving /
 * on_stopping). */
int keys_rotation_start(void);
void keys_rotation_stop(void);

/* Ends every session of an account (revokes its refresh tokens), e.g. when it is disabled,
 * revoked, its roles narrowed or its password reset (session.c). Returns the number of
 * tokens revoked or -1. */
int session_revoke_account(db_conn *db, const char *account_id, const char *reason);

/* Start-up: root unit and the bootstrap administrator (bootstrap.c). */
int identity_bootstrap(db_conn *db);

/* --- handlers ------------------------------------------------------------------------- */
#define ID_HANDLER(name) int name(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp)

/* rpc_session.c */
ID_HANDLER(rpc_login);
ID_HANDLER(rpc_refresh);
ID_HANDLER(rpc_logout);
ID_HANDLER(rpc_change_password);
ID_HANDLER(rpc_whoami);
/* rpc_keys.c */
ID_HANDLER(rpc_get_public_keys);
ID_HANDLER(rpc_list_token_revocations);
ID_HANDLER(rpc_rotate_signing_key);
/* rpc_units.c */
ID_HANDLER(rpc_create_unit);
ID_HANDLER(rpc_update_unit);
ID_HANDLER(rpc_move_unit);
ID_HANDLER(rpc_get_unit);
ID_HANDLER(rpc_list_child_units);
ID_HANDLER(rpc_get_unit_subtree);
ID_HANDLER(rpc_merge_units);
ID_HANDLER(rpc_list_unit_history);
/* rpc_unit_changes.c */
ID_HANDLER(rpc_list_unit_changes);
/* rpc_accounts.c */
ID_HANDLER(rpc_create_account);
ID_HANDLER(rpc_get_account);
ID_HANDLER(rpc_list_accounts);
ID_HANDLER(rpc_disable_account);
ID_HANDLER(rpc_enable_account);
ID_HANDLER(rpc_update_account_roles);
ID_HANDLER(rpc_revoke_account);
ID_HANDLER(rpc_reset_password);
/* rpc_service_clients.c */
ID_HANDLER(rpc_service_login);
ID_HANDLER(rpc_create_service_client);
ID_HANDLER(rpc_list_service_clients);
ID_HANDLER(rpc_revoke_service_client);

#endif
