/* The Connect protocol's unary face: POST /<package>.<Service>/<Method> with a JSON (proto3
 * mapping) or binary protobuf body, answered in the same encoding, errors as Connect error
 * JSON with Connect's HTTP statuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gwsrv.h"
#include "pbjson.h"

enum { ENC_JSON, ENC_PROTO };

/* The media type without parameters ("application/json; charset=utf-8" → json). */
static int encoding_of(const http_req *h) {
  const http_header *ct = http_find(h, "content-type");
  if (!ct) return -1;
  size_t n = 0;
  while (n < ct->value_len && ct->value[n] != ';' && ct->value[n] != ' ' && ct->value[n] != '\t') n++;
  if (n == 16 && strncasecmp(ct->value, "application/json", 16) == 0) return ENC_JSON;
  if (n == 17 && strncasecmp(ct->value, "application/proto", 17) == 0) return ENC_PROTO;
  return -1;
}

static int header_is(const http_req *h, const char *name, const char *want) {
  const http_header *v = http_find(h, name);
  return !v || (v->value_len == strlen(want) && strncasecmp(v->value, want, v->value_len) == 0);
}

int gw_connect(gw_req *r) {
  const gw_route *rt = r->rt;
  char msg[1200];
  if (rt->kind == GW_R_CONNECT_UNKNOWN) {
    snprintf(msg, sizeof msg, "unknown method %.1000s", r->path);
    return gw_reply_connect_error(r, 404, GRPC_STATUS_UNIMPLEMENTED, msg);
  }
  if (rt->kind == GW_R_CONNECT_VERB) {
    gw_hdr(r, "Allow: POST");
    return gw_reply_connect_error(r, 405, GRPC_STATUS_UNIMPLEMENTED,
                                  "Connect unary calls use POST");
  }
  const gw_method *m = rt->method;
  if (m->client_streaming || m->server_streaming)
    return gw_reply_connect_error(r, 0, GRPC_STATUS_UNIMPLEMENTED,
                                  "streaming methods are served over gRPC only");
  int enc = encoding_of(r->h);
  if (enc < 0) {
    gw_hdr(r, "Accept-Post: application/json, application/proto");
    return gw_reply_connect_error(r, 415, GRPC_STATUS_INVALID_ARGUMENT,
                                  "content-type: expected application/json or application/proto");
  }
  if (!header_is(r->h, "content-encoding", "identity"))
    return gw_reply_connect_error(r, 0, GRPC_STATUS_UNIMPLEMENTED,
                                  "content-encoding: not supported; send identity (uncompressed)");
  if (!header_is(r->h, "connect-protocol-version", "1"))
    return gw_reply_connect_error(r, 400, GRPC_STATUS_INVALID_ARGUMENT,
                                  "connect-protocol-version: only 1 is supported");

  ProtobufCMessage *req = NULL, *resp = NULL;
  void *out = NULL;
  size_t out_len = 0;
  char err[512] = "";
  if (enc == ENC_JSON) {
    /* an empty body is the empty message, as for an empty protobuf */
    const char *b = r->body_len ? r->body : "{}";
    req = pbjson_decode(m->input, b, r->body_len ? r->body_len : 2, 0, NULL, err, sizeof err);
  } else {
    req = protobuf_c_message_unpack(m->input, NULL, r->body_len, (const uint8_t *)r->body);
    if (!req) snprintf(err, sizeof err, "body: not a valid %s protobuf message", m->input->name);
  }
  if (!req) return gw_reply_connect_error(r, 0, GRPC_STATUS_INVALID_ARGUMENT, err);

  int rc = 0, http_status = 0;
  cli_status st;
  /* every Connect call is a POST, so every one counts as changing state for CSRF */
  grpc_status_code code = gw_call_as_client(r, m, req, 1, &resp, &st, &http_status);
  if (code != GRPC_STATUS_OK) {
    rc = gw_reply_connect_error(r, http_status, code, st.message);
    goto out;
  }
  if (enc == ENC_JSON) {
    out = pbjson_encode(resp, 0);
    out_len = out ? strlen(out) : 0;
  } else {
    out_len = protobuf_c_message_get_packed_size(resp);
    out = malloc(out_len ? out_len : 1);
    if (out) protobuf_c_message_pack(resp, out);
  }
  if (!out) {
    rc = gw_reply_connect_error(r, 0, GRPC_STATUS_INTERNAL, "reply could not be encoded");
    goto out;
  }
  rc = gw_reply(r, 200, enc == ENC_JSON ? "application/json" : "application/proto", out, out_len,
                GW_NO_STORE);
out:
  free(out);
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  protobuf_c_message_free_unpacked(req, NULL);
  return rc;
}
