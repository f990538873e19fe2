#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-kernel.sh TARGET: resolve the kernel a Debian user of TARGET gets
# today through the linux-headers-amd64 metapackage (or DSW_KABI_<target>),
# install its headers in the release chroot (as a DKMS user would), and
# download, verify and unpack its image packages into the cache.
#
# Writes $DSW_CACHE/kernels/target-TARGET (the ABI name) and
# $DSW_CACHE/kernels/ABI/{root,versions}.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

target=${1:?usage: fetch-kernel.sh TARGET}
rel=$(dsw_target_release "$target")
suite=$(dsw_target_suite "$target")
croot=$(dsw_chroot_dir "$rel")
dsw_lock_chroot "$rel"
pinvar="DSW_KABI_${target//./_}"
# Backports are opt-in for a Debian user too: only then name the suite.
tsuite=
[ "$suite" != "$rel" ] && tsuite="-t $suite"
abi=${!pinvar:-}

# The debug and lab kernels: built (once, cached) from Debian's source
# package, then laid out like an unpacked Debian kernel for the harness.
flavour=$(dsw_target_built "$target")
if [ -n "$flavour" ]; then
	exec {dsw_lock_fd}>&-	# lab-kernel.sh takes the chroot lock itself
	"$DSW_TOP/bench/lab-kernel.sh" --flavour "$flavour" >&2 ||
		dsw_die "$target: its kernel did not build (bench/lab-kernel.sh --flavour $flavour)"
	lab=$(cd "$DSW_CACHE/lab/$(dsw_lab_link "$flavour")" && pwd -P)
	abi=$(cat "$lab/kernelrelease")
	kdir=$(dsw_kernel_dir "$abi")
	mkdir -p "$kdir"
	ln -sfn "$lab/modules" "$kdir/root"
	ln -sfn "$lab/bzImage" "$kdir/vmlinuz"
	ln -sfn "$lab/config" "$kdir/config"
	ln -sfn "$lab/build" "$kdir/build"
	{
		echo "target=$target release=$rel suite=$suite abi=$abi"
		cat "$lab/versions"
	} >"$kdir/versions"
	echo "$abi" >"$DSW_CACHE/kernels/target-$target.$$" &&
		mv -f "$DSW_CACHE/kernels/target-$target.$$" "$DSW_CACHE/kernels/target-$target"
	dsw_log "kernel $target: $abi ($lab)"
	exit 0
fi

if [ -z "$abi" ]; then
	# The metapackage's candidate, as apt would install it, names the ABI.
	meta=$(dsw_in_chroot "$rel" apt-cache $tsuite policy linux-headers-amd64 |
		sed -n 's/^ *Candidate: //p')
	abi=$(dsw_in_chroot "$rel" apt-cache show "linux-headers-amd64=$meta" |
		sed -n 's/^Depends:.*linux-headers-\([^ ,]*-amd64\).*/\1/p' | head -n1)
	[ -n "$abi" ] || dsw_die "$target: cannot resolve linux-headers-amd64 in $suite"
fi
dsw_log "kernel $target: $abi (from $suite)"

kdir=$(dsw_kernel_dir "$abi")
mkdir -p "$kdir"

# Headers (and through their dependencies the release's compiler) go into
# the chroot: that is what dkms builds against.
if ! dsw_in_chroot "$rel" dpkg-query -W -f '${Status}' "linux-headers-$abi" 2>/dev/null |
		grep -q 'install ok installed'; then
	dsw_log "kernel $target: installing linux-headers-$abi in the $rel chroot"
	dsw_in_chroot "$rel" apt-get -q -y $tsuite install "linux-headers-$abi" \
		>"$kdir/headers-install.log" 2>&1 ||
		{ tail -20 "$kdir/headers-install.log" >&2; dsw_die "$target: headers install failed"; }
fi

