/* Internal interface of the gateway between its two halves: the method registry and route
 * table built from the compiled descriptors (registry.c, routes.c, openapi.c) and the HTTP
 * server that uses them (http*.c, connect.c, rest.c, upstream.c, ...). */
#ifndef HOSO_GW_H
#define HOSO_GW_H

#include <stddef.h>
#include <protobuf-c/protobuf-c.h>

/* One google.api.http binding of a method (from the method's options in proto/). */
typedef struct {
  const char *verb;          /* "GET", "POST", "PUT", "PATCH", "DELETE" */
  const char *path_template; /* "/v1/records/{record_id}", "/v1/units/{unit_id}/children" */
  const char *body;          /* "" (no body: the rest from query), "*" (whole request) or a field name */
  const char *response_body; /* "" for the whole response, or a field name */
} gw_http_rule;

typedef struct {
  const char *path;          /* "/hoso.identity.v1.Identity/Login" (gRPC and Connect path) */
  const char *service;       /* "hoso.identity.v1.Identity" */
  const char *package;       /* "hoso.identity.v1" */
  const char *name;          /* "Login" */
  const ProtobufCMessageDescriptor *input, *output;
  int client_streaming, server_streaming;
  const gw_http_rule *rules;
  size_t n_rules;
  const char *comment;       /* the method's leading comment in the .proto, for OpenAPI; may be "" */
  int access;                /* APIDESC_NORMAL or APIDESC_PUBLIC (internal methods are not served) */
} gw_method;

/* Builds the registry from the protobuf-c service descriptors of the services the gateway
 * serves (the service table) and the descriptor set built in (apidesc.h: access, http rules,
 * streaming flags, comments). Methods marked internal are left out: the gateway answers 404
 * for them as for any unknown path. 0 / -1 (logged: an internal method with an http rule, a
 * rule that does not parse). Call once at start-up. */
int gw_registry_init(void);
void gw_registry_free(void);

/* All methods, in a stable order. */
size_t gw_methods(const gw_method *const **out);
/* By gRPC path ("/pkg.Service/Method"), NULL if unknown. */
const gw_method *gw_find_method(const char *path);

#define GW_MAX_VARS 8
typedef struct {
  const gw_method *method;
  const gw_http_rule *rule;
  size_t n_vars;
  char *names[GW_MAX_VARS];  /* field paths bound by the template, e.g. "record_id" */
  char *values[GW_MAX_VARS]; /* percent-decoded values (malloc'd; gw_match_free) */
} gw_match;

/* Resolves a REST request. Returns 1 and fills *m when verb and path match a rule; 0 when no
 * template matches the path (404); -1 when the path matches a template but not with this verb
 * (405; *allow gets the allowed verbs, comma separated, static storage). Anything from '?' on
 * is ignored; one trailing slash is ignored, other empty segments match nothing; variables are
 * percent-decoded, and a malformed escape or %00 matches nothing; a last segment "12:move" is
 * tried against templates with the custom verb ":move" first, and only when none of them has
 * the path against the plain templates (as "12:move"). Verbs are compared case-sensitively. */
int gw_match_route(const char *verb, const char *path, gw_match *m, const char **allow);
void gw_match_free(gw_match *m);

/* Builds the request message for a REST call: the body (JSON text, per rule->body), then the
 * path variables, then the query string ("a=1&b.c=x&ids=1&ids=2", percent-encoded; not allowed
 * to set fields bound by the path or the body). Returns a message to free with
 * protobuf_c_message_free_unpacked(msg, NULL), or NULL with err naming the field (400). A path
 * variable wins over the same field in a "*" body (the URL names the resource); an empty body
 * is the empty message; a rule without body refuses a non-blank one. */
ProtobufCMessage *gw_build_rest_request(const gw_match *m, const char *body, size_t body_len,
                                        const char *query, char *err, size_t errlen);

/* The response body of a REST call: the whole message, or rule->response_body's field, as
 * JSON text (malloc'd). */
char *gw_rest_response_json(const gw_match *m, const ProtobufCMessage *resp);

/* The OpenAPI 3.0 document of every method: both faces (POST /pkg.Service/Method for Connect,
 * and every http rule), schemas generated from the message descriptors. malloc'd JSON text. */
char *gw_openapi_json(void);

/* --- between registry.c, routes.c and openapi.c ------------------------------------------- */

/* One compiled http rule (a route), as OpenAPI needs it. */
typedef struct {
  const gw_method *method;
  const gw_http_rule *rule;
  const char *openapi_path;      /* the template with each variable as "{field.path}" */
  size_t n_vars;
  const char *vars[GW_MAX_VARS]; /* canonical field paths (proto names) bound by the path */
} gw_rest_route;

/* The routes in match order (most specific template first). Valid until gw_registry_free. */
size_t gw_rest_routes(const gw_rest_route *const **out);

/* The comment of a message or field in proto/, by full name ("hoso.identity.v1.Unit",
 * "hoso.identity.v1.Unit.parent_id"): leading and trailing comments joined. NULL if none. */
const char *gw_doc_comment(const char *full_name);

/* Compiles every method's http rules into the route table; called by gw_registry_init.
 * 0 / -1 (logged: a template that does not parse or names no scalar field of the request). */
int gw_rest_routes_build(void);
void gw_rest_routes_free(void);

#endif
