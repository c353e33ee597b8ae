/* hoso-seed: the operator's small client of the identity service — health checks, the demo
 * province (units and accounts of every role, loaded through the RPCs), the services' own
 * service clients, login, first password. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "cli.h"
#include "common.pb-c.h"
#include "identity.pb-c.h"
#include "pw.h"

#define SVC "/hoso.identity.v1.Identity/"
#define TIMEOUT_MS 30000

typedef Hoso__Identity__V1__Unit unit_msg;
typedef Hoso__Identity__V1__Account account_msg;

static cli_chan *chan;
static char bearer[8192]; /* "Bearer <token>" of the logged-in caller */

static int usage(void) {
  fprintf(stderr,
          "usage: hoso-seed health ADDR               exit 0 when ADDR answers SERVING\n"
          "       hoso-seed demo [--addr A] --out FILE load the demo province as admin\n"
          "                                            (password in HOSO_ADMIN_PASSWORD)\n"
          "       hoso-seed service-clients [--addr A] --out FILE\n"
          "                                            the services' own clients (records,\n"
          "                                            transfers) in FILE, kept while they work\n"
          "       hoso-seed login [--addr A] USERNAME  log in; password on standard input\n"
          "       hoso-seed passwd [--addr A] USERNAME change a password (current, then new,\n"
          "                                            on standard input)\n"
          "A defaults to HOSO_IDENTITY_ADDR or %s. TLS when HOSO_TLS_CA is set (client\n"
          "certificate from HOSO_TLS_CLIENT_CERT/KEY).\n",
          cfg_service_find("identity")->default_addr);
  return 2;
}

/* One identity RPC with the caller's token (if any). On failure prints what failed unless
 * quiet_code is the status (an expected answer, e.g. ALREADY_EXISTS). */
static grpc_status_code rpc(const char *name, const void *req,
                            const ProtobufCMessageDescriptor *out, void *resp,
                            grpc_status_code quiet_code, cli_status *st_out) {
  char path[128];
  snprintf(path, sizeof path, SVC "%s", name);
  cli_md md = {"authorization", bearer};
  cli_status st;
  memset(&st, 0, sizeof st);
  grpc_status_code c = cli_call(chan, path, (const ProtobufCMessage *)req, out,
                                (ProtobufCMessage **)resp, &md, bearer[0] ? 1 : 0, TIMEOUT_MS, &st);
  if (c != GRPC_STATUS_OK && c != quiet_code)
    fprintf(stderr, "hoso-seed: %s: %s: %s\n", name, cli_status_name(c), st.message);
  if (st_out) *st_out = st;
  return c;
}

static void free_msg(void *m) {
  if (m) protobuf_c_message_free_unpacked((ProtobufCMessage *)m, NULL);
}

/* Reads one line from standard input without echo when it is a terminal. 0 / -1. */
static int read_secret(const char *prompt, char *buf, size_t n) {
  int tty = isatty(STDIN_FILENO);
  struct termios old, quiet;
  if (tty) {
    fprintf(stderr, "%s", prompt);
    tcgetattr(STDIN_FILENO, &old);
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  int rc = fgets(buf, (int)n, stdin) ? 0 : -1;
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fprintf(stderr, "\n");
  }
  if (rc == 0) buf[strcspn(buf, "\r\n")] = 0;
  return rc;
}

/* Logs in and keeps the bearer token. *must_change tells whether the token only allows
 * ChangePassword. 0 / -1. */
static int login(const char *user, const char *password, int *must_change,
                 Hoso__Identity__V1__LoginResponse **keep) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)user;
  req.password = (char *)password;
  Hoso__Identity__V1__LoginResponse *resp = NULL;
  bearer[0] = 0;
  if (rpc("Login", &req, &hoso__identity__v1__login_response__descriptor, &resp, GRPC_STATUS_OK,
          NULL) != GRPC_STATUS_OK)
    return -1;
  snprintf(bearer, sizeof bearer, "Bearer %s", resp->access_token);
  if (must_change) *must_change = resp->must_change_password;
  if (keep)
    *keep = resp;
  else
    free_msg(resp);
  return 0;
}

static const char *role_name(int r) {
  const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&hoso__common__v1__role__descriptor, r);
  return v ? v->name : "?";
}

static void roles_text(char *out, size_t n, const Hoso__Common__V1__Role *roles, size_t k) {
  out[0] = 0;
  for (size_t i = 0; i < k; i++) {
    size_t used = strlen(out);
    snprintf(out + used, n - used, "%s%s", i ? "," : "", role_name(roles[i]));
  }
}

/* ==================================== health ============================================= */

