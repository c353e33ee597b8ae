/* The gateway's OpenAPI document (gateway/openapi.c): parsed back with jansson and checked
 * against the registry: a Connect path per method, a REST path per http rule with its verb and
 * declared path parameters, every $ref defined, proto3 JSON types, security per method; and the
 * whole document against the OpenAPI Initiative's JSON Schema of 3.0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "gw.h"

static json_t *doc;
static char *text;

static int setup(void **state) {
  (void)state;
  json_error_t je;
  if (gw_registry_init()) return -1;
  text = gw_openapi_json();
  if (!text) return -1;
  doc = json_loads(text, 0, &je);
  if (!doc) fprintf(stderr, "openapi.json: %s at %d:%d\n", je.text, je.line, je.column);
  return doc ? 0 : -1;
}
static int teardown(void **state) {
  (void)state;
  json_decref(doc);
  free(text);
  gw_registry_free();
  return 0;
}

static json_t *at(json_t *v, const char *k) {
  json_t *r = json_object_get(v, k);
  if (!r) fail_msg("no \"%s\"", k);
  return r;
}

static int is_public(const char *path) {
  return strcmp(path, "/hoso.identity.v1.Identity/Login") == 0 || strcmp(path, "/hoso.identity.v1.Identity/Refresh") == 0 ||
         strcmp(path, "/hoso.identity.v1.Identity/Logout") == 0 ||
         strcmp(path, "/hoso.identity.v1.Identity/ServiceLogin") == 0 ||
         strcmp(path, "/hoso.identity.v1.Identity/GetPublicKeys") == 0;
}

/* Public methods carry no security requirement; every other operation requires bearerAuth. */
static void check_security(json_t *op, const gw_method *m) {
  json_t *sec = json_object_get(op, "security");
  if (is_public(m->path)) {
    assert_null(sec);
    return;
  }
  assert_non_null(sec);
  assert_int_equal(json_array_size(sec), 1);
  assert_non_null(json_object_get(json_array_get(sec, 0), "bearerAuth"));
}

static void test_header(void **state) {
  (void)state;
  assert_string_equal(json_string_value(at(doc, "openapi")), "3.0.3");
  json_t *info = at(doc, "info");
  assert_string_equal(json_string_value(at(info, "title")), "HỒ SƠ API");
  assert_true(json_string_length(at(info, "version")) > 0);
  json_t *bearer = at(at(at(doc, "components"), "securitySchemes"), "bearerAuth");
  assert_string_equal(json_string_value(at(bearer, "type")), "http");
  assert_string_equal(json_string_value(at(bearer, "scheme")), "bearer");
  assert_string_equal(json_string_value(at(bearer, "bearerFormat")), "JWT");
}

/* Every method: POST /pkg.Service/Method taking and giving its messages as JSON and protobuf. */
static void test_connect_paths(void **state) {
  (void)state;
  const gw_method *const *ms;
  size_t n = gw_methods(&ms);
  json_t *paths = at(doc, "paths");
  assert_true(n > 40);
  for (size_t i = 0; i < n; i++) {
    json_t *item = json_object_get(paths, ms[i]->path);
    if (!item) fail_msg("no Connect path for %s", ms[i]->path);
    json_t *op = at(item, "post");
    assert_int_equal(json_object_size(item), 1);
    json_t *content = at(at(op, "requestBody"), "content");
    char want[512];
    snprintf(want, sizeof want, "#/components/schemas/%s", ms[i]->input->name);
    assert_string_equal(json_string_value(at(at(at(content, "application/json"), "schema"), "$ref")), want);
    assert_non_null(json_object_get(content, "application/proto"));
    snprintf(want, sizeof want, "#/components/schemas/%s", ms[i]->output->name);
    json_t *ok = at(at(op, "responses"), "200");
    assert_string_equal(json_string_value(at(at(at(at(ok, "content"), "application/json"), "schema"), "$ref")), want);
    check_security(op, ms[i]);
  }
}

/* The variable names of a template, as OpenAPI writes them: "{name=...}" is "{name}". */
static size_t template_vars(const char *t, char names[][128], char *oa, size_t oalen) {
  size_t n = 0, o = 0;
  for (const char *p = t; *p && o + 1 < oalen;) {
    if (*p == '{') {
      size_t k = strcspn(p + 1, "=}");
      snprintf(names[n++], 128, "%.*s", (int)k, p + 1);
      o += (size_t)snprintf(oa + o, oalen - o, "{%.*s}", (int)k, p + 1);
      p = strchr(p, '}') + 1;
    } else {
      oa[o++] = *p++;
    }
  }
  oa[o] = 0;
  return n;
}

