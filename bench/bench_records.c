/* Latency of a running records service (./hoso up, or bench/records_1m.sh's 1 M records):
 * GetRecord at 32 concurrent calls, name searches as officers type them (any order, with or
 * without marks) and free text over names and places; prints p50/p95/p99. --queries FILE writes
 * the searches it makes (kind TAB query), for bench/records_1m.sh to replay them with pgbench. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"
#include "records.pb-c.h"

#define REC "/hoso.records.v1.Records/"
#define SAMPLE_MAX 4000

static cli_chan *rec_ch;
static char bearer[8192];
static char *ids[SAMPLE_MAX], *names[SAMPLE_MAX], *towns[SAMPLE_MAX];
static size_t n_sample;
/* The searches, made once from the sample: the same list for every phase and for pgbench. */
#define QUERIES 2000
static char *name_q[QUERIES], *text_q[QUERIES];

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static grpc_status_code call(const char *m, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *d,
                             ProtobufCMessage **out, cli_status *st) {
  cli_md md = {"authorization", bearer};
  return cli_call(rec_ch, m, req, d, out, &md, 1, 30000, st);
}

/* Vietnamese letters without their marks (đ → d), as a person types a name on a keyboard
 * without Vietnamese input: the service must fold its side the same way. */
static const char *const FOLD[][2] = {
    {"àáảãạăằắẳẵặâầấẩẫậ", "a"}, {"ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", "A"}, {"èéẻẽẹêềếểễệ", "e"}, {"ÈÉẺẼẸÊỀẾỂỄỆ", "E"},
    {"ìíỉĩị", "i"},             {"ÌÍỈĨỊ", "I"},             {"òóỏõọôồốổỗộơờớởỡợ", "o"}, {"ÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", "O"},
    {"ùúủũụưừứửữự", "u"},       {"ÙÚỦŨỤƯỪỨỬỮỰ", "U"},       {"ỳýỷỹỵ", "y"},             {"ỲÝỶỸỴ", "Y"},
    {"đ", "d"},                 {"Đ", "D"},
};

static void strip_marks(const char *in, char *out, size_t len) {
  size_t o = 0;
  while (*in && o + 2 < len) {
    unsigned char c = (unsigned char)*in;
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    const char *rep = NULL;
    for (size_t i = 0; !rep && i < sizeof FOLD / sizeof FOLD[0]; i++)
      for (const char *p = FOLD[i][0]; *p && !rep;) {
        unsigned char d = (unsigned char)*p;
        size_t m = d < 0x80 ? 1 : d < 0xE0 ? 2 : d < 0xF0 ? 3 : 4;
        if (m == n && memcmp(p, in, n) == 0) rep = FOLD[i][1];
        p += m;
      }
    if (rep) {
      out[o++] = rep[0];
    } else {
      for (size_t i = 0; i < n && o + 1 < len; i++) out[o++] = in[i];
    }
    in += n;
  }
  out[o] = '\0';
}

/* A spread of existing records: pages of the birth-date order from random starting dates. */
static int sample(unsigned seed) {
  srand(seed);
  for (int q = 0; q < 80 && n_sample < SAMPLE_MAX; q++) {
    Hoso__Records__V1__SearchRecordsRequest req = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
    /* One month of births: a few thousand people at 1 M, so the count stays cheap. */
    char from[16], to[16];
    int y = 1962 + rand() % 42, m = 1 + rand() % 12;
    snprintf(from, sizeof from, "%04d-%02d-01", y, m);
    snprintf(to, sizeof to, "%04d-%02d-28", y, m);
    req.birth_date_from = from;
    req.birth_date_to = to;
    req.order = HOSO__RECORDS__V1__SEARCH_ORDER__SEARCH_ORDER_BIRTH_DATE;
    req.page_size = 50;
    ProtobufCMessage *out = NULL;
    cli_status st;
    if (call(REC "SearchRecords", &req.base, &hoso__records__v1__search_records_response__descriptor, &out, &st) !=
        GRPC_STATUS_OK) {
      fprintf(stderr, "bench_records: SearchRecords: %s\n", st.message);
      return -1;
    }
    Hoso__Records__V1__SearchRecordsResponse *r = (void *)out;
    for (size_t i = 0; i < r->n_records && n_sample < SAMPLE_MAX; i++) {
      ids[n_sample] = strdup(r->records[i]->id);
      towns[n_sample] = strdup(r->records[i]->home_town);
      names[n_sample++] = strdup(r->records[i]->full_name);
    }
    protobuf_c_message_free_unpacked(out, NULL);
  }
  return n_sample ? 0 : -1;
}

