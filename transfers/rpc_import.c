/* ImportTransferPackage: another deployment's package (or this one's), streamed in chunks, is
 * checked as it comes — the head's signer and signature before any part, then each part against
 * the manifest (listed, its size, its SHA-256) — and only when every byte has come and every
 * check has passed does records make the draft, its versions and attachments streamed to it
 * (ImportRecordHistory). Memory stays bounded: the scans wait in an unlinked temporary file,
 * only the record's own parts (the record, its versions, the lists) are held. A stream that
 * ends early is refused as truncated, naming the part it ended in; nothing is made. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "cfg.h"
#include "idem.h"
#include "log.h"
#include "package.h"
#include "package_stream.h"
#include "scope.h"
#include "transfers.h"

#define META_MAX (64u << 20)  /* the record's own parts together */
#define BATCH (512u << 10)     /* versions per message to records, packed */
#define RECORDS_TIMEOUT_MS 600000

static const char *str(const char *s) { return s ? s : ""; }

/* The parts kept in memory, by name; the scans go to the spool. */
static const char *const META[] = {"transfer.pb", "record.pb", "versions.pb", "attachments.pb"};
enum { N_META = 4 };

typedef struct {
  const char *name; /* the manifest's */
  off_t off;
  uint64_t len;
} spooled;

typedef struct {
  srv_ctx *ctx;
  const char *unit_id, *note, *request_id;
  long long size, got;
  char path[UNIT_TREE_PATH_MAX];
  pkgs_reader rd;
  pkg_manifest man;
  char key_id[65], sha[65];
  EVP_MD_CTX *file_md, *part_md;
  pkg_entry *cur;            /* the part being read */
  int cur_meta;              /* its META index, -1 spooled, -2 checked only */
  ProtobufCBinaryData meta[N_META];
  size_t meta_bytes;
  int spool;                 /* the scans, in an unlinked file */
  uint64_t spool_len;
  spooled *sp;
  size_t n_sp, cap_sp;
} imp_in;

static int bad(imp_in *in, const char *msg) { return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s", msg); }

static int spool_open(imp_in *in) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/hoso-package-XXXXXX", cfg_str("TMPDIR", "/tmp"));
  in->spool = mkostemp(path, O_CLOEXEC);
  if (in->spool < 0) {
    log_error("transfers: no temporary file for a package in %s: %s", path, strerror(errno));
    return srv_fail_internal(in->ctx);
  }
  unlink(path); /* gone with the descriptor, whatever happens */
  return 0;
}

static int spool_write(imp_in *in, const uint8_t *d, size_t n) {
  while (n) {
    ssize_t w = write(in->spool, d, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      log_error("transfers: writing a package's scans to a temporary file: %s", strerror(errno));
      return srv_fail(in->ctx, GRPC_STATUS_RESOURCE_EXHAUSTED, "package: no room to take it in now; retry later");
    }
    d += w;
    n -= (size_t)w;
    in->spool_len += (uint64_t)w;
  }
  return 0;
}

/* ------------------------------------------------------------ the package as it comes --- */

static int part_begins(imp_in *in, const pkgs_event *e) {
  pkg_entry *p = pkg_manifest_find(&in->man, e->name);
  if (!p) return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: not listed in the manifest", e->name);
  if (p->seen) return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: there twice", e->name);
  if ((long long)e->size != p->size)
    return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "package.parts[%s]: %llu bytes where the manifest says %lld (cut or changed)", e->name,
                    (unsigned long long)e->size, p->size);
  p->seen = 1;
  in->cur = p;
  if (EVP_DigestInit_ex(in->part_md, EVP_sha256(), NULL) != 1) return srv_fail_internal(in->ctx);
  in->cur_meta = -2;
  for (int i = 0; i < N_META; i++)
    if (!strcmp(p->name, META[i])) in->cur_meta = i;
  if (in->cur_meta >= 0) {
    if (e->size > META_MAX - in->meta_bytes)
      return srv_fail(in->ctx, GRPC_STATUS_FAILED_PRECONDITION,
                      "package.parts[%s]: the record's own parts pass %u MiB, more than this deployment takes",
                      p->name, META_MAX >> 20);
    in->meta_bytes += e->size;
    ProtobufCBinaryData *b = &in->meta[in->cur_meta];
    b->len = 0;
    if (!(b->data = malloc(e->size ? e->size : 1))) return srv_fail_internal(in->ctx);
  } else if (!strncmp(p->name, "attachments/", 12)) {
    if (in->n_sp == in->cap_sp) {
      in->cap_sp = 2 * in->cap_sp + 16;
      spooled *v = srv_alloc(in->ctx, in->cap_sp * sizeof *v);
      if (in->n_sp) memcpy(v, in->sp, in->n_sp * sizeof *v);
      in->sp = v;
    }
    in->sp[in->n_sp++] = (spooled){.name = p->name, .off = (off_t)in->spool_len, .len = e->size};
    in->cur_meta = -1;
  }
  return 0;
}

