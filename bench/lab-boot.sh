#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lab-boot.sh [MODULE.ko]: smoke-boot the lab kernel (bench/lab-kernel.sh)
# under QEMU/TCG, the way the harness boots Debian's kernels, with a 256 KiB
# swiotlb pool (swiotlb=128,1,force), a virtio-blk disk that goes through
# the DMA API (iommu_platform=on) and an NVMe disk, and show that the
# kernel's own swiotlb grows:
#   - the boot log's swiotlb lines and the debugfs files (swiotlb/);
#   - per disk, 8 parallel 1 MiB direct writers then readers (8 x 16 MiB),
#     checksums compared, with swiotlb's debugfs counters (io_tlb_nslabs,
#     io_tlb_used, io_tlb_used_hiwater, io_tlb_transient_nslabs) before and
#     after: the pool must grow, and the I/O must complete without an I/O
#     error, a "swiotlb buffer is full" line or a failed pool allocation;
#   - if MODULE.ko (dynswiotlb.ko built against the lab tree) is given: it
#     loads, attaches to the (unbound) disk saying that the kernel's pool
#     grows by itself, detaches and unloads (the test suite's lab target
#     runs the I/O through it: selftests/growing.sh).
# virtio_pci is built in; virtio_blk and nvme are the lab kernel's modules,
# loaded by the guest's modprobe as on Debian. The initramfs, /init, QEMU
# and the console judge are the harness's (lab-lib.sh, selftests/qemu/).
#
# Logs: $DSW_RESULTS/lab/smoke.{console,markers}. Prints TAP; exits non-zero
# on any failure. DSW_LAB_VERSION picks a cached lab kernel (default: the
# last built); DSW_SWIOTLB, DSW_MEM, DSW_SMP, DSW_TIMEOUT as for boot.sh;
# DSW_LAB_IMAGE=vmlinux boots the PVH entry instead of bzImage.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/../selftests/qemu/lib.sh"
. "$bench/lab-lib.sh"

