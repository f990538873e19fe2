# SPDX-License-Identifier: GPL-2.0
# The one way the harness boots a guest and judges it (sourced, after
# lib.sh): boot.sh's selftest, demo and benchmark boots, bench/'s lab
# boots (lab-lib.sh) and the probes (mttcg-probe.sh). The guest's side is
# one initramfs (initramfs.sh) whose /init (init.sh) runs the script the
# kernel command line names and writes markers on the second serial port.
#
# A boot is named by a PREFIX (a path): PREFIX.console (the first serial
# port: the kernel console), PREFIX.markers (the second: init.sh's markers
# and the script's output), PREFIX.qemu (QEMU's own output),
# PREFIX.cmdline (the command line), and for the boot's duration the
# sparse scratch disks PREFIX.<disk>.img.
#
# The machine, set before dsw_vm_boot (defaults from the environment):
#   vm_target   whose QEMU and accelerator (dsw_qemu, lib.sh)
#   vm_machine  QEMU machine type (DSW_MACHINE, default pc)
#   vm_devices  device classes in order (DSW_DEVICES, default
#               "virtio-blk nvme"; see dsw_vm_devices; their drivers:
#               dsw_vm_modules)
#   vm_nvme_serial  the NVMe disk's serial number
#   DSW_MEM, DSW_SMP, DSW_DISK_SIZE  memory, vCPUs, disk size (1G, 2, 1G)

vm_target=${vm_target:-6.12}
vm_machine=${DSW_MACHINE:-pc}
vm_devices=${DSW_DEVICES:-virtio-blk nvme}
vm_nvme_serial=${vm_nvme_serial:-dsw0001}

# What a console must not show (boot.sh's judge, every caller's): the
# extended regular expressions of selftests/lib/kernel-bad.txt, one per
# line, which taint.sh also applies to the guest's dmesg: panics, oopses,
# BUGs (KASAN, sleeping in atomic context, soft lockups), WARNINGs,
# traces, debugobjects, DMA-API, UBSAN, lockdep and RCU reports, stalls,
# hung tasks, list corruption and kmemleak's reports.
DSW_CONSOLE_BAD=$(grep -v '^$' "$(dirname "${BASH_SOURCE[0]}")/../lib/kernel-bad.txt" | paste -sd'|')

# dsw_pack_initrd DIR OUT: an initramfs tree (initramfs.sh) as a gzipped
# newc cpio archive, renamed into place once complete (a QEMU that starts
# meanwhile never reads half an archive).
dsw_pack_initrd() {
	(cd "$1" && find . | cpio -o -H newc --quiet) | gzip -1 >"$2.tmp" &&
		mv -f "$2.tmp" "$2"
}

# dsw_vm_disk PREFIX NAME: a new sparse scratch disk; prints its path.
dsw_vm_disk() {
	local f=$1.$2.img

	truncate -s 0 "$f" && truncate -s "${DSW_DISK_SIZE:-1G}" "$f" && echo "$f"
}

