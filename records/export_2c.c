/* The 2C-BNV/2008 résumé renderer of export_2c.h: the form's numbered items 1–26, the tables
 * 27–31, the assessment 32 and the signatures, as one HTML document laid out for A4 paper. */
#include "export_2c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>

typedef Hoso__Records__V1__Record rec_t;

#define DOTS "……………………"
#define SALARY_COLUMNS 6 /* entries per row of table 31: what fits across 170 mm */
#define BLANK_ROWS 3     /* an empty table keeps rows to fill in by hand, as on paper */

typedef struct {
  FILE *f;
  const export_2c_opts *o;
} x2c;

static const char *str(const char *s) { return s ? s : ""; }

/* ------------------------------------------------------------ text ---------------------- */

/* Every value is user data: escaped, line breaks kept as <br>. */
static void esc(x2c *x, const char *s) {
  for (const char *p = str(s); *p; p++) {
    switch (*p) {
    case '&': fputs("&amp;", x->f); break;
    case '<': fputs("&lt;", x->f); break;
    case '>': fputs("&gt;", x->f); break;
    case '"': fputs("&quot;", x->f); break;
    case '\'': fputs("&#39;", x->f); break;
    case '\n': fputs("<br>", x->f); break;
    case '\r': break;
    default: fputc(*p, x->f);
    }
  }
}

/* A value, or the dotted line a blank form shows where it is missing. */
static void val(x2c *x, const char *s) {
  if (s && *s) {
    fputs("<span class=\"v\">", x->f);
    esc(x, s);
    fputs("</span>", x->f);
  } else {
    fputs("<span class=\"dots\">" DOTS "</span>", x->f);
  }
}

static const char *name_of(x2c *x, const char *catalog, const char *code) {
  if (!code || !*code) return "";
  const char *n = x->o && x->o->name ? x->o->name(x->o->name_arg, catalog, code) : NULL;
  return n && *n ? n : code;
}

static int digits(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

/* YYYY-MM-DD → dd/mm/yyyy, YYYY-MM → mm/yyyy; anything else as it is. */
static const char *date_fmt(const char *s, char out[32]) {
  s = str(s);
  size_t n = strlen(s);
  if (n == 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) && s[7] == '-' && digits(s + 8, 2))
    snprintf(out, 32, "%.2s/%.2s/%.4s", s + 8, s + 5, s);
  else if (n == 7 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2))
    snprintf(out, 32, "%.2s/%.4s", s + 5, s);
  else
    snprintf(out, 32, "%.31s", s);
  return out;
}

static void date(x2c *x, const char *s) {
  char b[32];
  val(x, date_fmt(s, b));
}

/* "09/2001 - 06/2005"; an open end reads `open` ("nay" for a job held today). */
static void period(x2c *x, const char *from, const char *to, const char *open) {
  char a[32], b[32];
  date_fmt(from, a);
  date_fmt(to, b);
  esc(x, a);
  if (*a || *b || *open) {
    fputs(" - ", x->f);
    esc(x, *b ? b : open);
  }
}

static void num(x2c *x, int v, const char *unit) {
  char b[32] = "";
  if (v) snprintf(b, sizeof b, "%d%s", v, unit);
  val(x, b);
}

/* The name in capitals, as item 1 asks (Unicode: "Nguyễn" → "NGUYỄN"). */
static void upper(x2c *x, const char *s) {
  size_t n = 0;
  s = str(s);
  uint8_t *u = u8_toupper((const uint8_t *)s, strlen(s), NULL, UNINORM_NFC, NULL, &n);
  if (!u) {
    val(x, s);
    return;
  }
  char *z = malloc(n + 1);
  if (z) {
    memcpy(z, u, n);
    z[n] = 0;
  }
  val(x, z ? z : s);
  free(z);
  free(u);
}

/* ------------------------------------------------------------ layout -------------------- */

