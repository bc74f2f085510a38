# SPDX-License-Identifier: GPL-2.0
# The socket target follows its device (issue 12), as the fake target
# does: a local address removed and an MTU change raise
# Retrieve(InvalidState) on the live TCP connections concerned; the link
# going down uploads them all (UPLOAD_ALL) and offloads are refused until
# it is up again (OFFLOAD_RESUME). Each connection carries on as plain
# Linux TCP, its stream checked byte for byte. chimney-sock
# (scripts/sock/sock.c) is both ends.
. /vmtests/lib.inc
set -e

command -v chimney-sock >/dev/null || fail "chimney-sock is not in the initramfs"
ref0=$(cat /sys/module/chimney/refcnt)

sock_pair cspeer cs0 cs1 10.77.0 2001:db8:77
# The link going down keeps the IPv6 address: its removal would be an
# address event of its own (and there would be no address when up again).
echo 1 > /proc/sys/net/ipv6/conf/cs0/keep_addr_on_down
# chimney-sock's fence: device events are handled in order, one at a
# time, and this dummy's link, which its fake target shows as
# target_link, going up or down is handled after every event before it.
ip link add csfence type dummy
cmd "attach dev=csfence"
cmd "attach dev=cs0 target=sock"

ip netns exec cspeer chimney-sock server 7000 > /tmp/sock-link-server.out 2>&1 &
server=$!
wait_for "the server" sh -c "grep -q listening /tmp/sock-link-server.out"

# Connections over IPv4, v4-mapped IPv6 and IPv6; the IPv4 address goes.
chimney-sock addr 10.77.0.2 2001:db8:77::2 7000 cs0 csfence \
	"ip addr del 10.77.0.1/24 dev cs0" "ip addr add 10.77.0.1/24 dev cs0"
# Both ends of the link change their MTU (a frame over the receiver's MTU
# is dropped by veth), connections idle meanwhile.
chimney-sock mtu 10.77.0.2 2001:db8:77::2 7000 cs0 csfence \
	"ip -n cspeer link set cs1 mtu 1400 && ip link set cs0 mtu 1400" \
	"ip link set cs0 mtu 1500 && ip -n cspeer link set cs1 mtu 1500"
# Administratively down: not a carrier loss (50-sock's rto test cuts the
# path that way and gets its retransmission timeout).
chimney-sock down 10.77.0.2 2001:db8:77::2 7000 cs0 csfence \
	"ip link set cs0 down" "ip link set cs0 up"
chimney-sock quit 10.77.0.2 7000
wait $server || fail "server: $(cat /tmp/sock-link-server.out)"

S=$D/devices/cs0/stats
# addr: 2, mtu: 2 at each of its two changes.
[ "$(stat $S sock_invalidated)" = 6 ] ||
	fail "sock_invalidated $(stat $S sock_invalidated), expected 6"
[ "$(stat $S host_reason_invalid_state)" = 6 ] ||
	fail "host_reason_invalid_state $(stat $S host_reason_invalid_state), expected 6"
[ "$(stat $S host_upload_all) $(stat $S host_resume) $(stat $S host_paused)" = "1 1 0" ] ||
	fail "host_upload_all, host_resume, host_paused: $(grep -E '^host_(upload_all|resume|paused) ' $S)"
grep '^rule_' $S | grep -v ' 0$' && fail "rule violations"
[ "$(stat $S target_connections)" = 0 ] || fail "connections left"
check_books

# The sockets that held the ULP are gone: the module is not pinned any more.
wait_for "the ULP's module references" sh -c "[ \$(cat /sys/module/chimney/refcnt) = $ref0 ]"

cmd "detach dev=cs0"
cmd "detach dev=csfence"
ip link del cs0
ip link del csfence
ip netns del cspeer
echo "socket target, device events: ok"