# dsw_vm_devices PREFIX: QEMU's arguments for the device classes in
# vm_devices, in order, into the array vm_args (disks: dsw_vm_disk), and
# for each pluggable device its device_add arguments into vm_plug[ID]
# (dsw_vm_agent). Fixed PCI slots keep the guests' device names (the
# selftests look the disks up by ID and class; docs/testing.md). A new
# class (a NIC, USB, AHCI) is one more case; intel-iommu must come before
# the devices it translates (q35 machine). The classes net, usb, sata and
# gpu are the device-breadth boots' (boot options of the same names,
# selftests/qemu/profiles). Disks are -blockdev nodes: they
# outlive their device's device_del, so device_add can plug it back.
dsw_vm_devices() {
	local p=$1 d f

	vm_args=()
	declare -gA vm_plug=()
	for d in $vm_devices; do
		case "$d" in
		virtio-blk)	# through the DMA API: VIRTIO_F_ACCESS_PLATFORM
			f=$(dsw_vm_disk "$p" vda) || return 1
			vm_plug[vda]="virtio-blk-pci,id=vda,drive=d0,iommu_platform=on,disable-legacy=on,addr=04.0"
			vm_args+=(-blockdev "$(dsw_vm_blockdev d0 "$f")" -device "${vm_plug[vda]}")
			;;
		nvme)	# MDTS 2^9 pages (2 MiB; QEMU's default is 512 KiB), as
			# many real controllers: what limits a request is then
			# the DMA layer's largest mapping (growing.sh)
			f=$(dsw_vm_disk "$p" nvme) || return 1
			vm_plug[nvme0]="nvme,id=nvme0,serial=$vm_nvme_serial,drive=d1,mdts=9,addr=05.0"
			vm_args+=(-blockdev "$(dsw_vm_blockdev d1 "$f")" -device "${vm_plug[nvme0]}")
			;;
		net)	# two NICs on one QEMU hub, joined to nothing else
			vm_args+=(-netdev hubport,id=h0,hubid=0 -netdev hubport,id=h1,hubid=0
				-device "virtio-net-pci,netdev=h0,iommu_platform=on,disable-legacy=on,mac=52:54:00:d5:00:01,addr=06.0"
				-device "e1000e,netdev=h1,mac=52:54:00:d5:00:02,addr=07.0")
			;;
		usb)	# a USB mass-storage disk (bulk-only) behind xHCI
			f=$(dsw_vm_disk "$p" usb) || return 1
			vm_args+=(-device qemu-xhci,id=xhci,addr=08.0
				-blockdev "$(dsw_vm_blockdev d2 "$f")"
				-device usb-storage,bus=xhci.0,drive=d2,serial=dswusb0001)
			;;
		sata)	# a SATA disk on an AHCI controller
			f=$(dsw_vm_disk "$p" sata) || return 1
			vm_args+=(-device ich9-ahci,id=ahci,addr=09.0
				-blockdev "$(dsw_vm_blockdev d3 "$f")"
				-device ide-hd,bus=ahci.0,drive=d3,serial=dswsata0001)
			;;
		gpu)	# a virtio GPU whose framebuffer goes through the DMA API
			vm_args+=(-device "virtio-gpu-pci,iommu_platform=on,disable-legacy=on,xres=1024,yres=768,addr=0a.0")
			;;
		intel-iommu) vm_args+=(-device intel-iommu,intremap=off) ;;
		*) dsw_die "unknown device class '$d' (vm.sh: dsw_vm_devices)" ;;
		esac
	done
}

# dsw_vm_modules: the guest's driver modules for the device classes in
# vm_devices (initramfs.sh; with their dependencies). sd_mod is no
# dependency of the SCSI host drivers: it is named.
dsw_vm_modules() {
	local d mods="virtio_pci virtio_blk nvme"

	for d in $vm_devices; do
		case "$d" in
		net) mods+=" virtio_net e1000e" ;;
		usb) mods+=" xhci_pci usb_storage sd_mod" ;;
		sata) mods+=" ahci sd_mod" ;;
		gpu) mods+=" virtio_gpu" ;;
		esac
	done
	echo "$mods"
}

# dsw_vm_blockdev NODE FILE: a raw image as a -blockdev node; the host's
# page cache and no flushes (what -drive cache=unsafe gave).
dsw_vm_blockdev() {
	echo "node-name=$1,driver=raw,file.driver=file,file.filename=$2,cache.direct=off,cache.no-flush=on"
}

