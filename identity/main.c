/* The identity service: units tree, accounts, roles, login and tokens. This file is only the
 * method table and start-up; each RPC group lives in its rpc_*.c. */
#include "identity.h"
#include "store_revocations.h"
#include "throttle.h"

extern const db_migration identity_migrations[];

static const srv_rpc rpcs[] = {
    SRV_RPC(Login, rpc_login),
    SRV_RPC(Refresh, rpc_refresh),
    SRV_RPC(Logout, rpc_logout),
    SRV_RPC_FLAGS(ChangePassword, rpc_change_password, SRV_PWCHANGE_OK),
    SRV_RPC(ServiceLogin, rpc_service_login),
    SRV_RPC(GetPublicKeys, rpc_get_public_keys),
    SRV_RPC(RotateSigningKey, rpc_rotate_signing_key),
    SRV_RPC_FLAGS(ListTokenRevocations, rpc_list_token_revocations, SRV_QUIET),
    SRV_RPC_FLAGS(WhoAmI, rpc_whoami, SRV_PWCHANGE_OK),
    SRV_RPC(CreateUnit, rpc_create_unit),
    SRV_RPC(UpdateUnit, rpc_update_unit),
    SRV_RPC(MoveUnit, rpc_move_unit),
    SRV_RPC(GetUnit, rpc_get_unit),
    SRV_RPC(ListChildUnits, rpc_list_child_units),
    SRV_RPC(GetUnitSubtree, rpc_get_unit_subtree),
    SRV_RPC(MergeUnits, rpc_merge_units),
    SRV_RPC(ListUnitHistory, rpc_list_unit_history),
    SRV_RPC(ListUnitDirectory, rpc_list_unit_directory),
    SRV_RPC_FLAGS(ListUnitChanges, rpc_list_unit_changes, SRV_QUIET),
    SRV_RPC(CreateAccount, rpc_create_account),
    SRV_RPC(GetAccount, rpc_get_account),
    SRV_RPC(GetAccountNames, rpc_get_account_names),
    SRV_RPC(ListAccounts, rpc_list_accounts),
    SRV_RPC(CountAccountUse, rpc_count_account_use),
    SRV_RPC(DisableAccount, rpc_disable_account),
    SRV_RPC(EnableAccount, rpc_enable_account),
    SRV_RPC(UpdateAccountRoles, rpc_update_account_roles),
    SRV_RPC(RevokeAccount, rpc_revoke_account),
    SRV_RPC(ResetPassword, rpc_reset_password),
    SRV_RPC(CreateServiceClient, rpc_create_service_client),
    SRV_RPC(ListServiceClients, rpc_list_service_clients),
    SRV_RPC(RevokeServiceClient, rpc_revoke_service_client),
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
      .schema = "identity",
      .migrations = identity_migrations,
      .api = &hoso__identity__v1__identity__descriptor,
      SRV_RPCS(rpcs),
      .load_keys = keys_load_ring,
      .load_revocations = token_revocations_fetch,
      .on_start = identity_bootstrap,
      .on_serving = on_serving,
      .on_stopping = on_stopping,
  };
  return srv_main(&cfg, argc, argv);
}
