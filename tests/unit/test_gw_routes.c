/* The gateway's registry and resource routes (gateway/registry.c, routes.c): methods and http
 * rules read from the embedded descriptor set, route matching (variables, custom verbs, percent
 * escapes, 404 / 405, trailing slashes) and request building from body, path and query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apidesc.h"
#include "gw.h"
#include "identity.pb-c.h"
#include "pbjson.h"
#include "records.pb-c.h"
#include "transfers.pb-c.h"
#include "reporting.pb-c.h"

static int setup(void **state) {
  (void)state;
  return gw_registry_init();
}
static int teardown(void **state) {
  (void)state;
  gw_registry_free();
  return 0;
}

/* --- registry --------------------------------------------------------------------------------- */

/* Every method protobuf-c compiled is in the registry, found by its gRPC path, with its types,
 * except those the .proto marks internal, which the gateway does not know; the counts come from
 * the compiled descriptors, so adding an RPC keeps this test true. */
static void test_registry_methods(void **state) {
  (void)state;
  const gw_method *const *ms;
  size_t n = gw_methods(&ms);
  apidesc_method *d;
  size_t nd, internal = 0;
  assert_int_equal(apidesc_methods(hoso_descriptor_set, hoso_descriptor_set_len, &d, &nd), 0);
  for (size_t i = 0; i < nd; i++) {
    if (!APIDESC_IS_INTERNAL(d[i].access)) continue;
    internal++;
    assert_null(gw_find_method(d[i].path));
  }
  apidesc_free(d, nd);
  assert_true(internal >= 3); /* SetManagingUnit, ListUnitChanges, ListTokenRevocations */
  assert_int_equal(n + internal,
                   hoso__identity__v1__identity__descriptor.n_methods + hoso__records__v1__records__descriptor.n_methods +
                       hoso__transfers__v1__transfers__descriptor.n_methods +
                       hoso__reporting__v1__reporting__descriptor.n_methods);
  for (size_t i = 0; i < n; i++) {
    char want[256];
    snprintf(want, sizeof want, "/%s/%s", ms[i]->service, ms[i]->name);
    assert_string_equal(ms[i]->path, want);
    assert_ptr_equal(gw_find_method(ms[i]->path), ms[i]);
    assert_non_null(ms[i]->comment);
  }
  const gw_method *login = gw_find_method("/hoso.identity.v1.Identity/Login");
  assert_non_null(login);
  assert_ptr_equal(login->input, &hoso__identity__v1__login_request__descriptor);
  assert_ptr_equal(login->output, &hoso__identity__v1__login_response__descriptor);
  assert_string_equal(login->package, "hoso.identity.v1");
  assert_string_equal(login->service, "hoso.identity.v1.Identity");
  /* "// --- sessions and tokens ---" above Login is a section ruler, not Login's comment */
  assert_string_equal(login->comment, "");
  assert_null(gw_find_method("/hoso.records.v1.Records/SetManagingUnit"));
  assert_int_equal(login->access, APIDESC_PUBLIC);
  const gw_method *cs = gw_find_method("/hoso.records.v1.Records/ChangeRecordStatus");
  assert_int_equal(cs->access, APIDESC_NORMAL);
  assert_string_equal(cs->comment, "");
  const gw_method *up = gw_find_method("/hoso.records.v1.Records/UploadAttachment");
  assert_true(up->client_streaming && !up->server_streaming);
  const gw_method *down = gw_find_method("/hoso.records.v1.Records/DownloadAttachment");
  assert_true(!down->client_streaming && down->server_streaming);
  assert_false(login->client_streaming || login->server_streaming);
  assert_null(gw_find_method("/hoso.identity.v1.Identity/login"));
  assert_null(gw_find_method("/hoso.identity.v1.Identity/Login/"));
  assert_null(gw_find_method("hoso.identity.v1.Identity/Login"));
  assert_null(gw_find_method(""));
  assert_null(gw_find_method(NULL));
}

/* Comments of messages and fields, read from the descriptor set's source info: the one before
 * a definition and the one after it on its line. */
