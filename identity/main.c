/* The identity service: units tree, accounts, roles, login and tokens. This file is only the
 * method table and start-up; each RPC group lives in its rpc_*.c. */
#include "cfg.h"
#include "identity.h"
#include "store_revocations.h"
#include "throttle.h"

extern const db_migration identity_migrations[];

#define M(rpc, Msg, fn, flags)                                                      \
  {"/hoso.identity.v1.Identity/" rpc, &hoso__identity__v1__##Msg##_request__descriptor, \
   &hoso__identity__v1__##Msg##_response__descriptor, fn, flags}

static const srv_method methods[] = {
    M("Login", login, rpc_login, SRV_PUBLIC),
    M("Refresh", refresh, rpc_refresh, SRV_PUBLIC),
    M("Logout", logout, rpc_logout, SRV_PUBLIC),
    M("ChangePassword", change_password, rpc_change_password, SRV_PWCHANGE_OK),
    M("ServiceLogin", service_login, rpc_service_login, SRV_PUBLIC),
    M("GetPublicKeys", get_public_keys, rpc_get_public_keys, SRV_PUBLIC),
    M("RotateSigningKey", rotate_signing_key, rpc_rotate_signing_key, 0),
    M("ListTokenRevocations", list_token_revocations, rpc_list_token_revocations, SRV_PUBLIC | SRV_QUIET),
    {"/hoso.identity.v1.Identity/WhoAmI", &hoso__identity__v1__who_am_irequest__descriptor,
     &hoso__identity__v1__who_am_iresponse__descriptor, rpc_whoami, SRV_PWCHANGE_OK},
    M("CreateUnit", create_unit, rpc_create_unit, 0),
    M("UpdateUnit", update_unit, rpc_update_unit, 0),
    M("MoveUnit", move_unit, rpc_move_unit, 0),
    M("GetUnit", get_unit, rpc_get_unit, 0),
    M("ListChildUnits", list_child_units, rpc_list_child_units, 0),
    M("GetUnitSubtree", get_unit_subtree, rpc_get_unit_subtree, 0),
    M("MergeUnits", merge_units, rpc_merge_units, 0),
    M("ListUnitHistory", list_unit_history, rpc_list_unit_history, 0),
    M("ListUnitChanges", list_unit_changes, rpc_list_unit_changes, SRV_QUIET),
    M("CreateAccount", create_account, rpc_create_account, 0),
    M("GetAccount", get_account, rpc_get_account, 0),
    M("ListAccounts", list_accounts, rpc_list_accounts, 0),
    M("DisableAccount", disable_account, rpc_disable_account, 0),
    M("EnableAccount", enable_account, rpc_enable_account, 0),
    M("UpdateAccountRoles", update_account_roles, rpc_update_account_roles, 0),
    M("RevokeAccount", revoke_account, rpc_revoke_account, 0),
    M("ResetPassword", reset_password, rpc_reset_password, 0),
    M("CreateServiceClient", create_service_client, rpc_create_service_client, 0),
    M("ListServiceClients", list_service_clients, rpc_list_service_clients, 0),
    M("RevokeServiceClient", revoke_service_client, rpc_revoke_service_client, 0),
};

/* Beside the calls: key rotation by age, and the clean-up of login throttling. */
static int on_serving(void) { return keys_rotation_start() != 0 || throttle_prune_start() != 0 ? -1 : 0; }
static void on_stopping(void) {
  keys_rotation_stop();
  throttle_prune_stop();
}

int main(int argc, char **argv) {
  const srv_config cfg = {
      .service = "identity",
      .addr_env = "HOSO_IDENTITY_ADDR",
      .addr_default = CFG_IDENTITY_ADDR_DEFAULT,
      .schema = "identity",
      .migrations = identity_migrations,
      .methods = methods,
      .n_methods = sizeof methods / sizeof methods[0],
      .load_keys = keys_load_ring,
      .load_revocations = sr_fetch,
      .on_start = identity_bootstrap,
      .on_serving = on_serving,
      .on_stopping = on_stopping,
  };
  return srv_main(&cfg, argc, argv);
}
