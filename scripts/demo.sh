#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boot a VM with chimney and walk a scripted scenario
# (scripts/demo/scenario.sh). On a fresh Debian 12 machine it installs what
# it needs first (as root), and builds the test kernel once (cached).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

need=()
for p in linux-source-6.12 qemu-system-x86 busybox-static iproute2 bc bison \
	 flex libelf-dev libssl-dev cpio xz-utils kmod dwarves python3 rsync \
	 build-essential; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "demo: installing ${need[*]}"
	[ "$(id -u)" = 0 ] || { echo "demo: run as root to install packages" >&2; exit 1; }
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "demo: test kernel (first run builds it, about 5 minutes)"
kdir=$("$top/scripts/kernel.sh")
make -s -C "$top" KDIR="$kdir" modules >/dev/null
echo "demo: booting the VM"
exec "$top/scripts/qemu/run.sh" -k "$kdir/arch/x86/boot/bzImage" -t 600 \
	-o "${CHIMNEY_OUT:-$HOME/.cache/chimney/out}/demo" \
	-s "$here/demo/scenario.sh" "$top/module/chimney.ko"