static const char css[] =
    "@page{size:A4;margin:20mm 15mm 20mm 25mm}"
    "html{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{font-family:\"Times New Roman\",Times,\"Liberation Serif\",serif;font-size:13pt;"
    "line-height:1.5;color:#000;background:#fff;margin:0}"
    ".sheet{width:170mm;margin:0 auto}"
    "@media screen{.sheet{padding:12mm 0}}"
    "p{margin:0 0 2pt 0}"
    ".v{font-weight:bold}"
    ".dots{color:#555;letter-spacing:1px}"
    ".hint{font-size:10.5pt;font-style:italic}"
    ".top{width:100%;border-collapse:collapse;margin-bottom:6pt}"
    ".top td{vertical-align:top;padding:0;font-size:12pt}"
    ".form{text-align:right;font-weight:bold}"
    ".photo{width:40mm;height:60mm;border:1px solid #000;display:flex;align-items:center;"
    "justify-content:center;text-align:center;font-size:11pt}"
    ".title{text-align:center;font-size:15pt;font-weight:bold;margin:0}"
    "h2{font-size:13pt;font-weight:bold;margin:8pt 0 4pt 0;padding-top:3pt;break-after:avoid;"
    "page-break-after:avoid}"
    "h3{font-size:13pt;font-weight:normal;font-style:italic;margin:4pt 0 3pt 0;padding-top:2pt;break-after:avoid;"
    "page-break-after:avoid}"
    "table.grid{width:100%;border-collapse:collapse;margin:2pt 0 4pt 0;font-size:12pt}"
    ".grid th,.grid td{border:1px solid #000;padding:2pt 4pt;vertical-align:top}"
    ".grid th{font-weight:bold;text-align:center}"
    ".grid thead{display:table-header-group}"
    ".grid tr{break-inside:avoid;page-break-inside:avoid}"
    ".grid td.blank{height:16pt}"
    "table.salary{table-layout:fixed}"
    ".grid th.row{text-align:left}"
    ".note{font-size:11pt;font-style:italic;margin:0 0 4pt 0}"
    ".line{border-bottom:1px dotted #000;height:18pt}"
    ".sign{width:100%;border-collapse:collapse;margin-top:14pt;break-inside:avoid;"
    "page-break-inside:avoid}"
    ".sign td{width:50%;text-align:center;vertical-align:top;padding:0}"
    ".sign .role{font-weight:bold}"
    ".sign .space{height:28mm}";

static void head(x2c *x, const rec_t *r) {
  fputs("<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<title>Sơ yếu lý lịch – ", x->f);
  esc(x, r->full_name);
  fprintf(x->f, "</title><style>%s</style></head><body><div class=\"sheet\">\n", css);

  fputs("<table class=\"top\"><tr><td style=\"width:62%\">"
        "<p>Cơ quan, đơn vị có thẩm quyền quản lý CBCC: ", x->f);
  val(x, x->o ? x->o->managing_unit : NULL);
  fputs("</p><p>Cơ quan, đơn vị sử dụng CBCC: ", x->f);
  val(x, x->o ? x->o->using_unit : NULL);
  fputs("</p></td><td><p class=\"form\">Mẫu 2C-BNV/2008</p>"
        "<p style=\"text-align:right\">Số hiệu cán bộ, công chức: ", x->f);
  val(x, r->id);
  fputs("</p></td></tr></table>\n", x->f);

  fputs("<table class=\"top\"><tr><td style=\"width:44mm\"><div class=\"photo\">Ảnh màu<br>(4 x 6 cm)"
        "</div></td><td style=\"vertical-align:middle\">"
        "<p class=\"title\">SƠ YẾU LÝ LỊCH CÁN BỘ, CÔNG CHỨC</p></td></tr></table>\n", x->f);
}

static void p_open(x2c *x, const char *label) {
  fputs("<p>", x->f);
  fputs(label, x->f);
}

static void p_close(x2c *x) { fputs("</p>\n", x->f); }

static void hint(x2c *x, const char *h) {
  fputs(" <span class=\"hint\">", x->f);
  fputs(h, x->f);
  fputs("</span>", x->f);
}

/* A numbered item of one value (and the form's hint under its label, when it has one). */
static void item(x2c *x, const char *label, const char *value, const char *h) {
  p_open(x, label);
  val(x, value);
  if (h) hint(x, h);
  p_close(x);
}

