/* The catalogue RPCs of hoso.records.v1.Records (danh mục, 001 Đ8.1): ListCatalog for every
 * signed-in caller, UpsertCatalogEntry for the system administrator (versioned, audited). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "catalog.h"
#include "log.h"
#include "pbwalk.h"
#include "scope.h"
#include "store_catalog.h"
#include "val.h"

#define TEXT_MAX_CHARS 255 /* names; every other text of these requests is shorter */
#define RANK_GROUP_MAX 16
#define STEPS_MAX 30
#define KEY_MAX 512

/* Every string of the request checked (UTF-8, length) and turned to NFC in place: the request
 * was unpacked with the default allocator, which pbwalk_nfc's NULL allocator matches. */
static int normalize(srv_ctx *ctx, const ProtobufCMessage *req) {
  char err[PBWALK_PATH_MAX + 128];
  if (pbwalk_nfc((ProtobufCMessage *)req, "", TEXT_MAX_CHARS, NULL, NULL, err, sizeof err) != 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", err);
  return 0;
}

static int check_catalog(srv_ctx *ctx, const char *field, const char *catalog) {
  if (catalog_index(catalog) >= 0) return 0;
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: must be one of %s", field,
                  catalog_names_list());
}

/* ------------------------------------------------------------ ListCatalog --------------- */

typedef struct {
  const char *catalog, *prefix, *after_code;
  int after_sort, include_inactive, size;
  Hoso__Records__V1__ListCatalogResponse *out;
} list_st;

static int list_tx(srv_ctx *ctx, void *p) {
  list_st *st = p;
  long long version;
  if (catalog_version(ctx, st->catalog, &version) != 0) return -1;
  st->out->catalog_version = version;
  cat_entry **entries;
  size_t rows;
  SRV_TRY(catalog_list(ctx, st->catalog, st->prefix, st->include_inactive, st->after_sort, st->after_code,
                       st->size + 1, &entries, &rows));
  int more;
  st->out->entries = entries;
  st->out->n_entries = srv_page_cut(rows, st->size, &more);
  if (!more) return 0;
  /* The key names the catalogue, so a token is only good for the list it was made for. */
  const cat_entry *last = entries[st->out->n_entries - 1];
  return srv_page_next(ctx, &st->out->next_page_token, "%s:%d:%s", st->catalog, last->sort_order, last->code);
}

static int parse_token(srv_ctx *ctx, const char *token, list_st *st) {
  char *key = srv_alloc(ctx, KEY_MAX);
  char *c1, *c2, *end;
  if (val_page_token_decode(token, key, KEY_MAX) != 0 || !(c1 = strchr(key, ':')) ||
      !(c2 = strchr(c1 + 1, ':')))
    goto bad;
  *c1 = *c2 = '\0';
  long sort = strtol(c1 + 1, &end, 10);
  if (strcmp(key, st->catalog) != 0 || end == c1 + 1 || *end || sort < 0 || sort > 2147483647L ||
      val_code(c2 + 1))
    goto bad;
  st->after_sort = (int)sort;
  st->after_code = c2 + 1;
  return 0;
bad:
  return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                  "page_token: not a token of this list; start again without one");
}

int rpc_list_catalog(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ListCatalogRequest *in = (const void *)req;
  if (normalize(ctx, req) || check_catalog(ctx, "catalog", in->catalog)) return -1;
  list_st st = {.catalog = in->catalog, .prefix = in->prefix ? in->prefix : "",
                .include_inactive = in->include_inactive};
  st.size = val_page_size(in->page_size);
  if (st.size < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->page_token && *in->page_token && parse_token(ctx, in->page_token, &st) != 0) return -1;
  /* Every role fills forms from these lists, so a signed-in caller is all it takes. */
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");

  st.out = srv_new(ctx, &hoso__records__v1__list_catalog_response__descriptor);
  if (srv_tx(ctx, DB_REPEATABLE_READ, list_tx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------ UpsertCatalogEntry -------- */

/* A salary coefficient as thousandths: "2.34" → 2340. Decimal text, 1–2 integer digits, at
 * most 3 decimals, above zero (NĐ 204/2004 tables run from 1.00 to 10.00). -1 otherwise. */
static long coefficient(const char *s) {
  long v = 0;
  int ints = 0, decs = -1;
  for (const char *c = s; *c; c++) {
    if (*c == '.' && decs < 0 && ints > 0) decs = 0;
    else if (*c >= '0' && *c <= '9' && decs < 0 && ints < 2) v = v * 10 + (*c - '0'), ints++;
    else if (*c >= '0' && *c <= '9' && decs >= 0 && decs < 3) v = v * 10 + (*c - '0'), decs++;
    else return -1;
  }
  if (ints == 0 || decs == 0) return -1;
  for (int d = decs < 0 ? 0 : decs; d < 3; d++) v *= 10;
  return v > 0 ? v : -1;
}

static int check_salary(srv_ctx *ctx, const cat_entry *e) {
  if (strcmp(e->catalog, "RANK") != 0) {
    if (e->n_step_coefficients || e->step_years || (e->rank_group && *e->rank_group))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "entry.step_coefficients: only RANK entries have a salary table "
                      "(rank_group, step_coefficients, step_years)");
    return 0;
  }
  if (!e->rank_group || !*e->rank_group || val_code(e->rank_group) ||
      strlen(e->rank_group) > RANK_GROUP_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "entry.rank_group: a RANK entry needs its group of NĐ 204/2004, e.g. A1, "
                    "A2.1, B, C1 (at most %d of A-Z a-z 0-9 . _ -)", RANK_GROUP_MAX);
  if (e->n_step_coefficients == 0 || e->n_step_coefficients > STEPS_MAX)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "entry.step_coefficients: a RANK entry needs 1 to %d steps", STEPS_MAX);
  long prev = 0;
  for (size_t i = 0; i < e->n_step_coefficients; i++) {
    long v = coefficient(e->step_coefficients[i]);
    if (v < 0)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "entry.step_coefficients[%zu]: must be a decimal coefficient such as "
                      "\"2.34\"", i);
    if (v <= prev)
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "entry.step_coefficients[%zu]: must be above the step before it (%s)", i,
                      e->step_coefficients[i - 1]);
    prev = v;
  }
  if (e->step_years != 2 && e->step_years != 3)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "entry.step_years: must be 3 (ranks needing a college degree or higher) or "
                    "2 (below), TT 03/2021/TT-BNV");
  return 0;
}

