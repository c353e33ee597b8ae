/* fault.h: the named kill points of the crash tests, read from HOSO_FAULT_KILL. */
#include "fault.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "log.h"

static atomic_int passes;

void fault_point(const char *name) {
  const char *want = getenv("HOSO_FAULT_KILL");
  if (!want || !*want) return;
  size_t n = strlen(name);
  if (strncmp(want, name, n) != 0 || (want[n] != 0 && want[n] != '#')) return;
  int nth = want[n] == '#' ? atoi(want + n + 1) : 1;
  if (atomic_fetch_add(&passes, 1) + 1 < nth) return;
  log_warn("fault point %s: killing the process (HOSO_FAULT_KILL)", name);
  kill(getpid(), SIGKILL);
  pause();
}
