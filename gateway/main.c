/* hoso-gateway: HTTP/1.1 for browsers and simple clients in front of the services' gRPC.
 * Start-up (settings, descriptor registry, backends, static files, listen), then SIGTERM/SIGINT. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "cfg.h"
#include "gwsrv.h"
#include "log.h"

int main(int argc, char **argv) {
  (void)argc;
  (void)argv;
  log_init("gateway");
  /* Blocked before gRPC or our threads start, so sigwait below is the one that sees them. */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN); /* a client gone mid-reply is an error code, not a death */

  gw_config_load();
  int rc = 1;
  int registry = 0, routes = 0, upstream = 0;
  if (gw_registry_init() != 0) goto out;
  registry = 1;
  if (gw_routes_init() != 0) goto out;
  routes = 1;
  if (gw_static_init() != 0) goto out;
  upstream = 1; /* partly built backends are freed too */
  if (gw_upstream_init() != 0) goto out;
  if (gw_server_start() != 0) goto out;

  int sig = 0;
  sigwait(&set, &sig);
  log_info("signal %d: stopping", sig);
  rc = 0;
out:
  /* requests in progress may take up to their upstream deadline */
  gw_server_stop((int)cfg_int("HOSO_GATEWAY_GRACE_MS", gw_cfg.upstream_timeout_ms + 1000, 0, 3600000));
  if (upstream) gw_upstream_free();
  if (routes) gw_routes_free();
  gw_dispatch_free();
  gw_metrics_free();
  if (registry) gw_registry_free();
  if (rc) log_error("gateway did not start");
  else log_info("gateway stopped");
  return rc;
}
