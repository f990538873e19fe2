#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lab-kernel.sh: build (once) and cache the "lab kernel": Debian's
# linux-source-6.12 with CONFIG_SWIOTLB_DYNAMIC=y (which no Debian kernel
# enables), configured from bench/lab.config-fragment, compiled with trixie's
# gcc-14 in the harness's trixie chroot. Benchmarks compare dynswiotlb with
# it.
#
# A second flavour, "debug", builds the same source tree (extracted once)
# without SWIOTLB_DYNAMIC and with KASAN, lockdep, kmemleak, debugobjects
# and DMA-API debugging, from selftests/qemu/debug.config-fragment, for
# the test suite's debug tier. A third, "mapbench", is the lab's
# configuration without SWIOTLB_DYNAMIC and with the kernel's own DMA map
# benchmark (CONFIG_DMA_MAP_BENCHMARK), for bench/mapbench.sh; its files
# are in VERSION/mapbench/, its link mapbench-current. --flavour comes
# before the mode:
#
#   lab-kernel.sh [--flavour lab|debug|mapbench] [MODE]
#
#   lab-kernel.sh              build if needed, print the cache paths
#   lab-kernel.sh --update     build the newest linux-source-6.12 in the archive
#   lab-kernel.sh --check      also build dynswiotlb.ko against the lab tree
#                              and smoke-boot the kernel (bench/lab-boot.sh;
#                              the debug flavour: the harness's own boot,
#                              DSW_TARGETS=debug DSW_TESTS=module_load.sh;
#                              mapbench: the build only)
#   lab-kernel.sh --module DIR [ARG...]
#                              build the out-of-tree module in DIR against
#                              the lab kernel (in the chroot; DIR is
#                              writable, ARGs go to make, e.g. W=1)
#   lab-kernel.sh --shell CMD  run CMD in the chroot with the lab cache mounted
#
# Cache: $DSW_CACHE/lab/VERSION/ (VERSION: Debian's linux-source-6.12
# version, e.g. 6.12.118-1), $DSW_CACHE/lab/current points at the last one
# built. The debug flavour's files (the same names: build/, bzImage,
# vmlinux, config, modules/, kernelrelease, versions, .ready) are in
# $DSW_CACHE/lab/VERSION/debug/, and $DSW_CACHE/lab/debug-current points
# at the last one built (VERSION/debug). Both share
# VERSION/linux-source-6.12/. DSW_LAB_VERSION pins a version. A second run
# finds the ready stamp (the fragment's hash) and returns at once; a
# changed fragment is reconfigured and rebuilt incrementally.
#
# The build tree (build/) and its tools are trixie binaries: build modules
# against it inside the chroot (--module, --shell), not on a bookworm host.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/../selftests/qemu/lib.sh"

rel=trixie
srcpkg=linux-source-6.12

flavour=lab
case "${1:-}" in
--flavour) flavour=${2:?usage: lab-kernel.sh --flavour lab|debug|mapbench ...}; shift 2 ;;
--flavour=*) flavour=${1#--flavour=}; shift ;;
esac
# Per flavour: its fragment, its directory under VERSION/ (the lab's is
# VERSION/ itself, as before flavours), the link to the last one built,
# whether SWIOTLB_DYNAMIC must be on, and its smoke boot (--check).
case "$flavour" in
lab)
	fragment="$bench/lab.config-fragment"
	sub=
	link=current
	dynamic=y
	smoke="$bench/lab-boot.sh"
	;;
debug)
	fragment="$bench/../selftests/qemu/debug.config-fragment"
	sub=/debug
	link=debug-current
	dynamic=n
	smoke=
	;;
mapbench)
	# The lab's configuration with its SWIOTLB_DYNAMIC and LOCALVERSION
	# lines replaced by mapbench.config-fragment's (joined at build time:
	# the stamp covers both files).
	fragment="$bench/mapbench.config-fragment"
	sub=/mapbench
	link=mapbench-current
	dynamic=n
	smoke=
	;;
*) dsw_die "lab-kernel.sh: unknown flavour '$flavour' (known: lab, debug, mapbench)" ;;
esac
# frag_text: the configuration fragment the flavour is built from.
frag_text() {
	if [ "$flavour" = mapbench ]; then
		grep -v -e '^CONFIG_SWIOTLB_DYNAMIC=' -e '^CONFIG_LOCALVERSION=' "$bench/lab.config-fragment"
		cat "$fragment"
	else
		cat "$fragment"
	fi
}
# Bump when the build steps change so cached kernels are rebuilt.
stamp="v1 $(frag_text | sha256sum | cut -d' ' -f1)"
cc=gcc-14
# The build's tools, installed in the chroot when missing (gcc-14 comes
# with the harness's headers, but a fresh chroot has none).
tools="gcc-14 make bc bison flex libelf-dev libssl-dev cpio kmod"