ko=${1:-}
lab_find
timeout=${DSW_TIMEOUT:-300}
"$DSW_TOP/selftests/qemu/setup-host.sh"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The guest's side, run by the harness's /init (init.sh: its watchdog,
# markers and poweroff) from the harness's initramfs (lab-lib.sh: busybox,
# kmod, the lab modules, the module under test in extra/, the selftests
# with their guest helpers lib/dsw.sh). Its output, the LAB-* lines among
# it, reaches the marker port.
cat >"$work/lab-smoke.sh" <<'SMOKE'
#!/bin/sh
# The lab smoke boot's guest side (written by bench/lab-boot.sh).
. /selftests/lib/dsw.sh
marker() { echo "$*"; }
tlb=/sys/kernel/debug/swiotlb
val() { cat "$tlb/$1" 2>/dev/null || echo -; }
pool() {
	echo "nslabs=$(val io_tlb_nslabs) used=$(val io_tlb_used)" \
		"hiwater=$(val io_tlb_used_hiwater) transient=$(val io_tlb_transient_nslabs)"
}

marker "LAB-BOOTED $(uname -r)"
marker "LAB-INFO debugfs swiotlb/: $(ls "$tlb" | tr '\n' ' ')"
marker "LAB-POOL boot: $(pool)"
dmesg | grep -E 'Linux version|software IO TLB|swiotlb' | grep -v 'ommand line' |
	sed 's/^/LAB-DMESG /'

dsw_load_drivers >/dev/null 2>&1 || marker "LAB-FAIL modprobe virtio_blk nvme"
dsw_wait_dev /dev/vda 10
dsw_wait_dev /dev/nvme0n1 10

# The load: 8 parallel direct-I/O writers, then readers checking sums.
jobs=8
mib=16
head -c $((mib * 1048576)) /dev/urandom >/tmp/pattern

for dev in vda nvme0n1; do
	if [ ! -b /dev/$dev ]; then
		marker "LAB-FAIL $dev: no disk"
		continue
	fi
	marker "LAB-POOL $dev before: $(pool)"
	echo 0 >"$tlb/io_tlb_used_hiwater"
	t0=$(date +%s)
	dsw_io_write /dev/$dev /tmp/pattern $jobs $mib && w=ok || w=FAIL
	echo 3 >/proc/sys/vm/drop_caches
	dsw_io_verify /dev/$dev /tmp/pattern $jobs $mib && r=ok || r=FAIL
	t1=$(date +%s)
	marker "LAB-IO $dev write=$w read=$r seconds=$((t1 - t0))"
	marker "LAB-POOL $dev after: $(pool)"
done
marker "LAB-COUNT full=$(dmesg | grep -c 'swiotlb buffer is full') poolfail=$(dmesg | grep -c 'Failed to allocate new pool') ioerr=$(dmesg | grep -ciE 'I/O error|blk_update_request|critical')"

# dynswiotlb built against this kernel: loads, attaches the disk.
if [ -f /lib/modules/$(uname -r)/extra/dynswiotlb.ko ]; then
	if modprobe dynswiotlb; then
		dsw_unbind "$DSW_VIRTIO_BDF"
		if err=$(dsw_write "$DSW_SYSFS/attach" "$DSW_VIRTIO_BDF"); then
			marker "LAB-MODULE attach $DSW_VIRTIO_BDF: accepted"
			dsw_write "$DSW_SYSFS/detach" "$DSW_VIRTIO_BDF" ||
				marker "LAB-MODULE detach failed"
		else
			marker "LAB-MODULE attach $DSW_VIRTIO_BDF: refused (${err##*: })"
		fi
		dmesg | grep 'dynswiotlb:' | sed 's/^/LAB-MODULE-LOG /'
		rmmod dynswiotlb && marker "LAB-MODULE unloaded" || marker "LAB-MODULE unload failed"
	else
		marker "LAB-MODULE load failed: $(dmesg | tail -n 2 | tr '\n' ' ')"
	fi
fi
marker "LAB-TAINT $(cat /proc/sys/kernel/tainted)"
marker "LAB-DONE"
SMOKE
chmod 755 "$work/lab-smoke.sh"
initrd="$out/smoke.initrd.cpio.gz"
lab_initrd --file "$work/lab-smoke.sh" /lab-smoke.sh "$initrd" ${ko:+"$ko"}

console="$out/smoke.console"
markers="$out/smoke.markers"
append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 rdinit=/init"
append+=" swiotlb=${DSW_SWIOTLB:-128,1,force} dsw.timeout=$timeout dsw.script=/lab-smoke.sh"
append+=" ${DSW_APPEND:-}"
t0=$(date +%s)
lab_boot smoke "$initrd" "$append" $((timeout + 60))
t1=$(date +%s)

# Judge it.
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
# The marker port's lines end in CR LF.
m() { tr -d '\r' <"$markers" 2>/dev/null | grep "^$1" || true; }
mark() { grep -q "^$1" "$markers" 2>/dev/null; }

echo "TAP version 13"
echo "# lab kernel $krel ($image), QEMU ${qrc}, $((t1 - t0)) s; console: $console"
echo "# qemu: $(cat "$out/smoke.cmdline")"
[ -n "$retried" ] && echo "# $retried"
m LAB-DMESG | sed 's/^LAB-DMESG /# boot: /'
m LAB-INFO | sed 's/^LAB-INFO /# /'
m "LAB-POOL boot" | sed 's/^LAB-POOL /# /'
mark LAB-BOOTED && tap OK "boots to /init ($(m LAB-BOOTED | cut -d' ' -f2))" || tap FAIL "boots to /init"
grep -q "^CONFIG_SWIOTLB_DYNAMIC=y" "$lab/config" && m LAB-INFO | grep -q io_tlb_transient_nslabs &&
	tap OK "SWIOTLB_DYNAMIC: debugfs swiotlb/io_tlb_transient_nslabs exists" ||
	tap FAIL "SWIOTLB_DYNAMIC: debugfs swiotlb/io_tlb_transient_nslabs exists"
m LAB-FAIL | sed 's/^/# /'
for dev in vda nvme0n1; do
	io=$(m "LAB-IO $dev ")
	m "LAB-POOL $dev " | sed 's/^LAB-POOL /# /'
	echo "$io" | grep -q 'write=ok read=ok' &&
		tap OK "$dev: 8 parallel 1 MiB direct writers, then readers: checksums match (${io##*=} s)" ||
		tap FAIL "$dev: 8 parallel 1 MiB direct writers, then readers (${io:-no result})"
done
# nslabs counts every pool; the dynamic ones are added 'swiotlb=' slabs at a
# time by a worker and stay.
slabs() { m "LAB-POOL $1" | sed -n 's/.* nslabs=\([0-9]*\) .*/\1/p'; }
boot=$(slabs boot)
end=$(slabs "nvme0n1 after")
if [ -n "$boot" ] && [ -n "$end" ] && [ "$end" -gt "$boot" ]; then
	tap OK "the kernel's swiotlb grew: $boot -> $end slabs ($(((end - boot) * 2)) KiB added)"
else
	tap FAIL "the kernel's swiotlb grew (${boot:-?} -> ${end:-?} slabs)"
fi
count=$(m LAB-COUNT)
echo "# ${count#LAB-COUNT }"
echo "$count" | grep -q 'full=0 poolfail=0 ioerr=0' &&
	tap OK "no 'swiotlb buffer is full', no failed pool allocation, no I/O error" ||
	tap FAIL "no 'swiotlb buffer is full', no failed pool allocation, no I/O error"
if [ -n "$ko" ]; then
	m LAB-MODULE-LOG | sed 's/^LAB-MODULE-LOG /# module: /'
	m "LAB-MODULE attach" | grep -q 'accepted' &&
		m LAB-MODULE-LOG | grep -q 'growing by itself (CONFIG_SWIOTLB_DYNAMIC)' &&
		m LAB-MODULE | grep -q 'LAB-MODULE unloaded' &&
		tap OK "dynswiotlb.ko loads, attaches next to the growing pool, unloads" ||
		tap FAIL "dynswiotlb.ko loads, attaches next to the growing pool, unloads ($(m 'LAB-MODULE' | tr '\n' ' '))"
fi
taint=$(m LAB-TAINT | cut -d' ' -f2)
# O (4096) and E (8192) are what an out-of-tree, unsigned module leaves.
[ -n "$taint" ] && [ $((taint & ~(4096 | 8192))) = 0 ] &&
	tap OK "taint ${taint}: nothing beyond O/E" || tap FAIL "taint ${taint:-unknown}"
bad=$(lab_console_bad "$console")
[ -z "$bad" ] && tap OK "console: no panic, oops, BUG or WARNING" ||
	tap FAIL "console: $(echo "$bad" | tr '\n' '|')"
mark DSW-WATCHDOG && echo "# $(m DSW-WATCHDOG | head -n1)"
mark LAB-DONE && mark DSW-POWEROFF && ! mark DSW-WATCHDOG &&
	tap OK "finished and powered off by itself" || tap FAIL "finished and powered off by itself"
echo "1..$n"
[ $fails = 0 ]
