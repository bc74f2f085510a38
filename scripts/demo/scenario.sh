# SPDX-License-Identifier: GPL-2.0
# The `make demo` walk-through, run inside the VM after chimney.ko is loaded.
# Every command is echoed before it runs so the output reads as a session.
D=/sys/kernel/debug/chimney
T=/sys/kernel/tracing

say() { printf '\n=== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; sh -c "$*" 2>&1 | sed 's/^/  /'; }
cmd() { run "echo '$*' > $D/command"; }

say "chimney $(cat $D/version): the NDIS TCP chimney event path, emulated"
echo "Each attached device gets a stack: the host stack (protocol layer) on top,"
echo "the fake offload target (the NIC) at the bottom. Events go up the stack."

say "1. Create a dummy device and a veth pair, and attach chimney to them"
run "ip link add dummy0 type dummy && ip link set dummy0 up"
run "ip link add veth0 type veth peer name veth1 && ip link set veth0 up && ip link set veth1 up"
cmd "attach dev=dummy0 capacity=8"
cmd "attach dev=veth0"
run "ls $D/devices"
run "cat $D/devices/dummy0/stack"

say "2. Offload a few IPv4 and IPv6 connections"
echo 1 > $T/events/chimney/enable 2>/dev/null
echo > $T/trace 2>/dev/null
cmd "offload dev=dummy0 src=10.0.0.1:40000 dst=10.0.0.2:80"
A=$(cat $D/last_id)
cmd "offload dev=dummy0 src=10.0.0.1:40001 dst=10.0.0.2:443"
B=$(cat $D/last_id)
cmd "offload dev=dummy0 src=[2001:db8::1]:40002 dst=[2001:db8::2]:443"
C=$(cat $D/last_id)
cmd "offload dev=veth0 src=10.9.0.1:5000 dst=10.9.0.2:22"
run "cat $D/connections"

say "3. Raise each of the four events and see where they went"
echo "Send backlog change (type 1): the host remembers the pipeline depth"
cmd "raise id=$A event=backlog bytes=131072"
echo "Optional retrieve (type 3, LowActivity) with the host declining that reason"
cmd "policy dev=dummy0 reason=low_activity accept=0"
cmd "raise id=$A event=retrieve reason=low_activity"
echo "Disconnect (type 2): receive half closed, the application closes, upload"
cmd "raise id=$B event=disconnect"
echo "Abort (type 4): an acceptable RST; the host uploads"
cmd "raise id=$C event=abort"
echo "An illegal event: the target raises one before the initiate completed"
run "echo 2000 > $D/devices/veth0/initiate_delay_ms"
cmd "offload dev=veth0 src=10.9.0.1:5001 dst=10.9.0.2:22"
E=$(cat $D/last_id)
cmd "raise id=$E event=backlog bytes=1"
run "grep rule_not_offloaded $D/stats"
sleep 2
run "cat $D/connections"
run "grep -E '^(host_event|host_reason_low|host_declined)' $D/devices/dummy0/stats | grep -v ' 0$'"
echo "The same, hop by hop, in the chimney:* tracepoints:"
run "grep -o 'chimney_[a-z_]*: .*' $T/trace | head -n 24"

say "4. Take the link down: UPLOAD_ALL terminates everything on it"
cmd "offload dev=dummy0 src=10.0.0.1:40003 dst=10.0.0.2:80"
run "ip link set dummy0 down"
sleep 1
run "cat $D/connections"
echo "While it is down, nothing can be offloaded on it:"
cmd "offload dev=dummy0 src=10.0.0.1:40004 dst=10.0.0.2:80"

say "5. The global counters"
run "grep -v ' 0$' $D/stats"

say "6. A real TCP connection: the socket target"
echo "attach target=sock: the connections are live sockets, their events what"
echo "really happens on the wire. A peer in its own network namespace, over veth:"
run "ip netns add peer && ip link add cs0 type veth peer name cs1 && ip link set cs1 netns peer"
run "ip addr add 10.77.0.1/24 dev cs0 && ip link set cs0 up"
run "ip -n peer addr add 10.77.0.2/24 dev cs1 && ip -n peer link set cs1 up"
ip netns exec peer chimney-sock server 7000 > /tmp/server.out 2>&1 &
sleep 1
cmd "attach dev=cs0 target=sock"
echo > $T/trace 2>/dev/null
echo "chimney-sock connects, offloads its socket with setsockopt(TCP_ULP,"
echo "\"chimney\"), and the peer closes (FIN), resets (RST) or sends urgent data;"
echo "the last one has its path cut: its first retransmission timeout:"
run "chimney-sock fin 10.77.0.2 7000 cs0"
run "chimney-sock rst 10.77.0.2 7000 cs0"
run "chimney-sock urg 10.77.0.2 7000 cs0"
run "chimney-sock rto 10.77.0.2 7000 cs0 'ip -n peer link set cs1 down'"
run "ip -n peer link set cs1 up"
echo "What the host layer got, and the uploads that followed each event:"
run "grep -E '^(host_event|host_reason|sock_)' $D/devices/cs0/stats | grep -v ' 0$'"
echo "Hop by hop (type 1 backlog, 2 disconnect, 3 retrieve with info the reason:"
echo "5 urgent data, 8 timeout expiration; 4 abort), each followed by the upload:"
run "grep -oE 'chimney_(event|initiate|terminate)[a-z_]*: .*' $T/trace | head -n 24"
echo "Data crosses any number of offload/upload cycles intact (sock_upload,"
echo "terminate id=N, detach in turn):"
run "chimney-sock stream 10.77.0.2 7000 cs0 6 393216"
sleep 1
chimney-sock quit 10.77.0.2 7000 >/dev/null 2>&1

say "7. Clean up"
cmd "detach dev=cs0"
run "ip link del cs0; ip netns del peer"
run "ip link del veth0; ip link del dummy0"
sleep 1
run "ls $D/devices | wc -l"
echo 0 > $T/events/chimney/enable 2>/dev/null
echo
echo "That was chimney. Next: README.md (debugfs format, API), make check."
