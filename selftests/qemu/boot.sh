#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# boot.sh TARGET [NAME]: boot TARGET's Debian kernel under QEMU/TCG with the
# DKMS-built module and the selftests, and judge the run. Logs go to
# $DSW_RESULTS/TARGET/NAME.{console,markers,ktap}.
#
# Environment:
#   DSW_SWIOTLB   guest swiotlb= option (default: 4096,force; a 8 MiB pool;
#                 5.10 takes no area count)
#   DSW_APPEND    extra kernel command line
#   DSW_TIMEOUT   guest watchdog in seconds (default 600); the host kills
#                 QEMU 120 s after it
#   DSW_TESTS     comma-separated selftests to run (default all installed)
#   DSW_MEM, DSW_SMP  guest memory and vCPUs (default 1G, 2)
#   DSW_VARIANT   machine variant: "iommu" = q35 with an Intel IOMMU
#   DSW_DEMO, DSW_BENCH  run selftests/demo.sh or bench.sh in that mode
#
# The run passes only if the guest reported its KTAP and powered off by
# itself, no test failed, and the console shows no panic, oops, BUG,
# WARNING or call trace. (The guest runs with panic_on_warn=1 and checks
# its own taint.)
set -uo pipefail
. "$(dirname "$0")/lib.sh"

target=${1:?usage: boot.sh TARGET [NAME]}
name=${2:-selftests}
abi=$(dsw_target_abi "$target")
kdir=$(dsw_kernel_dir "$abi")
out="$DSW_RESULTS/$target"
timeout=${DSW_TIMEOUT:-600}
mkdir -p "$out"

initrd="$out/initrd.cpio.gz"
"$(dirname "$0")/initramfs.sh" "$target" "$initrd" || dsw_die "$target: initramfs failed"

# Two scratch disks, sparse (recreated per boot): one virtio-blk that must
# go through the DMA API (iommu_platform=on), one NVMe.

append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 rdinit=/init"
append+=" swiotlb=${DSW_SWIOTLB:-4096,force} dsw.timeout=$timeout"
[ -n "${DSW_TESTS:-}" ] && append+=" dsw.tests=$DSW_TESTS"
[ -n "${DSW_DEMO:-}" ] && append+=" dsw.demo=$DSW_DEMO"
[ -n "${DSW_BENCH:-}" ] && append+=" dsw.bench=$DSW_BENCH"
append+=" ${DSW_APPEND:-}"
machine=(-machine pc)
case "${DSW_VARIANT:-}" in
iommu)
	machine=(-machine q35 -device intel-iommu,intremap=off)
	append+=" intel_iommu=on"
	;;
esac

console="$out/$name.console"
markers="$out/$name.markers"
run_qemu() {
	rm -f "$console" "$markers"
	truncate -s 0 "$out/vda.img" "$out/nvme.img"
	truncate -s "${DSW_DISK_SIZE:-1G}" "$out/vda.img" "$out/nvme.img"
	timeout --foreground -k 10 $((timeout + 120)) \
		qemu-system-x86_64 "${machine[@]}" -accel "$(dsw_target_accel "$target")" -cpu max \
		-m "${DSW_MEM:-1G}" -smp "${DSW_SMP:-2}" \
		-nodefaults -nographic -no-reboot -monitor none \
		-serial "file:$console" -serial "file:$markers" \
		-kernel "$kdir/vmlinuz" -initrd "$initrd" -append "$append" \
		-drive "file=$out/vda.img,if=none,id=d0,format=raw,cache=unsafe" \
		-device virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on,addr=04.0 \
		-drive "file=$out/nvme.img,if=none,id=d1,format=raw,cache=unsafe" \
		-device nvme,serial=dsw0001,drive=d1,addr=05.0 \
		</dev/null >"$out/$name.qemu" 2>&1
}
run_qemu
qrc=$?
# A kernel that dies before /init never ran our code: under TCG that has
# been seen once in many boots (an early int3 oops in sched_clock_cpu).
# Boot once more, and say so.
retried=
if ! grep -q '^DSW-BOOTED' "$markers" 2>/dev/null; then
	cp "$console" "$console.first-attempt" 2>/dev/null
	retried="first boot died before /init (console: $console.first-attempt); booted again"
	run_qemu
	qrc=$?
fi
rm -f "$out/vda.img" "$out/nvme.img"

# The KTAP stream as the guest wrote it on the marker port.
grep -v '^DSW-' "$markers" >"$out/$name.ktap" 2>/dev/null || true

problems=()
[ $qrc -eq 124 ] || [ $qrc -eq 137 ] && problems+=("host timeout: QEMU killed after $((timeout + 120))s")
[ $qrc -ne 0 ] && [ $qrc -ne 124 ] && [ $qrc -ne 137 ] && problems+=("QEMU exited $qrc: $(head -c 300 "$out/$name.qemu")")
grep -q '^DSW-BOOTED' "$markers" 2>/dev/null || problems+=("guest never reached /init")
grep -q '^DSW-WATCHDOG' "$markers" 2>/dev/null && problems+=("guest watchdog fired: $(grep -m1 '^DSW-WATCHDOG' "$markers")")
grep -q '^DSW-DONE' "$markers" 2>/dev/null || problems+=("selftests did not finish")
grep -q '^DSW-POWEROFF' "$markers" 2>/dev/null || problems+=("no clean poweroff")
bad=$(grep -E 'Kernel panic|BUG:|Oops|WARNING:|Call Trace|general protection' "$console" 2>/dev/null | head -n 5)
[ -n "$bad" ] && problems+=("console: $(echo "$bad" | tr '\n' '|')")

echo "# $target: $abi, console log: $console"
[ -n "$retried" ] && echo "# $retried"
cat "$out/$name.ktap"
if [ ${#problems[@]} -eq 0 ]; then
	echo "ok - boot $target $name: clean run and poweroff"
else
	echo "not ok - boot $target $name"
	for p in "${problems[@]}"; do echo "# $p"; done
	echo "# last console lines:"
	tail -n 25 "$console" 2>/dev/null | sed 's/^/#   /'
fi
