/* hoso-demo-transfers: the demo's transfers, made through the transfers service as the system
 * administrator (who may act for every side): a few in each state — started (one long overdue),
 * sent, received awaiting its forward, forwarded, completed, rejected, cancelled, a pull asked
 * for and one refused, a secondment under way and one ended, a move inside an agency, a record
 * gone out of the system with its package and that package taken back in. ./hoso up runs it
 * once, after the generated dossiers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"
#include "records.pb-c.h"
#include "transfers.pb-c.h"

#define TR "/hoso.transfers.v1.Transfers/"
#define K(x) HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_##x
#define TIMEOUT_MS 30000
#define MAX_UNITS 512

typedef Hoso__Transfers__V1__Transfer transfer;

static cli_chan *id_ch, *rec_ch, *tr_ch;
static char bearer[8192];
static int made;

static grpc_status_code call(cli_chan *ch, const char *method, const void *req, const ProtobufCMessageDescriptor *d,
                             void *out) {
  cli_md md = {"authorization", bearer};
  cli_status st;
  grpc_status_code c = cli_call(ch, method, req, d, out, &md, 1, TIMEOUT_MS, &st);
  if (c != GRPC_STATUS_OK) fprintf(stderr, "hoso-demo-transfers: %s: %s %s\n", method, cli_status_name(c), st.message);
  return c;
}

static void day(int offset, char out[11]) {
  time_t t = time(NULL) + 7 * 3600 + (time_t)offset * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

static Hoso__Transfers__V1__Scan *scan(void) {
  static const char pdf[] = "%PDF-1.4\n% quyet dinh dieu dong (demo)\n%%EOF\n";
  static Hoso__Transfers__V1__Scan s = HOSO__TRANSFERS__V1__SCAN__INIT;
  s.file_name = "quyet-dinh.pdf";
  s.content.data = (uint8_t *)pdf;
  s.content.len = sizeof pdf - 1;
  return &s;
}

static Hoso__Transfers__V1__Decision *decision(const char *effective) {
  static Hoso__Transfers__V1__Decision d;
  static char num[32];
  d = (Hoso__Transfers__V1__Decision)HOSO__TRANSFERS__V1__DECISION__INIT;
  snprintf(num, sizeof num, "%d/QĐ-UBND", 200 + made);
  d.number = num;
  d.date = (char *)effective;
  d.effective_date = (char *)effective;
  d.issuer = "Ủy ban nhân dân tỉnh Bắc Giang";
  return &d;
}

/* ------------------------------------------------------------ units and records --------- */

typedef struct {
  char id[24], parent[24];
  char records[8][24];
  int n_records, used;
} unit;

static unit units[MAX_UNITS];
static int n_units;

static int load_units(const char *file) {
  FILE *f = fopen(file, "r");
  if (!f) {
    fprintf(stderr, "hoso-demo-transfers: cannot read %s\n", file);
    return -1;
  }
  char line[128];
  while (n_units < MAX_UNITS && fgets(line, sizeof line, f)) {
    unit *u = &units[n_units];
    if (sscanf(line, "%23s", u->id) != 1) continue;
    Hoso__Identity__V1__GetUnitRequest g = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
    g.unit_id = u->id;
    Hoso__Identity__V1__GetUnitResponse *gu = NULL;
    if (call(id_ch, "/hoso.identity.v1.Identity/GetUnit", &g, &hoso__identity__v1__get_unit_response__descriptor,
             &gu) != GRPC_STATUS_OK)
      continue;
    snprintf(u->parent, sizeof u->parent, "%s", gu->unit->parent_id);
    protobuf_c_message_free_unpacked(&gu->base, NULL);
    Hoso__Records__V1__SearchRecordsRequest s = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
    s.unit_id = u->id;
    s.direct_only = 1;
    s.page_size = 8;
    Hoso__Records__V1__SearchRecordsResponse *sr = NULL;
    if (call(rec_ch, "/hoso.records.v1.Records/SearchRecords", &s, &hoso__records__v1__search_records_response__descriptor,
             &sr) != GRPC_STATUS_OK)
      continue;
    for (size_t i = 0; i < sr->n_records && i < 8; i++)
      snprintf(u->records[u->n_records++], 24, "%s", sr->records[i]->id);
    protobuf_c_message_free_unpacked(&sr->base, NULL);
    if (u->n_records) n_units++;
  }
  fclose(f);
  return n_units >= 3 ? 0 : -1;
}

/* A record of u not used yet. */
static const char *take(unit *u) { return u->used < u->n_records ? u->records[u->used++] : NULL; }

