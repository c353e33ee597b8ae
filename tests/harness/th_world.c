/* The test world of th_world.h: services started through th.h, the unit tree and accounts
 * made through identity's own RPCs, exactly as an administrator would. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "th_world.h"

#include "cfg.h"

#define IDN "/hoso.identity.v1.Identity/"
#define TEMP_PW "Mat-khau-tam-thoi-2026"
#define FINAL_PW TH_WORLD_PASSWORD

grpc_status_code th_call(cli_chan *ch, const char *method, const void *req,
                         const ProtobufCMessageDescriptor *resp_desc, void **resp,
                         const char *token, cli_status *st) {
  return th_call_from(ch, NULL, method, req, resp_desc, resp, token, st);
}

static grpc_status_code call(cli_chan *ch, const char *addr, const char *method, const void *req,
                             const ProtobufCMessageDescriptor *resp_desc, void **resp, const char *token,
                             int timeout_ms, cli_status *st);

grpc_status_code th_call_from(cli_chan *ch, const char *addr, const char *method, const void *req,
                              const ProtobufCMessageDescriptor *resp_desc, void **resp, const char *token,
                              cli_status *st) {
  return call(ch, addr, method, req, resp_desc, resp, token, 15000, st);
}

grpc_status_code th_call_ms(cli_chan *ch, const char *method, const void *req,
                            const ProtobufCMessageDescriptor *resp_desc, void **resp, const char *token,
                            int timeout_ms, cli_status *st) {
  return call(ch, NULL, method, req, resp_desc, resp, token, timeout_ms, st);
}

static grpc_status_code call(cli_chan *ch, const char *addr, const char *method, const void *req,
                             const ProtobufCMessageDescriptor *resp_desc, void **resp, const char *token,
                             int timeout_ms, cli_status *st) {
  cli_status local;
  if (!st) st = &local;
  ProtobufCMessage *out = NULL;
  char bearer[4096];
  cli_md md[2];
  size_t n = 0;
  if (token) {
    snprintf(bearer, sizeof bearer, "Bearer %s", token);
    md[n++] = (cli_md){"authorization", bearer};
  }
  if (addr) md[n++] = (cli_md){"x-forwarded-for", addr};
  grpc_status_code c = cli_call(ch, method, req, resp_desc, &out, md, n, timeout_ms, st);
  if (resp) *resp = out;
  else if (out) protobuf_c_message_free_unpacked(out, NULL);
  return c;
}

static int create_unit(th_world *w, const char *parent, const char *code, const char *name, int type,
                       char *id_out, char *path_out) {
  Hoso__Identity__V1__CreateUnitRequest req = HOSO__IDENTITY__V1__CREATE_UNIT_REQUEST__INIT;
  req.parent_id = (char *)parent;
  req.code = (char *)code;
  req.name = (char *)name;
  req.type = type;
  req.staffing_quota = 50;
  Hoso__Identity__V1__CreateUnitResponse *r = NULL;
  cli_status st;
  grpc_status_code c = th_call(w->id_ch, IDN "CreateUnit", &req, &hoso__identity__v1__create_unit_response__descriptor,
                               (void **)&r, w->tok_admin, &st);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "th_world: CreateUnit %s: %s %s\n", code, cli_status_name(c), st.message);
    return -1;
  }
  snprintf(id_out, 32, "%s", r->unit->id);
  snprintf(path_out, 64, "%s", r->unit->path);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return 0;
}

int th_world_unit(th_world *w, const char *parent, const char *code, const char *name, int type, char id[32],
                  char path[64]) {
  char p[64];
  return create_unit(w, parent, code, name, type, id, path ? path : p);
}

int th_world_record(th_world *w, const char *token, const char *unit, const char *name, char id[32]) {
  Hoso__Records__V1__Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  r.managing_unit_id = (char *)unit;
  r.full_name = (char *)name;
  r.birth_date = "1984-05-19";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
  r.employment = &e;
  req.record = &r;
  Hoso__Records__V1__CreateRecordResponse *out = NULL;
  cli_status st;
  grpc_status_code c = th_call(w->rec_ch, "/hoso.records.v1.Records/CreateRecord", &req,
                               &hoso__records__v1__create_record_response__descriptor, (void **)&out, token, &st);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "th_world: CreateRecord %s: %s %s\n", name, cli_status_name(c), st.message);
    return -1;
  }
  snprintf(id, 32, "%s", out->record->id);
  protobuf_c_message_free_unpacked(&out->base, NULL);
  return 0;
}

/* Creates the account, logs in with the temporary password, changes it, returns the token. */
char *th_world_account(th_world *w, const char *username, const char *unit_id, const int *role_list, size_t n_roles,
                       const char *record_id) {
  Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
  Hoso__Common__V1__Role roles[8];
  for (size_t i = 0; i < n_roles && i < 8; i++) roles[i] = (Hoso__Common__V1__Role)role_list[i];
  req.username = (char *)username;
  req.full_name = "Người Dùng Thử";
  req.unit_id = (char *)unit_id;
  req.roles = roles;
  req.n_roles = n_roles < 8 ? n_roles : 8;
  req.initial_password = TEMP_PW;
  req.person_record_id = (char *)(record_id ? record_id : "");
  cli_status st;
  grpc_status_code c = th_call(w->id_ch, IDN "CreateAccount", &req,
                               &hoso__identity__v1__create_account_response__descriptor, NULL, w->tok_admin, &st);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "th_world: CreateAccount %s: %s %s\n", username, cli_status_name(c), st.message);
    return NULL;
  }
  char *tmp = th_login(w->id_ch, username, TEMP_PW);
  if (!tmp) return NULL;
  Hoso__Identity__V1__ChangePasswordRequest cp = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  cp.old_password = TEMP_PW;
  cp.new_password = FINAL_PW;
  Hoso__Identity__V1__ChangePasswordResponse *r = NULL;
  c = th_call(w->id_ch, IDN "ChangePassword", &cp, &hoso__identity__v1__change_password_response__descriptor,
              (void **)&r, tmp, &st);
  free(tmp);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "th_world: ChangePassword %s: %s %s\n", username, cli_status_name(c), st.message);
    return NULL;
  }
  char *tok = strdup(r->access_token);
  protobuf_c_message_free_unpacked(&r->base, NULL);
  return tok;
}

