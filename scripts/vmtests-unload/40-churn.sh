# SPDX-License-Identifier: GPL-2.0
# Concurrent churn with invariants (issue 11, part 1): chimney-churn
# (scripts/stress/churn.c, built static on the host, carried by run.sh -b)
# runs command writers, a knob writer, a reader of every debugfs file,
# device events (link, MTU, address, IPv4/IPv6 addresses, rename, netns
# move, add/del, the devices parameter) and chimney_ext stacking,
# storming and unregistering on live devices, all at once; every 10 s and
# at the end it stops them and checks that nothing stays transient and the
# books balance; then every device must go promptly. kmemleak is asked by
# the harness after rmmod.
# Kernel command line: chimney.stress_seconds=N (default 60),
# chimney.stress_seed=S.
. /vmtests/lib.inc
set -e

secs=60
seed=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	chimney.stress_seconds=*) secs=${arg#*=} ;;
	chimney.stress_seed=*) seed=${arg#*=} ;;
	esac
done
command -v chimney-churn >/dev/null || fail "no chimney-churn in the VM (run.sh -b)"
[ -d $D ] || fail "chimney is not loaded"
[ -d $E ] || fail "chimney_ext is not loaded"

rc=0
chimney-churn -t "$secs" -s "$seed" || rc=$?
[ "$rc" = 0 ] || fail "chimney-churn found problems (exit $rc); replay with the seed above"
check_books
echo '' > /sys/module/chimney/parameters/devices
echo "churn: ok"
