#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A user's machine with UEFI Secure Boot on (the "secureboot" boot option
# of selftests/qemu/profiles: OVMF with Microsoft's keys, Debian's signed
# shim and grub, the kernel's own Debian signature, and the key DKMS
# signed the module with enrolled as a MOK, as `mokutil --import` leaves
# it). The kernel says Secure Boot is on and is locked down (integrity).
# An unsigned module (the selftests' test module) is refused, with
# EKEYREJECTED and the module loader's line where Secure Boot made it
# enforce signatures (module.sig_enforce=Y: IMA's architecture policy,
# 6.1 and later), else with EPERM and lockdown's line (5.10); Debian's
# own drivers load. What follows depends on how the module was signed
# (its signer, not the kernel's version):
# - signed (DKMS on Debian 12 and 13): the DKMS key is among the kernel's
#   keys (from the MOK list), the module loads with virtio-blk selected,
#   untainted by E (its signature verified); the drivers load, the disk
#   moves checksummed data through dynamic buffers, dynswiotlbctl status
#   shows it; it unloads.
# - unsigned (Debian 11's dkms signs nothing): its load is refused the
#   same way, as the README says for Debian 11 without a key of one's own.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

SEC=/sys/kernel/security
LD=$SEC/lockdown
CTL=/usr/sbin/dynswiotlbctl
V=$DSW_VIRTIO_BDF

ktap_begin
if ! grep -qw 'dsw.secureboot=1' /proc/cmdline; then
	ktap_skip "Secure Boot" "not booted through Secure Boot (the secureboot boot option of selftests/qemu/profiles)"
	ktap_end
fi
dsw_unload

# klog RE: the kernel log's lines matching RE, without timestamps.
klog() {
	dmesg | grep -E "$1" | sed 's/^\[[^]]*\] //'
}

l=$(klog 'Secure boot enabled' | head -n 1)
[ -n "$l" ] && ktap_ok "the kernel booted with Secure Boot on: $l" ||
	ktap_fail "the kernel booted with Secure Boot on" "$(dmesg | grep -i 'secure boot')"
[ -d $SEC ] && ! grep -q " $SEC " /proc/mounts && mount -t securityfs none $SEC
if grep -q '\[integrity\]' $LD 2>/dev/null; then
	ktap_ok "locked down by Secure Boot: $(cat $LD)"
	ktap_info "$(klog 'locked down' | head -n 1)"
else
	ktap_fail "locked down by Secure Boot ([integrity])" "$(cat $LD 2>&1); $(dmesg | grep -i lockdown)"
fi

# Who refuses an unsigned module: the module loader, where Secure Boot
# made it enforce signatures (IMA's architecture policy does: 6.1 and
# later), else lockdown (5.10: module.sig_enforce stays N).
if [ "$(cat /sys/module/module/parameters/sig_enforce 2>/dev/null)" = Y ]; then
	refuser="signatures enforced (module.sig_enforce=Y)"
	refusal_log='Loading of unsigned module is rejected'
	refusal_err='Key was rejected by service'
else
	refuser="lockdown (module.sig_enforce=N)"
	refusal_log='Lockdown: modprobe: unsigned module loading is restricted'
	refusal_err='Operation not permitted'
fi
ktap_info "unsigned modules are refused by $refuser"

# load_refused MODULE: modprobe MODULE fails with refusal_err, leaves it
# unloaded, and the kernel says why in exactly one line, refusal_log.
# Prints modprobe's error and that line (or what happened).
load_refused() {
	dsw_mark
	_out=$(modprobe "$1" 2>&1)
	_rc=$?
	_why=$(dsw_log_since | grep -F "$refusal_log" | sed 's/^\[[^]]*\] //')
	echo "$(echo "$_out" | sed 's/^modprobe: //'); kernel: $_why"
	if [ -d "/sys/module/$1" ]; then
		modprobe -r "$1"
		return 1
	fi
	[ $_rc -ne 0 ] && [ "$(echo "$_why" | grep -c .)" = 1 ] &&
		echo "$_out" | grep -qF "$refusal_err"
}

