#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dynswiotlbctl, end to end, as installed (/usr/sbin/dynswiotlbctl): help
# and version; every failure class and its exit code (usage 2, not root 3,
# module not found or not loaded 4, unknown device 5, bad value 6, busy 7,
# refused 8, debugfs not mounted 9) with the module's state unchanged
# after each; load with parameters and the modprobe configuration; attach
# and detach of the test device; set and get of device knobs and module
# parameters (all or nothing); status (table and --json), buffers and top
# against the module's files while the test device holds dynamic mappings (dma_api --hog/--hold);
# unload refused while in use, then done.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

CTL=/usr/sbin/dynswiotlbctl
TDEV=dynswiotlb_test.0
K=$DSW_SYSFS/devices/$TDEV
P=$DSW_SYSMOD/parameters
CONF=/etc/modprobe.d/dsw-ctl.conf

ktap_begin
dsw_unload
if [ ! -x $CTL ]; then
	ktap_fail "$CTL installed"
	ktap_end
fi
[ "$(command -v dynswiotlbctl)" ] && ktap_ok "dynswiotlbctl is in PATH" ||
	ktap_fail "dynswiotlbctl is in PATH" "PATH=$PATH"

# run ARGS...: run the tool; its output (stdout and stderr) in $out, its
# exit code in $rc.
run() {
	out=$($CTL "$@" 2>&1)
	rc=$?
}

# expect RC NAME [CHECK]: one result for the last run: exit code RC and,
# if given, the shell condition CHECK (which may use "set --").
expect() {
	_want=$1 _name=$2 _check=${3:-}
	if [ "$rc" = "$_want" ] && { [ -z "$_check" ] || eval "$_check"; }; then
		ktap_ok "$_name: exit $rc$(echo "$out" | sed -n '1s/^dynswiotlbctl: /: /p' | cut -c1-90)"
	else
		ktap_fail "$_name: exit $_want${_check:+, $_check}" "rc=$rc: $out"
	fi
}

has() { # has TEXT: the last run's output contains TEXT
	echo "$out" | grep -q -- "$1"
}