static int part_bytes(imp_in *in, const pkgs_event *e) {
  EVP_DigestUpdate(in->part_md, e->data, e->len);
  if (in->cur_meta >= 0) {
    ProtobufCBinaryData *b = &in->meta[in->cur_meta];
    memcpy(b->data + b->len, e->data, e->len);
    b->len += e->len;
    return 0;
  }
  return in->cur_meta == -1 ? spool_write(in, e->data, e->len) : 0;
}

static int part_ends(imp_in *in) {
  unsigned char md[32];
  unsigned n = 0;
  char got[65];
  EVP_DigestFinal_ex(in->part_md, md, &n);
  pkg_hex(md, got);
  if (strcmp(got, in->cur->sha256) != 0)
    return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT,
                    "package.parts[%s]: SHA-256 does not match the manifest (changed after signing)", in->cur->name);
  in->cur = NULL;
  return 0;
}

static int on_event(imp_in *in, const pkgs_event *e) {
  char err[PKG_ERR];
  switch (e->kind) {
  case PKGS_HEAD:
    /* The signer and the signature before any part is looked at. */
    if (pkg_manifest_check(e->manifest, e->manifest_len, e->signature, e->signature_len, e->key_id, &in->man, err,
                           sizeof err) != 0)
      return bad(in, err);
    snprintf(in->key_id, sizeof in->key_id, "%s", e->key_id);
    return 0;
  case PKGS_PART: return part_begins(in, e);
  case PKGS_DATA: return part_bytes(in, e);
  case PKGS_PART_END: return part_ends(in);
  case PKGS_ERROR: return bad(in, e->err);
  default: return 0;
  }
}

static int feed(imp_in *in, const ProtobufCBinaryData *c) {
  if (c->len > TR_CHUNK) return bad(in, "chunk: at most 1 MiB per message");
  if ((long long)c->len > in->size - in->got)
    return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT, "chunk: more bytes than the %lld the first message announced",
                    in->size);
  in->got += (long long)c->len;
  EVP_DigestUpdate(in->file_md, c->data, c->len);
  const uint8_t *p = c->data;
  size_t n = c->len;
  for (;;) {
    pkgs_event e = pkgs_next(&in->rd, &p, &n);
    if (e.kind == PKGS_NEED) return 0;
    if (on_event(in, &e)) return -1;
  }
}

/* After the last message: a stream cut short is named as such, with the part it cut. */
static int finish(imp_in *in) {
  pkgs_event e;
  if (in->got < in->size) {
    e = pkgs_end(&in->rd);
    const char *where = e.kind == PKGS_ERROR ? e.err : "package: truncated";
    return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s; the stream ended after %lld of the %lld bytes announced",
                    where, in->got, in->size);
  }
  while ((e = pkgs_end(&in->rd)).kind != PKGS_DONE)
    if (on_event(in, &e)) return -1;
  for (size_t i = 0; i < in->man.n; i++)
    if (!in->man.v[i].seen)
      return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: missing (the manifest lists it)",
                      in->man.v[i].name);
  unsigned char md[32];
  unsigned n = 0;
  EVP_DigestFinal_ex(in->file_md, md, &n);
  pkg_hex(md, in->sha);
  return 0;
}

/* ------------------------------------------------------------ to records ---------------- */

