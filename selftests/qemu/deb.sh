#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# deb.sh RELEASE OUTDIR: build the Debian packages (dynswiotlb-dkms, arch
# all; dynswiotlbctl) from this tree with debhelper in RELEASE's chroot,
# check them with lintian, and put the .deb files and the lintian report
# in OUTDIR. What `make deb` runs (for the machine's own release). The
# tree is copied as git knows it (tracked files, with their changes;
# a new file must be added to git first).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rel=${1:?usage: deb.sh RELEASE OUTDIR}
out=${2:?usage: deb.sh RELEASE OUTDIR}
"$(dirname "$0")/chroot.sh" "$rel" >&2
dir=$(dsw_chroot_dir "$rel")
dsw_lock_chroot "$rel"
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$DSW_TOP/dkms.conf")

# The build dependencies (debian/control): bullseye's dkms carries
# dh_dkms itself, later releases have it in dh-dkms.
pkgs="build-essential debhelper libkmod-dev pkgconf lintian fakeroot"
dsw_in_chroot "$rel" apt-cache show dh-dkms >/dev/null 2>&1 && pkgs+=" dh-dkms"
dsw_log "deb $rel: build dependencies ($pkgs)"
dsw_in_chroot "$rel" apt-get install -y -q $pkgs >"$dir/tmp/deb-apt.log" 2>&1 ||
	{ tail -n 20 "$dir/tmp/deb-apt.log" >&2; dsw_die "deb $rel: apt-get install failed"; }

build=/tmp/deb-build
rm -rf "$dir$build"
mkdir -p "$dir$build/dynswiotlb-$ver"
(cd "$DSW_TOP" && git ls-files -z | xargs -0 cp -a --parents -t "$dir$build/dynswiotlb-$ver") ||
	dsw_die "deb $rel: cannot copy the tree (a git checkout is needed)"
dsw_log "deb $rel: dpkg-buildpackage"
dsw_in_chroot "$rel" sh -c "cd $build/dynswiotlb-$ver && dpkg-buildpackage -us -uc" \
	>"$dir$build/build.log" 2>&1 ||
	{ tail -n 30 "$dir$build/build.log" >&2; dsw_die "deb $rel: dpkg-buildpackage failed"; }
# The source package and both binary ones. lintian exits 1 when it
# reports an error, 2 and more when it could not check at all.
rc=0
dsw_in_chroot "$rel" sh -c "cd $build && lintian --info --display-info ./*.changes" \
	>"$dir$build/lintian.raw" 2>&1 || rc=$?
grep -v 'running with root privileges' "$dir$build/lintian.raw" >"$dir$build/lintian.log" || true
[ $rc -lt 2 ] || { cat "$dir$build/lintian.log" >&2; dsw_die "deb $rel: lintian failed to run ($rc)"; }
mkdir -p "$out"
rm -f "$out"/*.deb
cp "$dir$build"/*.deb "$dir$build/build.log" "$dir$build/lintian.log" "$out/"
ls "$out"/*.deb
# Clean: no error or warning tag (informational ones are listed).
if grep -q '^[EW]: ' "$out/lintian.log"; then
	grep '^[EW]: ' "$out/lintian.log" >&2
	dsw_die "deb $rel: lintian reports errors or warnings ($out/lintian.log)"
fi
echo "lintian: no errors or warnings ($(grep -c '^[IPX]: ' "$out/lintian.log") informational tags)"
