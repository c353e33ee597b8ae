/* hoso-gen-records: realistic generated dossiers (Vietnamese names from real distributions, a
 * Bắc Giang-like province tree of units, ranks, histories), written to a file (JSON lines or
 * length-prefixed Record messages) or loaded through ImportRecords. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cfg.h"
#include "gen_records.h"
#include "pbjson.h"

/* ------------------------------------------------------------ calls --------------------- */

cli_chan *id_ch, *rec_ch;
static char bearer[8192];
static pthread_mutex_t bearer_lock = PTHREAD_MUTEX_INITIALIZER;
static time_t bearer_at;
const char *admin_user = "admin", *admin_password;

int login(void) {
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)admin_user;
  req.password = (char *)admin_password;
  ProtobufCMessage *out = NULL;
  cli_status st;
  grpc_status_code c = cli_call(id_ch, IDN "Login", &req.base, &hoso__identity__v1__login_response__descriptor, &out,
                                NULL, 0, 30000, &st);
  if (c != GRPC_STATUS_OK) {
    fprintf(stderr, "hoso-gen-records: login as %s: %s %s\n", admin_user, cli_status_name(c), st.message);
    return -1;
  }
  Hoso__Identity__V1__LoginResponse *l = (void *)out;
  snprintf(bearer, sizeof bearer, "Bearer %s", l->access_token);
  bearer_at = time(NULL);
  protobuf_c_message_free_unpacked(out, NULL);
  return 0;
}

/* A call with the admin's token, logging in again before the 15-minute token runs out. */
grpc_status_code call(cli_chan *ch, const char *method, const ProtobufCMessage *req,
                             const ProtobufCMessageDescriptor *d, ProtobufCMessage **out, cli_status *st) {
  char b[sizeof bearer];
  pthread_mutex_lock(&bearer_lock);
  if (time(NULL) - bearer_at > 600 && login() != 0) {
    pthread_mutex_unlock(&bearer_lock);
    return GRPC_STATUS_UNAUTHENTICATED;
  }
  memcpy(b, bearer, sizeof b);
  pthread_mutex_unlock(&bearer_lock);
  cli_md md = {"authorization", b};
  return cli_call(ch, method, req, d, out, &md, 1, TIMEOUT_MS, st);
}

/* ------------------------------------------------------------ generating and loading ---- */

typedef struct {
  size_t leaf, count, first; /* records [first, first + count) of the run go to leaf */
} load_job;

static load_job *jobs;
static size_t n_jobs, next_job;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *from_file;
static unsigned g_seed;
static int g_proto; /* IMPORT_FORMAT_PROTO (length-prefixed Record messages) instead of JSON lines */
static gen_ctx gctx;
static long long done_records, failed_calls, n_calls;
static double t_start;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

typedef struct {
  char *s;
  size_t len, cap;
} text;

/* Room for n more bytes at the end of t (the caller writes them and adds n to len). */
static char *text_room(text *t, size_t n) {
  if (t->len + n + 2 > t->cap) {
    t->cap = (t->len + n + 2) * 2;
    t->s = realloc(t->s, t->cap);
    if (!t->s) {
      fprintf(stderr, "hoso-gen-records: out of memory\n");
      exit(1);
    }
  }
  return t->s + t->len;
}

static void text_put(text *t, const char *s, size_t n) {
  memcpy(text_room(t, n), s, n);
  t->len += n;
  t->s[t->len] = '\0';
}

/* Record number idx in the run's format: its JSON line, or its packed message preceded by the
 * length as a varint (deterministic: its own generator seeded from the run's seed and idx). */
