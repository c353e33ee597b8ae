/* hoso-gen-records: realistic generated dossiers (Vietnamese names from real distributions, a
 * Bắc Giang-like province tree of units, ranks, histories), written to a file (JSON lines or
 * length-prefixed Record messages) or loaded through ImportRecords. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"
#include "pbjson.h"
#include "records.pb-c.h"

#define IDN "/hoso.identity.v1.Identity/"
#define REC "/hoso.records.v1.Records/"
#define TIMEOUT_MS 600000

typedef Hoso__Records__V1__Record Record;

/* ------------------------------------------------------------ randomness ---------------- */

/* xorshift64*: fast, and the same sequence for the same seed on every machine. */
typedef struct {
  uint64_t s;
} rng;

static void rng_seed(rng *r, uint64_t seed) {
  r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  if (!r->s) r->s = 1;
}
static uint64_t rnext(rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}
static int uni(rng *r, int n) { return n <= 1 ? 0 : (int)(rnext(r) % (uint64_t)n); }
static int between(rng *r, int lo, int hi) { return lo + uni(r, hi - lo + 1); }
static double unit_f(rng *r) { return (double)(rnext(r) >> 11) / 9007199254740992.0; }
static int chance(rng *r, double p) { return unit_f(r) < p; }

typedef struct {
  const char *v;
  double w;
} wv;

static const char *pickw(rng *r, const wv *t, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += t[i].w;
  double x = unit_f(r) * sum;
  for (size_t i = 0; i < n; i++) {
    if (x < t[i].w) return t[i].v;
    x -= t[i].w;
  }
  return t[n - 1].v;
}
#define PICKW(r, t) pickw(r, t, sizeof t / sizeof t[0])
#define PICK(r, a) (a[uni(r, (int)(sizeof a / sizeof a[0]))])

/* ------------------------------------------------------------ name and place data ------- */

/* Family names (họ) with their approximate national shares, in percent. */
static const wv FAMILY[] = {
    {"Nguyễn", 38.4}, {"Trần", 11.0}, {"Lê", 9.5}, {"Phạm", 7.1}, {"Hoàng", 3.5}, {"Huỳnh", 1.6},
    {"Phan", 4.5},    {"Vũ", 2.4},    {"Võ", 1.5}, {"Đặng", 2.1}, {"Bùi", 2.0},   {"Đỗ", 1.4},
    {"Hồ", 1.3},      {"Ngô", 1.3},   {"Dương", 1.0}, {"Lý", 0.5}, {"Đinh", 0.8}, {"Lương", 0.6},
    {"Trịnh", 0.6},   {"Đoàn", 0.6},  {"Mai", 0.5}, {"Hà", 0.5},  {"Cao", 0.3},   {"Chu", 0.3},
    {"Tạ", 0.3},      {"Lâm", 0.3},   {"Vương", 0.2}, {"Lại", 0.2}, {"Thân", 0.3}, {"Giáp", 0.2},
};
/* Families of the Tày, Nùng, Dao and Sán Dìu people of the northern mountain districts. */
static const wv FAMILY_TAY_NUNG[] = {{"Hoàng", 20}, {"Nông", 15}, {"Lương", 10}, {"Vi", 8}, {"Lăng", 5},
                                     {"Triệu", 6},  {"Lục", 4},   {"Hà", 6},     {"Ma", 3}, {"La", 3},
                                     {"Nguyễn", 10}, {"Lộc", 3}, {"Chu", 4}};
static const wv FAMILY_DAO[] = {{"Triệu", 30}, {"Bàn", 25}, {"Đặng", 15}, {"Lý", 15}, {"Chảo", 5}, {"Phùng", 10}};
static const wv FAMILY_SAN_DIU[] = {{"Trần", 20}, {"Lâm", 15}, {"Diệp", 15}, {"La", 10}, {"Lý", 10},
                                   {"Dương", 10}, {"Tạ", 10}, {"Hoàng", 10}};
static const wv MIDDLE_M[] = {{"Văn", 34}, {"Đức", 8}, {"Minh", 8}, {"Quang", 6}, {"Hữu", 6}, {"Thanh", 5},
                              {"Công", 5}, {"Xuân", 4}, {"Mạnh", 3}, {"Ngọc", 3}, {"Trọng", 3}, {"Tiến", 3},
                              {"Duy", 3},  {"Quốc", 3}, {"Đình", 3}, {"Bá", 2},   {"Việt", 2}, {"Anh", 2},
                              {"Hoàng", 2}, {"Trung", 1}, {"Kim", 1}};
static const wv MIDDLE_F[] = {{"Thị", 46}, {"Thu", 7}, {"Thanh", 6}, {"Ngọc", 6}, {"Minh", 4}, {"Hồng", 4},
                              {"Kim", 3},  {"Phương", 3}, {"Thùy", 3}, {"Bích", 2}, {"Diệu", 1}, {"Hải", 2},
                              {"Thị Thu", 4}, {"Thị Thanh", 3}, {"Thị Minh", 2}, {"Thị Ngọc", 2},
                              {"Thị Kim", 1}, {"Thị Hồng", 1}};
static const char *const GIVEN_M[] = {
    "An",   "Bình", "Cường", "Dũng", "Đạt",  "Giang", "Hải",  "Hiếu",  "Hoàng", "Hùng",  "Hưng",
    "Huy",  "Khánh", "Khoa", "Kiên", "Lâm",  "Long",  "Minh", "Nam",   "Nghĩa", "Phong", "Phúc",
    "Quân", "Quang", "Sơn",  "Tài",  "Thắng", "Thành", "Thịnh", "Toàn", "Trung", "Tú",    "Tuấn",
    "Tùng", "Việt", "Vinh", "Vũ",   "Anh",  "Đức",   "Hà",   "Hậu",  "Hòa",   "Lộc",   "Mạnh",
    "Thái", "Tiến", "Trường", "Duy", "Hiệp", "Khải", "Lực",  "Ninh", "Phú",   "Sang",  "Tâm",
    "Thọ",  "Thuận", "Toản", "Trọng", "Tuyên", "Đông", "Điệp", "Chiến", "Công", "Định", "Hào"};
static const char *const GIVEN_F[] = {
    "Anh",  "Chi",  "Dung", "Duyên", "Giang", "Hà",   "Hạnh", "Hằng",  "Hiền", "Hoa",   "Hồng",
    "Huệ",  "Hương", "Huyền", "Lan", "Liên",  "Linh", "Loan", "Ly",    "Mai",  "Minh",  "My",
    "Nga",  "Ngân", "Ngọc", "Nhung", "Oanh", "Phương", "Quyên", "Quỳnh", "Tâm", "Thảo", "Thơ",
    "Thu",  "Thủy", "Thúy", "Trang", "Trinh", "Tuyết", "Uyên", "Vân",  "Yến",  "Xuân",  "Hậu",
    "Hường", "Lựu", "Nhàn", "Phượng", "Sen", "Thắm", "Thanh", "Thoa", "Thương", "Trâm", "Vy",
    "Huyền", "Lệ", "Ánh", "Bích", "Diệp", "Hảo", "Hoài", "Khánh", "Lụa", "Mến", "Nguyệt"};

