# SPDX-License-Identifier: GPL-2.0
# Deleting a device that carries a full chimney_ext stack with connections
# live, while both CPUs storm events at them (issue 9): ip link del returns
# promptly, every layer gets unbind, every connection is uploaded (terminate
# completions ext_top did not ask for), no accepted event is lost.
. /vmtests/lib.inc
set -e

[ -d $E ] || fail "chimney_ext is not loaded ($E missing)"
ip link add extu0 type dummy
ip link set extu0 up
ecmd "stack dev=extu0 im=2 async_ms=200"
ecmd "offload dev=extu0 count=16"
[ "$(estat extu0.top_live)" = 16 ] || fail "expected 16 live connections"
unbind=$(estat unbind)
unreq=$(estat terminate_unrequested)
lost=$(estat storm_lost)
sok=$(estat storm_ok)
sref=$(estat storm_refused)
sskip=$(estat storm_skipped)

rm -f /tmp/storm.rc
# Long enough (about 7 s under TCG) to still run when the device goes.
( echo "storm dev=extu0 events=100000" > $E/command; echo $? > /tmp/storm.rc ) &
sleep 0.5
t0=$(now_ms)
rc=0
within 30 ip link del extu0 || rc=$?
t1=$(now_ms)
[ "$rc" != 124 ] || fail "ip link del with a live ext stack did not return within 30 s"
[ "$rc" = 0 ] || fail "ip link del failed ($rc)"
echo "ip link del of a device with a 4-layer ext stack and 16 connections (async terminates, storm running): $((t1 - t0)) ms"
[ $((t1 - t0)) -lt 10000 ] || fail "ip link del took $((t1 - t0)) ms"
wait_for "the storm to end" test -s /tmp/storm.rc
echo "storm across the delete: ok $(($(estat storm_ok) - sok)) refused $(($(estat storm_refused) - sref)) skipped $(($(estat storm_skipped) - sskip))"
[ "$(cat /tmp/storm.rc)" = 0 ] || fail "the storm failed: $(($(estat storm_lost) - lost)) accepted events did not reach ext_top"
[ "$(estat unbind)" = $((unbind + 4)) ] || fail "$(($(estat unbind) - unbind)) ext layers unbound, expected 4"
[ "$(estat terminate_unrequested)" = $((unreq + 16)) ] ||
	fail "$(($(estat terminate_unrequested) - unreq)) unrequested terminate completions, expected 16"
! grep -q '^extu0\.' $E/stats || fail "chimney_ext kept extu0's state after unbind"
[ "$(conns extu0)" = 0 ] || fail "connections left"
[ "$(estat errors)" = 0 ] || fail "chimney_ext counted broken promises"
echo "ext stack unbind: ok"
