/* The OpenAPI 3.0.3 document of the gateway, generated from the registry: the Connect face and
 * every resource route of each method, the file routes of files.c and streams.c (a table here,
 * since no http rule declares them), and a schema for every message and enum reachable. */
#include "gw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "apidesc.h"
#include "pbjson.h"

#define OPENAPI_VERSION "3.0.3"
#define API_TITLE "HỒ SƠ API"
#define API_VERSION "v1"
/* Query parameters are offered down to this depth of nested messages ("record.salary.step"). */
#define QUERY_DEPTH 3

/* Methods callable without a token: the .proto's access option says so. */
static int is_public(const gw_method *m) { return APIDESC_NO_TOKEN(m->access); }

static json_t *ref(const char *name) {
  char buf[512];
  snprintf(buf, sizeof buf, "#/components/schemas/%s", name);
  return json_pack("{s:s}", "$ref", buf);
}

static void add_message_schema(json_t *schemas, const ProtobufCMessageDescriptor *d);

static void add_enum_schema(json_t *schemas, const ProtobufCEnumDescriptor *e) {
  if (json_object_get(schemas, e->name)) return;
  json_t *names = json_array();
  for (unsigned i = 0; i < e->n_values; i++) json_array_append_new(names, json_string(e->values[i].name));
  json_object_set_new(schemas, e->name,
                      json_pack("{s:s, s:o, s:s}", "type", "string", "enum", names, "description",
                                "By name; the number is accepted in requests too."));
}

/* The schema of one value of field f (an element, for a list), per the proto3 JSON mapping;
 * registers the message and enum schemas it refers to. */
static json_t *value_schema(json_t *schemas, const ProtobufCFieldDescriptor *f) {
  switch (f->type) {
  case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
    return json_pack("{s:s, s:s}", "type", "integer", "format", "int32");
  case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
    return json_pack("{s:s, s:s, s:i, s:I}", "type", "integer", "format", "int64", "minimum", 0, "maximum",
                     (json_int_t)4294967295u);
  case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    return json_pack("{s:s, s:s}", "type", "string", "format", "int64");
  case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
    return json_pack("{s:s, s:s}", "type", "string", "format", "uint64");
  case PROTOBUF_C_TYPE_FLOAT: return json_pack("{s:s, s:s}", "type", "number", "format", "float");
  case PROTOBUF_C_TYPE_DOUBLE: return json_pack("{s:s, s:s}", "type", "number", "format", "double");
  case PROTOBUF_C_TYPE_BOOL: return json_pack("{s:s}", "type", "boolean");
  case PROTOBUF_C_TYPE_STRING: return json_pack("{s:s}", "type", "string");
  case PROTOBUF_C_TYPE_BYTES: return json_pack("{s:s, s:s}", "type", "string", "format", "byte");
  case PROTOBUF_C_TYPE_ENUM: {
    const ProtobufCEnumDescriptor *e = f->descriptor;
    add_enum_schema(schemas, e);
    return ref(e->name);
  }
  case PROTOBUF_C_TYPE_MESSAGE: {
    const ProtobufCMessageDescriptor *d = f->descriptor;
    add_message_schema(schemas, d);
    return ref(d->name);
  }
  }
  return json_object();
}

static json_t *field_schema(json_t *schemas, const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f) {
  if (parent && pbjson_is_map(parent, f)) {
    const ProtobufCMessageDescriptor *e = f->descriptor;
    return json_pack("{s:s, s:o}", "type", "object", "additionalProperties", value_schema(schemas, &e->fields[1]));
  }
  json_t *v = value_schema(schemas, f);
  if (f->label == PROTOBUF_C_LABEL_REPEATED) return json_pack("{s:s, s:o}", "type", "array", "items", v);
  return v;
}

/* The field's schema with its comment from the .proto; next to a $ref (where OpenAPI 3.0
 * ignores siblings) through allOf. */
static json_t *documented(json_t *schema, const char *comment) {
  if (!comment || !schema) return schema;
  if (json_object_get(schema, "$ref")) schema = json_pack("{s:[o]}", "allOf", schema);
  json_object_set_new(schema, "description", json_string(comment));
  return schema;
}