# dsw_vm_agent PREFIX PID READER: the host's side of a guest's requests,
# until PREFIX.agent-stop exists or the process PID (the booting shell) is
# gone (interrupted); then it stops READER, the monitor's reader, too. A guest writes "DSW-HOST unplug ID" or
# "DSW-HOST plug ID" on the marker port (dsw_host, selftests/lib/dsw.sh);
# the agent sends QEMU's monitor (the pipe PREFIX.hmp.in, opened
# read-write: never waits for QEMU) device_del ID,
# or device_add with the arguments vm_plug[ID] recorded, the way a
# machine's hot-plug controller would see a device pulled and pushed
# back; "DSW-HOST screendump NAME" (NAME of a-z, 0-9 and -) saves what the
# machine's display shows as PREFIX.screen-NAME.ppm (the monitor's
# screendump: the scanout of a GPU, as a monitor cable would carry it).
# Each request is logged in PREFIX.host (QEMU's answers, errors
# included, in PREFIX.hmp.log); anything else is refused there. With
# vm_boot_deadline set (seconds), a guest that has not reached /init by
# then (no DSW-BOOTED marker: a kernel hung in early boot) is ended with
# the monitor's quit, so that dsw_vm_boot can boot it again at once.
# With DSW_PIN_VCPUS=1 and parallel vCPUs (thread=multi), vCPU i's host
# thread (the monitor's "info cpus") is bound to host CPU i mod the
# host's CPUs, logged in PREFIX.host (dsw_vm_pinned counts them): the
# benchmark's parallel mode.
dsw_vm_agent() {
	local p=$1 parent=$2 reader=$3 n=0 line verb id booted= t0=$SECONDS
	local pin= tid i

	[ "${DSW_PIN_VCPUS:-}" = 1 ] && [ "$dsw_qemu_accel" = tcg,thread=multi ] && pin=ask
	while [ ! -e "$p.agent-stop" ] && kill -0 "$parent" 2>/dev/null; do
		sleep 0.5
		# asked again until every vCPU's thread is listed (a request
		# written before QEMU opened the monitor's pipe is lost)
		if [ "$pin" = ask ] && [ "$(grep -ao 'thread_id=[0-9]*' "$p.hmp.log" 2>/dev/null |
				sort -u | wc -l)" -lt "${DSW_SMP:-2}" ]; then
			echo "info cpus" 1<>"$p.hmp.in"
		elif [ "$pin" = ask ]; then
			i=0
			for tid in $(grep -ao 'thread_id=[0-9]*' "$p.hmp.log" | cut -d= -f2 |
					awk '!seen[$0]++' | head -n "${DSW_SMP:-2}"); do
				echo "$(date +%T) pin vCPU $i (thread $tid) to host CPU $((i % $(nproc))):" \
					"$(taskset -pc $((i % $(nproc))) "$tid" 2>&1 | tail -n1)" >>"$p.host"
				i=$((i + 1))
			done
			pin=done
		fi
		if [ -z "$booted" ] && grep -q '^DSW-BOOTED' "$p.markers" 2>/dev/null; then
			booted=1
		elif [ -z "$booted" ] && [ "${vm_boot_deadline:-0}" -gt 0 ] &&
				[ $((SECONDS - t0)) -ge "$vm_boot_deadline" ]; then
			echo "$(date +%T) no DSW-BOOTED after ${vm_boot_deadline}s: quit" >>"$p.host"
			echo quit 1<>"$p.hmp.in"
			booted=quit
		fi
		while IFS= read -r line; do
			n=$((n + 1))
			line=${line%$'\r'}
			read -r _ verb id _ <<<"$line"
			if [ "$verb" = screendump ] && [[ $id =~ ^[a-z0-9-]+$ ]]; then
				echo "screendump $p.screen-$id.ppm" 1<>"$p.hmp.in"
			elif [ "$verb" = unplug ] && [ -n "${vm_plug[$id]:-}" ]; then
				echo "device_del $id" 1<>"$p.hmp.in"
			elif [ "$verb" = plug ] && [ -n "${vm_plug[$id]:-}" ]; then
				echo "device_add ${vm_plug[$id]}" 1<>"$p.hmp.in"
			else
				echo "$(date +%T) refused: $line" >>"$p.host"
				continue
			fi
			echo "$(date +%T) $line" >>"$p.host"
		done < <(grep -a '^DSW-HOST ' "$p.markers" 2>/dev/null | tail -n +$((n + 1)))
	done
	kill "$reader" 2>/dev/null
}

