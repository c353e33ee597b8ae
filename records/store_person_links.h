/* The SQL of the links between identity's accounts and the records their SELF role may read
 * (person_links, migrations/012): written by LinkPerson, read before every call of a SELF
 * token (rpc_person_links.c). */
#ifndef HOSO_RECORDS_STORE_PERSON_LINKS_H
#define HOSO_RECORDS_STORE_PERSON_LINKS_H

#include "records.h"

/* Links account_id to record_id, made by linked_by (a link made again keeps one row, with the
 * newest linker). Inside the caller's transaction. 0 / -1. */
int person_links_set(srv_ctx *ctx, const char *account_id, const char *record_id, const char *linked_by);

/* Whether account_id is linked to record_id by LinkPerson: 1 / 0 / -1. Outside a transaction
 * too (one statement). */
int person_links_made(srv_ctx *ctx, const char *account_id, const char *record_id);

#endif