static void add_message_schema(json_t *schemas, const ProtobufCMessageDescriptor *d) {
  if (json_object_get(schemas, d->name)) return;
  json_t *props = json_object();
  json_t *s = json_pack("{s:s, s:o}", "type", "object", "properties", props);
  const char *doc = gw_doc_comment(d->name);
  if (doc) json_object_set_new(s, "description", json_string(doc));
  /* registered before its fields, so that a message that contains itself ends the walk */
  json_object_set_new(schemas, d->name, s);
  for (unsigned i = 0; i < d->n_fields; i++) {
    char jn[256], full[512];
    pbjson_json_name(d->fields[i].name, jn, sizeof jn);
    snprintf(full, sizeof full, "%s.%s", d->name, d->fields[i].name);
    json_object_set_new(props, jn, documented(field_schema(schemas, d, &d->fields[i]), gw_doc_comment(full)));
  }
}

/* summary: the comment's first sentence (or the method's name); description: all of it */
static void describe(json_t *op, const gw_method *m) {
  const char *c = m->comment ? m->comment : "";
  if (!c[0]) {
    json_object_set_new(op, "summary", json_string(m->name));
    return;
  }
  size_t n = strcspn(c, ".");
  if (n > 120) n = 120;
  while (n > 0 && (c[n] & 0xC0) == 0x80) n--; /* not inside a UTF-8 character */
  json_object_set_new(op, "summary", json_stringn(c, n));
  json_object_set_new(op, "description", json_string(c));
}

static json_t *error_response(const char *schema) {
  return json_pack("{s:s, s:{s:{s:o}}}", "description", "An error: the gRPC status as HTTP status and the message naming the field or rule",
                   "content", "application/json", "schema", ref(schema));
}

static void security(json_t *op, const gw_method *m) {
  if (!is_public(m)) json_object_set_new(op, "security", json_pack("[{s:[]}]", "bearerAuth"));
}

static json_t *operation(const gw_method *m, const char *op_id) {
  json_t *op = json_object();
  describe(op, m);
  json_object_set_new(op, "operationId", json_string(op_id));
  json_object_set_new(op, "tags", json_pack("[s]", m->service));
  security(op, m);
  return op;
}

/* Query parameters for a rule without a body: every scalar (or list of scalars) of the request
 * not bound by the path, nested messages' fields with dotted names. */
static void query_params(json_t *params, json_t *schemas, const ProtobufCMessageDescriptor *d, const char *prefix,
                         const gw_rest_route *r, int depth) {
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    char canon[512], jn[256], name[512];
    snprintf(canon, sizeof canon, "%s%s%s", prefix, prefix[0] ? "." : "", f->name);
    int bound = 0;
    for (size_t v = 0; v < r->n_vars; v++) {
      size_t lv = strlen(r->vars[v]), lc = strlen(canon);
      if (strcmp(canon, r->vars[v]) == 0 || (lv > lc && strncmp(r->vars[v], canon, lc) == 0 && r->vars[v][lc] == '.'))
        bound = f->type != PROTOBUF_C_TYPE_MESSAGE || strcmp(canon, r->vars[v]) == 0;
    }
    if (bound) continue;
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
      if (f->label != PROTOBUF_C_LABEL_REPEATED && depth < QUERY_DEPTH)
        query_params(params, schemas, f->descriptor, canon, r, depth + 1);
      continue;
    }
    /* the JSON spelling of each segment, as clients see it in bodies */
    name[0] = 0;
    for (const char *p = canon; *p;) {
      size_t n = strcspn(p, ".");
      char seg[256];
      snprintf(seg, sizeof seg, "%.*s", (int)n, p);
      pbjson_json_name(seg, jn, sizeof jn);
      strncat(name, name[0] ? "." : "", sizeof name - strlen(name) - 1);
      strncat(name, jn, sizeof name - strlen(name) - 1);
      p += n + (p[n] == '.');
    }
    json_t *p = json_pack("{s:s, s:s, s:b, s:o}", "name", name, "in", "query", "required", 0, "schema",
                          field_schema(schemas, d, f));
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
      json_object_set_new(p, "style", json_string("form"));
      json_object_set_new(p, "explode", json_true());
    }
    json_array_append_new(params, p);
  }
}