static void test_doc_comments(void **state) {
  (void)state;
  assert_string_equal(gw_doc_comment("hoso.identity.v1.Unit.parent_id"), "empty for the root");
  assert_string_equal(gw_doc_comment("hoso.identity.v1.UpdateUnitRequest.update_mask"),
                      "Fields to change, by name (\"name\", \"code\", \"type\", \"staffing_quota\"). Empty: every field "
                      "given a non-default value is changed (so a quota of 0 must be named here).");
  assert_null(gw_doc_comment("hoso.records.v1.RecordStatus")); /* enums are not kept: OpenAPI lists names */
  assert_non_null(gw_doc_comment("hoso.records.v1.Decision"));
  assert_null(gw_doc_comment("hoso.identity.v1.Unit.id"));
  assert_null(gw_doc_comment("hoso.identity.v1.Nothing"));
  assert_null(gw_doc_comment(NULL));
}

/* The rules written in identity.proto, records.proto and transfers.proto, as the registry reads
 * them. */
static void test_registry_rules(void **state) {
  (void)state;
  static const struct {
    const char *method, *verb, *path, *body;
  } want[] = {
      {"/hoso.identity.v1.Identity/Login", "POST", "/v1/auth/login", "*"},
      {"/hoso.identity.v1.Identity/Refresh", "POST", "/v1/auth/refresh", "*"},
      {"/hoso.identity.v1.Identity/Logout", "POST", "/v1/auth/logout", "*"},
      {"/hoso.identity.v1.Identity/ChangePassword", "POST", "/v1/auth/password", "*"},
      {"/hoso.identity.v1.Identity/WhoAmI", "GET", "/v1/auth/me", ""},
      {"/hoso.identity.v1.Identity/GetPublicKeys", "GET", "/v1/auth/keys", ""},
      {"/hoso.identity.v1.Identity/GetUnit", "GET", "/v1/units/{unit_id}", ""},
      {"/hoso.identity.v1.Identity/ListChildUnits", "GET", "/v1/units/{unit_id}/children", ""},
      {"/hoso.identity.v1.Identity/GetUnitSubtree", "GET", "/v1/units/{unit_id}/subtree", ""},
      {"/hoso.identity.v1.Identity/CreateUnit", "POST", "/v1/units", "*"},
      {"/hoso.identity.v1.Identity/UpdateUnit", "PATCH", "/v1/units/{unit_id}", "*"},
      {"/hoso.identity.v1.Identity/MoveUnit", "POST", "/v1/units/{unit_id}:move", "*"},
      {"/hoso.identity.v1.Identity/MergeUnits", "POST", "/v1/units/{source_unit_id}:merge", "*"},
      {"/hoso.identity.v1.Identity/ListUnitHistory", "GET", "/v1/units/{unit_id}/history", ""},
      {"/hoso.identity.v1.Identity/ListUnitDirectory", "GET", "/v1/unit-directory", ""},
      {"/hoso.identity.v1.Identity/CreateAccount", "POST", "/v1/accounts", "*"},
      {"/hoso.identity.v1.Identity/GetAccount", "GET", "/v1/accounts/{account_id}", ""},
      {"/hoso.identity.v1.Identity/ListAccounts", "GET", "/v1/accounts", ""},
      {"/hoso.identity.v1.Identity/GetAccountNames", "GET", "/v1/account-names", ""},
      {"/hoso.identity.v1.Identity/DisableAccount", "POST", "/v1/accounts/{account_id}:disable", "*"},
      {"/hoso.identity.v1.Identity/EnableAccount", "POST", "/v1/accounts/{account_id}:enable", "*"},
      {"/hoso.identity.v1.Identity/RevokeAccount", "POST", "/v1/accounts/{account_id}:revoke", "*"},
      {"/hoso.identity.v1.Identity/ResetPassword", "POST", "/v1/accounts/{account_id}:resetPassword", "*"},
      {"/hoso.identity.v1.Identity/UpdateAccountRoles", "PUT", "/v1/accounts/{account_id}/roles", "*"},
      {"/hoso.records.v1.Records/GetRecord", "GET", "/v1/records/{record_id}", ""},
      {"/hoso.records.v1.Records/CreateRecord", "POST", "/v1/records", "*"},
      {"/hoso.records.v1.Records/UpdateRecord", "PUT", "/v1/records/{record.id}", "*"},
      {"/hoso.records.v1.Records/ListRecordVersions", "GET", "/v1/records/{record_id}/versions", ""},
      {"/hoso.records.v1.Records/SubmitRecord", "POST", "/v1/records/{record_id}:submit", "*"},
      {"/hoso.records.v1.Records/ApproveRecord", "POST", "/v1/records/{record_id}:approve", "*"},
      {"/hoso.records.v1.Records/RejectRecord", "POST", "/v1/records/{record_id}:reject", "*"},
      {"/hoso.records.v1.Records/ChangeRecordStatus", "POST", "/v1/records/{record_id}:changeStatus", "*"},
      {"/hoso.records.v1.Records/SearchRecords", "GET", "/v1/records", ""},
      {"/hoso.records.v1.Records/ListCatalog", "GET", "/v1/catalogs/{catalog}", ""},
      {"/hoso.records.v1.Records/ExportRecord", "GET", "/v1/records/{record_id}/export", ""},
      {"/hoso.records.v1.Records/ImportRecords", "POST", "/v1/records:import", "*"},
      {"/hoso.transfers.v1.Transfers/StartTransfer", "POST", "/v1/transfers", "*"},
      {"/hoso.transfers.v1.Transfers/RequestTransfer", "POST", "/v1/transfers:request", "*"},
      {"/hoso.transfers.v1.Transfers/ApproveRequest", "POST", "/v1/transfers/{transfer_id}:approve", "*"},
      {"/hoso.transfers.v1.Transfers/RefuseRequest", "POST", "/v1/transfers/{transfer_id}:refuse", "*"},
      {"/hoso.transfers.v1.Transfers/SendTransfer", "POST", "/v1/transfers/{transfer_id}:send", "*"},
      {"/hoso.transfers.v1.Transfers/ReceiveTransfer", "POST", "/v1/transfers/{transfer_id}:receive", "*"},
      {"/hoso.transfers.v1.Transfers/RejectTransfer", "POST", "/v1/transfers/{transfer_id}:reject", "*"},
      {"/hoso.transfers.v1.Transfers/ForwardTransfer", "POST", "/v1/transfers/{transfer_id}:forward", "*"},
      {"/hoso.transfers.v1.Transfers/CancelTransfer", "POST", "/v1/transfers/{transfer_id}:cancel", "*"},
      {"/hoso.transfers.v1.Transfers/GetTransfer", "GET", "/v1/transfers/{transfer_id}", ""},
      {"/hoso.transfers.v1.Transfers/ListTransfers", "GET", "/v1/transfers", ""},
      {"/hoso.transfers.v1.Transfers/GetTransferDocument", "GET", "/v1/transfers/{transfer_id}/documents/{document_id}", ""},
      {"/hoso.transfers.v1.Transfers/ListNotices", "GET", "/v1/transfers:notices", ""},
      {"/hoso.transfers.v1.Transfers/ListDeadlines", "GET", "/v1/deadlines", ""},
      {"/hoso.transfers.v1.Transfers/GetPolicy", "GET", "/v1/policy", ""},
      {"/hoso.transfers.v1.Transfers/SetPolicy", "PUT", "/v1/policy", "*"},
      {"/hoso.transfers.v1.Transfers/ListPolicyPresets", "GET", "/v1/policy/presets", ""},
      {"/hoso.transfers.v1.Transfers/ListCalendar", "GET", "/v1/calendar", ""},
      {"/hoso.transfers.v1.Transfers/SetCalendarYear", "PUT", "/v1/calendar/{calendar.year}", "*"},
      {"/hoso.transfers.v1.Transfers/AddWorkingDays", "GET", "/v1/calendar:addWorkingDays", ""},
      {"/hoso.transfers.v1.Transfers/CountWorkingDays", "GET", "/v1/calendar:countWorkingDays", ""},
      {"/hoso.reporting.v1.Reporting/GetStatistics", "POST", "/v1/statistics:query", "*"},
      {"/hoso.reporting.v1.Reporting/DrillDown", "POST", "/v1/statistics:drillDown", "*"},
      {"/hoso.reporting.v1.Reporting/ListReportTemplates", "GET", "/v1/report-templates", ""},
      {"/hoso.reporting.v1.Reporting/GetReportTemplate", "GET", "/v1/report-templates/{code}", ""},
      {"/hoso.reporting.v1.Reporting/UpsertReportTemplate", "PUT", "/v1/report-templates/{template.code}", "*"},
      {"/hoso.reporting.v1.Reporting/GetComplianceReport", "GET", "/v1/compliance-report", ""},
      {"/hoso.reporting.v1.Reporting/ListAlerts", "GET", "/v1/alerts", ""},
      {"/hoso.reporting.v1.Reporting/ListSnapshots", "GET", "/v1/snapshots", ""},
      {"/hoso.reporting.v1.Reporting/CreateSnapshot", "POST", "/v1/snapshots", "*"},
  };
  size_t total = 0;
  for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
    const gw_method *m = gw_find_method(want[i].method);
    if (!m) fail_msg("%s missing", want[i].method);
    assert_int_equal(m->n_rules, 1);
    assert_string_equal(m->rules[0].verb, want[i].verb);
    assert_string_equal(m->rules[0].path_template, want[i].path);
    assert_string_equal(m->rules[0].body, want[i].body);
    assert_string_equal(m->rules[0].response_body, "");
  }
  const gw_method *const *ms;
  size_t n = gw_methods(&ms);
  for (size_t i = 0; i < n; i++) total += ms[i]->n_rules;
  /* no rule beyond the ones listed, and one compiled route per rule */
  assert_int_equal(total, sizeof want / sizeof *want);
  const gw_rest_route *const *rs;
  assert_int_equal(gw_rest_routes(&rs), total);
  for (size_t i = 0; i < total; i++) assert_non_null(rs[i]->openapi_path);
}

