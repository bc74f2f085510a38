#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a stock Debian kernel (scripts/stock.sh via run.sh script mode;
# its output goes to ttyS1, a host file). /init has already loaded
# /mods/01-dummy.ko (numdummies=1 by default: dummy0) and /mods/02-chimney.ko.
# Two rounds of load, attach, offload, raise, check stats, unload, then the
# kernel log must be clean. Last line: "stock-vm: PASS" or "stock-vm: FAIL".
D=/sys/kernel/debug/chimney
ko=$(ls /mods/*-chimney.ko)

fail() {
	echo "stock-vm: FAIL: $*"
	dmesg | tail -n 30 | sed 's/^/# /'
	exit 1
}

echo "# kernel $(uname -r)"
for round in 1 2; do
	if [ "$round" != 1 ]; then
		insmod "$ko" || fail "round $round: insmod"
	fi
	[ -d $D ] || fail "round $round: no $D"
	[ -e /sys/class/net/dummy0 ] || ip link add dummy0 type dummy ||
		fail "round $round: no dummy0"
	ip link set dummy0 up || fail "round $round: dummy0 up"
	echo "attach dev=dummy0" > $D/command || fail "round $round: attach"
	echo "offload dev=dummy0 src=10.0.0.1:1000 dst=10.0.0.2:80" > $D/command ||
		fail "round $round: offload"
	id=$(cat $D/last_id)
	[ -n "$id" ] && [ "$id" != 0 ] || fail "round $round: last_id '$id'"
	echo "raise id=$id event=backlog bytes=65536" > $D/command ||
		fail "round $round: raise"
	grep -qx 'event_backlog 1' $D/stats || {
		sed 's/^/# /' $D/stats
		fail "round $round: stats lack 'event_backlog 1'"
	}
	rmmod chimney || fail "round $round: rmmod"
	[ ! -d $D ] || fail "round $round: $D left behind"
	echo "# round $round ok (id $id)"
done
dmesg | grep -i 'chimney.*loaded' | sed 's/^/# /'
if dmesg | grep -E 'WARNING|BUG|Oops|Call Trace'; then
	fail "the kernel log has a splat"
fi
echo "stock-vm: PASS"