# The control: a module signed by no one.
t=$(modinfo -F signer dynswiotlb_test 2>&1)
[ -z "$t" ] && ktap_ok "the test module dynswiotlb_test.ko is unsigned" ||
	ktap_fail "the test module dynswiotlb_test.ko is unsigned" "signer: $t"
out=$(load_refused dynswiotlb_test) && ktap_ok "an unsigned module is refused: $out" ||
	ktap_fail "an unsigned module is refused" "$out"
ktap_check "Debian-signed drivers load (virtio_blk, nvme)" dsw_load_drivers

signer=$(modinfo -F signer dynswiotlb 2>&1)
if [ -z "$signer" ]; then
	ktap_ok "dynswiotlb.ko is unsigned (the release's dkms signs nothing)"
	out=$(load_refused dynswiotlb) &&
		ktap_ok "modprobe dynswiotlb is refused, as the README says for an unsigned module: $out" ||
		ktap_fail "modprobe dynswiotlb is refused (unsigned module)" "$out"
	ktap_skip "the module's I/O, status and unload under Secure Boot" "it cannot load unsigned (README: Secure Boot, Debian 11)"
	dsw_unbind_disks
	ktap_end
fi

# Signed: by the key the firmware's MokList handed to the kernel.
ktap_info "dynswiotlb.ko signer: $signer, key $(modinfo -F sig_key dynswiotlb)"
l=$(klog "Loaded X.509 cert '$signer: " | head -n 1)
if [ -n "$l" ]; then
	ktap_ok "the module's signing key is one of the kernel's: $l"
	ktap_info "$(klog 'MokListRT' | head -n 1)"
	# The keyrings that hold the shim's keys: .machine (linked into
	# .secondary_trusted_keys, so modules verify against it) and
	# .platform (the firmware's db).
	ktap_info "$(grep -E 'keyring +\.(machine|platform|secondary_trusted_keys|builtin_trusted_keys):' /proc/keys |
		awk '{ print $9, $10, "keys" }' | tr '\n' ' ')"
else
	ktap_fail "the module's signing key is one of the kernel's ('$signer' loaded from the MOK list)" \
		"$(klog 'X.509|MokList')"
fi

dsw_unbind_disks
dsw_mark
if out=$(modprobe dynswiotlb devices="$V" 2>&1) && dsw_loaded; then
	ktap_ok "modprobe dynswiotlb devices=$V: loads with signatures enforced"
	taint=$(cat $DSW_SYSMOD/taint 2>/dev/null)
	case "$taint" in
	*E*) ktap_fail "the kernel verified its signature (no E taint)" "module taint '$taint'; $(dsw_log_since)" ;;
	*) ktap_ok "the kernel verified its signature (module taint '$taint': no E)" ;;
	esac
else
	ktap_fail "modprobe dynswiotlb devices=$V: loads with signatures enforced" "$out; $(dsw_log_since)"
	ktap_end
fi
ktap_check "drivers load after the module" dsw_load_drivers
[ "$(dsw_state "$V")" = attached ] && ktap_ok "$V attached" ||
	ktap_fail "$V attached" "$(cat $DSW_DEBUGFS/devices 2>&1)"
echo dynamic-only >$DSW_SYSFS/devices/$V/mode
JOBS=2
MIB=8
dd if=/dev/urandom of=/tmp/pattern bs=1M count=$MIB 2>/dev/null
dsw_io /dev/vda "virtio-blk through dynamic buffers"
n=$(dsw_stat "$V" dynamic)
[ "${n:-0}" -gt 0 ] && ktap_ok "$V bounced dynamically: $n mappings" ||
	ktap_fail "$V bounced dynamically" "$(dsw_stats "$V")"
out=$($CTL status 2>&1)
rc=$?
[ $rc = 0 ] && echo "$out" | grep -q "^$V  *attached  *dynamic-only " &&
	ktap_ok "dynswiotlbctl status: $V attached, dynamic-only" ||
	ktap_fail "dynswiotlbctl status" "rc $rc: $out"
dsw_unbind_disks
ktap_check "the module unloads" dsw_unload
ktap_end