/* ------------------------------------------------------------ items 1–26 --------------- */

static void items_identity(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__PersonalInfo *p = r->personal;
  p_open(x, "1) Họ và tên khai sinh (viết chữ in hoa): ");
  upper(x, r->full_name);
  p_close(x);
  item(x, "2) Tên gọi khác: ", p ? p->other_names : NULL, NULL);

  const char *b = str(r->birth_date);
  p_open(x, "3) Sinh ngày: ");
  if (strlen(b) == 10 && b[4] == '-' && b[7] == '-') {
    /* The form's own words: "Sinh ngày 02 tháng 05 năm 1980". */
    char d[3] = {b[8], b[9], 0}, m[3] = {b[5], b[6], 0}, y[5] = {b[0], b[1], b[2], b[3], 0};
    val(x, d);
    fputs(" tháng ", x->f);
    val(x, m);
    fputs(" năm ", x->f);
    val(x, y);
  } else {
    val(x, b);
  }
  fputs(", Giới tính (nam, nữ): ", x->f);
  val(x, r->gender == HOSO__RECORDS__V1__GENDER__GENDER_MALE     ? "Nam"
         : r->gender == HOSO__RECORDS__V1__GENDER__GENDER_FEMALE ? "Nữ"
                                                                  : "");
  p_close(x);

  item(x, "4) Nơi sinh: ", p ? p->birth_place : NULL, NULL);
  item(x, "5) Quê quán: ", p ? p->home_town : NULL, NULL);
  p_open(x, "6) Dân tộc: ");
  val(x, name_of(x, "ETHNICITY", p ? p->ethnicity_code : NULL));
  fputs(", 7) Tôn giáo: ", x->f);
  val(x, name_of(x, "RELIGION", p ? p->religion_code : NULL));
  p_close(x);
  item(x, "8) Nơi đăng ký hộ khẩu thường trú: ", p ? p->permanent_address : NULL,
       "(Số nhà, đường phố, thành phố, xóm, thôn, xã, huyện, tỉnh)");
  item(x, "9) Nơi ở hiện nay: ", p ? p->current_address : NULL, NULL);
}

static void items_employment(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__Employment *e = r->employment;
  const Hoso__Records__V1__SalaryInfo *s = r->salary;
  item(x, "10) Nghề nghiệp khi được tuyển dụng: ", e ? e->occupation_when_recruited : NULL, NULL);
  p_open(x, "11) Ngày tuyển dụng: ");
  date(x, e ? e->recruitment_date : NULL);
  fputs(", Cơ quan tuyển dụng: ", x->f);
  val(x, e ? e->recruitment_agency : NULL);
  p_close(x);

  p_open(x, "12) Chức vụ (chức danh) hiện tại: ");
  if (e && ((e->position_code && *e->position_code) || e->n_concurrent_position_codes)) {
    fputs("<span class=\"v\">", x->f);
    esc(x, name_of(x, "POSITION", e->position_code));
    for (size_t i = 0; i < e->n_concurrent_position_codes; i++) {
      fputs(i || (e->position_code && *e->position_code) ? ", kiêm " : "Kiêm ", x->f);
      esc(x, name_of(x, "POSITION", e->concurrent_position_codes[i]));
    }
    fputs("</span>", x->f);
  } else {
    val(x, NULL);
  }
  hint(x, "(Về chính quyền hoặc Đảng, đoàn thể, kể cả chức vụ kiêm nhiệm)");
  p_close(x);
  item(x, "13) Công việc chính được giao: ", e ? e->main_duties : NULL, NULL);

  const char *rank = s && s->rank_code && *s->rank_code ? name_of(x, "RANK", s->rank_code)
                                                         : e ? str(e->professional_title) : "";
  p_open(x, "14) Ngạch công chức (chức danh nghề nghiệp): ");
  val(x, rank);
  fputs(", Mã ngạch: ", x->f);
  val(x, s ? s->rank_code : NULL);
  p_close(x);
  p_open(x, "Bậc lương: ");
  num(x, s ? s->step : 0, "");
  fputs(", Hệ số: ", x->f);
  val(x, s ? s->coefficient : NULL);
  fputs(", Ngày hưởng: ", x->f);
  date(x, s ? s->effective_date : NULL);
  p_close(x);
  p_open(x, "Phụ cấp chức vụ: ");
  val(x, s ? s->position_allowance : NULL);
  fputs(", Phụ cấp khác: ", x->f);
  int any = 0;
  if (s && s->seniority_beyond_frame_percent && *s->seniority_beyond_frame_percent) {
    fputs("<span class=\"v\">Thâm niên vượt khung ", x->f);
    esc(x, s->seniority_beyond_frame_percent);
    fputs("%</span>", x->f);
    any = 1;
  }
  for (size_t i = 0; s && i < s->n_other_allowances; i++) {
    const Hoso__Records__V1__Allowance *a = s->other_allowances[i];
    fputs(any ? "; <span class=\"v\">" : "<span class=\"v\">", x->f);
    esc(x, name_of(x, "ALLOWANCE", a->type_code));
    if (a->value && *a->value) {
      fputs(" ", x->f);
      esc(x, a->value);
    }
    fputs("</span>", x->f);
    any = 1;
  }
  if (!any) val(x, NULL);
  p_close(x);
}

