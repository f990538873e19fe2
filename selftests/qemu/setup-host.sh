#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# setup-host.sh: install the Debian 12 packages the build and test harness
# needs on the host (only the missing ones; apt-get update once).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

need="qemu-system-x86 busybox-static debootstrap kmod cpio xz-utils zstd gzip
make gcc libc6-dev coreutils util-linux libkmod-dev pkg-config
fio gnuplot-nox"

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
