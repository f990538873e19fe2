#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# initramfs.sh TARGET OUT.cpio.gz: build a guest initramfs for TARGET:
# busybox-static, kmod and dynswiotlbctl (with their libraries), the
# kernel's own driver modules (decompressed, with a modules.dep so the
# guest's modprobe works), the DKMS-built dynswiotlb.ko in updates/dkms/ as
# on an installed system, and the selftests.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

target=${1:?usage: initramfs.sh TARGET OUT}
out=${2:?usage: initramfs.sh TARGET OUT}
abi=$(dsw_target_abi "$target")
kroot="$(dsw_kernel_dir "$abi")/root"
ko="$DSW_RESULTS/$target/dynswiotlb.ko"
# Drivers the tests bind and unbind themselves (none is loaded at boot).
mods=${DSW_GUEST_MODULES:-virtio_pci virtio_blk nvme}

[ -f "$ko" ] || dsw_die "$target: $ko missing (build.sh failed?)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"	# the guest's /: mktemp's 0700 would shut out other users

mkdir -p "$work"/{bin,sbin,dev,proc,sys,tmp,run,etc,lib/modules/"$abi"}
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
mkdir -p "$work/usr/sbin"
for t in modprobe insmod rmmod lsmod modinfo depmod; do
	ln -s /bin/kmod "$work/usr/sbin/$t"
done
# The project's tool, built on the host (run.sh; here if it did not) and
# installed where users have it.
tool="$(realpath -m "$DSW_RESULTS")/tool/dynswiotlbctl"
[ -x "$tool" ] || make -s -C "$DSW_TOP/tools/dynswiotlbctl" OUTPUT="${tool%/*}/" >/dev/null 2>&1 || true
if [ -x "$tool" ]; then	# else ctl.sh fails: "not installed"
	copy_with_libs "$tool"
	mv "$work/bin/dynswiotlbctl" "$work/usr/sbin/"
	ln -s /usr/sbin/dynswiotlbctl "$work/sbin/dynswiotlbctl"	# in init's PATH
fi
# fio, Debian's own, for the real-I/O benchmark (bench_io.sh): only in the
# guests that run it. With its libraries (ceph, gluster, ICU: its engines
# are linked in) it is 84 MB, which would add some 2 s of unpacking under
# TCG and 84 MB of RAM to every other boot.
case "${DSW_BENCH:-}" in
io-*) copy_with_libs /usr/bin/fio ;;
esac
cp "$(dirname "$0")/init.sh" "$work/init"
chmod 755 "$work/init"

mdir="$work/lib/modules/$abi"
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
mkdir -p "$mdir/updates/dkms" "$mdir/extra"
cp "$ko" "$mdir/updates/dkms/dynswiotlb.ko"
# The selftests' own devices: the DMA exerciser and the benchmark.
for m in dynswiotlb_test dynswiotlb_bench; do
	if [ -f "$DSW_RESULTS/$target/$m.ko" ]; then
		cp "$DSW_RESULTS/$target/$m.ko" "$mdir/extra/"
	fi
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -f "$kroot/lib/modules/$abi/$f" ] && cp "$kroot/lib/modules/$abi/$f" "$mdir/"
done
depmod -b "$work" "$abi"
mkdir -p "$work/etc/modprobe.d"

# The selftests, as installed by their Makefile.
make -s -C "$DSW_TOP/selftests" install INSTALL_PATH="$work/selftests"

(cd "$work" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out"