static char *make_account(th_world *w, const char *username, const char *unit_id, int role, const char *record_id) {
  return th_world_account(w, username, unit_id, &role, 1, record_id);
}

char *th_world_account_token(th_world *w, const char *username, const char *unit_id, int role) {
  return make_account(w, username, unit_id, role, NULL);
}

char *th_world_self_token(th_world *w, const char *unit_id, const char *record_id) {
  char name[64];
  snprintf(name, sizeof name, "self.%s", record_id);
  return make_account(w, name, unit_id, HOSO__COMMON__V1__ROLE__SELF, record_id);
}

/* A service client granted the root (as ./hoso up makes them), its id and secret kept, and
 * optionally a token of it. */
static int make_service_client(th_world *w, const char *name, char *id_out, size_t id_len, char *secret_out,
                               size_t secret_len, char **tok_out) {
  Hoso__Identity__V1__CreateServiceClientRequest req = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  char *units[1] = {w->root_id};
  req.name = (char *)name;
  req.unit_ids = units;
  req.n_unit_ids = 1;
  req.approval_reference = "Văn bản chấp thuận số 01/SNV-TEST";
  Hoso__Identity__V1__CreateServiceClientResponse *r = NULL;
  cli_status st;
  grpc_status_code c = th_call(w->id_ch, IDN "CreateServiceClient", &req,
                               &hoso__identity__v1__create_service_client_response__descriptor, (void **)&r,
                               w->tok_admin, &st);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "th_world: CreateServiceClient: %s %s\n", cli_status_name(c), st.message);
    return -1;
  }
  snprintf(id_out, id_len, "%s", r->client->client_id);
  if (secret_out) snprintf(secret_out, secret_len, "%s", r->client_secret);
  Hoso__Identity__V1__ServiceLoginRequest sl = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  sl.client_id = r->client->client_id;
  sl.client_secret = r->client_secret;
  Hoso__Identity__V1__ServiceLoginResponse *lr = NULL;
  c = tok_out ? th_call(w->id_ch, IDN "ServiceLogin", &sl, &hoso__identity__v1__service_login_response__descriptor,
                        (void **)&lr, NULL, &st)
              : GRPC_STATUS_OK;
  protobuf_c_message_free_unpacked(&r->base, NULL);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "th_world: ServiceLogin: %s %s\n", cli_status_name(c), st.message);
    return -1;
  }
  if (tok_out) {
    *tok_out = strdup(lr->access_token);
    protobuf_c_message_free_unpacked(&lr->base, NULL);
  }
  return 0;
}

