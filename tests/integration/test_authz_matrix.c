/* The authorization matrix: every RPC of every service in the contract (the descriptor set built
 * into the binary, so a new method is found by itself) called by every kind of caller — a
 * SYSTEM_ADMIN, and a UNIT_ADMIN, UPDATER, READER, SELF and SERVICE account of district 1, on a
 * target inside district 1 and one in district 2 (outside their subtree), then without a token,
 * with an expired token and with the token of a disabled account — against real identity,
 * records, transfers and reporting. Streaming methods are called as streams (the descriptor set
 * says which): a client stream gets the row's request as its one message, a server stream counts
 * as OK once its first message comes. Each outcome is compared with tests/authz/matrix.tsv, which
 * holds the request of each method and what each caller must get. A method without a row, a row without a
 * method, and any outcome that differs fail; an OK the table does not allow is named as such.
 * HOSO_AUTHZ_WRITE=<file> writes the table as observed, to review and commit when a rule changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include "apidesc.h"
#include "authz_mtls.h"
#include "b64.h"
#include "identity.pb-c.h"
#include "key_seal.h"
#include "pbjson.h"
#include "records.pb-c.h"
#include "reporting.pb-c.h"
#include "th_transfers.h"
#include "th_world.h"
#include "tok.h"
#include "transfers.pb-c.h"

#define IDN "/hoso.identity.v1.Identity/"
#define REC "/hoso.records.v1.Records/"
#define REP "/hoso.reporting.v1.Reporting/"
#define R(x) HOSO__COMMON__V1__ROLE__##x

/* The callers, in the table's column order. The first six are asked for both targets. */
enum { C_ADMIN, C_UNIT_ADMIN, C_UPDATER, C_READER, C_SELF, C_SERVICE, C_NONE, C_EXPIRED, C_DISABLED, N_CALLERS };
static const char *const caller_names[N_CALLERS] = {"SYSTEM_ADMIN", "UNIT_ADMIN", "UPDATER", "READER", "SELF",
                                                    "SERVICE",      "none",       "expired", "disabled"};
#define N_ROLES 6

static th_world w;
static th_tr tr;
static th_svc rep_svc;
static cli_chan *rep_ch;
/* The contract's methods (apidesc): which stream, for the calls. */
static apidesc_method *ms;
static size_t nm;
static char *tok[N_CALLERS];
/* The SERVICE caller's client id, and the set run with HOSO_SERVICE_MTLS=require; while a call
 * of the second pass is made, via names the connections (by service) it goes over. */
static char service_client[64];
static authz_mtls mtls;
static cli_chan **via;
/* Per side (0: district 1, inside; 1: district 2, outside): what the requests name. */
static struct {
  const char *unit, *updater, *head;
  char child[32], record[32], account[32], attachment[32];
  char *self; /* the SELF account linked to `record` */
} side[2];
static int seq;

static int setup_sides(void);
static char package_key[256], package_key_env[300];

static int setup(void **state) {
  (void)state;
  static const char *const env[] = {"HOSO_REVOCATION_POLL_MS=200", NULL};
  /* transfers with a package key, so ExportTransferPackage's row reaches its success path */
  const char *tr_env[] = {"HOSO_REVOCATION_POLL_MS=200", package_key_env, NULL};
  if (apidesc_methods(hoso_descriptor_set, hoso_descriptor_set_len, &ms, &nm) != 0) return -1;
  if (th_tr_package_key("matrix", package_key, sizeof package_key, package_key_env, sizeof package_key_env) != 0)
    return -1;
  if (th_world_start(&w, 1, env) != 0 || th_tr_start(&tr, &w, tr_env) != 0 ||
      th_world_reporting_start(&w, &rep_svc, env) != 0 || !(rep_ch = cli_open_tls(rep_svc.addr, NULL, NULL, NULL)))
    return -1;
  return setup_sides();
}

static int teardown(void **state) {
  (void)state;
  for (int i = 0; i < N_CALLERS; i++)
    if (i != C_ADMIN && i != C_UNIT_ADMIN && i != C_UPDATER && i != C_READER) free(tok[i]);
  for (int s = 0; s < 2; s++) free(side[s].self);
  apidesc_free(ms, nm);
  cli_close(rep_ch);
  int rc = th_svc_stop(&rep_svc) | th_tr_stop(&tr) | th_world_stop(&w);
  unlink(package_key);
  return rc;
}

/* ------------------------------------------------------------ fixtures ------------------ */

static char *uniq(void) {
  static char b[32];
  snprintf(b, sizeof b, "%d%d", (int)getpid() % 1000, ++seq);
  return b;
}

static json_t *call_json(const char *method, const ProtobufCMessageDescriptor *in, const ProtobufCMessageDescriptor *out,
                         const char *json, const char *token, cli_status *st);