# dsw_vm_run PREFIX KERNEL INITRD APPEND SECONDS: one boot, QEMU killed
# after SECONDS; the scratch disks are deleted after it. Returns QEMU's
# (or timeout's) status; sets vm_time, how long QEMU ran ("12.3 s").
# With the array vm_firmware_args set (boot.sh's secureboot option:
# selftests/qemu/secureboot.sh), the machine boots from its firmware
# with those arguments (flash, boot disk) instead of -kernel, -initrd and
# -append: KERNEL, INITRD and APPEND are then on its boot disk already.
dsw_vm_run() {
	local p=$1 kernel=$2 initrd=$3 append=$4 seconds=$5 rc=0
	local cmd t0 ms agent reader boot

	dsw_qemu "$vm_target"
	rm -f "$p.console" "$p.markers" "$p.host" "$p.hmp".* "$p.agent-stop" "$p".screen-*.ppm
	dsw_vm_devices "$p" || return 1
	mkfifo "$p.hmp.in" "$p.hmp.out" || return 1
	boot=(-kernel "$kernel" -initrd "$initrd" -append "$append")
	[ -n "${vm_firmware_args[*]:-}" ] && boot=("${vm_firmware_args[@]}")
	cmd=("${dsw_qemu_cmd[@]}" -machine "$vm_machine" -accel "$dsw_qemu_accel" -cpu max
		-m "${DSW_MEM:-1G}" -smp "${DSW_SMP:-2}"
		-nodefaults -nographic -no-reboot
		-chardev "pipe,id=hmp,path=$p.hmp" -mon chardev=hmp,mode=readline
		-serial "file:$p.console" -serial "file:$p.markers"
		"${boot[@]}" "${vm_args[@]}")
	echo "${cmd[*]}" >"$p.cmdline"
	# The monitor's output, so that its pipe never fills; opened read-write
	# so that neither side waits for the other.
	cat <>"$p.hmp.out" >"$p.hmp.log" &
	reader=$!
	dsw_vm_agent "$p" "$BASHPID" "$reader" &
	agent=$!
	t0=$(date +%s%N)
	timeout --foreground -k 10 "$seconds" "${cmd[@]}" </dev/null >"$p.qemu" 2>&1 || rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	vm_time="$((ms / 1000)).$((ms % 1000 / 100)) s"
	touch "$p.agent-stop"
	wait "$agent"
	wait "$reader" 2>/dev/null
	# The monitor echoes each key with cursor moves: keep what it shows.
	sed -i 's/.*\x1b\[D//; s/\x1b\[K//g; s/\r//g' "$p.hmp.log"
	rm -f "$p".*.img "$p.hmp.in" "$p.hmp.out" "$p.agent-stop"
	return $rc
}

