#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# style.sh: kernel coding style of the module, the test module and the
# tool (tools/dynswiotlbctl), as TAP:
#   checkpatch.pl --strict (no error, no warning), kernel-doc on every
#   non-static function, and sparse (make C=2) against 6.1 in its chroot.
# The kernel's scripts come from Debian's linux-source package (cached).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

rel=trixie
src=linux-source-6.12
scripts="$DSW_CACHE/scripts"
files=$(cd "$DSW_TOP" && ls module/*.c module/*.h module/compat/*.h \
	selftests/dsw_test/*.c selftests/dsw_test/*.h include/uapi/linux/dynswiotlb.h)
tool_files=$(cd "$DSW_TOP" && ls tools/dynswiotlbctl/*.c tools/dynswiotlbctl/*.h)
out="$DSW_RESULTS/style"
mkdir -p "$out"

if [ ! -f "$scripts/.ready" ]; then
	(
		dsw_lock_chroot "$rel"
		croot=$(dsw_chroot_dir "$rel")
		rm -f "$croot"/tmp/$src*.deb
		dsw_in_chroot "$rel" sh -c "cd /tmp && apt-get -q download $src" &&
		rm -rf "$scripts" && mkdir -p "$scripts" &&
		dpkg-deb --fsys-tarfile "$croot"/tmp/$src*.deb |
			tar -xO --wildcards "*/$src.tar.xz" |
			tar -xJ -C "$scripts" --strip-components=2 \
				"$src/scripts/checkpatch.pl" "$src/scripts/spelling.txt" \
				"$src/scripts/const_structs.checkpatch" "$src/scripts/kernel-doc" &&
		rm -f "$croot"/tmp/$src*.deb && touch "$scripts/.ready"
	) >"$out/fetch.log" 2>&1 || { echo "not ok - fetch $src scripts"; tail -5 "$out/fetch.log" | sed 's/^/# /'; exit 0; }
fi

n=0
report() { # report NAME LOG OK?
	if [ "$3" = 0 ]; then
		echo "ok - $1"
	else
		echo "not ok - $1"
		sed 's/^/# /' "$2" | head -n 40
	fi
}

# The per-device dma_map_ops copy is not const by design (shim.h). The tool
# is userspace: with no <linux/compiler.h>, it defines __printf and
# __maybe_unused itself (ctl.h), which checkpatch would point it to.
(
	cd "$DSW_TOP" &&
	perl "$scripts/checkpatch.pl" --no-tree --strict --terse \
		--ignore LINUX_VERSION_CODE,EMBEDDED_FILENAME,CONST_STRUCT -f $files
	perl "$scripts/checkpatch.pl" --no-tree --strict --terse \
		--ignore PREFER_DEFINED_ATTRIBUTE_MACRO -f $tool_files
) >"$out/checkpatch.log" 2>&1
bad=$(grep -cE ': (ERROR|WARNING):' "$out/checkpatch.log")
checks=$(grep -c ': CHECK:' "$out/checkpatch.log")
report "checkpatch --strict: no error or warning ($checks checks)" "$out/checkpatch.log" "$bad"

(cd "$DSW_TOP" && perl "$scripts/kernel-doc" -none -Wall $(printf '%s\n' $files $tool_files | grep '\.c$')) \
	>"$out/kernel-doc.log" 2>&1
report "kernel-doc: every non-static function documented" "$out/kernel-doc.log" \
	"$(grep -c . "$out/kernel-doc.log")"

# sparse, as the kernel runs it (make C=2), against 6.1 with gcc-12.
[ -s "$DSW_CACHE/kernels/target-6.1" ] || "$(dirname "$0")/fetch-kernel.sh" 6.1 >"$out/fetch-6.1.log" 2>&1
(
	dsw_lock_chroot bookworm
	croot=$(dsw_chroot_dir bookworm)
	abi=$(dsw_target_abi 6.1)
	dsw_in_chroot bookworm sh -c 'command -v sparse >/dev/null || apt-get -q -y install sparse' &&
	rm -rf "$croot/tmp/dsw-sparse" && mkdir -p "$croot/tmp/dsw-sparse" &&
	make -s -C "$DSW_TOP" dkms-sources DEST="$croot/tmp/dsw-sparse" &&
	dsw_in_chroot bookworm make -C "/usr/src/linux-headers-$abi" M=/tmp/dsw-sparse C=2 modules
) >"$out/sparse.log" 2>&1
rc=$?
[ $rc = 0 ] && rc=$(grep -cE '^/tmp/dsw-sparse/.*(warning|error):' "$out/sparse.log")
report "sparse (make C=2, 6.1): clean" "$out/sparse.log" "$rc"