/* --- matching ------------------------------------------------------------------------------------ */

/* Resolves verb+path and checks method and variables ("name=value" pairs, in template order). */
static void expect_route(const char *verb, const char *path, const char *method, const char *vars) {
  gw_match m;
  const char *allow = "unset";
  int r = gw_match_route(verb, path, &m, &allow);
  if (r != 1) fail_msg("%s %s: got %d (allow %s), want %s", verb, path, r, allow ? allow : "-", method);
  assert_string_equal(m.method->name, method);
  char got[512] = "";
  for (size_t i = 0; i < m.n_vars; i++) {
    size_t o = strlen(got);
    snprintf(got + o, sizeof got - o, "%s%s=%s", i ? "," : "", m.names[i], m.values[i]);
  }
  if (strcmp(got, vars) != 0) fail_msg("%s %s: vars \"%s\", want \"%s\"", verb, path, got, vars);
  gw_match_free(&m);
}

static void expect_status(const char *verb, const char *path, int want, const char *want_allow) {
  gw_match m;
  const char *allow = NULL;
  int r = gw_match_route(verb, path, &m, &allow);
  if (r == 1) gw_match_free(&m);
  if (r != want) fail_msg("%s %s: got %d, want %d", verb, path, r, want);
  if (want == -1) {
    assert_non_null(allow);
    assert_string_equal(allow, want_allow);
  }
}

