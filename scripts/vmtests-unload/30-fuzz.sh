# SPDX-License-Identifier: GPL-2.0
# The fuzzer (issue 11, part 3): chimney-fuzz (scripts/stress/fuzz.c, built
# static on the host and carried by run.sh -b) writes the command file,
# every knob of two devices and the devices parameter from two writers,
# with fz1 deleted and recreated mid-run; every refused write must change
# nothing, every accepted one do what the README says. Then the books must
# balance and both devices must go promptly.
# Kernel command line: chimney.fuzz_writes=N (default 100000),
# chimney.fuzz_seed=S (default: from the clock, printed).
. /vmtests/lib.inc
set -e

writes=100000
seed=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	chimney.fuzz_writes=*) writes=${arg#*=} ;;
	chimney.fuzz_seed=*) seed=${arg#*=} ;;
	esac
done
command -v chimney-fuzz >/dev/null || fail "no chimney-fuzz in the VM (run.sh -b)"
[ -d $D ] || fail "chimney is not loaded"

ip link add fz0 type dummy
ip link set fz0 up
ip link add fz1 type dummy
ip link set fz1 up
cmd "attach dev=fz0 capacity=64"
cmd "attach dev=fz1 capacity=64"

rc=0
chimney-fuzz -s "$seed" -n "$writes" || rc=$?
[ "$rc" = 0 ] || fail "chimney-fuzz found problems (exit $rc); replay with the seed above"

# Quiet now: the books balance once nothing is in flight.
echo '' > /sys/module/chimney/parameters/devices
for d in fz0 fz1; do
	[ -d $D/devices/$d ] || continue
	for k in initiate_delay_ms terminate_delay_ms backlog_interval_ms \
		fail_initiate fail_terminate fail_next_initiate fail_next_terminate; do
		echo 0 > $D/devices/$d/$k
	done
done
settled() { ! grep -qE ' (offloading|terminating) ' $D/connections; }
wait_for "no connection in a transient state" settled
check_books

for d in fz0 fz1; do
	within 10 ip link del $d || fail "ip link del $d did not return promptly"
done
wait_for "fz0 detached" detached fz0
wait_for "fz1 detached" detached fz1
[ "$(grep -c '^[0-9]' $D/connections)" = 0 ] || fail "connections left: $(cat $D/connections)"
echo "fuzz: ok"
