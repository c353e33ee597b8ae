/* Login throughput and latency of a running identity service (e.g. the one ./hoso up starts):
 * N client threads log in as one account for a fixed time; prints logins/s and percentiles. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cfg.h"
#include "cli.h"
#include "identity.pb-c.h"

typedef struct {
  cli_chan *ch;
  const char *user, *password;
  double seconds;
  double *lat;
  size_t n, cap;
  int errors;
} worker;

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *run(void *p) {
  worker *w = p;
  Hoso__Identity__V1__LoginRequest req = HOSO__IDENTITY__V1__LOGIN_REQUEST__INIT;
  req.username = (char *)w->user;
  req.password = (char *)w->password;
  double end = now_s() + w->seconds;
  while (now_s() < end) {
    double t0 = now_s();
    ProtobufCMessage *out = NULL;
    cli_status st;
    grpc_status_code c = cli_call(w->ch, "/hoso.identity.v1.Identity/Login", &req.base,
                                  &hoso__identity__v1__login_response__descriptor, &out, NULL, 0, 10000, &st);
    if (c != GRPC_STATUS_OK) {
      if (w->errors++ == 0) fprintf(stderr, "login failed: %s %s\n", cli_status_name(c), st.message);
      continue;
    }
    protobuf_c_message_free_unpacked(out, NULL);
    if (w->n == w->cap) {
      w->cap = w->cap ? w->cap * 2 : 1024;
      w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
    }
    w->lat[w->n++] = (now_s() - t0) * 1000.0;
  }
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  const char *addr = cfg_service_addr("identity");
  const char *user = "admin", *password = getenv("HOSO_ADMIN_PASSWORD");
  int threads = 4;
  double seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--addr")) addr = argv[i + 1];
    else if (!strcmp(argv[i], "--user")) user = argv[i + 1];
    else if (!strcmp(argv[i], "--password")) password = argv[i + 1];
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
  }
  if (!password || threads < 1 || threads > 256 || seconds <= 0) {
    fprintf(stderr, "usage: bench_login [--addr A] [--user U] --password P [--threads N] [--seconds S]\n"
                    "(password also from HOSO_ADMIN_PASSWORD; TLS from HOSO_TLS_CA as for every client)\n");
    return 2;
  }
  cli_chan *ch = cli_open(addr);
  if (!ch) return 1;
  worker *w = calloc((size_t)threads, sizeof *w);
  pthread_t *t = calloc((size_t)threads, sizeof *t);
  double t0 = now_s();
  for (int i = 0; i < threads; i++) {
    w[i] = (worker){.ch = ch, .user = user, .password = password, .seconds = seconds};
    pthread_create(&t[i], NULL, run, &w[i]);
  }
  size_t total = 0;
  int errors = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    total += w[i].n;
    errors += w[i].errors;
  }
  double elapsed = now_s() - t0;
  double *all = malloc((total + 1) * sizeof *all);
  size_t k = 0;
  for (int i = 0; i < threads; i++) {
    memcpy(all + k, w[i].lat, w[i].n * sizeof *all);
    k += w[i].n;
    free(w[i].lat);
  }
  qsort(all, total, sizeof *all, cmp);
  printf("login bench: %s, %d client threads, %.1f s\n", addr, threads, elapsed);
  printf("  logins ok      %zu (errors %d)\n", total, errors);
  printf("  logins/s       %.1f\n", (double)total / elapsed);
  if (total) {
    printf("  latency ms     p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n", all[total / 2], all[total * 95 / 100],
           all[total * 99 / 100], all[total - 1]);
  }
  free(all);
  free(w);
  free(t);
  cli_close(ch);
  return errors && !total ? 1 : 0;
}
