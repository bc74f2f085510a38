# SPDX-License-Identifier: GPL-2.0
# Runs last: leaves an attached device with live connections (one with an
# initiate still pending) behind, so that the harness's rmmod of chimney
# proves unloading tears them down and leaks nothing (kmemleak, refcount
# tracker and the rmmod verdict check that).
. /vmtests/lib.inc
set -e

ip link add dummy9 type dummy
ip link set dummy9 up
cmd "attach dev=dummy9"
offload dummy9 10.9.0.1:1 10.9.0.2:80 >/dev/null
offload dummy9 '[2001:db8::9]:1' '[2001:db8::a]:80' >/dev/null
echo 5000 > $D/devices/dummy9/initiate_delay_ms
offload dummy9 10.9.0.1:2 10.9.0.2:80 >/dev/null
[ "$(conns dummy9)" = 3 ] || fail "expected 3 live connections"
echo "left 3 connections on dummy9 for the unload"