static int build(th_world *w) {
  w->tok_admin = th_login(w->id_ch, "admin", TH_ADMIN_PASSWORD);
  if (!w->tok_admin) return -1;
  Hoso__Identity__V1__WhoAmIRequest who = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *me = NULL;
  if (th_call(w->id_ch, IDN "WhoAmI", &who, &hoso__identity__v1__who_am_iresponse__descriptor, (void **)&me,
              w->tok_admin, NULL) != GRPC_STATUS_OK)
    return -1;
  snprintf(w->root_id, sizeof w->root_id, "%s", me->account->unit_id);
  snprintf(w->root_path, sizeof w->root_path, "%s", me->account->unit_path);
  protobuf_c_message_free_unpacked(&me->base, NULL);
  if (create_unit(w, w->root_id, "LN", "UBND huyện Lục Nam", HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT, w->d1_id,
                  w->d1_path) ||
      create_unit(w, w->d1_id, "LN-THCS-DN", "Trường THCS Thị trấn Đồi Ngô",
                  HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_PUBLIC_SERVICE, w->d1u_id, w->d1u_path) ||
      create_unit(w, w->root_id, "YT", "UBND huyện Yên Thế", HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT, w->d2_id,
                  w->d2_path))
    return -1;
  struct {
    char **tok;
    const char *user, *unit;
    int role;
  } acc[] = {
      {&w->tok_d1_admin, "ln.thutruong", w->d1_id, HOSO__COMMON__V1__ROLE__UNIT_ADMIN},
      {&w->tok_d1_updater, "ln.capnhat", w->d1_id, HOSO__COMMON__V1__ROLE__UPDATER},
      {&w->tok_d1_reader, "ln.xem", w->d1_id, HOSO__COMMON__V1__ROLE__READER},
      {&w->tok_d1u_updater, "ln.thcs.capnhat", w->d1u_id, HOSO__COMMON__V1__ROLE__UPDATER},
      {&w->tok_d2_admin, "yt.thutruong", w->d2_id, HOSO__COMMON__V1__ROLE__UNIT_ADMIN},
      {&w->tok_d2_updater, "yt.capnhat", w->d2_id, HOSO__COMMON__V1__ROLE__UPDATER},
      {&w->tok_d2_reader, "yt.xem", w->d2_id, HOSO__COMMON__V1__ROLE__READER},
  };
  for (size_t i = 0; i < sizeof acc / sizeof acc[0]; i++)
    if (!(*acc[i].tok = make_account(w, acc[i].user, acc[i].unit, acc[i].role, NULL))) return -1;
  if (make_service_client(w, "Dịch vụ điều chuyển (transfers)", w->transfers_client_id, sizeof w->transfers_client_id,
                          w->transfers_client_secret, sizeof w->transfers_client_secret, &w->tok_transfers) != 0)
    return -1;
  /* The records service follows unit moves and merges as this client (common/unit_tree_follow.c). */
  return make_service_client(w, "Dịch vụ hồ sơ (records)", w->records_client_id, sizeof w->records_client_id,
                             w->records_client_secret, sizeof w->records_client_secret, NULL);
}

static int service_start(th_world *w, const char *name, th_svc *s, const char *const *extra_env, int again,
                         int *held_fd, int port);

int th_world_service_start(th_world *w, const char *name, th_svc *s, const char *const *extra_env) {
  return service_start(w, name, s, extra_env, 0, NULL, 0);
}

int th_world_service_start_held(th_world *w, const char *name, th_svc *s, const char *const *extra_env, int *held_fd,
                                int port) {
  return service_start(w, name, s, extra_env, 0, held_fd, port);
}

int th_world_service_restart(th_world *w, const char *name, th_svc *s, const char *const *extra_env) {
  return service_start(w, name, s, extra_env, 1, NULL, 0);
}

static int service_start(th_world *w, const char *name, th_svc *s, const char *const *extra_env, int again,
                         int *held_fd, int port) {
  const cfg_service *svc = cfg_service_find(name);
  if (!svc) {
    fprintf(stderr, "th_world_service_start: %s is not in common/services.tsv\n", name);
    return -1;
  }
  char bin[64], id_addr[128], rec_addr[128], tr_id[128], tr_secret[160], rec_id[128], rec_secret[160];
  snprintf(bin, sizeof bin, "hoso-%s", name);
  snprintf(id_addr, sizeof id_addr, "HOSO_IDENTITY_ADDR=%s", w->identity.addr);
  snprintf(rec_addr, sizeof rec_addr, "HOSO_RECORDS_ADDR=%s", w->records.addr);
  snprintf(tr_id, sizeof tr_id, "HOSO_TRANSFERS_CLIENT_ID=%s", w->transfers_client_id);
  snprintf(rec_id, sizeof rec_id, "HOSO_RECORDS_CLIENT_ID=%s", w->records_client_id);
  snprintf(tr_secret, sizeof tr_secret, "HOSO_TRANSFERS_CLIENT_SECRET=%s", w->transfers_client_secret);
  snprintf(rec_secret, sizeof rec_secret, "HOSO_RECORDS_CLIENT_SECRET=%s", w->records_client_secret);
  const char *env[40];
  size_t n = 0;
  env[n++] = id_addr;
  int records = strcmp(name, "records") == 0;
  if (w->records_port > 0 && !records) {
    snprintf(rec_addr, sizeof rec_addr, "HOSO_RECORDS_ADDR=127.0.0.1:%d", w->records_port);
    env[n++] = rec_addr;
  }
  env[n++] = tr_id;
  env[n++] = rec_id;
  if (strcmp(name, "transfers") == 0) env[n++] = tr_secret;
  if (records) env[n++] = rec_secret;
  for (size_t i = 0; extra_env && extra_env[i] && n < 39; i++) env[n++] = extra_env[i];
  env[n] = NULL;
  /* The world's records process listens where identity was told it does. */
  if (!again && records && s == &w->records && w->records_port > 0)
    return th_svc_start_held(s, &w->records_port_fd, w->records_port, bin, svc->addr_var, &w->pg, env);
  if (held_fd) return th_svc_start_held(s, held_fd, port, bin, svc->addr_var, &w->pg, env);
  return again ? th_svc_restart(s, bin, svc->addr_var, &w->pg, env) : th_svc_start(s, bin, svc->addr_var, &w->pg, env);
}

