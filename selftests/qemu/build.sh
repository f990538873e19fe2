#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh TARGET: build the module for TARGET's kernel inside the release's
# chroot, with the release's own compiler:
#   1. a W=1 build that must be free of warnings;
#   2. the DKMS path users take: the release's dynswiotlb-dkms package
#      installed with apt (DKMS builds, installs and signs), then purged;
#   3. the selftests' helper module (selftests/dsw_test), built the same way.
# The DKMS-installed module is what the guests boot with: it is copied to
# $DSW_RESULTS/TARGET/dynswiotlb.ko, the test module next to it. Prints TAP
# lines for each step.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

target=${1:?usage: build.sh TARGET}
rel=$(dsw_target_release "$target")
abi=$(dsw_target_abi "$target")
croot=$(dsw_chroot_dir "$rel")
dsw_lock_chroot "$rel"
out="$DSW_RESULTS/$target"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$DSW_TOP/dkms.conf")
mkdir -p "$out"

# The sources DKMS ships: what `make dkms-install` copies, nothing else.
copy_sources() {
	rm -rf "$1"
	mkdir -p "$1"
	make -s -C "$DSW_TOP" dkms-sources DEST="$1"
}

n=0
result() { # result OK|FAIL NAME [LOG]
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		[ -n "${3:-}" ] && sed 's/^/# /' "$3" | tail -n 30
	fi
}

echo "TAP version 13"

# The debug and lab kernels have no headers package, so no DKMS: the module
# and the test modules are built W=1 against their build trees
# (bench/lab-kernel.sh).
flavour=$(dsw_target_built "$target")
if [ -n "$flavour" ]; then
	exec {dsw_lock_fd}>&-	# lab-kernel.sh takes the chroot lock itself
	for m in module test; do
		d=$DSW_CACHE/lab/$flavour-build-$m
		rm -rf "$d"
		if [ $m = module ]; then
			copy_sources "$d"
		else
			mkdir -p "$d/selftests"
			cp -r "$DSW_TOP/include" "$d/"
			cp -r "$DSW_TOP/selftests/dsw_test" "$d/selftests/"
			d=$d/selftests/dsw_test
		fi
		"$DSW_TOP/bench/lab-kernel.sh" --flavour "$flavour" --module "$d" W=1 \
			>"$out/build-$m.log" 2>&1
		if [ $? = 0 ] && ! grep -Eq 'warning:|error:' "$out/build-$m.log"; then
			cp "$d"/*.ko "$out/"
			result OK "build-w1 $m ($abi, gcc-14)"
		else
			rm -f "$out"/dynswiotlb*.ko
			result FAIL "build-w1 $m ($abi)" "$out/build-$m.log"
		fi
	done
	echo "ok 3 dkms # SKIP the $target kernel has no headers package"
	echo "1..3"
	exit 0
fi

# 1. W=1, distribution compiler.
w1=/tmp/dsw-w1
copy_sources "$croot$w1"
dsw_in_chroot "$rel" make -C "/usr/src/linux-headers-$abi" M=$w1 W=1 modules \
	>"$out/build-w1.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -Eq 'warning:|error:' "$out/build-w1.log"; then
	result OK "build-w1 ($abi, $(grep -m1 -o 'gcc-[0-9]*' "$croot/usr/src/linux-headers-$abi/.config" 2>/dev/null || echo gcc))"
else
	result FAIL "build-w1 ($abi)" "$out/build-w1.log"
fi

# 2. DKMS, the way a user of the release gets it: the release's
# dynswiotlb-dkms package (selftests/qemu/deb.sh, built by run.sh) is
# installed with apt, DKMS builds and installs the module for every kernel
# whose headers the chroot has, and signs it where the release's dkms does
# (bookworm and later: with its own MOK key, /var/lib/dkms/mok.pub). The
# module copied out is the one the guests boot. Then the package is purged:
# nothing of it may stay in updates/dkms or in DKMS's tree.
debs="$DSW_RESULTS/debs/$rel"
pkg=$(ls "$debs"/dynswiotlb-dkms_"$ver"_all.deb 2>/dev/null)
(
	set -x
	[ -n "$pkg" ] || { echo "no package in $debs"; exit 1; }
	# a tree registered by hand earlier (the checkout's make dkms-install)
	dsw_in_chroot "$rel" dkms remove -m dynswiotlb -v "$ver" --all || true
	rm -rf "$croot/usr/src/dynswiotlb-$ver"
	cp "$pkg" "$croot/tmp/"
	dsw_in_chroot "$rel" apt-get install -y -q --reinstall "/tmp/${pkg##*/}" &&
	dsw_in_chroot "$rel" dkms status -m dynswiotlb -k "$abi"
) >"$out/dkms.log" 2>&1
rc=$?
ko=$(ls "$croot/lib/modules/$abi/updates/dkms/"dynswiotlb.ko* 2>/dev/null | head -n1)
if [ $rc -eq 0 ] && [ -n "$ko" ] && grep -q "$abi.*: installed" "$out/dkms.log"; then
	case "$ko" in
	*.xz) xz -dc "$ko" >"$out/dynswiotlb.ko" ;;
	*.zst) zstd -qdc "$ko" >"$out/dynswiotlb.ko" ;;
	*.gz) gzip -dc "$ko" >"$out/dynswiotlb.ko" ;;
	*) cp "$ko" "$out/dynswiotlb.ko" ;;
	esac
	installed=1
	result OK "apt install ${pkg##*/}: DKMS built and installed it for $abi (${ko#"$croot"})"
	# Signed where the release's dkms signs, with the key it made.
	dkmsver=$(dsw_in_chroot "$rel" dpkg-query -W -f '${Version}' dkms)
	signer=$(dsw_in_chroot "$rel" modinfo -F signer "${ko#"$croot"}" 2>/dev/null)
	sigkey=$(dsw_in_chroot "$rel" modinfo -F sig_key "${ko#"$croot"}" 2>/dev/null | tr -d ':\n' | tr a-f A-F)
	if [ "$rel" = bullseye ]; then
		[ -z "$signer" ] && result OK "not signed: dkms $dkmsver signs only with Ubuntu's kmodsign (README: Secure Boot)" ||
			result FAIL "bullseye's dkms does not sign (signer: $signer)"
	else
		serial=$(dsw_in_chroot "$rel" openssl x509 -inform DER -in /var/lib/dkms/mok.pub -noout -serial 2>/dev/null |
			sed 's/^serial=//' | tr a-f A-F)
		if [ -n "$signer" ] && [ -n "$serial" ] && [ "${sigkey#0}" = "${serial#0}" ]; then
			result OK "signed by dkms $dkmsver with its MOK key (signer \"$signer\", key $serial)"
		else
			result FAIL "signed by dkms $dkmsver with /var/lib/dkms/mok.pub (signer '$signer', sig_key '$sigkey', mok.pub serial '$serial')"
		fi
	fi
