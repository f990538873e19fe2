# SPDX-License-Identifier: GPL-2.0
# Shared by lab-boot.sh, lab-bench.sh and lab-io.sh (sourced, after
# selftests/qemu/lib.sh): the cached lab kernel, an initramfs for it and
# its QEMU command line, which is the harness's (boot.sh).

# lab_find: the cached lab kernel, DSW_LAB_VERSION or the last built. Sets
# lab (its cache directory), krel (its release), image (DSW_LAB_IMAGE,
# default bzImage; vmlinux boots the PVH entry) and out
# ($DSW_RESULTS/lab, created).
lab_find() {
	lab="$DSW_CACHE/lab/${DSW_LAB_VERSION:-current}"
	[ -s "$lab/.ready" ] || dsw_die "no lab kernel in $lab (run bench/lab-kernel.sh)"
	lab=$(cd "$lab" && pwd -P)
	krel=$(cat "$lab/kernelrelease")
	image="$lab/${DSW_LAB_IMAGE:-bzImage}"
	out="$DSW_RESULTS/lab"
	mkdir -p "$out"
}

# lab_copy_with_libs ROOT BIN...: host binaries into ROOT/bin, with the
# shared libraries they need at their own paths (initramfs.sh's
# copy_with_libs, for the lab's tree).
lab_copy_with_libs() {
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

# lab_root [--fio] [--selftests] DIR [KO...]: an initramfs tree in DIR for
# the lab kernel: busybox-static, kmod's tools with their libraries (as on
# the harness's guests: lib/dsw.sh calls them by path), the lab kernel's
# modules and each KO in extra/. The host's depmod writes modules.dep for
# the host's kmod that reads it in the guest. DIR gets /init from the
# caller, except with --selftests: the installed selftests
# (`make -C selftests install`) and the harness's init.sh as /init, as on
# the harness's guests. --fio: Debian's fio with its libraries, for the
# real-I/O benchmark (bench_io.sh) only, as initramfs.sh does: 84 MB.
lab_root() {
	local fio= tests= root t

	while :; do
		case "$1" in
		--fio) fio=1 ;;
		--selftests) tests=1 ;;
		*) break ;;
		esac
		shift
	done
	root=$1
	shift
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,usr/sbin,lib/modules}
	chmod 755 "$root"	# the guest's /: mktemp's 0700 would shut out other users
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	lab_copy_with_libs "$root" /bin/kmod
	for t in modprobe insmod rmmod lsmod modinfo depmod; do
		ln -s /bin/kmod "$root/usr/sbin/$t"
	done
	[ -n "$fio" ] && lab_copy_with_libs "$root" /usr/bin/fio
	if [ -n "$tests" ]; then
		cp "$DSW_TOP/selftests/qemu/init.sh" "$root/init"
		chmod 755 "$root/init"
		make -s -C "$DSW_TOP/selftests" install INSTALL_PATH="$root/selftests" >/dev/null ||
			dsw_die "lab: make -C selftests install failed"
	fi
	cp -a "$lab/modules/lib/modules/$krel" "$root/lib/modules/"
	rm -f "$root/lib/modules/$krel/build" "$root/lib/modules/$krel/source"
	mkdir -p "$root/lib/modules/$krel/extra"
	for t in "$@"; do
		cp "$t" "$root/lib/modules/$krel/extra/"
	done
	depmod -b "$root" "$krel"
}

# lab_pack DIR OUT: DIR as a gzipped newc cpio archive.
lab_pack() {
	(cd "$1" && find . | cpio -o -H newc --quiet) | gzip -1 >"$2"
}

# lab_qemu NAME INITRD APPEND SECONDS: boot the lab kernel under QEMU/TCG
# as boot.sh boots Debian's: DSW_MEM and DSW_SMP (default 1G, 2), the
# console on the first serial port ($out/NAME.console), markers on the
# second ($out/NAME.markers), two sparse scratch disks of DSW_DISK_SIZE
# (default 1G; virtio-blk through the DMA API, NVMe), QEMU killed after
# SECONDS. Returns QEMU's
# (or timeout's) status; the command line is in $out/NAME.cmdline.
lab_qemu() {
	local name=$1 initrd=$2 append=$3 seconds=$4 rc=0
	local cmd

	rm -f "$out/$name.console" "$out/$name.markers"
	truncate -s 0 "$out/$name.vda.img" "$out/$name.nvme.img"
	truncate -s "${DSW_DISK_SIZE:-1G}" "$out/$name.vda.img" "$out/$name.nvme.img"
	cmd=(qemu-system-x86_64 -machine pc -accel "$(dsw_target_accel 6.12)" -cpu max
		-m "${DSW_MEM:-1G}" -smp "${DSW_SMP:-2}"
		-nodefaults -nographic -no-reboot -monitor none
		-serial "file:$out/$name.console" -serial "file:$out/$name.markers"
		-kernel "$image" -initrd "$initrd" -append "$append"
		-drive "file=$out/$name.vda.img,if=none,id=d0,format=raw,cache=unsafe"
		-device virtio-blk-pci,drive=d0,iommu_platform=on,disable-legacy=on,addr=04.0
		-drive "file=$out/$name.nvme.img,if=none,id=d1,format=raw,cache=unsafe"
		-device nvme,serial=lab0001,drive=d1,addr=05.0)
	echo "${cmd[*]}" >"$out/$name.cmdline"
	timeout --foreground -k 10 "$seconds" "${cmd[@]}" </dev/null >"$out/$name.qemu" 2>&1 || rc=$?
	rm -f "$out/$name.vda.img" "$out/$name.nvme.img"
	return $rc
}

