# SPDX-License-Identifier: GPL-2.0
# Sockets holding the TCP ULP "chimney" pin the module, as kTLS's do:
# rmmod is refused with a clear reason while a socket holds it (offloaded,
# and uploaded with the ULP still on), changes nothing, and succeeds once
# the socket is gone. Loaded again at the end for the harness.
. /vmtests/lib.inc
set -e

command -v chimney-sock >/dev/null || fail "chimney-sock is not in the initramfs"
chimney=$(mod_file chimney)
ext=$(mod_file chimney_ext)
[ -d $D ] || fail "chimney is not loaded"
within 60 rmmod chimney_ext || fail "rmmod chimney_ext"

ip netns add cspin
ip link add cp0 type veth peer name cp1
ip link set cp1 netns cspin
ip addr add 10.78.0.1/24 dev cp0
ip link set cp0 up
ip -n cspin addr add 10.78.0.2/24 dev cp1
ip -n cspin link set cp1 up
ip netns exec cspin chimney-sock server 7001 > /tmp/pin-server.out 2>&1 &
server=$!
wait_for "the server" sh -c "grep -q listening /tmp/pin-server.out"
cmd "attach dev=cp0 target=sock"

# Run by chimney-sock while its socket holds the ULP.
cat > /tmp/refused.sh <<'EOS'
. /vmtests/lib.inc
rmmod_refused "a socket holding the ULP"
[ -d $D/devices/cp0 ] || fail "the refused rmmod detached cp0"
echo "refused: $(cat /tmp/rmmod.out)"
EOS
chimney-sock pin 10.78.0.2 7001 "sh /tmp/refused.sh"

# The socket is closed: its ULP goes with it, and so does the pin.
wait_for "the ULP's module references" sh -c "[ \$(cat /sys/module/chimney/refcnt) = 0 ]"
chimney-sock quit 10.78.0.2 7001 >/dev/null
wait $server || fail "server: $(cat /tmp/pin-server.out)"
within 60 rmmod chimney || fail "rmmod chimney once the socket was gone"
[ ! -d /sys/module/chimney ] || fail "chimney still loaded"
ip link del cp0
ip netns del cspin
insmod "$chimney" || fail "insmod chimney at the end"
insmod "$ext" || fail "insmod chimney_ext at the end"
echo "socket pin: ok"
