/* The records service: personnel dossiers, their versions and approval, catalogues, search,
 * import and export. This file is only the method table and start-up. */
#include "cfg.h"
#include "records.h"

extern const db_migration records_migrations[];

/* Handlers are referenced weakly so that a group still being written leaves its methods out of
 * the table (clients get UNIMPLEMENTED) instead of breaking the build of the others. */
#pragma weak rpc_create_record
#pragma weak rpc_get_record
#pragma weak rpc_update_record
#pragma weak rpc_list_record_versions
#pragma weak rpc_submit_record
#pragma weak rpc_approve_record
#pragma weak rpc_reject_record
#pragma weak rpc_change_record_status
#pragma weak rpc_set_managing_unit
#pragma weak rpc_set_read_grant
#pragma weak rpc_list_record_steps
#pragma weak rpc_create_change_request
#pragma weak rpc_list_change_requests
#pragma weak rpc_approve_change_request
#pragma weak rpc_reject_change_request
#pragma weak rpc_search_records
#pragma weak rpc_export_record
#pragma weak rpc_import_records
#pragma weak rpc_list_catalog
#pragma weak rpc_upsert_catalog_entry
#pragma weak rpc_list_attachments
#pragma weak rpc_upload_attachment
#pragma weak rpc_download_attachment

#define MF(rpc, msg, fn, flags)                                                              \
  {"/hoso.records.v1.Records/" rpc, &hoso__records__v1__##msg##_request__descriptor,         \
   &hoso__records__v1__##msg##_response__descriptor, fn, flags}
#define M(rpc, msg, fn) MF(rpc, msg, fn, 0)

static const srv_method all_methods[] = {
    M("CreateRecord", create_record, rpc_create_record),
    M("GetRecord", get_record, rpc_get_record),
    M("UpdateRecord", update_record, rpc_update_record),
    M("ListRecordVersions", list_record_versions, rpc_list_record_versions),
    M("SubmitRecord", submit_record, rpc_submit_record),
    M("ApproveRecord", approve_record, rpc_approve_record),
    M("RejectRecord", reject_record, rpc_reject_record),
    M("ChangeRecordStatus", change_record_status, rpc_change_record_status),
    M("SetManagingUnit", set_managing_unit, rpc_set_managing_unit),
    M("SetReadGrant", set_read_grant, rpc_set_read_grant),
    MF("ListRecordSteps", list_record_steps, rpc_list_record_steps, SRV_QUIET),
    M("CreateChangeRequest", create_change_request, rpc_create_change_request),
    M("ListChangeRequests", list_change_requests, rpc_list_change_requests),
    M("ApproveChangeRequest", approve_change_request, rpc_approve_change_request),
    M("RejectChangeRequest", reject_change_request, rpc_reject_change_request),
    M("SearchRecords", search_records, rpc_search_records),
    M("ExportRecord", export_record, rpc_export_record),
    M("ImportRecords", import_records, rpc_import_records),
    M("ListCatalog", list_catalog, rpc_list_catalog),
    M("UpsertCatalogEntry", upsert_catalog_entry, rpc_upsert_catalog_entry),
    M("ListAttachments", list_attachments, rpc_list_attachments),
    MF("UploadAttachment", upload_attachment, rpc_upload_attachment, SRV_CLIENT_STREAM),
    MF("DownloadAttachment", download_attachment, rpc_download_attachment, SRV_SERVER_STREAM),
};

int main(int argc, char **argv) {
  enum { N = sizeof all_methods / sizeof all_methods[0] };
  static srv_method methods[N];
  size_t n = 0;
  for (size_t i = 0; i < N; i++)
    if (all_methods[i].fn) methods[n++] = all_methods[i];
  const srv_config cfg = {
      .service = "records",
      .schema = "records",
      .migrations = records_migrations,
      .methods = methods,
      .n_methods = n,
      /* Records follow the unit tree (identity's MoveUnit, MergeUnits). */
      .follow_units = &rec_follow_units,
  };
  return srv_main(&cfg, argc, argv);
}
