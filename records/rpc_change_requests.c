/* Changes declared by the person (phiếu bổ sung lý lịch, 001 Đ9.2a): a SELF account proposes
 * its own record as it should be; the managing unit approves (applied, verified) or rejects. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "idem.h"
#include "log.h"
#include "records.h"
#include "rpc_util.h"
#include "scope.h"
#include "store_change_requests.h"
#include "val.h"

#define CR_STATE(x) HOSO__RECORDS__V1__CHANGE_REQUEST_STATE__CHANGE_REQUEST_STATE_##x
#define SUBMITTED HOSO__RECORDS__V1__WORKFLOW_STATE__WORKFLOW_STATE_SUBMITTED
#define PAGE_TOKEN_MAX 64

typedef Hoso__Records__V1__FieldChange field_change;

static const char *str(const char *s) { return s ? s : ""; }

/* ------------------------------------------------------------ what a person declares ---- */

/* The parts of the dossier a person declares, by top-level field of Record. 001 Đ9.2a has the
 * person declare the changes "of the person": civil status (hộ tịch: names, birth date,
 * gender, identity papers, addresses, family), training, rewards and discipline, each with the
 * papers the unit checks; 001 Đ9.1d adds the other parts the person fills in (party and union
 * work, health and policy, personal history). What the state decides is entered by the unit
 * against the decision (001 Đ9.2b: election, appointment, transfer, rotation, change of post,
 * salary raise): employment, salary, the work, salary, appointment, transfer, study-leave and
 * mission histories, the status and the managing unit. A person cannot declare those. */
static const char *const DECLARABLE[] = {"full_name", "birth_date",  "gender",  "personal",
                                         "qualifications", "party",  "health",  "trainings",
                                         "rewards",   "disciplines", "personal_history", "family",
                                         NULL};

/* Kept by the service whatever a proposal holds: identity, versions, the workflow's marks. */
static const char *const MAINTAINED[] = {"id",         "version",    "workflow_state", "verified",
                                         "created_at", "updated_at", "approved_by",    "approved_at",
                                         "managing_unit_path", NULL};

static int listed(const char *name, size_t n, const char *const *list) {
  for (; *list; list++)
    if (strlen(*list) == n && strncmp(*list, name, n) == 0) return 1;
  return 0;
}

/* "personal" for "personal.phone", "family" for "family[2].full_name". */
static int declarable_path(const char *path) { return listed(path, strcspn(path, ".["), DECLARABLE); }

static size_t value_size(ProtobufCType t) {
  switch (t) {
  case PROTOBUF_C_TYPE_INT64:
  case PROTOBUF_C_TYPE_SINT64:
  case PROTOBUF_C_TYPE_SFIXED64:
  case PROTOBUF_C_TYPE_UINT64:
  case PROTOBUF_C_TYPE_FIXED64:
    return sizeof(int64_t);
  case PROTOBUF_C_TYPE_DOUBLE:
    return sizeof(double);
  case PROTOBUF_C_TYPE_BOOL:
    return sizeof(protobuf_c_boolean);
  case PROTOBUF_C_TYPE_STRING:
  case PROTOBUF_C_TYPE_MESSAGE:
    return sizeof(void *);
  case PROTOBUF_C_TYPE_BYTES:
    return sizeof(ProtobufCBinaryData);
  default:
    return sizeof(int32_t); /* int32, uint32, enums, float */
  }
}

/* dst takes field f of src, sharing its memory: both live in the call arena. The record has
 * no oneof and no proto3 `optional`, so a singular field is its member alone. */
static void take(ProtobufCMessage *dst, const ProtobufCMessage *src, const ProtobufCFieldDescriptor *f) {
  char *d = (char *)dst;
  const char *s = (const char *)src;
  if (f->label == PROTOBUF_C_LABEL_REPEATED)
    memcpy(d + f->quantifier_offset, s + f->quantifier_offset, sizeof(size_t));
  memcpy(d + f->offset, s + f->offset, f->label == PROTOBUF_C_LABEL_REPEATED ? sizeof(void *) : value_size(f->type));
}

