/* The gateway's settings: HOSO_GATEWAY_* variables with their defaults, read once at start-up
 * (upstream addresses are read by upstream.c). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cfg.h"
#include "gwsrv.h"

gw_config gw_cfg;

void gw_config_load(void) {
  gw_config *c = &gw_cfg;
  memset(c, 0, sizeof *c);
  snprintf(c->addr, sizeof c->addr, "%s", cfg_service_addr("gateway"));
  c->threads = (int)cfg_int("HOSO_GATEWAY_THREADS", 64, 1, 4096);
  c->max_conns = (int)cfg_int("HOSO_GATEWAY_MAX_CONNS", 4096, 1, 1000000);
  c->channels = (int)cfg_int("HOSO_GATEWAY_CHANNELS", 4, 1, 64);
  c->max_body = (size_t)cfg_int("HOSO_GATEWAY_MAX_BODY", 1L << 20, 0, 1L << 30);
  c->max_upload = (size_t)cfg_int("HOSO_GATEWAY_MAX_UPLOAD", 25L << 20, 0, 1L << 30);
  c->header_timeout_ms = (int)cfg_int("HOSO_GATEWAY_HEADER_TIMEOUT_MS", 10000, 100, 3600000);
  c->body_timeout_ms = (int)cfg_int("HOSO_GATEWAY_BODY_TIMEOUT_MS", 60000, 100, 3600000);
  c->idle_timeout_ms = (int)cfg_int("HOSO_GATEWAY_IDLE_TIMEOUT_MS", 60000, 100, 3600000);
  c->write_timeout_ms = (int)cfg_int("HOSO_GATEWAY_WRITE_TIMEOUT_MS", 30000, 100, 3600000);
  c->upstream_timeout_ms = (int)cfg_int("HOSO_GATEWAY_UPSTREAM_TIMEOUT_MS", 10000, 1, 3600000);
  c->ready_timeout_ms = (int)cfg_int("HOSO_GATEWAY_READY_TIMEOUT_MS", 1000, 10, 60000);
  c->refresh_max_age = (int)cfg_int("HOSO_GATEWAY_REFRESH_MAX_AGE", 8 * 3600, 60, 90 * 86400);
  snprintf(c->trusted_proxies, sizeof c->trusted_proxies, "%s",
           cfg_str("HOSO_GATEWAY_TRUSTED_PROXIES", ""));
  /* The figures name every route and backend and show the load: for the monitoring host only. */
  snprintf(c->metrics_allow, sizeof c->metrics_allow, "%s",
           cfg_str("HOSO_GATEWAY_METRICS_ALLOW", "127.0.0.1,::1"));
  const char *dir = cfg_str("HOSO_GATEWAY_STATIC_DIR", NULL);
  struct stat st;
  if (dir)
    snprintf(c->static_dir, sizeof c->static_dir, "%s", dir);
  else if (stat("web/dist", &st) == 0 && S_ISDIR(st.st_mode)) /* the built bundle, never the sources */
    snprintf(c->static_dir, sizeof c->static_dir, "web/dist");
}
