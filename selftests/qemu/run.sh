#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run.sh: the whole test suite (what `make check` runs). For each kernel in
# DSW_TARGETS (default: 5.10 6.1 6.12 7.3 debug; DSW_LANES jobs at a time,
# a job being one kernel's preparation or one of its boots):
#   fetch   resolve, download, verify and unpack Debian's kernel; install
#           its headers in the release's chroot
#   config  the kernel has the options selftests/config lists
#   build   W=1 with the release's compiler; DKMS add/build/install
#   boot    boot it under QEMU/TCG with the DKMS-built module, run the
#           selftests, judge the run (once per boot profile)
# and, once, the style checks (checkpatch, kernel-doc, sparse).
# Prints TAP per kernel and ends with "N passed, N failed". Exit status is
# non-zero if anything failed. Results: $DSW_RESULTS (default ./results).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

start=$(date +%s)
"$here/setup-host.sh" || dsw_die "host setup failed"
rm -rf "$DSW_RESULTS"
mkdir -p "$DSW_RESULTS"

# Chroots of the releases involved, in parallel (first run: ~1.5 min).
# (bookworm always: the style checks run sparse against 6.1 there.)
releases=$( (for t in $DSW_TARGETS; do dsw_target_release "$t"; done; echo bookworm) | sort -u)
pids=()
for r in $releases; do
	"$here/chroot.sh" "$r" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || dsw_die "chroot setup failed"; done

# The Debian packages, built in each release's chroot that builds a
# kernel's module (build.sh installs dynswiotlb-dkms from them), in
# parallel; lintian must be clean.
build_debs() {
	local r=$1 log="$DSW_RESULTS/debs/$1.log"

	mkdir -p "$DSW_RESULTS/debs"
	if DSW_OFFLINE=1 "$here/deb.sh" "$r" "$DSW_RESULTS/debs/$r" >"$log" 2>&1; then
		echo "ok - $r: make deb builds dynswiotlb-dkms and dynswiotlbctl, $(tail -n1 "$log")"
	else
		echo "not ok - $r: make deb builds dynswiotlb-dkms and dynswiotlbctl, lintian-clean"
		sed 's/^/# /' "$log" | tail -n 20
	fi
}
pids=()
# Bookworm's always: its dynswiotlbctl is the tool of every guest
# (initramfs.sh).
for r in $( (echo bookworm; for t in $DSW_TARGETS; do [ "$t" = debug ] || dsw_target_release "$t"; done) | sort -u); do
	build_debs "$r" >"$DSW_RESULTS/debs-$r.tap" &
	pids+=($!)
done
wait "${pids[@]}"
cat "$DSW_RESULTS"/debs-*.tap 2>/dev/null | tee "$DSW_RESULTS/debs.tap"

# check_config TARGET: the options selftests/config needs are set
# (an "=m" requirement is met by =y as well).
check_config() {
	local cfg missing=
	cfg="$(dsw_kernel_dir "$(dsw_target_abi "$1")")/config"
	while IFS='=' read -r opt val; do
		case "$opt" in ''|'#'*) continue ;; esac
		if [ "$val" = m ]; then
			grep -Eq "^$opt=(y|m)$" "$cfg" || missing+=" $opt=$val"
		else
			grep -q "^$opt=$val$" "$cfg" || missing+=" $opt=$val"
		fi
	done <"$DSW_TOP/selftests/config"
	if [ -z "$missing" ]; then
		echo "ok - kernel config has selftests/config"
	else
		echo "not ok - kernel config has selftests/config"
		echo "# missing:$missing"
	fi
}

# The debug kernel's selftests: those that attach, detach, unload, fail
# loads, unplug and race (the DMA-API matrix and the policy, tool and I/O
# volume tests run on the four Debian kernels). DSW_DEBUG_TESTS=all runs
# every profile's selftests there too (docs/testing.md: what that costs).
DSW_DEBUG_TESTS=${DSW_DEBUG_TESTS:-module_load.sh,lifecycle.sh,select.sh,stress.sh,unplug.sh,loadfail.sh}