static void record_item(arena *a, size_t idx, int district, text *out) {
  rng r;
  rng_seed(&r, ((uint64_t)g_seed << 32) ^ (uint64_t)idx);
  a->used = 0;
  Record *rec = gen_person(a, &r, &gctx, district);
  if (g_proto) {
    size_t n = protobuf_c_message_get_packed_size(&rec->base);
    uint8_t pre[10];
    size_t k = 0;
    for (uint64_t v = n; k == 0 || v; v >>= 7) pre[k++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
    text_put(out, (const char *)pre, k);
    uint8_t *buf = A(a, n);
    protobuf_c_message_pack(&rec->base, buf);
    text_put(out, (const char *)buf, n);
    return;
  }
  char *j = pbjson_encode(&rec->base, 0);
  if (!j) {
    fprintf(stderr, "hoso-gen-records: cannot encode a record\n");
    exit(1);
  }
  text_put(out, j, strlen(j));
  text_put(out, "\n", 1);
  free(j);
}

/* The next record of a file in the run's format appended to t (its line, or its length prefix
 * and message): 1, or 0 at the end of the file. A truncated file ends the run. */
static int read_item(FILE *f, text *t) {
  if (!g_proto) {
    char line[65536];
    if (!fgets(line, sizeof line, f)) return 0;
    text_put(t, line, strlen(line));
    return 1;
  }
  uint8_t pre[10];
  size_t k = 0;
  uint64_t n = 0;
  for (int c; k < 5; k++) {
    if ((c = getc(f)) == EOF) {
      if (k == 0) return 0;
      break;
    }
    pre[k] = (uint8_t)c;
    n |= (uint64_t)(c & 0x7f) << (7 * k);
    if (!(c & 0x80)) {
      k++;
      break;
    }
  }
  if (k == 0 || (pre[k - 1] & 0x80) || n > (1u << 20)) {
    fprintf(stderr, "hoso-gen-records: the input file is not length-prefixed Record messages, or it is truncated\n");
    exit(1);
  }
  text_put(t, (const char *)pre, k);
  if (fread(text_room(t, n), 1, n, f) != n) {
    fprintf(stderr, "hoso-gen-records: the input file is truncated\n");
    exit(1);
  }
  t->len += n;
  return 1;
}

/* --submit N: the first N records loaded are submitted for approval (SubmitRecord), so that a
 * demo has records waiting for it. Counted down under job_lock. */
static long g_submit;

/* The gRPC limit is 4 MiB per message: a call carries at most this much content. */
#define CALL_CONTENT_MAX (3800u * 1024u)

/* One ImportRecords call of the records in body (k of them, in the run's format) for the job's
 * leaf. */
static void send_part(const load_job *jb, size_t ji, int part, const text *body, size_t k) {
  Hoso__Records__V1__ImportRecordsRequest req = HOSO__RECORDS__V1__IMPORT_RECORDS_REQUEST__INIT;
  req.unit_id = leaves[jb->leaf].id;
  req.format = g_proto ? HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_PROTO
                       : HOSO__RECORDS__V1__IMPORT_FORMAT__IMPORT_FORMAT_JSON;
  req.content.data = (uint8_t *)body->s;
  req.content.len = body->len;
  char rid[64];
  snprintf(rid, sizeof rid, "gen-%u-%zu-%d", g_seed, ji, part);
  req.request_id = rid;
  ProtobufCMessage *out = NULL;
  cli_status st;
  grpc_status_code c = call(rec_ch, REC "ImportRecords", &req.base, &hoso__records__v1__import_records_response__descriptor,
                            &out, &st);
  Hoso__Records__V1__ImportRecordsResponse *o = (void *)out;
  pthread_mutex_lock(&job_lock);
  n_calls++;
  if (c != GRPC_STATUS_OK || !o || o->imported != (int)k) {
    failed_calls++;
    if (c != GRPC_STATUS_OK)
      fprintf(stderr, "hoso-gen-records: ImportRecords: %s %s\n", cli_status_name(c), st.message);
    else if (o && o->n_errors)
      fprintf(stderr, "hoso-gen-records: ImportRecords: line %d %s: %s\n", o->errors[0]->line, o->errors[0]->field,
              o->errors[0]->message);
  } else {
    for (size_t i = 0; i < o->n_record_ids && g_submit > 0; i++, g_submit--) {
      Hoso__Records__V1__SubmitRecordRequest sr = HOSO__RECORDS__V1__SUBMIT_RECORD_REQUEST__INIT;
      sr.record_id = o->record_ids[i];
      cli_status sst;
      ProtobufCMessage *sout = NULL;
      if (call(rec_ch, REC "SubmitRecord", &sr.base, &hoso__records__v1__submit_record_response__descriptor, &sout, &sst) !=
          GRPC_STATUS_OK)
        fprintf(stderr, "hoso-gen-records: SubmitRecord %s: %s\n", sr.record_id, sst.message);
      if (sout) protobuf_c_message_free_unpacked(sout, NULL);
    }
    long long before = done_records;
    done_records += (long long)k;
    if (done_records / 50000 != before / 50000)
      fprintf(stderr, "hoso-gen-records: %lld records, %.0f records/s\n", done_records,
              (double)done_records / (now_s() - t_start));
  }
  pthread_mutex_unlock(&job_lock);
  if (out) protobuf_c_message_free_unpacked(out, NULL);
}

static void *load_worker(void *arg) {
  (void)arg;
  arena a = {malloc(1 << 20), 0, 1 << 20};
  text body = {0}, one = {0}, items = {0};
  size_t *ends = NULL, ends_cap = 0;
  for (;;) {
    pthread_mutex_lock(&job_lock);
    size_t ji = next_job < n_jobs ? next_job++ : (size_t)-1;
    items.len = 0;
    size_t got = 0;
    if (ji != (size_t)-1 && from_file) {
      /* Records in file order under the lock: job ji always gets the same ones. */
      if (ends_cap < jobs[ji].count) ends = realloc(ends, (ends_cap = jobs[ji].count) * sizeof *ends);
      for (; got < jobs[ji].count && read_item(from_file, &items); got++) ends[got] = items.len;
    }
    pthread_mutex_unlock(&job_lock);
    if (ji == (size_t)-1) break;
    const load_job *jb = &jobs[ji];
    size_t n = from_file ? got : jb->count, k = 0;
    int part = 0;
    body.len = 0;
    for (size_t i = 0; i < n; i++) {
      one.len = 0;
      if (from_file) {
        size_t from = i ? ends[i - 1] : 0;
        text_put(&one, items.s + from, ends[i] - from);
      } else {
        record_item(&a, jb->first + i, leaves[jb->leaf].district, &one);
      }
      if (k && body.len + one.len > CALL_CONTENT_MAX) {
        send_part(jb, ji, part++, &body, k);
        body.len = 0;
        k = 0;
      }
      text_put(&body, one.s, one.len);
      k++;
    }
    if (k) send_part(jb, ji, part, &body, k);
  }
  free(body.s);
  free(one.s);
  free(items.s);
  free(ends);
  free(a.buf);
  return NULL;
}

/* Spreads count records over the leaves (a leaf's share varies like real unit sizes) and cuts
 * each leaf's share into calls of at most batch records. */
static void plan_jobs(size_t count, int batch) {
  rng r;
  rng_seed(&r, g_seed ^ 0xA5A5u);
  double *w = malloc(n_leaves * sizeof *w), sum = 0;
  for (size_t i = 0; i < n_leaves; i++) sum += w[i] = 0.3 + unit_f(&r) * 1.4;
  size_t cap = n_leaves + count / (size_t)batch + 16, given = 0;
  jobs = calloc(cap, sizeof *jobs);
  for (size_t i = 0; i < n_leaves && given < count; i++) {
    size_t share = i == n_leaves - 1 ? count - given : (size_t)((double)count * w[i] / sum + 0.5);
    if (share > count - given) share = count - given;
    while (share > 0) {
      size_t k = share < (size_t)batch ? share : (size_t)batch;
      if (n_jobs == cap) jobs = realloc(jobs, (cap *= 2) * sizeof *jobs);
      jobs[n_jobs++] = (load_job){i, k, given};
      given += k;
      share -= k;
    }
  }
  free(w);
}

static int usage(void) {
  fprintf(stderr,
          "usage: hoso-gen-records [--seed S] [--count N] [--format json|proto] --out FILE\n"
          "         write N generated dossiers as JSON lines (the proto3 JSON form of Record), or with\n"
          "         --format proto as Record messages each preceded by its length (a varint)\n"
          "       hoso-gen-records [--seed S] [--count N] [--batch B] [--threads T] [--units-file F]\n"
          "                        [--from FILE] [--communes C] [--format json|proto] [--submit S]\n"
          "         as admin (password in HOSO_ADMIN_PASSWORD): build the province's unit tree\n"
          "         through identity's CreateUnit (or reuse the leaves listed in F), then load N\n"
          "         dossiers (generated, or the first N lines of FILE) through ImportRecords,\n"
          "         B per unit (default 2000; a call is cut at 3.8 MiB of content: about 750 dossiers\n"
          "         as JSON, 1 300 as proto), T calls at once (default 2), in ImportRecords' format\n"
          "         IMPORT_FORMAT_JSON (default) or IMPORT_FORMAT_PROTO; FILE must be in that format.\n"
          "         --submit S: the first S records loaded are submitted for approval (a demo's queue).\n"
          "Addresses: HOSO_IDENTITY_ADDR, HOSO_RECORDS_ADDR (defaults %s, %s).\n",
          cfg_service_find("identity")->default_addr, cfg_service_find("records")->default_addr);
  return 2;
}

int main(int argc, char **argv) {
  size_t count = 1000;
  int batch = 2000, threads = 2, communes = 22;
  const char *out = NULL, *units_file = NULL, *from = NULL;
  g_seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--seed") && v) g_seed = (unsigned)strtoul(v, NULL, 10), i++;
    else if (!strcmp(a, "--count") && v) count = (size_t)strtoull(v, NULL, 10), i++;
    else if (!strcmp(a, "--batch") && v) batch = atoi(v), i++;
    else if (!strcmp(a, "--threads") && v) threads = atoi(v), i++;
    else if (!strcmp(a, "--communes") && v) communes = atoi(v), i++;
    else if (!strcmp(a, "--out") && v) out = v, i++;
    else if (!strcmp(a, "--units-file") && v) units_file = v, i++;
    else if (!strcmp(a, "--from") && v) from = v, i++;
    else if (!strcmp(a, "--submit") && v) g_submit = atol(v), i++;
    else if (!strcmp(a, "--format") && v && (!strcmp(v, "json") || !strcmp(v, "proto"))) g_proto = !strcmp(v, "proto"), i++;
    else return usage();
  }
  if (batch < 1 || batch > 20000 || threads < 1 || threads > 16 || communes < 1 || communes > 24) return usage();
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  /* Dates stay in past years: nothing generated lies in the future whatever today is. */
  gctx.year_now = tm.tm_year + 1900 - 1;

  if (out) {
    FILE *f = strcmp(out, "-") ? fopen(out, "wb") : stdout;
    if (!f) {
      fprintf(stderr, "hoso-gen-records: %s: %s\n", out, strerror(errno));
      return 1;
    }
    arena a = {malloc(1 << 20), 0, 1 << 20};
    text t = {0};
    rng r;
    rng_seed(&r, g_seed);
    for (size_t i = 0; i < count; i++) {
      t.len = 0;
      record_item(&a, i, uni(&r, N_DISTRICTS), &t);
      fwrite(t.s, 1, t.len, f);
    }
    free(t.s);
    free(a.buf);
    return f == stdout ? 0 : fclose(f) == 0 ? 0 : 1;
  }

  admin_password = getenv("HOSO_ADMIN_PASSWORD");
  if (!admin_password || !*admin_password) {
    fprintf(stderr, "hoso-gen-records: set HOSO_ADMIN_PASSWORD to the admin's password\n");
    return 2;
  }
  id_ch = cli_open(cfg_service_addr("identity"));
  rec_ch = cli_open(cfg_service_addr("records"));
  if (!id_ch || !rec_ch || login() != 0) return 1;
  if (!units_file || load_leaves(units_file) != 0) {
    Hoso__Identity__V1__WhoAmIRequest who = HOSO__IDENTITY__V1__WHO_AM_IREQUEST__INIT;
    ProtobufCMessage *me = NULL;
    cli_status st;
    if (call(id_ch, IDN "WhoAmI", &who.base, &hoso__identity__v1__who_am_iresponse__descriptor, &me, &st) !=
        GRPC_STATUS_OK) {
      fprintf(stderr, "hoso-gen-records: WhoAmI: %s\n", st.message);
      return 1;
    }
    char root[32];
    snprintf(root, sizeof root, "%s", ((Hoso__Identity__V1__WhoAmIResponse *)me)->account->unit_id);
    protobuf_c_message_free_unpacked(me, NULL);
    double t0 = now_s();
    if (build_tree(root, g_seed, threads, communes) != 0) return 1;
    fprintf(stderr, "hoso-gen-records: unit tree made in %.1f s\n", now_s() - t0);
    if (units_file) save_leaves(units_file);
  }
  if (from && !(from_file = fopen(from, "rb"))) {
    fprintf(stderr, "hoso-gen-records: %s: %s\n", from, strerror(errno));
    return 1;
  }
  plan_jobs(count, batch);
  t_start = now_s();
  pthread_t t[16];
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, load_worker, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  double secs = now_s() - t_start;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("loaded %lld records in %.1f s: %.0f records/s (%lld calls into %zu units, %d at once, %lld failed); "
         "this client's CPU: %.0f us per record\n",
         done_records, secs, secs > 0 ? (double)done_records / secs : 0.0, n_calls, n_leaves, threads, failed_calls,
         done_records ? cpu / (double)done_records * 1e6 : 0.0);
  if (from_file) fclose(from_file);
  free(jobs);
  free(leaves);
  cli_close(rec_ch);
  cli_close(id_ch);
  return failed_calls ? 1 : 0;
}
