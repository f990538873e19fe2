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
#   DSW_TIME_SCALE  a kernel this many times slower (the debug tier): the
#                 watchdog and the per-test timeout scale with it
#   DSW_TESTS     comma-separated selftests to run (default all installed)
#   DSW_MEM, DSW_SMP  guest memory and vCPUs (default 1G, 2)
#   DSW_VARIANT   comma-separated boot options (the profiles' last column):
#                 "iommu" = q35 with an Intel IOMMU, "parallel" = the vCPUs
#                 run in parallel wherever that is reliable (DSW_PARALLEL,
#                 lib.sh: dsw_qemu), "reboot" = the machine is booted a
#                 second time (NAME-2, dsw.boot=2 on its command line) with
#                 the files the first boot kept (dsw_keep in
#                 selftests/lib/dsw.sh: only under /etc), as a disk would
#                 have kept them across a reboot, "secureboot" = the
#                 machine boots through UEFI Secure Boot (q35 with SMM,
#                 OVMF with Microsoft's keys, Debian's shim and grub, the
#                 kernel's own Debian signature; the DKMS key that signed
#                 the module enrolled as a MOK: secureboot.sh), with
#                 dsw.secureboot=1 on its command line
#   DSW_DEMO, DSW_BENCH  run selftests/demo.sh or bench.sh in that mode
#   DSW_SCRIPT    run this guest script instead (dsw.script=; DSW_ARGS its
#                 comma-separated arguments, DSW_FILES "SRC:DEST ..." host
#                 files put into the initramfs for it)
#   DSW_QEMU, DSW_ACCEL  which QEMU (host, trixie) and TCG mode (multi,
#                 single) instead of the target's (lib.sh, dsw_qemu)
#   DSW_MACHINE, DSW_DEVICES  QEMU machine and device classes (vm.sh)
#
# The run passes only if the guest reported its KTAP and powered off by
# itself, no test failed, and the console shows no panic, oops, BUG,
# WARNING or call trace. (The guest runs with panic_on_warn=1 and checks
# its own taint.)
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm.sh"

target=${1:?usage: boot.sh TARGET [NAME]}
name=${2:-selftests}
abi=$(dsw_target_abi "$target")
kdir=$(dsw_kernel_dir "$abi")
out="$DSW_RESULTS/$target"
scale=${DSW_TIME_SCALE:-1}
timeout=$((${DSW_TIMEOUT:-600} * scale))
mkdir -p "$out"

files=()
for f in ${DSW_FILES:-}; do files+=(--file "${f%%:*}" "${f#*:}"); done

append="console=ttyS0 panic=-1 oops=panic panic_on_warn=1 rdinit=/init"
append+=" swiotlb=${DSW_SWIOTLB:-4096,force} dsw.timeout=$timeout"
[ "$scale" = 1 ] || append+=" dsw.time_scale=$scale"
[ -n "${DSW_TESTS:-}" ] && append+=" dsw.tests=$DSW_TESTS"
[ -n "${DSW_DEMO:-}" ] && append+=" dsw.demo=$DSW_DEMO"
[ -n "${DSW_BENCH:-}" ] && append+=" dsw.bench=$DSW_BENCH"
[ -n "${DSW_SCRIPT:-}" ] && append+=" dsw.script=$DSW_SCRIPT"
[ -n "${DSW_ARGS:-}" ] && append+=" dsw.args=$DSW_ARGS"
append+=" dsw.host=1 ${DSW_APPEND:-}"
# Two scratch disks, sparse (recreated per boot): one virtio-blk that must
# go through the DMA API (iommu_platform=on), one NVMe.
vm_target=$target
variant=${DSW_VARIANT:-}
reboot=
secureboot=
for v in ${variant//,/ }; do
	case "$v" in
	iommu)
		vm_machine=q35
		vm_devices="intel-iommu $vm_devices"
		append+=" intel_iommu=on"
		;;
	parallel) export DSW_PARALLEL=1 ;;
	net|usb|sata) vm_devices+=" $v" ;;
	gpu)	# no console on its framebuffer: the picture is the test's
		vm_devices+=" $v"
		append+=" fbcon=map:9"
		;;
	reboot) reboot=1 ;;
	secureboot)
		vm_machine=q35,smm=on
		append+=" dsw.secureboot=1"
		secureboot=1
		;;
	*) dsw_die "boot option '$v': iommu, parallel, reboot, secureboot, net, usb, sata or gpu (selftests/qemu/profiles)" ;;
	esac
done
# initramfs.sh takes the classes' drivers (vm.sh: dsw_vm_modules).
export DSW_DEVICES=$vm_devices