/* Every http rule: its path with its verb, each template variable declared as a required path
 * parameter (and no other), a body for body rules and none otherwise. */
static void test_rest_paths(void **state) {
  (void)state;
  const gw_method *const *ms;
  size_t n = gw_methods(&ms), rules = 0;
  json_t *paths = at(doc, "paths");
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < ms[i]->n_rules; j++) {
      const gw_http_rule *r = &ms[i]->rules[j];
      char names[GW_MAX_VARS][128], oa[512], verb[16];
      size_t nv = template_vars(r->path_template, names, oa, sizeof oa);
      size_t k = 0;
      for (; r->verb[k] && k < 15; k++) verb[k] = (char)(r->verb[k] | 0x20);
      verb[k] = 0;
      json_t *item = json_object_get(paths, oa);
      if (!item) fail_msg("no path %s for %s", oa, ms[i]->path);
      json_t *op = json_object_get(item, verb);
      if (!op) fail_msg("no %s under %s", verb, oa);
      size_t declared = 0;
      json_t *params = json_object_get(op, "parameters"), *p;
      size_t pi;
      json_array_foreach(params, pi, p) {
        if (strcmp(json_string_value(at(p, "in")), "path") != 0) continue;
        declared++;
        assert_true(json_is_true(at(p, "required")));
        int found = 0;
        for (size_t v = 0; v < nv; v++) found |= strcmp(names[v], json_string_value(at(p, "name"))) == 0;
        if (!found) fail_msg("%s %s: path parameter %s is not in the template", verb, oa, json_string_value(at(p, "name")));
      }
      assert_int_equal(declared, nv);
      assert_int_equal(json_object_get(op, "requestBody") != NULL, r->body[0] != 0);
      check_security(op, ms[i]);
      rules++;
    }
  }
  assert_true(rules >= 30);
}

/* A GET route offers the request's other scalar fields as query parameters, in their JSON
 * spelling, and never a field the path binds. */
static void test_query_parameters(void **state) {
  (void)state;
  json_t *params = at(at(at(at(doc, "paths"), "/v1/units/{unit_id}/subtree"), "get"), "parameters");
  int max_depth = 0, unit_in_query = 0, unit_in_path = 0;
  size_t i;
  json_t *p;
  json_array_foreach(params, i, p) {
    const char *name = json_string_value(at(p, "name")), *in = json_string_value(at(p, "in"));
    if (strcmp(name, "maxDepth") == 0 && strcmp(in, "query") == 0) {
      max_depth = 1;
      assert_string_equal(json_string_value(at(at(p, "schema"), "type")), "integer");
    }
    if (strcmp(in, "query") == 0 && (strcmp(name, "unitId") == 0 || strcmp(name, "unit_id") == 0)) unit_in_query = 1;
    if (strcmp(in, "path") == 0 && strcmp(name, "unit_id") == 0) unit_in_path = 1;
  }
  assert_true(max_depth);
  assert_true(unit_in_path);
  assert_false(unit_in_query);
  /* repeated scalars: arrays, one parameter per value */
  params = at(at(at(at(doc, "paths"), "/v1/records"), "get"), "parameters");
  int statuses = 0;
  json_array_foreach(params, i, p) {
    if (strcmp(json_string_value(at(p, "name")), "statuses") != 0) continue;
    statuses = 1;
    assert_string_equal(json_string_value(at(at(p, "schema"), "type")), "array");
    assert_true(json_is_true(at(p, "explode")));
  }
  assert_true(statuses);
}

static void check_refs(json_t *v, json_t *schemas, size_t *count) {
  if (json_is_object(v)) {
    const char *k;
    json_t *e;
    json_object_foreach(v, k, e) {
      if (strcmp(k, "$ref") == 0) {
        const char *r = json_string_value(e);
        const char *prefix = "#/components/schemas/";
        assert_non_null(r);
        if (strncmp(r, prefix, strlen(prefix)) != 0) fail_msg("$ref %s is not a schema", r);
        if (!json_object_get(schemas, r + strlen(prefix))) fail_msg("$ref %s is not defined", r);
        (*count)++;
      } else {
        check_refs(e, schemas, count);
      }
    }
  } else if (json_is_array(v)) {
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) check_refs(e, schemas, count);
  }
}

/* Every $ref names a schema the document defines. */
static void test_refs_resolve(void **state) {
  (void)state;
  size_t count = 0;
  json_t *schemas = at(at(doc, "components"), "schemas");
  check_refs(doc, schemas, &count);
  assert_true(count > 100);
}

