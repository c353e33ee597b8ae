/* hoso-gen-records, the unit tree: a province's departments, districts with their offices,
 * communes and schools, made through CreateUnit level by level on a few threads; its leaves. */
#include "gen_records.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const DEPARTMENTS[] = {
    "Sở Nội vụ", "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Tư pháp", "Sở Giáo dục và Đào tạo", "Sở Y tế",
    "Sở Nông nghiệp và Phát triển nông thôn", "Sở Xây dựng", "Sở Giao thông vận tải", "Sở Công Thương",
    "Sở Tài nguyên và Môi trường", "Sở Lao động – Thương binh và Xã hội", "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ", "Sở Thông tin và Truyền thông", "Thanh tra tỉnh", "Văn phòng UBND tỉnh",
    "Sở Ngoại vụ", "Ban Dân tộc tỉnh", "Ban Quản lý các khu công nghiệp"};

static const char *const SCHOOLS[] = {"Trường THCS", "Trường Tiểu học", "Trường Mầm non", "Trường THPT",
                                      "Trung tâm Y tế", "Trung tâm GDNN – GDTX"};
static const char *const DEPT_UNITS[] = {"Văn phòng Sở", "Thanh tra Sở", "Phòng Tổ chức cán bộ",
                                         "Phòng Kế hoạch – Tài chính", "Chi cục", "Trung tâm"};
static const char *const SUB_UNITS[] = {"Bộ phận Văn phòng – Thống kê", "Bộ phận Tài chính – Kế toán",
                                        "Tổ chuyên môn", "Bộ phận Địa chính – Xây dựng", "Tổ Hành chính",
                                        "Bộ phận Tư pháp – Hộ tịch"};
static const char *const TEAMS[] = {"Tổ Một cửa", "Nhóm nghiệp vụ", "Tổ công tác", "Nhóm chuyên môn"};

/* ------------------------------------------------------------ the unit tree ------------- */

leaf *leaves;
size_t n_leaves;

typedef struct {
  char parent[32];
  char code[96];
  char name[256];
  int type, district, level;
  char id[32];
} unit_job;

static unit_job *ujobs;
static size_t n_ujobs, next_ujob;
static pthread_mutex_t ujob_lock = PTHREAD_MUTEX_INITIALIZER;
static int ujob_failed;

static void *unit_worker(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&ujob_lock);
    size_t i = next_ujob < n_ujobs && !ujob_failed ? next_ujob++ : (size_t)-1;
    pthread_mutex_unlock(&ujob_lock);
    if (i == (size_t)-1) return NULL;
    unit_job *u = &ujobs[i];
    Hoso__Identity__V1__CreateUnitRequest req = HOSO__IDENTITY__V1__CREATE_UNIT_REQUEST__INIT;
    req.parent_id = u->parent;
    req.code = u->code;
    req.name = u->name;
    req.type = u->type;
    req.staffing_quota = 30;
    req.request_id = u->code; /* a rerun after a failure does not make the unit twice */
    ProtobufCMessage *out = NULL;
    cli_status st;
    grpc_status_code c = call(id_ch, IDN "CreateUnit", &req.base, &hoso__identity__v1__create_unit_response__descriptor,
                              &out, &st);
    if (c != GRPC_STATUS_OK) {
      fprintf(stderr, "hoso-gen-records: CreateUnit %s: %s %s\n", u->code, cli_status_name(c), st.message);
      pthread_mutex_lock(&ujob_lock);
      ujob_failed = 1;
      pthread_mutex_unlock(&ujob_lock);
      return NULL;
    }
    snprintf(u->id, sizeof u->id, "%s", ((Hoso__Identity__V1__CreateUnitResponse *)out)->unit->id);
    protobuf_c_message_free_unpacked(out, NULL);
  }
}

/* Creates one level's units with `threads` callers at once (parents exist already). */
static int run_level(size_t from, size_t to, int threads) {
  next_ujob = from;
  n_ujobs = to;
  pthread_t t[16];
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, unit_worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  return ujob_failed ? -1 : 0;
}