/* A unary call made by the fixtures, which must succeed; its reply as JSON. */
static json_t *must(const char *method, const ProtobufCMessageDescriptor *in, const ProtobufCMessageDescriptor *out,
                    const char *token, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static json_t *must(const char *method, const ProtobufCMessageDescriptor *in, const ProtobufCMessageDescriptor *out,
                    const char *token, const char *fmt, ...) {
  char json[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(json, sizeof json, fmt, ap);
  va_end(ap);
  cli_status st;
  json_t *r = call_json(method, in, out, json, token, &st);
  if (!r) fail_msg("fixture %s: %s %s", method, cli_status_name(st.code), st.message);
  return r;
}

static const char *str_at(json_t *j, const char *a, const char *b) {
  json_t *v = json_object_get(j, a);
  if (b) v = json_object_get(v, b);
  if (!json_is_string(v)) fail_msg("fixture reply lacks %s.%s", a, b ? b : "");
  return json_string_value(v);
}

/* A fresh record of side s (a draft, its updater's), its id in out. */
static void fresh_record(int s, char out[32]) {
  if (th_world_record(&w, side[s].updater, side[s].unit, "Người Ma Trận", out) != 0) fail_msg("fresh record");
}

static void fresh_submitted(int s, char out[32]) {
  fresh_record(s, out);
  json_decref(must(REC "SubmitRecord", &hoso__records__v1__submit_record_request__descriptor,
                   &hoso__records__v1__submit_record_response__descriptor, side[s].updater, "{\"record_id\":\"%s\"}", out));
}

/* A month of this century's first years that no snapshot has yet (YYYY-MM). */
static void fresh_month(char out[32]) {
  static int k;
  snprintf(out, 32, "%04d-%02d", 2000 + k / 12, 1 + k % 12);
  k++;
}

static void fresh_unit(int s, char out[32]) {
  if (th_world_unit(&w, side[s].unit, uniq(), "Phòng Ma Trận", HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DEPARTMENT, out,
                    NULL) != 0)
    fail_msg("fresh unit");
}

static void fresh_account(int s, char out[32]) {
  json_t *r = must(IDN "CreateAccount", &hoso__identity__v1__create_account_request__descriptor,
                   &hoso__identity__v1__create_account_response__descriptor, w.tok_admin,
                   "{\"username\":\"mx.tk.%s\",\"full_name\":\"Người Ma Trận\",\"unit_id\":\"%s\",\"roles\":[\"READER\"],"
                   "\"initial_password\":\"Mat-khau-tam-2026\"}",
                   uniq(), side[s].unit);
  snprintf(out, 32, "%s", str_at(r, "account", "id"));
  json_decref(r);
}

static void fresh_client(int s, char out[64]) {
  json_t *r = must(IDN "CreateServiceClient", &hoso__identity__v1__create_service_client_request__descriptor,
                   &hoso__identity__v1__create_service_client_response__descriptor, w.tok_admin,
                   "{\"name\":\"Hệ thống %s\",\"unit_ids\":[\"%s\"],\"approval_reference\":\"Văn bản %s\"}", uniq(),
                   side[s].unit, uniq());
  snprintf(out, 64, "%s", str_at(r, "client", "client_id"));
  json_decref(r);
}

/* The record of side s as its person would propose it (the phone changed), for a change request. */
static char *proposal(int s) {
  json_t *r = must(REC "GetRecord", &hoso__records__v1__get_record_request__descriptor,
                   &hoso__records__v1__get_record_response__descriptor, w.tok_admin, "{\"record_id\":\"%s\"}",
                   side[s].record);
  json_t *rec = json_object_get(r, "record");
  json_t *p = json_object_get(rec, "personal");
  if (!p) json_object_set_new(rec, "personal", p = json_object());
  json_object_set_new(p, "phone", json_sprintf("0204 %s", uniq()));
  char *text = json_dumps(rec, JSON_COMPACT);
  json_decref(r);
  return text;
}

static void fresh_change_request(int s, char out[32]) {
  char *prop = proposal(s);
  json_t *j = json_loads(prop, 0, NULL);
  json_t *r = must(REC "CreateChangeRequest", &hoso__records__v1__create_change_request_request__descriptor,
                   &hoso__records__v1__create_change_request_response__descriptor, side[s].self,
                   "{\"proposed\":%s,\"base_version\":\"%s\"}", prop, json_string_value(json_object_get(j, "version")));
  snprintf(out, 32, "%s", str_at(r, "change_request", "id"));
  json_decref(r);
  json_decref(j);
  free(prop);
}

static void fresh_transfer(int s, char out[32]) {
  char rec[32];
  fresh_record(s, rec);
  cli_status st;
  th_transfer *x = th_tr_begin(&tr, side[s].updater, rec, HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_BETWEEN_UNITS,
                               side[1 - s].unit, NULL, "2026-01-05", &st);
  if (!x) fail_msg("fresh transfer: %s %s", cli_status_name(st.code), st.message);
  snprintf(out, 32, "%s", x->id);
  th_tr_free(x);
}

/* A transfer sent from the other district to side s's unit and delivered to records (in
 * transit): what the receiving end's steps (ReceiveTransfer, RejectTransfer, ForwardTransfer)
 * take, so their rows prove the success path for the roles that may, not only refusals. */
static void fresh_incoming(int s, char out[32]) {
  char id[32];
  fresh_transfer(1 - s, id);
  cli_status st;
  th_transfer *x = th_tr_act(&tr, side[1 - s].updater, "SendTransfer", id, &st);
  if (!x) fail_msg("fresh incoming transfer: SendTransfer %s %s", cli_status_name(st.code), st.message);
  th_tr_free(x);
  if (th_tr_wait_delivered(&tr, id, 60000) != 0) fail_msg("fresh incoming transfer %s: not delivered in 60 s", id);
  snprintf(out, 32, "%s", id);
}

/* A pull of side s's record asked for by the other district (RequestTransfer: REQUESTED, its
 * answer due at side s): what ApproveRequest and RefuseRequest take. */
static void fresh_requested(int s, char out[32]) {
  char rec[32];
  fresh_record(s, rec);
  json_t *r = must(TR "RequestTransfer", &hoso__transfers__v1__request_transfer_request__descriptor,
                   &hoso__transfers__v1__request_transfer_response__descriptor, side[1 - s].updater,
                   "{\"record_id\":\"%s\",\"to_unit_id\":\"%s\",\"request_letter\":{\"file_name\":\"cv.pdf\","
                   "\"content\":\"JVBERi0xLjQKJSVFT0YK\"},\"request_id\":\"mx-%s\"}",
                   rec, side[1 - s].unit, uniq());
  snprintf(out, 32, "%s", str_at(r, "transfer", "id"));
  json_decref(r);
}

/* A transfer from the other district to side s's unit naming side s's child unit as the one
 * that will use the person, sent, received by side s and delivered (RECEIVED, its forward due
 * at side s): what ForwardTransfer takes. */
static void fresh_received(int s, char out[32]) {
  char rec[32];
  fresh_record(1 - s, rec);
  cli_status st;
  th_transfer *x = th_tr_begin(&tr, side[1 - s].updater, rec, HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_BETWEEN_UNITS,
                               side[s].unit, side[s].child, "2026-01-05", &st);
  if (!x) fail_msg("fresh received transfer: %s %s", cli_status_name(st.code), st.message);
  snprintf(out, 32, "%s", x->id);
  th_tr_free(x);
  if (!(x = th_tr_act(&tr, side[1 - s].updater, "SendTransfer", out, &st)))
    fail_msg("fresh received transfer: SendTransfer %s %s", cli_status_name(st.code), st.message);
  th_tr_free(x);
  if (th_tr_wait_delivered(&tr, out, 60000) != 0) fail_msg("fresh received transfer %s: not delivered in 60 s", out);
  if (!(x = th_tr_act(&tr, side[s].updater, "ReceiveTransfer", out, &st)))
    fail_msg("fresh received transfer: ReceiveTransfer %s %s", cli_status_name(st.code), st.message);
  th_tr_free(x);
  if (th_tr_wait_delivered(&tr, out, 60000) != 0) fail_msg("fresh received transfer %s: not received in 60 s", out);
}

/* An OUT_OF_SYSTEM transfer of side s, sent and delivered: what ExportTransferPackage takes. */
static void fresh_outgoing(int s, char out[32]) {
  char rec[32];
  fresh_record(s, rec);
  cli_status st;
  th_transfer *x = th_tr_begin(&tr, side[s].updater, rec, HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_OUT_OF_SYSTEM,
                               NULL, NULL, "2026-01-05", &st);
  if (!x) fail_msg("fresh outgoing transfer: %s %s", cli_status_name(st.code), st.message);
  snprintf(out, 32, "%s", x->id);
  th_tr_free(x);
  if (!(x = th_tr_act(&tr, side[s].updater, "SendTransfer", out, &st)))
    fail_msg("fresh outgoing transfer: SendTransfer %s %s", cli_status_name(st.code), st.message);
  th_tr_free(x);
  if (th_tr_wait_delivered(&tr, out, 60000) != 0) fail_msg("fresh outgoing transfer %s: not delivered in 60 s", out);
}

/* `"size":"N","chunk":"<base64>"`: a real package (a fresh outgoing transfer of side s, exported
 * with the test's key, which the deployment trusts as its own) for ImportTransferPackage's one
 * message. Malloc'd. */
static char *fresh_package(int s) {
  char id[32];
  fresh_outgoing(s, id);
  th_package p;
  cli_status st;
  if (th_tr_export(&tr, side[s].updater, id, &p, &st) != GRPC_STATUS_OK)
    fail_msg("fresh package: ExportTransferPackage %s %s", cli_status_name(st.code), st.message);
  size_t cap = p.len / 3 * 4 + 64;
  char *b = malloc(cap), *out = malloc(cap + 64);
  b64url_encode(p.bytes, p.len, b, cap);
  snprintf(out, cap + 64, "\"size\":\"%zu\",\"chunk\":\"%s\"", p.len, b);
  free(b);
  th_package_free(&p);
  return out;
}

static char *who_am_i(const char *token, char id[32]) {
  json_t *r = must(IDN "WhoAmI", &hoso__identity__v1__who_am_irequest__descriptor,
                   &hoso__identity__v1__who_am_iresponse__descriptor, token, "{}");
  snprintf(id, 32, "%s", str_at(r, "account", "id"));
  json_decref(r);
  return id;
}

/* An access token of account `id` (READER of district 1) that expired an hour ago, signed with
 * identity's own key (opened with the cluster's key encryption key, as only a test may). */
static char *expired_token(const char *id, const char *username) {
  PGconn *db = PQconnectdb(w.pg.admin_dsn);
  PGresult *r = PQexec(db, "SELECT kid, private_sealed FROM identity.signing_keys WHERE retired_at IS NULL");
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) fail_msg("signing key: %s", PQerrorMessage(db));
  char hex[80] = "";
  FILE *f = fopen(w.pg.kek, "r");
  if (!f || !fgets(hex, sizeof hex, f)) fail_msg("kek");
  fclose(f);
  unsigned char key[32];
  for (int i = 0; i < 32; i++) sscanf(hex + 2 * i, "%2hhx", &key[i]);
  char *pem = seal_open_with(key, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
  if (!pem) fail_msg("the signing key does not open");
  tok_claims c;
  memset(&c, 0, sizeof c);
  snprintf(c.sub, sizeof c.sub, "%s", id);
  snprintf(c.username, sizeof c.username, "%s", username);
  snprintf(c.unit_id, sizeof c.unit_id, "%s", w.d1_id);
  snprintf(c.unit_path, sizeof c.unit_path, "%s", w.d1_path);
  snprintf(c.scope, sizeof c.scope, "%s", w.d1_path);
  snprintf(c.typ, sizeof c.typ, "%s", TOK_TYP_ACCESS);
  c.roles = ROLE_READER;
  tok_signer k;
  snprintf(k.kid, sizeof k.kid, "%s", PQgetvalue(r, 0, 0));
  k.private_pem = pem;
  char *jwt = NULL;
  if (tok_sign(&k, &c, (long long)time(NULL) - 3600, 300, &jwt) != 0) fail_msg("signing");
  seal_wipe_free(pem);
  PQclear(r);
  PQfinish(db);
  return jwt;
}

static int setup_sides(void) {
  side[0].unit = w.d1_id;
  side[0].updater = w.tok_d1_updater;
  side[0].head = w.tok_d1_admin;
  side[1].unit = w.d2_id;
  side[1].updater = w.tok_d2_updater;
  side[1].head = w.tok_d2_admin;
  snprintf(side[0].child, 32, "%s", w.d1u_id);
  if (th_world_unit(&w, w.d2_id, "YT-MX", "Phòng Ma Trận Yên Thế", HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DEPARTMENT,
                    side[1].child, NULL) != 0)
    return -1;
  who_am_i(w.tok_d1_reader, side[0].account);
  who_am_i(w.tok_d2_reader, side[1].account);
  static const char pdf[] = "JVBERi0xLjQKJSVFT0YK"; /* "%PDF-1.4\n%%EOF\n" */
  for (int s = 0; s < 2; s++) {
    if (th_world_record(&w, side[s].updater, side[s].unit, s ? "Trần Thị Ngoài" : "Nguyễn Văn Trong", side[s].record))
      return -1;
    if (!(side[s].self = th_world_self_token(&w, side[s].unit, side[s].record))) return -1;
    Hoso__Records__V1__UploadAttachmentRequest up = HOSO__RECORDS__V1__UPLOAD_ATTACHMENT_REQUEST__INIT;
    (void)up;
    char body[256];
    snprintf(body, sizeof body, "{\"record_id\":\"%s\",\"file_name\":\"qd.pdf\",\"chunk\":\"%s\"}", side[s].record, pdf);
    cli_status st;
    json_t *r = call_json(REC "UploadAttachment", &hoso__records__v1__upload_attachment_request__descriptor,
                          &hoso__records__v1__upload_attachment_response__descriptor, body, side[s].updater, &st);
    if (!r) {
      fprintf(stderr, "upload: %s %s\n", cli_status_name(st.code), st.message);
      return -1;
    }
    snprintf(side[s].attachment, 32, "%s", str_at(r, "attachment", "id"));
    json_decref(r);
  }
  tok[C_ADMIN] = w.tok_admin;
  tok[C_UNIT_ADMIN] = w.tok_d1_admin;
  tok[C_UPDATER] = w.tok_d1_updater;
  tok[C_READER] = w.tok_d1_reader;
  tok[C_SELF] = strdup(side[0].self);
  /* an external system granted district 1 */
  json_t *c = must(IDN "CreateServiceClient", &hoso__identity__v1__create_service_client_request__descriptor,
                   &hoso__identity__v1__create_service_client_response__descriptor, w.tok_admin,
                   "{\"name\":\"Hệ thống ngoài\",\"unit_ids\":[\"%s\"],\"approval_reference\":\"Văn bản 01\"}", w.d1_id);
  json_t *l = must(IDN "ServiceLogin", &hoso__identity__v1__service_login_request__descriptor,
                   &hoso__identity__v1__service_login_response__descriptor, NULL,
                   "{\"client_id\":\"%s\",\"client_secret\":\"%s\"}", str_at(c, "client", "client_id"),
                   str_at(c, "client_secret", NULL));
  snprintf(service_client, sizeof service_client, "%s", str_at(c, "client", "client_id"));
  tok[C_SERVICE] = strdup(str_at(l, "access_token", NULL));
  json_decref(c);
  json_decref(l);
  tok[C_NONE] = NULL;
  char id[32];
  tok[C_EXPIRED] = expired_token(who_am_i(w.tok_d1_reader, id), "ln.xem");
  /* a READER of district 1 logged in, then disabled: its token is void everywhere */
  tok[C_DISABLED] = th_world_account_token(&w, "ln.vohieu", w.d1_id, R(READER));
  who_am_i(tok[C_DISABLED], id);
  json_decref(must(IDN "DisableAccount", &hoso__identity__v1__disable_account_request__descriptor,
                   &hoso__identity__v1__disable_account_response__descriptor, w.tok_admin,
                   "{\"account_id\":\"%s\",\"reason\":\"nghỉ việc\"}", id));
  /* bounded wait until each service has read the revocation (they poll every 200 ms; identity
   * every 2 s) */
  const char *probe[4][2] = {{IDN "WhoAmI", "{}"},
                             {REC "ListCatalog", "{\"catalog\":\"ETHNICITY\"}"},
                             {TR "GetPolicy", "{}"},
                             {REP "ListReportTemplates", "{}"}};
  const ProtobufCMessageDescriptor *pd[4][2] = {
      {&hoso__identity__v1__who_am_irequest__descriptor, &hoso__identity__v1__who_am_iresponse__descriptor},
      {&hoso__records__v1__list_catalog_request__descriptor, &hoso__records__v1__list_catalog_response__descriptor},
      {&hoso__transfers__v1__get_policy_request__descriptor, &hoso__transfers__v1__get_policy_response__descriptor},
      {&hoso__reporting__v1__list_report_templates_request__descriptor,
       &hoso__reporting__v1__list_report_templates_response__descriptor}};
  for (int i = 0; i < 4; i++) {
    cli_status st;
    int ok = 0;
    for (int t = 0; t < 300 && !ok; t++) {
      json_t *r = call_json(probe[i][0], pd[i][0], pd[i][1], probe[i][1], tok[C_DISABLED], &st);
      json_decref(r);
      ok = !r && st.code == GRPC_STATUS_UNAUTHENTICATED;
      if (!ok) usleep(50 * 1000);
    }
    if (!ok) fail_msg("%s still takes the disabled account's token after 15 s", probe[i][0]);
  }
  return 0;
}

/* ------------------------------------------------------------ calls --------------------- */

static cli_chan *channel_of(const char *method) {
  if (strncmp(method, IDN, strlen(IDN)) == 0) return via ? via[MTLS_IDENTITY] : w.id_ch;
  if (strncmp(method, REC, strlen(REC)) == 0) return via ? via[MTLS_RECORDS] : w.rec_ch;
  if (strncmp(method, TR, strlen(TR)) == 0) return via ? via[MTLS_TRANSFERS] : tr.ch;
  if (strncmp(method, REP, strlen(REP)) == 0) return via ? via[MTLS_REPORTING] : rep_ch;
  return NULL;
}

/* One call of `method` with the request as JSON (proto field names); the reply as JSON on OK,
 * else NULL with the status in st. Streaming methods send one message / read the first. */
static json_t *call_json(const char *method, const ProtobufCMessageDescriptor *in, const ProtobufCMessageDescriptor *out,
                         const char *json, const char *token, cli_status *st) {
  memset(st, 0, sizeof *st);
  char err[256];
  ProtobufCMessage *req = pbjson_decode(in, json, strlen(json), 0, NULL, err, sizeof err);
  if (!req) fail_msg("%s: the request in the table is not a %s: %s (%s)", method, in->name, err, json);
  cli_chan *ch = channel_of(method);
  if (!ch) fail_msg("%s: no service of this test serves it", method);
  char bearer[4096];
  cli_md md[1];
  size_t n = 0;
  if (token) {
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    md[n++] = (cli_md){"authorization", bearer};
  }
  ProtobufCMessage *resp = NULL;
  grpc_status_code c;
  int client_stream = 0, server_stream = 0;
  for (size_t i = 0; i < nm; i++)
    if (!strcmp(ms[i].path, method)) {
      client_stream = ms[i].client_streaming;
      server_stream = ms[i].server_streaming;
    }
  if (client_stream || server_stream) {
    cli_stream *s = cli_stream_open(ch, method, md, n, 15000);
    if (!s) fail_msg("%s: cannot open the stream", method);
    cli_stream_send(s, req);
    cli_stream_close_send(s);
    int got = cli_stream_recv(s, out, &resp);
    if (got == 1 && server_stream) cli_stream_cancel(s);
    c = cli_stream_finish(s, st);
    if (got == 1 && server_stream) c = GRPC_STATUS_OK;
    st->code = c;
  } else {
    c = cli_call(ch, method, req, out, &resp, md, n, 15000, st);
  }
  protobuf_c_message_free_unpacked(req, NULL);
  if (c != GRPC_STATUS_OK) {
    if (resp) protobuf_c_message_free_unpacked(resp, NULL);
    return NULL;
  }
  json_t *j = resp ? pbjson_to_json(resp, PBJSON_ORIG_NAMES) : json_object();
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  return j;
}

static const char *short_code(grpc_status_code c) {
  switch (c) {
  case GRPC_STATUS_OK: return "OK";
  case GRPC_STATUS_PERMISSION_DENIED: return "PD";
  case GRPC_STATUS_UNAUTHENTICATED: return "UA";
  case GRPC_STATUS_NOT_FOUND: return "NF";
  case GRPC_STATUS_INVALID_ARGUMENT: return "IA";
  case GRPC_STATUS_FAILED_PRECONDITION: return "FP";
  case GRPC_STATUS_ALREADY_EXISTS: return "AE";
  case GRPC_STATUS_ABORTED: return "AB";
  case GRPC_STATUS_RESOURCE_EXHAUSTED: return "RE";
  case GRPC_STATUS_UNIMPLEMENTED: return "UN";
  default: return cli_status_name(c);
  }
}

/* The template with its ${...} filled for side s: fresh objects are made for each call, so no
 * call sees what an earlier caller did; for a caller refused before any handler runs (cheap:
 * no token, an expired or void one) the shared ones do. */
static char *fill(const char *tmpl, int s, int cheap) {
  size_t cap = strlen(tmpl) + 8192, o = 0;
  char *out = malloc(cap);
  for (const char *p = tmpl; *p;) {
    if (p[0] != '$' || p[1] != '{') {
      out[o++] = *p++;
      continue;
    }
    const char *e = strchr(p, '}');
    char name[64], v[64] = "";
    snprintf(name, sizeof name, "%.*s", (int)(e - p - 2), p + 2);
    char *big = NULL;
    if (!strcmp(name, "unit")) snprintf(v, sizeof v, "%s", side[s].unit);
    else if (!strcmp(name, "unit_child")) snprintf(v, sizeof v, "%s", side[s].child);
    else if (!strcmp(name, "other_unit")) snprintf(v, sizeof v, "%s", side[1 - s].unit);
    else if (!strcmp(name, "record")) snprintf(v, sizeof v, "%s", side[s].record);
    else if (!strcmp(name, "account")) snprintf(v, sizeof v, "%s", side[s].account);
    else if (!strcmp(name, "attachment")) snprintf(v, sizeof v, "%s", side[s].attachment);
    else if (!strcmp(name, "uniq")) snprintf(v, sizeof v, "%s", uniq());
    else if (cheap && !strncmp(name, "fresh_", 6))
      snprintf(v, sizeof v, "%s",
               !strcmp(name, "fresh_account") ? side[s].account
               : !strcmp(name, "fresh_unit") ? side[s].child
               : !strcmp(name, "fresh_record") || !strcmp(name, "fresh_submitted") ? side[s].record
               : !strcmp(name, "fresh_month")                                       ? "2000-01"
                                                                                    : "1");
    else if (!strcmp(name, "fresh_month")) fresh_month(v);
    else if (!strcmp(name, "fresh_record")) fresh_record(s, v);
    else if (!strcmp(name, "fresh_submitted")) fresh_submitted(s, v);
    else if (!strcmp(name, "fresh_unit")) fresh_unit(s, v);
    else if (!strcmp(name, "fresh_account")) fresh_account(s, v);
    else if (!strcmp(name, "fresh_client")) fresh_client(s, v);
    else if (!strcmp(name, "fresh_change_request")) fresh_change_request(s, v);
    else if (!strcmp(name, "fresh_transfer")) fresh_transfer(s, v);
    else if (!strcmp(name, "fresh_incoming")) fresh_incoming(s, v);
    else if (!strcmp(name, "fresh_outgoing")) fresh_outgoing(s, v);
    else if (!strcmp(name, "fresh_requested")) fresh_requested(s, v);
    else if (!strcmp(name, "fresh_received")) fresh_received(s, v);
    else if (!strcmp(name, "proposal")) big = proposal(s);
    else if (!strcmp(name, "package")) big = cheap ? strdup("\"size\":\"4\",\"chunk\":\"UEsDBA==\"") : fresh_package(s);
    else fail_msg("unknown placeholder ${%s} in tests/authz/matrix.tsv", name);
    const char *val = big ? big : v;
    size_t vl = strlen(val);
    if (o + vl + strlen(e) + 1 >= cap) out = realloc(out, cap = o + vl + strlen(e) + 8192);
    memcpy(out + o, val, vl);
    o += vl;
    free(big);
    p = e + 1;
  }
  out[o] = 0;
  return out;
}

/* ------------------------------------------------------------ the table ----------------- */

typedef struct {
  char *method, *tmpl, *expect;
  int seen;
} row;

static row *rows;
static size_t n_rows;

static void load_table(void) {
  const char *path = HOSO_SOURCE_DIR "/tests/authz/matrix.tsv";
  FILE *f = fopen(path, "r");
  if (!f) fail_msg("%s: cannot read", path);
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    line[strcspn(line, "\n")] = 0;
    if (!line[0] || line[0] == '#') continue;
    char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    if (!t2) fail_msg("%s: a line without three tab-separated parts: %s", path, line);
    *t1 = *t2 = 0;
    rows = realloc(rows, (n_rows + 1) * sizeof *rows);
    rows[n_rows++] = (row){strdup(line), strdup(t1 + 1), strdup(t2 + 1), 0};
  }
  free(line);
  fclose(f);
}

static row *find_row(const char *method) {
  for (size_t i = 0; i < n_rows; i++)
    if (!strcmp(rows[i].method, method)) return &rows[i];
  return NULL;
}

/* "/hoso.identity.v1.Identity/CreateUnit" → "identity.CreateUnit". */
static void key_of(const char *path, char *out, size_t n) {
  const char *pkg = path + strlen("/hoso."), *dot = strchr(pkg, '.'), *m = strrchr(path, '/') + 1;
  snprintf(out, n, "%.*s.%s", (int)(dot - pkg), pkg, m);
}

static const ProtobufCServiceDescriptor *const services[] = {
    &hoso__identity__v1__identity__descriptor, &hoso__records__v1__records__descriptor,
    &hoso__transfers__v1__transfers__descriptor, &hoso__reporting__v1__reporting__descriptor};

static const ProtobufCMethodDescriptor *method_of(const char *path) {
  for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
    size_t n = strlen(services[i]->name);
    if (strncmp(path + 1, services[i]->name, n) != 0 || path[1 + n] != '/') continue;
    return protobuf_c_service_descriptor_get_method_by_name(services[i], path + 2 + n);
  }
  return NULL;
}