static int meta_msg(imp_in *in, int i, const ProtobufCMessageDescriptor *d, ProtobufCMessage **out) {
  if (!in->meta[i].data) return srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: missing", META[i]);
  *out = protobuf_c_message_unpack(d, srv_allocator(in->ctx), in->meta[i].len, in->meta[i].data);
  return *out ? 0 : srv_fail(in->ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: not a %s", META[i], d->name);
}

static const spooled *spooled_part(imp_in *in, const char *name) {
  for (size_t i = 0; i < in->n_sp; i++)
    if (!strcmp(in->sp[i].name, name)) return &in->sp[i];
  return NULL;
}

typedef Hoso__Records__V1__ImportRecordHistoryRequest hist_msg;

/* The versions in messages of about BATCH bytes each. 0, or -1 when records ended the call. */
static int send_versions(cli_stream *s, Hoso__Records__V1__ListRecordVersionsResponse *vs) {
  size_t from = 0, bytes = 0;
  for (size_t i = 0; i < vs->n_versions; i++) {
    bytes += protobuf_c_message_get_packed_size(&vs->versions[i]->base) + 4;
    if (bytes >= BATCH || i + 1 == vs->n_versions) {
      hist_msg m = HOSO__RECORDS__V1__IMPORT_RECORD_HISTORY_REQUEST__INIT;
      m.versions = vs->versions + from;
      m.n_versions = i + 1 - from;
      if (cli_stream_send(s, &m.base)) return -1;
      from = i + 1;
      bytes = 0;
    }
  }
  return 0;
}

/* One attachment: its metadata, then its bytes from the spool. 0, -1 when records ended the
 * call, -2 on a local failure (status set). */
static int send_attachment(imp_in *in, cli_stream *s, Hoso__Records__V1__AttachmentMeta *a, const spooled *sp,
                           uint8_t *buf) {
  hist_msg m = HOSO__RECORDS__V1__IMPORT_RECORD_HISTORY_REQUEST__INIT;
  m.attachment = a;
  if (cli_stream_send(s, &m.base)) return -1;
  m.attachment = NULL;
  for (uint64_t off = 0; off < sp->len;) {
    size_t want = sp->len - off < TR_CHUNK ? (size_t)(sp->len - off) : TR_CHUNK;
    ssize_t r = pread(in->spool, buf, want, sp->off + (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      log_error("transfers: reading a package's scans back: %s", r < 0 ? strerror(errno) : "end of file");
      srv_fail_internal(in->ctx);
      return -2;
    }
    m.chunk.data = buf;
    m.chunk.len = (size_t)r;
    if (cli_stream_send(s, &m.base)) return -1;
    off += (uint64_t)r;
  }
  return 0;
}

/* records makes the draft (the same one again for the same package and unit): *made. */
static int to_records(imp_in *in, Hoso__Transfers__V1__Transfer **t, Hoso__Records__V1__ImportRecordHistoryResponse **made) {
  srv_ctx *ctx = in->ctx;
  Hoso__Records__V1__Record *rec;
  Hoso__Records__V1__ListRecordVersionsResponse *vs;
  Hoso__Records__V1__ListAttachmentsResponse *atts;
  if (meta_msg(in, 0, &hoso__transfers__v1__transfer__descriptor, (ProtobufCMessage **)t) ||
      meta_msg(in, 1, &hoso__records__v1__record__descriptor, (ProtobufCMessage **)&rec) ||
      meta_msg(in, 2, &hoso__records__v1__list_record_versions_response__descriptor, (ProtobufCMessage **)&vs) ||
      meta_msg(in, 3, &hoso__records__v1__list_attachments_response__descriptor, (ProtobufCMessage **)&atts))
    return -1;
  const spooled **sps = srv_alloc(ctx, (atts->n_attachments + 1) * sizeof *sps);
  for (size_t i = 0; i < atts->n_attachments; i++) {
    const char *name = srv_printf(ctx, "attachments/%s/%s", atts->attachments[i]->id, str(atts->attachments[i]->file_name));
    if (!(sps[i] = spooled_part(in, name)))
      return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "package.parts[%s]: missing", name);
  }
  cli_stream *s = svc_stream_open(tr_client(), "records", "/hoso.records.v1.Records/ImportRecordHistory", RECORDS_TIMEOUT_MS);
  if (!s) return srv_fail(ctx, GRPC_STATUS_UNAVAILABLE, "records service unavailable; retry");
  hist_msg first = HOSO__RECORDS__V1__IMPORT_RECORD_HISTORY_REQUEST__INIT;
  first.record = rec;
  first.unit_id = (char *)in->unit_id;
  first.key = srv_printf(ctx, "package:%.32s:%s", in->sha, in->unit_id);
  first.source = srv_printf(ctx, "deployment %.16s", in->key_id);
  uint8_t *buf = malloc(TR_CHUNK);
  /* A send refused means records ended the call (a package it took in already, or a refusal):
   * its answer says which. */
  int rc = buf ? 0 : -2;
  if (rc == 0 && cli_stream_send(s, &first.base)) rc = -1;
  if (rc == 0 && send_versions(s, vs)) rc = -1;
  for (size_t i = 0; rc == 0 && i < atts->n_attachments; i++) rc = send_attachment(in, s, atts->attachments[i], sps[i], buf);
  free(buf);
  if (rc == -2) {
    cli_stream_cancel(s);
    cli_status ignored;
    cli_stream_finish(s, &ignored);
    return srv_failed(ctx) ? -1 : srv_fail_internal(ctx);
  }
  (void)cli_stream_close_send(s);
  ProtobufCMessage *resp = NULL;
  if (cli_stream_recv(s, &hoso__records__v1__import_record_history_response__descriptor, &resp) != 1) resp = NULL;
  cli_status cs;
  grpc_status_code c = cli_stream_finish(s, &cs);
  if (c == GRPC_STATUS_OK && resp) {
    *made = srv_msg_copy(ctx, resp);
    protobuf_c_message_free_unpacked(resp, NULL);
    return 0;
  }
  if (resp) protobuf_c_message_free_unpacked(resp, NULL);
  if (c == GRPC_STATUS_INVALID_ARGUMENT || c == GRPC_STATUS_FAILED_PRECONDITION)
    return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "package: its record does not fit this deployment (%s)", cs.message);
  if (c == GRPC_STATUS_ABORTED) /* a concurrent change at records: the import may be tried again */
    cs.code = GRPC_STATUS_UNAVAILABLE;
  return svc_fail_downstream(ctx, &cs, SVC_AS_SERVICE, "records", "/hoso.records.v1.Records/ImportRecordHistory");
}

