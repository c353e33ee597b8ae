/* Failure injection for the crash tests (SQLite's way of proving a journal): a named point in
 * the code where the process can be made to die at once, as a power cut would kill it. */
#ifndef HOSO_FAULT_H
#define HOSO_FAULT_H

/* With HOSO_FAULT_KILL=<name> in the environment, the process logs "fault point <name>" and
 * kills itself with SIGKILL (no clean-up, no flush but the log line) when it reaches
 * fault_point("<name>"); HOSO_FAULT_KILL=<name>#<n> does so the n-th time. Unset (production),
 * it does nothing. */
void fault_point(const char *name);

#endif
