/* Internal interface of the identity service: the handlers of each RPC group and the row ↔
 * message helpers they share. The contract itself is proto/identity.proto. */
#ifndef HOSO_IDENTITY_H
#define HOSO_IDENTITY_H

#include "identity.pb-c.h"
#include "common.pb-c.h"
#include "srv.h"

typedef Hoso__Identity__V1__Unit id_unit;
typedef Hoso__Identity__V1__Account id_account;

/* Role bits (tok.h) ↔ repeated Role. roles_from_enums: 0 if any value is unknown. */
unsigned roles_from_enums(const Hoso__Common__V1__Role *roles, size_t n);
void roles_to_enums(srv_ctx *ctx, unsigned bits, Hoso__Common__V1__Role **out, size_t *n);

/* Signing keys (keys.c): the current signer (created on first use), rotation, and loading the
 * published public keys into a keyring. */
int keys_sign(srv_ctx *ctx, const tok_claims *claims, int ttl, char **jwt);
int keys_rotate(srv_ctx *ctx, char *kid_out, size_t kid_len);
int keys_load_ring(tok_keyring *kr, void *arg);
int keys_ensure(db_conn *db);
/* Loads the active signer now (opening its sealed private key): 0, or -1 logged. Start-up
 * refuses to serve tokens it could not sign. */
int keys_check_signer(db_conn *db);
/* The background check that rotates the signing key by age in a running identity (on_serving /
 * on_stopping). */
int keys_rotation_start(void);
void keys_rotation_stop(void);

/* Before the transaction that links account_id to the person of record_id (CreateAccount,
 * UpdateAccountRoles): records' LinkPerson with the caller's token proves the record is managed
 * inside the caller's units and remembers the link (person_link.c). 0, or -1 with the status
 * set and person_record_id named. */
int person_link(srv_ctx *ctx, const char *record_id, const char *account_id, const char *request_id);

/* Start-up: root unit and the bootstrap administrator (bootstrap.c). */
int identity_bootstrap(db_conn *db);

/* --- handlers ------------------------------------------------------------------------- */

/* rpc_session.c */
SRV_HANDLER(rpc_login);
SRV_HANDLER(rpc_refresh);
SRV_HANDLER(rpc_logout);
SRV_HANDLER(rpc_change_password);
SRV_HANDLER(rpc_whoami);
/* rpc_keys.c */
SRV_HANDLER(rpc_get_public_keys);
SRV_HANDLER(rpc_list_token_revocations);
SRV_HANDLER(rpc_rotate_signing_key);
/* rpc_units.c */
SRV_HANDLER(rpc_create_unit);
SRV_HANDLER(rpc_update_unit);
SRV_HANDLER(rpc_move_unit);
SRV_HANDLER(rpc_get_unit);
SRV_HANDLER(rpc_list_child_units);
SRV_HANDLER(rpc_get_unit_subtree);
SRV_HANDLER(rpc_merge_units);
SRV_HANDLER(rpc_list_unit_history);
SRV_HANDLER(rpc_list_unit_directory);
/* rpc_unit_changes.c */
SRV_HANDLER(rpc_list_unit_changes);
/* rpc_accounts.c */
SRV_HANDLER(rpc_create_account);
SRV_HANDLER(rpc_get_account);
SRV_HANDLER(rpc_get_account_names);
SRV_HANDLER(rpc_list_accounts);
SRV_HANDLER(rpc_count_account_use);
SRV_HANDLER(rpc_disable_account);
SRV_HANDLER(rpc_enable_account);
SRV_HANDLER(rpc_update_account_roles);
SRV_HANDLER(rpc_revoke_account);
SRV_HANDLER(rpc_reset_password);
/* rpc_service_clients.c */
SRV_HANDLER(rpc_service_login);
SRV_HANDLER(rpc_create_service_client);
SRV_HANDLER(rpc_list_service_clients);
SRV_HANDLER(rpc_revoke_service_client);

#endif