# The lab kernel's selftests (CONFIG_SWIOTLB_DYNAMIC: the kernel's pool
# grows by itself): growing.sh, which is about that, and attaching and
# unloading, the DMA-API matrix and large mappings in fragmented memory.
# Not those that need a pool that runs dry (exhaust.sh, live.sh: a
# growing pool fills only when memory does), tracing or a network, which
# the lab kernel lacks (bench/lab.config-fragment). DSW_LAB_TESTS=all runs
# every profile's selftests.
DSW_LAB_TESTS=${DSW_LAB_TESTS:-module_load.sh,dma_api.sh,frag.sh,growing.sh}

# extra_append TARGET: kernel command line a target's boots add. The
# debug kernel runs with its DMA-API checks off (DSW_DEBUG_DMA=1 turns
# them on): the module forwards every mapping and allocation through a
# shadow device with the public DMA API, so dma-debug records each twice,
# for the shadow and for the device, and its overlap tracking reports the
# second ("cacheline tracking EEXIST, overlapping mappings aren't
# supported", first seen at virtio's ring allocation). Open in issue 9.
extra_append() {
	[ "$1" = debug ] && [ -z "${DSW_DEBUG_DMA:-}" ] && echo "dma_debug=off"
	return 0
}

# time_scale TARGET: how many times slower a target's kernel runs its
# selftests (boot.sh scales the watchdog and the per-test timeout): the
# debug kernel, with every checker under TCG, about 4 (DSW_TIME_SCALE
# overrides).
time_scale() {
	if [ "$1" = debug ]; then echo "${DSW_TIME_SCALE:-4}"; else echo "${DSW_TIME_SCALE:-1}"; fi
}

# select_profiles TARGET: the boots TARGET gets, one line per profile of
# selftests/qemu/profiles: NAME SWIOTLB MEMORY TESTS [OPTIONS].
select_profiles() {
	local name s510 s6x mem tests variant swiotlb want

	while read -r name s510 s6x mem tests variant; do
		case "$name" in ''|'#'*) continue ;; esac
		swiotlb=$s6x
		[ "$1" = 5.10 ] && swiotlb=$s510
		# DSW_TESTS narrows the run to the profiles that have those
		# tests; on the debug kernel DSW_DEBUG_TESTS does (a kernel
		# with every checker runs several times slower under TCG).
		want=${DSW_TESTS:-}
		[ "$1" = debug ] && want=${DSW_TESTS:-$DSW_DEBUG_TESTS}
		[ "$1" = lab ] && want=${DSW_TESTS:-$DSW_LAB_TESTS}
		if [ -n "$want" ] && [ "$want" != all ]; then
			tests=$(echo "$tests" | tr ',' '\n' |
				grep -Fxf <(echo "$want" | tr ',' '\n') | paste -sd,)
			[ -n "$tests" ] || continue
		fi
		echo "$name $swiotlb $mem $tests ${variant:-}"
	done <"$here/profiles"
}

# boot_profile TARGET NAME: boot TARGET once as profile NAME.
boot_profile() {
	local abi name swiotlb mem tests variant

	abi=$(cat "$DSW_RESULTS/$1/abi")
	read -r name swiotlb mem tests variant < <(select_profiles "$1" | awk -v n="$2" '$1 == n')
	dsw_log "$1: booting $abi under QEMU ($name: swiotlb=$swiotlb, $mem), running selftests"
	DSW_SWIOTLB=$swiotlb DSW_MEM=$mem DSW_TESTS=$tests,taint.sh \
		DSW_VARIANT=${variant:-} DSW_APPEND="${DSW_APPEND:-} $(extra_append "$1")" \
		DSW_TIME_SCALE=$(time_scale "$1") "$here/boot.sh" "$1" "$name"
}

# run_boot TARGET NAME N: boot_profile into TARGET's TAP piece N. A boot.sh
# that stops short of its verdict (an initramfs that cannot be built, a
# second boot that cannot start) is a failure, not a boot with no tests.
run_boot() {
	local tap="$DSW_RESULTS/$1/tap.$3" rc=0

	boot_profile "$1" "$2" >"$tap" || rc=$?
	if [ $rc -ne 0 ] || ! grep -q "^\(not \)\?ok - boot $1 $2" "$tap"; then
		echo "not ok - boot $1 $2: boot.sh ended without its verdict (exit $rc; the run's log says why)" >>"$tap"
	fi
}

