#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh [OPTION...] TARGET OUT.cpio.gz
# initramfs.sh [OPTION...] --modules DIR OUT.cpio.gz
#
# The one initramfs builder of every harness guest (boot.sh's, the lab's,
# the probes'): busybox-static, kmod's tools and dynswiotlbctl (with their
# libraries), the installed selftests, init.sh as /init (it runs the
# script the kernel command line names), and a kernel's modules with a
# modules.dep so the guest's modprobe works:
#   TARGET        a Debian target: its kernel's driver modules
#                 (DSW_GUEST_MODULES, with their dependencies, decompressed),
#                 the DKMS-built dynswiotlb.ko in updates/dkms/ as on an
#                 installed system, the test modules in extra/;
#   --modules DIR every module of a kernel's modules directory DIR
#                 (.../lib/modules/RELEASE: the lab kernel), nothing else.
# Options:
#   --ko FILE        a module into extra/ (repeatable)
#   --fio            Debian's fio with its libraries (default if DSW_BENCH=io-*)
#   --file SRC DEST  a host file into the guest at DEST (repeatable), e.g.
#                    a script for dsw.script=
#   --tree           OUT is a directory to fill instead (a caller that adds
#                    to the tree packs it with vm.sh's dsw_pack_initrd)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vm.sh"

usage="usage: initramfs.sh [--ko FILE] [--fio] [--file SRC DEST] [--tree] TARGET|--modules DIR OUT"
moddir= fio= tree= kos=() files=()
case "${DSW_BENCH:-}" in io-*) fio=1 ;; esac
while [ $# -gt 0 ]; do
	case "$1" in
	--modules) moddir=${2:?$usage}; shift ;;
	--ko) kos+=("${2:?$usage}"); shift ;;
	--fio) fio=1 ;;
	--tree) tree=1 ;;
	--file) files+=("${2:?$usage}" "${3:?$usage}"); shift 2 ;;
	--*) dsw_die "$usage" ;;
	*) break ;;
	esac
	shift
done
if [ -n "$moddir" ]; then
	out=${1:?$usage}
	abi=$(basename "$moddir")
else
	target=${1:?$usage}
	out=${2:?$usage}
	abi=$(dsw_target_abi "$target")
	kroot="$(dsw_kernel_dir "$abi")/root"
	ko="$DSW_RESULTS/$target/dynswiotlb.ko"
	[ -f "$ko" ] || dsw_die "$target: $ko missing (build.sh failed?)"
fi
# Drivers the tests bind and unbind themselves (none is loaded at boot):
# those of the machine's device classes (DSW_DEVICES; vm.sh).
mods=${DSW_GUEST_MODULES:-$(dsw_vm_modules)}

if [ -n "$tree" ]; then
	work=$out
	mkdir -p "$work"
else
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
fi
chmod 755 "$work"	# the guest's /: mktemp's 0700 would shut out other users

mkdir -p "$work"/{bin,sbin,dev,proc,sys,tmp,run,etc,usr/sbin,lib/modules}
cp /bin/busybox "$work/bin/busybox"
ln -s busybox "$work/bin/sh"

# copy_with_libs BIN...: a host binary and the shared libraries it needs.
copy_with_libs() {
	local f lib

	for f in "$@"; do
		cp -L "$f" "$work/bin/"
		for lib in $(ldd "$f" | grep -o '/[^ ]*'); do
			mkdir -p "$work$(dirname "$lib")"
			cp -L "$lib" "$work$lib"
		done
	done
}
# kmod's modprobe/insmod/rmmod/lsmod/modinfo, as on a real system (busybox's
# modprobe retries a failed load, which doubles the module's log lines).
# busybox sh runs its own applets for bare command names, so the selftests
# call these by path (lib/dsw.sh).
copy_with_libs /bin/kmod
for t in modprobe insmod rmmod lsmod modinfo depmod; do
	ln -s /bin/kmod "$work/usr/sbin/$t"