/* The words of s (split on spaces) into w (at most max); how many. s is changed. */
static int words(char *s, char **w, int max) {
  int n = 0;
  for (char *save = NULL, *t = strtok_r(s, " ,", &save); t && n < max; t = strtok_r(NULL, " ,", &save)) w[n++] = t;
  return n;
}

/* A name as officers type it (issue 10): mostly without marks, the words in any order, the
 * middle name often left out or reduced to its first letter. */
static char *name_query(const char *full, int mode) {
  char plain[512], q[512];
  strip_marks(full, plain, sizeof plain);
  char *w[8];
  int n = words(plain, w, 8);
  if (n < 2 || mode == 3) {
    snprintf(q, sizeof q, "%s", full); /* as written, marks and all */
  } else if (mode == 0) {
    snprintf(q, sizeof q, "%s %s", w[0], w[n - 1]); /* family and given: "dang duc" */
  } else if (mode == 1) {
    snprintf(q, sizeof q, "%s %s", w[n - 1], w[0]); /* given first: "duc dang" */
  } else {
    snprintf(q, sizeof q, "%s %.1s %s", w[0], w[1], w[n - 1]); /* the middle name's initial: "dang v duc" */
  }
  return strdup(q);
}

/* The words of one part of an address ("Xa Tien Hung", "huyen Luc Nam") without the kind of
 * unit that starts it (xa, phuong, thi tran, huyen, quan, thi xa, thanh pho, tp, tinh): those
 * words are in nearly every dossier, and a free-text query made of them measures the word
 * index's longest lists, not a search an officer types. s is changed; how many words. */
static int place_words(char *s, char **w, int max) {
  static const char *const kinds[] = {"thi tran", "thi xa", "thanh pho", "xa", "phuong", "huyen", "quan", "tp", "tinh", NULL};
  int n = words(s, w, max);
  for (int k = 0; kinds[k]; k++) {
    const char *sp = strchr(kinds[k], ' ');
    int parts = sp ? 2 : 1;
    if (n < parts) continue;
    if (parts == 1 ? strcasecmp(w[0], kinds[k]) == 0
                   : strncasecmp(w[0], kinds[k], (size_t)(sp - kinds[k])) == 0 && strlen(w[0]) == (size_t)(sp - kinds[k]) &&
                         strcasecmp(w[1], sp + 1) == 0) {
      memmove(w, w + parts, (size_t)(n - parts) * sizeof *w);
      return n - parts;
    }
  }
  return n;
}

/* Free text: a name and a place of the person, without marks, as an officer narrows a search
 * down: the family and given names and the commune of the home town ("dang duc tien hung"),
 * the given name, the commune and the district ("duc tien hung luc nam"), or the commune and
 * the family name with the given name still being typed ("tien hung dang du"). The place's
 * words never include the kinds of unit ("xa", "huyen", "tinh": place_words). */
static char *text_query(const char *full, const char *town, int mode) {
  char plain[512], place[512], q[1200]; /* room for a whole name and both place parts */
  strip_marks(full, plain, sizeof plain);
  strip_marks(town, place, sizeof place);
  char *w[8], *c[8], *d[8];
  int n = words(plain, w, 8), nc = 0, nd = 0;
  /* "Xa Tien Hung, huyen Luc Nam, tinh Bac Giang": the commune, then the district */
  char *save = NULL, *commune = strtok_r(place, ",", &save), *district = commune ? strtok_r(NULL, ",", &save) : NULL;
  if (commune) nc = place_words(commune, c, 8);
  if (district) nd = place_words(district, d, 8);
  const char *family = n ? w[0] : "", *given = n ? w[n - 1] : "";
  char cs[256] = "", ds[256] = "";
  for (int i = 0; i < nc; i++) snprintf(cs + strlen(cs), sizeof cs - strlen(cs), "%s%s", i ? " " : "", c[i]);
  for (int i = 0; i < nd; i++) snprintf(ds + strlen(ds), sizeof ds - strlen(ds), "%s%s", i ? " " : "", d[i]);
  if (nc && nd && mode == 1)
    snprintf(q, sizeof q, "%s %s %s", given, cs, ds);
  else if (nc && mode == 2)
    snprintf(q, sizeof q, "%s %s %.2s", cs, family, given);
  else if (nc)
    snprintf(q, sizeof q, "%s %s %s", family, given, cs);
  else
    snprintf(q, sizeof q, "%s", plain);
  return strdup(q);
}

