# SPDX-License-Identifier: GPL-2.0
# Shared by lab-boot.sh and lab-bench.sh (sourced, after
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

# lab_root DIR [KO...]: an initramfs tree in DIR for the lab kernel:
# busybox-static, kmod's tools with their libraries (as on the harness's
# guests: lib/dsw.sh calls them by path), the lab kernel's modules and each
# KO in extra/. The host's depmod writes modules.dep for the host's kmod
# that reads it in the guest. DIR gets /init from the caller.
lab_root() {
	local root=$1 f t

	shift
	mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,run,etc,usr/sbin,lib/modules}
	chmod 755 "$root"	# the guest's /: mktemp's 0700 would shut out other users
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	cp -L /bin/kmod "$root/bin/kmod"
	for f in $(ldd /bin/kmod | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")"
		cp -L "$f" "$root$f"
	done
	for t in modprobe insmod rmmod lsmod modinfo depmod; do
		ln -s /bin/kmod "$root/usr/sbin/$t"
	done
	cp -a "$lab/modules/lib/modules/$krel" "$root/lib/modules/"
	rm -f "$root/lib/modules/$krel/build" "$root/lib/modules/$krel/source"
	mkdir -p "$root/lib/modules/$krel/extra"
	for f in "$@"; do
		cp "$f" "$root/lib/modules/$krel/extra/"
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
# second ($out/NAME.markers), two sparse 1 GiB scratch disks (virtio-blk
# through the DMA API, NVMe), QEMU killed after SECONDS. Returns QEMU's
# (or timeout's) status; the command line is in $out/NAME.cmdline.
lab_qemu() {
	local name=$1 initrd=$2 append=$3 seconds=$4 rc=0
	local cmd

	rm -f "$out/$name.console" "$out/$name.markers"
	truncate -s 0 "$out/$name.vda.img" "$out/$name.nvme.img"
	truncate -s 1G "$out/$name.vda.img" "$out/$name.nvme.img"
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
