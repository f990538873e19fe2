#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-smoke.sh [MODULE.ko]: smoke-boot the debug kernel
# (bench/lab-kernel.sh --flavour debug: KASAN, lockdep, debugobjects,
# kmemleak, DMA-API debugging, no SWIOTLB_DYNAMIC) under QEMU/TCG with the
# harness's disks (virtio-blk through the DMA API, NVMe) and a tiny
# initramfs, and show that the checkers are on and what the module does
# under them:
#   - the boot log's lines of each checker (KASAN, lockdep, kmemleak,
#     DMA-API debug), debugobjects' and lockdep's debugfs/proc state;
#   - kmemleak: a scan, then "clear", so that what the boot left is not
#     counted;
#   - if MODULE.ko (dynswiotlb.ko built against the debug tree: lab-kernel.sh
#     --flavour debug --check builds it) is given: it loads and unloads
#     with no device, then loads with both disks selected, so that the
#     disk drivers bind through it; without, they bind on the kernel's own
#     path (the reference: what the kernel reports by itself);
#   - 8 parallel 1 MiB direct writers then readers (8 x 4 MiB, checksums)
#     on each disk, the drivers unbound and unloaded, then the module;
#   - then kmemleak scans twice and its report is printed, with DMA-API
#     debug's error_count, debugobjects' warnings, lockdep's debug_locks
#     (0: lockdep turned itself off, after a report or an overflow) and the
#     taint.
# Judged on the console by the patterns below (DEBUG_BAD); prints TAP,
# exits non-zero on any failure. Logs: $DSW_RESULTS/debug/smoke.*.
#
# DSW_LAB_VERSION picks a cached version (default: lab/debug-current);
# DSW_SWIOTLB (default 4096,1,force), DSW_MEM (2G), DSW_SMP (2),
# DSW_TIMEOUT (900 s, the guest's watchdog), DSW_APPEND (more kernel
# parameters, e.g. panic_on_warn=1 or acpi=noirq) as for lab-boot.sh;
# DSW_DMA_ERRORS=N: DMA-API debug reports its first N errors, not 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# What a judge of this kernel fails on, beyond boot.sh's patterns (every
# one verified against linux-source-6.12; see the report in the console
# judge below).
DEBUG_BAD='Kernel panic|BUG:|Oops|WARNING:|Call Trace|general protection|kernel BUG at'
DEBUG_BAD+='|ODEBUG:'
DEBUG_BAD+='|unreferenced object|new suspected memory leaks|INFO: task .* blocked for more than'
DEBUG_BAD+='|INFO: trying to register non-static key|detected stalls on CPUs|list_(add|del) corruption'
DEBUG_BAD+='|turning off the locking correctness validator|Kernel memory leak detector disabled'
DEBUG_BAD+='|kmemleak: Cannot|ODEBUG disabled|dma-debug disabled|debugging out of memory'
# Every "DMA-API: " line is a report (err_printk: a WARN, the first
# show_num_errors=1 of them; then only error_count grows) but these.
DEBUG_DMA_OK='DMA-API: (preallocated [0-9]+ debug entries|debugging enabled by kernel config|dma_debug_entry pool grown to)'

ko=${1:-}
[ "$(id -u)" = 0 ] || dsw_die "debug-smoke.sh needs root (QEMU, cpio of a root-owned tree)"
lab="$DSW_CACHE/lab/${DSW_LAB_VERSION:+$DSW_LAB_VERSION/debug}"
[ -n "${DSW_LAB_VERSION:-}" ] || lab="$DSW_CACHE/lab/debug-current"
[ -s "$lab/.ready" ] ||
	dsw_die "no debug kernel in $lab (run bench/lab-kernel.sh --flavour debug)"
