/* The proof behind an account's link to a person: records' LinkPerson asked with the token of
 * the administrator who links them, so records (which knows where each record is managed) says
 * whether the record lies inside that administrator's units, and remembers the link for the
 * SELF reads it will serve. */
#include <stdio.h>
#include <string.h>
#include "identity.h"
#include "log.h"
#include "records.pb-c.h"
#include "svc_client.h"

int person_link(srv_ctx *ctx, const char *record_id, const char *account_id, const char *request_id) {
  Hoso__Records__V1__LinkPersonRequest req = HOSO__RECORDS__V1__LINK_PERSON_REQUEST__INIT;
  req.record_id = (char *)record_id;
  req.account_id = (char *)account_id;
  /* The caller's retry is a retry of the link too; an id too long to extend is not tracked. */
  char rid[160] = "";
  if (request_id && *request_id && strlen(request_id) + 5 <= 128) snprintf(rid, sizeof rid, "%s#link", request_id);
  req.request_id = rid;
  ProtobufCMessage *out = NULL;
  cli_status st;
  grpc_status_code c = svc_call_as_caller(ctx, "records", "/hoso.records.v1.Records/LinkPerson", &req.base,
                                          &hoso__records__v1__link_person_response__descriptor, &out, &st);
  switch (c) {
  case GRPC_STATUS_OK:
    return 0;
  /* what records says of the record, in the words of this request's field */
  case GRPC_STATUS_NOT_FOUND:
    return srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "person_record_id: record %s does not exist", record_id);
  case GRPC_STATUS_PERMISSION_DENIED:
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "person_record_id: record %s is managed by a unit outside yours; you link accounts only "
                    "to people whose records your units manage",
                    record_id);
  case GRPC_STATUS_INVALID_ARGUMENT:
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "person_record_id: %s", st.message);
  default:
    return svc_fail_downstream(ctx, &st, SVC_AS_CALLER, "records", "/hoso.records.v1.Records/LinkPerson");
  }
}
