#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# lab-kernel.sh: build (once) and cache the "lab kernel": Debian's
# linux-source-6.12 with CONFIG_SWIOTLB_DYNAMIC=y (which no Debian kernel
# enables), configured from bench/lab.config-fragment, compiled with trixie's
# gcc-14 in the harness's trixie chroot. Benchmarks compare dynswiotlb with
# it.
#
#   lab-kernel.sh              build if needed, print the cache paths
#   lab-kernel.sh --update     build the newest linux-source-6.12 in the archive
#   lab-kernel.sh --check      also build dynswiotlb.ko against the lab tree
#                              and smoke-boot the kernel (bench/lab-boot.sh)
#   lab-kernel.sh --module DIR [ARG...]
#                              build the out-of-tree module in DIR against
#                              the lab kernel (in the chroot; DIR is
#                              writable, ARGs go to make, e.g. W=1)
#   lab-kernel.sh --shell CMD  run CMD in the chroot with the lab cache mounted
#
# Cache: $DSW_CACHE/lab/VERSION/ (VERSION: Debian's linux-source-6.12
# version, e.g. 6.12.118-1), $DSW_CACHE/lab/current points at the last one
# built. DSW_LAB_VERSION pins a version. A second run finds the ready stamp
# (the fragment's hash) and returns at once; a changed fragment is
# reconfigured and rebuilt incrementally.
#
# The build tree (build/) and its tools are trixie binaries: build modules
# against it inside the chroot (--module, --shell), not on a bookworm host.
set -euo pipefail
bench=$(cd "$(dirname "$0")" && pwd)
. "$bench/../selftests/qemu/lib.sh"

rel=trixie
srcpkg=linux-source-6.12
fragment="$bench/lab.config-fragment"
# Bump when the build steps change so cached kernels are rebuilt.
stamp="v1 $(sha256sum <"$fragment" | cut -d' ' -f1)"
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
*) dsw_die "usage: lab-kernel.sh [--update|--check|--module DIR [ARG...]|--shell CMD...]" ;;
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

# Which version: pinned, else the one built last, else the archive's.
ver=${DSW_LAB_VERSION:-}
if [ -z "$ver" ] && [ "$mode" != update ] && [ -L "$labs/current" ]; then
	ver=$(basename "$(readlink "$labs/current")")
fi
if [ -z "$ver" ]; then
	ensure_chroot update
	ver=$(candidate_version)
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || dsw_die "no $srcpkg in the $rel chroot's sources"
fi
lab="$labs/$ver"
src="$lab/$srcpkg"
build="$lab/build"

# kmake ARGS...: the kernel's make, at nice 19, in the chroot.
kmake() {
	lab_run nice -n 19 make -C "$src" O="$build" ARCH=x86_64 CC=$cc HOSTCC=$cc \
		KBUILD_BUILD_TIMESTAMP="$(cat "$lab/timestamp")" "$@"
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
				echo "lab config: wanted $sym off, got: $(grep "^$sym=" "$build/.config")" >&2
				bad=1
			fi
			;;
		CONFIG_*)
			if ! grep -qxF "$line" "$build/.config"; then
				sym=${line%%=*}
				echo "lab config: wanted $line, got: $(grep -E "^$sym=|^# $sym is not set" "$build/.config" || echo "$sym absent (dependencies not met)")" >&2
				bad=1
			fi
			;;
		esac
	done <"$fragment"
	grep -qx 'CONFIG_SWIOTLB_DYNAMIC=y' "$build/.config" ||
		dsw_die "CONFIG_SWIOTLB_DYNAMIC=y did not make it into the lab kernel's .config"
	[ $bad = 0 ] || dsw_die "the lab kernel's .config does not match $fragment"
}

build_kernel() {
	local t0 t1 krel

	dsw_log "lab: configuring $ver (alldefconfig + $(basename "$fragment"))"
	mkdir -p "$build"
	cp "$fragment" "$lab/lab.config-fragment"
	# A fixed build date (the source's), for identical rebuilds.
	date -u -r "$src/Makefile" '+%Y-%m-%d' >"$lab/timestamp"
	kmake -s KCONFIG_ALLCONFIG="$lab/lab.config-fragment" alldefconfig >"$lab/config.log" 2>&1 ||
		{ tail -20 "$lab/config.log" >&2; dsw_die "lab: configuration failed"; }
	check_config

	dsw_log "lab: building (nice 19, -j2; log: $lab/build.log)"
	t0=$(date +%s)
	kmake -j2 all >"$lab/build.log" 2>&1 ||
		{ tail -30 "$lab/build.log" >&2; dsw_die "lab: kernel build failed"; }
	t1=$(date +%s)
	krel=$(cat "$build/include/config/kernel.release")
	rm -rf "$lab/modules"
	kmake INSTALL_MOD_PATH="$lab/modules" modules_install >>"$lab/build.log" 2>&1 ||
		{ tail -30 "$lab/build.log" >&2; dsw_die "lab: modules_install failed"; }
	# The installed tree's build link points at the lab build tree.
	ln -sfn "$build" "$lab/modules/lib/modules/$krel/build"
	cp "$build/arch/x86/boot/bzImage" "$lab/bzImage"
	ln -sfn build/vmlinux "$lab/vmlinux"
	cp "$build/.config" "$lab/config"
	echo "$krel" >"$lab/kernelrelease"
	echo "$((t1 - t0))" >"$lab/build-seconds"
	{
		grep "^$srcpkg " "$lab/versions"
		echo "kernelrelease $krel"
		echo "compiler $(lab_run $cc --version | head -n1)"
		echo "build $((t1 - t0)) s (make -j2 all at nice 19, $(nproc) CPUs)"
	} >"$lab/versions.tmp"
	mv "$lab/versions.tmp" "$lab/versions"
	echo "$stamp" >"$lab/.ready"
	ln -sfn "$ver" "$labs/current"
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

exec {lab_lock_fd}>"$labs/$ver.lock"
flock "$lab_lock_fd"
if ! ready "$lab"; then
	ensure_chroot
	fetch
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

krel=$(cat "$lab/kernelrelease")
cat <<EOF
lab kernel $krel ($srcpkg $ver, CONFIG_SWIOTLB_DYNAMIC=y), built in $(cat "$lab/build-seconds") s
  bzImage  $lab/bzImage
  vmlinux  $lab/vmlinux (PVH entry: qemu -kernel boots it directly)
  config   $lab/config
  modules  $lab/modules/lib/modules/$krel
  build    $build (make -C $build M=DIR CC=$cc, in the $rel chroot: lab-kernel.sh --module DIR)
EOF

if [ "$mode" = check ]; then
	tmp=$(mktemp -d "$labs/module.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	make -s -C "$DSW_TOP" dkms-sources DEST="$tmp/dynswiotlb"
	if build_module "$tmp/dynswiotlb" >"$lab/module-build.log" 2>&1 &&
	   [ -f "$tmp/dynswiotlb/dynswiotlb.ko" ]; then
		echo "ok - dynswiotlb.ko builds against the lab tree ($(modinfo -F vermagic "$tmp/dynswiotlb/dynswiotlb.ko"))"
	else
		echo "not ok - dynswiotlb.ko against the lab tree (log: $lab/module-build.log)"
		tail -n 20 "$lab/module-build.log" | sed 's/^/# /'
		exit 1
	fi
	"$bench/lab-boot.sh" "$tmp/dynswiotlb/dynswiotlb.ko"
fi
