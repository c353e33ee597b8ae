/* unit_tree.h, where a unit is: identity's GetUnit with the caller's own token on the process's
 * channel to identity, the answer's path remembered for 30 seconds. */
#include "unit_tree.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "identity.pb-c.h"
#include "log.h"
#include "svc_client.h"
#include "val.h"

#define CACHE_SLOTS 512
#define CACHE_TTL_MS 30000

/* The cache only saves round trips: every caller's right on the unit is still decided by the
 * service's own scope check on the path that comes back, so a path fetched with one caller's
 * token never widens what another caller may do. */
typedef struct {
  char id[24];
  char path[UNIT_TREE_PATH_MAX];
  long long until_ms;
} slot_t;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static slot_t cache[CACHE_SLOTS];

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static slot_t *slot_of(const char *id) {
  unsigned h = 2166136261u;
  for (const char *p = id; *p; p++) h = (h ^ (unsigned char)*p) * 16777619u;
  return &cache[h % CACHE_SLOTS];
}

static int cache_get(const char *id, char *path) {
  int hit = 0;
  pthread_mutex_lock(&cache_lock);
  slot_t *s = slot_of(id);
  if (strcmp(s->id, id) == 0 && s->until_ms > now_ms()) {
    memcpy(path, s->path, strlen(s->path) + 1);
    hit = 1;
  }
  pthread_mutex_unlock(&cache_lock);
  return hit;
}

static void cache_put(const char *id, const char *path) {
  if (strlen(id) >= sizeof cache[0].id || strlen(path) >= sizeof cache[0].path) return;
  pthread_mutex_lock(&cache_lock);
  slot_t *s = slot_of(id);
  snprintf(s->id, sizeof s->id, "%s", id);
  snprintf(s->path, sizeof s->path, "%s", path);
  s->until_ms = now_ms() + CACHE_TTL_MS;
  pthread_mutex_unlock(&cache_lock);
}

void unit_tree_forget(void) {
  pthread_mutex_lock(&cache_lock);
  memset(cache, 0, sizeof cache);
  pthread_mutex_unlock(&cache_lock);
}

/* The path of an answer of GetUnit asked as `as`, or the refusal naming field. */
static int path_of(srv_ctx *ctx, const char *field, const char *unit_id, grpc_status_code c, const Hoso__Identity__V1__Unit *u,
                   const cli_status *st, svc_as as, char path[UNIT_TREE_PATH_MAX]) {
  switch (c) {
  case GRPC_STATUS_OK:
    if (!u || !u->path || !*u->path || strlen(u->path) >= UNIT_TREE_PATH_MAX) {
      log_error("GetUnit %s answered without a usable path", unit_id);
      return srv_fail_internal(ctx);
    }
    if (u->status == HOSO__IDENTITY__V1__UNIT_STATUS__UNIT_STATUS_DISSOLVED)
      /* 001 Đ5.5: what a dissolved unit had went to its successor; nothing new may arrive. */
      return srv_fail(ctx, GRPC_STATUS_FAILED_PRECONDITION, "%s: unit %s is dissolved%s; what it had belongs to its successor",
                      field, unit_id, *u->merged_into_id ? srv_printf(ctx, " (merged into unit %s)", u->merged_into_id) : "");
    memcpy(path, u->path, strlen(u->path) + 1);
    cache_put(unit_id, u->path);
    return 0;
  case GRPC_STATUS_NOT_FOUND:
    return srv_fail(ctx, GRPC_STATUS_NOT_FOUND, "%s: no such unit %s", field, unit_id);
  case GRPC_STATUS_PERMISSION_DENIED:
    if (as == SVC_AS_CALLER)
      return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED, "%s: unit %s is outside your scope", field, unit_id);
    /* the service's own grant does not reach the unit: its operator's matter */
    return svc_fail_downstream(ctx, st, as, "identity", "/hoso.identity.v1.Identity/GetUnit");
  default:
    return svc_fail_downstream(ctx, st, as, "identity", "/hoso.identity.v1.Identity/GetUnit");
  }
}

int unit_tree_path(srv_ctx *ctx, const char *field, const char *unit_id, char path[UNIT_TREE_PATH_MAX]) {
  if (srv_check_id(ctx, field, unit_id) != 0) return -1;
  if (cache_get(unit_id, path)) return 0;
  Hoso__Identity__V1__Unit *u = NULL;
  cli_status st;
  grpc_status_code c = unit_tree_get(ctx, unit_id, &u, &st);
  int rc = path_of(ctx, field, unit_id, c, u, &st, SVC_AS_CALLER, path);
  /* NOT_FOUND to the caller who named the unit is a wrong argument of theirs. */
  if (c == GRPC_STATUS_NOT_FOUND)
    return srv_fail(ctx, GRPC_STATUS_INVALID_ARGUMENT, "%s: no such unit %s", field, unit_id);
  return rc;
}

int unit_tree_path_as(srv_ctx *ctx, svc_client *as, const char *field, const char *unit_id,
                      char path[UNIT_TREE_PATH_MAX]) {
  if (srv_check_id(ctx, field, unit_id) != 0) return -1;
  if (cache_get(unit_id, path)) return 0;
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = (char *)unit_id;
  ProtobufCMessage *out = NULL;
  cli_status st;
  grpc_status_code c = svc_call(as, "identity", "/hoso.identity.v1.Identity/GetUnit", &req.base,
                                &hoso__identity__v1__get_unit_response__descriptor, &out, &st);
  const Hoso__Identity__V1__Unit *u = c == GRPC_STATUS_OK ? ((Hoso__Identity__V1__GetUnitResponse *)out)->unit : NULL;
  int rc = path_of(ctx, field, unit_id, c, u, &st, SVC_AS_SERVICE, path);
  if (out) protobuf_c_message_free_unpacked(out, NULL);
  return rc;
}

grpc_status_code unit_tree_get(srv_ctx *ctx, const char *unit_id, Hoso__Identity__V1__Unit **unit, cli_status *st) {
  *unit = NULL;
  /* The caller's own token: identity decides what this caller may see of the unit. */
  Hoso__Identity__V1__GetUnitRequest req = HOSO__IDENTITY__V1__GET_UNIT_REQUEST__INIT;
  req.unit_id = (char *)unit_id;
  ProtobufCMessage *out = NULL;
  grpc_status_code c = svc_call_as_caller(ctx, "identity", "/hoso.identity.v1.Identity/GetUnit", &req.base,
                                          &hoso__identity__v1__get_unit_response__descriptor, &out, st);
  if (c == GRPC_STATUS_OK) *unit = ((Hoso__Identity__V1__GetUnitResponse *)out)->unit;
  return c;
}
