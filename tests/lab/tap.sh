# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Result lines for lab tests, in the form tests/run.sh counts:
#   ok NAME...              a check passed
#   nok NAME...             a check failed (counted in $fails)
#   check_eq NAME GOT WANT  ok when GOT = WANT, else nok showing both; an
#                           empty WANT is a nok: a value that could not be
#                           read on both sides must not pass as equal
#   check_cmd NAME CMD...   ok when CMD succeeds
# A test ends with: [ "$fails" -eq 0 ]

fails=0
ok() { echo "ok - $*"; }
nok() { echo "not ok - $*"; fails=$((fails + 1)); }
check_eq() {
	if [ -z "$3" ]; then
		nok "$1: nothing to compare (got '$2', want '')"
	elif [ "$2" = "$3" ]; then
		ok "$1: $2"
	else
		nok "$1: got '$2', want '$3'"
	fi
}
check_cmd() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}
