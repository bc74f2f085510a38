# SPDX-License-Identifier: GPL-2.0
# Systematic fault injection of every allocation (issue 11, part 2):
# chimney-failnth (scripts/stress/failnth.c, static, carried by run.sh -b)
# fails the 1st, 2nd, ... allocation of each entry point through
# /proc/thread-self/fail-nth (failslab) until the operation completes, and
# checks each failure: a clear errno, the debugfs state as before. Leaks
# on error paths: kmemleak after rmmod (the harness). The call sites failed
# are printed; scripts/stress/sites.sh maps them to source lines.
. /vmtests/lib.inc
set -e

command -v chimney-failnth >/dev/null || fail "no chimney-failnth in the VM (run.sh -b)"
[ -d /sys/kernel/debug/failslab ] || fail "no failslab (CONFIG_FAILSLAB, FAULT_INJECTION_DEBUG_FS)"
# chimney.failnth_only=NAME: one scenario (the harness self-test's).
only=""
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	chimney.failnth_only=*) only=${arg#*=} ;;
	esac
done
rc=0
chimney-failnth -c "$(mod_file chimney)" -e "$(mod_file chimney_ext)" ${only:+-o "$only"} || rc=$?
[ "$rc" = 0 ] || fail "chimney-failnth found problems (exit $rc)"
[ -d $D ] || fail "chimney not loaded at the end"
echo "failnth: ok"
