/* How many imports one records process parses at once (HOSO_IMPORT_SLOTS): each may take up to
 * IMPORT_MAX_MEMORY, so the process's import memory is bounded by slots × that, not by workers. */
#ifndef HOSO_RECORDS_IMPORT_GATE_H
#define HOSO_RECORDS_IMPORT_GATE_H

#include "srv.h"

/* Takes a slot, waiting at most HOSO_IMPORT_WAIT_MS (2 s) for one to free. 0 with the slot, or
 * -1 with the status set: RESOURCE_EXHAUSTED (every slot busy; try again later) or CANCELLED
 * (the client went away while waiting). */
int import_gate_enter(srv_ctx *ctx);
/* Gives the slot back. */
void import_gate_leave(void);

#endif
