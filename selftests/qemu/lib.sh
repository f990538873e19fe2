# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the QEMU test harness (sourced, not executed).
#
# Paths:
#   DSW_CACHE    cache reused across runs: chroots, kernels, busybox
#                (default /var/cache/dynswiotlb)
#   DSW_RESULTS  results of this run: logs, TAP, versions (default ./results)
#   DSW_MIRROR, DSW_SECURITY_MIRROR  the Debian archive and its security
#                archive the chroots use (default: the machine's own apt
#                sources, dsw_mirrors)

DSW_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DSW_CACHE=${DSW_CACHE:-/var/cache/dynswiotlb}
DSW_RESULTS=${DSW_RESULTS:-$DSW_TOP/results}
DSW_ARCH=${DSW_ARCH:-x86_64}

# Every kernel the project is tested on: target name, Debian release whose
# chroot builds it (its compiler and dkms), and the suite its kernel is
# taken from. DSW_KABI_<target> (dots as underscores, e.g. DSW_KABI_6_12)
# pins an exact ABI name such as 6.12.117+deb13-amd64.
#
# "debug" is Debian's linux-source-6.12 built by bench/lab-kernel.sh
# --flavour debug (KASAN, lockdep, kmemleak, debugobjects, DMA-API debug,
# fault injection; selftests/qemu/debug.config-fragment), cached; it runs
# the selftests of DSW_DEBUG_TESTS (run.sh). "lab" is the same source
# built by bench/lab-kernel.sh with upstream's CONFIG_SWIOTLB_DYNAMIC
# (bench/lab.config-fragment), the kernel's own growing pool; it runs the
# selftests of DSW_LAB_TESTS.
DSW_TARGETS_ALL="5.10 6.1 6.12 7.3 debug lab"
DSW_TARGETS=${DSW_TARGETS:-$DSW_TARGETS_ALL}

dsw_target_release() {
	case "$1" in
	5.10) echo bullseye ;;
	6.1) echo bookworm ;;
	6.12|7.3|debug|lab) echo trixie ;;
	*) dsw_die "unknown target '$1' (known: $DSW_TARGETS_ALL)" ;;
	esac
}

dsw_target_suite() {
	case "$1" in
	7.3) echo trixie-backports ;;
	*) dsw_target_release "$1" ;;
	esac
}