static int cmd_health(const char *addr) {
  chan = cli_open(addr);
  int ok = chan && cli_health(chan, 3000);
  cli_close(chan);
  if (!ok) fprintf(stderr, "hoso-seed: %s is not SERVING\n", addr);
  return ok ? 0 : 1;
}

/* ================================ login and passwd ======================================= */

static int cmd_login(const char *user) {
  char pw[512];
  if (read_secret("Password: ", pw, sizeof pw) != 0) {
    fprintf(stderr, "hoso-seed: no password on standard input\n");
    return 2;
  }
  Hoso__Identity__V1__LoginResponse *lr = NULL;
  int must = 0, rc = 1;
  if (login(user, pw, &must, &lr) != 0) goto out;
  const account_msg *a = lr->account;
  char roles[256] = "";
  if (a) roles_text(roles, sizeof roles, a->roles, a->n_roles);
  printf("logged in as %s (%s)\n", user, a && a->full_name[0] ? a->full_name : "");
  printf("roles: %s\n", roles);
  if (a && a->unit_id[0] && !must) {
    Hoso__Identity__V1__GetUnitRequest ur = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
    ur.unit_id = a->unit_id;
    Hoso__Identity__V1__GetUnitResponse *u = NULL;
    if (rpc("GetUnit", &ur, &hoso__identity__v1__get_unit_response__descriptor, &u,
            GRPC_STATUS_OK, NULL) == GRPC_STATUS_OK && u->unit)
      printf("unit: %s (code %s, id %s)\n", u->unit->name, u->unit->code, u->unit->id);
    free_msg(u);
  } else if (a) {
    printf("unit id: %s\n", a->unit_id);
  }
  printf("access token (expires in %d s):\n%s\n", lr->expires_in, lr->access_token);
  if (must)
    printf("This password must be changed before anything else: hoso-seed passwd %s\n", user);
  rc = 0;
out:
  free_msg(lr);
  memset(pw, 0, sizeof pw);
  return rc;
}