else
	rm -f "$out/dynswiotlb.ko"
	result FAIL "apt install dynswiotlb-dkms: DKMS built and installed it for $abi" "$out/dkms.log"
fi
# Purged: no module of it left for any kernel, nothing in DKMS's tree.
dsw_in_chroot "$rel" apt-get purge -y -q dynswiotlb-dkms >>"$out/dkms.log" 2>&1
left=$(ls -d "$croot"/lib/modules/*/updates/dkms/dynswiotlb.ko* "$croot/var/lib/dkms/dynswiotlb" \
	"$croot/usr/src/dynswiotlb-$ver" 2>/dev/null)
if [ -z "${installed:-}" ]; then
	result FAIL "apt purge dynswiotlb-dkms: nothing to check, the install failed"
elif [ -z "$left" ]; then
	result OK "apt purge dynswiotlb-dkms: nothing left in updates/dkms, /var/lib/dkms or /usr/src"
else
	result FAIL "apt purge dynswiotlb-dkms leaves nothing behind" <(echo "$left")
fi
# 3. The test and benchmark modules, W=1 too.
tdir=/tmp/dsw-test
rm -rf "$croot$tdir"
mkdir -p "$croot$tdir/selftests"
cp -r "$DSW_TOP/include" "$croot$tdir/"
cp -r "$DSW_TOP/selftests/dsw_test" "$croot$tdir/selftests/"
dsw_in_chroot "$rel" make -C "/usr/src/linux-headers-$abi" M=$tdir/selftests/dsw_test W=1 modules \
	>"$out/build-test.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -Eq 'warning:|error:' "$out/build-test.log"; then
	cp "$croot$tdir/selftests/dsw_test/"dynswiotlb_{test,bench}.ko "$out/"
	result OK "build-w1 test and benchmark modules"
else
	rm -f "$out/"dynswiotlb_{test,bench}.ko
	result FAIL "build-w1 test and benchmark modules" "$out/build-test.log"
fi
echo "1..$n"
