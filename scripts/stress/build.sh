#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the VM-side stress programs (static, so the busybox initramfs needs
# no libraries) into DIR: chimney-fuzz (fuzz.c), chimney-cycles (cycles.c),
# chimney-churn (churn.c), chimney-failnth (failnth.c). Each is one file
# (plus the static inline helpers of common.h): one gcc run per program.
# usage: scripts/stress/build.sh DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: build.sh DIR}
mkdir -p "$dir"
for p in fuzz cycles churn failnth; do
	[ -f "$here/$p.c" ] || continue
	gcc -static -O2 -Wall -Wextra -Wno-sign-compare -Wno-format-truncation -Werror -pthread \
		-o "$dir/chimney-$p" "$here/$p.c"
done
