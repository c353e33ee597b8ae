/* The REST face: the google.api.http routes of the protos (path and query parameters bound as
 * grpc-gateway binds them), JSON bodies, errors as {"code","message","details"} with
 * grpc-gateway's status mapping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwsrv.h"

static int changes_state(const char *verb) {
  return strcmp(verb, "GET") != 0 && strcmp(verb, "HEAD") != 0 && strcmp(verb, "OPTIONS") != 0;
}

/* A body may come without Content-Type (curl -d sends form encoding by default, so only a
 * declared non-JSON type is refused). */
static int json_or_absent(const http_req *h) {
  const http_header *ct = http_find(h, "content-type");
  if (!ct) return 1;
  size_t n = 0;
  while (n < ct->value_len && ct->value[n] != ';' && ct->value[n] != ' ') n++;
  return n == 16 && strncasecmp(ct->value, "application/json", 16) == 0;
}

int gw_rest(gw_req *r) {
  const gw_route *rt = r->rt;
  char msg[600];
  if (rt->kind == GW_R_REST_VERB) {
    gw_hdr(r, "Allow: %s", rt->allow ? rt->allow : "");
    snprintf(msg, sizeof msg, "method %s not allowed here; allowed: %s", r->verb,
             rt->allow ? rt->allow : "none");
    return gw_reply_rest_error(r, 405, GRPC_STATUS_UNIMPLEMENTED, msg);
  }
  const gw_method *m = rt->method;
  if (m->client_streaming || m->server_streaming)
    return gw_reply_rest_error(r, 0, GRPC_STATUS_UNIMPLEMENTED,
                               "streaming methods are served over gRPC only");
  if (r->body_len && !json_or_absent(r->h))
    return gw_reply_rest_error(r, 415, GRPC_STATUS_INVALID_ARGUMENT,
                               "content-type: expected application/json");

  char err[512] = "";
  ProtobufCMessage *req = gw_build_rest_request(&rt->match, r->body, r->body_len, r->query, err, sizeof err);
  if (!req) return gw_reply_rest_error(r, 0, GRPC_STATUS_INVALID_ARGUMENT, err);

  ProtobufCMessage *resp = NULL;
  char *out = NULL;
  int rc, http_status = 0;
  cli_status st;
  grpc_status_code code = gw_call_as_client(r, m, req, changes_state(r->verb), &resp, &st, &http_status);
  if (code != GRPC_STATUS_OK) {
    rc = gw_reply_rest_error(r, http_status, code, st.message);
    goto out;
  }
  out = gw_rest_response_json(&rt->match, resp);
  if (!out) {
    rc = gw_reply_rest_error(r, 0, GRPC_STATUS_INTERNAL, "reply could not be encoded");
    goto out;
  }
  rc = gw_reply(r, 200, "application/json", out, strlen(out), GW_NO_STORE);
out:
  free(out);
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  protobuf_c_message_free_unpacked(req, NULL);
  return rc;
}
