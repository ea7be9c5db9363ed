#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Operations (issue 15), in one lab namespace (a veth pair inside it):
#   - log lines on stderr start with an ISO 8601 time (local, milliseconds,
#     UTC offset); with JOURNAL_STREAM naming stderr (as systemd sets it) no
#     time but a "<N>" priority prefix; with JOURNAL_STREAM naming something
#     else, the time again;
#   - --log-level warning: no info lines (stuntd and stunt-server);
#     --log-level debug: debug lines; a bad level is a usage error;
#   - stuntd's config "log-level warning" applied by SIGHUP ("SIGHUP: log
#     level warning", no info line from then on);
#   - --turn-pass on the command line: a warning that ps shows it;
#     --turn-pass-file: a file group or others can read is refused (exit 1),
#     an empty one too, a mode-600 one is taken (t_stuntd_relay.sh uses it
#     for a real relay).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lab.sh
. "$here/lab.sh"
# shellcheck source=tests/lab/tap.sh
. "$here/tap.sh"
B=${STUNT_BUILD:-$top/build}

lab_init ops
T=$LAB_STATE
_lab_addns x || { nok "namespace"; exit 1; }
lx x ip link add d0 type veth peer name d1
lx x ip link set d0 up
lx x ip link set d1 up
lx x ip addr add 192.0.2.1/24 dev d0
lx x ip addr add 192.0.2.2/24 dev d0
printf 's3cret\n' >"$T/secret"
chmod 600 "$T/secret"
chmod 711 "$T"
ISO='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{2}:[0-9]{2} stuntd: (info|warning|debug|error): '

# stuntd_run LOG SECONDS ARGS...: stuntd in x for a while (no server answers), its stderr in LOG
stuntd_run() {
	local log=$1 secs=$2
	shift 2
	lx x timeout -s TERM "$secs" "$B/stuntd" -d --id a --server 192.0.2.1 --secret-file "$T/secret" \
		--control "$T/c.sock" --state-dir "$T" --no-rules "$@" 2>"$log" >/dev/null
}

stuntd_run "$T/plain.log" 2
n=$(grep -c . "$T/plain.log")
bad=$(grep -Evc "$ISO" "$T/plain.log")
[ "$n" -gt 2 ] && [ "$bad" = 0 ] && ok "stderr: $n lines, each with an ISO 8601 time" ||
	nok "ISO 8601 times: $bad of $n lines without; first: $(head -1 "$T/plain.log")"
head -1 "$T/plain.log" | sed 's/^/# /'

# JOURNAL_STREAM naming the file stderr goes to
: >"$T/j.log"
js=$(stat -c '%d:%i' "$T/j.log")
JOURNAL_STREAM=$js lx x timeout -s TERM 2 "$B/stuntd" -d --id a --server 192.0.2.1 \
	--secret-file "$T/secret" --control "$T/c.sock" --state-dir "$T" --no-rules 2>>"$T/j.log" >/dev/null
if grep -q . "$T/j.log" && ! grep -Eq '^[0-9]{4}-' "$T/j.log" &&
	[ "$(grep -Evc '^<[3467]>stuntd: (error|warning|info|debug): ' "$T/j.log")" = 0 ]; then
	ok "stderr is the journal: no own time, <N> priority prefixes"
else
	nok "stderr is the journal: $(head -2 "$T/j.log" | tr '\n' '|')"
fi
grep -m1 '^<6>' "$T/j.log" | sed 's/^/# /'
JOURNAL_STREAM=1:2 lx x timeout -s TERM 2 "$B/stuntd" -d --id a --server 192.0.2.1 \
	--secret-file "$T/secret" --control "$T/c.sock" --state-dir "$T" --no-rules 2>"$T/j2.log" >/dev/null
[ "$(grep -Evc "$ISO" "$T/j2.log")" = 0 ] && grep -q . "$T/j2.log" &&
	ok "JOURNAL_STREAM naming another file: times kept" || nok "JOURNAL_STREAM naming another file"

stuntd_run "$T/warn.log" 2 --log-level warning
grep -q ': info: ' "$T/warn.log" && nok "--log-level warning: info lines" ||
	ok "--log-level warning: no info line ($(grep -c . "$T/warn.log") lines)"
stuntd_run "$T/debug.log" 2 --log-level debug
grep -q ': debug: ' "$T/debug.log" && ok "--log-level debug: debug lines" || nok "--log-level debug: no debug line"
lx x "$B/stuntd" --log-level loud 2>"$T/e" >/dev/null
rc=$?
[ "$rc" = 2 ] && grep -q "bad log-level 'loud'" "$T/e" && ok "a bad --log-level: usage error" ||
	nok "a bad --log-level: exit $rc $(cat "$T/e")"