static int make_queries(const char *file) {
  FILE *f = file ? fopen(file, "w") : NULL;
  if (file && !f) {
    fprintf(stderr, "bench_records: cannot write %s\n", file);
    return -1;
  }
  srand(4242);
  for (int i = 0; i < QUERIES; i++) {
    size_t k = (size_t)rand() % n_sample;
    name_q[i] = name_query(names[k], i % 4);
    text_q[i] = text_query(names[k], towns[k], i % 3);
    if (f) fprintf(f, "name\t%s\ntext\t%s\n", name_q[i], text_q[i]);
  }
  if (f) fclose(f);
  return 0;
}

typedef struct {
  int kind; /* 0 GetRecord, 1 name search, 2 free text */
  double until;
  unsigned seed;
  double *lat;
  size_t n, cap;
  long long matches;
  int errors;
} worker;

static void one_search(worker *w, unsigned *seed) {
  const char *q = (w->kind == 1 ? name_q : text_q)[rand_r(seed) % QUERIES];
  Hoso__Records__V1__SearchRecordsRequest req = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  if (w->kind == 1)
    req.name = (char *)q;
  else
    req.text = (char *)q;
  req.page_size = 20;
  ProtobufCMessage *out = NULL;
  cli_status st;
  double t0 = now_s();
  grpc_status_code c = call(REC "SearchRecords", &req.base, &hoso__records__v1__search_records_response__descriptor,
                            &out, &st);
  double ms = (now_s() - t0) * 1000.0;
  if (c != GRPC_STATUS_OK || ((Hoso__Records__V1__SearchRecordsResponse *)out)->total < 1) {
    /* The query comes from an existing record: it must find at least that one. */
    if (w->errors++ == 0) fprintf(stderr, "bench_records: search \"%s\": %s %s\n", q, cli_status_name(c), st.message);
  } else {
    w->matches += ((Hoso__Records__V1__SearchRecordsResponse *)out)->total;
  }
  if (out) protobuf_c_message_free_unpacked(out, NULL);
  if (w->n == w->cap) w->lat = realloc(w->lat, (w->cap = w->cap ? w->cap * 2 : 4096) * sizeof *w->lat);
  w->lat[w->n++] = ms;
}

static void one_get(worker *w, unsigned *seed) {
  Hoso__Records__V1__GetRecordRequest req = HOSO__RECORDS__V1__GET_RECORD_REQUEST__INIT;
  req.record_id = ids[rand_r(seed) % n_sample];
  ProtobufCMessage *out = NULL;
  cli_status st;
  double t0 = now_s();
  grpc_status_code c = call(REC "GetRecord", &req.base, &hoso__records__v1__get_record_response__descriptor, &out, &st);
  double ms = (now_s() - t0) * 1000.0;
  if (c != GRPC_STATUS_OK && w->errors++ == 0)
    fprintf(stderr, "bench_records: GetRecord %s: %s %s\n", req.record_id, cli_status_name(c), st.message);
  if (out) protobuf_c_message_free_unpacked(out, NULL);
  if (w->n == w->cap) w->lat = realloc(w->lat, (w->cap = w->cap ? w->cap * 2 : 4096) * sizeof *w->lat);
  w->lat[w->n++] = ms;
}

static void *run(void *p) {
  worker *w = p;
  unsigned seed = w->seed;
  while (now_s() < w->until) {
    if (w->kind == 0)
      one_get(w, &seed);
    else
      one_search(w, &seed);
  }
  return NULL;
}

