#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot a VM with chimney and walk a scripted scenario
# (scripts/demo/scenario.sh). On a fresh Debian 12 machine it installs what
# it needs first (as root), and builds the test kernel once (cached).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

"$here/deps.sh"

echo "demo: test kernel (first run builds it, about 5 minutes)"
kdir=$("$top/scripts/kernel.sh")
make -s -C "$top" KDIR="$kdir" modules >/dev/null
out=${CHIMNEY_OUT:-$HOME/.cache/chimney/out}/demo
# The real connection's client and server (scenario part 6).
"$top/scripts/sock/build.sh" "$out-bin" >/dev/null
echo "demo: booting the VM"
exec "$top/scripts/qemu/run.sh" -k "$kdir/arch/x86/boot/bzImage" -t 600 \
	-o "$out" -b "$out-bin/chimney-sock" \
	-s "$here/demo/scenario.sh" "$top/module/chimney.ko"
