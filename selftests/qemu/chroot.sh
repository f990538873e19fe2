#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# chroot.sh RELEASE: create (once) and refresh a minimal chroot of a Debian
# release with its own compiler, kbuild prerequisites and dkms, so modules
# are built the way DKMS builds them on that release. The machine's own
# apt sources are never touched: the chroot carries its own.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rel=${1:?usage: chroot.sh RELEASE}
dir=$(dsw_chroot_dir "$rel")
dsw_lock_chroot "$rel"
# Bump when the package list changes so cached chroots are rebuilt.
stamp="v1"
pkgs="make,libc6-dev,dkms,kmod,xz-utils,zstd,dwarves,ca-certificates,libelf-dev"
# Installed on top when missing (no rebuild of a cached chroot): trixie's
# QEMU, which runs guests with parallel vCPUs (lib.sh, dsw_qemu).
case "$rel" in
trixie) extra="qemu-system-x86" ;;
*) extra= ;;
esac

write_sources() {
	local s="$dir/etc/apt/sources.list"
	{
		echo "deb $DSW_MIRROR $rel main"
		echo "deb $DSW_MIRROR $rel-updates main"
		echo "deb $DSW_SECURITY_MIRROR $rel-security main"
		case "$rel" in
		trixie) echo "deb $DSW_MIRROR $rel-backports main" ;;
		esac
	} >"$s"
	# A minimal build root: no recommends, no documentation.
	printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
		>"$dir/etc/apt/apt.conf.d/90dynswiotlb"
}

if [ "$(cat "$dir/.dsw-ready" 2>/dev/null)" != "$stamp" ]; then
	dsw_mirrors
	dsw_log "chroot $rel: debootstrap (first run only, ~1-2 min)"
	rm -rf "$dir" "$dir.tmp"
	mkdir -p "$(dirname "$dir")"
	debootstrap --variant=minbase --include="$pkgs" "$rel" "$dir.tmp" \
		"$DSW_MIRROR" >"$dir.log" 2>&1 ||
		{ tail -20 "$dir.log" >&2; dsw_die "debootstrap $rel failed (log: $dir.log)"; }
	mv "$dir.tmp" "$dir"
	write_sources
	echo "$stamp" >"$dir/.dsw-ready"
fi

if [ -z "${DSW_OFFLINE:-}" ]; then
	dsw_log "chroot $rel: apt-get update"
	dsw_in_chroot "$rel" apt-get -q update >"$dir.log" 2>&1 ||
		{ tail -20 "$dir.log" >&2; dsw_die "apt-get update in $rel chroot failed"; }
fi

missing=
for p in $extra; do
	dsw_in_chroot "$rel" dpkg-query -W -f '${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed' || missing+=" $p"
done
if [ -n "$missing" ]; then
	dsw_log "chroot $rel: installing$missing"
	dsw_in_chroot "$rel" apt-get -q -y --no-install-recommends install $missing \
		>>"$dir.log" 2>&1 ||
		{ tail -20 "$dir.log" >&2; dsw_die "installing$missing in the $rel chroot failed"; }
fi
