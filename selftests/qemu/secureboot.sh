#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# secureboot.sh TARGET INITRD APPEND PREFIX: the machine of a UEFI Secure
# Boot boot (boot.sh's "secureboot" option): Debian's signed chain as a
# user of TARGET's release has it, with the key DKMS signed TARGET's
# module with enrolled as a Machine Owner Key. Prints QEMU's arguments
# that boot it (one per line: vm.sh's vm_firmware_args); writes
#   PREFIX.esp       a GPT disk with one EFI system partition: shim (signed
#                    by Microsoft) as \EFI\BOOT\BOOTX64.EFI, grub (signed
#                    by Debian) next to it, grub.cfg booting /vmlinuz (the
#                    target's own Debian-signed image, as fetch-kernel.sh
#                    unpacked it) with /initrd.img (INITRD) and the kernel
#                    command line APPEND
#   PREFIX.vars.fd   the firmware's variable store: OVMF's with Microsoft's
#                    keys enrolled and Secure Boot on (OVMF_VARS_4M.ms.fd),
#                    plus MokList holding the DKMS key of the chroot that
#                    built the module (/var/lib/dkms/mok.pub), as
#                    `mokutil --import` and MokManager would leave it
#                    (virt-fw-vars --add-mok); none on bullseye, whose dkms
#                    makes no key and signs nothing
#   PREFIX.firmware  what was used, with versions (boot.sh prints it)
# Exits 4, the reason on stdout, if the kernel image carries no
# signature (the debug kernel): there is nothing for shim to verify.
#
# The pieces come from the releases' chroots (their apt sources, lib.sh)
# and are cached under $DSW_CACHE/secureboot (delete it to fetch them
# again): shim-signed and grub-efi-amd64-signed of TARGET's release, and
# OVMF (ovmf) of trixie, whose QEMU the guests run on (lib.sh, dsw_qemu;
# the host's QEMU 7.2, DSW_QEMU=host, boots it too, and trixie's QEMU
# boots bookworm's OVMF 2022.11 as well: both tried on 2026-12-03);
# virt-fw-vars (python3-virt-firmware, trixie's) is installed in the trixie
# chroot and run there, once per key (the variable store is cached under
# a hash of the key and OVMF's version).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage="usage: secureboot.sh TARGET INITRD APPEND PREFIX"
target=${1:?$usage}
initrd=${2:?$usage}
append=${3:?$usage}
prefix=${4:?$usage}
rel=$(dsw_target_release "$target")
abi=$(dsw_target_abi "$target")
kernel=$(dsw_kernel_dir "$abi")/vmlinuz
ko=$DSW_RESULTS/$target/dynswiotlb.ko
sb=$DSW_CACHE/secureboot
fwrel=trixie		# the firmware's release: its QEMU's
# shim's GUID: MokList's namespace (and the certificate's owner, as mokutil
# writes it).
shim_guid=605dab50-e046-4300-abb6-3dd810dd8b23
mkdir -p "$sb"

# pe_signature FILE: the Authenticode signature (PKCS#7, DER) of a PE
# image: the certificate table (data directory 4 of the PE32+ optional
# header) holds it after its 8-byte WIN_CERTIFICATE header. Fails if the
# image has none.
pe_signature() {
	local pe dir off size len

	[ "$(od -An -c -N 2 "$1" | tr -d ' ')" = MZ ] || return 1
	pe=$(od -An -tu4 -j 60 -N 4 "$1" | tr -d ' ')
	[ "$(od -An -tx2 -j $((pe + 24)) -N 2 "$1" | tr -d ' ')" = 020b ] || return 1
	dir=$((pe + 24 + 112 + 4 * 8))
	off=$(od -An -tu4 -j $dir -N 4 "$1" | tr -d ' ')
	size=$(od -An -tu4 -j $((dir + 4)) -N 4 "$1" | tr -d ' ')
	[ "${size:-0}" -gt 8 ] || return 1
	len=$(od -An -tu4 -j "$off" -N 4 "$1" | tr -d ' ')
	dd if="$1" bs=64K iflag=skip_bytes,count_bytes skip=$((off + 8)) count=$((len - 8)) 2>/dev/null
}
# Which key signed the kernel (shim checks it against its vendor
# certificate, Debian's CA, at boot: a boot that reaches /init is the
# proof).
ksigner=$(pe_signature "$kernel" |
	openssl pkcs7 -inform DER -print_certs -noout 2>/dev/null | sed -n 's/^subject= *//p' | head -n 1 || true)