lab=$(cd "$lab" && pwd -P)
krel=$(cat "$lab/kernelrelease")
image="$lab/${DSW_LAB_IMAGE:-bzImage}"
out="$DSW_RESULTS/debug"
mkdir -p "$out"
timeout=${DSW_TIMEOUT:-900}
"$DSW_TOP/selftests/qemu/setup-host.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# copy_with_libs ROOT BIN...: host binaries into ROOT/bin with their
# shared libraries at their own paths.
copy_with_libs() {
	local root=$1 f lib

	shift
	for f in "$@"; do
		cp -L "$f" "$root/bin/"
		for lib in $(ldd "$f" | grep -o '/[^ ]*'); do
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	done
}

# The initramfs: busybox-static, kmod's tools (lib/dsw.sh calls them by
# path), the debug kernel's modules, MODULE.ko in extra/, the selftests'
# lib/dsw.sh and the /init below. The host's depmod writes modules.dep.
root="$work/root"
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,usr/sbin,lib/modules}
chmod 755 "$root"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
copy_with_libs "$root" /bin/kmod
for t in modprobe insmod rmmod lsmod modinfo depmod; do
	ln -s /bin/kmod "$root/usr/sbin/$t"
done
cp -a "$lab/modules/lib/modules/$krel" "$root/lib/modules/"
rm -f "$root/lib/modules/$krel/build" "$root/lib/modules/$krel/source"
mkdir -p "$root/lib/modules/$krel/extra"
[ -z "$ko" ] || cp "$ko" "$root/lib/modules/$krel/extra/dynswiotlb.ko"
depmod -b "$root" "$krel"
cp "$DSW_TOP/selftests/lib/dsw.sh" "$root/lib/dsw.sh"

cat >"$root/init" <<'EOF'
#!/bin/sh
# PID 1 of the debug smoke boot (written by selftests/qemu/debug-smoke.sh).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
echo 1 >/proc/sys/kernel/sysrq
exec 3>/dev/ttyS1
marker() { echo "$*" >&3; }
marker "DBG-BOOTED $(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)"
. /lib/dsw.sh
timeout=$(sed -n 's/.*dbg.timeout=\([0-9]*\).*/\1/p' /proc/cmdline)
(
	sleep "${timeout:-900}"
	marker "DBG-WATCHDOG after ${timeout}s"
	echo w >/proc/sysrq-trigger
	echo l >/proc/sysrq-trigger
	marker "DBG-POWEROFF"
	sleep 1
	poweroff -f
) &
wd=$!
kml=/sys/kernel/debug/kmemleak
state() {
	marker "DBG-STATE $1 dma_api_errors=$(cat /sys/kernel/debug/dma-api/error_count 2>/dev/null || echo -)" \
		"dma_api_free_min=$(cat /sys/kernel/debug/dma-api/min_free_entries 2>/dev/null || echo -)" \
		"odebug_warnings=$(sed -n 's/^warnings *:* *//p' /sys/kernel/debug/debug_objects/stats 2>/dev/null || echo -)" \
		"debug_locks=$(sed -n 's/^ *debug_locks: *//p' /proc/lockdep_stats 2>/dev/null || echo -)" \
		"taint=$(cat /proc/sys/kernel/tainted)" \
		"memavail_kb=$(sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo)"
}
dmesg | grep -E 'KernelAddressSanitizer|Lock dependency validator|kmemleak:|DMA-API:|ODEBUG|Linux version|software IO TLB|ACPI Error|no GSI' |
	grep -v 'ommand line' | sed 's/^/DBG-DMESG /' >&3