/* ------------------------------------------------------------ transfers ---------------- */

static transfer *start(const char *rec, int kind, const char *to, const char *final, const char *effective,
                       const char *end) {
  if (!rec) return NULL;
  Hoso__Transfers__V1__StartTransferRequest r = HOSO__TRANSFERS__V1__START_TRANSFER_REQUEST__INIT;
  r.record_id = (char *)rec;
  r.kind = kind;
  r.to_unit_id = (char *)(to ? to : "");
  r.final_unit_id = (char *)(final ? final : "");
  r.decision = decision(effective);
  r.decision_scan = scan();
  r.destination = kind == K(OUT_OF_SYSTEM) ? "Tỉnh ủy Bắc Giang (khối Đảng)" : "";
  r.end_date = (char *)(end ? end : "");
  r.note = "Dữ liệu minh họa";
  Hoso__Transfers__V1__StartTransferResponse *o = NULL;
  if (call(tr_ch, TR "StartTransfer", &r, &hoso__transfers__v1__start_transfer_response__descriptor, &o) != GRPC_STATUS_OK)
    return NULL;
  made++;
  transfer *t = o->transfer;
  o->transfer = NULL;
  protobuf_c_message_free_unpacked(&o->base, NULL);
  return t;
}

/* An action on t by method name, with a reason where one is asked; 0 / -1. */
static int act(transfer *t, const char *method) {
  if (!t) return -1;
  const ProtobufCMethodDescriptor *md =
      protobuf_c_service_descriptor_get_method_by_name(&hoso__transfers__v1__transfers__descriptor, method);
  ProtobufCMessage *req = calloc(1, md->input->sizeof_message);
  md->input->message_init(req);
  *(const char **)((char *)req + protobuf_c_message_descriptor_get_field_by_name(md->input, "transfer_id")->offset) = t->id;
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(md->input, "reason");
  if (f) *(const char **)((char *)req + f->offset) = "Đơn vị chưa bố trí được vị trí việc làm (dữ liệu minh họa)";
  char path[128];
  snprintf(path, sizeof path, TR "%s", method);
  ProtobufCMessage *out = NULL;
  grpc_status_code c = call(tr_ch, path, req, md->output, &out);
  free(req);
  if (out) protobuf_c_message_free_unpacked(out, NULL);
  return c == GRPC_STATUS_OK ? 0 : -1;
}

/* Waits until records has every move of t (the package needs the record frozen). */
static int delivered(transfer *t) {
  for (int i = 0; i < 300; i++) {
    Hoso__Transfers__V1__GetTransferRequest g = HOSO__TRANSFERS__V1__GET_TRANSFER_REQUEST__INIT;
    g.transfer_id = t->id;
    Hoso__Transfers__V1__GetTransferResponse *o = NULL;
    if (call(tr_ch, TR "GetTransfer", &g, &hoso__transfers__v1__get_transfer_response__descriptor, &o) != GRPC_STATUS_OK)
      return -1;
    int done = o->transfer->delivered;
    protobuf_c_message_free_unpacked(&o->base, NULL);
    if (done) return 0;
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
  }
  return -1;
}

static int pull(const char *rec, const char *to, int refuse) {
  if (!rec) return -1;
  Hoso__Transfers__V1__RequestTransferRequest r = HOSO__TRANSFERS__V1__REQUEST_TRANSFER_REQUEST__INIT;
  r.record_id = (char *)rec;
  r.to_unit_id = (char *)to;
  r.request_letter = scan();
  r.note = "Công văn đề nghị chuyển hồ sơ (dữ liệu minh họa)";
  Hoso__Transfers__V1__RequestTransferResponse *o = NULL;
  if (call(tr_ch, TR "RequestTransfer", &r, &hoso__transfers__v1__request_transfer_response__descriptor, &o) !=
      GRPC_STATUS_OK)
    return -1;
  made++;
  int rc = refuse ? act(o->transfer, "RefuseRequest") : 0;
  protobuf_c_message_free_unpacked(&o->base, NULL);
  return rc;
}

/* ExportTransferPackage streams the package out and ImportTransferPackage takes it in as a
 * stream: the demo's small package passes through memory. */