mode=build
arg=
case "${1:-}" in
"") ;;
--update|--check) mode=${1#--} ;;
--module) mode=module; arg=${2:?usage: lab-kernel.sh --module DIR [ARG...]}; shift 2 ;;
--shell) mode=shell; shift ;;
*) dsw_die "usage: lab-kernel.sh [--flavour lab|debug|mapbench] [--update|--check|--module DIR [ARG...]|--shell CMD...]" ;;
esac

[ "$(id -u)" = 0 ] || dsw_die "lab-kernel.sh needs root (debootstrap, chroot, mount)"
croot=$(dsw_chroot_dir "$rel")
labs="$DSW_CACHE/lab"
mkdir -p "$labs"

# lab_run [-b DIR]... CMD...: run CMD in the trixie chroot, in a private
# mount namespace holding its own /proc and the lab cache (and every -b DIR)
# bind-mounted at the same path as on the host, so the build tree's absolute
# paths are the same inside and outside. Nothing is left mounted, and the
# harness's own /proc mounts (dsw_in_chroot) are not disturbed.
lab_run() {
	local binds=("$labs")

	while [ "${1:-}" = -b ]; do
		binds+=("$2")
		shift 2
	done
	unshare --mount --propagation private /bin/sh -c '
		croot=$1
		binds=$2
		shift 2
		mount -t proc proc "$croot/proc" || exit 1
		for d in $binds; do
			mkdir -p "$croot$d" && mount --bind "$d" "$croot$d" || exit 1
		done
		exec chroot "$croot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LC_ALL=C.UTF-8 KBUILD_BUILD_USER=dynswiotlb \
			KBUILD_BUILD_HOST=lab "$@"' sh "$croot" "${binds[*]}" "$@"
}

# tools_missing: the build tools not installed in the chroot.
tools_missing() {
	if [ ! -f "$croot/.dsw-ready" ]; then
		echo "$tools"
		return
	fi
	lab_run sh -c 'for p; do
		dpkg-query -W -f "\${Status}" "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
	done' sh $tools | tr '\n' ' '
}

# ensure_chroot [update]: the harness's trixie chroot (created by its
# chroot.sh, which also refreshes the package lists: first run, or when
# asked) with the kernel build tools. apt runs under the harness's chroot
# lock, released on return.
ensure_chroot() {
	local missing

	if [ -n "${1:-}" ] || [ ! -f "$croot/.dsw-ready" ]; then
		"$DSW_TOP/selftests/qemu/setup-host.sh"
		"$DSW_TOP/selftests/qemu/chroot.sh" "$rel"
	fi
	missing=$(tools_missing)
	[ -n "${missing// /}" ] || return 0
	(
		dsw_lock_chroot "$rel"
		dsw_log "lab: installing $missing in the $rel chroot"
		dsw_in_chroot "$rel" apt-get -q -y install $missing >"$labs/apt.log" 2>&1 ||
			{ tail -20 "$labs/apt.log" >&2; dsw_die "apt-get install $missing failed"; }
	)
}

# candidate_version: linux-source-6.12's version as apt would install it.
candidate_version() {
	dsw_in_chroot "$rel" apt-cache policy "$srcpkg" | sed -n 's/^ *Candidate: //p'
}

ready() { # ready DIR
	[ "$(cat "$1/.ready" 2>/dev/null)" = "$stamp" ]
}