static const ProtobufCFieldDescriptor *field_at(const ProtobufCMessageDescriptor *d, const char *path) {
  const ProtobufCFieldDescriptor *f = NULL;
  char err[64];
  if (pbjson_resolve_path(d, path, NULL, 0, &f, err, sizeof err)) return NULL;
  return f;
}

static void add_rest_route(json_t *paths, json_t *schemas, const gw_rest_route *r, int index) {
  const gw_method *m = r->method;
  const gw_http_rule *rule = r->rule;
  char op_id[512], verb[16];
  /* additional bindings get their index, so that operation ids stay unique */
  if (index) snprintf(op_id, sizeof op_id, "%s.%s_%d", m->service, m->name, index);
  else snprintf(op_id, sizeof op_id, "%s.%s", m->service, m->name);
  json_t *op = operation(m, op_id);
  json_t *params = json_array();
  for (size_t v = 0; v < r->n_vars; v++) {
    const ProtobufCFieldDescriptor *f = field_at(m->input, r->vars[v]);
    json_array_append_new(params, json_pack("{s:s, s:s, s:b, s:o}", "name", r->vars[v], "in", "path", "required", 1,
                                            "schema", f ? field_schema(schemas, NULL, f) : json_pack("{s:s}", "type", "string")));
  }
  if (!rule->body[0]) query_params(params, schemas, m->input, "", r, 0);
  if (json_array_size(params)) json_object_set_new(op, "parameters", params);
  else json_decref(params);
  if (rule->body[0]) {
    json_t *schema;
    if (strcmp(rule->body, "*") == 0) {
      add_message_schema(schemas, m->input);
      schema = ref(m->input->name);
    } else {
      const ProtobufCFieldDescriptor *f = field_at(m->input, rule->body);
      schema = f ? field_schema(schemas, m->input, f) : json_object();
    }
    json_object_set_new(op, "requestBody", json_pack("{s:b, s:{s:{s:o}}}", "required", 0, "content", "application/json",
                                                     "schema", schema));
  }
  json_t *out;
  const ProtobufCFieldDescriptor *rf = rule->response_body[0] ? field_at(m->output, rule->response_body) : NULL;
  if (rf) {
    out = field_schema(schemas, m->output, rf);
  } else {
    add_message_schema(schemas, m->output);
    out = ref(m->output->name);
  }
  json_object_set_new(op, "responses", json_pack("{s:{s:s, s:{s:{s:o}}}, s:o}", "200", "description", "OK", "content",
                                                 "application/json", "schema", out, "default", error_response("RestError")));
  json_t *item = json_object_get(paths, r->openapi_path);
  if (!item) {
    item = json_object();
    json_object_set_new(paths, r->openapi_path, item);
  }
  size_t i = 0;
  for (; rule->verb[i] && i + 1 < sizeof verb; i++)
    verb[i] = (char)(rule->verb[i] >= 'A' && rule->verb[i] <= 'Z' ? rule->verb[i] - 'A' + 'a' : rule->verb[i]);
  verb[i] = 0;
  json_object_set_new(item, verb, op);
}