/* Bắc Giang's districts (before the 2025 merger); the mountain ones have most minority people. */
typedef struct {
  const char *name;
  int mountain;
  const char *communes[8];
} district;

static const district DISTRICTS[] = {
    {"thành phố Bắc Giang", 0, {"Phường Trần Phú", "Phường Ngô Quyền", "Phường Hoàng Văn Thụ", "Phường Lê Lợi", "Xã Song Mai", "Xã Đồng Sơn", "Xã Tân Mỹ", "Phường Dĩnh Kế"}},
    {"huyện Lục Nam", 1, {"Thị trấn Đồi Ngô", "Xã Tiên Hưng", "Xã Bảo Sơn", "Xã Cương Sơn", "Xã Lục Sơn", "Xã Bình Sơn", "Xã Trường Sơn", "Xã Vô Tranh"}},
    {"huyện Lục Ngạn", 1, {"Thị trấn Chũ", "Xã Biên Sơn", "Xã Kiên Thành", "Xã Phượng Sơn", "Xã Tân Quang", "Xã Sơn Hải", "Xã Hộ Đáp", "Xã Phong Vân"}},
    {"huyện Sơn Động", 1, {"Thị trấn An Châu", "Xã An Lạc", "Xã Vân Sơn", "Xã Hữu Sản", "Xã Dương Hưu", "Xã Long Sơn", "Xã Thanh Luận", "Xã Tuấn Đạo"}},
    {"huyện Yên Thế", 1, {"Thị trấn Cầu Gồ", "Xã Đồng Tiến", "Xã Canh Nậu", "Xã Xuân Lương", "Xã Tam Tiến", "Xã Đồng Vương", "Xã Hồng Kỳ", "Xã Phồn Xương"}},
    {"huyện Tân Yên", 0, {"Thị trấn Cao Thượng", "Xã Liên Sơn", "Xã Ngọc Thiện", "Xã Quang Tiến", "Xã Việt Lập", "Xã Cao Xá", "Xã Phúc Hòa", "Xã Lam Cốt"}},
    {"huyện Hiệp Hòa", 0, {"Thị trấn Thắng", "Xã Đoan Bái", "Xã Hoàng Vân", "Xã Bắc Lý", "Xã Đông Lỗ", "Xã Mai Trung", "Xã Hương Lâm", "Xã Danh Thắng"}},
    {"huyện Lạng Giang", 0, {"Thị trấn Vôi", "Thị trấn Kép", "Xã Tân Dĩnh", "Xã Quang Thịnh", "Xã Yên Mỹ", "Xã Tân Thịnh", "Xã Hương Sơn", "Xã Nghĩa Hòa"}},
    {"thị xã Việt Yên", 0, {"Phường Bích Động", "Phường Nếnh", "Xã Minh Đức", "Xã Thượng Lan", "Xã Trung Sơn", "Xã Tiên Sơn", "Phường Vân Trung", "Xã Nghĩa Trung"}},
    {"huyện Yên Dũng", 0, {"Thị trấn Tân An", "Thị trấn Nham Biền", "Xã Lãng Sơn", "Xã Trí Yên", "Xã Đồng Phúc", "Xã Tư Mại", "Xã Xuân Phú", "Xã Cảnh Thụy"}},
};
enum { N_DISTRICTS = sizeof DISTRICTS / sizeof DISTRICTS[0] };

static const char *const PROVINCES[] = {"Bắc Giang", "Bắc Ninh", "Hà Nội", "Hải Dương", "Thái Bình", "Nam Định",
                                        "Lạng Sơn", "Thái Nguyên", "Phú Thọ", "Nghệ An", "Thanh Hóa", "Hưng Yên",
                                        "Vĩnh Phúc", "Hà Nam", "Ninh Bình", "Quảng Ninh", "Hải Phòng", "Hà Tĩnh"};
static const char *const DEPARTMENTS[] = {
    "Sở Nội vụ", "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Sở Tư pháp", "Sở Giáo dục và Đào tạo", "Sở Y tế",
    "Sở Nông nghiệp và Phát triển nông thôn", "Sở Xây dựng", "Sở Giao thông vận tải", "Sở Công Thương",
    "Sở Tài nguyên và Môi trường", "Sở Lao động – Thương binh và Xã hội", "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ", "Sở Thông tin và Truyền thông", "Thanh tra tỉnh", "Văn phòng UBND tỉnh",
    "Sở Ngoại vụ", "Ban Dân tộc tỉnh", "Ban Quản lý các khu công nghiệp"};
static const char *const DISTRICT_AGENCIES[] = {
    "Văn phòng HĐND và UBND", "Phòng Nội vụ", "Phòng Tài chính – Kế hoạch", "Phòng Tư pháp",
    "Phòng Giáo dục và Đào tạo", "Phòng Y tế", "Phòng Nông nghiệp và PTNT", "Phòng Kinh tế và Hạ tầng",
    "Phòng Tài nguyên và Môi trường", "Phòng Lao động – TB và XH", "Phòng Văn hóa và Thông tin",
    "Thanh tra huyện"};
static const char *const SCHOOLS[] = {"Trường THCS", "Trường Tiểu học", "Trường Mầm non", "Trường THPT",
                                      "Trung tâm Y tế", "Trung tâm GDNN – GDTX"};
static const char *const DEPT_UNITS[] = {"Văn phòng Sở", "Thanh tra Sở", "Phòng Tổ chức cán bộ",
                                         "Phòng Kế hoạch – Tài chính", "Chi cục", "Trung tâm"};
static const char *const SUB_UNITS[] = {"Bộ phận Văn phòng – Thống kê", "Bộ phận Tài chính – Kế toán",
                                        "Tổ chuyên môn", "Bộ phận Địa chính – Xây dựng", "Tổ Hành chính",
                                        "Bộ phận Tư pháp – Hộ tịch"};
static const char *const TEAMS[] = {"Tổ Một cửa", "Nhóm nghiệp vụ", "Tổ công tác", "Nhóm chuyên môn"};

/* ------------------------------------------------------------ ranks and salary tables ---- */

typedef struct {
  const char *code;
  int step_years;
  int n;
  const char *coef[12];
  const char *title;
} rank;