static int export_package(const char *transfer_id, uint8_t **pkg, size_t *len) {
  cli_md md = {"authorization", bearer};
  cli_stream *s = cli_stream_open(tr_ch, TR "ExportTransferPackage", &md, 1, TIMEOUT_MS);
  if (!s) return -1;
  Hoso__Transfers__V1__ExportTransferPackageRequest e = HOSO__TRANSFERS__V1__EXPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  e.transfer_id = (char *)transfer_id;
  (void)cli_stream_send(s, &e.base);
  (void)cli_stream_close_send(s);
  *pkg = NULL;
  *len = 0;
  ProtobufCMessage *m;
  int ok = 1;
  while (cli_stream_recv(s, &hoso__transfers__v1__export_transfer_package_response__descriptor, &m) == 1) {
    const ProtobufCBinaryData *c = &((Hoso__Transfers__V1__ExportTransferPackageResponse *)m)->chunk;
    uint8_t *nb = c->len ? realloc(*pkg, *len + c->len) : *pkg;
    if (c->len && !nb) ok = 0;
    if (c->len && nb) {
      memcpy(nb + *len, c->data, c->len);
      *pkg = nb;
      *len += c->len;
    }
    protobuf_c_message_free_unpacked(m, NULL);
  }
  cli_status st;
  grpc_status_code c = cli_stream_finish(s, &st);
  if (c != GRPC_STATUS_OK || !ok) {
    fprintf(stderr, "hoso-demo-transfers: ExportTransferPackage: %s %s\n", cli_status_name(c), st.message);
    return -1;
  }
  return 0;
}

static int import_package(const uint8_t *pkg, size_t len, const char *unit) {
  cli_md md = {"authorization", bearer};
  cli_stream *s = cli_stream_open(tr_ch, TR "ImportTransferPackage", &md, 1, TIMEOUT_MS);
  if (!s) return -1;
  Hoso__Transfers__V1__ImportTransferPackageRequest i = HOSO__TRANSFERS__V1__IMPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  i.unit_id = (char *)unit;
  i.note = "Tiếp nhận lại từ gói hồ sơ (dữ liệu minh họa)";
  i.size = (int64_t)len;
  for (size_t off = 0; off < len; off += 1u << 20) {
    i.chunk.data = (uint8_t *)pkg + off;
    i.chunk.len = len - off < (1u << 20) ? len - off : 1u << 20;
    if (cli_stream_send(s, &i.base)) break;
    i = (Hoso__Transfers__V1__ImportTransferPackageRequest)HOSO__TRANSFERS__V1__IMPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  }
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  if (cli_stream_recv(s, &hoso__transfers__v1__import_transfer_package_response__descriptor, &m) == 1)
    protobuf_c_message_free_unpacked(m, NULL);
  cli_status st;
  grpc_status_code c = cli_stream_finish(s, &st);
  if (c != GRPC_STATUS_OK) fprintf(stderr, "hoso-demo-transfers: ImportTransferPackage: %s %s\n", cli_status_name(c), st.message);
  return c == GRPC_STATUS_OK ? 0 : -1;
}

static int out_and_back(const char *rec, const char *back_to) {
  char today[11];
  day(0, today);
  transfer *t = start(rec, K(OUT_OF_SYSTEM), NULL, NULL, today, NULL);
  if (act(t, "SendTransfer") || delivered(t)) return -1;
  uint8_t *pkg = NULL;
  size_t len = 0;
  int rc = export_package(t->id, &pkg, &len);
  protobuf_c_message_free_unpacked(&t->base, NULL);
  if (rc == 0) rc = import_package(pkg, len, back_to);
  free(pkg);
  made += rc == 0;
  return rc;
}

/* ------------------------------------------------------------ main ---------------------- */

static int login(const char *password) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = "admin";
  req.password = (char *)password;
  ProtobufCMessage *out = NULL;
  cli_status st;
  if (cli_call(id_ch, "/hoso.identity.v1.Identity/Login", &req.base, &hoso__identity__v1__login_response__descriptor,
               &out, NULL, 0, TIMEOUT_MS, &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "hoso-demo-transfers: login: %s\n", st.message);
    return -1;
  }
  snprintf(bearer, sizeof bearer, "Bearer %s", ((Hoso__Identity__V1__LoginResponse *)out)->access_token);
  protobuf_c_message_free_unpacked(out, NULL);
  return 0;
}