static void test_match_variables(void **state) {
  (void)state;
  expect_route("GET", "/v1/units/12", "GetUnit", "unit_id=12");
  expect_route("PATCH", "/v1/units/12", "UpdateUnit", "unit_id=12");
  expect_route("GET", "/v1/units/12/children", "ListChildUnits", "unit_id=12");
  expect_route("GET", "/v1/units/12/subtree", "GetUnitSubtree", "unit_id=12");
  expect_route("GET", "/v1/accounts", "ListAccounts", "");
  expect_route("POST", "/v1/accounts", "CreateAccount", "");
  expect_route("PUT", "/v1/accounts/9/roles", "UpdateAccountRoles", "account_id=9");
  /* a dotted variable names a field of a sub-message */
  expect_route("PUT", "/v1/records/42", "UpdateRecord", "record.id=42");
  expect_route("GET", "/v1/catalogs/ETHNICITY", "ListCatalog", "catalog=ETHNICITY");
  /* the query string is not part of the path */
  expect_route("GET", "/v1/units/12?pageSize=3#frag", "GetUnit", "unit_id=12");
}

/* "12:move" is unit 12 with the custom verb move; a known verb with the wrong HTTP method is a
 * 405 offering the verb's methods; an unknown verb falls back to the plain templates, where
 * "12:bogus" is just an id. */