#define R_A31 {"6.20", "6.56", "6.92", "7.28", "7.64", "8.00"}
#define R_A21 {"4.40", "4.74", "5.08", "5.42", "5.76", "6.10", "6.44", "6.78"}
#define R_A22 {"4.00", "4.34", "4.68", "5.02", "5.36", "5.70", "6.04", "6.38"}
#define R_A1 {"2.34", "2.67", "3.00", "3.33", "3.66", "3.99", "4.32", "4.65", "4.98"}
#define R_A0 {"2.10", "2.41", "2.72", "3.03", "3.34", "3.65", "3.96", "4.27", "4.58", "4.89"}
#define R_B {"1.86", "2.06", "2.26", "2.46", "2.66", "2.86", "3.06", "3.26", "3.46", "3.66", "3.86", "4.06"}

/* NĐ 204/2004 tables of the catalogue's ranks (migration 002). */
static const rank RANKS[] = {
    {"01.001", 3, 6, R_A31, "Chuyên viên cao cấp"},   {"01.002", 3, 8, R_A21, "Chuyên viên chính"},
    {"01.003", 3, 9, R_A1, "Chuyên viên"},            {"01.004", 3, 10, R_A0, "Cán sự"},
    {"01.005", 2, 12, R_B, "Nhân viên"},              {"04.025", 3, 9, R_A1, "Thanh tra viên"},
    {"06.031", 3, 9, R_A1, "Kế toán viên"},           {"V.07.04.30", 3, 8, R_A21, "Giáo viên THCS hạng I"},
    {"V.07.04.31", 3, 8, R_A22, "Giáo viên THCS hạng II"}, {"V.07.04.32", 3, 9, R_A1, "Giáo viên THCS hạng III"},
    {"V.07.05.14", 3, 8, R_A22, "Giáo viên THPT hạng II"}, {"V.07.05.15", 3, 9, R_A1, "Giáo viên THPT hạng III"},
    {"V.08.01.02", 3, 8, R_A21, "Bác sĩ chính"},      {"V.08.01.03", 3, 9, R_A1, "Bác sĩ"},
};
static const rank *rank_of(const char *code) {
  for (size_t i = 0; i < sizeof RANKS / sizeof RANKS[0]; i++)
    if (strcmp(RANKS[i].code, code) == 0) return &RANKS[i];
  return &RANKS[2];
}

/* ------------------------------------------------------------ arena --------------------- */

/* One generated record's memory: a bump allocator reset after each record is encoded. */
typedef struct {
  char *buf;
  size_t used, cap;
} arena;

static void *A(arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (a->used + n > a->cap) {
    fprintf(stderr, "hoso-gen-records: record arena exhausted\n");
    exit(1);
  }
  void *p = a->buf + a->used;
  a->used += n;
  memset(p, 0, n);
  return p;
}

