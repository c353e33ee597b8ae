/* What the account RPC files share (rpc_accounts.c, rpc_account_roles.c): the input and
 * right checks, loading the target account, and the audit row about one. */
#ifndef HOSO_IDENTITY_ACCOUNTS_H
#define HOSO_IDENTITY_ACCOUNTS_H

#include <jansson.h>
#include "identity.h"
#include "store_accounts.h"

#define ACCOUNT_NOT_FOUND "account_id: no such account"

/* Account status values of proto AccountStatus and of the status column. */
enum { ST_ACTIVE = 1, ST_DISABLED = 2, ST_REVOKED = 3 };

/* The role set a request asks for: not empty, every value known, no SERVICE (service accounts
 * are service clients, with a written approval: 004 Đ3.3). 0 with *bits, or -1. */
int account_check_roles(srv_ctx *ctx, const Hoso__Common__V1__Role *roles, size_t n, unsigned *bits);
/* UNIT_ADMIN or SYSTEM_ADMIN, before anything else. 0 / -1. */
int account_need_manage(srv_ctx *ctx);
/* 003 Đ4.1: nobody hands out a right they do not have (a SYSTEM_ADMIN holds every right). */
int account_may_grant(srv_ctx *ctx, unsigned wanted);
/* 1 when account_id is the caller's own account. */
int account_is_self(const srv_ctx *ctx, const char *account_id);
/* The account's role bits. */
unsigned account_roles(const id_account *a);
/* The target of a management RPC, locked, after every rule about it held: it exists (looked up
 * with every unit visible), lies in the caller's units, and holds no role the caller lacks.
 * 0 with *out, DB_TX_ROLLBACK with the status set, or -1 on a database error. */
int account_load_managed(srv_ctx *ctx, const char *id, id_account **out);
/* A failed write: a unique violation gets a message naming the field (DB_TX_ROLLBACK),
 * anything else goes back to srv_tx (-1). */
int account_write_failed(srv_ctx *ctx);
/* The role names as a JSON array, for audit details. */
json_t *account_roles_json(unsigned bits);
/* One audit row about an account, in the current transaction; takes detail (may be NULL).
 * Never put a password or a hash in detail. */
int account_audit(srv_ctx *ctx, const char *action, const id_account *a, json_t *detail);

/* For srv_all_units: whether another live account belongs to the person prid (exclude: the
 * account being changed, or NULL), in taken. */
typedef struct {
  const char *prid, *exclude;
  int taken;
} account_person_st;
int account_person_taken(srv_ctx *ctx, void *p);

#endif
