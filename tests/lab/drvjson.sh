# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Reading the JSON lines build/drv/nfqdrv prints (one object per line, each
# with an "event"), for the tests that drive it (t_nfq.sh, t_nfq6.sh).
#
#   jf FILE EVENT FIELD   FIELD of every line of FILE whose "event" is EVENT
#                         (booleans as true / false)
#   states FILE           the TCP states the driver reported, in order

jf() {
	python3 - "$@" <<'PY'
import json, sys
path, ev, field = sys.argv[1:4]
for line in open(path):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("event") == ev and field in d:
        v = d[field]
        print(str(v).lower() if isinstance(v, bool) else v)
PY
}

states() { jf "$1" state state | tr '\n' ' ' | sed 's/ $//'; }
