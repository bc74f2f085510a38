#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Passing vm test for the positive control; also proves the initramfs has a
# working iproute2 ip (busybox's cannot create dummy links).
set -eu
ip -V
ip link add st_dummy0 type dummy
ip link set st_dummy0 up
ip -br link show st_dummy0
ip link del st_dummy0