knobs() { # every knob of the test device and the global cap
	cat $K/* $P/max_total_kb 2>/dev/null | tr '\n' ' '
}

# --- help, version, usage ---
all_commands() { # the last run's output names every command and exit code
	for c in load unload attach detach set get status buffers top; do
		has "^  $c" || return 1
	done
	for e in 0 1 2 3 4 5 6 7 8 9; do
		has "^  $e  " || return 1
	done
}
run --help
expect 0 "--help: every command and exit code" all_commands
run -h
expect 0 "-h"
run --version
expect 0 "--version" 'has "^dynswiotlbctl [0-9][0-9.]*"'
run
expect 2 "no command"
run frobnicate
expect 2 "unknown command"
run --frobnicate
expect 2 "unknown option"
run attach
expect 2 "attach without a device" 'has "Usage: dynswiotlbctl attach DEV"'
run attach a b
expect 2 "attach of two devices"
run set $TDEV chunk_kb
expect 2 "set without KNOB=VALUE"
run set
expect 2 "set without a device"
run top -d 0
expect 2 "top -d 0"
run top -n x
expect 2 "top -n x"
run status extra
expect 2 "status with an extra argument"
run buffers ../x
expect 2 "buffers of a name that is no device name"

# --- module not loaded ---
run status
expect 4 "status, module not loaded" 'has "not loaded"'
run attach $TDEV
expect 4 "attach, module not loaded"
run set --global max_total_kb=1
expect 4 "set --global, module not loaded"
run get $TDEV
expect 4 "get, module not loaded"
run unload
expect 4 "unload, module not loaded" 'has "not loaded"'

# --- load: module file missing, bad and unknown parameters ---
MDIR=/lib/modules/$(uname -r)
KO=$MDIR/updates/dkms/dynswiotlb.ko
mv $KO /tmp/dynswiotlb.ko
run load
expect 4 "load, module file gone (stale modules.dep)" '! dsw_loaded'
/usr/sbin/depmod
run load
expect 4 "load, module not in modules.dep" 'has "not found" && ! dsw_loaded'
mv /tmp/dynswiotlb.ko $KO
/usr/sbin/depmod

dsw_mark
run load chunk_kb=100
expect 6 "load chunk_kb=100 (EINVAL)" \
	'has "(EINVAL)" && ! dsw_loaded && dsw_log_since | grep -q "chunk_kb: \"100\": not a power of two"'
run load nosuch=1
expect 2 "load with an unknown parameter" 'has "nosuch" && ! dsw_loaded'
run load chunk_kb
expect 2 "load with PARAM but no =VALUE" '! dsw_loaded'

# --- load, honouring the modprobe configuration ---
echo "options dynswiotlb shrink_delay_ms=700 chunk_kb=128" >$CONF
run load devices=$TDEV chunk_kb=256
expect 0 "load devices=$TDEV chunk_kb=256 with options in modprobe.d" \
	'dsw_loaded && [ "$(cat $P/chunk_kb)" = 256 ] && [ "$(cat $P/shrink_delay_ms)" = 700 ]'
rm -f $CONF
run load
expect 0 "load again, no parameter" 'has "loaded already"'
run load chunk_kb=512
expect 8 "load again with a parameter: not applied" '[ "$(cat $P/chunk_kb)" = 256 ]'
modprobe dynswiotlb_test
[ -d $K ] && ktap_ok "test module loaded, $TDEV attached" ||
	ktap_fail "test module loaded, $TDEV attached" "$(cat $DSW_DEBUGFS/devices)"

# --- status ---
# row NAME: the device's row of the last run
row() {
	echo "$out" | grep "^$1 "
}
# row_matches: the row's counters are the statistics files'
row_matches() {
	set -- $(row $TDEV)
	[ "$2" = attached ] && [ "$3" = "$(cat $K/mode)" ] &&
		[ "$4" = "$(dsw_stat $TDEV live_buffers)" ] &&
		[ "$5" = "$(dsw_stat $TDEV live_bytes)" ] &&
		[ "$6" = "$(dsw_stat $TDEV pool_bytes)" ] &&
		[ "$7" = "$(dsw_stat $TDEV live_bytes_hiwater)" ] &&
		[ "$8" = "$(dsw_stat $TDEV pool_bytes_hiwater)" ] &&
		[ "$9" = "$(dsw_stat $TDEV failures)" ]
}
run status --bytes
expect 0 "status --bytes: a header and the device's row, as the module says" \
	'echo "$out" | head -n1 | grep -q "^DEVICE *STATE *MODE *BUFFERS *LIVE *POOL *LIVE-PEAK *POOL-PEAK *FAILURES$" && row_matches'
ktap_info "$(row $TDEV)"
run status
expect 0 "status: sizes in units" 'row $TDEV | grep -q " attached  *static-first  *0  *0B  *[0-9.]*[KM] "'

# --- get ---
run get $TDEV
expect 0 "get DEV: every knob" \
	'[ "$(echo "$out" | wc -l)" = "$(for f in $K/*; do [ -f "$f" ] && echo; done | wc -l)" ] && has "^chunk_kb  *256$" && has "^mode  *static-first$"'
run get $TDEV chunk_kb
expect 0 "get DEV chunk_kb" '[ "$out" = 256 ]'
run get --global max_total_kb
expect 0 "get --global max_total_kb" '[ "$out" = 0 ]'
run get -g
expect 0 "get -g: every parameter" 'has "^max_total_kb  *0$" && has "^devices  *$TDEV$"'
run get $TDEV nosuch
expect 2 "get of an unknown knob" 'has "unknown knob .nosuch. (knobs: chunk_kb"'
run get nosuch.0
expect 5 "get of a device that is not attached"

# --- set: valid values ---
run set $TDEV chunk_kb=512 shrink_delay_ms=2000 mode=dynamic-only
expect 0 "set DEV chunk_kb=512 shrink_delay_ms=2000 mode=dynamic-only" \
	'[ "$(cat $K/chunk_kb $K/shrink_delay_ms $K/mode | tr "\n" " ")" = "512 2000 dynamic-only " ]'
run set $TDEV mode=static-first
expect 0 "set DEV mode=static-first" '[ "$(cat $K/mode)" = static-first ]'
run set --global max_total_kb=65536
expect 0 "set --global max_total_kb=65536" '[ "$(cat $P/max_total_kb)" = 65536 ]'
run set -g max_total_kb=0 chunk_kb=256
expect 0 "set -g max_total_kb=0 chunk_kb=256" '[ "$(cat $P/max_total_kb) $(cat $P/chunk_kb)" = "0 256" ]'

# --- set: refused values change nothing ---
before=$(knobs)
same() {
	[ "$(knobs)" = "$before" ]
}
dsw_mark
run set $TDEV max_kb=4096 chunk_kb=100
expect 6 "set DEV max_kb=4096 chunk_kb=100: EINVAL, max_kb put back" \
	'has "chunk_kb=100: Invalid argument (EINVAL)" && has "restored" && same &&
	 [ "$(dsw_log_since | grep -c "dynswiotlb: ")" = 1 ]'
run set $TDEV reserve_low_kb=4096
expect 6 "set DEV reserve_low_kb above reserve_high_kb" same
run set $TDEV mode=bogus
expect 6 "set DEV mode=bogus" same
run set $TDEV max_kb=
expect 6 "set DEV max_kb= (empty)" same
run set --global max_total_kb=lots
expect 6 "set --global max_total_kb=lots" same
run set $TDEV nosuch=1
expect 2 "set of an unknown knob" same
run set $TDEV max_kb=1 nosuch=1
expect 2 "set of a good and an unknown knob: nothing written" same
run set --global devices=x
expect 2 "set --global devices (read-only)" 'has "read-only" && same'
run set nosuch.0 max_kb=1
expect 5 "set of a device that is not attached" same

# --- attach and detach ---
run attach nosuch.0
expect 5 "attach nosuch.0: ENODEV" 'has "(ENODEV)" && has "no such device"'
run attach 0000:00:1g.0
expect 6 "attach 0000:00:1g.0: EINVAL" 'has "(EINVAL)"'
run attach $TDEV
expect 8 "attach $TDEV again: EEXIST" 'has "(EEXIST)"'
run detach nosuch.0
expect 5 "detach nosuch.0: ENODEV" 'has "(ENODEV)"'
run detach $TDEV
expect 0 "detach $TDEV: forgotten, driver bound again" \
	'[ ! -d $K ] && ! grep -q "^$TDEV " $DSW_DEBUGFS/devices && [ -e /sys/bus/platform/devices/$TDEV/driver ]'
run status
expect 0 "status after detach: no row" '[ -z "$(row $TDEV)" ]'
run set $TDEV max_kb=1
expect 5 "set of the detached device"
run buffers $TDEV
expect 5 "buffers of the detached device"
run attach $TDEV
expect 0 "attach $TDEV (bound driver)" \
	'[ -d $K ] && grep -q "^$TDEV attached$" $DSW_DEBUGFS/devices && [ -e /sys/bus/platform/devices/$TDEV/driver ]'

# --- live buffers: buffers, status, top; detach and unload refused ---
if ./dma_api --hog >/dev/null && ./dma_api --hold 8 --size 65536 >/dev/null; then
	ktap_ok "static pool filled, test device holds 8 dynamic mappings"
else
	ktap_fail "static pool filled, test device holds 8 dynamic mappings"
fi
run buffers $TDEV
expect 0 "buffers: a header and 8 rows of 64 KiB" \
	'echo "$out" | head -n1 | grep -q "^DMA *SIZE *DIR *AGE_MS *CONTEXT$" &&
	 [ "$(echo "$out" | grep -c "^0x[0-9a-f]*  *65536 bidi  *[0-9]* task$")" = 8 ] &&
	 [ "$(echo "$out" | wc -l)" = 9 ]'
ktap_info "$(echo "$out" | sed -n 2p)"
run status --bytes
expect 0 "status --bytes: 8 buffers, 524288 bytes live, as the module says" \
	'row_matches && set -- $(row $TDEV) && [ "$4 $5" = "8 524288" ]'
run status --json
# every statistics/ file is a key of the device's object, with its value
json_matches() {
	for f in $K/statistics/*; do
		echo "$out" | grep -q "\"${f##*/}\": $(cat $f)[,}]" || return 1
	done
}
expect 0 "status --json: one line, the device attached with every counter, 8 buffers live" \
	'[ "$(echo "$out" | wc -l)" = 1 ] &&
	 echo "$out" | grep -q "^{\"schema\": 1, \"module\": \"dynswiotlb\", \"version\": \"$(cat $DSW_SYSMOD/version)\", \"max_total_kb\": [0-9]*, \"devices\": \[" &&
	 echo "$out" | grep -q "{\"name\": \"$TDEV\", \"state\": \"attached\", \"mode\": \"$(cat $K/mode)\", \"statistics\": {\"maps\": " &&
	 echo "$out" | grep -q "\"live_buffers\": 8, \"live_bytes\": 524288," && json_matches &&
	 echo "$out" | grep -q "}}\]}$"'