static void test_custom_verbs(void **state) {
  (void)state;
  expect_route("POST", "/v1/units/12:move", "MoveUnit", "unit_id=12");
  expect_route("POST", "/v1/units/3:merge", "MergeUnits", "source_unit_id=3");
  expect_route("POST", "/v1/accounts/9:resetPassword", "ResetPassword", "account_id=9");
  expect_route("POST", "/v1/records/5:changeStatus", "ChangeRecordStatus", "record_id=5");
  expect_route("POST", "/v1/records:import", "ImportRecords", "");
  expect_route("POST", "/v1/units/12:move/", "MoveUnit", "unit_id=12");
  expect_status("GET", "/v1/units/12:move", -1, "POST");
  expect_status("POST", "/v1/units/12:Move", -1, "GET, PATCH"); /* verbs are case-sensitive */
  expect_route("GET", "/v1/units/12:bogus", "GetUnit", "unit_id=12:bogus");
  expect_status("GET", "/v1/records:import", -1, "POST");
  expect_status("POST", "/v1/units:move", 0, NULL); /* the verb's template needs a unit id */
}

/* Variables are percent-decoded (UTF-8 included); '+' is a plus in a path; a malformed escape
 * or %00 makes the path match nothing. */
static void test_percent_decoding(void **state) {
  (void)state;
  expect_route("GET", "/v1/catalogs/%C4%90%E1%BA%AFk%20L%E1%BA%AFk", "ListCatalog", "catalog=Đắk Lắk");
  expect_route("GET", "/v1/units/a%2Fb", "GetUnit", "unit_id=a/b");
  expect_route("GET", "/v1/catalogs/A+B", "ListCatalog", "catalog=A+B");
  expect_route("POST", "/v1/units/1%3A2:move", "MoveUnit", "unit_id=1:2");
  expect_status("GET", "/v1/units/%zz", 0, NULL);
  expect_status("GET", "/v1/units/%4", 0, NULL);
  expect_status("GET", "/v1/units/%00", 0, NULL);
  expect_status("GET", "/v1/units/%", 0, NULL);
  /* literals are matched as written: an escaped literal is another path */
  expect_status("GET", "/v1/%75nits/1", 0, NULL);
}

/* 404 when no template has the path, 405 with the verbs of the templates that do. */
static void test_not_found_and_verbs(void **state) {
  (void)state;
  expect_status("GET", "/v1/nothing", 0, NULL);
  expect_status("GET", "/v2/units/1", 0, NULL);
  expect_status("GET", "/v1/units/1/children/2", 0, NULL);
  expect_status("GET", "/", 0, NULL);
  expect_status("GET", "", 0, NULL);
  expect_status("GET", "v1/units/1", 0, NULL);
  expect_status("DELETE", "/v1/units/1", -1, "GET, PATCH");
  expect_status("PUT", "/v1/records", -1, "GET, POST");
  expect_status("POST", "/v1/auth/me", -1, "GET");
  expect_status("GET", "/v1/auth/login", -1, "POST");
  expect_status("get", "/v1/units/1", -1, "GET, PATCH"); /* HTTP methods are case-sensitive */
  /* the allow text lives in static storage: the same pointer for the same set */
  const char *a1, *a2;
  gw_match m;
  assert_int_equal(gw_match_route("DELETE", "/v1/units/1", &m, &a1), -1);
  assert_int_equal(gw_match_route("PUT", "/v1/units/7", &m, &a2), -1);
  assert_ptr_equal(a1, a2);
}

/* One trailing slash is dropped; any other empty segment matches nothing. */
static void test_trailing_slash(void **state) {
  (void)state;
  expect_route("GET", "/v1/units/12/", "GetUnit", "unit_id=12");
  expect_route("GET", "/v1/records/", "SearchRecords", "");
  expect_route("GET", "/v1/units/12/children/", "ListChildUnits", "unit_id=12");
  expect_status("GET", "/v1/units/12//", 0, NULL);
  expect_status("GET", "/v1/units//children", 0, NULL);
  expect_status("GET", "//v1/units/12", 0, NULL);
}

/* --- building requests ------------------------------------------------------------------------------ */