# A kernel that has not reached /init by then hung in early boot: booted
# again (vm.sh: dsw_vm_agent, dsw_vm_boot). Boots reach /init in 15-30 s,
# the debug kernel's in 50-90 s. DSW_BOOT_DEADLINE overrides.
vm_boot_deadline=${DSW_BOOT_DEADLINE:-$((150 + 60 * scale))}

# boot_once NAME APPEND [--file SRC DEST]...: one boot with its own
# initramfs (the files added), judged; prints its verdict. Each boot has an
# initramfs file of its own: the boots of one target run side by side.
boot_once() {
	local bname=$1 bappend=$2 prefix console initrd rc fw
	shift 2

	initrd="$out/$bname.initrd.cpio.gz"
	"$(dirname "$0")/initramfs.sh" ${files[@]+"${files[@]}"} "$@" "$target" "$initrd" ||
		dsw_die "$target: initramfs failed"
	prefix="$out/$bname"
	console="$prefix.console"
	# Secure Boot: the firmware, its variables and the boot disk holding
	# shim, grub, the kernel and this initramfs.
	vm_firmware_args=()
	if [ -n "$secureboot" ]; then
		rc=0
		fw=$("$(dirname "$0")/secureboot.sh" "$target" "$initrd" "$bappend" "$prefix") || rc=$?
		if [ $rc = 4 ]; then
			echo "ok - boot $target $bname # SKIP no Secure Boot: $fw"
			return 0
		fi
		[ $rc = 0 ] || dsw_die "$target: secureboot.sh failed"
		mapfile -t vm_firmware_args <<<"$fw"
	fi
	dsw_vm_boot "$prefix" "$kdir/vmlinuz" "$initrd" "$bappend" $((timeout + 120))
	rm -f "$prefix.esp"

	# The KTAP stream as the guest wrote it on the marker port (OVMF puts
	# its console on both serial ports: a firmware boot's starts at /init).
	if [ -n "$secureboot" ]; then
		# grub ends its lines with LF CR: a marker may follow a CR.
		sed -i 's/\r//g' "$prefix.markers" 2>/dev/null
		sed -n '/^DSW-BOOTED/,$p' "$prefix.markers" 2>/dev/null | grep -v '^DSW-' >"$prefix.ktap"
	else
		grep -v '^DSW-' "$prefix.markers" >"$prefix.ktap" 2>/dev/null || true
	fi
	dsw_vm_judge "$prefix" $((timeout + 120)) DSW-BOOTED DSW-DONE DSW-POWEROFF
	dsw_vm_screens "$prefix"

	echo "# $target: $abi, console log: $console"
	echo "# qemu: $dsw_qemu_desc, -smp ${DSW_SMP:-2}, ran $vm_time"
	[ -n "$secureboot" ] && sed 's/^/# /' "$prefix.firmware"
	[ -n "$retried" ] && echo "# $retried"
	cat "$prefix.ktap"
	if [ ${#problems[@]} -eq 0 ]; then
		echo "ok - boot $target $bname: clean run and poweroff"
	else
		echo "not ok - boot $target $bname"
		for p in "${problems[@]}"; do echo "# $p"; done
		echo "# last console lines:"
		tail -n 25 "$console" 2>/dev/null | sed 's/^/#   /'
	fi
}

# kept_files PREFIX DIR: the files a boot kept ("DSW-KEEP PATH LINE" on
# its marker port, one line each, in order) rebuilt under DIR; prints
# initramfs.sh's --file arguments for them, one per line. A path outside
# /etc, or one that climbs with "..", is refused (the guest's output
# chooses host file names here).
kept_files() {
	local p=$1 dir=$2 line path rest

	rm -rf "$dir"
	while IFS= read -r line; do
		line=${line%$'\r'}
		line=${line#DSW-KEEP }
		path=${line%% *}
		rest=${line#"$path"}
		rest=${rest# }
		if ! [[ $path =~ ^/etc/[A-Za-z0-9._/-]+$ ]] || [[ $path == *..* ]]; then
			echo "# kept file refused: '$path'" >&2
			continue
		fi
		mkdir -p "$dir$(dirname "$path")"
		printf '%s\n' "$rest" >>"$dir$path"
	done < <(grep -a '^DSW-KEEP ' "$p.markers" 2>/dev/null)
	[ -d "$dir" ] || return 0
	(cd "$dir" && find . -type f | sed 's/^\.//') | while read -r path; do
		printf '%s\n' --file "$dir$path" "$path"
	done
}

boot_once "$name" "$append"
if [ -n "$reboot" ]; then
	mapfile -t kept < <(kept_files "$out/$name" "$out/$name.kept")
	echo "# $target $name: rebooting with $((${#kept[@]} / 3)) kept files: $(ls -R "$out/$name.kept" 2>/dev/null | tr '\n' ' ')"
	boot_once "$name-2" "$append dsw.boot=2" ${kept[@]+"${kept[@]}"}
fi