/* A field the proposal leaves out: no list entries, no group, empty text, zero. */
static int absent(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f) {
  const char *p = (const char *)m + f->offset;
  if (f->label == PROTOBUF_C_LABEL_REPEATED) return *(const size_t *)((const char *)m + f->quantifier_offset) == 0;
  switch (f->type) {
  case PROTOBUF_C_TYPE_STRING: {
    const char *s = *(char *const *)p;
    return !s || !*s;
  }
  case PROTOBUF_C_TYPE_MESSAGE:
    return *(void *const *)p == NULL;
  case PROTOBUF_C_TYPE_BOOL:
    return !*(const protobuf_c_boolean *)p;
  default: {
    char zero[sizeof(int64_t)] = {0};
    return memcmp(p, zero, value_size(f->type)) == 0;
  }
  }
}

/* The proposal as it can be stored: what the service keeps comes from the current record, and
 * a part the person cannot declare that the proposal leaves out stays as it is (a form showing
 * only the person's parts sends no salary; that keeps the salary, it does not clear it). */
static void complete(rec_t *prop, const rec_t *cur) {
  const ProtobufCMessageDescriptor *d = &hoso__records__v1__record__descriptor;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    size_t n = strlen(f->name);
    if (listed(f->name, n, MAINTAINED) || (!listed(f->name, n, DECLARABLE) && absent(&prop->base, f)))
      take(&prop->base, &cur->base, f);
  }
}

/* ------------------------------------------------------------ merging an approval -------- */

/* The unit a merge keeps whole: a field of the record ("full_name"), a field of one of its
 * groups ("personal.phone"), or a whole list ("family", "qualifications.foreign_languages"):
 * list entries have no identity of their own, so two edits of one list are one change. */
static const char *change_key(srv_ctx *ctx, const char *path) {
  size_t n = strcspn(path, "[");
  const char *dot = memchr(path, '.', n);
  if (dot) {
    const char *dot2 = memchr(dot + 1, '.', n - (size_t)(dot + 1 - path));
    if (dot2) n = (size_t)(dot2 - path);
  }
  return srv_printf(ctx, "%.*s", (int)n, path);
}

typedef struct {
  const char **v;
  size_t n;
} keyset;

/* Two keys touch the same data when equal or when one contains the other ("personal" and
 * "personal.phone"). */
static int overlap(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b), m = na < nb ? na : nb;
  if (strncmp(a, b, m) != 0) return 0;
  return na == nb || (na > nb ? a[nb] == '.' : b[na] == '.');
}

static int keyset_hits(const keyset *s, const char *k) {
  for (size_t i = 0; i < s->n; i++)
    if (overlap(s->v[i], k)) return 1;
  return 0;
}

static int keys_of(srv_ctx *ctx, const rec_t *a, const rec_t *b, keyset *out) {
  field_change **ch;
  size_t n;
  out->v = NULL;
  out->n = 0;
  if (rec_diff(ctx, &a->base, &b->base, &ch, &n) != 0) return -1;
  out->v = srv_alloc(ctx, (n ? n : 1) * sizeof *out->v);
  for (size_t i = 0; i < n; i++) {
    const char *k = change_key(ctx, ch[i]->path);
    size_t j = 0;
    while (j < out->n && strcmp(out->v[j], k) != 0) j++;
    if (j == out->n) out->v[out->n++] = k;
  }
  return 0;
}

