# SPDX-License-Identifier: GPL-2.0
# Device events on real dummy and veth devices drive the fake targets
# (issue 4): attach by pattern, address removal, MTU, down/up, rename,
# namespace move, deletion.
. /vmtests/lib.inc
set -e

echo 'dummy*,veth*' > /sys/module/chimney/parameters/devices

# A device that exists before the pattern matched is picked up too.
ip link add dummy0 type dummy
ip link set dummy0 up
wait_for "dummy0 attached" attached dummy0
ip link add other0 type dummy
sleep 1
detached other0 || fail "other0 does not match the patterns"

# Local address removal invalidates the connections using it, only them.
ip addr add 10.0.0.1/24 dev dummy0
ip -6 addr add 2001:db8::1/64 dev dummy0 nodad
offload dummy0 10.0.0.1:1000 10.0.0.2:80 >/dev/null
offload dummy0 10.0.0.1:1001 10.0.0.2:80 >/dev/null
offload dummy0 10.0.0.9:1000 10.0.0.2:80 >/dev/null
offload dummy0 '[2001:db8::1]:1000' '[2001:db8::2]:443' >/dev/null
offload dummy0 '[2001:db8::9]:1000' '[2001:db8::2]:443' >/dev/null
[ "$(conns dummy0)" = 5 ] || fail "expected 5 connections"
ip addr del 10.0.0.1/24 dev dummy0
wait_for "IPv4 invalidation" sh -c "[ \$(grep -c '^[0-9]* dummy0 ' $D/connections) = 3 ]"
grep -q '10.0.0.9:1000' $D/connections || fail "10.0.0.9 connection was hit"
ip -6 addr del 2001:db8::1/64 dev dummy0
wait_for "IPv6 invalidation" sh -c "[ \$(grep -c '^[0-9]* dummy0 ' $D/connections) = 2 ]"
grep -q '2001:db8::9' $D/connections || fail "2001:db8::9 connection was hit"
[ "$(stat $D/devices/dummy0/stats host_reason_invalid_state)" = 3 ] ||
	fail "3 invalid_state retrieves expected"

# MTU change: every connection on the device is invalidated.
ip link set dummy0 mtu 1400
wait_for "MTU invalidation" sh -c "[ \$(grep -c '^[0-9]* dummy0 ' $D/connections) = 0 ]"

# Down: upload-all, no new offloads until up again.
offload dummy0 10.0.0.5:1 10.0.0.2:80 >/dev/null
ip link set dummy0 down
wait_for "upload-all on down" sh -c "[ \$(grep -c '^[0-9]* dummy0 ' $D/connections) = 0 ]"
[ "$(stat $D/devices/dummy0/stats host_upload_all)" = 1 ] || fail "no UPLOAD_ALL"
cmd_err "offload dev=dummy0 src=10.0.0.5:2 dst=10.0.0.2:80"
ip link set dummy0 up
sleep 0.5
offload dummy0 10.0.0.5:3 10.0.0.2:80 >/dev/null

# Rename: debugfs follows, the connection stays.
ip link set dummy0 down
ip link set dummy0 name dummyren
ip link set dummyren up
wait_for "debugfs rename" attached dummyren
detached dummy0 || fail "old debugfs name still there"

# veth: moving one end to another namespace tears its side down.
ip link add veth0 type veth peer name veth1
ip link set veth0 up
ip link set veth1 up
wait_for "veth attached" sh -c "[ -d $D/devices/veth0 ] && [ -d $D/devices/veth1 ]"
offload veth0 10.1.0.1:1 10.1.0.2:80 >/dev/null
offload veth1 10.1.0.2:80 10.1.0.1:1 >/dev/null
ip netns add ns1
ip link set veth1 netns ns1
wait_for "veth1 gone from init_net" sh -c "! grep -q '^[0-9]* veth1 ' $D/connections"
[ "$(conns veth0)" = 1 ] || fail "veth0 connection lost"

# Deleting devices with live connections leaves nothing behind.
ip link del veth0
ip link del dummyren
ip link del other0
ip netns del ns1
wait_for "all detached" sh -c "[ -z \"\$(ls $D/devices)\" ]"
[ "$(stat $D/stats connections_live)" = 0 ] || fail "connections left"
echo '' > /sys/module/chimney/parameters/devices
echo "netdev events: ok"
