# SPDX-License-Identifier: GPL-2.0
# Shared by lab-boot.sh, lab-bench.sh and lab-io.sh (sourced, after
# selftests/qemu/lib.sh): the cached lab kernel, its initramfs and its
# boots, which are the harness's: selftests/qemu/initramfs.sh builds the
# initramfs, selftests/qemu/vm.sh boots and judges (as boot.sh's boots).
. "$DSW_TOP/selftests/qemu/vm.sh"
vm_target=lab			# the lab kernel's QEMU and accel (dsw_qemu)
vm_nvme_serial=lab0001

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

# lab_initrd [--fio] [--file SRC DEST]... OUT [KO...]: the lab kernel's
# initramfs (initramfs.sh --modules): busybox-static, kmod's tools and
# dynswiotlbctl with their libraries, the installed selftests, init.sh as
# /init (the script to run comes from the kernel command line), every lab
# module and each KO in extra/. --fio: Debian's fio with its libraries
# (84 MB: only for the real-I/O benchmark); --file: a host file into the
# guest at DEST.
lab_initrd() {
	local opts=() f k

	while :; do
		case "$1" in
		--fio) opts+=(--fio) ;;
		--file) opts+=(--file "$2" "$3"); shift 2 ;;
		*) break ;;
		esac
		shift
	done
	f=$1
	shift
	for k in "$@"; do opts+=(--ko "$k"); done
	"$DSW_TOP/selftests/qemu/initramfs.sh" ${opts[@]+"${opts[@]}"} \
		--modules "$lab/modules/lib/modules/$krel" "$f" || dsw_die "lab: initramfs failed"
}

# lab_root [--fio] [--selftests] DIR [KO...]: lab_initrd's tree in DIR
# instead of an archive, for a caller that writes its own /init or adds
# files (--selftests: kept for old callers, the tree always has them);
# lab_pack DIR OUT packs it.
lab_root() {
	local opts=() d k

	while :; do
		case "$1" in
		--fio) opts+=(--fio) ;;
		--selftests) ;;
		*) break ;;
		esac
		shift
	done
	d=$1
	shift
	for k in "$@"; do opts+=(--ko "$k"); done
	"$DSW_TOP/selftests/qemu/initramfs.sh" ${opts[@]+"${opts[@]}"} --tree \
		--modules "$lab/modules/lib/modules/$krel" "$d" || dsw_die "lab: initramfs failed"
}

# lab_pack DIR OUT: DIR as a gzipped newc cpio archive.
lab_pack() {
	dsw_pack_initrd "$1" "$2"
}

# lab_qemu NAME INITRD APPEND SECONDS: one boot of the lab kernel
# (dsw_vm_run), with no second attempt: for a caller whose /init is its
# own. Returns QEMU's (or timeout's) status.
lab_qemu() {
	local name=$1

	shift
	dsw_vm_run "$out/$name" "$image" "$@"
}

# lab_boot NAME INITRD APPEND SECONDS: boot the lab kernel as boot.sh
# boots Debian's (vm.sh, dsw_vm_boot): DSW_MEM and DSW_SMP (default 1G,
# 2), the console in $out/NAME.console, markers in $out/NAME.markers, the
# command line in $out/NAME.cmdline, two sparse scratch disks of
# DSW_DISK_SIZE (virtio-blk through the DMA API, NVMe), QEMU killed after
# SECONDS, booted once more if the kernel died before /init. Sets qrc
# (QEMU's status) and retried (empty, or what happened).
lab_boot() {
	local name=$1

	shift
	dsw_vm_boot "$out/$name" "$image" "$@"
}

# lab_console_bad FILE: the first lines of a console log that show a
# panic, oops, BUG, WARNING, call trace or GPF (vm.sh's judge).
lab_console_bad() {
	dsw_console_bad "$1"
}

# lab_judge NAME SECONDS MARKER...: the boot NAME judged as boot.sh judges
# one (vm.sh, dsw_vm_judge), into the array problems (empty: clean): QEMU's
# status qrc (killed after SECONDS), every MARKER on the marker port, no
# guest watchdog, no panic, oops, BUG or WARNING on the console.
lab_judge() {
	local name=$1

	shift
	dsw_vm_judge "$out/$name" "$@"
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