static void items_qualifications(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__Qualifications *q = r->qualifications;
  item(x, "15.1- Trình độ giáo dục phổ thông: ", q ? q->general_education : NULL,
       "(đã tốt nghiệp lớp mấy/thuộc hệ nào)");
  p_open(x, "15.2- Trình độ chuyên môn cao nhất: ");
  if (q && ((q->degree_code && *q->degree_code) || (q->major && *q->major))) {
    fputs("<span class=\"v\">", x->f);
    esc(x, name_of(x, "DEGREE", q->degree_code));
    if (q->major && *q->major) {
      fputs(q->degree_code && *q->degree_code ? ", chuyên ngành " : "Chuyên ngành ", x->f);
      esc(x, q->major);
    }
    fputs("</span>", x->f);
  } else {
    val(x, NULL);
  }
  hint(x, "(TSKH, TS, Ths, cử nhân, kỹ sư, cao đẳng, trung cấp, sơ cấp, chuyên ngành)");
  p_close(x);
  p_open(x, "15.3- Lý luận chính trị: ");
  val(x, name_of(x, "POLITICAL_THEORY", q ? q->political_theory_code : NULL));
  fputs(" &nbsp; 15.4- Quản lý nhà nước: ", x->f);
  val(x, name_of(x, "STATE_MANAGEMENT", q ? q->state_management_code : NULL));
  p_close(x);
  p_open(x, "15.5- Ngoại ngữ: ");
  if (q && q->n_foreign_languages) {
    fputs("<span class=\"v\">", x->f);
    for (size_t i = 0; i < q->n_foreign_languages; i++) {
      if (i) fputs(", ", x->f);
      esc(x, q->foreign_languages[i]);
    }
    fputs("</span>", x->f);
  } else {
    val(x, NULL);
  }
  fputs(" &nbsp; 15.6- Tin học: ", x->f);
  val(x, q ? q->it_level : NULL);
  p_close(x);
}