int main(int argc, char **argv) {
  const char *units_file = argc == 3 && !strcmp(argv[1], "--units-file") ? argv[2] : NULL;
  const char *pw = getenv("HOSO_ADMIN_PASSWORD");
  if (!units_file || !pw) {
    fprintf(stderr, "usage: HOSO_ADMIN_PASSWORD=... hoso-demo-transfers --units-file FILE\n"
                    "  FILE: leaf unit ids, one a line (as ./hoso up writes var/demo-units.txt)\n");
    return 2;
  }
  id_ch = cli_open(cfg_service_addr("identity"));
  rec_ch = cli_open(cfg_service_addr("records"));
  tr_ch = cli_open(cfg_service_addr("transfers"));
  if (!id_ch || !rec_ch || !tr_ch || login(pw) || load_units(units_file)) return 1;

  /* Three units of different parents (a, b, c) and, when there are, two of the same (s1, s2). */
  unit *a = &units[0], *b = NULL, *c = NULL, *s1 = NULL, *s2 = NULL;
  for (int i = 1; i < n_units; i++) {
    if (!b && strcmp(units[i].parent, a->parent)) b = &units[i];
    else if (b && !c && strcmp(units[i].parent, a->parent) && strcmp(units[i].id, b->id)) c = &units[i];
  }
  for (int i = 0; i < n_units && !s2; i++)
    for (int j = i + 1; j < n_units && !s2; j++)
      if (!strcmp(units[i].parent, units[j].parent) && units[i].n_records > 1) s1 = &units[i], s2 = &units[j];
  if (!b || !c) {
    fprintf(stderr, "hoso-demo-transfers: the demo needs units of three different parents\n");
    return 1;
  }
  char today[11], soon[11], past_start[11], past_end[11];
  day(0, today);
  day(90, soon);
  day(-120, past_start);
  day(-30, past_end);
  int fails = 0;
  transfer *t;
  /* Started: one long overdue (its send was due ten working days after 6 January 2025), one new. */
  fails += !(t = start(take(a), K(BETWEEN_UNITS), b->id, NULL, "2025-01-06", NULL));
  if (t) protobuf_c_message_free_unpacked(&t->base, NULL);
  fails += !(t = start(take(a), K(BETWEEN_UNITS), b->id, NULL, today, NULL));
  if (t) protobuf_c_message_free_unpacked(&t->base, NULL);
  /* Sent, waiting at the receiving unit. */
  t = start(take(a), K(BETWEEN_UNITS), b->id, NULL, today, NULL);
  fails += act(t, "SendTransfer") != 0;
  if (t) protobuf_c_message_free_unpacked(&t->base, NULL);
  /* Received, its forward to the unit that will use the person due; and one forwarded. */
  for (int fwd = 0; fwd <= 1; fwd++) {
    t = start(take(b), K(BETWEEN_UNITS), a->id, c->id, today, NULL);
    fails += act(t, "SendTransfer") || act(t, "ReceiveTransfer") || (fwd && act(t, "ForwardTransfer"));
    if (t) protobuf_c_message_free_unpacked(&t->base, NULL);
  }
  /* Completed, rejected, cancelled. */
  static const char *const ends[3][2] = {{"ReceiveTransfer", NULL}, {"RejectTransfer", NULL}, {"CancelTransfer", NULL}};
  for (int i = 0; i < 3; i++) {
    t = start(take(c), K(BETWEEN_UNITS), b->id, NULL, today, NULL);
    fails += (i < 2 && act(t, "SendTransfer")) || act(t, ends[i][0]);
    if (t) protobuf_c_message_free_unpacked(&t->base, NULL);
  }
  /* Pulls (002 Đ10): one awaiting its answer, one refused. */
  fails += pull(take(a), c->id, 0) != 0;
  fails += pull(take(a), c->id, 1) != 0;
  /* Secondments: one under way, one whose end date has passed (the service ends it). */
  t = start(take(b), K(SECONDMENT), c->id, NULL, today, soon);
  fails += act(t, "SendTransfer") != 0;
  if (t) protobuf_c_message_free_unpacked(&t->base, NULL);
  t = start(take(c), K(SECONDMENT), a->id, NULL, past_start, past_end);
  fails += act(t, "SendTransfer") != 0;
  if (t) protobuf_c_message_free_unpacked(&t->base, NULL);
  /* Inside an agency. */
  if (s1 && s2) {
    t = start(take(s1), K(INTERNAL), s2->id, NULL, today, NULL);
    fails += act(t, "SendTransfer") != 0;
    if (t) protobuf_c_message_free_unpacked(&t->base, NULL);
  }
  /* Out of the system with a package, and the package taken back in by another unit. */
  fails += out_and_back(take(c), a->id) != 0;
  printf("hoso-demo-transfers: %d transfers made, %d steps failed\n", made, fails);
  cli_close(id_ch);
  cli_close(rec_ch);
  cli_close(tr_ch);
  return fails ? 1 : 0;
}
