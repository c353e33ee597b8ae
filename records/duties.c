/* Separation of duties: nobody approves a record they created, changed since its last approval,
 * or that is their own dossier, nor a change request they submitted or that concerns their own
 * record. On by default; a deployment where one officer does everything (a one-person commune)
 * turns it off (HOSO_SEPARATION_OF_DUTIES=off) or exempts those units
 * (HOSO_SEPARATION_OF_DUTIES_EXEMPT_UNITS), and every approval that then goes ahead against the
 * rule writes a SOD_OVERRIDE audit row beside the approval's own, in the same transaction. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "cfg.h"
#include "log.h"
#include "records.h"
#include "store_change_requests.h"
#include "store_records.h"

static int enforced = 1;
static const char *exempt_units = "";

int rec_duties_init(void) {
  const char *mode = cfg_str("HOSO_SEPARATION_OF_DUTIES", "on");
  if (strcasecmp(mode, "on") == 0) {
    enforced = 1;
  } else if (strcasecmp(mode, "off") == 0) {
    enforced = 0;
  } else {
    log_error("HOSO_SEPARATION_OF_DUTIES=%s: say on (the default) or off", mode);
    return -1;
  }
  exempt_units = cfg_str("HOSO_SEPARATION_OF_DUTIES_EXEMPT_UNITS", "");
  if (!enforced)
    log_warn("separation of duties is off (HOSO_SEPARATION_OF_DUTIES=off): people may approve their own work; "
             "each such approval is audited as SOD_OVERRIDE");
  else if (*exempt_units)
    log_warn("separation of duties: units %s are exempt; each approval of one's own work there is audited as "
             "SOD_OVERRIDE",
             exempt_units);
  return 0;
}

/* 1 when unit_id is one of the comma-separated ids of exempt_units. */
static int exempt(const char *unit_id) {
  size_t n = strlen(unit_id);
  for (const char *s = exempt_units; n && *s;) {
    while (*s == ',' || *s == ' ') s++;
    size_t k = strcspn(s, ", ");
    if (k == n && strncmp(s, unit_id, n) == 0) return 1;
    s += k;
  }
  return 0;
}

/* The rule is broken: refused (PERMISSION_DENIED naming field), or, where the deployment allows
 * it, let through with a SOD_OVERRIDE row. 0, DB_TX_ROLLBACK or -1. */
static int conflict(srv_ctx *ctx, const char *field, const char *target_type, const char *target_id,
                    const rec_t *rec, const char *rule, const char *what) {
  if (enforced && !exempt(rec->managing_unit_id))
    return SRV_FAIL(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "%s: %s; another administrator of the unit approves it (separation of duties)", field, what);
  json_t *d = json_object();
  json_object_set_new(d, "rule", json_string(rule));
  json_object_set_new(d, "what", json_string(what));
  json_object_set_new(d, "record_id", json_string(rec->id));
  json_object_set_new(d, "allowed_by", json_string(enforced ? "HOSO_SEPARATION_OF_DUTIES_EXEMPT_UNITS"
                                                            : "HOSO_SEPARATION_OF_DUTIES=off"));
  audit_entry e = {.action = "SOD_OVERRIDE", .target_type = target_type, .target_id = target_id,
                   .unit_path = rec->managing_unit_path};
  return srv_audit(ctx, &e, d) != 0 ? -1 : 0;
}

int rec_duties_record(srv_ctx *ctx, const rec_t *r) {
  const tok_claims *a = ctx->auth;
  if (a->record_id[0] && strcmp(a->record_id, r->id) == 0)
    return conflict(ctx, "record_id", "record", r->id, r, "own_record",
                    srv_printf(ctx, "record %s is your own dossier", r->id));
  long long v = 0;
  int by = record_authored_by(ctx, r->id, a->sub, &v);
  if (by < 0) return -1;
  if (by == 1)
    return conflict(ctx, "record_id", "record", r->id, r, "creator", srv_printf(ctx, "you created record %s", r->id));
  if (by == 2)
    return conflict(ctx, "record_id", "record", r->id, r, "author",
                    srv_printf(ctx, "you changed record %s (version %lld) since it was last approved", r->id, v));
  return 0;
}

int rec_duties_change_request(srv_ctx *ctx, const Hoso__Records__V1__ChangeRequest *cr, const rec_t *r) {
  const tok_claims *a = ctx->auth;
  if (strcmp(cr->submitted_by, a->sub) == 0)
    return conflict(ctx, "change_request_id", "change_request", cr->id, r, "submitter",
                    srv_printf(ctx, "you submitted change request %s", cr->id));
  if (a->record_id[0] && strcmp(a->record_id, cr->record_id) == 0)
    return conflict(ctx, "change_request_id", "change_request", cr->id, r, "own_record",
                    srv_printf(ctx, "change request %s concerns your own dossier", cr->id));
  return 0;
}
