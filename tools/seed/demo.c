/* hoso-seed demo: a province-shaped tree of units, accounts of every role (the person with a
 * SELF account gets her dossier in records first: a link is made only to a record that exists
 * in the linker's units) and one service client of another government system, loaded through
 * the services' RPCs as admin; the passwords go to a file of mode 0600. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pw.h"
#include "records.pb-c.h"
#include "seed.h"

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

/* The record_id of the demo person's account: her dossier, entered by demo_person_record. */
static const char PERSON_RECORD[] = "(her dossier)";
static char person_record_id[32];

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
    {"nguyenthimai.bd", "Nguyễn Thị Mai", "BG.LN.THCSBD", {R_SELF}, PERSON_RECORD,
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
    if (seed_rpc("ListChildUnits", &req, &hoso__identity__v1__list_child_units_response__descriptor,
            &resp, GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
      return -1;
    int found = 0;
    for (size_t i = 0; i < resp->n_units && !found; i++)
      if (strcmp(resp->units[i]->code, code) == 0) {
        snprintf(id, n, "%s", resp->units[i]->id);
        found = 1;
      }
    snprintf(token, sizeof token, "%s", resp->next_page_token);
    seed_free(resp);
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
    grpc_status_code c = seed_rpc("CreateUnit", &req, &hoso__identity__v1__create_unit_response__descriptor,
                             &resp, GRPC_STATUS_ALREADY_EXISTS, NULL);
    snprintf(unit_ids[i].name, sizeof unit_ids[i].name, "%s", u->name);
    if (c == GRPC_STATUS_OK && resp->unit) {
      snprintf(unit_ids[i].id, sizeof unit_ids[i].id, "%s", resp->unit->id);
    } else if (c == GRPC_STATUS_ALREADY_EXISTS) {
      if (find_child(parent, u->code, unit_ids[i].id, sizeof unit_ids[i].id) != 0) return -1;
    } else {
      seed_free(resp);
      return -1;
    }
    seed_free(resp);
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
    if (seed_rpc("ListAccounts", &req, &hoso__identity__v1__list_accounts_response__descriptor, &resp,
            GRPC_STATUS_OK, NULL) != GRPC_STATUS_OK)
      return -1;
    int found = 0;
    for (size_t i = 0; i < resp->n_accounts && !found; i++)
      if (strcmp(resp->accounts[i]->username, username) == 0) {
        snprintf(id, n, "%s", resp->accounts[i]->id);
        found = 1;
      }
    snprintf(token, sizeof token, "%s", resp->next_page_token);
    seed_free(resp);
    if (found) return 0;
    if (!token[0]) break;
  }
  fprintf(stderr, "hoso-seed: account %s exists but not in its demo unit %s\n", username, unit_id);
  return -1;
}

static char passwords[N_ACCOUNTS][64];

/* The dossier of the demo's SELF account, entered in records as admin (a repeated run gets the
 * same one back: the request id is fixed). 0 / -1. */
static int demo_person_record(void) {
  const unit_ref *u = unit_by_code("BG.LN.THCSBD");
  const char *addr = cfg_service_addr("records");
  cli_chan *rec = addr && u ? cli_open(addr) : NULL;
  if (!rec) {
    fprintf(stderr, "hoso-seed: no channel to records%s%s\n", addr ? " at " : "", addr ? addr : "");
    return -1;
  }
  Hoso__Records__V1__Record r = HOSO__RECORDS__V1__RECORD__INIT;
  Hoso__Records__V1__Employment e = HOSO__RECORDS__V1__EMPLOYMENT__INIT;
  Hoso__Records__V1__CreateRecordRequest req = HOSO__RECORDS__V1__CREATE_RECORD_REQUEST__INIT;
  r.managing_unit_id = (char *)u->id;
  r.full_name = "Nguyễn Thị Mai";
  r.birth_date = "1988-09-02";
  r.gender = HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  e.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_PUBLIC_EMPLOYEE;
  r.employment = &e;
  req.record = &r;
  req.request_id = "hoso-seed-demo-person-nguyenthimai";
  cli_md md = {"authorization", bearer};
  cli_status st;
  Hoso__Records__V1__CreateRecordResponse *out = NULL;
  grpc_status_code c = cli_call(rec, "/hoso.records.v1.Records/CreateRecord", &req.base,
                                &hoso__records__v1__create_record_response__descriptor, (ProtobufCMessage **)&out,
                                &md, 1, TIMEOUT_MS, &st);
  if (c == GRPC_STATUS_OK) snprintf(person_record_id, sizeof person_record_id, "%s", out->record->id);
  else fprintf(stderr, "hoso-seed: CreateRecord (the demo person's dossier): %s: %s\n", cli_status_name(c), st.message);
  seed_free(out);
  cli_close(rec);
  return c == GRPC_STATUS_OK ? 0 : -1;
}

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
    if (a->record_id) req.person_record_id = a->record_id == PERSON_RECORD ? person_record_id : (char *)a->record_id;
    Hoso__Identity__V1__CreateAccountResponse *resp = NULL;
    grpc_status_code c = seed_rpc("CreateAccount", &req,
                             &hoso__identity__v1__create_account_response__descriptor, &resp,
                             GRPC_STATUS_ALREADY_EXISTS, NULL);
    seed_free(resp);
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
    c = seed_rpc("ResetPassword", &rr, &hoso__identity__v1__reset_password_response__descriptor, &rresp,
            GRPC_STATUS_OK, NULL);
    seed_free(rresp);
    if (c != GRPC_STATUS_OK) return -1;
  }
  return 0;
}