static int cmd_passwd(const char *user) {
  char old[512], nw[512], again[512];
  int rc = 1;
  if (read_secret("Current password: ", old, sizeof old) != 0 ||
      read_secret("New password: ", nw, sizeof nw) != 0) {
    fprintf(stderr, "hoso-seed: expected the current and the new password on standard input\n");
    return 2;
  }
  if (isatty(STDIN_FILENO)) {
    if (read_secret("New password again: ", again, sizeof again) != 0 || strcmp(nw, again) != 0) {
      fprintf(stderr, "hoso-seed: the new passwords differ\n");
      return 2;
    }
  }
  if (login(user, old, NULL, NULL) != 0) goto out;
  Hoso__Identity__V1__ChangePasswordRequest req = HOSO__IDENTITY__V1__CHANGE_PASSWORD_REQUEST__INIT;
  req.old_password = old;
  req.new_password = nw;
  Hoso__Identity__V1__ChangePasswordResponse *resp = NULL;
  if (rpc("ChangePassword", &req, &hoso__identity__v1__change_password_response__descriptor,
          &resp, GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
    goto out;
  free_msg(resp);
  printf("password of %s changed\n", user);
  rc = 0;
out:
  memset(old, 0, sizeof old);
  memset(nw, 0, sizeof nw);
  return rc;
}

/* ===================================== demo ============================================== */

enum {
  T_DEPT = HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DEPARTMENT,
  T_DISTRICT = HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_DISTRICT,
  T_AGENCY = HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_AGENCY,
  T_PUBLIC = HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_PUBLIC_SERVICE,
  T_COMMUNE = HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_COMMUNE,
  T_SUB = HOSO__IDENTITY__V1__UNIT_TYPE__UNIT_TYPE_SUB_UNIT,
};

typedef struct {
  const char *code;   /* unique; also the key other rows refer to */
  const char *parent; /* code of the parent, NULL for a child of the root */
  const char *name;
  int type;
  int quota; /* biên chế / số người làm việc được giao */
} demo_unit;

/* A province-shaped tree under the root unit that identity's bootstrap made. */
static const demo_unit units[] = {
    {"BG.SNV", NULL, "Sở Nội vụ", T_DEPT, 58},
    {"BG.SNV.TCBC", "BG.SNV", "Phòng Tổ chức, biên chế và tổ chức phi chính phủ", T_AGENCY, 9},
    {"BG.SNV.CCVC", "BG.SNV", "Phòng Công chức, viên chức", T_AGENCY, 8},
    {"BG.SNV.VTLT", "BG.SNV", "Chi cục Văn thư - Lưu trữ", T_AGENCY, 12},
    {"BG.SYT", NULL, "Sở Y tế", T_DEPT, 64},
    {"BG.SYT.TCCB", "BG.SYT", "Phòng Tổ chức cán bộ", T_AGENCY, 7},
    {"BG.SYT.BVDK", "BG.SYT", "Bệnh viện Đa khoa tỉnh Bắc Giang", T_PUBLIC, 1250},
    {"BG.SYT.BVDK.NTH", "BG.SYT.BVDK", "Khoa Nội tổng hợp", T_SUB, 48},
    {"BG.SYT.BVDK.HSCC", "BG.SYT.BVDK", "Khoa Hồi sức cấp cứu", T_SUB, 42},
    {"BG.SYT.CDC", "BG.SYT", "Trung tâm Kiểm soát bệnh tật tỉnh", T_PUBLIC, 120},
    {"BG.SGDDT", NULL, "Sở Giáo dục và Đào tạo", T_DEPT, 72},
    {"BG.SGDDT.TCCB", "BG.SGDDT", "Phòng Tổ chức cán bộ", T_AGENCY, 6},
    {"BG.SGDDT.THPTC", "BG.SGDDT", "Trường THPT Chuyên Bắc Giang", T_PUBLIC, 95},
    {"BG.SGDDT.NSL", "BG.SGDDT", "Trường THPT Ngô Sĩ Liên", T_PUBLIC, 110},
    {"BG.LN", NULL, "Ủy ban nhân dân huyện Lục Nam", T_DISTRICT, 85},
    {"BG.LN.PNV", "BG.LN", "Phòng Nội vụ", T_AGENCY, 8},
    {"BG.LN.PGDDT", "BG.LN", "Phòng Giáo dục và Đào tạo", T_AGENCY, 10},
    {"BG.LN.DOINGO", "BG.LN", "Ủy ban nhân dân thị trấn Đồi Ngô", T_COMMUNE, 23},
    {"BG.LN.BAODAI", "BG.LN", "Ủy ban nhân dân xã Bảo Đài", T_COMMUNE, 21},
    {"BG.LN.CUONGSON", "BG.LN", "Ủy ban nhân dân xã Cương Sơn", T_COMMUNE, 20},
    {"BG.LN.THCSBD", "BG.LN", "Trường THCS Bảo Đài", T_PUBLIC, 38},
    {"BG.LN.THDN", "BG.LN", "Trường Tiểu học Đồi Ngô", T_PUBLIC, 41},
    {"BG.YT", NULL, "Ủy ban nhân dân huyện Yên Thế", T_DISTRICT, 80},
    {"BG.YT.PNV", "BG.YT", "Phòng Nội vụ", T_AGENCY, 8},
    {"BG.YT.PGDDT", "BG.YT", "Phòng Giáo dục và Đào tạo", T_AGENCY, 9},
    {"BG.YT.PHONXUONG", "BG.YT", "Ủy ban nhân dân thị trấn Phồn Xương", T_COMMUNE, 22},
    {"BG.YT.BOHA", "BG.YT", "Ủy ban nhân dân thị trấn Bố Hạ", T_COMMUNE, 22},
    {"BG.YT.DONGKY", "BG.YT", "Ủy ban nhân dân xã Đồng Kỳ", T_COMMUNE, 20},
    {"BG.YT.THCSPX", "BG.YT", "Trường THCS Phồn Xương", T_PUBLIC, 36},
    {"BG.YT.MNBH", "BG.YT", "Trường Mầm non Bố Hạ", T_PUBLIC, 30},
};
#define N_UNITS (sizeof units / sizeof units[0])

enum {
  R_SYS = HOSO__COMMON__V1__ROLE__SYSTEM_ADMIN,
  R_UADM = HOSO__COMMON__V1__ROLE__UNIT_ADMIN,
  R_UPD = HOSO__COMMON__V1__ROLE__UPDATER,
  R_READ = HOSO__COMMON__V1__ROLE__READER,
  R_SELF = HOSO__COMMON__V1__ROLE__SELF,
};

typedef struct {
  const char *username;
  const char *full_name;
  const char *unit; /* unit code */
  int roles[4];     /* 0-terminated */
  const char *record_id;
  const char *note;
} demo_account;

static const demo_account accounts[] = {
    {"qtv.snv", "Giáp Văn Thành", "BG.SNV", {R_SYS}, NULL,
     "system administrator of Sở Nội vụ (personal account)"},
    {"snv.ccvc", "Nguyễn Thị Thu Hà", "BG.SNV.CCVC", {R_UPD, R_READ}, NULL, NULL},
    {"syt.thutruong", "Trần Văn Hùng", "BG.SYT", {R_UADM, R_UPD, R_READ}, NULL,
     "head of Sở Y tế: accounts of the department and everything below"},
    {"bvdk.tccb", "Lê Thị Minh Ngọc", "BG.SYT.BVDK", {R_UPD, R_READ}, NULL, NULL},
    {"sgddt.tccb", "Phạm Quang Huy", "BG.SGDDT.TCCB", {R_READ}, NULL, NULL},
    {"sgddt.thutruong", "Bùi Thị Phương", "BG.SGDDT", {R_UADM, R_READ}, NULL, NULL},
    {"lucnam.thutruong", "Thân Văn Đức", "BG.LN", {R_UADM, R_UPD, R_READ}, NULL,
     "head of UBND huyện Lục Nam; sees nothing of Yên Thế"},
    {"lucnam.pnv", "Vũ Thị Hồng Nhung", "BG.LN.PNV", {R_UPD, R_READ}, NULL, NULL},
    {"baodai.vanphong", "Ngô Văn Long", "BG.LN.BAODAI", {R_READ}, NULL, NULL},
    {"yenthe.thutruong", "Hoàng Đức Thắng", "BG.YT", {R_UADM, R_UPD, R_READ}, NULL,
     "head of UBND huyện Yên Thế; sees nothing of Lục Nam"},
    {"yenthe.pnv", "Đỗ Thị Lan", "BG.YT.PNV", {R_UPD}, NULL, NULL},
    {"yenthe.pgddt", "Dương Văn Khánh", "BG.YT.PGDDT", {R_READ}, NULL, NULL},
    {"nguyenthimai.bd", "Nguyễn Thị Mai", "BG.LN.THCSBD", {R_SELF}, "100001",
     "teacher; may read her own record only"},
};
#define N_ACCOUNTS (sizeof accounts / sizeof accounts[0])

static const char *svc_client_name = "Phần mềm quản lý nhân lực ngành Y tế (Sở Y tế Bắc Giang)";
static const char *svc_client_grant = "BG.SYT";
static const char *svc_client_approval =
    "Văn bản số 125/SNV-CCVC ngày 12/01/2026 của Sở Nội vụ chấp thuận kết nối";

typedef struct {
  char id[32];
  char name[256];
  char code[72];
} unit_ref;

static unit_ref unit_ids[N_UNITS];

static const unit_ref *unit_by_code(const char *code) {
  for (size_t i = 0; i < N_UNITS; i++)
    if (strcmp(units[i].code, code) == 0) return &unit_ids[i];
  return NULL;
}

/* The child of parent_id with this code (a re-run after a partial load). 0 / -1. */
static int find_child(const char *parent_id, const char *code, char *id, size_t n) {
  char token[512] = "";
  for (;;) {
    Hoso__Identity__V1__ListChildUnitsRequest req = HOSO__IDENTITY__V1__LIST_CHILD_UNITS_REQUEST__INIT;
    req.unit_id = (char *)parent_id;
    req.page_size = 500;
    req.page_token = token;
    Hoso__Identity__V1__ListChildUnitsResponse *resp = NULL;
    if (rpc("ListChildUnits", &req, &hoso__identity__v1__list_child_units_response__descriptor,
            &resp, GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
      return -1;
    int found = 0;
    for (size_t i = 0; i < resp->n_units && !found; i++)
      if (strcmp(resp->units[i]->code, code) == 0) {
        snprintf(id, n, "%s", resp->units[i]->id);
        found = 1;
      }
    snprintf(token, sizeof token, "%s", resp->next_page_token);
    free_msg(resp);
    if (found) return 0;
    if (!token[0]) break;
  }
  fprintf(stderr, "hoso-seed: unit %s exists but is not a child of unit %s\n", code, parent_id);
  return -1;
}

static int load_units(const char *root_id) {
  for (size_t i = 0; i < N_UNITS; i++) {
    const demo_unit *u = &units[i];
    const char *parent = root_id;
    if (u->parent) {
      const unit_ref *p = unit_by_code(u->parent);
      if (!p || !p->id[0]) {
        fprintf(stderr, "hoso-seed: demo table lists %s before its parent\n", u->code);
        return -1;
      }
      parent = p->id;
    }
    char rid[96];
    snprintf(rid, sizeof rid, "demo-unit-%s", u->code);
    Hoso__Identity__V1__CreateUnitRequest req = HOSO__IDENTITY__V1__CREATE_UNIT_REQUEST__INIT;
    req.parent_id = (char *)parent;
    req.code = (char *)u->code;
    req.name = (char *)u->name;
    req.type = (Hoso__Identity__V1__UnitType)u->type;
    req.staffing_quota = u->quota;
    req.request_id = rid;
    Hoso__Identity__V1__CreateUnitResponse *resp = NULL;
    grpc_status_code c = rpc("CreateUnit", &req, &hoso__identity__v1__create_unit_response__descriptor,
                             &resp, GRPC_STATUS_ALREADY_EXISTS, NULL);
    snprintf(unit_ids[i].name, sizeof unit_ids[i].name, "%s", u->name);
    if (c == GRPC_STATUS_OK && resp->unit) {
      snprintf(unit_ids[i].id, sizeof unit_ids[i].id, "%s", resp->unit->id);
    } else if (c == GRPC_STATUS_ALREADY_EXISTS) {
      if (find_child(parent, u->code, unit_ids[i].id, sizeof unit_ids[i].id) != 0) return -1;
    } else {
      free_msg(resp);
      return -1;
    }
    free_msg(resp);
  }
  return 0;
}

/* The id of an existing account by username, searched in its unit. 0 / -1. */
static int find_account(const char *unit_id, const char *username, char *id, size_t n) {
  char token[512] = "";
  for (;;) {
    Hoso__Identity__V1__ListAccountsRequest req = HOSO__IDENTITY__V1__LIST_ACCOUNTS_REQUEST__INIT;
    req.unit_id = (char *)unit_id;
    req.direct_only = 1;
    req.page_size = 500;
    req.page_token = token;
    Hoso__Identity__V1__ListAccountsResponse *resp = NULL;
    if (rpc("ListAccounts", &req, &hoso__identity__v1__list_accounts_response__descriptor, &resp,
            GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
      return -1;
    int found = 0;
    for (size_t i = 0; i < resp->n_accounts && !found; i++)
      if (strcmp(resp->accounts[i]->username, username) == 0) {
        snprintf(id, n, "%s", resp->accounts[i]->id);
        found = 1;
      }
    snprintf(token, sizeof token, "%s", resp->next_page_token);
    free_msg(resp);
    if (found) return 0;
    if (!token[0]) break;
  }
  fprintf(stderr, "hoso-seed: account %s exists but not in its demo unit %s\n", username, unit_id);
  return -1;
}

static char passwords[N_ACCOUNTS][64];

static int load_accounts(void) {
  for (size_t i = 0; i < N_ACCOUNTS; i++) {
    const demo_account *a = &accounts[i];
    const unit_ref *u = unit_by_code(a->unit);
    if (!u || !u->id[0]) return -1;
    if (pw_random_secret(12, passwords[i], sizeof passwords[i]) != 0) return -1;
    Hoso__Common__V1__Role roles[4];
    size_t nr = 0;
    while (nr < 4 && a->roles[nr]) {
      roles[nr] = (Hoso__Common__V1__Role)a->roles[nr];
      nr++;
    }
    Hoso__Identity__V1__CreateAccountRequest req = HOSO__IDENTITY__V1__CREATE_ACCOUNT_REQUEST__INIT;
    req.username = (char *)a->username;
    req.full_name = (char *)a->full_name;
    req.unit_id = (char *)u->id;
    req.roles = roles;
    req.n_roles = nr;
    req.initial_password = passwords[i];
    if (a->record_id) req.person_record_id = (char *)a->record_id;
    Hoso__Identity__V1__CreateAccountResponse *resp = NULL;
    grpc_status_code c = rpc("CreateAccount", &req,
                             &hoso__identity__v1__create_account_response__descriptor, &resp,
                             GRPC_STATUS_ALREADY_EXISTS, NULL);
    free_msg(resp);
    if (c == GRPC_STATUS_OK) continue;
    if (c != GRPC_STATUS_ALREADY_EXISTS) return -1;
    /* Made by an earlier, interrupted run whose password was never written down: give it a
     * new one (it must still be changed at first login). */
    char id[32];
    if (find_account(u->id, a->username, id, sizeof id) != 0) return -1;
    Hoso__Identity__V1__ResetPasswordRequest rr = HOSO__IDENTITY__V1__RESET_PASSWORD_REQUEST__INIT;
    rr.account_id = id;
    rr.new_password = passwords[i];
    Hoso__Identity__V1__ResetPasswordResponse *rresp = NULL;
    c = rpc("ResetPassword", &rr, &hoso__identity__v1__reset_password_response__descriptor, &rresp,
            GRPC_STATUS_OK, NULL);
    free_msg(rresp);
    if (c != GRPC_STATUS_OK) return -1;
  }
  return 0;
}

/* Creates the demo service client (revoking the one an earlier run made: its secret was shown
 * only then). 0 / -1. */
/* Revokes every active service client called `name` (one name, one current client). 0 / -1. */
static int revoke_clients_named(const char *name, const char *reason) {
  char token[512] = "";
  for (;;) {
    Hoso__Identity__V1__ListServiceClientsRequest lr = HOSO__IDENTITY__V1__LIST_SERVICE_CLIENTS_REQUEST__INIT;
    lr.page_size = 500;
    lr.page_token = token;
    Hoso__Identity__V1__ListServiceClientsResponse *l = NULL;
    if (rpc("ListServiceClients", &lr, &hoso__identity__v1__list_service_clients_response__descriptor,
            &l, GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
      return -1;
    for (size_t i = 0; i < l->n_clients; i++) {
      if (l->clients[i]->revoked || strcmp(l->clients[i]->name, name) != 0) continue;
      Hoso__Identity__V1__RevokeServiceClientRequest rr = HOSO__IDENTITY__V1__REVOKE_SERVICE_CLIENT_REQUEST__INIT;
      rr.client_id = l->clients[i]->client_id;
      rr.reason = (char *)reason;
      Hoso__Identity__V1__RevokeServiceClientResponse *r = NULL;
      grpc_status_code c = rpc("RevokeServiceClient", &rr,
                               &hoso__identity__v1__revoke_service_client_response__descriptor, &r,
                               GRPC_STATUS_OK, NULL);
      free_msg(r);
      if (c != GRPC_STATUS_OK) {
        free_msg(l);
        return -1;
      }
    }
    snprintf(token, sizeof token, "%s", l->next_page_token);
    free_msg(l);
    if (!token[0]) break;
  }
  return 0;
}

/* A new client `name` granted unit_id, replacing any earlier one of that name. 0 / -1. */
static int replace_client(const char *name, const char *unit_id, const char *approval, const char *why,
                          char *client_id, size_t n1, char *secret, size_t n2) {
  if (revoke_clients_named(name, why) != 0) return -1;
  char *grant[1] = {(char *)unit_id};
  Hoso__Identity__V1__CreateServiceClientRequest req = HOSO__IDENTITY__V1__CREATE_SERVICE_CLIENT_REQUEST__INIT;
  req.name = (char *)name;
  req.unit_ids = grant;
  req.n_unit_ids = 1;
  req.approval_reference = (char *)approval;
  Hoso__Identity__V1__CreateServiceClientResponse *resp = NULL;
  if (rpc("CreateServiceClient", &req, &hoso__identity__v1__create_service_client_response__descriptor,
          &resp, GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
    return -1;
  snprintf(client_id, n1, "%s", resp->client ? resp->client->client_id : "");
  snprintf(secret, n2, "%s", resp->client_secret);
  free_msg(resp);
  return 0;
}

static int load_service_client(char *client_id, size_t n1, char *secret, size_t n2) {
  const unit_ref *u = unit_by_code(svc_client_grant);
  if (!u || !u->id[0]) return -1;
  return replace_client(svc_client_name, u->id, svc_client_approval,
                        "demo data loaded again: replaced by a new client", client_id, n1, secret, n2);
}

static void roles_of(const demo_account *a, char *out, size_t n) {
  Hoso__Common__V1__Role r[4];
  size_t k = 0;
  while (k < 4 && a->roles[k]) {
    r[k] = (Hoso__Common__V1__Role)a->roles[k];
    k++;
  }
  roles_text(out, n, r, k);
}

static int write_file(const char *path, const char *addr, const char *admin_pw,
                      const unit_ref *root, const char *client_id, const char *secret) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || fchmod(fd, 0600) != 0) {
    fprintf(stderr, "hoso-seed: %s: %s\n", path, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
  }
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    return -1;
  }
  char when[32];
  time_t t = time(NULL);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
  fprintf(f,
          "# HỒ SƠ demo accounts, loaded by `hoso-seed demo` at %s through %s.\n"
          "# Every demo account MUST CHANGE ITS PASSWORD AT FIRST LOGIN (the rule for new accounts):\n"
          "#   ./hoso passwd USERNAME   (current password, then the new one, on standard input)\n"
          "# Until then its login token allows ChangePassword only. `admin` is exempt when its\n"
          "# password came from HOSO_ADMIN_PASSWORD (as ./hoso up does).\n"
          "#\n"
          "# username | roles | unit | password | note\n",
          when, addr);
  fprintf(f, "admin | SYSTEM_ADMIN | %s (%s) | %s | bootstrap administrator\n", root->name,
          root->code, admin_pw);
  for (size_t i = 0; i < N_ACCOUNTS; i++) {
    const demo_account *a = &accounts[i];
    char roles[128], note[256];
    roles_of(a, roles, sizeof roles);
    const demo_unit *du = NULL;
    for (size_t k = 0; k < N_UNITS; k++)
      if (strcmp(units[k].code, a->unit) == 0) du = &units[k];
    if (a->record_id)
      snprintf(note, sizeof note, "%s; person_record_id %s", a->note ? a->note : "", a->record_id);
    else
      snprintf(note, sizeof note, "%s", a->note ? a->note : "");
    fprintf(f, "%s | %s | %s (%s) | %s | %s\n", a->username, roles, du ? du->name : a->unit,
            a->unit, passwords[i], note);
  }
  fprintf(f,
          "#\n# Service client of another government system (ServiceLogin with client_id and\n"
          "# client_secret; its tokens reach only the units of its grant).\n"
          "# client_id | client_secret | grant | approval\n"
          "%s | %s | %s (%s) | %s\n",
          client_id, secret, unit_by_code(svc_client_grant)->name, svc_client_grant,
          svc_client_approval);
  int rc = fclose(f) == 0 ? 0 : -1;
  if (rc != 0) fprintf(stderr, "hoso-seed: writing %s failed\n", path);
  return rc;
}

/* Logs in as admin (password in HOSO_ADMIN_PASSWORD) and gets admin's unit, the root. 0, or the
 * exit code (2: no password given, 1: refused). */
static int login_admin(char *root_id, size_t n) {
  const char *admin_pw = getenv("HOSO_ADMIN_PASSWORD");
  if (!admin_pw || !admin_pw[0]) {
    fprintf(stderr, "hoso-seed: set HOSO_ADMIN_PASSWORD to the password of admin\n");
    return 2;
  }
  int must = 0;
  if (login("admin", admin_pw, &must, NULL) != 0) return 1;
  if (must) {
    fprintf(stderr, "hoso-seed: admin must change its password first (hoso-seed passwd admin)\n");
    return 1;
  }
  Hoso__Identity__V1__WhoAmIRequest wr = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
  Hoso__Identity__V1__WhoAmIResponse *who = NULL;
  if (rpc("WhoAmI", &wr, &hoso__identity__v1__who_am_iresponse__descriptor, &who, GRPC_STATUS_OK,
          NULL) != GRPC_STATUS_OK)
    return 1;
  snprintf(root_id, n, "%s", who->account ? who->account->unit_id : "");
  free_msg(who);
  if (!root_id[0]) {
    fprintf(stderr, "hoso-seed: WhoAmI named no unit for admin\n");
    return 1;
  }
  return 0;
}

static int cmd_demo(const char *addr, const char *out) {
  unit_ref root;
  memset(&root, 0, sizeof root);
  int rc = login_admin(root.id, sizeof root.id);
  if (rc != 0) return rc;
  const char *admin_pw = getenv("HOSO_ADMIN_PASSWORD");
  Hoso__Identity__V1__GetUnitRequest gr = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  gr.unit_id = root.id;
  Hoso__Identity__V1__GetUnitResponse *g = NULL;
  if (rpc("GetUnit", &gr, &hoso__identity__v1__get_unit_response__descriptor, &g, GRPC_STATUS_OK,
          NULL) != GRPC_STATUS_OK)
    return 1;
  snprintf(root.name, sizeof root.name, "%s", g->unit ? g->unit->name : "");
  snprintf(root.code, sizeof root.code, "%s", g->unit ? g->unit->code : "");
  free_msg(g);

  char client_id[128] = "", secret[256] = "";
  if (load_units(root.id) != 0 || load_accounts() != 0 ||
      load_service_client(client_id, sizeof client_id, secret, sizeof secret) != 0)
    return 1;
  if (write_file(out, addr, admin_pw, &root, client_id, secret) != 0) return 1;
  printf("demo data: %zu units under %s, %zu accounts and 1 service client; passwords in %s\n",
         N_UNITS, root.name, N_ACCOUNTS, out);
  printf("every demo account must change its password at first login (./hoso passwd USERNAME)\n");
  return 0;
}

/* ============================ the services' own clients ================================== */

/* Every service of the service table but identity (which issues the tokens) and the gateway
 * (which calls as its callers) gets a service client granted the root, to call the others as
 * itself: records follows the unit tree (ListUnitChanges), transfers moves records
 * (SetManagingUnit). */
static int has_own_client(const cfg_service *s) {
  return s->gateway != CFG_GATEWAY_SELF && strcmp(s->name, "identity") != 0;
}
#define OWN_APPROVAL "Thành phần của hệ thống HỒ SƠ (./hoso up)"

/* "RECORDS" for "records". */
static void upper(const char *s, char *out, size_t n) {
  size_t i = 0;
  for (; s[i] && i + 1 < n; i++) out[i] = (char)toupper((unsigned char)s[i]);
  out[i] = 0;
}

/* The value of KEY=... in the env file, or "" (buf). */
static void env_file_get(const char *path, const char *key, char *buf, size_t n) {
  buf[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  char line[1024];
  size_t k = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, k) == 0 && line[k] == '=') {
      line[strcspn(line, "\r\n")] = 0;
      snprintf(buf, n, "%s", line + k + 1);
    }
  }
  fclose(f);
}

/* 1 when the client logs in with this secret now (so the file still holds good credentials). */
static int client_works(const char *id, const char *secret) {
  if (!id[0] || !secret[0]) return 0;
  Hoso__Identity__V1__ServiceLoginRequest req = HOSO__IDENTITY__V1__SERVICE_LOGIN_REQUEST__INIT;
  req.client_id = (char *)id;
  req.client_secret = (char *)secret;
  Hoso__Identity__V1__ServiceLoginResponse *resp = NULL;
  cli_status st;
  grpc_status_code c = cli_call(chan, SVC "ServiceLogin", &req.base, &hoso__identity__v1__service_login_response__descriptor,
                                (ProtobufCMessage **)&resp, NULL, 0, TIMEOUT_MS, &st);
  free_msg(resp);
  return c == GRPC_STATUS_OK;
}

/* Makes sure FILE holds working credentials of the services' own clients (KEY=VALUE lines, mode
 * 0600): kept when they still log in, otherwise replaced by new clients granted the root. */
static int cmd_service_clients(const char *out) {
  enum { N = 16 };
  char ids[N][128], secrets[N][256], env[N][32];
  int fresh = 0, logged_in = 0;
  char root[32] = "";
  if (cfg_services_count > N) {
    fprintf(stderr, "hoso-seed: more services than %d in common/services.tsv\n", N);
    return 1;
  }
  for (size_t i = 0; i < cfg_services_count; i++) {
    const cfg_service *svc = &cfg_services[i];
    if (!has_own_client(svc)) continue;
    char key[64], name[128];
    upper(svc->name, env[i], sizeof env[i]);
    snprintf(key, sizeof key, "HOSO_%.31s_CLIENT_ID", env[i]);
    env_file_get(out, key, ids[i], sizeof ids[i]);
    snprintf(key, sizeof key, "HOSO_%.31s_CLIENT_SECRET", env[i]);
    env_file_get(out, key, secrets[i], sizeof secrets[i]);
    if (client_works(ids[i], secrets[i])) continue;
    if (!logged_in) {
      /* admin belongs to the root unit (bootstrap): the grant of these clients. */
      int rc = login_admin(root, sizeof root);
      if (rc != 0) return rc;
      logged_in = 1;
    }
    snprintf(name, sizeof name, "Dịch vụ %s của HỒ SƠ", svc->name);
    if (replace_client(name, root, OWN_APPROVAL, "the credentials ./hoso up kept no longer log in: replaced", ids[i],
                       sizeof ids[i], secrets[i], sizeof secrets[i]) != 0)
      return 1;
    printf("service client of %s: %s (granted the root unit)\n", svc->name, ids[i]);
    fresh = 1;
  }
  if (!fresh) return 0;
  int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  FILE *f = fd >= 0 && fchmod(fd, 0600) == 0 ? fdopen(fd, "w") : NULL;
  if (!f) {
    fprintf(stderr, "hoso-seed: %s: %s\n", out, strerror(errno));
    if (fd >= 0) close(fd);
    return 1;
  }
  fprintf(f, "# The HỒ SƠ services' own service clients (ServiceLogin), written by ./hoso up.\n");
  for (size_t i = 0; i < cfg_services_count; i++)
    if (has_own_client(&cfg_services[i]))
      fprintf(f, "HOSO_%s_CLIENT_ID=%s\nHOSO_%s_CLIENT_SECRET=%s\n", env[i], ids[i], env[i], secrets[i]);
  if (fclose(f) != 0) {
    fprintf(stderr, "hoso-seed: writing %s failed\n", out);
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) return usage();
  const char *cmd = argv[1];
  if (strcmp(cmd, "health") == 0) {
    if (argc != 3) return usage();
    return cmd_health(argv[2]);
  }
  const char *addr = cfg_service_addr("identity");
  const char *out = NULL, *user = NULL;
  for (int i = 2; i < argc; i++) {
    if (strcmp(argv[i], "--addr") == 0 && i + 1 < argc)
      addr = argv[++i];
    else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      out = argv[++i];
    else if (argv[i][0] != '-' && !user)
      user = argv[i];
    else
      return usage();
  }
  int rc;
  chan = cli_open(addr);
  if (!chan) {
    fprintf(stderr, "hoso-seed: cannot open a channel to %s\n", addr);
    return 1;
  }
  if (strcmp(cmd, "demo") == 0 && out && !user)
    rc = cmd_demo(addr, out);
  else if (strcmp(cmd, "service-clients") == 0 && out && !user)
    rc = cmd_service_clients(out);
  else if (strcmp(cmd, "login") == 0 && user && !out)
    rc = cmd_login(user);
  else if (strcmp(cmd, "passwd") == 0 && user && !out)
    rc = cmd_passwd(user);
  else
    rc = usage();
  cli_close(chan);
  memset(bearer, 0, sizeof bearer);
  return rc;
}