/* Codes and names here are short and fixed-size fields suffice; a longer one is cut. */
static void copy(char *dst, size_t size, const char *src) {
  size_t n = strlen(src);
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

static unit_job *add_unit(size_t *n, const char *parent, int district, int level, int type, const char *code,
                          const char *name) {
  unit_job *u = &ujobs[(*n)++];
  memset(u, 0, sizeof *u);
  copy(u->parent, sizeof u->parent, parent);
  copy(u->code, sizeof u->code, code);
  copy(u->name, sizeof u->name, name);
  u->type = type;
  u->district = district;
  u->level = level;
  return u;
}

/* The province: root → 10 districts and 20 departments → communes, agencies, schools and the
 * departments' units → their sections → teams: five levels, about 2 600 units. Leaves (level
 * 5) manage the records. Unit codes carry the seed, so two trees never collide. */
int build_tree(const char *root_id, unsigned seed, int threads, int communes_per_district) {
  size_t cap = 8 + N_DISTRICTS * (size_t)(communes_per_district + 32) * 6 + 20 * 40;
  ujobs = calloc(cap, sizeof *ujobs);
  size_t n = 0, l2 = 0, l3, l4, l5;
  char code[160], name[256];
  for (int d = 0; d < N_DISTRICTS; d++) {
    snprintf(code, sizeof code, "G%u.D%02d", seed, d);
    snprintf(name, sizeof name, "UBND %s", DISTRICTS[d].name);
    add_unit(&n, root_id, d, 2, 3, code, name);
  }
  for (int k = 0; k < 20; k++) {
    snprintf(code, sizeof code, "G%u.S%02d", seed, k);
    add_unit(&n, root_id, 0, 2, 2, code, DEPARTMENTS[k]);
  }
  l3 = n;
  fprintf(stderr, "hoso-gen-records: creating the unit tree (level 2: %zu units)\n", l3 - l2);
  if (run_level(l2, l3, threads)) return -1;
  for (size_t p = l2; p < l3; p++) {
    unit_job *par = &ujobs[p];
    if (par->type == 3) {
      const district *d = &DISTRICTS[par->district];
      for (int c = 0; c < communes_per_district; c++) {
        snprintf(code, sizeof code, "%s.X%02d", par->code, c);
        snprintf(name, sizeof name, "UBND %s%s", d->communes[c % 8], c >= 8 ? (c >= 16 ? " (khu C)" : " (khu B)") : "");
        add_unit(&n, par->id, par->district, 3, 6, code, name);
      }
      for (size_t g = 0; g < (size_t)N_DISTRICT_AGENCIES; g++) {
        snprintf(code, sizeof code, "%s.P%02zu", par->code, g);
        add_unit(&n, par->id, par->district, 3, 4, code, DISTRICT_AGENCIES[g]);
      }
      for (int s = 0; s < 6; s++) {
        snprintf(code, sizeof code, "%s.T%02d", par->code, s);
        snprintf(name, sizeof name, "%s %s", SCHOOLS[s], d->communes[s % 8] + (d->communes[s % 8][0] == 'X' ? 4 : 0));
        add_unit(&n, par->id, par->district, 3, 5, code, name);
      }
    } else {
      for (int s = 0; s < 6; s++) {
        snprintf(code, sizeof code, "%s.U%02d", par->code, s);
        snprintf(name, sizeof name, "%s", DEPT_UNITS[s]);
        add_unit(&n, par->id, 0, 3, s < 4 ? 4 : 5, code, name);
      }
    }
  }
  l4 = n;
  fprintf(stderr, "hoso-gen-records: level 3: %zu units\n", l4 - l3);
  if (run_level(l3, l4, threads)) return -1;
  for (size_t p = l3; p < l4; p++) {
    for (int s = 0; s < 2; s++) {
      snprintf(code, sizeof code, "%s.B%d", ujobs[p].code, s);
      add_unit(&n, ujobs[p].id, ujobs[p].district, 4, 7, code, SUB_UNITS[(p + (size_t)s) % 6]);
    }
  }
  l5 = n;
  fprintf(stderr, "hoso-gen-records: level 4: %zu units\n", l5 - l4);
  if (run_level(l4, l5, threads)) return -1;
  for (size_t p = l4; p < l5; p++) {
    snprintf(code, sizeof code, "%s.N", ujobs[p].code);
    add_unit(&n, ujobs[p].id, ujobs[p].district, 5, 7, code, TEAMS[p % 4]);
  }
  fprintf(stderr, "hoso-gen-records: level 5: %zu units (%zu in all, with the root)\n", n - l5, n + 1);
  if (run_level(l5, n, threads)) return -1;
  n_leaves = n - l5;
  leaves = calloc(n_leaves, sizeof *leaves);
  for (size_t i = 0; i < n_leaves; i++) {
    snprintf(leaves[i].id, sizeof leaves[i].id, "%s", ujobs[l5 + i].id);
    leaves[i].district = ujobs[l5 + i].district;
  }
  free(ujobs);
  return 0;
}

int load_leaves(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t cap = 4096;
  leaves = calloc(cap, sizeof *leaves);
  char id[32];
  int d;
  while (fscanf(f, "%31s %d", id, &d) == 2) {
    if (n_leaves == cap) leaves = realloc(leaves, (cap *= 2) * sizeof *leaves);
    snprintf(leaves[n_leaves].id, sizeof leaves[n_leaves].id, "%s", id);
    leaves[n_leaves++].district = d;
  }
  fclose(f);
  return n_leaves ? 0 : -1;
}

void save_leaves(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  for (size_t i = 0; i < n_leaves; i++) fprintf(f, "%s %d\n", leaves[i].id, leaves[i].district);
  fclose(f);
}
