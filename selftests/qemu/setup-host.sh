#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# setup-host.sh: install the Debian 12 packages the build and test harness
# needs on the host (only the missing ones; apt-get update once), and the
# QEMU the guests run on: trixie's, in its chroot (chroot.sh trixie, once;
# lib.sh's dsw_qemu says why), unless DSW_QEMU=host.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need="qemu-system-x86 busybox-static debootstrap kmod cpio xz-utils zstd gzip
make gcc libc6-dev coreutils util-linux libkmod-dev pkg-config
fio gnuplot-nox mtools fdisk openssl"

[ "$(id -u)" = 0 ] || dsw_die "make check needs root (debootstrap, chroot, mount)"
missing=
for p in $need; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=" $p"
done
if [ -n "$missing" ]; then
	dsw_log "host: installing$missing"
	apt-get -q update >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends install $missing \
		>/dev/null
fi

if [ "${DSW_QEMU:-}" != host ] &&
		[ ! -x "$(dsw_chroot_dir trixie)/usr/bin/qemu-system-$DSW_ARCH" ]; then
	dsw_log "host: the guests' QEMU (trixie's, in its chroot)"
	"$(dirname "$0")/chroot.sh" trixie
fi
