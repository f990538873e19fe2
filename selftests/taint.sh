#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs last: the kernel is untainted but for O (out-of-tree) and E
# (unsigned module), and nothing warned, oopsed or leaked the module.
cd "$(dirname "$0")" || exit 1
. ./lib/ktap.sh
. ./lib/dsw.sh

ktap_begin
t=$(cat /proc/sys/kernel/tainted)
# O = 4096, E = 8192.
[ $((t & ~(4096 | 8192))) -eq 0 ] && ktap_ok "taint $t: nothing beyond O and E" ||
	ktap_fail "taint $t: nothing beyond O and E"
ktap_check "kernel log free of warnings, oopses and traces" sh -c \
	"! dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace'"
dsw_unload
ktap_check "module unloads at the end" dsw_unload
ktap_end
