# SPDX-License-Identifier: GPL-2.0
# The socket target under churn, on both vCPUs: processes open, offload
# (TCP_ULP and sock_offload), use, upload and end real sockets (close,
# reset, FIN) while the device is detached and attached and its MTU
# changed (Retrieve(InvalidState)), the sampler's
# knobs written (it looks every millisecond or two) and every file read.
# Every echo is checked; afterwards the books agree, no rule was broken,
# nothing is left offloaded and the module is not pinned.
. /vmtests/lib.inc
set -e

command -v chimney-sock >/dev/null || fail "chimney-sock is not in the initramfs"
ref0=$(cat /sys/module/chimney/refcnt)
sock_pair ccpeer cc0 cc1 10.79.0
ip netns exec ccpeer chimney-sock echo-server 7002 > /tmp/churn-server.out 2>&1 &
server=$!
wait_for "the echo server" sh -c "grep -q listening /tmp/churn-server.out"
cmd "attach dev=cc0 target=sock"

chimney-sock churn 10.79.0.2 7002 cc0 20 4

grep '^rule_' $D/devices/cc0/stats | grep -v ' 0$' && fail "rule violations"
[ "$(stat $D/devices/cc0/stats target_connections)" = 0 ] || fail "connections left"
check_books
kill $server
cmd "detach dev=cc0"
ip link del cc0
ip netns del ccpeer
wait_for "the ULP's module references" sh -c "[ \$(cat /sys/module/chimney/refcnt) = $ref0 ]"
echo "socket churn: ok"
