/* th_transfers.h: the transfers service started in a test world, and the calls its tests share. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include "th_transfers.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int th_tr_start(th_tr *t, th_world *w, const char *const *extra_env) {
  /* t is zeroed (static) on the first start; a start after a crash closes the old channel. */
  if (t->ch) cli_close(t->ch);
  memset(&t->svc, 0, sizeof t->svc);
  t->w = w;
  t->ch = NULL;
  if (th_world_service_start(w, "transfers", &t->svc, extra_env) != 0) return -1;
  t->ch = cli_open_tls(t->svc.addr, NULL, NULL, NULL);
  return t->ch ? 0 : -1;
}

int th_tr_stop(th_tr *t) {
  if (t->ch) cli_close(t->ch);
  t->ch = NULL;
  if (t->svc.pid <= 0) return 0;
  return th_svc_stop(&t->svc) == 0 ? 0 : -1;
}

void th_tr_kill(th_tr *t) {
  if (t->ch) cli_close(t->ch);
  t->ch = NULL;
  th_tr_wait_gone(&t->svc, 1);
}

int th_tr_wait_gone(th_svc *s, int kill_it) {
  if (s->pid <= 0) return 0;
  if (kill_it) kill(s->pid, SIGKILL);
  long long until = now_ms() + 30000;
  while (th_svc_alive(s)) {
    if (now_ms() > until) {
      fprintf(stderr, "th_tr: process %d still alive after 30 s\n", (int)s->pid);
      return -1;
    }
    nap_ms(20);
  }
  s->pid = 0;
  return 0;
}

grpc_status_code th_tr_call(th_tr *t, const char *method, const void *req, const ProtobufCMessageDescriptor *resp_desc,
                            void **resp, const char *token, cli_status *st) {
  return th_call(t->ch, method, req, resp_desc, resp, token, st);
}

grpc_status_code th_tr_export(th_tr *t, const char *tok, const char *transfer_id, th_package *out, cli_status *st) {
  memset(out, 0, sizeof *out);
  cli_stream *s = cli_stream_open(t->ch, TR "ExportTransferPackage", th_bearer(tok), 1, 120000);
  if (!s) return GRPC_STATUS_UNAVAILABLE;
  Hoso__Transfers__V1__ExportTransferPackageRequest req = HOSO__TRANSFERS__V1__EXPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  req.transfer_id = (char *)transfer_id;
  (void)cli_stream_send(s, &req.base);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m;
  size_t cap = 0;
  while (cli_stream_recv(s, &hoso__transfers__v1__export_transfer_package_response__descriptor, &m) == 1) {
    Hoso__Transfers__V1__ExportTransferPackageResponse *o = (void *)m;
    out->messages++;
    if (o->chunk.len > out->largest_chunk) out->largest_chunk = o->chunk.len;
    if (!out->head) {
      out->head = o; /* what the package is: kept */
      continue;
    }
    if (out->len + o->chunk.len > cap) {
      cap = 2 * cap + o->chunk.len + (1u << 20);
      out->bytes = realloc(out->bytes, cap);
    }
    memcpy(out->bytes + out->len, o->chunk.data, o->chunk.len);
    out->len += o->chunk.len;
    protobuf_c_message_free_unpacked(m, NULL);
  }
  cli_status local;
  return cli_stream_finish(s, st ? st : &local);
}

void th_package_free(th_package *p) {
  if (p->head) protobuf_c_message_free_unpacked(&p->head->base, NULL);
  free(p->bytes);
  memset(p, 0, sizeof *p);
}

grpc_status_code th_tr_import(th_tr *t, const char *tok, const uint8_t *bytes, size_t len, long long size,
                              const char *unit_id, const char *request_id,
                              Hoso__Transfers__V1__ImportTransferPackageResponse **out, cli_status *st) {
  if (out) *out = NULL;
  cli_stream *s = cli_stream_open(t->ch, TR "ImportTransferPackage", th_bearer(tok), 1, 120000);
  if (!s) return GRPC_STATUS_UNAVAILABLE;
  Hoso__Transfers__V1__ImportTransferPackageRequest req = HOSO__TRANSFERS__V1__IMPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  req.unit_id = (char *)unit_id;
  req.request_id = (char *)(request_id ? request_id : "");
  req.size = size;
  size_t off = 0;
  do {
    req.chunk.data = (uint8_t *)bytes + off;
    req.chunk.len = len - off < (1u << 20) ? len - off : 1u << 20;
    off += req.chunk.len;
    if (cli_stream_send(s, &req.base)) break; /* the service answered already (a refusal) */
    req = (Hoso__Transfers__V1__ImportTransferPackageRequest)HOSO__TRANSFERS__V1__IMPORT_TRANSFER_PACKAGE_REQUEST__INIT;
  } while (off < len);
  (void)cli_stream_close_send(s);
  ProtobufCMessage *m = NULL;
  if (cli_stream_recv(s, &hoso__transfers__v1__import_transfer_package_response__descriptor, &m) != 1) m = NULL;
  cli_status local;
  grpc_status_code c = cli_stream_finish(s, st ? st : &local);
  if (out && c == GRPC_STATUS_OK) *out = (void *)m;
  else if (m) protobuf_c_message_free_unpacked(m, NULL);
  return c;
}

