# SPDX-License-Identifier: GPL-2.0
# KTAP output helpers for the shell selftests (busybox sh compatible).
# Usage: . lib/ktap.sh; ktap_begin; ktap_ok NAME / ktap_fail NAME [WHY] /
# ktap_skip NAME WHY / ktap_check NAME CMD...; ktap_end (exits: 0 pass,
# 1 failure, 4 everything skipped).

KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

ktap_begin() {
	echo "KTAP version 1"
}

ktap_ok() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_PASS=$((KTAP_PASS + 1))
	echo "ok $KTAP_N $1"
}

ktap_fail() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_FAIL=$((KTAP_FAIL + 1))
	echo "not ok $KTAP_N $1"
	[ -n "${2:-}" ] && echo "$2" | sed 's/^/# /'
	return 0
}

ktap_skip() {
	KTAP_N=$((KTAP_N + 1))
	KTAP_SKIP=$((KTAP_SKIP + 1))
	echo "ok $KTAP_N $1 # SKIP ${2:-}"
}

ktap_info() {
	echo "# $*"
}

# ktap_check NAME CMD...: one result from a command's exit status; its
# output is shown only on failure.
ktap_check() {
	_name=$1
	shift
	if _out=$("$@" 2>&1); then
		ktap_ok "$_name"
	else
		ktap_fail "$_name" "$_out"
	fi
}

ktap_end() {
	echo "1..$KTAP_N"
	echo "# totals: pass:$KTAP_PASS fail:$KTAP_FAIL skip:$KTAP_SKIP"
	[ "$KTAP_FAIL" -eq 0 ] || exit 1
	[ "$KTAP_N" -gt 0 ] && [ "$KTAP_SKIP" -eq "$KTAP_N" ] && exit 4
	exit 0
}