if [ -z "$ksigner" ]; then
	echo "the kernel image of $abi carries no signature (shim would refuse it)"
	exit 4
fi
case "$append" in
*[\"\'\$\;\\\{\}]*) dsw_die "secureboot: the kernel command line has characters grub.cfg would interpret: $append" ;;
esac

# Cache population is serialised (the boots of two kernels run side by
# side); a chroot is entered under its lock (chroot.sh, build.sh use it).
exec {sb_lock}>"$sb/.lock"
flock "$sb_lock"

# unpack REL DIR PACKAGE...: the release's current packages, downloaded in
# its chroot and unpacked into DIR (once); DIR/versions lists them.
unpack() {
	local r=$1 dir=$2 croot p deb
	shift 2

	[ -f "$dir/.unpacked" ] && return 0
	croot=$(dsw_chroot_dir "$r")
	rm -rf "$dir" "$croot/tmp/dsw-sb"
	mkdir -p "$dir/root" "$croot/tmp/dsw-sb"
	dsw_log "secureboot: downloading $* from $r"
	(
		dsw_lock_chroot "$r"
		dsw_in_chroot "$r" sh -c "cd /tmp/dsw-sb && apt-get -q download $*"
	) >"$dir.log" 2>&1 || { tail -n 20 "$dir.log" >&2; dsw_die "secureboot: download of $* in the $r chroot failed"; }
	for p in "$@"; do
		deb=$(ls "$croot/tmp/dsw-sb/${p}_"*.deb)
		dpkg-deb -x "$deb" "$dir/root"
		echo "$p $(dpkg-deb -f "$deb" Version)" >>"$dir/versions"
	done
	rm -rf "$croot/tmp/dsw-sb"
	touch "$dir/.unpacked"
}
unpack "$rel" "$sb/$rel" shim-signed grub-efi-amd64-signed
unpack "$fwrel" "$sb/ovmf" ovmf
shim=$sb/$rel/root/usr/lib/shim/shimx64.efi.signed
grub=$sb/$rel/root/usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed
code=$sb/ovmf/root/usr/share/OVMF/OVMF_CODE_4M.secboot.fd
msvars=$sb/ovmf/root/usr/share/OVMF/OVMF_VARS_4M.ms.fd
for f in "$shim" "$grub" "$code" "$msvars"; do
	[ -f "$f" ] || dsw_die "secureboot: $f missing from its package"
done

# The MOK: the DKMS key of the chroot that built the module, the key the
# module must be signed with (build.sh checked that DKMS signed it).
der=$(dsw_chroot_dir "$rel")/var/lib/dkms/mok.pub
signer=$(modinfo -F signer "$ko" 2>/dev/null) || dsw_die "secureboot: no module $ko"
mok=
if [ -f "$der" ]; then
	serial=$(openssl x509 -inform DER -in "$der" -noout -serial | sed 's/^serial=//' | tr a-f A-F)
	subject=$(openssl x509 -inform DER -in "$der" -noout -subject | sed 's/^subject= *//')
	sigkey=$(modinfo -F sig_key "$ko" | tr -d ':\n' | tr a-f A-F)
	if [ -n "$signer" ] && [ "${sigkey#0}" != "${serial#0}" ]; then
		dsw_die "secureboot: $ko is signed by key $sigkey, not by the $rel chroot's DKMS key $serial"
	fi
	hash=$(cat "$der" "$sb/ovmf/versions" | sha256sum | cut -c1-16)
	vars=$sb/vars/$hash.fd
	mok="MOK: $subject (serial $serial), the DKMS key of the $rel chroot (/var/lib/dkms/mok.pub)"
	if [ ! -f "$vars" ]; then
		(
			croot=$(dsw_chroot_dir "$fwrel")
			dsw_lock_chroot "$fwrel"
			if [ ! -x "$croot/usr/bin/virt-fw-vars" ]; then
				dsw_log "secureboot: installing python3-virt-firmware in the $fwrel chroot"
				dsw_in_chroot "$fwrel" apt-get -q -y install python3-virt-firmware
			fi
			rm -rf "$croot/tmp/dsw-vars"
			mkdir -p "$croot/tmp/dsw-vars"
			cp "$msvars" "$croot/tmp/dsw-vars/ms.fd"
			openssl x509 -inform DER -in "$der" -outform PEM -out "$croot/tmp/dsw-vars/mok.pem"
			dsw_in_chroot "$fwrel" virt-fw-vars --input /tmp/dsw-vars/ms.fd \
				--output /tmp/dsw-vars/vars.fd --add-mok "$shim_guid" /tmp/dsw-vars/mok.pem
			dsw_in_chroot "$fwrel" virt-fw-vars --input /tmp/dsw-vars/vars.fd --print \
				>"$croot/tmp/dsw-vars/print"
			grep -q '^MokList ' "$croot/tmp/dsw-vars/print" ||
				{ echo "no MokList in the new variable store"; exit 1; }
			mkdir -p "$sb/vars"
			dsw_in_chroot "$fwrel" dpkg-query -W -f '${Package} ${Version}\n' \
				python3-virt-firmware >"$vars.tool"
			cp "$croot/tmp/dsw-vars/vars.fd" "$vars.tmp"
			mv "$vars.tmp" "$vars"
			rm -rf "$croot/tmp/dsw-vars"
		) >"$sb/vars.log" 2>&1 ||
			{ tail -n 20 "$sb/vars.log" >&2; dsw_die "secureboot: the variable store with the MOK could not be made"; }
	fi
	mok+=", enrolled by $(cat "$vars.tool")"
else
	vars=$msvars
	mok="MOK: none (the $rel chroot has no DKMS key: its dkms signs nothing)"
fi
exec {sb_lock}>&-

# The ESP: kernel, initramfs and boot loaders with room to spare, in a
# FAT32 partition from 1 MiB on, the backup GPT after it.
bytes=0
for s in $(stat -Lc %s "$kernel" "$initrd" "$shim" "$grub"); do bytes=$((bytes + s)); done
mib=$((bytes / 1048576 + 16))
[ $mib -ge 40 ] || mib=40
esp=$prefix.esp
rm -f "$esp"
truncate -s $(((mib + 2) * 1048576)) "$esp"
echo "start=2048, size=$((mib * 2048)), type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"EFI system partition\"" |
	sfdisk -q --label gpt "$esp" >/dev/null
part="$esp@@1M"
cfg=$(mktemp)
trap 'rm -f "$cfg"' EXIT
# The signed grub's built-in configuration reads $prefix/grub.cfg, its
# prefix being /EFI/debian (as grub-install leaves it); \EFI\BOOT\ is
# where it looks when that is missing. No menu and no message: the
# firmware's console is on the marker port too (OVMF writes to both
# serial ports), and grub ends every line it writes there with "\n\r",
# which would put a CR before init's first marker. A kernel that shim
# refuses (a bad signature, an SBAT revocation) gets grub's error on the
# console and the machine powered off, not a prompt.
cat >"$cfg" <<EOF
if linux /vmlinuz $append; then
	initrd /initrd.img
	boot
fi
echo "dsw: grub could not boot /vmlinuz ($abi): the error above"
sleep 1
halt
EOF
{
	MTOOLS_SKIP_CHECK=1 mformat -i "$part" -T $((mib * 2048)) -h 64 -s 32 -F -v ESP ::
	mmd -i "$part" ::/EFI ::/EFI/BOOT ::/EFI/debian
	mcopy -i "$part" "$shim" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$part" "$grub" ::/EFI/BOOT/grubx64.efi
	mcopy -i "$part" "$cfg" ::/EFI/debian/grub.cfg
	mcopy -i "$part" "$cfg" ::/EFI/BOOT/grub.cfg
	mcopy -i "$part" "$kernel" ::/vmlinuz
	mcopy -i "$part" "$initrd" ::/initrd.img
} >"$prefix.esp.log" 2>&1 || { cat "$prefix.esp.log" >&2; dsw_die "secureboot: the ESP could not be written"; }
rm -f "$prefix.esp.log"
cp "$vars" "$prefix.vars.fd"

{
	echo "UEFI Secure Boot: OVMF $(sed -n 's/^ovmf //p' "$sb/ovmf/versions") ($fwrel; OVMF_CODE_4M.secboot.fd," \
		"OVMF_VARS_4M.ms.fd: Microsoft's keys), $(paste -sd, "$sb/$rel/versions" | sed 's/,/, /g') ($rel)," \
		"linux $abi signed by '$ksigner'"
	echo "$mok; dynswiotlb.ko signer: '${signer:-none}'"
} >"$prefix.firmware"

# q35's AHCI holds the ESP and boots first; the firmware's code read-only,
# its variables the boot's own copy; SMM keeps them from the guest.
printf '%s\n' -global driver=cfi.pflash01,property=secure,value=on \
	-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code" \
	-drive "if=pflash,format=raw,unit=1,file=$prefix.vars.fd" \
	-drive "if=none,id=esp,format=raw,file=$esp" \
	-device ide-hd,bus=ide.0,drive=esp,bootindex=0