if [ ! -f "$kdir/.unpacked" ]; then
	# The image and, on 7.x, the split binary/modules packages it needs.
	# 7.x splits the image into linux-binary-* (vmlinuz), linux-modules-*
	# and linux-base-<abi> (config, modules.builtin, modules.order).
	pkgs="linux-image-$abi"
	for p in $(dsw_in_chroot "$rel" apt-cache depends "linux-image-$abi" |
			sed -n 's/^ *|\{0,1\}Depends: //p'); do
		case "$p" in
		linux-binary-"$abi"|linux-modules-"$abi"|linux-base-"$abi") pkgs+=" $p" ;;
		esac
	done
	[ -n "$pkgs" ] || dsw_die "$target: no image packages found for $abi"
	dsw_log "kernel $target: downloading $(echo $pkgs)"
	rm -rf "$kdir/debs" "$kdir/root"
	mkdir -p "$croot/tmp/dsw-debs" "$kdir/debs" "$kdir/root"
	rm -f "$croot"/tmp/dsw-debs/*.deb
	dsw_in_chroot "$rel" sh -c "cd /tmp/dsw-debs && apt-get -q $tsuite download $(echo $pkgs)" \
		>"$kdir/download.log" 2>&1 ||
		{ tail -20 "$kdir/download.log" >&2; dsw_die "$target: download failed"; }
	for p in $pkgs; do
		deb=$(ls "$croot"/tmp/dsw-debs/"${p}"_*.deb)
		ver=$(dsw_in_chroot "$rel" dpkg-deb -f "/tmp/dsw-debs/$(basename "$deb")" Version)
		want=$(dsw_in_chroot "$rel" apt-cache show "$p=$ver" |
			sed -n 's/^SHA256: //p' | head -n1)
		got=$(sha256sum "$deb" | cut -d' ' -f1)
		[ -n "$want" ] && [ "$want" = "$got" ] ||
			dsw_die "$target: $p $ver: sha256 $got does not match the archive's $want"
		echo "$p $ver sha256:$got" >>"$kdir/debs/verified"
		mv "$deb" "$kdir/debs/"
		dpkg-deb -x "$kdir/debs/$(basename "$deb")" "$kdir/root"
	done
	# 7.x installs into /usr/lib/modules; give depmod/modprobe one layout.
	if [ ! -d "$kdir/root/lib/modules/$abi" ] && [ -d "$kdir/root/usr/lib/modules/$abi" ]; then
		mkdir -p "$kdir/root/lib"
		ln -sfn ../usr/lib/modules "$kdir/root/lib/modules"
	fi
	depmod -b "$kdir/root" "$abi" 2>"$kdir/depmod.log"
	touch "$kdir/.unpacked"
fi

# The kernel image and config: /boot on <= 6.x, the modules directory on 7.x.
first_file() {
	local f

	for f in "$@"; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}
vmlinuz=$(first_file "$kdir/root/boot/vmlinuz-$abi" "$kdir/root/lib/modules/$abi/vmlinuz") ||
	dsw_die "$target: no vmlinuz in the image packages of $abi"
ln -sfn "$vmlinuz" "$kdir/vmlinuz"
config=$(first_file "$kdir/root/boot/config-$abi" "$kdir/root/lib/modules/$abi/config" \
	"$croot/usr/src/linux-headers-$abi/.config") ||
	dsw_die "$target: no kernel config for $abi"
ln -sfn "$config" "$kdir/config"

{
	echo "target=$target release=$rel suite=$suite abi=$abi"
	cat "$kdir/debs/verified"
	dsw_in_chroot "$rel" dpkg-query -W -f '${Package} ${Version}\n' "linux-headers-$abi" dkms
	dsw_in_chroot "$rel" sh -c "gcc_bin=\$(sed -n 's/^CONFIG_CC_VERSION_TEXT=\"\\(.*\\)\"/\\1/p' /usr/src/linux-headers-$abi/.config | cut -d' ' -f1); echo compiler: \$(\$gcc_bin --version | head -n1)"
} >"$kdir/versions"
# Renamed into place: a concurrent run never reads it empty.
echo "$abi" >"$DSW_CACHE/kernels/target-$target.$$" &&
	mv -f "$DSW_CACHE/kernels/target-$target.$$" "$DSW_CACHE/kernels/target-$target"
