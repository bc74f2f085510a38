#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install the Debian 12 packages make check and make demo need, if any is
# missing (as root). A no-op on a machine that has them all; .ci/run installs
# the same list unconditionally.
set -euo pipefail

pkgs=(build-essential linux-source-6.12 bc bison flex libelf-dev libssl-dev
      cpio xz-utils kmod dwarves python3 rsync qemu-system-x86
      busybox-static iproute2 sparse dkms linux-headers-amd64)

if [ "${1:-}" = --list ]; then
	echo "${pkgs[@]}"
	exit 0
fi

need=()
for p in "${pkgs[@]}"; do
	[[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == *"ok installed"* ]] ||
		need+=("$p")
done
[ ${#need[@]} -gt 0 ] || exit 0
echo "deps: installing ${need[*]}"
if [ "$(id -u)" != 0 ]; then
	echo "deps: run as root, or: sudo apt-get install ${need[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" < /dev/null > /dev/null