/* Creates the demo service client (revoking the one an earlier run made: its secret was shown
 * only then). 0 / -1. */
static int load_service_client(char *client_id, size_t n1, char *secret, size_t n2) {
  const unit_ref *u = unit_by_code(svc_client_grant);
  if (!u || !u->id[0]) return -1;
  return seed_replace_client(svc_client_name, u->id, svc_client_approval,
                        "demo data loaded again: replaced by a new client", client_id, n1, secret, n2);
}

static void roles_of(const demo_account *a, char *out, size_t n) {
  Hoso__Common__V1__Role r[4];
  size_t k = 0;
  while (k < 4 && a->roles[k]) {
    r[k] = (Hoso__Common__V1__Role)a->roles[k];
    k++;
  }
  seed_roles_text(out, n, r, k);
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
      snprintf(note, sizeof note, "%s; person_record_id %s", a->note ? a->note : "",
               a->record_id == PERSON_RECORD ? person_record_id : a->record_id);
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

int seed_demo(const char *addr, const char *out) {
  unit_ref root;
  memset(&root, 0, sizeof root);
  int rc = seed_login_admin(root.id, sizeof root.id);
  if (rc != 0) return rc;
  const char *admin_pw = getenv("HOSO_ADMIN_PASSWORD");
  Hoso__Identity__V1__GetUnitRequest gr = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  gr.unit_id = root.id;
  Hoso__Identity__V1__GetUnitResponse *g = NULL;
  if (seed_rpc("GetUnit", &gr, &hoso__identity__v1__get_unit_response__descriptor, &g, GRPC_STATUS_OK,
          NULL) != GRPC_STATUS_OK)
    return 1;
  snprintf(root.name, sizeof root.name, "%s", g->unit ? g->unit->name : "");
  snprintf(root.code, sizeof root.code, "%s", g->unit ? g->unit->code : "");
  seed_free(g);

  char client_id[128] = "", secret[256] = "";
  if (load_units(root.id) != 0 || demo_person_record() != 0 || load_accounts() != 0 ||
      load_service_client(client_id, sizeof client_id, secret, sizeof secret) != 0)
    return 1;
  if (write_file(out, addr, admin_pw, &root, client_id, secret) != 0) return 1;
  printf("demo data: %zu units under %s, %zu accounts and 1 service client; passwords in %s\n",
         N_UNITS, root.name, N_ACCOUNTS, out);
  printf("every demo account must change its password at first login (./hoso passwd USERNAME)\n");
  return 0;
}