# dsw_qemu TARGET: the QEMU a target's guests run on, and how. Sets
#   dsw_qemu_cmd    the command (an array): trixie's QEMU from its chroot,
#                   run by the chroot's own dynamic loader with its
#                   libraries, firmware and modules (no chroot, no mounts:
#                   every path stays the host's), or the host's
#   dsw_qemu_accel  the -accel value: tcg,thread=multi (vCPUs in parallel,
#                   one host thread each) or tcg,thread=single (in turn)
#   dsw_qemu_desc   a line saying which: version, origin, accel
# DSW_QEMU=trixie|host and DSW_ACCEL=multi|single override the choice;
# DSW_PARALLEL=1 asks for parallel vCPUs where they are reliable.
#
# Measured (mttcg-probe.sh: for 120 s per boot, 2 busy vCPUs while trace
# events, schedstats, a kprobe, ftrace and module loads patch kernel text
# by int3): with thread=multi a vCPU sometimes runs translated code that
# another vCPU has since patched, i.e. executes an int3 that is no longer
# in memory. Kernels before 6.7 take such an int3 for a just-removed
# breakpoint and run the instruction again; 6.7 dropped that fallback
# (x86/kprobes), so 6.12 and 7.3 oops ("Oops: int3" in __schedule,
# enqueue_task_fair: the failure once seen in the suite).
#   bookworm's QEMU 7.2: 7.3 oopses in every boot (2 of 2, after 10-25 s
#     of patching); 6.1 hangs on the int3 (soft lockup: the stale code is
#     never retranslated) in 3 of 7 boots: all stressors, irq trace
#     events alone, schedstats alone.
#   trixie's QEMU 10.0: 7.3 oopses in 3 of 7 boots, 6.12 in 1 of 2; 5.10
#     (2 boots) and 6.1 (6 boots) stay clean.
#   thread=single: no failure (QEMU 7.2: 6.1 once, 7.3 3 times; QEMU
#     10.0: 7.3 twice), at fewer flips (the vCPUs take turns: a sixth of
#     multi's trace event flips at best).
# What patches text in those boots is the stressors' thousands of flips;
# the concurrency boots (stress.sh: module loads and unloads, CPU offline,
# no trace events; unplug.sh) patch little, and ran clean with
# thread=multi on QEMU 10.0 on 6.12, 7.3 and the debug kernel.
# So 5.10 and 6.1 run on trixie's QEMU with thread=multi when it is
# installed (chroot.sh trixie; setup-host.sh sees to it), and so do the
# boots that ask for parallel vCPUs (DSW_PARALLEL=1: the "parallel"
# profiles of selftests/qemu/profiles) on 6.12, 7.3 and the debug kernel;
# everything else (the other boots of those, the lab kernel, any target
# on the host's QEMU) runs single-threaded.
dsw_qemu() {
	local t=$1 q accel d lib

	d=$(dsw_chroot_dir trixie)
	lib=$d/usr/lib/x86_64-linux-gnu
	q=${DSW_QEMU:-}
	if [ -z "$q" ]; then
		q=host
		[ -x "$d/usr/bin/qemu-system-$DSW_ARCH" ] && q=trixie
	fi
	case "$q" in
	host) dsw_qemu_cmd=("qemu-system-$DSW_ARCH") ;;
	trixie)
		[ -x "$d/usr/bin/qemu-system-$DSW_ARCH" ] ||
			dsw_die "no QEMU in the trixie chroot (run selftests/qemu/chroot.sh trixie)"
		dsw_qemu_cmd=(env "QEMU_MODULE_DIR=$lib/qemu" "$d/lib64/ld-linux-x86-64.so.2"
			--library-path "$lib" "$d/usr/bin/qemu-system-$DSW_ARCH"
			-L "$d/usr/share/qemu" -L "$d/usr/share/seabios")
		;;
	*) dsw_die "DSW_QEMU=$q: trixie or host" ;;
	esac
	case "$q:$t:${DSW_PARALLEL:-}" in
	trixie:5.10:*|trixie:6.1:*) accel=${DSW_ACCEL:-multi} ;;
	trixie:6.12:1|trixie:7.3:1|trixie:debug:1) accel=${DSW_ACCEL:-multi} ;;
	*:5.10:*|*:6.1:*|*:6.12:*|*:7.3:*|*:lab:*|*:debug:*) accel=${DSW_ACCEL:-single} ;;
	*) dsw_die "dsw_qemu: unknown target '$t'" ;;
	esac
	case "$accel" in
	single|multi) dsw_qemu_accel=tcg,thread=$accel ;;
	*) dsw_die "DSW_ACCEL=$accel: multi or single" ;;
	esac
	# The version, once per QEMU and process.
	local -n v=dsw_qemu_version_$q
	[ -n "${v:-}" ] ||
		v=$("${dsw_qemu_cmd[@]}" --version 2>/dev/null | sed -n '1s/^QEMU emulator version \([^ ]*\).*/\1/p')
	dsw_qemu_desc="QEMU ${v:-unknown} ($q), -accel $dsw_qemu_accel"
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

# dsw_target_built TARGET: the bench/lab-kernel.sh flavour of a target the
# project builds from Debian's source (debug, lab), or nothing for
# Debian's own kernels.
dsw_target_built() {
	case "$1" in
	debug|lab) echo "$1" ;;
	esac
}

# dsw_lab_link FLAVOUR: the link bench/lab-kernel.sh points at the last
# kernel of FLAVOUR it built, under $DSW_CACHE/lab/.
dsw_lab_link() {
	if [ "$1" = lab ]; then echo current; else echo "$1-current"; fi
}

# dsw_target_abi TARGET: the ABI resolved for a target by fetch-kernel.sh.
dsw_target_abi() {
	local f="$DSW_CACHE/kernels/target-$1"

	[ -s "$f" ] || dsw_die "kernel for target $1 not fetched yet (run fetch-kernel.sh $1)"
	cat "$f"
}