static void items_party(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__PartyAndUnions *p = r->party;
  p_open(x, "16) Ngày vào Đảng Cộng sản Việt Nam: ");
  date(x, p ? p->party_join_date : NULL);
  fputs(", Ngày chính thức: ", x->f);
  date(x, p ? p->party_official_date : NULL);
  p_close(x);
  p_open(x, "17) Ngày tham gia tổ chức chính trị - xã hội: ");
  if (p && ((p->union_join_date && *p->union_join_date) || (p->socio_political_orgs && *p->socio_political_orgs))) {
    char b[32];
    fputs("<span class=\"v\">", x->f);
    esc(x, date_fmt(p->union_join_date, b));
    if (p->socio_political_orgs && *p->socio_political_orgs) {
      if (*b) fputs(", ", x->f);
      esc(x, p->socio_political_orgs);
    }
    fputs("</span>", x->f);
  } else {
    val(x, NULL);
  }
  hint(x, "(Ngày tham gia tổ chức: Đoàn, Hội, ... và làm việc gì trong tổ chức đó)");
  p_close(x);
  p_open(x, "18) Ngày nhập ngũ: ");
  date(x, p ? p->enlist_date : NULL);
  fputs(", Ngày xuất ngũ: ", x->f);
  date(x, p ? p->discharge_date : NULL);
  fputs(", Quân hàm cao nhất: ", x->f);
  val(x, p ? p->military_rank : NULL);
  p_close(x);
  item(x, "19) Danh hiệu được phong tặng cao nhất: ", p ? p->highest_title : NULL,
       "(Anh hùng lao động, anh hùng lực lượng vũ trang; nhà giáo, thầy thuốc, nghệ sĩ nhân dân "
       "và ưu tú, …)");
  /* The record keeps no field for it: the line stays to be filled in by hand. */
  item(x, "20) Sở trường công tác: ", NULL, NULL);
}

static void items_rewards(x2c *x, const rec_t *r) {
  p_open(x, "21) Khen thưởng: ");
  if (r->n_rewards) {
    fputs("<span class=\"v\">", x->f);
    for (size_t i = 0; i < r->n_rewards; i++) {
      const Hoso__Records__V1__RewardEntry *w = r->rewards[i];
      if (i) fputs("; ", x->f);
      esc(x, name_of(x, "REWARD_FORM", w->form_code));
      if (w->title && *w->title) {
        fputs(w->form_code && *w->form_code ? ": " : "", x->f);
        esc(x, w->title);
      }
      if (w->year && *w->year) {
        fputs(" (", x->f);
        esc(x, w->year);
        fputs(")", x->f);
      }
    }
    fputs("</span>", x->f);
  } else {
    val(x, NULL);
  }
  hint(x, "(Hình thức cao nhất, năm nào)");
  p_close(x);
  p_open(x, "22) Kỷ luật: ");
  if (r->n_disciplines) {
    fputs("<span class=\"v\">", x->f);
    for (size_t i = 0; i < r->n_disciplines; i++) {
      const Hoso__Records__V1__DisciplineEntry *d = r->disciplines[i];
      char b[32];
      if (i) fputs("; ", x->f);
      esc(x, name_of(x, "DISCIPLINE_FORM", d->form_code));
      if (d->from && *d->from) {
        fputs(" (", x->f);
        esc(x, date_fmt(d->from, b));
        fputs(")", x->f);
      }
    }
    fputs("</span>", x->f);
  } else {
    val(x, NULL);
  }
  hint(x, "(về đảng, chính quyền, đoàn thể hình thức cao nhất, năm nào)");
  p_close(x);
}

static void items_health(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__HealthAndPolicy *h = r->health;
  const Hoso__Records__V1__PersonalInfo *p = r->personal;
  p_open(x, "23) Tình trạng sức khỏe: ");
  val(x, h ? h->health_status : NULL);
  fputs(", Chiều cao: ", x->f);
  num(x, h ? h->height_cm : 0, " cm");
  fputs(", Cân nặng: ", x->f);
  num(x, h ? h->weight_kg : 0, " kg");
  fputs(", Nhóm máu: ", x->f);
  val(x, h ? h->blood_type : NULL);
  p_close(x);
  p_open(x, "24) Là thương binh hạng: ");
  val(x, h ? h->war_invalid_grade : NULL);
  fputs(", Là con gia đình chính sách: ", x->f);
  val(x, h ? h->policy_family : NULL);
  hint(x, "(Con thương binh, con liệt sĩ, người nhiễm chất độc da cam Dioxin)");
  p_close(x);
  p_open(x, "25) Số chứng minh nhân dân: ");
  val(x, p ? p->citizen_id : NULL);
  fputs(", Ngày cấp: ", x->f);
  date(x, p ? p->citizen_id_date : NULL);
  p_close(x);
  item(x, "26) Số sổ BHXH: ", p ? p->social_insurance_no : NULL, NULL);
}

