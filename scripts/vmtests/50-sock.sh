# SPDX-License-Identifier: GPL-2.0
# The socket target (issue 12): live TCP connections between two network
# namespaces joined by veth, offloaded through the TCP ULP "chimney" and
# debugfs, their events raised from what really happens on them.
# chimney-sock (scripts/sock/sock.c) is both ends.
. /vmtests/lib.inc
set -e

command -v chimney-sock >/dev/null || fail "chimney-sock is not in the initramfs"
command -v tc >/dev/null || fail "tc (iproute2, for netem) is not in the initramfs"
ref0=$(cat /sys/module/chimney/refcnt)

sock_pair cspeer cs0 cs1 10.77.0 2001:db8:77

# Not attached yet: a clear errno, nothing offloaded.
ip netns exec cspeer chimney-sock server 7000 > /tmp/sock-server.out 2>&1 &
server=$!
wait_for "the server" sh -c "grep -q listening /tmp/sock-server.out"
cmd_err "sock_offload src=10.77.0.1:1 dst=10.77.0.2:7000"

# The fake target's commands do not apply to the socket target.
cmd_err "attach dev=cs0 target=sock capacity=4"
cmd_err "attach dev=cs0 target=nic"
cmd "attach dev=cs0 target=sock"
grep -q '^1 target chimney_sock_target$' $D/devices/cs0/stack ||
	fail "cs0's stack: $(cat $D/devices/cs0/stack)"
[ ! -e $D/devices/cs0/capacity ] || fail "knob files on the socket target"
cmd_err "pause dev=cs0"
cmd_err "offload dev=cs0 src=10.77.0.1:1 dst=10.77.0.2:80"
[ "$(stat $D/devices/cs0/stats sock_refused)" = 1 ] || fail "sock_refused"

# The sampler's knobs: bad values are refused and change nothing.
K=$D/devices/cs0
for kv in sample_ms=3600001 sample_ms=-1 min_segs=0 min_segs=1000001 \
	  ooo_permille=1001 drop_permille=-1 idle_ms=3600001 \
	  backlog_interval_ms=x; do
	before=$(cat $K/${kv%%=*})
	! echo "${kv#*=}" > $K/${kv%%=*} 2>/dev/null || fail "$kv accepted"
	[ "$(cat $K/${kv%%=*})" = "$before" ] || fail "$kv changed the knob"
done
[ "$(cat $K/sample_ms) $(cat $K/min_segs) $(cat $K/ooo_permille)" = "100 64 250" ] ||
	fail "sampler defaults"
[ "$(cat $K/drop_permille) $(cat $K/idle_ms) $(cat $K/backlog_interval_ms)" = "250 0 100" ] ||
	fail "sampler defaults"
# Knobs belong to the target: a new attach starts from the defaults.
echo 7 > $K/idle_ms
cmd "detach dev=cs0"
cmd "attach dev=cs0 target=sock"
[ "$(cat $K/idle_ms)" = 0 ] || fail "a new attach kept idle_ms"

chimney-sock refuse 10.77.0.2 7000
# 100 offload/upload cycles of a stream checked byte for byte, uploaded by
# sock_upload, terminate id=N and detach in turn (the counters below start
# again at the last detach, in cycle 98). The sampler looks every
# millisecond (chimney-sock sets it again after each attach): its walk
# races every upload.
echo 1 > $K/sample_ms
chimney-sock stream 10.77.0.2 7000 cs0 100 8388608
echo 100 > $K/sample_ms
chimney-sock fin 10.77.0.2 7000 cs0
chimney-sock rst 10.77.0.2 7000 cs0
chimney-sock urg 10.77.0.2 7000 cs0
chimney-sock close 10.77.0.2 7000 cs0
# ss (iproute2) is shipped by check.sh beside chimney-sock.
command -v ss >/dev/null || fail "ss is not in the initramfs"
chimney-sock diag 10.77.0.2 7000 cs0
# IPv6: the same ULP, lookups and listing.
chimney-sock stream 2001:db8:77::2 7000 cs0 2 262144
chimney-sock rst 2001:db8:77::2 7000 cs0
# The sampler's events, each with nothing else raised. Every offload's
# first look indicates the send pipe (SendBacklogChange).
backlogs=$(stat $K/stats sock_backlogs)
# No data either way for idle_ms: Retrieve(LowActivity).
echo 300 > $K/idle_ms
chimney-sock sampled 10.77.0.2 7000 cs0 low_activity 0
echo 0 > $K/idle_ms
[ "$(stat $K/stats sock_low_activity)" = 1 ] || fail sock_low_activity
# A fifth of what the client sends is lost once it is offloaded:
# Retrieve(HighDropRate). The windows start at the offload and a look every
# 20 ms judges any retransmission (min_segs 1, 1 per thousand): the first
# one, fast or the tail loss probe, is seen at the next look. A lost
# retransmission ends in a retransmission timeout, whose mandatory
# Retrieve(TimeoutExpiration) would upload the connection first if it came
# before that look: the route holds it at 1 s at least (RTAX_RTO_MIN,
# locked). A higher threshold would race it: a lone probe after a clean
# window is a low rate, and the stalled connection sends nothing more
# until the timeout. The thresholds' arithmetic is chimney_sock_sample's.
echo 1 > $K/min_segs
echo 1 > $K/drop_permille
echo 20 > $K/sample_ms
ip route add 10.77.0.2/32 dev cs0 rto_min 1s
chimney-sock sampled 10.77.0.2 7000 cs0 high_drop_rate 1048576 \
	"tc qdisc add dev cs0 root netem loss 20%" "tc qdisc del dev cs0 root"
