#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the scale figures of the README. Builds (once, cached) the
# test kernel without the debug set, builds the modules against it in a
# scratch copy of the tree, boots it and runs chimney_table_scale with a
# million connections on one device. Prints the figure line.
#
# usage: scripts/bench.sh [CONNECTIONS]   (default 1000000)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
conns=${1:-1000000}
out=${CHIMNEY_OUT:-$HOME/.cache/chimney/out}/bench

kdir=$(CHIMNEY_FLAVOUR=bench "$here/kernel.sh")
# Not in the tree: the tree's modules belong to the debug kernel.
rm -rf "$out/src"
mkdir -p "$out/src"
rsync -a --exclude .git --exclude '*.o' --exclude '*.ko' "$top/" "$out/src/"
make -s -C "$out/src" KDIR="$kdir" modules >/dev/null

"$here/qemu/run.sh" -k "$kdir/arch/x86/boot/bzImage" -t 1800 -m 6G \
	-o "$out/run" -v /nonexistent \
	--append "kunit.filter_glob=chimney_table.chimney_table_scale" \
	"$out/src/module/chimney.ko" \
	"$out/src/kunit/chimney_test.ko scale_conns=$conns"
fig=$(grep -o 'figure: .*' "$out/run/console.log" | head -n 1)
ok=$(grep -cE '^\s*ok [0-9]+ chimney_table_scale' "$out/run/result.txt" || true)
echo "bench: accelerator $(cat "$out/run/accel" 2>/dev/null || echo ?), $(nproc) host CPUs"
echo "bench: ${fig:-no figure line (see $out/run/console.log)}"
[ -n "$fig" ] && [ "$ok" -ge 1 ]