static int check_entry(srv_ctx *ctx, const Hoso__Records__V1__UpsertCatalogEntryRequest *in) {
  const cat_entry *e = in->entry;
  const char *err;
  if (!e) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "entry: required");
  if (check_catalog(ctx, "entry.catalog", e->catalog)) return -1;
  if ((err = val_code(e->code)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "entry.code: %s", err);
  if ((err = val_text(e->name, 1, TEXT_MAX_CHARS)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "entry.name: %s", err);
  if (e->parent_code && *e->parent_code && (err = val_code(e->parent_code)))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "entry.parent_code: %s", err);
  if (e->parent_code && strcmp(e->parent_code, e->code) == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "entry.parent_code: must not be the entry itself");
  if (e->sort_order < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "entry.sort_order: must not be negative");
  if (check_salary(ctx, e)) return -1;
  if (in->expected_version < 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "expected_version: must not be negative (0 creates a new entry)");
  return 0;
}

typedef struct {
  const cat_entry *in;
  long long expected;
  int changed;
  cat_entry *out;
} upsert_st;

static const char *steps_text(srv_ctx *ctx, const cat_entry *e) {
  size_t len = 1;
  for (size_t i = 0; i < e->n_step_coefficients; i++) len += strlen(e->step_coefficients[i]) + 1;
  char *s = srv_alloc(ctx, len), *p = s;
  *p = '\0';
  for (size_t i = 0; i < e->n_step_coefficients; i++)
    p += sprintf(p, "%s%s", i ? "," : "", e->step_coefficients[i]);
  return s;
}

/* The fields of a and b that differ, as {"field": {"from": .., "to": ..}}; with a NULL (a new
 * entry) every field is "to" only. NULL on out of memory. */
static json_t *changes(srv_ctx *ctx, const cat_entry *a, const cat_entry *b) {
  json_t *ch = json_object();
  if (!ch) return NULL;
  struct {
    const char *name, *from, *to;
  } s[] = {
      {"name", a ? a->name : NULL, b->name},
      {"parent_code", a ? a->parent_code : NULL, b->parent_code},
      {"active", a ? (a->active ? "true" : "false") : NULL, b->active ? "true" : "false"},
      {"rank_group", a ? a->rank_group : NULL, b->rank_group},
      {"step_coefficients", a ? steps_text(ctx, a) : NULL, steps_text(ctx, b)},
      {"step_years", a ? srv_printf(ctx, "%d", a->step_years) : NULL, srv_printf(ctx, "%d", b->step_years)},
      {"sort_order", a ? srv_printf(ctx, "%d", a->sort_order) : NULL, srv_printf(ctx, "%d", b->sort_order)},
  };
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    if (s[i].from && strcmp(s[i].from, s[i].to) == 0) continue;
    json_t *v = s[i].from ? json_pack("{s:s, s:s}", "from", s[i].from, "to", s[i].to)
                          : json_pack("{s:s}", "to", s[i].to);
    if (!v || json_object_set_new(ch, s[i].name, v) != 0) {
      json_decref(ch);
      return NULL;
    }
  }
  return ch;
}