ip route del 10.77.0.2/32 dev cs0
echo 16 > $K/min_segs
echo 100 > $K/sample_ms
echo 250 > $K/drop_permille
[ "$(stat $K/stats sock_high_drop_rate)" = 1 ] || fail sock_high_drop_rate
# Half of what the peer sends overtakes the rest: Retrieve(HighOutOfOrder).
# From the connection's start: the peer's RTT then includes the delay and
# its segments go out a few at a time; added later, an RTT measured
# without it lets TSO send each echoed chunk as one packet, which nothing
# can overtake. Reordering before the offload is not the offload's (the
# windows start there), and it uploads nothing.
echo 100 > $K/ooo_permille
tc -n cspeer qdisc add dev cs1 root netem delay 5ms reorder 50%
chimney-sock sampled 10.77.0.2 7000 cs0 high_out_of_order_packets 1048576 \
	true "tc -n cspeer qdisc del dev cs1 root"
echo 250 > $K/ooo_permille
echo 64 > $K/min_segs
[ "$(stat $K/stats sock_high_out_of_order)" = 1 ] || fail sock_high_out_of_order
[ "$(stat $K/stats sock_backlogs)" -ge $((backlogs + 3)) ] ||
	fail "sock_backlogs: $(stat $K/stats sock_backlogs), expected >= $((backlogs + 3))"
[ "$(stat $K/stats host_event_backlog)" = "$(stat $K/stats sock_backlogs)" ] ||
	fail "host_event_backlog $(stat $K/stats host_event_backlog) of $(stat $K/stats sock_backlogs) raised"
[ "$(stat $K/stats sock_samples)" -gt 0 ] || fail sock_samples

# A retransmission timeout with the path cut (TCP_CA_Loss, seen through
# the tcp_cong_state_set tracepoint); then an idle connection's keepalive
# giving up (no RTO without data in flight).
chimney-sock rto 10.77.0.2 7000 cs0 "ip -n cspeer link set cs1 down"
ip -n cspeer link set cs1 up
ip neigh flush dev cs0
wait_for "the path back" sh -c "ping -c 1 -W 1 10.77.0.2 >/dev/null"
chimney-sock keepalive 10.77.0.2 7000 cs0 "ip -n cspeer link set cs1 down"
ip -n cspeer link set cs1 up
# The neighbour entry failed while the path was cut.
ip neigh flush dev cs0
wait_for "the path back" sh -c "chimney-sock quit 10.77.0.2 7000 >/dev/null 2>&1"
wait $server || fail "server: $(cat /tmp/sock-server.out)"

[ "$(stat $D/devices/cs0/stats event_disconnect)" = 3 ] ||
	fail "event_disconnect: $(cat $D/devices/cs0/stats)"
[ "$(stat $D/devices/cs0/stats event_abort)" = 2 ] ||
	fail "event_abort: $(cat $D/devices/cs0/stats)"
[ "$(stat $D/devices/cs0/stats sock_disconnects)" = 3 ] || fail sock_disconnects
[ "$(stat $D/devices/cs0/stats sock_aborts)" = 2 ] || fail sock_aborts
[ "$(stat $D/devices/cs0/stats reason_received_urgent_data)" = 1 ] ||
	fail "reason_received_urgent_data"
[ "$(stat $D/devices/cs0/stats reason_upload_requested)" = 1 ] ||
	fail "reason_upload_requested"
[ "$(stat $D/devices/cs0/stats reason_timeout_expiration)" = 2 ] ||
	fail "reason_timeout_expiration"
[ "$(stat $D/devices/cs0/stats sock_rtos)" = 1 ] || fail sock_rtos
[ "$(stat $D/devices/cs0/stats sock_timeouts)" = 1 ] || fail sock_timeouts
[ "$(stat $D/devices/cs0/stats rule_bad_completion)" = 0 ] || fail "bad completions"
grep '^rule_' $D/devices/cs0/stats | grep -v ' 0$' && fail "rule violations"
[ "$(stat $D/devices/cs0/stats target_connections)" = 0 ] || fail "connections left"
check_books

# The sockets that held the ULP are gone: the module is not pinned any more.
wait_for "the ULP's module references" sh -c "[ \$(cat /sys/module/chimney/refcnt) = $ref0 ]"

cmd "detach dev=cs0"
ip link del cs0
ip netns del cspeer
echo "socket target: ok"
