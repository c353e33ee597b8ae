/* The runtime's method table (srv_int.h): a service's srv_config joined with its proto service
 * (protobuf-c's types) and the descriptor set (who may call each method, streaming). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "apidesc.h"
#include "log.h"
#include "srv_int.h"

void srv_methods_free(srv_method *m, size_t n) {
  for (size_t i = 0; m && i < n; i++) free(m[i].path);
  free(m);
}

/* The method table served: every method of the proto service (types from protobuf-c), its
 * handler from srv_config (by name), who may call it and whether it streams from the
 * descriptor set. 0, or -1 (logged) when the table and the proto disagree. */
int srv_methods_build(const srv_config *cfg, srv_method **out, size_t *n_out) {
  const ProtobufCServiceDescriptor *api = cfg->api;
  srv_method *ms = NULL;
  size_t n = 0;
  apidesc_method *d = NULL;
  size_t nd = 0;
  int rc = -1;
  if (!api) {
    log_error("srv_config names no proto service (api)");
    return -1;
  }
  if (apidesc_methods(cfg->descriptor_set ? cfg->descriptor_set : hoso_descriptor_set,
                      cfg->descriptor_set ? cfg->descriptor_set_len : hoso_descriptor_set_len, &d, &nd) != 0)
    return -1;
  if (!(ms = calloc(api->n_methods ? api->n_methods : 1, sizeof *ms))) goto out;
  for (size_t i = 0; i < cfg->n_rpcs; i++)
    if (!protobuf_c_service_descriptor_get_method_by_name(api, cfg->rpcs[i].name)) {
      log_error("the method table names %s, which %s does not declare", cfg->rpcs[i].name, api->name);
      goto out;
    }
  for (unsigned i = 0; i < api->n_methods; i++) {
    const ProtobufCMethodDescriptor *md = &api->methods[i];
    const srv_rpc *rpc = NULL;
    for (size_t k = 0; k < cfg->n_rpcs && !rpc; k++)
      if (strcmp(cfg->rpcs[k].name, md->name) == 0) rpc = &cfg->rpcs[k];
    char *path = NULL;
    if (asprintf(&path, "/%s/%s", api->name, md->name) < 0) goto out;
    const apidesc_method *x = NULL;
    for (size_t k = 0; k < nd && !x; k++)
      if (strcmp(d[k].path, path) == 0) x = &d[k];
    if (!x) {
      log_error("%s is not in the descriptor set built into this binary", path);
      free(path);
      goto out;
    }
    if (!rpc) {
      log_warn("%s has no handler in the method table: it answers UNIMPLEMENTED", path);
      free(path);
      continue;
    }
    srv_method *m = &ms[n++];
    m->path = path;
    m->in = md->input;
    m->out = md->output;
    m->fn = rpc->fn;
    m->flags = rpc->flags | (APIDESC_NO_TOKEN(x->access) ? SRV_NO_TOKEN : 0) |
               (x->client_streaming ? SRV_CLIENT_STREAM : 0) | (x->server_streaming ? SRV_SERVER_STREAM : 0);
  }
  rc = 0;
out:
  apidesc_free(d, nd);
  if (rc != 0) {
    srv_methods_free(ms, n);
    ms = NULL;
    n = 0;
  }
  *out = ms;
  *n_out = n;
  return rc;
}