Hoso__Transfers__V1__Scan *th_tr_scan(void) {
  static const char pdf[] = "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n";
  static Hoso__Transfers__V1__Scan s = HOSO__TRANSFERS__V1__SCAN__INIT;
  s.file_name = "quyet-dinh-dieu-dong.pdf";
  s.content.data = (uint8_t *)pdf;
  s.content.len = sizeof pdf - 1;
  return &s;
}

Hoso__Transfers__V1__Decision *th_tr_decision(const char *effective) {
  static __thread Hoso__Transfers__V1__Decision d;
  static __thread char num[32];
  static int counter;
  d = (Hoso__Transfers__V1__Decision)HOSO__TRANSFERS__V1__DECISION__INIT;
  snprintf(num, sizeof num, "%d/QĐ-UBND", 100 + __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
  d.number = num;
  d.date = (char *)effective;
  d.effective_date = (char *)effective;
  d.issuer = "UBND tỉnh Bắc Giang";
  return &d;
}

static th_transfer *take(void *resp, size_t offset) {
  if (!resp) return NULL;
  th_transfer **slot = (th_transfer **)((char *)resp + offset);
  th_transfer *x = *slot;
  *slot = NULL;
  protobuf_c_message_free_unpacked(resp, NULL);
  return x;
}

th_transfer *th_tr_begin(th_tr *t, const char *tok, const char *record, int kind, const char *to, const char *final,
                         const char *effective, cli_status *st) {
  Hoso__Transfers__V1__StartTransferRequest req = HOSO__TRANSFERS__V1__START_TRANSFER_REQUEST__INIT;
  char end[11];
  req.record_id = (char *)record;
  req.kind = kind;
  req.to_unit_id = (char *)(to ? to : "");
  req.final_unit_id = (char *)(final ? final : "");
  req.decision = th_tr_decision(effective);
  req.decision_scan = th_tr_scan();
  if (kind == HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_OUT_OF_SYSTEM) req.destination = "Tỉnh ủy Bắc Giang";
  if (kind == HOSO__TRANSFERS__V1__TRANSFER_KIND__TRANSFER_KIND_SECONDMENT) {
    th_tr_day(60, end);
    req.end_date = end;
  }
  Hoso__Transfers__V1__StartTransferResponse *out = NULL;
  if (th_tr_call(t, TR "StartTransfer", &req, &hoso__transfers__v1__start_transfer_response__descriptor,
                 (void **)&out, tok, st) != GRPC_STATUS_OK)
    return NULL;
  return take(out, offsetof(Hoso__Transfers__V1__StartTransferResponse, transfer));
}

th_transfer *th_tr_act(th_tr *t, const char *tok, const char *method, const char *id, cli_status *st) {
  /* Every action request has transfer_id first, and those needing a reason have it second. */
  char full[128];
  snprintf(full, sizeof full, TR "%s", method);
  const ProtobufCServiceDescriptor *sd = &hoso__transfers__v1__transfers__descriptor;
  const ProtobufCMethodDescriptor *md = protobuf_c_service_descriptor_get_method_by_name(sd, method);
  if (!md) return NULL;
  ProtobufCMessage *req = calloc(1, md->input->sizeof_message);
  md->input->message_init(req);
  const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(md->input, "transfer_id");
  *(const char **)((char *)req + f->offset) = id;
  f = protobuf_c_message_descriptor_get_field_by_name(md->input, "reason");
  if (f) *(const char **)((char *)req + f->offset) = "Đơn vị chưa đủ điều kiện tiếp nhận";
  ProtobufCMessage *out = NULL;
  grpc_status_code c = th_tr_call(t, full, req, md->output, (void **)&out, tok, st);
  free(req);
  if (c != GRPC_STATUS_OK) return NULL;
  const ProtobufCFieldDescriptor *tf = protobuf_c_message_descriptor_get_field_by_name(md->output, "transfer");
  return take(out, tf->offset);
}

th_transfer *th_tr_get(th_tr *t, const char *tok, const char *id, cli_status *st) {
  Hoso__Transfers__V1__GetTransferRequest req = HOSO__TRANSFERS__V1__GET_TRANSFER_REQUEST__INIT;
  req.transfer_id = (char *)id;
  Hoso__Transfers__V1__GetTransferResponse *out = NULL;
  if (th_tr_call(t, TR "GetTransfer", &req, &hoso__transfers__v1__get_transfer_response__descriptor, (void **)&out,
                 tok, st) != GRPC_STATUS_OK)
    return NULL;
  return take(out, offsetof(Hoso__Transfers__V1__GetTransferResponse, transfer));
}

void th_tr_free(th_transfer *x) {
  if (x) protobuf_c_message_free_unpacked(&x->base, NULL);
}

static int wait_for(th_tr *t, const char *id, int state, int timeout_ms) {
  long long until = now_ms() + timeout_ms;
  for (int pause = 20;; pause = pause < 400 ? pause * 2 : 400) {
    th_transfer *x = th_tr_get(t, t->w->tok_admin, id, NULL);
    int ok = x && (state ? (int)x->state == state : x->delivered);
    th_tr_free(x);
    if (ok) return 0;
    if (now_ms() > until) {
      fprintf(stderr, "th_tr: transfer %s not %s within %d ms\n", id, state ? "in its state" : "delivered", timeout_ms);
      return -1;
    }
    nap_ms(pause);
  }
}

int th_tr_wait_delivered(th_tr *t, const char *id, int timeout_ms) { return wait_for(t, id, 0, timeout_ms); }
int th_tr_wait_state(th_tr *t, const char *id, int state, int timeout_ms) { return wait_for(t, id, state, timeout_ms); }

Hoso__Transfers__V1__Deadline *th_tr_wait_deadline(th_tr *t, const char *tok, const char *unit, const char *record,
                                                    int step, int timeout_ms) {
  long long until = now_ms() + timeout_ms;
  for (int pause = 20;; pause = pause < 400 ? pause * 2 : 400) {
    Hoso__Transfers__V1__ListDeadlinesRequest req = HOSO__TRANSFERS__V1__LIST_DEADLINES_REQUEST__INIT;
    req.unit_id = (char *)(unit ? unit : "");
    req.page_size = 500;
    Hoso__Transfers__V1__ListDeadlinesResponse *o = NULL;
    Hoso__Transfers__V1__Deadline *d = NULL;
    if (th_tr_call(t, TR "ListDeadlines", &req, &hoso__transfers__v1__list_deadlines_response__descriptor, (void **)&o,
                   tok, NULL) == GRPC_STATUS_OK) {
      for (size_t i = 0; !d && i < o->n_deadlines; i++)
        if (!strcmp(o->deadlines[i]->record_id, record) && (int)o->deadlines[i]->step == step) {
          d = o->deadlines[i];
          o->deadlines[i] = o->deadlines[--o->n_deadlines];
        }
      protobuf_c_message_free_unpacked(&o->base, NULL);
    }
    if (d) return d;
    if (now_ms() > until) {
      fprintf(stderr, "th_tr: no deadline of step %d for record %s within %d ms\n", step, record, timeout_ms);
      return NULL;
    }
    nap_ms(pause);
  }
}

Hoso__Records__V1__Record *th_tr_record(th_tr *t, const char *record_id) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = (char *)record_id;
  Hoso__Records__V1__GetRecordResponse *out = NULL;
  if (th_call(t->w->rec_ch, "/hoso.records.v1.Records/GetRecord", &req, &hoso__records__v1__get_record_response__descriptor,
              (void **)&out, t->w->tok_transfers, NULL) != GRPC_STATUS_OK)
    return NULL;
  Hoso__Records__V1__Record *r = out->record;
  out->record = NULL;
  protobuf_c_message_free_unpacked(&out->base, NULL);
  return r;
}

void th_tr_day(int days, char out[11]) {
  time_t now = time(NULL) + 7 * 3600 + (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

int th_tr_package_key(const char *tag, char *path, size_t n, char *env, size_t env_n) {
  snprintf(path, n, "%s/test-logs/package-key-%s-%d.pem", HOSO_BIN_DIR, tag, (int)getpid());
  /* made here too: a test run alone on a fresh build has started no service yet */
  if (mkdir(HOSO_BIN_DIR "/test-logs", 0755) != 0 && errno != EEXIST) return -1;
  EVP_PKEY *k = EVP_EC_gen("P-256");
  FILE *f = fopen(path, "w");
  int ok = k && f && PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
  if (f) fclose(f);
  EVP_PKEY_free(k);
  snprintf(env, env_n, "HOSO_PACKAGE_KEY=%s", path);
  return ok ? 0 : -1;
}