# SIGHUP applies the config's log-level: lowered to warning, the info line
# that follows a SIGHUP ("SIGHUP: discovery again") is no longer written
printf 'log-level info\n' >"$T/d.conf"
chmod 644 "$T/d.conf"
# ip netns exec directly: $! is then stuntd itself (lx is a function: a subshell)
ip netns exec "$LAB-x" "$B/stuntd" -d --id a --server 192.0.2.1 --secret-file "$T/secret" \
	--control "$T/c.sock" --state-dir "$T" --no-rules --config "$T/d.conf" 2>"$T/hup.log" >/dev/null &
P=$!
lab_wait_log "$T/hup.log" 'stuntd 0' 10
printf 'log-level warning\n' >"$T/d.conf"
kill -HUP "$P"
if lab_wait_log "$T/hup.log" 'SIGHUP: log level warning' 10 &&
	lab_wait_log "$T/hup.log" 'discovery: ' 10 4 && ! grep -q 'SIGHUP: discovery again' "$T/hup.log" &&
	grep -q 'warning: discovery' "$T/hup.log"; then
	ok "SIGHUP: log-level warning applied (info lines gone, warnings kept)"
else
	nok "SIGHUP: log-level warning applied"
	tail -5 "$T/hup.log" | sed 's/^/# /'
fi
kill "$P"
wait "$P" 2>/dev/null

# stunt-server --log-level warning
lx x timeout -s TERM 2 "$B/stunt-server" --primary 192.0.2.1 --alternate 192.0.2.2 -d \
	--log-level warning 2>"$T/srv.log" >/dev/null
lx x timeout -s TERM 2 "$B/stunt-server" --primary 192.0.2.1 --alternate 192.0.2.2 -d \
	2>"$T/srv-info.log" >/dev/null
if grep -q ': info: ' "$T/srv-info.log" && ! grep -q ': info: ' "$T/srv.log" &&
	grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T.* stunt-server: info: ' "$T/srv-info.log"; then
	ok "stunt-server: ISO 8601 times, --log-level warning hides info"
else
	nok "stunt-server --log-level: $(head -2 "$T/srv.log" | tr '\n' '|')"
fi

# TURN passwords
stuntd_run "$T/tp.log" 1 --turn 192.0.2.9 --turn-user u --turn-pass visible-pass
grep -q "warning: --turn-pass shows the password to every user (ps); use --turn-pass-file" "$T/tp.log" &&
	ok "--turn-pass on the command line: warned" || nok "--turn-pass: no warning"
printf 'file-pass\n' >"$T/tpf"
chmod 644 "$T/tpf"
stuntd_run "$T/tpf.log" 2 --turn 192.0.2.9 --turn-user u --turn-pass-file "$T/tpf"
rc=$?
[ "$rc" = 1 ] && grep -q "turn-pass-file $T/tpf is readable by group or others" "$T/tpf.log" &&
	ok "a turn-pass-file others can read: refused" || nok "turn-pass-file 644: exit $rc $(cat "$T/tpf.log")"
chmod 600 "$T/tpf"
stuntd_run "$T/tpf2.log" 2 --turn 192.0.2.9 --turn-user u --turn-pass-file "$T/tpf"
rc=$?
[ "$rc" = 124 ] && ! grep -q "turn-pass" "$T/tpf2.log" && ok "a mode-600 turn-pass-file: taken (ran until stopped)" ||
	nok "turn-pass-file 600: exit $rc $(grep turn "$T/tpf2.log")"
: >"$T/tpf"
stuntd_run "$T/tpf3.log" 2 --turn 192.0.2.9 --turn-user u --turn-pass-file "$T/tpf"
rc=$?
[ "$rc" = 1 ] && grep -q "no password on its first line" "$T/tpf3.log" &&
	ok "an empty turn-pass-file: refused" || nok "empty turn-pass-file: exit $rc"
stuntd_run "$T/tpf4.log" 2 --turn 192.0.2.9 --turn-user u --turn-pass-file "$T/tpf" --turn-pass p
rc=$?
[ "$rc" = 2 ] && grep -q "exclude each other" "$T/tpf4.log" && ok "turn-pass and turn-pass-file: usage error" ||
	nok "both: exit $rc"

lab_down
[ "$fails" -eq 0 ]