/* ------------------------------------------------------------ tables 27–32 ------------- */

static void blank_rows(x2c *x, int cols) {
  for (int i = 0; i < BLANK_ROWS; i++) {
    fputs("<tr>", x->f);
    for (int c = 0; c < cols; c++) fputs("<td class=\"blank\"></td>", x->f);
    fputs("</tr>", x->f);
  }
}

static void cell(x2c *x, const char *s) {
  fputs("<td>", x->f);
  esc(x, s);
  fputs("</td>", x->f);
}

static void table_training(x2c *x, const rec_t *r) {
  fputs("<h2>27) ĐÀO TẠO, BỒI DƯỠNG VỀ CHUYÊN MÔN, NGHIỆP VỤ, LÝ LUẬN CHÍNH TRỊ, NGOẠI NGỮ, TIN HỌC</h2>\n"
        "<table class=\"grid\"><colgroup><col style=\"width:25%\"><col style=\"width:24%\">"
        "<col style=\"width:18%\"><col style=\"width:14%\"><col style=\"width:19%\"></colgroup>"
        "<thead><tr><th>Tên trường</th><th>Chuyên ngành đào tạo, bồi dưỡng</th>"
        "<th>Từ tháng, năm - đến tháng, năm</th><th>Hình thức đào tạo</th>"
        "<th>Văn bằng, chứng chỉ, trình độ gì</th></tr></thead><tbody>", x->f);
  for (size_t i = 0; i < r->n_trainings; i++) {
    const Hoso__Records__V1__TrainingEntry *t = r->trainings[i];
    fputs("<tr>", x->f);
    cell(x, t->school);
    cell(x, t->major);
    fputs("<td>", x->f);
    period(x, t->from, t->to, "");
    fputs("</td>", x->f);
    cell(x, t->form);
    cell(x, name_of(x, "DEGREE", t->degree_code));
    fputs("</tr>", x->f);
  }
  if (!r->n_trainings) blank_rows(x, 5);
  fputs("</tbody></table>\n<p class=\"note\">Ghi chú: Hình thức đào tạo: chính quy, tại chức, chuyên tu, "
        "bồi dưỡng ...; Văn bằng: TSKH, TS, Ths, Cử nhân, Kỹ sư ...</p>\n", x->f);
}

static void table_work(x2c *x, const rec_t *r) {
  fputs("<h2>28) TÓM TẮT QUÁ TRÌNH CÔNG TÁC</h2>\n"
        "<table class=\"grid\"><colgroup><col style=\"width:26%\"><col style=\"width:74%\"></colgroup>"
        "<thead><tr><th>Từ tháng, năm đến tháng, năm</th><th>Chức danh, chức vụ, đơn vị công tác "
        "(đảng, chính quyền, đoàn thể, tổ chức xã hội), kể cả thời gian được đào tạo, bồi dưỡng về "
        "chuyên môn, nghiệp vụ, ...</th></tr></thead><tbody>", x->f);
  for (size_t i = 0; i < r->n_work_history; i++) {
    const Hoso__Records__V1__WorkHistoryEntry *w = r->work_history[i];
    fputs("<tr><td>", x->f);
    period(x, w->from, w->to, "nay");
    fputs("</td><td>", x->f);
    esc(x, w->position);
    if (w->position && *w->position && w->unit && *w->unit) fputs(", ", x->f);
    esc(x, w->unit);
    if (w->description && *w->description) {
      fputs("<br>", x->f);
      esc(x, w->description);
    }
    fputs("</td></tr>", x->f);
  }
  if (!r->n_work_history) blank_rows(x, 2);
  fputs("</tbody></table>\n", x->f);
}

