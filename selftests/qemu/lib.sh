# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the QEMU test harness (sourced, not executed).
#
# Paths:
#   DSW_CACHE    cache reused across runs: chroots, kernels, busybox
#                (default /var/cache/dynswiotlb)
#   DSW_RESULTS  results of this run: logs, TAP, versions (default ./results)

DSW_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DSW_CACHE=${DSW_CACHE:-/var/cache/dynswiotlb}
DSW_RESULTS=${DSW_RESULTS:-$DSW_TOP/results}
DSW_MIRROR=${DSW_MIRROR:-http://deb.debian.org/debian}
DSW_SECURITY_MIRROR=${DSW_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# Every kernel the project is tested on: target name, Debian release whose
# chroot builds it (its compiler and dkms), and the suite its kernel is
# taken from. DSW_KABI_<target> (dots as underscores, e.g. DSW_KABI_6_12)
# pins an exact ABI name such as 6.12.117+deb13-amd64.
DSW_TARGETS_ALL="5.10 6.1 6.12 7.3"
DSW_TARGETS=${DSW_TARGETS:-$DSW_TARGETS_ALL}

dsw_target_release() {
	case "$1" in
	5.10) echo bullseye ;;
	6.1) echo bookworm ;;
	6.12|7.3) echo trixie ;;
	*) dsw_die "unknown target '$1' (known: $DSW_TARGETS_ALL)" ;;
	esac
}

dsw_target_suite() {
	case "$1" in
	7.3) echo trixie-backports ;;
	*) dsw_target_release "$1" ;;
	esac
}

# dsw_target_accel TARGET: QEMU's accelerator options for a target. The
# kernel patches its text (static keys: enabling any trace event flips the
# one in __schedule) with int3 breakpoints, which multi-threaded TCG (QEMU
# 7.2) does not keep coherent across vCPUs: another vCPU sometimes runs the
# stale int3 after the patch is done and oopses ("Oops: int3" in
# __schedule or sched_clock_cpu; seen on 7.3). Single-threaded TCG runs the
# vCPUs in turn and never shows it; it is used for every kernel.
dsw_target_accel() {
	echo tcg,thread=single
}

dsw_log() {
	printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2
}

dsw_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

# dsw_chroot_dir RELEASE
dsw_chroot_dir() {
	echo "$DSW_CACHE/chroot/$1"
}

# dsw_lock_chroot RELEASE: hold an exclusive lock on a release's chroot
# until the calling script exits (runs that share the cache serialise their
# apt, build and dkms steps).
dsw_lock_chroot() {
	mkdir -p "$DSW_CACHE/chroot"
	exec {dsw_lock_fd}>"$DSW_CACHE/chroot/$1.lock"
	flock "$dsw_lock_fd"
}

# dsw_in_chroot RELEASE CMD...: run a command inside a release's chroot
# with /proc mounted for the duration of the command.
dsw_in_chroot() {
	local rel=$1 dir rc
	shift
	dir=$(dsw_chroot_dir "$rel")
	mountpoint -q "$dir/proc" || mount -t proc proc "$dir/proc"
	rc=0
	chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/root LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@" || rc=$?
	umount "$dir/proc" 2>/dev/null || umount -l "$dir/proc" 2>/dev/null || true
	return $rc
}

# dsw_kernel_dir ABI: where a kernel's unpacked image packages live.
dsw_kernel_dir() {
	echo "$DSW_CACHE/kernels/$1"
}

# dsw_target_abi TARGET: the ABI resolved for a target by fetch-kernel.sh.
dsw_target_abi() {
	local f="$DSW_CACHE/kernels/target-$1"

	[ -s "$f" ] || dsw_die "kernel for target $1 not fetched yet (run fetch-kernel.sh $1)"
	cat "$f"
}