marker "DBG-INFO lockdep_stats: $(grep -E 'lock-classes|direct dependencies|debug_locks' /proc/lockdep_stats | tr -s ' ' | tr '\n' ';')"
marker "DBG-INFO debug_objects: $(tr -s ' ' </sys/kernel/debug/debug_objects/stats | tr '\n' ';')"
marker "DBG-INFO dma-api: $(cd /sys/kernel/debug/dma-api && for f in *; do [ -f "$f" ] && [ "$f" != dump ] && printf '%s=%s ' "$f" "$(cat "$f")"; done)"
marker "DBG-INFO fault injection: $(ls -d /sys/kernel/debug/fail* 2>/dev/null | tr '\n' ' ')"
marker "DBG-INFO swiotlb: $(cd /sys/kernel/debug/swiotlb 2>/dev/null && for f in io_tlb_nslabs io_tlb_used; do printf '%s=%s ' "$f" "$(cat "$f")"; done)"
marker "DBG-INFO tracing events: $(ls /sys/kernel/debug/tracing/events 2>/dev/null | wc -l)"
# DMA-API debug WARNs for its first error only (num_errors=1), then only
# counts: dbg.dma_errors=N (DSW_DMA_ERRORS) shows N.
n=$(sed -n 's/.*dbg.dma_errors=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -z "$n" ] || echo "$n" >/sys/kernel/debug/dma-api/num_errors
state boot

# What the boot left in kmemleak is not the module's (kmemleak reports
# only objects older than 5 s).
sleep 5
t0=$(cut -d' ' -f1 /proc/uptime)
echo scan >$kml
marker "DBG-KMEMLEAK boot: $(grep -c '^unreferenced object' $kml) suspects after a scan of $(($(cut -d. -f1 /proc/uptime) - ${t0%.*})) s"
grep -A3 '^unreferenced object' $kml | sed 's/^/DBG-KMEMLEAK-BOOT /' | head -n 40 >&3
echo clear >$kml

# With the module: load and unload with no device, then load it with
# both disks selected. Without: the same disks and I/O on the kernel's
# own path (what the kernel and its drivers report by themselves).
mod=
[ -f /lib/modules/$(uname -r)/extra/dynswiotlb.ko ] && mod=1
if [ -n "$mod" ]; then
	modprobe dynswiotlb && marker "DBG-MODULE load (no device): ok" ||
		marker "DBG-MODULE load (no device): FAIL"
	rmmod dynswiotlb && marker "DBG-MODULE unload: ok" || marker "DBG-MODULE unload: FAIL"
	state after-load-unload
	if modprobe dynswiotlb devices="$DSW_VIRTIO_BDF,$DSW_NVME_BDF"; then
		marker "DBG-MODULE load devices=$DSW_VIRTIO_BDF,$DSW_NVME_BDF: ok"
	else
		marker "DBG-MODULE load devices=: FAIL"
	fi
fi
dsw_load_drivers || marker "DBG-FAIL modprobe virtio_blk nvme"
head -c $((4 * 1048576)) /dev/urandom >/tmp/pattern
for dev in vda nvme0n1; do
	if ! dsw_wait_dev /dev/$dev 30; then
		marker "DBG-IO $dev: FAIL no disk"
		continue
	fi
	t0=$(cut -d' ' -f1 /proc/uptime)
	dsw_io_write /dev/$dev /tmp/pattern 8 4 && w=ok || w=FAIL
	echo 3 >/proc/sys/vm/drop_caches
	dsw_io_verify /dev/$dev /tmp/pattern 8 4 && r=ok || r=FAIL
	t1=$(cut -d' ' -f1 /proc/uptime)
	marker "DBG-IO $dev write=$w read=$r seconds=$(echo "$t1 $t0" | awk '{print $1 - $2}')"
done
for b in "$DSW_VIRTIO_BDF" "$DSW_NVME_BDF"; do
	[ -z "$mod" ] || marker "DBG-STATS $b $(tr '\n' ' ' <"$DSW_DEBUGFS/$b/stats" 2>/dev/null)"
done
state after-io
dsw_unbind_disks
# DEBUG_KOBJECT_RELEASE delays every kobject's release by up to 4 s:
# unloading a driver before its devices' releases ran is a use after
# unload (nvme_free_ctrl in nvme_core).
sleep 6
rmmod nvme nvme_core virtio_blk && marker "DBG-DRIVERS unload: ok" ||
	marker "DBG-DRIVERS unload: FAIL"
if [ -n "$mod" ]; then
	rmmod dynswiotlb && marker "DBG-MODULE unload after I/O: ok" ||
		marker "DBG-MODULE unload after I/O: FAIL"
	dmesg | grep 'dynswiotlb' | sed 's/^/DBG-MODULE-LOG /' | head -n 40 >&3
fi
state after-unload

# kmemleak needs two scans for a new object (the first only sees it once
# it is old enough: 5 s), with the freed memory's RCU grace periods past.
sleep 6
echo scan >$kml
sleep 1
echo scan >$kml
marker "DBG-KMEMLEAK end: $(grep -c '^unreferenced object' $kml) suspects"
sed 's/^/DBG-KMEMLEAK-END /' $kml | head -n 120 >&3
state end
kill $wd 2>/dev/null
marker "DBG-DONE uptime=$(cut -d' ' -f1 /proc/uptime)"
sync
marker "DBG-POWEROFF"
sleep 1
poweroff -f
EOF
chmod 755 "$root/init"
initrd="$out/smoke.initrd.cpio.gz"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$initrd"

console="$out/smoke.console"
markers="$out/smoke.markers"
append="console=ttyS0 panic=-1 oops=panic rdinit=/init kmemleak=on"
append+=" swiotlb=${DSW_SWIOTLB:-4096,1,force} dbg.timeout=$timeout"
append+="${DSW_DMA_ERRORS:+ dbg.dma_errors=$DSW_DMA_ERRORS} ${DSW_APPEND:-}"
t0=$(date +%s)
qrc=0
rm -f "$console" "$markers"
truncate -s 0 "$out/smoke.vda.img" "$out/smoke.nvme.img"
truncate -s 1G "$out/smoke.vda.img" "$out/smoke.nvme.img"
# As boot.sh boots Debian's kernels: single-threaded TCG, the virtio-blk
# disk through the DMA API, an NVMe disk, console and markers on two UARTs.
cmd=(qemu-system-x86_64 -machine pc -accel tcg,thread=single -cpu max
	-m "${DSW_MEM:-2G}" -smp "${DSW_SMP:-2}"
	-nodefaults -nographic -no-reboot -monitor none
	-serial "file:$console" -serial "file:$markers"
	-kernel "$image" -initrd "$initrd" -append "$append"
	-drive "file=$out/smoke.vda.img,if=none,id=d0,format=raw,cache=unsafe"
	-device virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on,addr=04.0
	-drive "file=$out/smoke.nvme.img,if=none,id=d1,format=raw,cache=unsafe"
	-device nvme,serial=dbg0001,drive=d1,addr=05.0)
echo "${cmd[*]}" >"$out/smoke.cmdline"
timeout --foreground -k 10 $((timeout + 120)) "${cmd[@]}" </dev/null >"$out/smoke.qemu" 2>&1 || qrc=$?
rm -f "$out/smoke.vda.img" "$out/smoke.nvme.img"
t1=$(date +%s)

n=0
fails=0
tap() { # tap OK|FAIL TEXT
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		fails=$((fails + 1))
	fi
}
m() { tr -d '\r' <"$markers" 2>/dev/null | grep "^$1" || true; }
mark() { grep -q "^$1" "$markers" 2>/dev/null; }
dm() { m DBG-DMESG | grep -q "$1"; }

echo "TAP version 13"
echo "# debug kernel $krel ($image), QEMU $qrc, $((t1 - t0)) s; console: $console"
echo "# qemu: $(cat "$out/smoke.cmdline")"
m DBG-DMESG | sed 's/^DBG-DMESG /# boot: /'
m DBG-INFO | sed 's/^DBG-INFO /# /'
mark DBG-BOOTED && tap OK "boots to /init ($(m DBG-BOOTED | cut -d' ' -f2-))" || tap FAIL "boots to /init"
dm 'KernelAddressSanitizer initialized' && tap OK "KASAN is on" || tap FAIL "KASAN is on"
dm 'Lock dependency validator' && tap OK "lockdep is on" || tap FAIL "lockdep is on"
dm 'kmemleak: Kernel memory leak detector initialized' && tap OK "kmemleak is on" || tap FAIL "kmemleak is on"
dm 'DMA-API: debugging enabled' && tap OK "DMA-API debugging is on" || tap FAIL "DMA-API debugging is on"
m DBG-INFO | grep -q 'debug_objects: .*pool_free' && tap OK "debugobjects is on" || tap FAIL "debugobjects is on"
m DBG-KMEMLEAK | sed 's/^DBG-KMEMLEAK /# kmemleak /'
m DBG-KMEMLEAK-BOOT | sed 's/^DBG-KMEMLEAK-BOOT /# boot leak: /'
if [ -n "$ko" ]; then
	m DBG-MODULE-LOG | sed 's/^DBG-MODULE-LOG /# module: /'
	m DBG-STATS | sed 's/^/# /'
	for s in "load (no device)" "unload:" "load devices=" "unload after I/O"; do
		m "DBG-MODULE $s" | grep -q ': ok' && tap OK "module $s" || tap FAIL "module $s ($(m "DBG-MODULE $s"))"
	done
fi
via=${ko:+" through dynswiotlb"}
for dev in vda nvme0n1; do
	io=$(m "DBG-IO $dev")
	echo "$io" | grep -q 'write=ok read=ok' &&
		tap OK "$dev$via: 8 x 4 MiB direct writes and reads, checksums match (${io##*=} s)" ||
		tap FAIL "$dev$via (${io:-no result})"
done
m "DBG-DRIVERS unload" | grep -q ': ok' && tap OK "virtio_blk and nvme unbound and unloaded" ||
	tap FAIL "virtio_blk and nvme unbound and unloaded ($(m "DBG-DRIVERS"))"
m DBG-STATE | sed 's/^DBG-STATE /# state /'
end=$(m "DBG-STATE end")
echo "$end" | grep -q 'dma_api_errors=0 ' && tap OK "DMA-API debug: error_count 0" ||
	tap FAIL "DMA-API debug: ${end:-no state}"
echo "$end" | grep -q 'odebug_warnings=0 ' && tap OK "debugobjects: 0 warnings" ||
	tap FAIL "debugobjects: ${end:-no state}"
echo "$end" | grep -q 'debug_locks=1 ' && tap OK "lockdep still on (debug_locks 1)" ||
	tap FAIL "lockdep: ${end:-no state}"
leaks=$(m "DBG-KMEMLEAK end" | sed -n 's/.*end: \([0-9]*\) suspects/\1/p')
m DBG-KMEMLEAK-END | sed 's/^DBG-KMEMLEAK-END /# leak: /' | head -n 40
[ "${leaks:-x}" = 0 ] && tap OK "kmemleak: no new unreferenced object" ||
	tap FAIL "kmemleak: ${leaks:-?} new unreferenced objects"
taint=$(echo "$end" | sed -n 's/.*taint=\([0-9]*\).*/\1/p')
[ -n "$taint" ] && [ $((taint & ~(4096 | 8192))) = 0 ] &&
	tap OK "taint ${taint}: nothing beyond O/E" || tap FAIL "taint ${taint:-unknown}"
bad=$( (grep -E "$DEBUG_BAD" "$console"; grep 'DMA-API: ' "$console" | grep -vE "$DEBUG_DMA_OK") 2>/dev/null |
	head -n 8 || true)
[ -z "$bad" ] && tap OK "console: no report of any checker" ||
	tap FAIL "console: $(echo "$bad" | tr -d '\r' | tr '\n' '|')"
mark DBG-WATCHDOG && echo "# $(m DBG-WATCHDOG | head -n1)"
mark DBG-DONE && mark DBG-POWEROFF && ! mark DBG-WATCHDOG &&
	tap OK "finished and powered off by itself ($(m DBG-DONE | cut -d' ' -f2))" ||
	tap FAIL "finished and powered off by itself"
echo "1..$n"
[ $fails = 0 ]