/* merged (a private copy of the current record) takes the value the person declared at key. */
static int apply_key(srv_ctx *ctx, rec_t *merged, const rec_t *prop, const char *key) {
  const ProtobufCMessageDescriptor *rd = &hoso__records__v1__record__descriptor;
  const char *dot = strchr(key, '.');
  if (!dot) {
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(rd, key);
    if (!f) return -1;
    take(&merged->base, &prop->base, f);
    return 0;
  }
  const ProtobufCFieldDescriptor *g =
      protobuf_c_message_descriptor_get_field_by_name(rd, srv_printf(ctx, "%.*s", (int)(dot - key), key));
  if (!g || g->type != PROTOBUF_C_TYPE_MESSAGE || g->label == PROTOBUF_C_LABEL_REPEATED) return -1;
  const ProtobufCMessageDescriptor *gd = g->descriptor;
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(gd, dot + 1);
  if (!f) return -1;
  ProtobufCMessage **dst = (ProtobufCMessage **)((char *)merged + g->offset);
  ProtobufCMessage *const *src = (ProtobufCMessage *const *)((const char *)prop + g->offset);
  if (!*dst) *dst = srv_new(ctx, gd);
  take(*dst, *src ? *src : srv_new(ctx, gd), f);
  return 0;
}

/* The record an approval writes. The person declared the differences between base (the record
 * they saw) and their proposal. When the record has not changed since, that is the proposal.
 * When it has, each declared change applies onto the current record unless the unit changed
 * the same data meanwhile to something else than the person declares: then the two cannot both
 * stand, and the approval is refused (ABORTED) naming the fields, so that the unit rejects the
 * request and the person declares again on the current record. Changes that do not meet merge
 * (the unit raised the salary, the person added a child). */
static int merge(srv_ctx *ctx, const cr_row *row, const rec_t *cur, rec_t **out) {
  const rec_t *base = row->base, *prop = row->cr->proposed;
  keyset declared, since = {0}, differ = {0};
  *out = NULL;
  if (!prop || keys_of(ctx, base, prop, &declared) != 0) goto internal;
  if (cur->version != row->cr->base_version) {
    if (keys_of(ctx, base, cur, &since) != 0 || keys_of(ctx, cur, prop, &differ) != 0) goto internal;
    const char *clash = NULL;
    size_t n_clash = 0;
    for (size_t i = 0; i < declared.n; i++)
      if (keyset_hits(&since, declared.v[i]) && keyset_hits(&differ, declared.v[i])) {
        clash = clash ? srv_printf(ctx, "%s, %s", clash, declared.v[i]) : declared.v[i];
        n_clash++;
      }
    if (clash)
      return srv_fail(ctx, GRPC_STATUS_ABORTED,
                      "change_request_id: change request %s was declared on version %lld; since then the "
                      "record (now version %lld) was changed in the same %s (%s); reject it so that the "
                      "person declares again on the current record",
                      row->cr->id, (long long)row->cr->base_version, (long long)cur->version,
                      n_clash > 1 ? "fields" : "field", clash);
  }
  rec_t *m = srv_msg_copy(ctx, &cur->base);
  m->managing_unit_path = cur->managing_unit_path;
  for (size_t i = 0; i < declared.n; i++)
    if (apply_key(ctx, m, prop, declared.v[i]) != 0) goto internal;
  *out = m;
  return 0;
internal:
  log_error("%s: change request %s could not be merged", ctx->method, row->cr->id);
  return srv_fail_internal(ctx);
}

/* ------------------------------------------------------------ shared pieces ------------- */

static int audit_cr(srv_ctx *ctx, const char *action, const char *target_id, const char *unit_path,
                    json_t *detail) {
  if (!detail) {
    log_error("%s: could not build the audit detail of %s", ctx->method, action);
    return srv_fail_internal(ctx);
  }
  audit_entry e = {.action = action, .target_type = "change_request", .target_id = target_id, .unit_path = unit_path};
  return srv_audit(ctx, &e, detail);
}

static json_t *paths_json(field_change **ch, size_t n) {
  json_t *a = json_array();
  /* Paths only: the values stay in the request, for those allowed to read it. */
  for (size_t i = 0; a && i < n && i < 100; i++) json_array_append_new(a, json_string(ch[i]->path));
  return a;
}