int th_world_records_start(th_world *w, th_svc *s) { return th_world_service_start(w, "records", s, w->records_env); }

int th_world_reporting_start(th_world *w, th_svc *s, const char *const *extra_env) {
  char dsn[600], id[128], secret[200];
  /* the published views, read as the reporting role (records/migrations/031) */
  snprintf(dsn, sizeof dsn, "HOSO_REPORTING_PG_DSN=host=%s port=%d dbname=hoso user=hoso_report", w->pg.sock_dir,
           w->pg.port);
  /* reporting follows the unit tree (its snapshots) as a service client of its own, made once */
  if (!w->reporting_client_id[0] &&
      make_service_client(w, "Dịch vụ báo cáo (reporting)", w->reporting_client_id, sizeof w->reporting_client_id,
                          w->reporting_client_secret, sizeof w->reporting_client_secret, NULL) != 0)
    return -1;
  snprintf(id, sizeof id, "HOSO_REPORTING_CLIENT_ID=%s", w->reporting_client_id);
  snprintf(secret, sizeof secret, "HOSO_REPORTING_CLIENT_SECRET=%s", w->reporting_client_secret);
  const char *env[32];
  size_t n = 0;
  env[n++] = dsn;
  env[n++] = id;
  env[n++] = secret;
  for (size_t i = 0; extra_env && extra_env[i] && n < 31; i++) env[n++] = extra_env[i];
  env[n] = NULL;
  return th_world_service_start(w, "reporting", s, env);
}

int th_world_start(th_world *w, int start_records, const char *const *records_env) {
  memset(w, 0, sizeof *w);
  w->records_env = records_env;
  w->records_port_fd = -1;
  if (th_pg_start(&w->pg) != 0) return -1;
  if ((w->records_port = th_port_hold(&w->records_port_fd)) <= 0) return -1;
  char rec_addr[64];
  snprintf(rec_addr, sizeof rec_addr, "HOSO_RECORDS_ADDR=127.0.0.1:%d", w->records_port);
  const char *id_env[] = {rec_addr, NULL};
  if (th_svc_start(&w->identity, "hoso-identity", "HOSO_IDENTITY_ADDR", &w->pg, id_env) != 0) return -1;
  w->id_ch = cli_open_tls(w->identity.addr, NULL, NULL, NULL);
  if (!w->id_ch || build(w) != 0) return -1;
  if (!start_records) return 0;
  if (th_world_records_start(w, &w->records) != 0) return -1;
  w->rec_ch = cli_open_tls(w->records.addr, NULL, NULL, NULL);
  return w->rec_ch ? 0 : -1;
}

int th_world_stop(th_world *w) {
  int rc = 0;
  if (w->rec_ch) cli_close(w->rec_ch);
  if (w->id_ch) cli_close(w->id_ch);
  if (w->records_port_fd >= 0) close(w->records_port_fd);
  w->records_port_fd = -1;
  if (w->records.pid > 0 && th_svc_stop(&w->records) != 0) rc = -1;
  if (w->identity.pid > 0 && th_svc_stop(&w->identity) != 0) rc = -1;
  th_pg_destroy(&w->pg);
  char **toks[] = {&w->tok_admin, &w->tok_d1_admin, &w->tok_d1_updater, &w->tok_d1_reader, &w->tok_d1u_updater,
                   &w->tok_d2_admin, &w->tok_d2_updater, &w->tok_d2_reader, &w->tok_transfers};
  for (size_t i = 0; i < sizeof toks / sizeof toks[0]; i++) {
    free(*toks[i]);
    *toks[i] = NULL;
  }
  return rc;
}

void th_expect(grpc_status_code got, const cli_status *st, grpc_status_code want, const char *field) {
  if (got != want) fail_msg("expected %s, got %s: %s", cli_status_name(want), cli_status_name(got), st->message);
  if (field) {
    size_t n = strlen(field);
    if (strncmp(st->message, field, n) != 0 || st->message[n] != ':')
      fail_msg("message \"%s\" does not start with \"%s:\"", st->message, field);
  }
}