ktap_info "$(echo "$out" | cut -c1-200)"
run top -n 2 -d 0.5
expect 0 "top -n 2 -d 0.5: two snapshots, rates in the second" \
	'[ "$(echo "$out" | grep -c "^dynswiotlbctl top - ")" = 2 ] &&
	 [ "$(echo "$out" | grep -c "^DEVICE ")" = 2 ] &&
	 [ "$(row $TDEV | wc -l)" = 2 ] &&
	 row $TDEV | head -n1 | grep -q " - *- *$" &&
	 row $TDEV | tail -n1 | grep -q " [0-9][0-9]* *[0-9][0-9]* *$" &&
	 has "1 attached; pool [0-9.]*[KM]; live 8 buffers, 512K; failures 0"'
echo "$out" | sed 's/^/# /'
run detach $TDEV
expect 7 "detach with mappings: EBUSY, still attached" 'has "(EBUSY)" && [ -d $K ]'
run unload
expect 7 "unload in use" 'has "in use" && dsw_loaded'

# --- not root ---
# busybox su, as root, needs only the user in /etc/passwd.
grep -q '^dswctl:' /etc/passwd 2>/dev/null || {
	echo "dswctl:x:4242:4242::/tmp:/bin/sh" >>/etc/passwd
	echo "dswctl:x:4242:" >>/etc/group
}
asuser() { # asuser ARGS...: run the tool as uid 4242 (output, rc as run)
	out=$(busybox su -s /bin/sh dswctl -c "id -u; $CTL $*" 2>&1)
	rc=$?
	uid=$(echo "$out" | head -n1)
	out=$(echo "$out" | tail -n +2)
}
asuser --version
if [ "$uid" != 4242 ]; then
	ktap_skip "not root: exit 3" "busybox su does not run a command as uid 4242 here: $out"