/* Types per the proto3 JSON mapping: int64 as a string with format int64, enums as strings of
 * their names, repeated as arrays, bytes as format byte, names in lowerCamelCase. */
static void test_schema_types(void **state) {
  (void)state;
  json_t *schemas = at(at(doc, "components"), "schemas");
  json_t *acct = at(at(schemas, "hoso.identity.v1.Account"), "properties");
  json_t *version = at(acct, "version");
  assert_string_equal(json_string_value(at(version, "type")), "string");
  assert_string_equal(json_string_value(at(version, "format")), "int64");
  json_t *roles = at(acct, "roles");
  assert_string_equal(json_string_value(at(roles, "type")), "array");
  assert_string_equal(json_string_value(at(at(roles, "items"), "$ref")), "#/components/schemas/hoso.common.v1.Role");
  assert_non_null(json_object_get(acct, "fullName"));
  assert_null(json_object_get(acct, "full_name"));
  assert_string_equal(json_string_value(at(at(acct, "mustChangePassword"), "type")), "boolean");
  json_t *role = at(schemas, "hoso.common.v1.Role");
  assert_string_equal(json_string_value(at(role, "type")), "string");
  json_t *names = at(role, "enum");
  assert_string_equal(json_string_value(json_array_get(names, 1)), "SYSTEM_ADMIN");
  json_t *content = at(at(at(schemas, "hoso.records.v1.ExportRecordResponse"), "properties"), "content");
  assert_string_equal(json_string_value(at(content, "format")), "byte");
  json_t *unit = at(at(schemas, "hoso.identity.v1.Unit"), "properties");
  assert_string_equal(json_string_value(at(at(unit, "level"), "format")), "int32");
  /* a message reached only through another (Decision, inside Record) has its schema too */
  assert_non_null(json_object_get(schemas, "hoso.records.v1.Decision"));
}

/* The .proto comments become descriptions: a message's, a scalar field's, and a message
 * field's (through allOf, as OpenAPI 3.0 ignores what stands next to a $ref). */
static void test_descriptions(void **state) {
  (void)state;
  json_t *schemas = at(at(doc, "components"), "schemas");
  json_t *unit = at(at(schemas, "hoso.identity.v1.Unit"), "properties");
  assert_string_equal(json_string_value(at(at(unit, "parentId"), "description")), "empty for the root");
  assert_string_equal(json_string_value(at(at(unit, "staffingQuota"), "description")), "biên chế được giao");
  assert_null(json_object_get(at(unit, "id"), "description"));
  assert_string_equal(json_string_value(at(at(schemas, "hoso.records.v1.Decision"), "description")),
                      "A decision a change rests on (quyết định: số, ngày, ngày hiệu lực, cơ quan ban hành).");
  json_t *rec = at(at(at(schemas, "hoso.records.v1.CreateRecordRequest"), "properties"), "record");
  assert_string_equal(json_string_value(at(json_array_get(at(rec, "allOf"), 0), "$ref")),
                      "#/components/schemas/hoso.records.v1.Record");
  assert_string_equal(json_string_value(at(rec, "description")),
                      "id, version, workflow fields are ignored; managing_unit_id required");
}

/* The file routes of files.c and streams.c, which no http rule declares, are listed too: each
 * with its verb, its path parameters, its body (the file's bytes, or the method's request as
 * JSON) and its answer (the file with its headers, or the method's reply). */