# lab_console_bad FILE: the first lines of a console log that show a
# panic, oops, BUG, WARNING, call trace or GPF (the patterns boot.sh
# judges by).
lab_console_bad() {
	grep -E 'Kernel panic|BUG:|Oops|WARNING:|Call Trace|general protection' "$1" 2>/dev/null |
		head -n 5 || true
}

# lab_boot NAME INITRD APPEND SECONDS: lab_qemu, and once more if the
# kernel died before /init (it never ran the guest's side; boot.sh does
# the same: under TCG an early oops has been seen once in many boots).
# Sets qrc (QEMU's status) and retried (empty, or what happened).
lab_boot() {
	local try

	retried=
	for try in 1 2; do
		qrc=0
		lab_qemu "$@" || qrc=$?
		grep -q '^DSW-BOOTED' "$out/$1.markers" 2>/dev/null && return
		[ $try = 2 ] && return
		cp "$out/$1.console" "$out/$1.console.first-attempt" 2>/dev/null
		retried="first boot died before /init (console: $out/$1.console.first-attempt); booted again"
	done
}

# lab_judge NAME SECONDS MARKER...: the boot NAME judged as boot.sh judges
# one, into the array problems (empty: clean): QEMU's status qrc (killed
# after SECONDS), every MARKER on the marker port, no guest watchdog, no
# panic, oops, BUG or WARNING on the console.
lab_judge() {
	local name=$1 seconds=$2 m w bad

	shift 2
	problems=()
	case $qrc in
	0) ;;
	124|137) problems+=("host timeout: QEMU killed after $seconds s") ;;
	*) problems+=("QEMU exited $qrc: $(head -c 300 "$out/$name.qemu")") ;;
	esac
	for m in "$@"; do
		grep -q "^$m" "$out/$name.markers" 2>/dev/null || problems+=("no $m marker")
	done
	w=$(grep -m1 '^DSW-WATCHDOG' "$out/$name.markers" 2>/dev/null) &&
		problems+=("guest watchdog fired: $w")
	bad=$(lab_console_bad "$out/$name.console")
	[ -n "$bad" ] && problems+=("console: $(echo "$bad" | tr '\n' '|')")
}

# lab_boot_info NAME: the boot's header lines for a .judge file: kernel,
# QEMU command line, a retry, swiotlb's boot lines, its console complaints.
lab_boot_info() {
	local c=$out/$1.console

	echo "# lab kernel $krel ($image), console: $c"
	echo "# qemu: $(cat "$out/$1.cmdline")"
	[ -n "$retried" ] && echo "# $retried"
	tr -d '\r' <"$c" | sed -n 's/^.*\] \(software IO TLB: .*\)/# boot: \1/p'
	echo "# console: $(grep -c 'swiotlb buffer is full' "$c") 'swiotlb buffer is full'," \
		"$(grep -c 'Failed to allocate new pool' "$c") 'Failed to allocate new pool'"
}

# lab_verdict NAME: the TAP line of lab_judge's problems, with the last
# console lines when there are some.
lab_verdict() {
	if [ ${#problems[@]} -gt 0 ]; then
		echo "not ok - boot lab $1"
		printf '# %s\n' "${problems[@]}"
		tail -n 25 "$out/$1.console" 2>/dev/null | sed 's/^/# console: /'
	else
		echo "ok - boot lab $1: clean run and poweroff"
	fi
}

# lab_ready WHO: what a lab boot needs, as root: the harness's host
# packages and the lab kernel (built if not cached; the log in
# $DSW_RESULTS/lab/lab-kernel.log), then lab_find. WHO names the caller.
lab_ready() {
	[ "$(id -u)" = 0 ] || dsw_die "$1 needs root (chroot, mount)"
	"$DSW_TOP/selftests/qemu/setup-host.sh" || exit 1
	mkdir -p "$DSW_RESULTS/lab"
	"$DSW_TOP/bench/lab-kernel.sh" >"$DSW_RESULTS/lab/lab-kernel.log" 2>&1 || {
		tail -n 20 "$DSW_RESULTS/lab/lab-kernel.log"
		dsw_die "$1: no lab kernel"
	}
	lab_find
}