# Every selftest is run by some profile.
check_profiles() {
	local t missing=

	for t in $(sed -n 's/^TEST_\(GEN_\)\{0,1\}PROGS := //p' "$DSW_TOP/selftests/Makefile"); do
		[ "$t" = taint.sh ] && continue
		awk '!/^#/ { print $5 }' "$here/profiles" | tr ',' '\n' | grep -qx "$t" ||
			missing+=" $t"
	done
	if [ -z "$missing" ]; then
		echo "ok - every selftest is run by a boot profile"
	else
		echo "not ok - every selftest is run by a boot profile"
		echo "# not in selftests/qemu/profiles:$missing"
	fi
}
check_profiles | tee "$DSW_RESULTS/profiles.tap"

# The userspace tool, once, with the host's compiler: warning-free
# (-Werror). Every guest gets it (initramfs.sh).
build_tool() {
	if make -C "$DSW_TOP/tools/dynswiotlbctl" OUTPUT="$(realpath "$DSW_RESULTS")/tool/" \
			>"$DSW_RESULTS/tool.log" 2>&1; then
		echo "ok - dynswiotlbctl builds (-Wall -Wextra -Werror, gcc $(gcc -dumpfullversion))"
	else
		echo "not ok - dynswiotlbctl builds"
		sed 's/^/# /' "$DSW_RESULTS/tool.log" | tail -n 20
	fi
}
build_tool | tee "$DSW_RESULTS/tool.tap"
dsw_log "style: checkpatch, kernel-doc, sparse"
"$here/style.sh" | tee "$DSW_RESULTS/style.tap"

# prepare_target TARGET: fetch, check and build one kernel; its TAP in
# $DSW_RESULTS/TARGET/tap.0. Leaves TARGET/prepared (and TARGET/abi if its
# boots can run).
prepare_target() {
	local t=$1 out="$DSW_RESULTS/$1" abi

	mkdir -p "$out"
	{
		echo "# ===== kernel $t ====="
		dsw_log "$t: fetching kernel"
		if "$here/fetch-kernel.sh" "$t" >"$out/fetch.log" 2>&1; then
			abi=$(dsw_target_abi "$t")
			echo "ok - fetch $t: $abi"
			cat "$(dsw_kernel_dir "$abi")/versions" >"$out/versions"
			sed 's/^/# /' "$out/versions"
			check_config "$t"
			dsw_log "$t: building (W=1, DKMS) in the $(dsw_target_release "$t") chroot"
			"$here/build.sh" "$t" | grep -E '^(not )?ok |^# '
			if [ -f "$out/dynswiotlb.ko" ]; then
				echo "$abi" >"$out/abi"
			else
				echo "not ok - boot $t: no module was built"
			fi
		else
			echo "not ok - fetch $t"
			sed 's/^/# /' "$out/fetch.log" | tail -n 20
		fi
	} >"$out/tap.0"
	touch "$out/prepared"
}

# The debug and lab kernels are built once and cached (about 20-35 and
# 6-12 min from nothing, nice 19): start them now so that they overlap the
# other kernels' boots.
for t in $DSW_TARGETS; do
	f=$(dsw_target_built "$t")
	[ -n "$f" ] || continue
	"$DSW_TOP/bench/lab-kernel.sh" --flavour "$f" >"$DSW_RESULTS/$t-kernel.log" 2>&1 &
done

