/* Prometheus metrics of the gateway: requests by route template, method and status; a latency
 * histogram per route; upstream errors by backend and gRPC code; requests in flight. Series
 * live in fixed open-addressing tables: labels come from templates, so their number is bounded. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwsrv.h"
#include "log.h"

#define N_BUCKETS 13
static const double bucket_le[N_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,  0.5,    1,     2.5,  5,    10};

#define REQ_SLOTS 4096
#define HIST_SLOTS 1024
#define UP_SLOTS 256

typedef struct {
  char *route;
  char verb[8];
  int status;
  unsigned long long n;
} req_series;

typedef struct {
  char *route;
  unsigned long long le[N_BUCKETS], count;
  double sum;
} hist_series;

typedef struct {
  char *backend;
  int code;
  unsigned long long n;
} up_series;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static req_series reqs[REQ_SLOTS];
static hist_series hists[HIST_SLOTS];
static up_series ups[UP_SLOTS];
static atomic_long in_flight;
static int warned_full;

static unsigned long hash(const char *s, unsigned long h) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211UL;
  return h;
}

static void full(const char *what) {
  if (!warned_full) log_warn("metrics: the %s table is full; further series are not counted", what);
  warned_full = 1;
}

void gw_metrics_request(const char *route, const char *verb, int status, double seconds) {
  unsigned long h = hash(verb, hash(route, 14695981039346656037UL)) ^ (unsigned long)status;
  pthread_mutex_lock(&mu);
  for (unsigned long i = 0; i < REQ_SLOTS; i++) {
    req_series *s = &reqs[(h + i) % REQ_SLOTS];
    if (!s->route) {
      if (!(s->route = strdup(route))) break;
      snprintf(s->verb, sizeof s->verb, "%s", verb);
      s->status = status;
    } else if (s->status != status || strcmp(s->verb, verb) || strcmp(s->route, route)) {
      if (i + 1 == REQ_SLOTS) full("request");
      continue;
    }
    s->n++;
    break;
  }
  unsigned long hh = hash(route, 14695981039346656037UL);
  for (unsigned long i = 0; i < HIST_SLOTS; i++) {
    hist_series *s = &hists[(hh + i) % HIST_SLOTS];
    if (!s->route) {
      if (!(s->route = strdup(route))) break;
    } else if (strcmp(s->route, route)) {
      if (i + 1 == HIST_SLOTS) full("latency");
      continue;
    }
    for (int b = 0; b < N_BUCKETS; b++)
      if (seconds <= bucket_le[b]) s->le[b]++;
    s->count++;
    s->sum += seconds;
    break;
  }
  pthread_mutex_unlock(&mu);
}

void gw_metrics_upstream_error(const char *backend, grpc_status_code code) {
  unsigned long h = hash(backend, 14695981039346656037UL) ^ (unsigned long)code;
  pthread_mutex_lock(&mu);
  for (unsigned long i = 0; i < UP_SLOTS; i++) {
    up_series *s = &ups[(h + i) % UP_SLOTS];
    if (!s->backend) {
      if (!(s->backend = strdup(backend))) break;
      s->code = (int)code;
    } else if (s->code != (int)code || strcmp(s->backend, backend)) {
      if (i + 1 == UP_SLOTS) full("upstream error");
      continue;
    }
    s->n++;
    break;
  }
  pthread_mutex_unlock(&mu);
}

void gw_metrics_inflight(int delta) { atomic_fetch_add(&in_flight, delta); }

/* A label value: backslash, quote and newline escaped (the exposition format's rule). */
static void label(FILE *f, const char *s) {
  for (; *s; s++) {
    if (*s == '\\' || *s == '"') fputc('\\', f), fputc(*s, f);
    else if (*s == '\n') fputs("\\n", f);
    else fputc(*s, f);
  }
}

char *gw_metrics_text(size_t *len) {
  char *buf = NULL;
  size_t n = 0;
  FILE *f = open_memstream(&buf, &n);
  if (!f) return NULL;
  pthread_mutex_lock(&mu);
  fputs("# HELP hoso_gateway_requests_total HTTP requests answered, by route template, method and status.\n"
        "# TYPE hoso_gateway_requests_total counter\n", f);
  for (int i = 0; i < REQ_SLOTS; i++) {
    if (!reqs[i].route) continue;
    fputs("hoso_gateway_requests_total{route=\"", f);
    label(f, reqs[i].route);
    fprintf(f, "\",method=\"%s\",status=\"%d\"} %llu\n", reqs[i].verb, reqs[i].status, reqs[i].n);
  }
  fputs("# HELP hoso_gateway_request_duration_seconds Time from a complete request to its reply, by route template.\n"
        "# TYPE hoso_gateway_request_duration_seconds histogram\n", f);
  for (int i = 0; i < HIST_SLOTS; i++) {
    const hist_series *s = &hists[i];
    if (!s->route) continue;
    for (int b = 0; b < N_BUCKETS; b++) {
      fputs("hoso_gateway_request_duration_seconds_bucket{route=\"", f);
      label(f, s->route);
      fprintf(f, "\",le=\"%g\"} %llu\n", bucket_le[b], s->le[b]);
    }
    fputs("hoso_gateway_request_duration_seconds_bucket{route=\"", f);
    label(f, s->route);
    fprintf(f, "\",le=\"+Inf\"} %llu\n", s->count);
    fputs("hoso_gateway_request_duration_seconds_sum{route=\"", f);
    label(f, s->route);
    fprintf(f, "\"} %.9g\n", s->sum);
    fputs("hoso_gateway_request_duration_seconds_count{route=\"", f);
    label(f, s->route);
    fprintf(f, "\"} %llu\n", s->count);
  }
  fputs("# HELP hoso_gateway_upstream_errors_total Backend calls that did not end OK, by backend and gRPC code.\n"
        "# TYPE hoso_gateway_upstream_errors_total counter\n", f);
  for (int i = 0; i < UP_SLOTS; i++) {
    if (!ups[i].backend) continue;
    fputs("hoso_gateway_upstream_errors_total{backend=\"", f);
    label(f, ups[i].backend);
    fprintf(f, "\",code=\"%s\"} %llu\n", cli_status_name((grpc_status_code)ups[i].code), ups[i].n);
  }
  pthread_mutex_unlock(&mu);
  fprintf(f, "# HELP hoso_gateway_in_flight_requests Requests being served now.\n"
             "# TYPE hoso_gateway_in_flight_requests gauge\n"
             "hoso_gateway_in_flight_requests %ld\n",
          atomic_load(&in_flight));
  if (fclose(f) != 0) {
    free(buf);
    return NULL;
  }
  *len = n;
  return buf;
}

void gw_metrics_free(void) {
  pthread_mutex_lock(&mu);
  for (int i = 0; i < REQ_SLOTS; i++) free(reqs[i].route);
  for (int i = 0; i < HIST_SLOTS; i++) free(hists[i].route);
  for (int i = 0; i < UP_SLOTS; i++) free(ups[i].backend);
  memset(reqs, 0, sizeof reqs);
  memset(hists, 0, sizeof hists);
  memset(ups, 0, sizeof ups);
  pthread_mutex_unlock(&mu);
}