static void history(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__PersonalHistory *h = r->personal_history;
  fputs("<h2>29) ĐẶC ĐIỂM LỊCH SỬ BẢN THÂN</h2>\n", x->f);
  item(x, "a) Khai rõ: bị bắt, bị tù (từ ngày tháng năm nào đến ngày tháng năm nào, ở đâu), đã khai "
          "báo cho ai, những vấn đề gì? Bản thân có làm việc trong chế độ cũ (cơ quan, đơn vị nào, "
          "địa điểm, chức danh, chức vụ, thời gian làm việc ...): ",
       h ? h->arrested_or_detained : NULL, NULL);
  item(x, "b) Tham gia hoặc có quan hệ với các tổ chức chính trị, kinh tế, xã hội nào ở nước ngoài "
          "(làm gì, tổ chức nào, đặt trụ sở ở đâu ...?): ",
       h ? h->foreign_org_membership : NULL, NULL);
  item(x, "c) Có thân nhân (Cha, Mẹ, Vợ, Chồng, con, anh chị em ruột) ở nước ngoài (làm gì, địa chỉ ...)? ",
       h ? h->relatives_abroad : NULL, NULL);
}

static void family_table(x2c *x, const rec_t *r, int spouse_side) {
  fputs("<table class=\"grid\"><colgroup><col style=\"width:15%\"><col style=\"width:24%\">"
        "<col style=\"width:10%\"><col style=\"width:51%\"></colgroup>"
        "<thead><tr><th>Mối quan hệ</th><th>Họ và tên</th><th>Năm sinh</th>"
        "<th>Quê quán, nghề nghiệp, chức danh, chức vụ, đơn vị công tác, học tập, nơi ở (trong, "
        "ngoài nước); thành viên các tổ chức chính trị - xã hội ...</th></tr></thead><tbody>", x->f);
  int n = 0;
  for (size_t i = 0; i < r->n_family; i++) {
    const Hoso__Records__V1__FamilyRelation *m = r->family[i];
    if (!m->spouse_side != !spouse_side) continue;
    n++;
    fputs("<tr>", x->f);
    cell(x, name_of(x, "RELATION", m->relation_code));
    cell(x, m->full_name);
    cell(x, m->birth_year);
    fputs("<td>", x->f);
    esc(x, m->residence);
    if (m->residence && *m->residence && m->occupation && *m->occupation) fputs("; ", x->f);
    esc(x, m->occupation);
    fputs("</td></tr>", x->f);
  }
  if (!n) blank_rows(x, 4);
  fputs("</tbody></table>\n", x->f);
}

static void family(x2c *x, const rec_t *r) {
  fputs("<h2>30) QUAN HỆ GIA ĐÌNH</h2>\n"
        "<h3>a) Về bản thân: Cha, Mẹ, Vợ (hoặc chồng), các con, anh chị em ruột</h3>\n", x->f);
  family_table(x, r, 0);
  fputs("<h3>b) Về bên vợ (hoặc chồng): Cha, Mẹ, anh chị em ruột</h3>\n", x->f);
  family_table(x, r, 1);
}

/* Laid across like the form: one column per change, SALARY_COLUMNS to a row of tables. */
static void salary(x2c *x, const rec_t *r) {
  fputs("<h2>31) DIỄN BIẾN QUÁ TRÌNH LƯƠNG CỦA CÁN BỘ, CÔNG CHỨC</h2>\n", x->f);
  size_t n = r->n_salary_history;
  size_t chunks = n ? (n + SALARY_COLUMNS - 1) / SALARY_COLUMNS : 1;
  static const char *const rows[3] = {"Tháng/năm", "Mã ngạch/bậc", "Hệ số lương"};
  for (size_t c = 0; c < chunks; c++) {
    fputs("<table class=\"grid salary\"><colgroup><col style=\"width:30mm\">", x->f);
    for (int k = 0; k < SALARY_COLUMNS; k++) fputs("<col>", x->f);
    fputs("</colgroup><tbody>", x->f);
    for (int row = 0; row < 3; row++) {
      fprintf(x->f, "<tr><th class=\"row\">%s</th>", rows[row]);
      for (size_t k = 0; k < SALARY_COLUMNS; k++) {
        size_t i = c * SALARY_COLUMNS + k;
        if (i >= n) {
          fputs("<td class=\"blank\"></td>", x->f);
          continue;
        }
        const Hoso__Records__V1__SalaryHistoryEntry *s = r->salary_history[i];
        char b[64];
        fputs("<td>", x->f);
        if (row == 0) {
          esc(x, date_fmt(s->date, b));
        } else if (row == 1) {
          esc(x, s->rank_code);
          if (s->step) {
            snprintf(b, sizeof b, "/%d", s->step);
            esc(x, b);
          }
        } else {
          esc(x, s->coefficient);
        }
        fputs("</td>", x->f);
      }
      fputs("</tr>", x->f);
    }
    fputs("</tbody></table>\n", x->f);
  }
}

