#!/usr/bin/env bash
# run-logged.sh LOGFILE [COMMAND ARGS...]: makes LOGFILE readable by its owner and group only (0640)
# whatever the umask and whatever mode an older run left it with (logs name people, units and
# client addresses), then runs COMMAND with stdout and stderr appended to it. Without a command,
# only makes the file. The one way ./hoso and the tests give a process its log.
set -euo pipefail
log="${1:?usage: run-logged.sh LOGFILE [COMMAND ARGS...]}"
shift
(umask 027 && : >>"$log")
chmod 640 "$log"
[ $# -eq 0 ] && exit 0
exec "$@" >>"$log" 2>&1
