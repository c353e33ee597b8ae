/* The records service: personnel dossiers, their versions and approval, catalogues, search,
 * import and export. This file is only the method table and start-up. */
#include "records.h"

extern const db_migration records_migrations[];

static const srv_rpc rpcs[] = {
    SRV_RPC(CreateRecord, rpc_create_record),
    SRV_RPC(GetRecord, rpc_get_record),
    SRV_RPC(UpdateRecord, rpc_update_record),
    SRV_RPC(ListRecordVersions, rpc_list_record_versions),
    SRV_RPC(SubmitRecord, rpc_submit_record),
    SRV_RPC(ApproveRecord, rpc_approve_record),
    SRV_RPC(RejectRecord, rpc_reject_record),
    SRV_RPC(ChangeRecordStatus, rpc_change_record_status),
    SRV_RPC(SetManagingUnit, rpc_set_managing_unit),
    SRV_RPC(SetReadGrant, rpc_set_read_grant),
    SRV_RPC_FLAGS(ListRecordSteps, rpc_list_record_steps, SRV_QUIET),
    SRV_RPC(ImportRecordHistory, rpc_import_record_history),
    SRV_RPC(CreateChangeRequest, rpc_create_change_request),
    SRV_RPC(ListChangeRequests, rpc_list_change_requests),
    SRV_RPC(ApproveChangeRequest, rpc_approve_change_request),
    SRV_RPC(RejectChangeRequest, rpc_reject_change_request),
    SRV_RPC(SearchRecords, rpc_search_records),
    SRV_RPC(ExportRecord, rpc_export_record),
    SRV_RPC(ImportRecords, rpc_import_records),
    SRV_RPC(ListCatalog, rpc_list_catalog),
    SRV_RPC(UpsertCatalogEntry, rpc_upsert_catalog_entry),
    SRV_RPC(ListAttachments, rpc_list_attachments),
    SRV_RPC(UploadAttachment, rpc_upload_attachment),
    SRV_RPC(DownloadAttachment, rpc_download_attachment),
};

int main(int argc, char **argv) {
  const srv_config cfg = {
      .service = "records",
      .schema = "records",
      .migrations = records_migrations,
      .api = &hoso__records__v1__records__descriptor,
      SRV_RPCS(rpcs),
      /* Records follow the unit tree (identity's MoveUnit, MergeUnits). */
      .follow_units = &rec_follow_units,
      /* records of an older release get their reporting facts (030) */
      .on_serving = rec_facts_backfill_start,
      .on_stopping = rec_facts_backfill_stop,
  };
  return srv_main(&cfg, argc, argv);
}
