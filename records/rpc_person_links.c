/* LinkPerson, and the check that gives a SELF token its record only through a link LinkPerson
 * made. Identity asks LinkPerson with the token of the administrator who links an account to a
 * person, so the record must be managed inside that administrator's scope: an administrator
 * (or a SELF holder allowed to hand out SELF) cannot make an account that reads any dossier by
 * its sequential id, and a link written into identity's database any other way reads nothing. */
#include <jansson.h>
#include "idem.h"
#include "log.h"
#include "records.h"
#include "scope.h"
#include "store_person_links.h"

typedef struct {
  const char *record_id, *account_id, *request_id;
  rec_t *rec;
} link_st;

static int link_tx(srv_ctx *ctx, void *p) {
  link_st *st = p;
  char prev[64];
  int seen = idem_begin(ctx, st->request_id, prev, sizeof prev);
  if (seen < 0) return -1;
  /* The linker's scope and right on the record's managing unit, as it is now (also on a
   * replay: the answer names the unit). */
  SRV_TRY(record_fetch(ctx, st->record_id, RIGHT_MANAGE_ACCOUNTS, 0, &st->rec));
  if (seen == 1) return 0;
  if (person_links_set(ctx, st->account_id, st->record_id, ctx->auth->sub) != 0) return -1;
  if (idem_done(ctx, st->request_id, st->record_id) != 0) return -1;
  json_t *d = json_object();
  json_object_set_new(d, "account_id", json_string(st->account_id));
  audit_entry e = {.action = "PERSON_LINK", .target_type = "record", .target_id = st->record_id,
                   .unit_path = st->rec->managing_unit_path};
  return srv_audit(ctx, &e, d);
}

int rpc_link_person(srv_ctx *ctx, const ProtobufCMessage *req, ProtobufCMessage **resp) {
  const Hoso__Records__V1__LinkPersonRequest *in = (const void *)req;
  link_st st = {.record_id = in->record_id, .account_id = in->account_id, .request_id = in->request_id};
  if (srv_check_id(ctx, "record_id", in->record_id) || srv_check_id(ctx, "account_id", in->account_id) ||
      srv_check_request_id(ctx, in->request_id))
    return -1;
  if (srv_need_right(ctx, RIGHT_MANAGE_ACCOUNTS, 0,
                     "linking an account to a person needs the UNIT_ADMIN or SYSTEM_ADMIN role") != 0)
    return -1;
  if (srv_tx(ctx, DB_READ_COMMITTED, link_tx, &st) != 0) return -1;
  Hoso__Records__V1__LinkPersonResponse *o = srv_new(ctx, &hoso__records__v1__link_person_response__descriptor);
  o->record_id = srv_strdup(ctx, st.record_id);
  o->account_id = srv_strdup(ctx, st.account_id);
  o->managing_unit_id = st.rec->managing_unit_id;
  *resp = &o->base;
  return 0;
}

int rec_check_caller(srv_ctx *ctx, tok_claims *c) {
  if (!(c->roles & ROLE_SELF) || !c->record_id[0]) return 0;
  int made = person_links_made(ctx, c->sub, c->record_id);
  if (made < 0) return srv_fail_db(ctx, "the account's link to its person");
  if (made) return 0;
  /* Whatever identity says, this link was never shown to lie in its linker's scope. */
  log_warn("records: account %s (%s) holds SELF for record %s, a link records never made; SELF refused",
           c->sub, c->username, c->record_id);
  char rid[sizeof c->record_id];
  snprintf(rid, sizeof rid, "%s", c->record_id);
  c->roles &= ~(unsigned)ROLE_SELF;
  c->record_id[0] = 0;
  if (scope_rights(c->roles) == 0)
    return srv_fail(ctx, GRPC_STATUS_PERMISSION_DENIED,
                    "your account's link to record %s was not made through the records service, which "
                    "checks that the record lies in the linking administrator's units: ask your unit "
                    "administrator to link it again",
                    rid);
  return 0;
}