static void add_connect_path(json_t *paths, json_t *schemas, const gw_method *m) {
  char op_id[512];
  snprintf(op_id, sizeof op_id, "%s.%s_Connect", m->service, m->name);
  json_t *op = operation(m, op_id);
  add_message_schema(schemas, m->input);
  add_message_schema(schemas, m->output);
  json_t *binary = json_pack("{s:s, s:s}", "type", "string", "format", "binary");
  json_object_set_new(op, "requestBody",
                      json_pack("{s:b, s:{s:{s:o}, s:{s:O}}}", "required", 1, "content", "application/json", "schema",
                                ref(m->input->name), "application/proto", "schema", binary));
  json_object_set_new(op, "responses",
                      json_pack("{s:{s:s, s:{s:{s:o}, s:{s:o}}}, s:o}", "200", "description", "OK", "content",
                                "application/json", "schema", ref(m->output->name), "application/proto", "schema",
                                binary, "default", error_response("ConnectError")));
  json_object_set_new(op, "parameters",
                      json_pack("[{s:s, s:s, s:b, s:{s:s, s:[s]}}]", "name", "Connect-Protocol-Version", "in", "header",
                                "required", 0, "schema", "type", "string", "enum", "1"));
  if (m->client_streaming || m->server_streaming) {
    /* the gateway answers these with an error: say so rather than leave the path out */
    char d[1024];
    snprintf(d, sizeof d, "%s%sA %s-streaming method: served over gRPC only; this path answers with an error.",
             m->comment ? m->comment : "", m->comment && m->comment[0] ? " " : "",
             m->client_streaming ? "client" : "server");
    json_object_set_new(op, "description", json_string(d));
    json_object_set_new(op, "x-streaming", json_true());
  }
  json_object_set_new(paths, m->path, json_pack("{s:o}", "post", op));
}

/* ---- the file routes (gateway/files.c, gateway/streams.c) ----------------------------------- */

/* How a file route takes its request and gives its answer. */
enum { FB_NONE, FB_BINARY, FB_JSON };       /* body: none, the file's bytes, the method's request */
enum { FR_FILE, FR_JSON };                  /* reply: the file, or the method's reply as JSON */

typedef struct {
  const char *path, *verb, *method, *op, *summary, *description;
  const char *path_params[2]; /* each a string id */
  const char *query;          /* "name,name!": query parameters, '!' when required */
  int body, reply;
  const char *types;          /* the file's content types ("a|b"), for FR_FILE */
  int length_known;           /* Content-Length sent (else HTTP chunks) */
} file_route;

#define XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
static const file_route FILE_ROUTES[] = {
    {"/v1/records/{record_id}/attachments", "post", "/hoso.records.v1.Records/UploadAttachment", "Records.UploadAttachment_File",
     "Upload a scanned document (the body is the file)",
     "The request body is the file itself (PDF, JPEG or PNG, at most 20 MiB, enforced while reading), streamed into "
     "UploadAttachment. change_request_id attaches a person's paper to their own change request.",
     {"record_id"}, "file_name!,description,request_id,change_request_id", FB_BINARY, FR_JSON, NULL, 1},
    {"/v1/attachments/{attachment_id}/content", "get", "/hoso.records.v1.Records/DownloadAttachment",
     "Records.DownloadAttachment_File", "Download an attachment as the file itself",
     "DownloadAttachment streamed out with its content type, length and a safe file name; inline=1 for a preview "
     "in the page (Content-Disposition inline), else as a download.",
     {"attachment_id"}, "inline", FB_NONE, FR_FILE, "application/pdf|image/jpeg|image/png", 1},
    {"/v1/transfers/{transfer_id}/documents/{document_id}/content", "get", "/hoso.transfers.v1.Transfers/GetTransferDocument",
     "Transfers.GetTransferDocument_File", "A transfer's scanned document as the file itself",
     "GetTransferDocument's content as the file (the JSON face gives it as base64).",
     {"transfer_id", "document_id"}, "inline", FB_NONE, FR_FILE, "application/pdf|image/jpeg|image/png", 1},
    {"/v1/transfers/{transfer_id}/package", "post", "/hoso.transfers.v1.Transfers/ExportTransferPackage",
     "Transfers.ExportTransferPackage_File", "Export an out-of-system transfer's package (.hspkg)",
     "ExportTransferPackage streamed out as the package file; its length is known ahead (Content-Length) and its "
     "SHA-256 is in the X-Package-Sha256 header. The same request_id gives the same bytes again.",
     {"transfer_id"}, "request_id", FB_NONE, FR_FILE, "application/octet-stream", 1},
    {"/v1/transfer-packages", "post", "/hoso.transfers.v1.Transfers/ImportTransferPackage",
     "Transfers.ImportTransferPackage_File", "Take in a package (.hspkg) as a draft record (the body is the file)",
     "The request body is the package, streamed into ImportTransferPackage as it arrives; the transfers service's "
     "size limit (HOSO_PACKAGE_MAX_MB) is enforced before and while reading (413 beyond it).",
     {NULL}, "unit_id!,note,request_id", FB_BINARY, FR_JSON, NULL, 1},
    {"/v1/reports:run", "post", "/hoso.reporting.v1.Reporting/RunReport", "Reporting.RunReport_File",
     "Run an official report form and download its file (XLSX, PDF or CSV)",
     "RunReport's file, made whole by the service and streamed out with its length (Content-Length, from the "
     "first chunk's size). An error before the file starts is the usual JSON error; one after leaves the reply "
     "short of its length on a closed connection.",
     {NULL}, "", FB_JSON, FR_FILE, XLSX_TYPE "|application/pdf|text/csv", 1},
    {"/v1/records:exportSearch", "post", "/hoso.reporting.v1.Reporting/ExportSearch", "Reporting.ExportSearch_File",
     "Export a search result whole as a file (XLSX or CSV)",
     "ExportSearch's file streamed out once it is made, with its length (Content-Length); errors as "
     "for /v1/reports:run. With progress=1, every ExportSearchResponse instead, as a line of JSON "
     "(application/x-ndjson, in HTTP chunks): the rows counted, then the file's chunks in base64 (the first with the "
     "file's size); a late error as a last line "
     "{\"error\":{\"code\",\"message\"}}.",
     {NULL}, "progress", FB_JSON, FR_FILE, XLSX_TYPE "|text/csv|application/x-ndjson", 0},
};

