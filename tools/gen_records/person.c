/* hoso-gen-records, one person: Vietnamese names from real distributions, places of a Bắc
 * Giang-like province, ranks and salary steps, and the whole dossier (gen_person). */
#include "gen_records.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ randomness ---------------- */

void rng_seed(rng *r, uint64_t seed) {
  r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  if (!r->s) r->s = 1;
}
static uint64_t rnext(rng *r) {
  r->s ^= r->s >> 12;
  r->s ^= r->s << 25;
  r->s ^= r->s >> 27;
  return r->s * 0x2545F4914F6CDD1Dull;
}
int uni(rng *r, int n) { return n <= 1 ? 0 : (int)(rnext(r) % (uint64_t)n); }
static int between(rng *r, int lo, int hi) { return lo + uni(r, hi - lo + 1); }
double unit_f(rng *r) { return (double)(rnext(r) >> 11) / 9007199254740992.0; }
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

const district DISTRICTS[] = {
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
const int N_DISTRICTS = sizeof DISTRICTS / sizeof DISTRICTS[0];

static const char *const PROVINCES[] = {"Bắc Giang", "Bắc Ninh", "Hà Nội", "Hải Dương", "Thái Bình", "Nam Định",
                                        "Lạng Sơn", "Thái Nguyên", "Phú Thọ", "Nghệ An", "Thanh Hóa", "Hưng Yên",
                                        "Vĩnh Phúc", "Hà Nam", "Ninh Bình", "Quảng Ninh", "Hải Phòng", "Hà Tĩnh"};

const char *const DISTRICT_AGENCIES[] = {
    "Văn phòng HĐND và UBND", "Phòng Nội vụ", "Phòng Tài chính – Kế hoạch", "Phòng Tư pháp",
    "Phòng Giáo dục và Đào tạo", "Phòng Y tế", "Phòng Nông nghiệp và PTNT", "Phòng Kinh tế và Hạ tầng",
    "Phòng Tài nguyên và Môi trường", "Phòng Lao động – TB và XH", "Phòng Văn hóa và Thông tin",
    "Thanh tra huyện"};
const int N_DISTRICT_AGENCIES = sizeof DISTRICT_AGENCIES / sizeof DISTRICT_AGENCIES[0];

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

void *A(arena *a, size_t n) {
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

char *S(arena *a, const char *fmt, ...) {
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

Record *gen_person(arena *a, rng *r, const gen_ctx *g, int district_idx) {
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
  /* A few secondments (biệt phái) ending in the coming two years and a few reprimands of the
   * last two: what the reporting service's alerts look for. */
  if (chance(r, 0.02)) {
    Hoso__Records__V1__TransferEntry *t = NEW(a, Hoso__Records__V1__TransferEntry, hoso__records__v1__transfer_entry__init);
    t->kind = "SECONDMENT";
    t->to_unit = S(a, "%s, %s", PICK(r, DISTRICT_AGENCIES), DISTRICTS[uni(r, N_DISTRICTS)].name);
    t->from = S(a, "%04d-%02d-01", g->year_now, between(r, 1, 12));
    t->to = S(a, "%04d-%02d-%02d", g->year_now + between(r, 1, 2), between(r, 1, 12), between(r, 1, 28));
    rec->transfers = ARR(a, Hoso__Records__V1__TransferEntry, 1);
    rec->transfers[rec->n_transfers++] = t;
  }
  if (chance(r, 0.02)) {
    Hoso__Records__V1__DisciplineEntry *d = NEW(a, Hoso__Records__V1__DisciplineEntry, hoso__records__v1__discipline_entry__init);
    d->form_code = chance(r, 0.7) ? "KHIEN_TRACH" : "CANH_CAO";
    d->reason = "Vi phạm quy định về thời gian làm việc";
    d->from = S(a, "%04d-%02d-01", g->year_now - between(r, 0, 1), between(r, 1, 12));
    rec->disciplines = ARR(a, Hoso__Records__V1__DisciplineEntry, 1);
    rec->disciplines[rec->n_disciplines++] = d;
  }
  return rec;
}