static char *S(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *S(arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char tmp[512];
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
  char *p = A(a, (size_t)n + 1);
  memcpy(p, tmp, (size_t)n + 1);
  return p;
}

#define NEW(a, T, init)       \
  ({                          \
    T *m_ = A(a, sizeof(T));  \
    init(m_);                 \
    m_;                       \
  })
#define ARR(a, T, n) ((T **)A(a, (size_t)(n) * sizeof(T *) + 1))

/* ------------------------------------------------------------ one person ---------------- */

typedef struct {
  int year_now;
} gen_ctx;

static const char *family_for(rng *r, const char *ethn) {
  if (!strcmp(ethn, "02") || !strcmp(ethn, "07")) return PICKW(r, FAMILY_TAY_NUNG);
  if (!strcmp(ethn, "09")) return PICKW(r, FAMILY_DAO);
  if (!strcmp(ethn, "18")) return PICKW(r, FAMILY_SAN_DIU);
  return PICKW(r, FAMILY);
}

static const char *person_name(arena *a, rng *r, const char *family, int male) {
  const char *mid = male ? PICKW(r, MIDDLE_M) : PICKW(r, MIDDLE_F);
  const char *given = male ? PICK(r, GIVEN_M) : PICK(r, GIVEN_F);
  return S(a, "%s %s %s", family, mid, given);
}

static const char *place(arena *a, rng *r, int district_idx) {
  const district *d = &DISTRICTS[district_idx];
  return S(a, "%s, %s, tỉnh Bắc Giang", d->communes[uni(r, 8)], d->name);
}

static const char *home_town(arena *a, rng *r, int district_idx) {
  if (chance(r, 0.7)) return place(a, r, district_idx);
  return S(a, "Xã %s, huyện %s, tỉnh %s", PICK(r, GIVEN_M), PICK(r, GIVEN_F), PICK(r, PROVINCES));
}

static char *ymd(arena *a, int y, int m, int d) { return S(a, "%04d-%02d-%02d", y, m, d); }
static char *rand_date(arena *a, rng *r, int y) { return ymd(a, y, between(r, 1, 12), between(r, 1, 28)); }

static Hoso__Records__V1__Decision *decision(arena *a, rng *r, int y, const char *issuer) {
  Hoso__Records__V1__Decision *d = NEW(a, Hoso__Records__V1__Decision, hoso__records__v1__decision__init);
  int m = between(r, 1, 12), day = between(r, 1, 28);
  d->number = S(a, "%d/QĐ-%s", between(r, 12, 2890), issuer);
  d->date = ymd(a, y, m, day);
  d->effective_date = ymd(a, y, m, day);
  d->issuer = issuer[0] == 'U' ? "Ủy ban nhân dân tỉnh Bắc Giang" : "Sở Nội vụ tỉnh Bắc Giang";
  return d;
}

/* Ethnicity: mostly Kinh; in the mountain districts Tày, Nùng, Dao, Sán Dìu, Sán Chay, Hoa. */
static const char *ethnicity(rng *r, int mountain) {
  static const wv plain[] = {{"01", 97}, {"02", 0.8}, {"07", 0.8}, {"18", 0.6}, {"04", 0.5}, {"06", 0.3}};
  static const wv hills[] = {{"01", 62}, {"02", 12}, {"07", 12}, {"09", 5}, {"18", 5}, {"15", 2}, {"04", 2}};
  return mountain ? PICKW(r, hills) : PICKW(r, plain);
}

/* A year of birth for ages 22..62: a working population's pyramid, widest in the late 30s. */
static int birth_year(rng *r, int now) {
  int age = 22 + (int)((unit_f(r) + unit_f(r) + unit_f(r)) / 3.0 * 41.0);
  return now - (age > 62 ? 62 : age);
}

typedef struct {
  int category;
  const char *rank;
} job;

static job pick_job(rng *r) {
  double x = unit_f(r);
  job j;
  if (x < 0.35) {
    j.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CIVIL_SERVANT;
    static const wv cs[] = {{"01.003", 66}, {"01.002", 16}, {"01.001", 2}, {"01.004", 6}, {"01.005", 3}, {"04.025", 4}, {"06.031", 3}};
    j.rank = PICKW(r, cs);
  } else if (x < 0.83) {
    j.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_PUBLIC_EMPLOYEE;
    static const wv ve[] = {{"V.07.04.32", 25}, {"V.07.04.31", 14}, {"V.07.04.30", 3}, {"V.07.05.15", 12},
                            {"V.07.05.14", 8},  {"V.08.01.03", 12}, {"V.08.01.02", 5}, {"01.003", 15}, {"01.004", 6}};
    j.rank = PICKW(r, ve);
  } else if (x < 0.88) {
    j.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CADRE;
    j.rank = chance(r, 0.6) ? "01.002" : "01.001";
  } else if (x < 0.97) {
    j.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_COMMUNE_OFFICIAL;
    j.rank = chance(r, 0.8) ? "01.003" : "01.004";
  } else {
    j.category = HOSO__RECORDS__V1__CATEGORY__CATEGORY_CONTRACT;
    j.rank = "01.005";
  }
  return j;
}

/* Highest degree by rank group: senior ranks hold master's degrees and more. */
static const char *degree_for(rng *r, const rank *k) {
  if (k->n <= 6) return chance(r, 0.55) ? "THS" : chance(r, 0.3) ? "TS" : "DH";
  if (k->n == 8) return chance(r, 0.35) ? "THS" : "DH";
  if (k->n == 9) return chance(r, 0.85) ? "DH" : chance(r, 0.5) ? "THS" : "CD";
  if (k->n == 10) return chance(r, 0.6) ? "CD" : "TC";
  return chance(r, 0.6) ? "TC" : "SC";
}

static const char *political_for(rng *r, const rank *k, int party) {
  if (k->n <= 6) return chance(r, 0.7) ? "CC" : "CN";
  if (k->n == 8) return chance(r, 0.6) ? "CC" : "TC";
  if (party) return chance(r, 0.5) ? "TC" : "SC";
  return chance(r, 0.2) ? "SC" : "";
}

static const char *const MAJORS[] = {"Luật", "Kinh tế", "Quản lý nhà nước", "Hành chính học", "Kế toán",
                                     "Tài chính – Ngân hàng", "Công nghệ thông tin", "Sư phạm Toán học",
                                     "Sư phạm Ngữ văn", "Y đa khoa", "Nông học", "Quản lý giáo dục"};
static const char *const UNIVERSITIES[] = {"Học viện Hành chính Quốc gia", "Trường Đại học Luật Hà Nội",
                                           "Trường Đại học Kinh tế Quốc dân", "Trường Đại học Sư phạm Hà Nội",
                                           "Đại học Thái Nguyên", "Trường Đại học Y Hà Nội",
                                           "Trường Đại học Nông nghiệp Hà Nội", "Đại học Quốc gia Hà Nội"};

static Record *gen_person(arena *a, rng *r, const gen_ctx *g, int district_idx) {
  const district *dist = &DISTRICTS[district_idx];
  Record *rec = NEW(a, Record, hoso__records__v1__record__init);
  int male = chance(r, 0.52);
  const char *eth = ethnicity(r, dist->mountain);
  const char *family = family_for(r, eth);
  int by = birth_year(r, g->year_now);
  rec->full_name = (char *)person_name(a, r, family, male);
  rec->birth_date = (char *)rand_date(a, r, by);
  rec->gender = male ? HOSO__RECORDS__V1__GENDER__GENDER_MALE : HOSO__RECORDS__V1__GENDER__GENDER_FEMALE;
  rec->status = HOSO__RECORDS__V1__RECORD_STATUS__RECORD_STATUS_ACTIVE;

  Hoso__Records__V1__PersonalInfo *p = NEW(a, Hoso__Records__V1__PersonalInfo, hoso__records__v1__personal_info__init);
  p->birth_place = (char *)place(a, r, district_idx);
  p->home_town = (char *)home_town(a, r, district_idx);
  p->ethnicity_code = (char *)eth;
  static const wv rel[] = {{"00", 88}, {"01", 8}, {"02", 3}, {"08", 1}};
  p->religion_code = (char *)PICKW(r, rel);
  /* CCCD: province code 024 (Bắc Giang), century-and-sex digit, two digits of the year. */
  p->citizen_id = S(a, "024%d%02d%06d", (by >= 2000 ? 2 : 0) + (male ? 0 : 1), by % 100, uni(r, 1000000));
  p->citizen_id_date = (char *)rand_date(a, r, between(r, 2021, g->year_now - 1));
  p->citizen_id_place = "Cục Cảnh sát quản lý hành chính về trật tự xã hội";
  p->permanent_address = (char *)place(a, r, district_idx);
  p->current_address = chance(r, 0.8) ? p->permanent_address : (char *)place(a, r, district_idx);
  p->phone = S(a, "09%08d", uni(r, 100000000));
  p->social_insurance_no = S(a, "24%08d", uni(r, 100000000));
  rec->personal = p;

  job j = pick_job(r);
  const rank *k = rank_of(j.rank);
  int start_age = between(r, 22, 30);
  int ry = by + start_age;
  if (ry > g->year_now - 1) ry = g->year_now - 1;
  Hoso__Records__V1__Employment *e = NEW(a, Hoso__Records__V1__Employment, hoso__records__v1__employment__init);
  e->category = j.category;
  e->recruitment_date = (char *)rand_date(a, r, ry);
  e->recruitment_agency = S(a, "UBND %s", dist->name);
  e->department = (char *)PICK(r, DISTRICT_AGENCIES);
  e->job_position = S(a, "%s", k->title);
  e->staffing_status = j.category == HOSO__RECORDS__V1__CATEGORY__CATEGORY_CONTRACT ? "HD_111"
                       : j.category == HOSO__RECORDS__V1__CATEGORY__CATEGORY_PUBLIC_EMPLOYEE ? "HDLV_KXD"
                                                                                                : "BIEN_CHE";
  e->official_date = (char *)rand_date(a, r, ry + 1 > g->year_now ? g->year_now : ry + 1);
  if (e->official_date[0] && strcmp(e->official_date, e->recruitment_date) < 0) e->official_date = e->recruitment_date;
  if (chance(r, 0.12)) {
    static const char *const lead[] = {"TRUONG_PHONG", "PHO_TRUONG_PHONG", "PHO_TRUONG_PHONG", "HIEU_TRUONG",
                                       "PHO_HIEU_TRUONG", "TO_TRUONG", "PCT_UBND_XA", "CHI_CUC_TRUONG"};
    e->position_code = (char *)PICK(r, lead);
    e->position_date = (char *)rand_date(a, r, between(r, ry + 3 < g->year_now ? ry + 3 : ry, g->year_now));
  }
  e->main_duties = "Tham mưu, tổng hợp và thực hiện nhiệm vụ chuyên môn được giao";
  rec->employment = e;

  /* Salary history: a step every step_years years from recruitment, sometimes a rank promotion. */
  int years = g->year_now - ry;
  int n_sal = 1 + years / k->step_years;
  if (n_sal < 2) n_sal = 2;
  if (n_sal > 8) n_sal = 8;
  rec->salary_history = ARR(a, Hoso__Records__V1__SalaryHistoryEntry, n_sal);
  int step = 1, y = ry;
  for (int i = 0; i < n_sal; i++) {
    Hoso__Records__V1__SalaryHistoryEntry *s =
        NEW(a, Hoso__Records__V1__SalaryHistoryEntry, hoso__records__v1__salary_history_entry__init);
    s->date = S(a, "%04d-%02d", y, between(r, 1, 12));
    s->rank_code = (char *)k->code;
    s->step = step;
    s->coefficient = (char *)k->coef[step - 1];
    s->decision = decision(a, r, y, chance(r, 0.5) ? "UBND" : "SNV");
    rec->salary_history[rec->n_salary_history++] = s;
    if (step < k->n) step++;
    y += k->step_years;
    if (y > g->year_now) y = g->year_now;
  }
  Hoso__Records__V1__SalaryHistoryEntry *last = rec->salary_history[rec->n_salary_history - 1];
  Hoso__Records__V1__SalaryInfo *sal = NEW(a, Hoso__Records__V1__SalaryInfo, hoso__records__v1__salary_info__init);
  sal->rank_code = (char *)k->code;
  sal->step = last->step;
  sal->coefficient = last->coefficient;
  sal->effective_date = S(a, "%s-01", last->date);
  if (e->position_code && e->position_code[0]) sal->position_allowance = chance(r, 0.5) ? "0.30" : "0.20";
  if (last->step == k->n && chance(r, 0.5)) sal->seniority_beyond_frame_percent = S(a, "%d", between(r, 5, 12));
  rec->salary = sal;

  int party = chance(r, k->n <= 8 ? 0.75 : 0.35);
  Hoso__Records__V1__Qualifications *q = NEW(a, Hoso__Records__V1__Qualifications, hoso__records__v1__qualifications__init);
  q->general_education = "12/12";
  q->degree_code = (char *)degree_for(r, k);
  q->major = (char *)PICK(r, MAJORS);
  q->political_theory_code = (char *)political_for(r, k, party);
  q->state_management_code = k->n <= 6 ? "CVCC" : k->n == 8 ? "CVC" : chance(r, 0.5) ? "CV" : "";
  q->foreign_languages = ARR(a, char, 1);
  q->foreign_languages[q->n_foreign_languages++] = chance(r, 0.8) ? "Tiếng Anh B1" : "Tiếng Anh B2";
  q->it_level = "Ứng dụng công nghệ thông tin cơ bản";
  rec->qualifications = q;

  Hoso__Records__V1__PartyAndUnions *pu = NEW(a, Hoso__Records__V1__PartyAndUnions, hoso__records__v1__party_and_unions__init);
  pu->party_member = party;
  if (party) {
    int jy = by + between(r, 24, 34);
    if (jy > g->year_now - 1) jy = g->year_now - 1;
    pu->party_join_date = (char *)rand_date(a, r, jy);
    pu->party_official_date = S(a, "%04d%s", jy + 1, pu->party_join_date + 4);
    if (strcmp(pu->party_official_date, S(a, "%04d-12-31", g->year_now)) > 0) pu->party_official_date = "";
  }
  pu->socio_political_orgs = "Công đoàn Việt Nam";
  rec->party = pu;

  Hoso__Records__V1__HealthAndPolicy *h = NEW(a, Hoso__Records__V1__HealthAndPolicy, hoso__records__v1__health_and_policy__init);
  h->health_status = chance(r, 0.9) ? "Tốt" : "Khá";
  h->height_cm = male ? between(r, 158, 178) : between(r, 148, 166);
  h->weight_kg = male ? between(r, 52, 80) : between(r, 42, 62);
  static const char *const blood[] = {"O", "A", "B", "AB", "O", "O", "A", "B"};
  h->blood_type = (char *)PICK(r, blood);
  rec->health = h;

  /* Work history: 2..6 periods from recruitment to now. */
  int n_work = between(r, 2, 6);
  rec->work_history = ARR(a, Hoso__Records__V1__WorkHistoryEntry, n_work);
  int wy = ry, span = years > 0 ? years : 1;
  for (int i = 0; i < n_work; i++) {
    Hoso__Records__V1__WorkHistoryEntry *w = NEW(a, Hoso__Records__V1__WorkHistoryEntry, hoso__records__v1__work_history_entry__init);
    int end = i == n_work - 1 ? 0 : wy + 1 + uni(r, span / n_work + 1);
    if (end > g->year_now) end = g->year_now;
    w->from = S(a, "%04d-%02d", wy, between(r, 1, 12));
    w->to = end ? S(a, "%04d-12", end) : "";
    w->unit = S(a, "%s, %s", PICK(r, DISTRICT_AGENCIES), DISTRICTS[uni(r, N_DISTRICTS)].name);
    w->position = (char *)(i == n_work - 1 && e->position_code && e->position_code[0] ? "Phó Trưởng phòng" : k->title);
    rec->work_history[rec->n_work_history++] = w;
    if (end) wy = end + 1 > g->year_now ? g->year_now : end + 1;
  }

  /* Trainings: the degree, and political theory when held. */
  int n_tr = between(r, 1, 3);
  rec->trainings = ARR(a, Hoso__Records__V1__TrainingEntry, n_tr);
  for (int i = 0; i < n_tr; i++) {
    Hoso__Records__V1__TrainingEntry *t = NEW(a, Hoso__Records__V1__TrainingEntry, hoso__records__v1__training_entry__init);
    if (i == 0) {
      t->school = (char *)PICK(r, UNIVERSITIES);
      t->major = q->major;
      t->from = S(a, "%04d-09", by + 18);
      t->to = S(a, "%04d-06", by + 22);
      t->form = "Chính quy";
      t->degree_code = strcmp(q->degree_code, "THS") && strcmp(q->degree_code, "TS") ? q->degree_code : "DH";
      t->kind = "PROFESSIONAL";
    } else if (i == 1 && q->political_theory_code[0]) {
      int ty = ry + between(r, 2, 8);
      if (ty > g->year_now - 1) ty = g->year_now - 1;
      t->school = "Trường Chính trị tỉnh Bắc Giang";
      t->major = "Lý luận chính trị";
      t->from = S(a, "%04d-03", ty);
      t->to = S(a, "%04d-11", ty);
      t->form = "Tại chức";
      t->kind = "POLITICAL_THEORY";
    } else {
      int ty = ry + between(r, 1, 6);
      if (ty > g->year_now - 1) ty = g->year_now - 1;
      t->school = "Học viện Hành chính Quốc gia";
      t->major = "Bồi dưỡng kiến thức quản lý nhà nước";
      t->from = S(a, "%04d-05", ty);
      t->to = S(a, "%04d-07", ty);
      t->form = "Bồi dưỡng";
      t->kind = "STATE_MANAGEMENT";
    }
    rec->trainings[rec->n_trainings++] = t;
  }

  int n_rw = uni(r, 6);
  rec->rewards = ARR(a, Hoso__Records__V1__RewardEntry, n_rw);
  for (int i = 0; i < n_rw; i++) {
    static const wv forms[] = {{"LD_TIEN_TIEN", 40}, {"GIAY_KHEN", 25}, {"CSTD_CO_SO", 20}, {"BK_TINH", 12}, {"CSTD_TINH", 3}};
    Hoso__Records__V1__RewardEntry *w = NEW(a, Hoso__Records__V1__RewardEntry, hoso__records__v1__reward_entry__init);
    int yy = between(r, ry, g->year_now - 1 > ry ? g->year_now - 1 : ry);
    w->form_code = (char *)PICKW(r, forms);
    w->title = S(a, "Hoàn thành xuất sắc nhiệm vụ năm %d", yy);
    w->year = S(a, "%04d", yy);
    w->decision = decision(a, r, yy, "UBND");
    rec->rewards[rec->n_rewards++] = w;
  }

  /* Family: parents, a spouse for most people past 25, children, siblings (3..8 people). */
  rec->family = ARR(a, Hoso__Records__V1__FamilyRelation, 8);
  const char *spouse_family = PICKW(r, FAMILY);
  struct {
    const char *rel;
    int on;
  } fam[] = {{"FATHER", 1}, {"MOTHER", 1}, {"SPOUSE", g->year_now - by > 25 && chance(r, 0.85)},
             {"CHILD", 0}, {"CHILD", 0}, {"SIBLING", 0}, {"SIBLING", 0}, {"CHILD", 0}};
  int kids = fam[2].on ? uni(r, 4) : 0, sibs = uni(r, 3);
  if (!fam[2].on && sibs == 0) sibs = 1; /* at least three relatives on every form */
  for (int i = 0; i < kids && i < 2; i++) fam[3 + i].on = 1;
  if (kids == 3) fam[7].on = 1;
  for (int i = 0; i < sibs; i++) fam[5 + i].on = 1;
  for (size_t i = 0; i < 8; i++) {
    if (!fam[i].on) continue;
    Hoso__Records__V1__FamilyRelation *f = NEW(a, Hoso__Records__V1__FamilyRelation, hoso__records__v1__family_relation__init);
    const char *rl = fam[i].rel;
    int fm = !strcmp(rl, "FATHER") || (!strcmp(rl, "SPOUSE") && !male) || chance(r, 0.5);
    const char *fn = !strcmp(rl, "MOTHER") ? PICKW(r, FAMILY)
                     : !strcmp(rl, "SPOUSE") ? spouse_family
                     : !strcmp(rl, "CHILD") && !male ? spouse_family
                                                      : family;
    int fy = !strcmp(rl, "FATHER") || !strcmp(rl, "MOTHER") ? by - between(r, 22, 32)
             : !strcmp(rl, "CHILD") ? by + between(r, 24, 34)
                                    : by + between(r, -6, 6);
    if (fy > g->year_now) fy = g->year_now;
    f->relation_code = (char *)rl;
    f->full_name = (char *)person_name(a, r, fn, !strcmp(rl, "MOTHER") ? 0 : fm);
    f->birth_year = S(a, "%04d", fy);
    f->occupation = fy + 60 < g->year_now ? "Nghỉ hưu" : (char *)PICK(r, ((const char *const[]){"Làm ruộng", "Giáo viên", "Công chức", "Kinh doanh", "Công nhân", "Học sinh"}));
    f->residence = (char *)place(a, r, district_idx);
    rec->family[rec->n_family++] = f;
  }
  return rec;
}

/* ------------------------------------------------------------ calls --------------------- */

static cli_chan *id_ch, *rec_ch;
static char bearer[8192];
static pthread_mutex_t bearer_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t bearer_at;
static const char *admin_user = "admin", *admin_password;

static int login(void) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)admin_user;
  req.password = (char *)admin_password;
  ProtobufCMessage *out = NULL;
  cli_status st;
  grpc_status_code c = cli_call(id_ch, IDN "Login", &req.base, &hoso__identity__v1__login_response__descriptor, &out,
                                NULL, 0, 30000, &st);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "hoso-gen-records: login as %s: %s %s\n", admin_user, cli_status_name(c), st.message);
    return -1;
  }
  Hoso__Identity__V1__LoginResponse *l = (void *)out;
  snprintf(bearer, sizeof bearer, "Bearer %s", l->access_token);
  bearer_at = time(NULL);
  protobuf_c_message_free_unpacked(out, NULL);
  return 0;
}