# dsw_apt_uri REGEX: the URI of the first enabled "deb" entry of the
# machine's apt sources (deb822 *.sources, then one-line *.list files)
# with a suite matching REGEX.
dsw_apt_uri() {
	local f

	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v re="$1" '
		function flush() {
			if (deb && on && uri != "" && hit) { print uri; exit }
			deb = 0; on = 1; uri = ""; hit = 0
		}
		BEGIN { on = 1 }
		/^[ \t]*#/ { next }
		/^[ \t]*$/ { flush(); next }
		{ k = tolower($1) }
		k == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
		k == "uris:" { uri = $2 }
		k == "suites:" { for (i = 2; i <= NF; i++) if ($i ~ re) hit = 1 }
		k == "enabled:" && tolower($2) == "no" { on = 0 }
		END { flush() }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# deb [OPTIONS] URI SUITE COMPONENT...
		sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v re="$1" '$1 == "deb" && $3 ~ re { print $2 }'
	done
}

# dsw_mirrors: set DSW_MIRROR and DSW_SECURITY_MIRROR (unless given) from
# the machine's apt sources: the archive of its release's own suite and
# of its -security suite. Dies if either cannot be found.
dsw_mirrors() {
	local codename

	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "${DSW_MIRROR:-}" ] ||
		DSW_MIRROR=$(dsw_apt_uri "^${codename:-[a-z]+}(-updates)?\$" | head -n1)
	[ -n "${DSW_SECURITY_MIRROR:-}" ] ||
		DSW_SECURITY_MIRROR=$(dsw_apt_uri '-security$' | head -n1)
	DSW_MIRROR=${DSW_MIRROR%/} DSW_SECURITY_MIRROR=${DSW_SECURITY_MIRROR%/}
	[ -n "$DSW_MIRROR" ] ||
		dsw_die "no Debian archive in the machine's apt sources (/etc/apt/sources.list.d/*.sources, /etc/apt/sources.list) for ${codename:-its release}: set DSW_MIRROR=URL"
	[ -n "$DSW_SECURITY_MIRROR" ] ||
		dsw_die "no security archive (a *-security suite) in the machine's apt sources: set DSW_SECURITY_MIRROR=URL"
}

# dsw_build_for_guests TARGET: what a guest of TARGET boots, for the
# benchmarks (make check does it in run.sh): the release's Debian packages
# from this tree (deb.sh, into $DSW_RESULTS/debs/RELEASE: once per run, the
# releases built so far listed in the exported DSW_DEBS_FRESH, so that a
# package of an older tree is never installed), then build.sh, whose TAP
# goes to $DSW_RESULTS/build-TARGET.tap (printed if it fails). Returns
# non-zero on failure.
dsw_build_for_guests() {
	local t=$1 rel

	rel=$(dsw_target_release "$t")
	case " ${DSW_DEBS_FRESH:-} " in
	*" $rel "*) ;;
	*)
		rm -rf "$DSW_RESULTS/debs/$rel"
		mkdir -p "$DSW_RESULTS/debs"
		DSW_OFFLINE=1 "$DSW_TOP/selftests/qemu/deb.sh" "$rel" "$DSW_RESULTS/debs/$rel" \
			>"$DSW_RESULTS/debs/$rel.log" 2>&1 ||
			{ tail -n 20 "$DSW_RESULTS/debs/$rel.log"; return 1; }
		export DSW_DEBS_FRESH="${DSW_DEBS_FRESH:-} $rel"
		;;
	esac
	"$DSW_TOP/selftests/qemu/build.sh" "$t" >"$DSW_RESULTS/build-$t.tap" ||
		{ cat "$DSW_RESULTS/build-$t.tap"; return 1; }
}

# dsw_vm_pinned PREFIX: how many vCPU threads the agent of boot PREFIX
# bound to host CPUs (vm.sh, DSW_PIN_VCPUS).
dsw_vm_pinned() {
	grep -c 'pin vCPU .*new affinity list' "$1.host" 2>/dev/null || true
}

# dsw_not_parallel JUDGE PREFIX N: why the boot PREFIX (its verdict in
# JUDGE) is no parallel measurement with N vCPUs, or nothing: it was
# retried single-threaded (vm.sh, dsw_vm_boot), or fewer than N vCPU
# threads were bound to host CPUs (DSW_PIN_VCPUS). Returns 0 if it is not.
dsw_not_parallel() {
	if grep -q 'booted again' "$1" 2>/dev/null; then
		echo "the boot was retried ($(grep -m1 'booted again' "$1"))"
	elif [ "$(dsw_vm_pinned "$2")" -lt "$3" ]; then
		echo "not every vCPU was bound to a host CPU ($2.host)"
	else
		return 1
	fi
}