static int audit_upsert(srv_ctx *ctx, const cat_entry *old, const cat_entry *neu) {
  json_t *ch = changes(ctx, old, neu);
  json_t *d = ch ? json_pack("{s:s, s:s, s:s, s:I, s:o}", "catalog", neu->catalog, "code", neu->code,
                             "op", old ? "update" : "create", "version", (json_int_t)neu->version,
                             "changes", ch)
                 : NULL;
  if (!d) {
    log_error("%s: could not build the audit detail", ctx->method);
    return (srv_fail_internal(ctx), DB_TX_ROLLBACK);
  }
  /* catalogues are deployment-wide: no unit */
  audit_entry e = {.action = "CATALOG_UPSERT", .target_type = "catalog_entry",
                   .target_id = srv_printf(ctx, "%s/%s", neu->catalog, neu->code), .unit_path = ""};
  return srv_audit(ctx, &e, d);
}

static int same_entry(const cat_entry *a, const cat_entry *b) {
  if (strcmp(a->name, b->name) || strcmp(a->parent_code, b->parent_code) ||
      a->active != b->active || strcmp(a->rank_group, b->rank_group) ||
      a->step_years != b->step_years || a->sort_order != b->sort_order ||
      a->n_step_coefficients != b->n_step_coefficients)
    return 0;
  for (size_t i = 0; i < a->n_step_coefficients; i++)
    if (strcmp(a->step_coefficients[i], b->step_coefficients[i])) return 0;
  return 1;
}

/* A parent is an entry of the same catalogue, except a salary step's, which is its rank. */
static int check_parent(srv_ctx *ctx, const cat_entry *e) {
  if (!*e->parent_code) return 0;
  const char *cat = strcmp(e->catalog, "SALARY_STEP") == 0 ? "RANK" : e->catalog;
  int found = catalog_entry_state(ctx, cat, e->parent_code);
  if (found < 0) return -1;
  if (found) return 0;
  return SRV_FAIL(ctx, GRPC_STATUS_INVALID_ARGUMENT, "entry.parent_code: unknown code \"%s\" in catalogue %s",
              e->parent_code, cat);
}

static int upsert_tx(srv_ctx *ctx, void *p) {
  upsert_st *st = p;
  const cat_entry *e = st->in;
  st->out = NULL;
  st->changed = 0;
  cat_entry *old;
  if (catalog_entry_get(ctx, e->catalog, e->code, 1, &old) < 0) return -1;

  if (st->expected == 0 && old)
    return SRV_FAIL(ctx, GRPC_STATUS_ALREADY_EXISTS,
                "entry.code: catalogue %s already has code \"%s\" (version %lld); send "
                "expected_version %lld to change it", e->catalog, e->code, (long long)old->version,
                (long long)old->version);
  if (st->expected > 0 && !old)
    return SRV_FAIL(ctx, GRPC_STATUS_NOT_FOUND,
                "entry.code: catalogue %s has no code \"%s\"; send expected_version 0 to create it",
                e->catalog, e->code);
  if (old && old->version != st->expected)
    return SRV_FAIL(ctx, GRPC_STATUS_ABORTED,
                "entry was changed by someone else (now version %lld, you sent %lld); reload and retry",
                (long long)old->version, st->expected);
  int rc = check_parent(ctx, e);
  if (rc != 0) return rc;
  /* Saving a form unchanged makes no new version, history row or audit row. */
  if (old && same_entry(old, e)) {
    st->out = old;
    return 0;
  }

  if (catalog_entry_write(ctx, e, ctx->auth->sub, old != NULL, &st->out) != 0) {
    /* Two administrators creating the same code at once: the second one's insert fails on the
     * primary key, which is the same answer as finding it there. */
    if (db_err_kind(ctx->db) == DB_UNIQUE && strcmp(db_err_constraint(ctx->db), "catalog_entries_pkey") == 0)
      return (srv_fail_db(ctx, "entry.code: this code was just created by someone else; reload"),
              DB_TX_ROLLBACK);
    return -1;
  }
  st->changed = 1;
  return audit_upsert(ctx, old, st->out);
}

int rpc_upsert_catalog_entry(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__UpsertCatalogEntryRequest *in = (const void *)req;
  if (normalize(ctx, req) || check_entry(ctx, in)) return -1;
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (!(scope_rights(ctx->auth->roles) & RIGHT_ADMIN))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "managing catalogues needs the SYSTEM_ADMIN role");

  upsert_st st = {.in = in->entry, .expected = in->expected_version};
  if (srv_tx(ctx, DB_READ_COMMITTED, upsert_tx, &st) != 0) return -1;
  /* This process sees its own change at once; the others within a second (catalog.c). */
  if (st.changed) catalog_cache_invalidate();
  Hoso__Records__V1__UpsertCatalogEntryResponse *o =
      srv_new(ctx, &hoso__records__v1__upsert_catalog_entry_response__descriptor);
  o->entry = st.out;
  *resp = &o->base;
  return 0;
}