done
# The project's tool, installed where users have it: the binary of the
# dynswiotlbctl package built for bookworm (run.sh builds the packages
# first; bookworm's, as the host's libraries go with it), else one built
# on the host (make demo, a run without packages). The guest's
# /usr/share/doc/dynswiotlbctl/package says which.
deb=$(ls "$DSW_RESULTS"/debs/bookworm/dynswiotlbctl_*_amd64.deb 2>/dev/null | tail -n 1 || true)
tool="$(realpath -m "$DSW_RESULTS")/tool/dynswiotlbctl"
origin=
if [ -n "$deb" ] && dpkg-deb -x "$deb" "$work/deb"; then
	tool=$work/deb/usr/sbin/dynswiotlbctl
	origin="$(basename "$deb") ($(dpkg-deb -f "$deb" Version))"
else
	[ -x "$tool" ] || make -s -C "$DSW_TOP/tools/dynswiotlbctl" OUTPUT="${tool%/*}/" >/dev/null 2>&1 || true
	origin="built from the checkout"
fi
if [ -x "$tool" ]; then	# else ctl.sh fails: "not installed"
	copy_with_libs "$tool"
	mv "$work/bin/dynswiotlbctl" "$work/usr/sbin/"
	ln -s /usr/sbin/dynswiotlbctl "$work/sbin/dynswiotlbctl"	# in init's PATH
	mkdir -p "$work/usr/share/doc/dynswiotlbctl/examples"
	echo "$origin" >"$work/usr/share/doc/dynswiotlbctl/package"
	# The package's examples (the monitoring script: lockdown.sh runs it).
	ex=$work/deb/usr/share/doc/dynswiotlbctl/examples
	[ -d "$ex" ] || ex=$DSW_TOP/docs/examples
	cp "$ex"/* "$work/usr/share/doc/dynswiotlbctl/examples/"
fi
rm -rf "$work/deb"
# fio, Debian's own, for the real-I/O benchmark (bench_io.sh): only in the
# guests that run it. With its libraries (ceph, gluster, ICU: its engines
# are linked in) it is 84 MB, which would add some 2 s of unpacking under
# TCG and 84 MB of RAM to every other boot.
[ -n "$fio" ] && copy_with_libs /usr/bin/fio
cp "$(dirname "$0")/init.sh" "$work/init"
chmod 755 "$work/init"

mdir="$work/lib/modules/$abi"
if [ -n "$moddir" ]; then
	cp -a "$moddir" "$work/lib/modules/"
	rm -f "$mdir/build" "$mdir/source"
else
	mkdir -p "$mdir"
	for m in $mods; do
		modprobe -d "$kroot" -S "$abi" --show-depends "$m" |
			sed -n 's/^insmod \([^ ]*\).*/\1/p'
	done | sort -u | while read -r f; do
		rel=${f#"$kroot"/lib/modules/"$abi"/}
		rel=${rel#"$kroot"/usr/lib/modules/"$abi"/}
		mkdir -p "$mdir/$(dirname "$rel")"
		case "$f" in
		*.xz) xz -dc "$f" >"$mdir/${rel%.xz}" ;;
		*.zst) zstd -qdc "$f" >"$mdir/${rel%.zst}" ;;
		*.gz) gzip -dc "$f" >"$mdir/${rel%.gz}" ;;
		*) cp "$f" "$mdir/$rel" ;;
		esac
	done
	mkdir -p "$mdir/updates/dkms"
	cp "$ko" "$mdir/updates/dkms/dynswiotlb.ko"
	# The selftests' own devices: the DMA exerciser and the benchmark.
	for m in dynswiotlb_test dynswiotlb_bench; do
		if [ -f "$DSW_RESULTS/$target/$m.ko" ]; then
			kos+=("$DSW_RESULTS/$target/$m.ko")
		fi
	done
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "$kroot/lib/modules/$abi/$f" ] && cp "$kroot/lib/modules/$abi/$f" "$mdir/"
	done
fi
mkdir -p "$mdir/extra"
for f in ${kos[@]+"${kos[@]}"}; do
	cp "$f" "$mdir/extra/"
done
depmod -b "$work" "$abi"
mkdir -p "$work/etc/modprobe.d"

# The selftests, as installed by their Makefile.
make -s -C "$DSW_TOP/selftests" install INSTALL_PATH="$work/selftests" >/dev/null

set -- ${files[@]+"${files[@]}"}
while [ $# -gt 0 ]; do
	mkdir -p "$work$(dirname "$2")"
	cp -p "$1" "$work$2"
	shift 2
done

[ -n "$tree" ] || dsw_pack_initrd "$work" "$out"