static void test_every_rpc_as_every_caller(void **state) {
  (void)state;
  load_table();
  const char *out_path = getenv("HOSO_AUTHZ_WRITE");
  FILE *out = out_path ? fopen(out_path, "w") : NULL;
  int missing = 0, differ = 0, bad_ok = 0;
  size_t calls = 0;
  for (size_t i = 0; i < nm; i++) {
    char key[160];
    key_of(ms[i].path, key, sizeof key);
    if (!strcmp(key, "health.Check")) continue;
    const ProtobufCMethodDescriptor *md = method_of(ms[i].path);
    if (!md) {
      fprintf(stderr, "not ok - %s: its service is not in this test: add its protobuf-c descriptor and start it\n",
              ms[i].path);
      missing++;
      continue;
    }
    row *r = find_row(key);
    const char *tmpl = r ? r->tmpl : "{}";
    if (!r) {
      fprintf(stderr, "not ok - %s has no row in tests/authz/matrix.tsv\n", key);
      missing++;
      if (!out) continue;
    } else {
      r->seen = 1;
    }
    char got[256] = "";
    for (int c = 0; c < N_CALLERS; c++) {
      for (int s = 0; s < (c < N_ROLES ? 2 : 1); s++) {
        char *req = fill(tmpl, s, c >= N_ROLES);
        cli_status st;
        json_t *j = call_json(ms[i].path, md->input, md->output, req, tok[c], &st);
        json_decref(j);
        calls++;
        free(req);
        size_t o = strlen(got);
        snprintf(got + o, sizeof got - o, "%s%s", s ? "/" : o ? " " : "", short_code(j ? GRPC_STATUS_OK : st.code));
        if (!j && st.code != GRPC_STATUS_PERMISSION_DENIED && st.code != GRPC_STATUS_UNAUTHENTICATED &&
            getenv("HOSO_AUTHZ_VERBOSE"))
          fprintf(stderr, "# %s as %s (%s): %s %s\n", key, caller_names[c], s ? "out" : "in", cli_status_name(st.code),
                  st.message);
      }
    }
    if (out) fprintf(out, "%s\t%s\t%s\n", key, tmpl, got);
    if (r && strcmp(got, r->expect) != 0) {
      differ++;
      fprintf(stderr, "not ok - %s\n    expected %s\n    got      %s\n", key, r->expect, got);
      /* an OK where the table has none: the hole this test is for */
      char e[256], g[256];
      snprintf(e, sizeof e, "%s", r->expect);
      snprintf(g, sizeof g, "%s", got);
      char *se, *sg, *a = strtok_r(e, " /", &se), *b = strtok_r(g, " /", &sg);
      for (int k = 0; a && b; k++, a = strtok_r(NULL, " /", &se), b = strtok_r(NULL, " /", &sg))
        if (!strcmp(b, "OK") && strcmp(a, "OK") != 0) {
          fprintf(stderr, "    UNEXPECTED OK (cell %d)\n", k + 1);
          bad_ok++;
        }
    }
  }
  for (size_t i = 0; i < n_rows; i++)
    if (!rows[i].seen) {
      fprintf(stderr, "not ok - tests/authz/matrix.tsv has a row for %s, which no service has\n", rows[i].method);
      missing++;
    }
  if (out) fclose(out);
  fprintf(stderr, "# %zu methods, %zu calls; %d without a row, %d differing, %d unexpected OK\n", nm, calls, missing,
          differ, bad_ok);
  assert_int_equal(bad_ok, 0);
  assert_int_equal(missing, 0);
  assert_int_equal(differ, 0);
}