static json_t *string_param(const char *name, const char *in, int required) {
  return json_pack("{s:s, s:s, s:b, s:{s:s}}", "name", name, "in", in, "required", required, "schema", "type", "string");
}

static json_t *file_params(const file_route *f) {
  json_t *params = json_array();
  for (size_t i = 0; i < 2 && f->path_params[i]; i++) json_array_append_new(params, string_param(f->path_params[i], "path", 1));
  for (const char *p = f->query; *p;) {
    size_t n = strcspn(p, ",");
    char name[64];
    int required = n > 0 && p[n - 1] == '!';
    snprintf(name, sizeof name, "%.*s", (int)(n - (size_t)required), p);
    json_array_append_new(params, string_param(name, "query", required));
    p += n + (p[n] == ',');
  }
  return params;
}

static json_t *file_reply(const file_route *f, json_t *schemas, const gw_method *m) {
  if (f->reply == FR_JSON) {
    add_message_schema(schemas, m->output);
    return json_pack("{s:s, s:{s:{s:o}}}", "description", "OK", "content", "application/json", "schema", ref(m->output->name));
  }
  json_t *content = json_object();
  for (const char *t = f->types; *t;) {
    size_t n = strcspn(t, "|");
    char type[128];
    snprintf(type, sizeof type, "%.*s", (int)n, t);
    json_object_set_new(content, type, json_pack("{s:{s:s, s:s}}", "schema", "type", "string", "format", "binary"));
    t += n + (t[n] == '|');
  }
  json_t *headers = json_pack("{s:{s:s, s:{s:s}}}", "Content-Disposition", "description",
                              "attachment (or inline) with the file's name, plain and as RFC 5987 UTF-8", "schema", "type", "string");
  if (f->length_known)
    json_object_set_new(headers, "Content-Length", json_pack("{s:s, s:{s:s}}", "description", "the file's size in bytes, known ahead",
                                                             "schema", "type", "integer"));
  if (strstr(f->path, "/package"))
    json_object_set_new(headers, "X-Package-Sha256", json_pack("{s:s, s:{s:s}}", "description", "the package's SHA-256, hex",
                                                               "schema", "type", "string"));
  return json_pack("{s:s, s:o, s:o}", "description", "The file", "headers", headers, "content", content);
}

