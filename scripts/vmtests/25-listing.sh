# SPDX-License-Identifier: GPL-2.0
# The connections listings read in small pieces and from an offset are the
# same text as in one read: each read() resumes in the id index where the
# last one stopped (O(N) for the whole file), and a seek counts from the
# start. Two devices, their connections interleaved in the order of the id
# index: by slot, the low 32 bits of the id.
. /vmtests/lib.inc
set -e

ip link add dummy2 type dummy
ip link add dummy3 type dummy
ip link set dummy2 up
ip link set dummy3 up
cmd "attach dev=dummy2 capacity=400"
cmd "attach dev=dummy3 capacity=400"
i=0
while [ $i -lt 300 ]; do
	cmd "offload dev=dummy2 src=10.3.0.1:$((1000 + i)) dst=10.3.0.2:80"
	[ $((i % 60)) = 0 ] && cmd "offload dev=dummy3 src=10.4.0.1:$((1000 + i)) dst=10.4.0.2:80"
	i=$((i + 1))
done

cat $D/connections > /tmp/all
cat $D/devices/dummy2/connections > /tmp/d2
[ "$(grep -c ' dummy2 ' /tmp/all)" = 300 ] || fail "dummy2 has $(grep -c ' dummy2 ' /tmp/all) lines, not 300"
[ "$(grep -c ' dummy3 ' /tmp/all)" = 5 ] || fail "dummy3 has $(grep -c ' dummy3 ' /tmp/all) lines, not 5"
[ "$(wc -l < /tmp/d2)" = 301 ] || fail "the dummy2 file has $(wc -l < /tmp/d2) lines, not header + 300"
grep -v '^#' /tmp/d2 | grep -qv ' dummy2 ' && fail "the dummy2 file lists another device"
grep -v '^#' /tmp/all |
	awk '{ s = $1 % 4294967296 } NR > 1 && s <= last { exit 1 } { last = s }' ||
	fail "slots not in increasing order"

for bs in 1 37 64 4095; do
	dd if=$D/connections of=/tmp/piece bs=$bs 2>/dev/null
	cmp -s /tmp/all /tmp/piece || fail "connections read $bs bytes at a time differs"
	dd if=$D/devices/dummy2/connections of=/tmp/piece bs=$bs 2>/dev/null
	cmp -s /tmp/d2 /tmp/piece || fail "dummy2's connections read $bs bytes at a time differs"
done

# From an offset: seq_file walks from the start to it.
size=$(wc -c < /tmp/all)
for off in 1 100 5000 $((size - 10)); do
	dd if=$D/connections of=/tmp/piece bs=1 skip=$off count=200 2>/dev/null
	tail -c +$((off + 1)) /tmp/all | head -c 200 > /tmp/want
	cmp -s /tmp/want /tmp/piece || fail "read at offset $off differs"
done

ip link del dummy2
ip link del dummy3
wait_for "dummy2 detached" detached dummy2
wait_for "dummy3 detached" detached dummy3
[ "$(grep -vc '^#' $D/connections)" = 0 ] || fail "connections left after the devices went"
echo "listing: ok"