/* The SERVICE caller again, every method, against the set of services run as production runs
 * them for service accounts (HOSO_SERVICE_MTLS=require, authz_mtls.c): over a connection with the
 * client certificate naming its client it must get what the table's SERVICE cells say, in and
 * out; with no client certificate, or with one naming somebody else (the gateway's), its token
 * counts for nothing, so it gets what a call without a token gets (the table's "none" cell). */
static void test_service_tokens_over_mtls(void **state) {
  (void)state;
  if (!n_rows) load_table();
  /* two workers each: the calls come one at a time, and eight services share the cluster's
   * connections */
  const char *env[] = {"HOSO_REVOCATION_POLL_MS=200", "HOSO_WORKERS=2", package_key_env, NULL};
  assert_int_equal(authz_mtls_start(&mtls, &w, service_client, env), 0);
  const struct {
    cli_chan **ch;
    const char *name;
  } ways[] = {{mtls.own, "its own certificate"}, {mtls.none, "no certificate"}, {mtls.other, "the gateway's"}};
  int differ = 0, bad_ok = 0;
  size_t calls = 0;
  for (size_t i = 0; i < nm; i++) {
    char key[160];
    key_of(ms[i].path, key, sizeof key);
    const ProtobufCMethodDescriptor *md = method_of(ms[i].path);
    row *r = find_row(key);
    if (!strcmp(key, "health.Check") || !md || !r) continue; /* the first test names these */
    char cells[N_CALLERS * 2][8], e[256], *sv, *c;
    int n = 0;
    snprintf(e, sizeof e, "%s", r->expect);
    for (c = strtok_r(e, " /", &sv); c && n < N_CALLERS * 2; c = strtok_r(NULL, " /", &sv))
      snprintf(cells[n++], sizeof cells[0], "%s", c);
    if (n != 2 * N_ROLES + N_CALLERS - N_ROLES) fail_msg("%s: the row has %d cells", key, n);
    /* Login, Refresh and ServiceLogin carry credentials, not a token: no certificate decides
     * them, and more wrong logins from this address would only be throttled (RE) */
    int credentials = !strcmp(key, "identity.Login") || !strcmp(key, "identity.Refresh") ||
                      !strcmp(key, "identity.ServiceLogin");
    for (size_t k = 0; k < (credentials ? 1 : sizeof ways / sizeof ways[0]); k++)
      for (int s = 0; s < 2; s++) {
        const char *want = k == 0 ? cells[2 * C_SERVICE + s] : cells[2 * N_ROLES];
        char *req = fill(r->tmpl, s, k != 0);
        cli_status st;
        via = ways[k].ch;
        json_t *j = call_json(ms[i].path, md->input, md->output, req, tok[C_SERVICE], &st);
        via = NULL;
        free(req);
        calls++;
        const char *got = short_code(j ? GRPC_STATUS_OK : st.code);
        int ok = j != NULL;
        json_decref(j);
        if (strcmp(got, want) == 0) continue;
        differ++;
        fprintf(stderr, "not ok - %s as SERVICE over mutual TLS with %s (%s): expected %s, got %s%s%s\n", key,
                ways[k].name, s ? "out" : "in", want, got, ok ? "" : ": ", ok ? "" : st.message);
        if (!strcmp(got, "OK")) {
          fprintf(stderr, "    UNEXPECTED OK\n");
          bad_ok++;
        }
      }
  }
  fprintf(stderr, "# over mutual TLS: %zu calls as SERVICE; %d differing, %d unexpected OK\n", calls, differ, bad_ok);
  assert_int_equal(authz_mtls_stop(&mtls), 0);
  assert_int_equal(bad_ok, 0);
  assert_int_equal(differ, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_rpc_as_every_caller),
                                     cmocka_unit_test(test_service_tokens_over_mtls)};
  return cmocka_run_group_tests(tests, setup, teardown);
}