# dsw_vm_boot PREFIX KERNEL INITRD APPEND SECONDS: dsw_vm_run, and once
# more if the kernel died or hung before /init (no DSW-BOOTED marker): it
# never ran the guest's side. Under TCG an early oops has been seen once in
# many boots, and with parallel vCPUs a 7.3 hung right after bringing up
# its second CPU (early boot patches the most text: lib.sh, dsw_qemu); a
# parallel boot is tried again single-threaded. So is a parallel boot
# whose vCPUs lost a timer (see below): the whole boot is run again, and
# the second must pass on its own. Sets qrc (QEMU's status)
# and retried (empty, or what happened); the first console is kept as
# PREFIX.console.first-attempt.
dsw_vm_boot() {
	local p=$1 try DSW_ACCEL=${DSW_ACCEL:-}

	retried=
	for try in 1 2; do
		qrc=0
		dsw_vm_run "$@" || qrc=$?
		[ $try = 2 ] && break
		if ! grep -q '^DSW-BOOTED' "$p.markers" 2>/dev/null; then
			retried="first boot died or hung before /init"
		elif [ "$dsw_qemu_accel" = tcg,thread=multi ] &&
			grep -q "kthread timer wakeup didn't happen" "$p.console" 2>/dev/null; then
			# Multi-threaded TCG lost a halted vCPU's timer: RCU's
			# kthread timer never fired, the stalled CPU idle in
			# halt with its timer softirq count frozen (seen once on
			# 6.1 after a PCI rescan; never single-threaded). The
			# emulator's, not the kernel's: the whole boot again,
			# single-threaded, must pass on its own.
			retried="first boot's vCPUs lost a timer (RCU: kthread timer wakeup didn't happen)"
		else
			break
		fi
		cp "$p.console" "$p.console.first-attempt" 2>/dev/null
		retried+=" (console: $p.console.first-attempt); booted again"
		if [ "$dsw_qemu_accel" = tcg,thread=multi ]; then
			DSW_ACCEL=single
			retried+=", single-threaded"
		fi
	done
}

# dsw_console_bad FILE: the first lines of a console log that match
# DSW_CONSOLE_BAD.
dsw_console_bad() {
	grep -E "$DSW_CONSOLE_BAD" "$1" 2>/dev/null | head -n 5 || true
}

# dsw_vm_judge PREFIX SECONDS MARKER...: the boot's problems into the
# array problems (empty: clean): QEMU's status qrc (killed after
# SECONDS), every MARKER on the marker port, no guest watchdog, nothing
# bad on the console.
dsw_vm_judge() {
	local p=$1 seconds=$2 m w bad first=1

	shift 2
	problems=()
	case $qrc in
	0) ;;
	124|137) problems+=("host timeout: QEMU killed after ${seconds}s") ;;
	*) problems+=("QEMU exited $qrc: $(head -c 300 "$p.qemu")") ;;
	esac
	for m in "$@"; do
		if ! grep -q "^$m" "$p.markers" 2>/dev/null; then
			case "$m" in
			DSW-BOOTED) problems+=("guest never reached /init") ;;
			DSW-DONE) problems+=("selftests did not finish") ;;
			DSW-POWEROFF) problems+=("no clean poweroff") ;;
			*) problems+=("no $m marker") ;;
			esac
		fi
		if [ -n "$first" ]; then	# the watchdog explains what follows
			first=
			w=$(grep -m1 '^DSW-WATCHDOG' "$p.markers" 2>/dev/null) &&
				problems+=("guest watchdog fired: $w")
		fi
	done
	bad=$(dsw_console_bad "$p.console")
	[ -n "$bad" ] && problems+=("console: $(echo "$bad" | tr '\n' '|')")
	return 0
}

# dsw_vm_screens PREFIX: the screendumps a guest asked the host to judge
# ("DSW-SCREEN NAME SEED" on the marker port, after "DSW-HOST screendump
# NAME"): PREFIX.screen-NAME.ppm must show every pixel of SEED's picture
# (selftests/fbdraw.c, built for the guest and run here). A problem is
# added to the array problems for each that does not; one line per
# screen is printed.
dsw_vm_screens() {
	local p=$1 name seed out fbdraw="$DSW_TOP/selftests/build/fbdraw"

	while read -r _ name seed _; do
		seed=${seed%$'\r'}
		[[ $name =~ ^[a-z0-9-]+$ ]] || continue
		if [ ! -s "$p.screen-$name.ppm" ]; then
			problems+=("screen $name: no screendump ($p.screen-$name.ppm)")
		elif out=$("$fbdraw" check "$seed" "$p.screen-$name.ppm" 2>&1); then
			echo "# screen $name (seed $seed): $out"
		else
			problems+=("screen $name (seed $seed): $out")
		fi
	done < <(grep -a '^DSW-SCREEN ' "$p.markers" 2>/dev/null)
}