static const char *state_word(int s) {
  return s == CR_STATE(APPROVED) ? "approved" : s == CR_STATE(REJECTED) ? "rejected" : "pending";
}

/* The pending request the caller decides, and its record (locked when lock_record is set,
 * before the request's row, the order SetManagingUnit takes them in). NOT_FOUND, or
 * PERMISSION_DENIED without RIGHT_APPROVE on the record's unit, or FAILED_PRECONDITION when
 * the request was already decided. */
static int locate(srv_ctx *ctx, const char *id, int lock_record, cr_row *row, rec_t **cur) {
  int rc = change_requests_find(ctx, id, 0, row);
  if (rc < 0) return -1;
  if (rc == 0) {
    rc = change_requests_exist_anywhere(ctx, id);
    if (rc < 0) return -1;
    return rc ? srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                         "change_request_id: change request %s belongs to a record managed outside your scope", id)
              : srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "change_request_id: change request %s does not exist", id);
  }
  if (!scope_allows(ctx->auth, row->unit_path, RIGHT_APPROVE))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "change_request_id: verifying change request %s needs the UNIT_ADMIN role of the managing "
                    "unit of record %s or a unit above it",
                    id, row->cr->record_id);
  SRV_TRY(record_fetch(ctx, row->cr->record_id, RIGHT_APPROVE, lock_record, cur));
  rc = change_requests_find(ctx, id, 1, row);
  if (rc < 0) return -1;
  if (rc == 0 || strcmp(row->unit_path, (*cur)->managing_unit_path) != 0)
    return srv_fail(ctx, GRPC_STATUS_ABORTED, "change_request_id: the record of change request %s moved meanwhile; retry", id);
  if (row->cr->state != CR_STATE(PENDING))
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "change_request_id: change request %s was already %s (%s)",
                    id, state_word(row->cr->state), str(row->cr->decided_at));
  return 0;
}

/* ------------------------------------------------------------ CreateChangeRequest ------- */

typedef struct {
  const rec_t *in;
  long long base_version;
  const char *note, *request_id;
  cr_t *out;
} create_st;

static int create_tx(srv_ctx *ctx, void *p) {
  create_st *st = p;
  char prev[64];
  rec_t *cur;
  cr_row row;
  st->out = NULL;
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  SRV_TRY(rec_own_record_scope(ctx, &cur));
  if (seen == 1) {
    int rc = change_requests_find(ctx, prev, 0, &row);
    if (rc < 0) return -1;
    if (rc == 0) return srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "request_id: change request %s is no longer visible", prev);
    st->out = row.cr;
    return 0;
  }
  if (cur->version != st->base_version)
    return srv_fail(ctx, GRPC_STATUS_ABORTED,
                    "base_version: record %s changed since you read it (now version %lld); read it again and "
                    "declare your changes on it",
                    cur->id, (long long)cur->version);

  rec_t *prop = srv_msg_copy(ctx, &st->in->base); /* fresh each run: the body may run again */
  complete(prop, cur);
  SRV_TRY(rec_validate_change(ctx, prop, "proposed", cur));
  field_change **ch;
  size_t n;
  if (rec_diff(ctx, &cur->base, &prop->base, &ch, &n) != 0)
    return srv_fail_internal(ctx);
  for (size_t i = 0; i < n; i++)
    if (!declarable_path(ch[i]->path))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                      "proposed.%s: a person does not declare this; the unit enters it from the state's "
                      "decision (001 Đ9.2b). A person declares identity, addresses, family, training and "
                      "qualifications, rewards and discipline, party, health and personal history",
                      ch[i]->path);
  if (n == 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "proposed: nothing to declare: it is the record as it stands (version %lld)", (long long)cur->version);

  cr_t *cr = srv_new(ctx, &hoso__records__v1__change_request__descriptor);
  cr->record_id = cur->id;
  cr->proposed = prop;
  cr->base_version = cur->version;
  cr->note = (char *)st->note;
  cr->submitted_by = (char *)ctx->auth->sub;
  cr->changes = ch;
  cr->n_changes = n;
  SRV_TRY(change_requests_insert(ctx, cr, cur, cur->managing_unit_path));
  SRV_TRY(audit_cr(ctx, "CHANGE_REQUEST_CREATE", cr->id, cur->managing_unit_path,
                   json_pack("{s:s, s:I, s:o, s:s}", "record_id", cur->id, "base_version", (json_int_t)cur->version,
                             "changes", paths_json(ch, n), "due_at", cr->due_at)));
  if (idem_done(ctx, st->request_id, cr->id) != 0) return -1;
  st->out = cr;
  return 0;
}