/* ------------------------------------------------------------ ImportTransferPackage ----- */

typedef struct {
  tr_row *row;
  const char *request_id;
} imp_st;

static int imp_tx(srv_ctx *ctx, void *p) {
  imp_st *st = p;
  char prev[64];
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  if (seen == 1) {
    st->row->t->id = srv_strdup(ctx, prev);
    return 0;
  }
  SRV_TRY(store_transfer_insert(ctx, st->row));
  SRV_TRY(tr_audit(ctx, st->row, "TRANSFER_IMPORT",
                   json_pack("{s:s, s:s}", "new_record_id", st->row->t->new_record_id, "source",
                             str(st->row->t->destination))));
  return idem_done(ctx, st->request_id, st->row->t->id);
}

/* The first message: who takes the person in, and how many bytes are coming. */
static int first_message(imp_in *in, const Hoso__Transfers__V1__ImportTransferPackageRequest **out) {
  srv_ctx *ctx = in->ctx;
  ProtobufCMessage *m;
  int got = srv_recv(ctx, &m);
  if (got < 0) return -1;
  if (got == 0) return bad(in, "unit_id: the first message names the unit that takes the person in");
  const Hoso__Transfers__V1__ImportTransferPackageRequest *r = (const void *)m;
  if (srv_check_id(ctx, "unit_id", r->unit_id) || srv_clean_prose(ctx, "note", r->note, 0, TR_TEXT_MAX, &in->note) ||
      srv_check_request_id(ctx, r->request_id))
    return -1;
  long long max = cfg_int("HOSO_PACKAGE_MAX_MB", 1024, 1, 1L << 20) << 20;
  if (r->size <= 0) return bad(in, "size: the package's size in bytes, in the first message");
  if (r->size > max)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "size: %lld bytes, more than this deployment takes (%lld MiB, "
                    "HOSO_PACKAGE_MAX_MB)", (long long)r->size, max >> 20);
  in->unit_id = srv_strdup(ctx, r->unit_id);
  in->request_id = srv_strdup(ctx, str(r->request_id));
  in->size = r->size;
  if (srv_need_right(ctx, RIGHT_UPDATE, 0, "a package is taken in by the UPDATER role of the receiving unit") ||
      unit_tree_path(ctx, "unit_id", in->unit_id, in->path))
    return -1;
  if (!scope_allows(ctx->auth, in->path, RIGHT_UPDATE))
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "unit_id: unit %s is outside your scope", in->unit_id);
  *out = r;
  return 0;
}

