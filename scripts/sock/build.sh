#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the socket target's VM-side test program (static, so the busybox
# initramfs needs no libraries) into DIR: chimney-sock (sock.c), run by
# scripts/vmtests/50-sock.sh.
# usage: scripts/sock/build.sh DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: build.sh DIR}
mkdir -p "$dir"
gcc -static -O2 -Wall -Wextra -Wno-sign-compare -Werror \
	-o "$dir/chimney-sock" "$here/sock.c"