/* Matches verb+path and builds the request with body and query; returns its JSON or the error. */
static char *build(const char *verb, const char *path, const char *body, const char *query, char *err) {
  gw_match m;
  const char *allow;
  if (gw_match_route(verb, path, &m, &allow) != 1) fail_msg("%s %s does not match", verb, path);
  ProtobufCMessage *msg = gw_build_rest_request(&m, body, body ? strlen(body) : 0, query, err, 256);
  char *out = NULL;
  if (msg) {
    assert_ptr_equal(msg->descriptor, m.method->input);
    out = pbjson_encode(msg, 0);
    protobuf_c_message_free_unpacked(msg, NULL);
  }
  gw_match_free(&m);
  return out;
}

static void expect_request(const char *verb, const char *path, const char *body, const char *query, const char *want) {
  char err[256] = "";
  char *got = build(verb, path, body, query, err);
  if (!got) fail_msg("%s %s ? %s: %s", verb, path, query ? query : "", err);
  if (strcmp(got, want) != 0) fail_msg("%s %s: got %s, want %s", verb, path, got, want);
  free(got);
}

static void expect_request_error(const char *verb, const char *path, const char *body, const char *query, const char *want) {
  char err[256] = "";
  char *got = build(verb, path, body, query, err);
  if (got) fail_msg("%s %s ? %s: built %s, wanted error %s", verb, path, query ? query : "", got, want);
  if (strcmp(err, want) != 0) fail_msg("%s %s ? %s: got \"%s\", want \"%s\"", verb, path, query ? query : "", err, want);
}

/* Path variables and query parameters of either spelling; lists repeat; '+' and escapes in the
 * query are decoded as in HTML forms. */
static void test_build_from_path_and_query(void **state) {
  (void)state;
  expect_request("GET", "/v1/units/5/children", NULL, "pageSize=3&include_dissolved=true&pageToken=",
                 "{\"unitId\":\"5\",\"includeDissolved\":true,\"pageSize\":3}");
  expect_request("GET", "/v1/records", "",
                 "name=Nguy%E1%BB%85n+V%C4%83n&statuses=RECORD_STATUS_ACTIVE&statuses=6&gender=GENDER_FEMALE&&order=3",
                 "{\"name\":\"Nguyễn Văn\",\"gender\":\"GENDER_FEMALE\",\"statuses\":[\"RECORD_STATUS_ACTIVE\","
                 "\"RECORD_STATUS_DECEASED\"],\"order\":\"SEARCH_ORDER_UPDATED\"}");
  expect_request("GET", "/v1/records/77/export", NULL, "format=EXPORT_FORMAT_HTML_2C&asOf=2020-01-31",
                 "{\"recordId\":\"77\",\"format\":\"EXPORT_FORMAT_HTML_2C\",\"asOf\":\"2020-01-31\"}");
  expect_request("GET", "/v1/auth/me", "  \r\n", NULL, "{}");
  expect_request("GET", "/v1/catalogs/RANK", NULL, "prefix=01.", "{\"catalog\":\"RANK\",\"prefix\":\"01.\"}");
}

/* Body "*": the whole request from JSON, then the path variables, which win over the same field
 * in the body (the URL names the resource); an empty body is the empty message. */
static void test_build_with_body(void **state) {
  (void)state;
  expect_request("PUT", "/v1/records/42",
                 "{\"record\":{\"id\":\"7\",\"fullName\":\"Hoàng Thị Mai\"},\"expectedVersion\":\"3\"}", NULL,
                 "{\"record\":{\"id\":\"42\",\"fullName\":\"Hoàng Thị Mai\"},\"expectedVersion\":\"3\"}");
  expect_request("POST", "/v1/units/12:move", "{\"new_parent_id\":\"4\",\"reason\":\"QĐ 12\"}", NULL,
                 "{\"unitId\":\"12\",\"newParentId\":\"4\",\"reason\":\"QĐ 12\"}");
  expect_request("POST", "/v1/auth/logout", "", NULL, "{}");
  expect_request("POST", "/v1/accounts/8:disable", NULL, "", "{\"accountId\":\"8\"}");
}