/* The package read to its end and checked: 0, or -1 with the refusal. */
static int read_package(imp_in *in) {
  const Hoso__Transfers__V1__ImportTransferPackageRequest *r = NULL;
  if (first_message(in, &r) || spool_open(in) || feed(in, &r->chunk)) return -1;
  ProtobufCMessage *m;
  int got;
  while ((got = srv_recv(in->ctx, &m)) == 1) {
    r = (const void *)m;
    if (*str(r->unit_id) || *str(r->note) || *str(r->request_id) || r->size)
      return bad(in, "unit_id, note, request_id, size: only in the first message");
    if (feed(in, &r->chunk)) return -1;
  }
  return got < 0 ? -1 : finish(in);
}

int rpc_import_transfer_package(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  (void)req; /* NULL: the requests come from srv_recv */
  imp_in in = {.ctx = ctx, .spool = -1, .file_md = EVP_MD_CTX_new(), .part_md = EVP_MD_CTX_new()};
  pkgs_reader_init(&in.rd);
  int rc = -1;
  Hoso__Transfers__V1__Transfer *t = NULL;
  Hoso__Records__V1__ImportRecordHistoryResponse *made = NULL;
  if (!in.file_md || !in.part_md || EVP_DigestInit_ex(in.file_md, EVP_sha256(), NULL) != 1) {
    srv_fail_internal(ctx);
    goto out;
  }
  if (read_package(&in) || to_records(&in, &t, &made)) goto out;

  tr_row *r = srv_alloc(ctx, sizeof *r);
  memset(r, 0, sizeof *r);
  transfer_t *nt = r->t = srv_new(ctx, &hoso__transfers__v1__transfer__descriptor);
  nt->record_id = made->record->id;
  nt->record_name = made->record->full_name;
  nt->new_record_id = made->record->id;
  nt->kind = TK(IMPORT);
  nt->state = TS(IMPORTED);
  nt->from_unit_id = nt->to_unit_id = (char *)in.unit_id;
  r->from_path = r->to_path = srv_strdup(ctx, in.path);
  r->final_path = "";
  nt->final_unit_id = "";
  nt->decision = t->decision ? t->decision : srv_new(ctx, &hoso__transfers__v1__decision__descriptor);
  nt->decision->scan_document_id = "";
  nt->destination =
      srv_printf(ctx, "package %.16s from deployment %.16s (transfer %s there)", in.sha, in.key_id, str(t->id));
  nt->note = (char *)in.note;
  imp_st st = {.row = r, .request_id = in.request_id};
  if (srv_tx(ctx, DB_READ_COMMITTED, imp_tx, &st) != 0) goto out;
  Hoso__Transfers__V1__ImportTransferPackageResponse *o =
      srv_new(ctx, &hoso__transfers__v1__import_transfer_package_response__descriptor);
  if (tr_reply(ctx, nt->id, &o->transfer) != 0) goto out;
  o->record_id = o->transfer->new_record_id;
  *resp = &o->base;
  rc = 0;
out:
  for (int i = 0; i < N_META; i++) free(in.meta[i].data);
  if (in.spool >= 0) close(in.spool);
  pkg_manifest_free(&in.man);
  pkgs_reader_free(&in.rd);
  EVP_MD_CTX_free(in.file_md);
  EVP_MD_CTX_free(in.part_md);
  return rc;
}