/* A call with the admin's token, logging in again before the 15-minute token runs out. */
static grpc_status_code call(cli_chan *ch, const char *method, const ProtobufCMessage *req,
                             const ProtobufCMessageDescriptor *d, ProtobufCMessage **out, cli_status *st) {
  char b[sizeof bearer];
  pthread_mutex_lock(&bearer_lock);
  if (time(NULL) - bearer_at > 600 && login() != 0) {
    pthread_mutex_unlock(&bearer_lock);
    return GRPC_STATUS_UNAUTHENTICATED;
  }
  memcpy(b, bearer, sizeof b);
  pthread_mutex_unlock(&bearer_lock);
  cli_md md = {"authorization", b};
  return cli_call(ch, method, req, d, out, &md, 1, TIMEOUT_MS, st);
}

/* ------------------------------------------------------------ the unit tree ------------- */

typedef struct {
  char id[32];
  int district; /* for places and ethnicities */
} leaf;

static leaf *leaves;
static size_t n_leaves;

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
static int build_tree(const char *root_id, unsigned seed, int threads, int communes_per_district) {
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
      for (size_t g = 0; g < sizeof DISTRICT_AGENCIES / sizeof DISTRICT_AGENCIES[0]; g++) {
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

static int load_leaves(const char *path) {
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

static void save_leaves(const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  for (size_t i = 0; i < n_leaves; i++) fprintf(f, "%s %d\n", leaves[i].id, leaves[i].district);
  fclose(f);
}

/* ------------------------------------------------------------ generating and loading ---- */

typedef struct {
  size_t leaf, count, first; /* records [first, first + count) of the run go to leaf */
} load_job;

static load_job *jobs;
static size_t n_jobs, next_job;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *from_file;
static unsigned g_seed;
static int g_proto; /* IMPORT_FORMAT_PROTO (length-prefixed Record messages) instead of JSON lines */
static gen_ctx gctx;
static long long done_records, failed_calls, n_calls;
static double t_start;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct {
  char *s;
  size_t len, cap;
} text;

/* Room for n more bytes at the end of t (the caller writes them and adds n to len). */
static char *text_room(text *t, size_t n) {
  if (t->len + n + 2 > t->cap) {
    t->cap = (t->len + n + 2) * 2;
    t->s = realloc(t->s, t->cap);
    if (!t->s) {
      fprintf(stderr, "hoso-gen-records: out of memory\n");
      exit(1);
    }
  }
  return t->s + t->len;
}

static void text_put(text *t, const char *s, size_t n) {
  memcpy(text_room(t, n), s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

/* Record number idx in the run's format: its JSON line, or its packed message preceded by the
 * length as a varint (deterministic: its own generator seeded from the run's seed and idx). */
static void record_item(arena *a, size_t idx, int district, text *out) {
  rng r;
  rng_seed(&r, ((uint64_t)g_seed << 32) ^ (uint64_t)idx);
  a->used = 0;
  Record *rec = gen_person(a, &r, &gctx, district);
  if (g_proto) {
    size_t n = protobuf_c_message_get_packed_size(&rec->base);
    uint8_t pre[10];
    size_t k = 0;
    for (uint64_t v = n; k == 0 || v; v >>= 7) pre[k++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
    text_put(out, (const char *)pre, k);
    uint8_t *buf = A(a, n);
    protobuf_c_message_pack(&rec->base, buf);
    text_put(out, (const char *)buf, n);
    return;
  }
  char *j = pbjson_encode(&rec->base, 0);
  if (!j) {
    fprintf(stderr, "hoso-gen-records: cannot encode a record\n");
    exit(1);
  }
  text_put(out, j, strlen(j));
  text_put(out, "\n", 1);
  free(j);
}

/* The next record of a file in the run's format appended to t (its line, or its length prefix
 * and message): 1, or 0 at the end of the file. A truncated file ends the run. */
static int read_item(FILE *f, text *t) {
  if (!g_proto) {
    char line[65536];
    if (!fgets(line, sizeof line, f)) return 0;
    text_put(t, line, strlen(line));
    return 1;
  }
  uint8_t pre[10];
  size_t k = 0;
  uint64_t n = 0;
  for (int c; k < 5; k++) {
    if ((c = getc(f)) == EOF) {
      if (k == 0) return 0;
      break;
    }
    pre[k] = (uint8_t)c;
    n |= (uint64_t)(c & 0x7f) << (7 * k);
    if (!(c & 0x80)) {
      k++;
      break;
    }
  }
  if (k == 0 || (pre[k - 1] & 0x80) || n > (1u << 20)) {
    fprintf(stderr, "hoso-gen-records: the input file is not length-prefixed Record messages, or it is truncated\n");
    exit(1);
  }
  text_put(t, (const char *)pre, k);
  if (fread(text_room(t, n), 1, n, f) != n) {
    fprintf(stderr, "hoso-gen-records: the input file is truncated\n");
    exit(1);
  }
  t->len += n;
  return 1;
}

/* The gRPC limit is 4 MiB per message: a call carries at most this much content. */
#define CALL_CONTENT_MAX (3800u * 1024u)

/* One ImportRecords call of the records in body (k of them, in the run's format) for the job's
 * leaf. */
static void send_part(const load_job *jb, size_t ji, int part, const text *body, size_t k) {
  Hoso__Records__V1__ImportRecordsRequest req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
  req.unit_id = leaves[jb->leaf].id;
  req.format = g_proto ? HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_PROTO
                       : HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON;
  req.content.data = (uint8_t *)body->s;
  req.content.len = body->len;
  char rid[64];
  snprintf(rid, sizeof rid, "gen-%u-%zu-%d", g_seed, ji, part);
  req.request_id = rid;
  ProtobufCMessage *out = NULL;
  cli_status st;
  grpc_status_code c = call(rec_ch, REC "ImportRecords", &req.base, &hoso__records__v1__import_records_response__descriptor,
                            &out, &st);
  Hoso__Records__V1__ImportRecordsResponse *o = (void *)out;
  pthread_mutex_lock(&job_lock);
  n_calls++;
  if (c != GRPC_STATUS_OK || !o || o->imported != (int)k) {
    failed_calls++;
    if (c != GRPC_STATUS_OK)
      fprintf(stderr, "hoso-gen-records: ImportRecords: %s %s\n", cli_status_name(c), st.message);
    else if (o && o->n_errors)
      fprintf(stderr, "hoso-gen-records: ImportRecords: line %d %s: %s\n", o->errors[0]->line, o->errors[0]->field,
              o->errors[0]->message);
  } else {
    long long before = done_records;
    done_records += (long long)k;
    if (done_records / 50000 != before / 50000)
      fprintf(stderr, "hoso-gen-records: %lld records, %.0f records/s\n", done_records,
              (double)done_records / (now_s() - t_start));
  }
  pthread_mutex_unlock(&job_lock);
  if (out) protobuf_c_message_free_unpacked(out, NULL);
}

static void *load_worker(void *arg) {
  (void)arg;
  arena a = {malloc(1 << 20), 0, 1 << 20};
  text body = {0}, one = {0}, items = {0};
  size_t *ends = NULL, ends_cap = 0;
  for (;;) {
    pthread_mutex_lock(&job_lock);
    size_t ji = next_job < n_jobs ? next_job++ : (size_t)-1;
    items.len = 0;
    size_t got = 0;
    if (ji != (size_t)-1 && from_file) {
      /* Records in file order under the lock: job ji always gets the same ones. */
      if (ends_cap < jobs[ji].count) ends = realloc(ends, (ends_cap = jobs[ji].count) * sizeof *ends);
      for (; got < jobs[ji].count && read_item(from_file, &items); got++) ends[got] = items.len;
    }
    pthread_mutex_unlock(&job_lock);
    if (ji == (size_t)-1) break;
    const load_job *jb = &jobs[ji];
    size_t n = from_file ? got : jb->count, k = 0;
    int part = 0;
    body.len = 0;
    for (size_t i = 0; i < n; i++) {
      one.len = 0;
      if (from_file) {
        size_t from = i ? ends[i - 1] : 0;
        text_put(&one, items.s + from, ends[i] - from);
      } else {
        record_item(&a, jb->first + i, leaves[jb->leaf].district, &one);
      }
      if (k && body.len + one.len > CALL_CONTENT_MAX) {
        send_part(jb, ji, part++, &body, k);
        body.len = 0;
        k = 0;
      }
      text_put(&body, one.s, one.len);
      k++;
    }
    if (k) send_part(jb, ji, part, &body, k);
  }
  free(body.s);
  free(one.s);
  free(items.s);
  free(ends);
  free(a.buf);
  return NULL;
}

/* Spreads count records over the leaves (a leaf's share varies like real unit sizes) and cuts
 * each leaf's share into calls of at most batch records. */
static void plan_jobs(size_t count, int batch) {
  rng r;
  rng_seed(&r, g_seed ^ 0xA5A5u);
  double *w = malloc(n_leaves * sizeof *w), sum = 0;
  for (size_t i = 0; i < n_leaves; i++) sum += w[i] = 0.3 + unit_f(&r) * 1.4;
  size_t cap = n_leaves + count / (size_t)batch + 16, given = 0;
  jobs = calloc(cap, sizeof *jobs);
  for (size_t i = 0; i < n_leaves && given < count; i++) {
    size_t share = i == n_leaves - 1 ? count - given : (size_t)((double)count * w[i] / sum + 0.5);
    if (share > count - given) share = count - given;
    while (share > 0) {
      size_t k = share < (size_t)batch ? share : (size_t)batch;
      if (n_jobs == cap) jobs = realloc(jobs, (cap *= 2) * sizeof *jobs);
      jobs[n_jobs++] = (load_job){i, k, given};
      given += k;
      share -= k;
    }
  }
  free(w);
}

static int usage(void) {
  fprintf(stderr,
          "usage: hoso-gen-records [--seed S] [--count N] [--format json|proto] --out FILE\n"
          "         write N generated dossiers as JSON lines (the proto3 JSON form of Record), or with\n"
          "         --format proto as Record messages each preceded by its length (a varint)\n"
          "       hoso-gen-records [--seed S] [--count N] [--batch B] [--threads T] [--units-file F]\n"
          "                        [--from FILE] [--communes C] [--format json|proto]\n"
          "         as admin (password in HOSO_ADMIN_PASSWORD): build the province's unit tree\n"
          "         through identity's CreateUnit (or reuse the leaves listed in F), then load N\n"
          "         dossiers (generated, or the first N lines of FILE) through ImportRecords,\n"
          "         B per unit (default 2000; a call is cut at 3.8 MiB of content: about 750 dossiers\n"
          "         as JSON, 1 300 as proto), T calls at once (default 2), in ImportRecords' format\n"
          "         IMPORT_FORMAT_JSON (default) or IMPORT_FORMAT_PROTO; FILE must be in that format.\n"
          "Addresses: HOSO_IDENTITY_ADDR, HOSO_RECORDS_ADDR (defaults %s, %s).\n",
          cfg_service_find("identity")->default_addr, cfg_service_find("records")->default_addr);
  return 2;
}

int main(int argc, char **argv) {
  size_t count = 1000;
  int batch = 2000, threads = 2, communes = 22;
  const char *out = NULL, *units_file = NULL, *from = NULL;
  g_seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--seed") && v) g_seed = (unsigned)strtoul(v, NULL, 10), i++;
    else if (!strcmp(a, "--count") && v) count = (size_t)strtoull(v, NULL, 10), i++;
    else if (!strcmp(a, "--batch") && v) batch = atoi(v), i++;
    else if (!strcmp(a, "--threads") && v) threads = atoi(v), i++;
    else if (!strcmp(a, "--communes") && v) communes = atoi(v), i++;
    else if (!strcmp(a, "--out") && v) out = v, i++;
    else if (!strcmp(a, "--units-file") && v) units_file = v, i++;
    else if (!strcmp(a, "--from") && v) from = v, i++;
    else if (!strcmp(a, "--format") && v && (!strcmp(v, "json") || !strcmp(v, "proto"))) g_proto = !strcmp(v, "proto"), i++;
    else return usage();
  }
  if (batch < 1 || batch > 20000 || threads < 1 || threads > 16 || communes < 1 || communes > 24) return usage();
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  /* Dates stay in past years: nothing generated lies in the future whatever today is. */
  gctx.year_now = tm.tm_year + 1900 - 1;

  if (out) {
    FILE *f = strcmp(out, "-") ? fopen(out, "wb") : stdout;
    if (!f) {
      fprintf(stderr, "hoso-gen-records: %s: %s\n", out, strerror(errno));
      return 1;
    }
    arena a = {malloc(1 << 20), 0, 1 << 20};
    text t = {0};
    rng r;
    rng_seed(&r, g_seed);
    for (size_t i = 0; i < count; i++) {
      t.len = 0;
      record_item(&a, i, uni(&r, N_DISTRICTS), &t);
      fwrite(t.s, 1, t.len, f);
    }
    free(t.s);
    free(a.buf);
    return f == stdout ? 0 : fclose(f) == 0 ? 0 : 1;
  }

  admin_password = getenv("HOSO_ADMIN_PASSWORD");
  if (!admin_password || !*admin_password) {
    fprintf(stderr, "hoso-gen-records: set HOSO_ADMIN_PASSWORD to the admin's password\n");
    return 2;
  }
  id_ch = cli_open(cfg_service_addr("identity"));
  rec_ch = cli_open(cfg_service_addr("records"));
  if (!id_ch || !rec_ch || login() != 0) return 1;
  if (!units_file || load_leaves(units_file) != 0) {
    Hoso__Identity__V1__WhoAmIRequest who = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
    ProtobufCMessage *me = NULL;
    cli_status st;
    if (call(id_ch, IDN "WhoAmI", &who.base, &hoso__identity__v1__who_am_iresponse__descriptor, &me, &st) !=
        GRPC_STATUS_OK) {
      fprintf(stderr, "hoso-gen-records: WhoAmI: %s\n", st.message);
      return 1;
    }
    char root[32];
    snprintf(root, sizeof root, "%s", ((Hoso__Identity__V1__WhoAmIResponse *)me)->account->unit_id);
    protobuf_c_message_free_unpacked(me, NULL);
    double t0 = now_s();
    if (build_tree(root, g_seed, threads, communes) != 0) return 1;
    fprintf(stderr, "hoso-gen-records: unit tree made in %.1f s\n", now_s() - t0);
    if (units_file) save_leaves(units_file);
  }
  if (from && !(from_file = fopen(from, "rb"))) {
    fprintf(stderr, "hoso-gen-records: %s: %s\n", from, strerror(errno));
    return 1;
  }
  plan_jobs(count, batch);
  t_start = now_s();
  pthread_t t[16];
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, load_worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  double secs = now_s() - t_start;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("loaded %lld records in %.1f s: %.0f records/s (%lld calls into %zu units, %d at once, %lld failed); "
         "this client's CPU: %.0f us per record\n",
         done_records, secs, secs > 0 ? (double)done_records / secs : 0.0, n_calls, n_leaves, threads, failed_calls,
         done_records ? cpu / (double)done_records * 1e6 : 0.0);
  if (from_file) fclose(from_file);
  free(jobs);
  free(leaves);
  cli_close(rec_ch);
  cli_close(id_ch);
  return failed_calls ? 1 : 0;
}