int rpc_create_change_request(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__CreateChangeRequestRequest *in = (const void *)req;
  create_st st = {.in = in->proposed, .base_version = in->base_version, .request_id = in->request_id};
  if (!in->proposed)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "proposed: must be given: your record as it should be");
  if (srv_check_id(ctx, "proposed.id", in->proposed->id)) return -1;
  if (in->base_version <= 0)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "base_version: required: the version of your record you read and changed");
  if (srv_clean_prose(ctx, "note", in->note, 0, REC_TEXT_MAX_CHARS, &st.note) ||
      srv_check_request_id(ctx, in->request_id))
    return -1;
  if (!ctx->auth) return srv_fail(ctx, GRPC_STATUS_UNAUTHENTICATED, "log in first");
  if (!(ctx->auth->roles & ROLE_SELF) || !ctx->auth->record_id[0])
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "change requests are declared by the person, with their own account; the unit changes "
                    "records with UpdateRecord");
  if (strcmp(in->proposed->id, ctx->auth->record_id) != 0)
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "proposed.id: you may declare changes to your own record (%s) only", ctx->auth->record_id);

  if (srv_tx(ctx, DB_READ_COMMITTED, create_tx, &st) != 0) return -1;
  Hoso__Records__V1__CreateChangeRequestResponse *o =
      srv_new(ctx, &hoso__records__v1__create_change_request_response__descriptor);
  o->change_request = st.out;
  *resp = &o->base;
  return 0;
}

/* ------------------------------------------------------------ ListChangeRequests -------- */

typedef struct {
  cr_filter f;
  int self;
  Hoso__Records__V1__ListChangeRequestsResponse *out;
  const char *where; /* the unit path of the audit row */
} list_st;

static int list_tx(srv_ctx *ctx, void *p) {
  list_st *st = p;
  rec_t *rec = NULL;
  int more;
  if (st->self)
    SRV_TRY(rec_own_record_scope(ctx, &rec));
  else if (st->f.record_id)
    SRV_TRY(record_fetch(ctx, st->f.record_id, RIGHT_READ, 0, &rec));
  SRV_TRY(change_requests_list(ctx, &st->f, &st->out->change_requests, &st->out->n_change_requests, &more));
  size_t n = st->out->n_change_requests;
  if (more && n > 0)
    SRV_TRY(srv_page_next(ctx, &st->out->next_page_token, "c%s", st->out->change_requests[n - 1]->id));
  st->where = st->f.root_path ? st->f.root_path : st->self ? rec->managing_unit_path : ctx->auth->unit_path;
  return 0;
}

/* The proposals are the people's dossiers as they declared them: who read which is recorded,
 * durable before the page is sent (the batched read audit). */