static void assessment(x2c *x) {
  fputs("<h2>32) NHẬN XÉT, ĐÁNH GIÁ CỦA CƠ QUAN, ĐƠN VỊ QUẢN LÝ VÀ SỬ DỤNG CÁN BỘ, CÔNG CHỨC</h2>\n", x->f);
  for (int i = 0; i < 5; i++) fputs("<div class=\"line\"></div>", x->f);
  fputs("\n<table class=\"sign\"><tr><td><p class=\"hint\">&nbsp;</p><p class=\"role\">Người khai</p>"
        "<p class=\"hint\">Tôi xin cam đoan những lời khai trên đây là đúng sự thật</p>"
        "<p class=\"hint\">(Ký tên, ghi rõ họ tên)</p><div class=\"space\"></div>"
        "</td><td><p class=\"hint\">……………, Ngày …… tháng …… năm 20……</p>"
        "<p class=\"role\">Thủ trưởng cơ quan, đơn vị quản lý và sử dụng CBCC</p>"
        "<p class=\"hint\">(Ký tên, đóng dấu)</p><div class=\"space\"></div></td></tr></table>\n", x->f);
}

/* ------------------------------------------------------------ entry points ------------- */

void export_2c_codes(const rec_t *r, void (*fn)(void *arg, const char *catalog, const char *code),
                     void *arg) {
#define CODE(cat, v)                  \
  do {                                \
    const char *v_ = (v);             \
    if (v_ && *v_) fn(arg, cat, v_); \
  } while (0)
  if (r->personal) {
    CODE("ETHNICITY", r->personal->ethnicity_code);
    CODE("RELIGION", r->personal->religion_code);
  }
  if (r->employment) {
    CODE("POSITION", r->employment->position_code);
    for (size_t i = 0; i < r->employment->n_concurrent_position_codes; i++)
      CODE("POSITION", r->employment->concurrent_position_codes[i]);
  }
  if (r->salary) {
    CODE("RANK", r->salary->rank_code);
    for (size_t i = 0; i < r->salary->n_other_allowances; i++)
      CODE("ALLOWANCE", r->salary->other_allowances[i]->type_code);
  }
  if (r->qualifications) {
    CODE("DEGREE", r->qualifications->degree_code);
    CODE("POLITICAL_THEORY", r->qualifications->political_theory_code);
    CODE("STATE_MANAGEMENT", r->qualifications->state_management_code);
  }
  for (size_t i = 0; i < r->n_trainings; i++) CODE("DEGREE", r->trainings[i]->degree_code);
  for (size_t i = 0; i < r->n_rewards; i++) CODE("REWARD_FORM", r->rewards[i]->form_code);
  for (size_t i = 0; i < r->n_disciplines; i++) CODE("DISCIPLINE_FORM", r->disciplines[i]->form_code);
  for (size_t i = 0; i < r->n_family; i++) CODE("RELATION", r->family[i]->relation_code);
#undef CODE
}

char *export_2c_render(const rec_t *r, const export_2c_opts *o, size_t *len) {
  char *out = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&out, &n);
  if (!f) return NULL;
  x2c x = {.f = f, .o = o};
  head(&x, r);
  items_identity(&x, r);
  items_employment(&x, r);
  items_qualifications(&x, r);
  items_party(&x, r);
  items_rewards(&x, r);
  items_health(&x, r);
  table_training(&x, r);
  table_work(&x, r);
  history(&x, r);
  family(&x, r);
  salary(&x, r);
  assessment(&x);
  fputs("</div></body></html>\n", f);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) {
    free(out);
    return NULL;
  }
  if (len) *len = n;
  return out;
}