static void test_file_routes(void **state) {
  (void)state;
  static const struct {
    const char *path, *verb, *body, *reply;
    int path_params;
  } want[] = {
      {"/v1/records/{record_id}/attachments", "post", "application/octet-stream", "application/json", 1},
      {"/v1/attachments/{attachment_id}/content", "get", NULL, "application/pdf", 1},
      {"/v1/transfers/{transfer_id}/documents/{document_id}/content", "get", NULL, "image/png", 2},
      {"/v1/transfers/{transfer_id}/package", "post", NULL, "application/octet-stream", 1},
      {"/v1/transfer-packages", "post", "application/octet-stream", "application/json", 0},
      {"/v1/reports:run", "post", "application/json", "application/pdf", 0},
      {"/v1/records:exportSearch", "post", "application/json", "text/csv", 0},
  };
  json_t *paths = at(doc, "paths");
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    json_t *item = json_object_get(paths, want[i].path);
    if (!item) fail_msg("no file route %s", want[i].path);
    json_t *op = json_object_get(item, want[i].verb);
    if (!op) fail_msg("no %s under %s", want[i].verb, want[i].path);
    assert_non_null(json_object_get(json_array_get(at(op, "security"), 0), "bearerAuth"));
    int declared = 0;
    size_t pi;
    json_t *p;
    json_array_foreach(at(op, "parameters"), pi, p) declared += strcmp(json_string_value(at(p, "in")), "path") == 0;
    assert_int_equal(declared, want[i].path_params);
    json_t *body = json_object_get(op, "requestBody");
    if (want[i].body) assert_non_null(json_object_get(at(body, "content"), want[i].body));
    else assert_null(body);
    json_t *ok = at(at(op, "responses"), "200");
    assert_non_null(json_object_get(at(ok, "content"), want[i].reply));
    if (strcmp(want[i].reply, "application/json") != 0)
      assert_non_null(json_object_get(at(ok, "headers"), "Content-Disposition"));
  }
  /* a package's sum, in its header */
  json_t *pkg = at(at(at(at(at(paths, "/v1/transfers/{transfer_id}/package"), "post"), "responses"), "200"), "headers");
  assert_non_null(json_object_get(pkg, "X-Package-Sha256"));
  assert_non_null(json_object_get(pkg, "Content-Length"));
  /* a report's file says its length too (the service announces it with the first chunk) */
  assert_non_null(json_object_get(at(at(at(at(at(paths, "/v1/reports:run"), "post"), "responses"), "200"), "headers"), "Content-Length"));
  /* the import names the unit that takes the person in, required */
  size_t pi;
  json_t *p;
  int unit = 0;
  json_array_foreach(at(at(at(paths, "/v1/transfer-packages"), "post"), "parameters"), pi, p)
    unit |= strcmp(json_string_value(at(p, "name")), "unit_id") == 0 && json_is_true(at(p, "required"));
  assert_true(unit);
}

/* Operation ids are unique across the document (code generators key on them). */
static void test_operation_ids_unique(void **state) {
  (void)state;
  json_t *seen = json_object();
  const char *path;
  json_t *item;
  json_object_foreach(at(doc, "paths"), path, item) {
    const char *verb;
    json_t *op;
    json_object_foreach(item, verb, op) {
      const char *id = json_string_value(at(op, "operationId"));
      if (json_object_get(seen, id)) fail_msg("operationId %s twice", id);
      json_object_set_new(seen, id, json_true());
      assert_true(json_string_length(at(op, "summary")) > 0);
    }
  }
  json_decref(seen);
}

/* The document against the OpenAPI Initiative's own JSON Schema of 3.0 (Debian's
 * openapi-specification, checked with python3-jsonschema; ./hoso test installs both): the whole
 * 3.0 schema, beyond what the tests above look at. A broken copy must fail it, or the check
 * proves nothing. */
#define OAS30_SCHEMA "/usr/share/openapi-specification/schemas/v3.0/schema.json"

static int validate_with_schema(const char *doc, int quiet) {
  char path[] = "/tmp/hoso-openapi-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
  close(fd);
  char cmd[512];
  snprintf(cmd, sizeof cmd,
           "python3 -c 'import json, sys, jsonschema; "
           "jsonschema.Draft4Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' "
           "%s %s%s",
           OAS30_SCHEMA, path, quiet ? " 2>/dev/null" : "");
  int rc = system(cmd);
  unlink(path);
  return rc;
}

static void test_external_validator(void **state) {
  (void)state;
  if (access(OAS30_SCHEMA, R_OK) != 0)
    fail_msg("%s is missing: install openapi-specification and python3-jsonschema (./hoso test does)", OAS30_SCHEMA);
  assert_int_equal(validate_with_schema(text, 0), 0);
  /* a response without its description, which 3.0 requires: the schema catches it */
  json_error_t je;
  json_t *doc = json_loads(text, 0, &je);
  assert_non_null(doc);
  json_t *paths = json_object_get(doc, "paths");
  const char *k;
  json_t *item;
  json_object_foreach(paths, k, item) {
    json_t *post = json_object_get(item, "post");
    json_t *ok = post ? json_object_get(json_object_get(post, "responses"), "200") : NULL;
    if (ok) {
      json_object_del(ok, "description");
      break;
    }
  }
  char *broken = json_dumps(doc, 0);
  assert_int_not_equal(validate_with_schema(broken, 1), 0);
  free(broken);
  json_decref(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_header),           cmocka_unit_test(test_connect_paths),
      cmocka_unit_test(test_rest_paths),       cmocka_unit_test(test_query_parameters),
      cmocka_unit_test(test_refs_resolve),     cmocka_unit_test(test_schema_types),
      cmocka_unit_test(test_descriptions),     cmocka_unit_test(test_operation_ids_unique),
      cmocka_unit_test(test_file_routes),      cmocka_unit_test(test_external_validator),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