# The work as a queue of jobs: "prep TARGET" (fetch, check, build) and
# "boot TARGET PROFILE" for each of its boots. DSW_LANES (default 2)
# workers take the first job that can run (a boot once its kernel is
# prepared), so the boots of one kernel spread over both cores
# (single-threaded guests use one core each; see dsw_qemu for the
# parallel ones). The debug kernel's jobs come right after the first
# preparations: its main boot is the longest job of all, and if its
# kernel is still building, the worker that waits for it leaves that core
# to the build while the other takes the remaining jobs. The lab kernel's
# come last: its build is done by then, and its boots are short.
queue="$DSW_RESULTS/queue"
boots() { # boots TARGET: its boot jobs
	local name n=1

	select_profiles "$1" | while read -r name _; do
		echo "boot $1 $name $n"
		n=$((n + 1))
	done
}
{
	i=0
	for t in $DSW_TARGETS; do
		[ -n "$(dsw_target_built "$t")" ] && continue
		echo "prep $t"
		i=$((i + 1))
		if [ $i = "${DSW_LANES:-2}" ] && [[ " $DSW_TARGETS " = *" debug "* ]]; then
			echo "prep debug"
			boots debug
		fi
	done
	if [ $i -lt "${DSW_LANES:-2}" ] && [[ " $DSW_TARGETS " = *" debug "* ]]; then
		echo "prep debug"
		boots debug
	fi
	for t in $DSW_TARGETS; do
		[ -n "$(dsw_target_built "$t")" ] || boots "$t"
	done
	if [[ " $DSW_TARGETS " = *" lab "* ]]; then
		echo "prep lab"
		boots lab
	fi
} >"$queue"
cp "$queue" "$queue.all"

# take_job: print the next job that can run and take it off the queue;
# fails once the queue is empty.
take_job() {
	local line kind t job empty

	while :; do
		exec 9>"$queue.lock"
		flock 9
		job=
		while read -r line; do
			read -r kind t _ <<<"$line"
			if [ "$kind" = prep ] || [ -e "$DSW_RESULTS/$t/prepared" ]; then
				job=$line
				break
			fi
		done <"$queue"
		if [ -n "$job" ]; then
			grep -vxF "$job" "$queue" >"$queue.new"
			mv "$queue.new" "$queue"
		fi
		empty=$([ -s "$queue" ] || echo 1)
		exec 9>&-
		[ -n "$job" ] && { echo "$job"; return 0; }
		[ -n "$empty" ] && return 1
		sleep 5
	done
}

lanes=${DSW_LANES:-2}
pids=()
for ((lane = 0; lane < lanes; lane++)); do
	(
		# A worker that dies in a preparation still releases that
		# kernel's boots (they find no module and are skipped), so
		# that the other worker cannot wait for them forever.
		cur=
		trap '[ -n "$cur" ] && touch "$DSW_RESULTS/$cur/prepared"' EXIT
		while job=$(take_job); do
			read -r kind t name n <<<"$job"
			case "$kind" in
			prep) cur=$t; prepare_target "$t"; cur= ;;
			boot)
				[ -e "$DSW_RESULTS/$t/abi" ] && run_boot "$t" "$name" "$n"
				;;
			esac
		done
	) &
	pids+=($!)
done
wait "${pids[@]}"
for t in $DSW_TARGETS; do
	for ((n = 0; n <= $(grep -c "^boot $t " "$queue.all"); n++)); do
		cat "$DSW_RESULTS/$t/tap.$n" 2>/dev/null
	done >"$DSW_RESULTS/$t/tap"
	cat "$DSW_RESULTS/$t/tap"
done

# Count results: a guest test's nested cases count one each (its summary
# line does not), every other result line counts once.
summary=$(cat "$DSW_RESULTS"/profiles.tap "$DSW_RESULTS"/tool.tap "$DSW_RESULTS"/style.tap \
	"$DSW_RESULTS"/debs.tap "$DSW_RESULTS"/*/tap | awk '
	/^[ \t]+(not )?ok / { kids++; if ($0 ~ /# SKIP/) s++; else if ($1 == "not") f++; else p++; next }
	/^(not )?ok / {
		if (kids == 0) { if ($0 ~ /# SKIP/) s++; else if ($1 == "not") f++; else p++ }
		else if ($1 == "not" && kids > 0 && nf_before == f) f++
		kids = 0; nf_before = f; next
	}
	END { printf "%d %d %d\n", p, f, s }')
read -r passed failed skipped <<<"$summary"
{
	echo "# kernels: $(cat "$DSW_RESULTS"/*/versions 2>/dev/null | sed -n 's/^target=\([^ ]*\) .*abi=\(.*\)/\1=\2/p' | tr '\n' ' ')"
	echo "# results: $DSW_RESULTS; time: $(( $(date +%s) - start ))s; skipped: $skipped"
} | tee "$DSW_RESULTS/summary"
echo "$passed passed, $failed failed" | tee -a "$DSW_RESULTS/summary"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
