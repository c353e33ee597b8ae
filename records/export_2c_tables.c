/* Tables 27–31 of the 2C-BNV/2008 résumé (training, work, personal history, family, salary),
 * the assessment 32 and the signatures: export_2c.c's second half. */
#include <stdio.h>

#include "export_2c_int.h"

#define SALARY_COLUMNS 6 /* entries per row of table 31: what fits across 170 mm */
#define BLANK_ROWS 3     /* an empty table keeps rows to fill in by hand, as on paper */


static void blank_rows(x2c *x, int cols) {
  for (int i = 0; i < BLANK_ROWS; i++) {
    fputs("<tr>", x->f);
    for (int c = 0; c < cols; c++) fputs("<td class=\"blank\"></td>", x->f);
    fputs("</tr>", x->f);
  }
}

static void cell(x2c *x, const char *s) {
  fputs("<td>", x->f);
  x2c_esc(x, s);
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
    x2c_period(x, t->from, t->to, "");
    fputs("</td>", x->f);
    cell(x, t->form);
    cell(x, x2c_name_of(x, "DEGREE", t->degree_code));
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
    x2c_period(x, w->from, w->to, "nay");
    fputs("</td><td>", x->f);
    x2c_esc(x, w->position);
    if (w->position && *w->position && w->unit && *w->unit) fputs(", ", x->f);
    x2c_esc(x, w->unit);
    if (w->description && *w->description) {
      fputs("<br>", x->f);
      x2c_esc(x, w->description);
    }
    fputs("</td></tr>", x->f);
  }
  if (!r->n_work_history) blank_rows(x, 2);
  fputs("</tbody></table>\n", x->f);
}

static void history(x2c *x, const rec_t *r) {
  const Hoso__Records__V1__PersonalHistory *h = r->personal_history;
  fputs("<h2>29) ĐẶC ĐIỂM LỊCH SỬ BẢN THÂN</h2>\n", x->f);
  x2c_item(x, "a) Khai rõ: bị bắt, bị tù (từ ngày tháng năm nào đến ngày tháng năm nào, ở đâu), đã khai "
          "báo cho ai, những vấn đề gì? Bản thân có làm việc trong chế độ cũ (cơ quan, đơn vị nào, "
          "địa điểm, chức danh, chức vụ, thời gian làm việc ...): ",
       h ? h->arrested_or_detained : NULL, NULL);
  x2c_item(x, "b) Tham gia hoặc có quan hệ với các tổ chức chính trị, kinh tế, xã hội nào ở nước ngoài "
          "(làm gì, tổ chức nào, đặt trụ sở ở đâu ...?): ",
       h ? h->foreign_org_membership : NULL, NULL);
  x2c_item(x, "c) Có thân nhân (Cha, Mẹ, Vợ, Chồng, con, anh chị em ruột) ở nước ngoài (làm gì, địa chỉ ...)? ",
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
    cell(x, x2c_name_of(x, "RELATION", m->relation_code));
    cell(x, m->full_name);
    cell(x, m->birth_year);
    fputs("<td>", x->f);
    x2c_esc(x, m->residence);
    if (m->residence && *m->residence && m->occupation && *m->occupation) fputs("; ", x->f);
    x2c_esc(x, m->occupation);
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
          x2c_esc(x, x2c_date_fmt(s->date, b));
        } else if (row == 1) {
          x2c_esc(x, s->rank_code);
          if (s->step) {
            snprintf(b, sizeof b, "/%d", s->step);
            x2c_esc(x, b);
          }
        } else {
          x2c_esc(x, s->coefficient);
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

void x2c_tables(x2c *x, const rec_t *r) {
  table_training(x, r);
  table_work(x, r);
  history(x, r);
  family(x, r);
  salary(x, r);
  assessment(x);
}