/* Each way a REST request can be wrong gives a 400 naming the field or parameter. */
static void test_build_errors(void **state) {
  (void)state;
  expect_request_error("GET", "/v1/units/5/children", NULL, "bogus=3", "query parameter bogus: unknown field");
  expect_request_error("GET", "/v1/units/5/children", NULL, "unitId=3",
                       "unitId: bound by the URL path, so it cannot also be a query parameter");
  expect_request_error("GET", "/v1/units/5/children", NULL, "unit_id=5",
                       "unit_id: bound by the URL path, so it cannot also be a query parameter");
  expect_request_error("GET", "/v1/units/5/children", NULL, "pageSize=3&page_size=4", "page_size: given more than once");
  expect_request_error("GET", "/v1/units/5/children", NULL, "pageSize=many", "pageSize: not an integer");
  expect_request_error("GET", "/v1/units/5/children", NULL, "includeDissolved", "includeDissolved: expected true or false");
  expect_request_error("GET", "/v1/units/5/children", NULL, "pageSize=%zz", "query string: a malformed percent escape in \"pageSize=%zz\"");
  expect_request_error("GET", "/v1/records", NULL, "statuses=GONE",
                       "statuses: unknown enum value \"GONE\" for hoso.records.v1.RecordStatus");
  expect_request_error("GET", "/v1/records/1", NULL, "recordId.x=1", "query parameter recordId: not a message field, so it has no fields");
  expect_request_error("GET", "/v1/units/5", "{\"unitId\":\"5\"}", NULL,
                       "body: this route takes no request body; send the fields as query parameters");
  expect_request_error("POST", "/v1/auth/login", "{\"username\":\"a\"}", "password=x",
                       "password: this route takes its fields in the JSON body, not in the query string");
  expect_request_error("PUT", "/v1/records/42", "{\"record\":{\"birthDate\":5}}", NULL, "record.birthDate: expected a string");
  expect_request_error("PUT", "/v1/records/42", "{\"record\":", NULL,
                       "body: malformed JSON at line 1 column 10 (unexpected token near end of file)");
  expect_request_error("POST", "/v1/auth/login", "{\"user\":\"a\"}", NULL, "user: unknown field");
  expect_request_error("GET", "/v1/units/%FF", NULL, NULL, "unit_id: not valid UTF-8 text");
  expect_request_error("GET", "/v1/records", NULL, "name=%C3", "name: not valid UTF-8 text");
}

/* The response of a REST call: the whole message, or the rule's response_body field alone
 * (no rule of ours uses one yet, so a rule is made here). */
static void test_response_json(void **state) {
  (void)state;
  gw_match m;
  const char *allow;
  assert_int_equal(gw_match_route("GET", "/v1/units/3", &m, &allow), 1);
  Hoso__Identity__V1__Unit u = HOSO__IDENTITY__V1__UNIT__INIT;
  u.id = "3";
  u.name = "Sở Nội vụ";
  u.version = 2;
  Hoso__Identity__V1__GetUnitResponse r = HOSO__IDENTITY__V1__GET_UNIT_RESPONSE__INIT;
  r.unit = &u;
  char *j = gw_rest_response_json(&m, &r.base);
  assert_string_equal(j, "{\"unit\":{\"id\":\"3\",\"name\":\"Sở Nội vụ\",\"version\":\"2\"}}");
  free(j);
  gw_http_rule only_unit = *m.rule;
  only_unit.response_body = "unit";
  const gw_http_rule *orig = m.rule;
  m.rule = &only_unit;
  j = gw_rest_response_json(&m, &r.base);
  assert_string_equal(j, "{\"id\":\"3\",\"name\":\"Sở Nội vụ\",\"version\":\"2\"}");
  free(j);
  r.unit = NULL;
  j = gw_rest_response_json(&m, &r.base);
  assert_string_equal(j, "{}");
  free(j);
  Hoso__Identity__V1__ListChildUnitsResponse l = HOSO__IDENTITY__V1__LIST_CHILD_UNITS_RESPONSE__INIT;
  only_unit.response_body = "units";
  j = gw_rest_response_json(&m, &l.base);
  assert_string_equal(j, "[]");
  free(j);
  m.rule = orig;
  gw_match_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_methods),  cmocka_unit_test(test_doc_comments),
      cmocka_unit_test(test_registry_rules),
      cmocka_unit_test(test_match_variables),   cmocka_unit_test(test_custom_verbs),
      cmocka_unit_test(test_percent_decoding),  cmocka_unit_test(test_not_found_and_verbs),
      cmocka_unit_test(test_trailing_slash),    cmocka_unit_test(test_build_from_path_and_query),
      cmocka_unit_test(test_build_with_body),   cmocka_unit_test(test_build_errors),
      cmocka_unit_test(test_response_json),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
