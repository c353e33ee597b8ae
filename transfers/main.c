/* The transfers service: the workflow that moves a dossier with its person, the deadlines of
 * every step, the working-day calendar and the province's policy. This file is only the method
 * table and start-up. */
#include "transfers.h"

extern const db_migration transfers_migrations[];

static const srv_rpc rpcs[] = {
    SRV_RPC(StartTransfer, rpc_start_transfer),
    SRV_RPC(RequestTransfer, rpc_request_transfer),
    SRV_RPC(ApproveRequest, rpc_approve_request),
    SRV_RPC(RefuseRequest, rpc_refuse_request),
    SRV_RPC(SendTransfer, rpc_send_transfer),
    SRV_RPC(ReceiveTransfer, rpc_receive_transfer),
    SRV_RPC(RejectTransfer, rpc_reject_transfer),
    SRV_RPC(ForwardTransfer, rpc_forward_transfer),
    SRV_RPC(CancelTransfer, rpc_cancel_transfer),
    SRV_RPC(GetTransfer, rpc_get_transfer),
    SRV_RPC(ListTransfers, rpc_list_transfers),
    SRV_RPC(GetTransferDocument, rpc_get_transfer_document),
    SRV_RPC(ListNotices, rpc_list_notices),
    SRV_RPC(ExportTransferPackage, rpc_export_transfer_package),
    SRV_RPC(ImportTransferPackage, rpc_import_transfer_package),
    SRV_RPC(ListDeadlines, rpc_list_deadlines),
    SRV_RPC(CountSteps, rpc_count_steps),
    SRV_RPC(GetPolicy, rpc_get_policy),
    SRV_RPC(SetPolicy, rpc_set_policy),
    SRV_RPC(ListPolicyPresets, rpc_list_policy_presets),
    SRV_RPC(ListCalendar, rpc_list_calendar),
    SRV_RPC(SetCalendarYear, rpc_set_calendar_year),
    SRV_RPC(AddWorkingDays, rpc_add_working_days),
    SRV_RPC(CountWorkingDays, rpc_count_working_days),
};

int main(int argc, char **argv) {
  const srv_config cfg = {
      .service = "transfers",
      .schema = "transfers",
      .migrations = transfers_migrations,
      .api = &hoso__transfers__v1__transfers__descriptor,
      SRV_RPCS(rpcs),
      /* Its background work: the outbox's delivery, records' deadlines, secondments' ends. */
      .on_serving = jobs_start,
      .on_stopping = jobs_stop,
      /* Transfers file their units' paths: they follow moves and merges. */
      .follow_units = &transfers_follow_units,
  };
  return srv_main(&cfg, argc, argv);
}
