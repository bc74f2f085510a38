# SPDX-License-Identifier: GPL-2.0
# chimney:* tracepoints: a scripted scenario produces the expected
# sequence (issue 5).
. /vmtests/lib.inc
set -e

[ -d $T/events/chimney ] || fail "no chimney trace events"
echo 0 > $T/tracing_on
echo > $T/trace
echo 1 > $T/events/chimney/enable
echo 1 > $T/tracing_on

ip link add dummy2 type dummy
ip link set dummy2 up
cmd "attach dev=dummy2"
# A slow initiate: the event raised meanwhile is a violation.
echo 3000 > $D/devices/dummy2/initiate_delay_ms
id=$(offload dummy2 10.3.0.1:1000 10.3.0.2:80)
cmd_err "raise id=$id event=backlog bytes=5"
wait_for "initiate completion" sh -c "grep -q '^$id .* offloaded ' $D/connections"
cmd "raise id=$id event=backlog bytes=1000"
cmd "raise id=$id event=disconnect"
wait_for "upload after disconnect" sh -c "! grep -q '^$id ' $D/connections"
echo 0 > $T/tracing_on

grep -o 'chimney_[a-z_]*: dev=dummy2 layer=[a-z_]* conn='"$id"' type=[0-9]* info=-*[0-9]*\( rule=[a-z_]*\)*' $T/trace |
	sed 's/^\(chimney_[a-z_]*\): dev=dummy2 layer=\([a-z_]*\) conn=[0-9]* /\1 \2 /' > /tmp/seq
cat /tmp/seq
cat > /tmp/want <<WANT
chimney_initiate chimney_target type=0 info=1
chimney_violation chimney_target type=1 info=5 rule=not_offloaded
chimney_initiate_complete chimney_host type=0 info=0
chimney_event chimney_host type=1 info=1000
chimney_event chimney_host type=2 info=0
chimney_terminate chimney_host type=0 info=0
chimney_terminate_complete chimney_host type=0 info=0
WANT
diff /tmp/want /tmp/seq || fail "trace sequence differs"
echo 0 > $T/events/chimney/enable
ip link del dummy2
echo "trace: ok"
