/* The 2C-BNV/2008 résumé renderer of export_2c.h: the form's numbered items 1–26, the tables
 * 27–31 (export_2c_tables.c), the assessment 32 and the signatures, as one HTML document laid
 * out for A4 paper. This file: the text helpers, the page, items 1–26 and the entry points. */
#include "export_2c_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>

#define DOTS "……………………"

static const char *str(const char *s) { return s ? s : ""; }

/* ------------------------------------------------------------ text ---------------------- */

/* Every value is user data: escaped, line breaks kept as <br>. */
void x2c_esc(x2c *x, const char *s) {
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
    x2c_esc(x, s);
    fputs("</span>", x->f);
  } else {
    fputs("<span class=\"dots\">" DOTS "</span>", x->f);
  }
}

const char *x2c_name_of(x2c *x, const char *catalog, const char *code) {
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
const char *x2c_date_fmt(const char *s, char out[32]) {
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
  val(x, x2c_date_fmt(s, b));
}

/* "09/2001 - 06/2005"; an open end reads `open` ("nay" for a job held today). */
void x2c_period(x2c *x, const char *from, const char *to, const char *open) {
  char a[32], b[32];
  x2c_date_fmt(from, a);
  x2c_date_fmt(to, b);
  x2c_esc(x, a);
  if (*a || *b || *open) {
    fputs(" - ", x->f);
    x2c_esc(x, *b ? b : open);
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
  x2c_esc(x, r->full_name);
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
void x2c_item(x2c *x, const char *label, const char *value, const char *h) {
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
  x2c_item(x, "2) Tên gọi khác: ", p ? p->other_names : NULL, NULL);

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

  x2c_item(x, "4) Nơi sinh: ", p ? p->birth_place : NULL, NULL);
  x2c_item(x, "5) Quê quán: ", p ? p->home_town : NULL, NULL);
  p_open(x, "6) Dân tộc: ");
  val(x, x2c_name_of(x, "ETHNICITY", p ? p->ethnicity_code : NULL));
  fputs(", 7) Tôn giáo: ", x->f);
  val(x, x2c_name_of(x, "RELIGION", p ? p->religion_code : NULL));
  p_close(x);
  x2c_item(x, "8) Nơi đăng ký hộ khẩu thường trú: ", p ? p->permanent_address : NULL,
       "(Số nhà, đường phố, thành phố, xóm, thôn, xã, huyện, tỉnh)");
  x2c_item(x, "9) Nơi ở hiện nay: ", p ? p->current_address : NULL, NULL);
}

static void items_employment(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__Employment *e = r->employment;
  const Hoso__Records__V1__SalaryInfo *s = r->salary;
  x2c_item(x, "10) Nghề nghiệp khi được tuyển dụng: ", e ? e->occupation_when_recruited : NULL, NULL);
  p_open(x, "11) Ngày tuyển dụng: ");
  date(x, e ? e->recruitment_date : NULL);
  fputs(", Cơ quan tuyển dụng: ", x->f);
  val(x, e ? e->recruitment_agency : NULL);
  p_close(x);

  p_open(x, "12) Chức vụ (chức danh) hiện tại: ");
  if (e && ((e->position_code && *e->position_code) || e->n_concurrent_position_codes)) {
    fputs("<span class=\"v\">", x->f);
    x2c_esc(x, x2c_name_of(x, "POSITION", e->position_code));
    for (size_t i = 0; i < e->n_concurrent_position_codes; i++) {
      fputs(i || (e->position_code && *e->position_code) ? ", kiêm " : "Kiêm ", x->f);
      x2c_esc(x, x2c_name_of(x, "POSITION", e->concurrent_position_codes[i]));
    }
    fputs("</span>", x->f);
  } else {
    val(x, NULL);
  }
  hint(x, "(Về chính quyền hoặc Đảng, đoàn thể, kể cả chức vụ kiêm nhiệm)");
  p_close(x);
  x2c_item(x, "13) Công việc chính được giao: ", e ? e->main_duties : NULL, NULL);

  const char *rank = s && s->rank_code && *s->rank_code ? x2c_name_of(x, "RANK", s->rank_code)
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
    x2c_esc(x, s->seniority_beyond_frame_percent);
    fputs("%</span>", x->f);
    any = 1;
  }
  for (size_t i = 0; s && i < s->n_other_allowances; i++) {
    const Hoso__Records__V1__Allowance *a = s->other_allowances[i];
    fputs(any ? "; <span class=\"v\">" : "<span class=\"v\">", x->f);
    x2c_esc(x, x2c_name_of(x, "ALLOWANCE", a->type_code));
    if (a->value && *a->value) {
      fputs(" ", x->f);
      x2c_esc(x, a->value);
    }
    fputs("</span>", x->f);
    any = 1;
  }
  if (!any) val(x, NULL);
  p_close(x);
}

static void items_qualifications(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__Qualifications *q = r->qualifications;
  x2c_item(x, "15.1- Trình độ giáo dục phổ thông: ", q ? q->general_education : NULL,
       "(đã tốt nghiệp lớp mấy/thuộc hệ nào)");
  p_open(x, "15.2- Trình độ chuyên môn cao nhất: ");
  if (q && ((q->degree_code && *q->degree_code) || (q->major && *q->major))) {
    fputs("<span class=\"v\">", x->f);
    x2c_esc(x, x2c_name_of(x, "DEGREE", q->degree_code));
    if (q->major && *q->major) {
      fputs(q->degree_code && *q->degree_code ? ", chuyên ngành " : "Chuyên ngành ", x->f);
      x2c_esc(x, q->major);
    }
    fputs("</span>", x->f);
  } else {
    val(x, NULL);
  }
  hint(x, "(TSKH, TS, Ths, cử nhân, kỹ sư, cao đẳng, trung cấp, sơ cấp, chuyên ngành)");
  p_close(x);
  p_open(x, "15.3- Lý luận chính trị: ");
  val(x, x2c_name_of(x, "POLITICAL_THEORY", q ? q->political_theory_code : NULL));
  fputs(" &nbsp; 15.4- Quản lý nhà nước: ", x->f);
  val(x, x2c_name_of(x, "STATE_MANAGEMENT", q ? q->state_management_code : NULL));
  p_close(x);
  p_open(x, "15.5- Ngoại ngữ: ");
  if (q && q->n_foreign_languages) {
    fputs("<span class=\"v\">", x->f);
    for (size_t i = 0; i < q->n_foreign_languages; i++) {
      if (i) fputs(", ", x->f);
      x2c_esc(x, q->foreign_languages[i]);
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
    x2c_esc(x, x2c_date_fmt(p->union_join_date, b));
    if (p->socio_political_orgs && *p->socio_political_orgs) {
      if (*b) fputs(", ", x->f);
      x2c_esc(x, p->socio_political_orgs);
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
  x2c_item(x, "19) Danh hiệu được phong tặng cao nhất: ", p ? p->highest_title : NULL,
       "(Anh hùng lao động, anh hùng lực lượng vũ trang; nhà giáo, thầy thuốc, nghệ sĩ nhân dân "
       "và ưu tú, …)");
  /* The record keeps no field for it: the line stays to be filled in by hand. */
  x2c_item(x, "20) Sở trường công tác: ", NULL, NULL);
}

static void items_rewards(x2c *x, const rec_t *r) {
  p_open(x, "21) Khen thưởng: ");
  if (r->n_rewards) {
    fputs("<span class=\"v\">", x->f);
    for (size_t i = 0; i < r->n_rewards; i++) {
      const Hoso__Records__V1__RewardEntry *w = r->rewards[i];
      if (i) fputs("; ", x->f);
      x2c_esc(x, x2c_name_of(x, "REWARD_FORM", w->form_code));
      if (w->title && *w->title) {
        fputs(w->form_code && *w->form_code ? ": " : "", x->f);
        x2c_esc(x, w->title);
      }
      if (w->year && *w->year) {
        fputs(" (", x->f);
        x2c_esc(x, w->year);
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
      x2c_esc(x, x2c_name_of(x, "DISCIPLINE_FORM", d->form_code));
      if (d->from && *d->from) {
        fputs(" (", x->f);
        x2c_esc(x, x2c_date_fmt(d->from, b));
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
  x2c_item(x, "26) Số sổ BHXH: ", p ? p->social_insurance_no : NULL, NULL);
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
  x2c_tables(&x, r);
  fputs("</div></body></html>\n", f);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad) {
    free(out);
    return NULL;
  }
  if (len) *len = n;
  return out;
}