static int list_audit(srv_ctx *ctx, const list_st *st) {
  size_t n = st->out->n_change_requests;
  if (n == 0) return 0;
  json_t *ids = json_array(), *recs = json_array();
  for (size_t i = 0; ids && recs && i < n; i++) {
    json_array_append_new(ids, json_string(st->out->change_requests[i]->id));
    json_array_append_new(recs, json_string(st->out->change_requests[i]->record_id));
  }
  json_t *d = ids && recs ? json_pack("{s:o, s:o}", "change_request_ids", ids, "record_ids", recs)
                          : (json_decref(ids), json_decref(recs), NULL);
  if (!d) {
    log_error("%s: could not build the audit detail of CHANGE_REQUEST_LIST", ctx->method);
    return srv_fail_internal(ctx);
  }
  audit_entry e = {.action = "CHANGE_REQUEST_LIST", .target_type = "change_request", .target_id = "",
                   .unit_path = st->where};
  return srv_audit_read(ctx, &e, d);
}

int rpc_list_change_requests(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ListChangeRequestsRequest *in = (const void *)req;
  list_st st = {.f = {.state = (int)in->state}};
  const char *unit_id = str(in->unit_id), *record_id = str(in->record_id);
  if (*unit_id && srv_check_id(ctx, "unit_id", unit_id)) return -1;
  if (*record_id && srv_check_id(ctx, "record_id", record_id)) return -1;
  if (st.f.state < 0 || st.f.state > CR_STATE(REJECTED))
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "state: must be CHANGE_REQUEST_STATE_PENDING, _APPROVED, _REJECTED or unset (any)");
  st.f.limit = val_page_size(in->page_size);
  if (st.f.limit < 0) return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_size: must be between 0 and 500");
  if (in->page_token && *in->page_token) {
    char key[PAGE_TOKEN_MAX];
    if (val_page_token_decode(in->page_token, key, sizeof key) != 0 || key[0] != 'c' || val_id(key + 1))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "page_token: not a token of this list; start again without one");
    st.f.after_id = srv_strdup(ctx, key + 1);
  }
  if (srv_need_right(ctx, RIGHT_READ, 1, "listing change requests needs a role with read access")) return -1;

  st.self = rec_self_only(ctx);
  if (st.self) {
    if (*unit_id)
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                      "unit_id: a person lists the change requests of their own record only");
    if (*record_id && strcmp(record_id, ctx->auth->record_id) != 0)
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                      "record_id: a person lists the change requests of their own record (%s) only",
                      ctx->auth->record_id);
    st.f.record_id = ctx->auth->record_id;
  } else {
    st.f.record_id = *record_id ? record_id : NULL;
    if (*unit_id) {
      char path[UNIT_TREE_PATH_MAX];
      if (unit_tree_path(ctx, "unit_id", unit_id, path)) return -1;
      if (!scope_allows(ctx->auth, path, RIGHT_READ))
        return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside your scope", unit_id);
      st.f.root_path = srv_strdup(ctx, path);
    }
  }

  st.out = srv_new(ctx, &hoso__records__v1__list_change_requests_response__descriptor);
  if (srv_tx(ctx, DB_READ_COMMITTED | DB_READ_ONLY, list_tx, &st) != 0 || list_audit(ctx, &st) != 0) return -1;
  *resp = &st.out->base;
  return 0;
}

/* ------------------------------------------------------------ Approve / Reject ---------- */

typedef struct {
  const char *id, *text; /* the approver's note, or the rejection's reason */
  cr_t *out;
  rec_t *record;
} decide_st;