else
	before=$(knobs)
	for c in "status" "set $TDEV max_kb=1" "set --global max_total_kb=1" \
			"attach nosuch.0" "detach $TDEV" "buffers $TDEV" "load" "unload"; do
		asuser "$c"
		expect 3 "not root: $c" 'has "must be run as root" && same && dsw_loaded'
	done
	asuser "get $TDEV chunk_kb"
	expect 0 "not root: get works" '[ "$out" = "$(cat $K/chunk_kb)" ]'
fi

# --- debugfs not mounted ---
if umount /sys/kernel/debug 2>/dev/null; then
	run status
	expect 9 "status, debugfs not mounted: the command that mounts it" \
		'has "mount -t debugfs none /sys/kernel/debug"'
	mount -t debugfs debugfs /sys/kernel/debug
	run status
	expect 0 "status, debugfs mounted again"
else
	ktap_skip "status, debugfs not mounted" "debugfs is busy: $(grep ' /sys/kernel/debug' /proc/mounts | tr '\n' ' ')"
fi

# --- release; rates in top; unload ---
./dma_api --release >/dev/null && [ "$(dsw_stat $TDEV live_buffers)" = 0 ] &&
	ktap_ok "released: no live buffer" || ktap_fail "released: no live buffer"
# top in the background, to a file (flushed per snapshot); 8 dynamic
# mappings made and released between its two snapshots.
$CTL top -n 2 -d 3 >/tmp/top.out 2>&1 &
top_pid=$!
t=0
while ! grep -q "^$TDEV " /tmp/top.out && [ $t -lt 100 ]; do
	usleep 100000
	t=$((t + 1))
done
./dma_api --hold 8 --size 65536 >/dev/null && ./dma_api --release >/dev/null
wait $top_pid
rc=$?
out=$(cat /tmp/top.out)
expect 0 "top: 8 dynamic mappings between two snapshots show as rates" \
	'set -- $(row $TDEV | tail -n1) && [ "${10}" -ge 1 ] && [ "${11}" -ge 1 ]'
ktap_info "$(row $TDEV | tail -n1)"
./dma_api --unhog >/dev/null
run unload
expect 7 "unload while the test driver is bound to the attached device" 'dsw_loaded'
modprobe -r dynswiotlb_test
run unload
expect 0 "unload" '! dsw_loaded'
run unload
expect 4 "unload again: not loaded"
ktap_end