static void add_file_routes(json_t *paths, json_t *schemas) {
  for (size_t i = 0; i < sizeof FILE_ROUTES / sizeof FILE_ROUTES[0]; i++) {
    const file_route *f = &FILE_ROUTES[i];
    const gw_method *m = gw_find_method(f->method);
    if (!m) continue; /* a service not built into this gateway */
    json_t *op = json_pack("{s:s, s:s, s:s, s:[s]}", "summary", f->summary, "description", f->description, "operationId", f->op,
                           "tags", m->service);
    security(op, m);
    json_object_set_new(op, "parameters", file_params(f));
    if (f->body == FB_BINARY)
      json_object_set_new(op, "requestBody", json_pack("{s:b, s:{s:{s:{s:s, s:s}}}}", "required", 1, "content",
                                                       "application/octet-stream", "schema", "type", "string", "format", "binary"));
    if (f->body == FB_JSON) {
      add_message_schema(schemas, m->input);
      json_object_set_new(op, "requestBody", json_pack("{s:b, s:{s:{s:o}}}", "required", 1, "content", "application/json",
                                                       "schema", ref(m->input->name)));
    }
    json_object_set_new(op, "responses", json_pack("{s:o, s:o}", "200", file_reply(f, schemas, m), "default",
                                                   error_response("RestError")));
    json_t *item = json_object_get(paths, f->path);
    if (!item) {
      item = json_object();
      json_object_set_new(paths, f->path, item);
    }
    json_object_set_new(item, f->verb, op);
  }
}

char *gw_openapi_json(void) {
  const gw_method *const *ms;
  const gw_rest_route *const *rs;
  size_t nm = gw_methods(&ms), nr = gw_rest_routes(&rs);
  json_t *schemas = json_object(), *paths = json_object(), *tags = json_array();
  char *out = NULL;
  json_object_set_new(schemas, "ConnectError",
                      json_pack("{s:s, s:[s,s], s:{s:{s:s, s:s}, s:{s:s}, s:{s:s}}}", "type", "object", "required", "code",
                                "message", "properties", "code", "type", "string", "description",
                                "Connect code: invalid_argument, unauthenticated, permission_denied, not_found, ...",
                                "message", "type", "string", "details", "type", "array"));
  json_object_set_new(schemas, "RestError",
                      json_pack("{s:s, s:[s,s], s:{s:{s:s, s:s, s:s}, s:{s:s}, s:{s:s}}}", "type", "object", "required", "code",
                                "message", "properties", "code", "type", "integer", "format", "int32", "description",
                                "the gRPC status code", "message", "type", "string", "details", "type", "array"));
  for (size_t i = 0; i < nm; i++) {
    if (i == 0 || strcmp(ms[i]->service, ms[i - 1]->service) != 0)
      json_array_append_new(tags, json_pack("{s:s}", "name", ms[i]->service));
    add_connect_path(paths, schemas, ms[i]);
  }
  for (size_t i = 0; i < nr; i++) {
    int index = (int)(rs[i]->rule - rs[i]->method->rules);
    add_rest_route(paths, schemas, rs[i], index);
  }
  add_file_routes(paths, schemas);
  json_t *doc = json_pack(
      "{s:s, s:{s:s, s:s, s:s}, s:o, s:o, s:{s:o, s:{s:{s:s, s:s, s:s, s:s}}}}", "openapi", OPENAPI_VERSION, "info",
      "title", API_TITLE, "version", API_VERSION, "description",
      "Every RPC of the HỒ SƠ services over HTTP: POST /<package>.<Service>/<Method> (the Connect protocol's "
      "unary form, JSON or binary protobuf) and the resource routes declared with google.api.http. JSON follows "
      "the proto3 mapping: lowerCamelCase names (snake_case accepted), enums by name, 64-bit integers as strings.",
      "tags", tags, "paths", paths, "components", "schemas", schemas, "securitySchemes", "bearerAuth", "type", "http",
      "scheme", "bearer", "bearerFormat", "JWT", "description",
      "The access token from Login (or the session cookie it sets, for browsers)");
  if (doc) out = json_dumps(doc, JSON_INDENT(1));
  json_decref(doc);
  return out;
}