static int approve_tx(srv_ctx *ctx, void *p) {
  decide_st *st = p;
  cr_row row;
  rec_t *cur, *merged;
  st->out = NULL;
  st->record = NULL;
  SRV_TRY(locate(ctx, st->id, 1, &row, &cur));
  SRV_TRY(rec_duties_change_request(ctx, row.cr, cur));
  if (cur->workflow_state == SUBMITTED)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION,
                    "change_request_id: record %s is awaiting approval; verify this change request once the "
                    "record is approved or sent back",
                    cur->id);
  SRV_TRY(merge(ctx, &row, cur, &merged));
  /* The unit's approval verifies what the person declared and nothing else: a record that
   * carries an updater's change still awaiting ApproveRecord stays unverified, a verified one
   * stays verified, and a draft stays a draft. */
  merged->verified = cur->verified;
  field_change **ch;
  size_t n;
  if (rec_diff(ctx, &cur->base, &merged->base, &ch, &n) != 0)
    return srv_fail_internal(ctx);
  if (n == 0) {
    st->record = cur; /* the unit had already entered exactly this: nothing to write */
  } else {
    SRV_TRY(rec_validate_change(ctx, merged, "proposed", cur));
    rec_reason *why = srv_new(ctx, &hoso__records__v1__change_reason__descriptor);
    why->text = srv_printf(ctx, "change request %s%s%s%s%s", row.cr->id, *str(row.cr->note) ? ": " : "",
                           str(row.cr->note), *st->text ? "; approved: " : "", st->text);
    SRV_TRY(record_store(ctx, cur, merged, "CHANGE_REQUEST", why));
    st->record = merged;
  }
  SRV_TRY(change_requests_decide(ctx, &row, CR_STATE(APPROVED), st->text, st->record->version));
  SRV_TRY(audit_cr(ctx, "CHANGE_REQUEST_APPROVE", row.cr->id, cur->managing_unit_path,
                   json_pack("{s:s, s:I, s:I, s:s}", "record_id", cur->id, "base_version",
                             (json_int_t)row.cr->base_version, "record_version", (json_int_t)st->record->version,
                             "note", st->text)));
  st->out = row.cr;
  return 0;
}

static int reject_tx(srv_ctx *ctx, void *p) {
  decide_st *st = p;
  cr_row row;
  rec_t *cur;
  st->out = NULL;
  SRV_TRY(locate(ctx, st->id, 0, &row, &cur));
  SRV_TRY(change_requests_decide(ctx, &row, CR_STATE(REJECTED), st->text, 0));
  SRV_TRY(audit_cr(ctx, "CHANGE_REQUEST_REJECT", row.cr->id, cur->managing_unit_path,
                   json_pack("{s:s, s:s}", "record_id", cur->id, "reason", st->text)));
  st->out = row.cr;
  return 0;
}

int rpc_approve_change_request(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__ApproveChangeRequestRequest *in = (const void *)req;
  decide_st st = {.id = in->change_request_id};
  if (srv_check_id(ctx, "change_request_id", in->change_request_id) ||
      srv_clean_prose(ctx, "note", in->note, 0, REC_TEXT_MAX_CHARS, &st.text) ||
      srv_need_right(ctx, RIGHT_APPROVE, 0, "approving change requests needs the UNIT_ADMIN role"))
    return -1;
  if (srv_tx(ctx, DB_READ_COMMITTED, approve_tx, &st) != 0) return -1;
  Hoso__Records__V1__ApproveChangeRequestResponse *o =
      srv_new(ctx, &hoso__records__v1__approve_change_request_response__descriptor);
  o->change_request = st.out;
  o->record = st.record;
  *resp = &o->base;
  return 0;
}

int rpc_reject_change_request(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__RejectChangeRequestRequest *in = (const void *)req;
  decide_st st = {.id = in->change_request_id};
  if (srv_check_id(ctx, "change_request_id", in->change_request_id) ||
      srv_clean_prose(ctx, "reason", in->reason, 1, REC_TEXT_MAX_CHARS, &st.text) ||
      srv_need_right(ctx, RIGHT_APPROVE, 0, "rejecting change requests needs the UNIT_ADMIN role"))
    return -1;
  if (srv_tx(ctx, DB_READ_COMMITTED, reject_tx, &st) != 0) return -1;
  Hoso__Records__V1__RejectChangeRequestResponse *o =
      srv_new(ctx, &hoso__records__v1__reject_change_request_response__descriptor);
  o->change_request = st.out;
  *resp = &o->base;
  return 0;
}
