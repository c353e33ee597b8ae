/* The SQL of what records keeps for the transfers service (store_grants.c): read grants of
 * units other than the managing one (in transit, a secondment) and the page of records' own
 * open steps the transfers service copies into its deadlines. */
#ifndef HOSO_RECORDS_STORE_GRANTS_H
#define HOSO_RECORDS_STORE_GRANTS_H

#include "records.h"

/* A record in transit: the receiving unit (id, path) reads it under "pending:<transfer>"; a
 * NULL unit (the record no longer in transit) ends every pending grant of the record. Every
 * other pending grant of the record ends either way. 0 / -1. */
int grants_pending_set(srv_ctx *ctx, const char *record_id, const char *transfer_id, const char *unit_id,
                       const char *unit_path);

/* A secondment's grant `key`: the unit reads until `until` (NULL: no end date) or, ended, no
 * more; an ended grant stays ended (a late retry of its start must not open it again). 0 / -1. */
int grants_secondment_set(srv_ctx *ctx, const char *key, const char *record_id, const char *unit_id,
                          const char *unit_path, const char *until, int ended);

/* Records whose open steps or unit changed in the window [lo, hi) of writing transactions,
 * after record id `after`, at most limit of them, each with every step open now. hi 0: the
 * window ends at the oldest transaction still running (*hi set to it). */
int record_steps_page(srv_ctx *ctx, unsigned long long lo, unsigned long long *hi, long long after, int limit,
                      Hoso__Records__V1__RecordSteps ***out, size_t *n);

#endif
