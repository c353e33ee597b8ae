/* The templates shipped with the service (reporting/templates, built into the binary) and their
 * installation: each is added at start when its code is missing, as version 1; an
 * administrator's later versions are never overwritten. */
#include <stdio.h>
#include "log.h"
#include "reporting.h"

#define SHIPPED(sym) extern const unsigned char sym[];
SHIPPED(rp_tpl_bm01_bnv)
SHIPPED(rp_tpl_bm02_bnv)
SHIPPED(rp_tpl_bm03_bnv)
SHIPPED(rp_tpl_bm04_bnv)
SHIPPED(rp_tpl_bm01_vc_bnv)
SHIPPED(rp_tpl_bm02_vc_bnv)
#undef SHIPPED

static const struct {
  const char *code, *name;
  const unsigned char *json;
} shipped[] = {
    {"BM01/BNV", "Số lượng, chất lượng công chức từ cấp huyện trở lên (TT 11/2012/TT-BNV)", rp_tpl_bm01_bnv},
    {"BM02/BNV", "Số lượng, chất lượng cán bộ, công chức cấp xã (TT 11/2012/TT-BNV)", rp_tpl_bm02_bnv},
    {"BM03/BNV", "Danh sách và tiền lương công chức từ cấp huyện trở lên (TT 11/2012/TT-BNV)", rp_tpl_bm03_bnv},
    {"BM04/BNV", "Danh sách và tiền lương cán bộ, công chức cấp xã (TT 11/2012/TT-BNV)", rp_tpl_bm04_bnv},
    {"BM01-VC/BNV", "Số lượng, chất lượng viên chức (TT 07/2019/TT-BNV)", rp_tpl_bm01_vc_bnv},
    {"BM02-VC/BNV", "Danh sách và tiền lương viên chức (TT 07/2019/TT-BNV)", rp_tpl_bm02_vc_bnv},
};

int rp_templates_install(db_conn *db) {
  for (size_t i = 0; i < sizeof shipped / sizeof *shipped; i++) {
    if (db_cmd(db,
               "INSERT INTO templates (code, name, version, definition, builtin, updated_by) "
               "VALUES ($1, $2, 1, $3::jsonb, true, 'reporting') ON CONFLICT (code) DO NOTHING",
               3, shipped[i].code, shipped[i].name, (const char *)shipped[i].json) != 0) {
      log_error("reporting: installing template %s: %s", shipped[i].code, db_err_message(db));
      return -1;
    }
  }
  return 0;
}

const char *rp_template_shipped(size_t i) { return i < sizeof shipped / sizeof *shipped ? shipped[i].code : NULL; }
