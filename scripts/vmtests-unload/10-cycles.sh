# SPDX-License-Identifier: GPL-2.0
# Load and unload under fire (issue 11, part 4): chimney-cycles
# (scripts/stress/cycles.c, built static on the host, carried by run.sh -b)
# insmods and rmmods chimney (and every third cycle chimney_ext with a
# stack of two intermediates) with connections live at each rmmod, events
# raised, every debugfs file read, the devices parameter written and
# devices added and removed all the while; every fifth rmmod meets a file
# held open and must be refused with a clear errno, changing nothing. Any
# other refusal, an rmmod that hangs, anything left behind fails.
# Kernel command line: chimney.unload_cycles=N (default 100),
# chimney.unload_seed=S. kmemleak is asked by the harness after the run.
. /vmtests/lib.inc
set -e

cycles=100
seed=0
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	chimney.unload_cycles=*) cycles=${arg#*=} ;;
	chimney.unload_seed=*) seed=${arg#*=} ;;
	esac
done
command -v chimney-cycles >/dev/null || fail "no chimney-cycles in the VM (run.sh -b)"
chimney=$(mod_file chimney)
ext=$(mod_file chimney_ext)
within 60 rmmod chimney_ext || fail "rmmod chimney_ext (as loaded by the harness)"
within 60 rmmod chimney || fail "rmmod chimney (as loaded by the harness)"

rc=0
chimney-cycles -c "$chimney" -e "$ext" -n "$cycles" -s "$seed" || rc=$?
if [ "$rc" != 0 ]; then
	# Loaded again for the tests after this one, whatever state it left.
	[ -d /sys/module/chimney ] || insmod "$chimney"
	[ -d /sys/module/chimney_ext ] || insmod "$ext"
	fail "chimney-cycles failed (exit $rc); replay with the seed above"
fi

insmod "$chimney" || fail "insmod chimney at the end"
insmod "$ext" || fail "insmod chimney_ext at the end"
echo "cycles under fire: ok"