# Which version: pinned, else the one this flavour built last, else the
# one the lab built last (its source is there), else the archive's.
ver=${DSW_LAB_VERSION:-}
if [ -z "$ver" ] && [ "$mode" != update ]; then
	for l in "$link" current; do
		if [ -L "$labs/$l" ]; then
			ver=$(readlink "$labs/$l")
			ver=${ver%%/*}
			break
		fi
	done
fi
if [ -z "$ver" ]; then
	ensure_chroot update
	ver=$(candidate_version)
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || dsw_die "no $srcpkg in the $rel chroot's sources"
fi
lab="$labs/$ver"
src="$lab/$srcpkg"
# The flavour's own files: VERSION/ for the lab, VERSION/debug/ for debug.
out="$lab$sub"
build="$out/build"

# kmake ARGS...: the kernel's make, at nice 19, in the chroot.
kmake() {
	lab_run nice -n 19 make -C "$src" O="$build" ARCH=x86_64 CC=$cc HOSTCC=$cc \
		KBUILD_BUILD_TIMESTAMP="$(cat "$out/timestamp")" "$@"
}

# fetch: download linux-source-VERSION, check it against the archive's
# index, extract the whole tree.
fetch() {
	local deb want got

	[ -f "$src/.extracted" ] && return 0
	dsw_log "lab: downloading $srcpkg $ver"
	mkdir -p "$lab"
	(
		dsw_lock_chroot "$rel"
		rm -rf "$croot/tmp/dsw-lab"
		mkdir -p "$croot/tmp/dsw-lab"
		dsw_in_chroot "$rel" sh -c "cd /tmp/dsw-lab && apt-get -q download $srcpkg=$ver" \
			>"$lab/download.log" 2>&1 ||
			{ tail -5 "$lab/download.log" >&2; dsw_die "cannot download $srcpkg=$ver"; }
		want=$(dsw_in_chroot "$rel" apt-cache show "$srcpkg=$ver" |
			sed -n 's/^SHA256: //p' | head -n1)
		deb=$(ls "$croot"/tmp/dsw-lab/"$srcpkg"_*.deb)
		got=$(sha256sum "$deb" | cut -d' ' -f1)
		[ -n "$want" ] && [ "$want" = "$got" ] ||
			dsw_die "$srcpkg $ver: sha256 $got does not match the archive's $want"
		echo "$srcpkg $ver sha256:$got" >"$lab/source"
		echo "$srcpkg $ver sha256:$got" >"$lab/versions"
		mv "$deb" "$lab/"
		rm -rf "$croot/tmp/dsw-lab"
	)
	dsw_log "lab: extracting the full tree into $src"
	rm -rf "$src" "$lab/extract.tmp"
	mkdir -p "$lab/extract.tmp"
	dpkg-deb --fsys-tarfile "$lab/${srcpkg}_${ver}_all.deb" |
		tar -xO "./usr/src/$srcpkg.tar.xz" | tar -xJ -C "$lab/extract.tmp"
	mv "$lab/extract.tmp/$srcpkg" "$src"
	rmdir "$lab/extract.tmp"
	rm -f "$lab/${srcpkg}_${ver}_all.deb"
	touch "$src/.extracted"
}

# check_config: every line of the fragment must be in the final .config.
check_config() {
	local line sym bad=0

	while read -r line; do
		case "$line" in
		"# CONFIG_"*" is not set")
			sym=${line#\# }
			sym=${sym%% *}
			if grep -q "^$sym=" "$build/.config"; then
				echo "$flavour config: wanted $sym off, got: $(grep "^$sym=" "$build/.config")" >&2
				bad=1
			fi
			;;
		CONFIG_*)
			if ! grep -qxF "$line" "$build/.config"; then
				sym=${line%%=*}
				echo "$flavour config: wanted $line, got: $(grep -E "^$sym=|^# $sym is not set" "$build/.config" || echo "$sym absent (dependencies not met)")" >&2
				bad=1
			fi
			;;
		esac
	done <"$out/$(basename "$fragment")"
	# The lab kernel is there for SWIOTLB_DYNAMIC; the debug kernel checks
	# the module beside the fixed pool Debian ships, so it must not have it.
	if [ $dynamic = y ]; then
		grep -qx 'CONFIG_SWIOTLB_DYNAMIC=y' "$build/.config" ||
			dsw_die "CONFIG_SWIOTLB_DYNAMIC=y did not make it into the lab kernel's .config"
	else
		grep -qx 'CONFIG_SWIOTLB=y' "$build/.config" &&
			! grep -q '^CONFIG_SWIOTLB_DYNAMIC=' "$build/.config" ||
			dsw_die "the $flavour kernel must have SWIOTLB and not SWIOTLB_DYNAMIC"
	fi
	[ $bad = 0 ] || dsw_die "the $flavour kernel's .config does not match $fragment"
}

build_kernel() {
	local t0 t1 krel frag

	frag=$(basename "$fragment")
	dsw_log "$flavour: configuring $ver (alldefconfig + $frag)"
	mkdir -p "$build"
	frag_text >"$out/$frag"
	# A fixed build date (the source's), for identical rebuilds.
	date -u -r "$src/Makefile" '+%Y-%m-%d' >"$out/timestamp"
	kmake -s KCONFIG_ALLCONFIG="$out/$frag" alldefconfig >"$out/config.log" 2>&1 ||
		{ tail -20 "$out/config.log" >&2; dsw_die "$flavour: configuration failed"; }
	check_config

	dsw_log "$flavour: building (nice 19, -j2; log: $out/build.log)"
	t0=$(date +%s)
	kmake -j2 all >"$out/build.log" 2>&1 ||
		{ tail -30 "$out/build.log" >&2; dsw_die "$flavour: kernel build failed"; }
	t1=$(date +%s)
	krel=$(cat "$build/include/config/kernel.release")
	rm -rf "$out/modules"
	kmake INSTALL_MOD_PATH="$out/modules" modules_install >>"$out/build.log" 2>&1 ||
		{ tail -30 "$out/build.log" >&2; dsw_die "$flavour: modules_install failed"; }
	# The installed tree's build link points at the flavour's build tree.
	ln -sfn "$build" "$out/modules/lib/modules/$krel/build"
	cp "$build/arch/x86/boot/bzImage" "$out/bzImage"
	ln -sfn build/vmlinux "$out/vmlinux"
	cp "$build/.config" "$out/config"
	echo "$krel" >"$out/kernelrelease"
	echo "$((t1 - t0))" >"$out/build-seconds"
	{
		# fetch's line (older caches have it only in the lab's versions).
		cat "$lab/source" 2>/dev/null || grep "^$srcpkg " "$lab/versions"
		echo "kernelrelease $krel"
		echo "flavour $flavour ($frag)"
		echo "compiler $(lab_run $cc --version | head -n1)"
		echo "build $((t1 - t0)) s (make -j2 all at nice 19, $(nproc) CPUs)"
	} >"$out/versions.tmp"
	mv "$out/versions.tmp" "$out/versions"
	echo "$stamp" >"$out/.ready"
	ln -sfn "$ver$sub" "$labs/$link"
}

# build_module DIR [ARG...]: an external module against the lab build
# tree, with make's ARGs. Only DIR is visible in the chroot (and the lab
# cache): a module that includes files from around it is built in a copy
# under the cache.
build_module() {
	local dir

	dir=$(cd "$1" 2>/dev/null && pwd) || dsw_die "--module: no directory $1"
	shift
	lab_run -b "$dir" make -C "$build" M="$dir" CC=$cc HOSTCC=$cc "$@" modules
}

# One build per flavour at a time; the source is fetched and extracted
# once, under the version's lock (flavours can build from it side by side:
# the source tree stays clean, every output goes to O=).
exec {lab_lock_fd}>"$labs/$ver${sub:+.$flavour}.build.lock"
flock "$lab_lock_fd"
if ! ready "$out"; then
	ensure_chroot
	(
		exec {src_lock_fd}>"$labs/$ver.lock"
		flock "$src_lock_fd"
		fetch
	)
	build_kernel
fi
flock -u "$lab_lock_fd"
[ "$mode" = build ] || [ "$mode" = update ] || ensure_chroot

case "$mode" in
module)
	build_module "$arg" "$@"
	exit
	;;
shell)
	lab_run "$@"
	exit
	;;
esac

krel=$(cat "$out/kernelrelease")
if [ $flavour = lab ]; then
	echo "lab kernel $krel ($srcpkg $ver, CONFIG_SWIOTLB_DYNAMIC=y), built in $(cat "$out/build-seconds") s"
else
	echo "$flavour kernel $krel ($srcpkg $ver, $(basename "$fragment"): no SWIOTLB_DYNAMIC), built in $(cat "$out/build-seconds") s"
fi
cat <<EOF
  bzImage  $out/bzImage
  vmlinux  $out/vmlinux (PVH entry: qemu -kernel boots it directly)
  config   $out/config
  modules  $out/modules/lib/modules/$krel
  build    $build (make -C $build M=DIR CC=$cc, in the $rel chroot: lab-kernel.sh${sub:+ --flavour $flavour} --module DIR)
  link     $labs/$link -> $(readlink "$labs/$link" 2>/dev/null || echo "(not this version)")
EOF

if [ "$mode" = check ]; then
	tmp=$(mktemp -d "$labs/module.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	make -s -C "$DSW_TOP" dkms-sources DEST="$tmp/dynswiotlb"
	# The debug tier's module is built as the harness's: W=1.
	if build_module "$tmp/dynswiotlb" ${sub:+W=1} >"$out/module-build.log" 2>&1 &&
	   [ -f "$tmp/dynswiotlb/dynswiotlb.ko" ]; then
		echo "ok - dynswiotlb.ko builds against the $flavour tree ($(modinfo -F vermagic "$tmp/dynswiotlb/dynswiotlb.ko"))"
	else
		echo "not ok - dynswiotlb.ko against the $flavour tree (log: $out/module-build.log)"
		tail -n 20 "$out/module-build.log" | sed 's/^/# /'
		exit 1
	fi
	case $flavour in
	lab) "$smoke" "$tmp/dynswiotlb/dynswiotlb.ko" ;;
	# the debug tier's boot, judge and checkers are the harness's
	debug) DSW_TARGETS=debug DSW_TESTS=module_load.sh "$DSW_TOP/selftests/qemu/run.sh" ;;
	# mapbench.sh's boot is its own check
	mapbench) ;;
	esac
fi