/* Runs `conc` callers of one kind for `secs` seconds and prints the latency figures. */
static int phase(const char *label, int kind, int conc, double secs) {
  worker *ws = calloc((size_t)conc, sizeof *ws);
  pthread_t *t = calloc((size_t)conc, sizeof *t);
  double t0 = now_s();
  for (int i = 0; i < conc; i++) {
    ws[i].kind = kind;
    ws[i].until = t0 + secs;
    ws[i].seed = 7919u * (unsigned)(i + 1);
    pthread_create(&t[i], NULL, run, &ws[i]);
  }
  size_t total = 0;
  int errors = 0;
  long long matches = 0;
  for (int i = 0; i < conc; i++) {
    pthread_join(t[i], NULL);
    total += ws[i].n;
    errors += ws[i].errors;
    matches += ws[i].matches;
  }
  double el = now_s() - t0;
  double *all = malloc((total ? total : 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < conc; i++) {
    memcpy(all + k, ws[i].lat, ws[i].n * sizeof *all);
    k += ws[i].n;
    free(ws[i].lat);
  }
  qsort(all, total, sizeof *all, cmp);
#define PCT(p) (total ? all[(size_t)((double)(total - 1) * (p))] : 0.0)
  printf("%-44s %7zu calls %8.0f/s  p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  max %7.2f ms  errors %d",
         label, total, (double)total / el, PCT(0.50), PCT(0.95), PCT(0.99), total ? all[total - 1] : 0.0, errors);
  if (kind != 0 && total) printf("  (mean matches %.0f, each counted up to the cap)", (double)matches / (double)total);
  printf("\n");
  free(all);
  free(ws);
  free(t);
  return errors ? 1 : 0;
}

int main(int argc, char **argv) {
  double secs = 20;
  const char *only = "", *queries = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
      secs = atof(argv[++i]);
    else if (!strcmp(argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
      queries = argv[++i];
    else {
      fprintf(stderr, "usage: bench_records [--seconds S] [--only get|name|text|search] [--queries FILE]  "
                      "(HOSO_RECORDS_ADDR, HOSO_IDENTITY_ADDR, HOSO_ADMIN_PASSWORD)\n");
      return 2;
    }
  }
  const char *pw = getenv("HOSO_ADMIN_PASSWORD");
  if (!pw) {
    fprintf(stderr, "bench_records: set HOSO_ADMIN_PASSWORD\n");
    return 2;
  }
  cli_chan *id_ch = cli_open(cfg_service_addr("identity"));
  rec_ch = cli_open(cfg_service_addr("records"));
  Hoso__Identity__V1__LoginRequest lr = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  lr.username = "admin";
  lr.password = (char *)pw;
  ProtobufCMessage *out = NULL;
  cli_status st;
  if (cli_call(id_ch, "/hoso.identity.v1.Identity/Login", &lr.base, &hoso__identity__v1__login_response__descriptor,
               &out, NULL, 0, 30000, &st) != GRPC_STATUS_OK) {
    fprintf(stderr, "bench_records: login: %s\n", st.message);
    return 1;
  }
  snprintf(bearer, sizeof bearer, "Bearer %s", ((Hoso__Identity__V1__LoginResponse *)out)->access_token);
  protobuf_c_message_free_unpacked(out, NULL);

  Hoso__Records__V1__SearchRecordsRequest all = HOSO__RECORDS__V1__SEARCH_RECORDS_REQUEST__INIT;
  all.page_size = 1;
  all.order = HOSO__RECORDS__V1__SEARCH_ORDER__SEARCH_ORDER_UPDATED;
  if (call(REC "SearchRecords", &all.base, &hoso__records__v1__search_records_response__descriptor, &out, &st) !=
      GRPC_STATUS_OK) {
    fprintf(stderr, "bench_records: SearchRecords: %s %s\n", cli_status_name(st.code), st.message);
    return 1;
  }
  const Hoso__Records__V1__SearchRecordsResponse *all_out = (const void *)out;
  long long total = all_out->total;
  int more = all_out->total_is_lower_bound;
  protobuf_c_message_free_unpacked(out, NULL);
  if (total == 0 || sample(42) != 0) {
    printf("bench_records: the records service holds no records; nothing to measure\n");
    return 0;
  }
  if (make_queries(queries) != 0) return 1;
  printf("records in the database: %s%lld (sample of %zu for the calls)\n", more ? "more than " : "", total, n_sample);
  /* Now, not at exit: records_1m.sh starts its CPU counters at this line, after the sample's
   * searches (80 counts over a month of births each), so they count the measured calls only. */
  fflush(stdout);
  int rc = 0, all_phases = !*only, search = !strcmp(only, "search");
  if (all_phases || !strcmp(only, "get")) rc |= phase("GetRecord, 32 concurrent calls", 0, 32, secs);
  if (all_phases || search || !strcmp(only, "name")) {
    rc |= phase("name search (any order, marks or none), 1 caller", 1, 1, secs);
    rc |= phase("name search, 4 concurrent callers", 1, 4, secs);
  }
  if (all_phases || search || !strcmp(only, "text")) {
    rc |= phase("free text (names and places), 1 caller", 2, 1, secs);
    rc |= phase("free text, 4 concurrent callers", 2, 4, secs);
  }
  cli_close(rec_ch);
  cli_close(id_ch);
  return rc;
}
