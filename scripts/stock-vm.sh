#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a stock Debian kernel (scripts/stock.sh via run.sh script mode;
# its output goes to ttyS1, a host file). /init has already loaded
# /mods/01-dummy.ko (numdummies=1 by default: dummy0), /mods/02-veth.ko and
# /mods/03-chimney.ko. Two rounds of load, attach, offload, raise, check
# stats, unload; a third with a real TCP connection between two network
# namespaces (chimney-sock, the socket target's test program): offloaded
# through the ULP, uploaded and offloaded again across cycles with every
# byte checked, a FIN and a RST raised from the wire; then the kernel log
# must be clean. Last line: "stock-vm: PASS" or "stock-vm: FAIL".
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
# Round 3: a real connection on the socket target.
insmod "$ko" || fail "round 3: insmod"
ip netns add peer || fail "round 3: netns"
ip link add cs0 type veth peer name cs1 || fail "round 3: veth"
ip link set cs1 netns peer
ip addr add 10.77.0.1/24 dev cs0
ip link set cs0 up
ip -n peer addr add 10.77.0.2/24 dev cs1
ip -n peer link set cs1 up
ip -n peer link set lo up
ip netns exec peer chimney-sock server 7000 > /tmp/server.out 2>&1 &
server=$!
i=0
until grep -q listening /tmp/server.out; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "round 3: the server did not listen"
	sleep 0.1
done
echo "attach dev=cs0 target=sock" > $D/command || fail "round 3: attach target=sock"
chimney-sock stream 10.77.0.2 7000 cs0 3 393216 > /tmp/stream.out 2>&1 ||
	fail "round 3: stream: $(cat /tmp/stream.out)"
sed 's/^/# /' /tmp/stream.out
for t in fin rst; do
	chimney-sock $t 10.77.0.2 7000 cs0 > /tmp/$t.out 2>&1 ||
		fail "round 3: $t: $(cat /tmp/$t.out)"
	sed 's/^/# /' /tmp/$t.out
done
chimney-sock quit 10.77.0.2 7000 || fail "round 3: quit"
wait $server || fail "round 3: server: $(cat /tmp/server.out)"
grep -qx 'host_event_disconnect 2' $D/devices/cs0/stats ||
	fail "round 3: $(grep disconnect $D/devices/cs0/stats)"
grep -qx 'host_event_abort 1' $D/devices/cs0/stats ||
	fail "round 3: $(grep abort $D/devices/cs0/stats)"
echo "detach dev=cs0" > $D/command || fail "round 3: detach"
# The ULP's sockets pin the module until they are gone.
i=0
until rmmod chimney 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "round 3: rmmod"
	sleep 0.1
done
echo "# round 3 ok (a real connection offloaded and uploaded)"

dmesg | grep -i 'chimney.*loaded' | sed 's/^/# /'
if dmesg | grep -E 'WARNING|BUG|Oops|Call Trace'; then
	fail "the kernel log has a splat"
fi
echo "stock-vm: PASS"
