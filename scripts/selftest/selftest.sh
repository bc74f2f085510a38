#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-test: boot each deliberately broken module in scripts/selftest/
# and check that scripts/qemu/verdict.sh gives the right verdict for the
# right reason. A harness that cannot fail proves nothing. The same goes for
# the stress tests: each patch in scripts/selftest/mutants/ breaks chimney
# in one way (a counter that drifts, a leak on an error path), and the
# stress test that must catch it is run on that build.
#
# usage: scripts/selftest/selftest.sh [-k KDIR] [-o OUTDIR] [-j JOBS] [-w FILE] [-p|-r]
# -w FILE: one VM at a time until FILE exists (another VM runs beside this
# one: make check's unload run), then JOBS.
# -p: build the modules, mutants and programs into OUTDIR and stop; -r: boot
# and judge with what -p built there (make check builds early, beside the
# VMs), or build first if it did not.
# Writes the KTAP suite "harness_selftest" to OUTDIR/harness_selftest.ktap
# and prints one line per case. Exit status 0 if every case behaved.
#
# Environment: CHIMNEY_ACCEL (kvm|tcg, else probed once here),
# CHIMNEY_SELFTEST_ONLY="case ..." to run a subset.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kdir=""
out=${CHIMNEY_OUT:-$HOME/.cache/chimney/out}/selftest
jobs=${CHIMNEY_SELFTEST_JOBS:-2}
beside=""
phase=all
while getopts "k:o:j:w:pr" opt; do
	case "$opt" in
	k) kdir=$OPTARG ;;
	o) out=$OPTARG ;;
	j) jobs=$OPTARG ;;
	w) beside=$OPTARG ;;
	p) phase=build ;;
	r) phase=run ;;
	*) exit 2 ;;
	esac
done
[ -n "$kdir" ] || kdir=$("$top/scripts/kernel.sh")
ksrc=$("$top/scripts/kernel.sh" --print-src)
bzimage=$kdir/arch/x86/boot/bzImage
run=$top/scripts/qemu/run.sh
verdict=$top/scripts/qemu/verdict.sh
start=$(date +%s)

build() {
	# Wipe only a directory this script made before.
	if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -f "$out/.chimney-selftest" ]; then
		echo "selftest.sh: $out is not a self-test output directory, not wiping it" >&2
		exit 2
	fi
	rm -rf "$out"
	mkdir -p "$out/build"
	touch "$out/.chimney-selftest"
	# Build a copy so the repository stays free of build products.
	cp "$here/Kbuild" "$here"/*.c "$out/build/"
	if ! make -C "$kdir" M="$out/build" -j"$(nproc)" modules > "$out/build.log" 2>&1; then
		tail -n 30 "$out/build.log"
		echo "FAIL: selftest: building the self-test modules failed ($out/build.log)"
		exit 1
	fi

	# The mutants: a copy of chimney (and of chimney_ext, which the stress
	# tests drive) with one patch applied each.
	for p in "$here"/mutants/*.patch; do
		mu=$out/mutant-$(basename "$p" .patch)
		mkdir -p "$mu/kunit"
		(cd "$top" && tar -cf - --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
			--exclude='.*.cmd' Kbuild include module kunit/chimney_ext.c) | tar -xf - -C "$mu"
		printf 'obj-m := chimney_ext.o\nccflags-y := -I$(src)/../include\n' > "$mu/kunit/Kbuild"
		if ! (cd "$mu" && git apply "$p") > "$mu.log" 2>&1; then
			cat "$mu.log"
			echo "FAIL: selftest: mutant $(basename "$p") no longer applies to module/"
			exit 1
		fi
		# One at a time: make check runs this beside two VMs on two cores.
		if ! make -C "$kdir" M="$mu" modules >> "$mu.log" 2>&1; then
			tail -n 30 "$mu.log"
			echo "FAIL: selftest: building mutant $(basename "$p") failed ($mu.log)"
			exit 1
		fi
	done
	"$top/scripts/stress/build.sh" "$out/bin"
	# One vm test of the unload run each, on its own.
	for t in 40-churn 50-failnth; do
		mkdir -p "$out/vt-$t"
		cp "$top/scripts/vmtests-unload/lib.inc" "$top/scripts/vmtests-unload/$t.sh" "$out/vt-$t/"
	done
	touch "$out/.built"
}

if [ "$phase" != run ] || [ ! -f "$out/.built" ]; then
	build
fi
[ "$phase" != build ] || exit 0
m=$out/build
mut() { echo "$out/mutant-$1/module/chimney.ko $out/mutant-$1/kunit/chimney_ext.ko"; }

none=$out/no-vmtests
mkdir -p "$none"
printf '%s\n' chimney_unload > "$out/suites.unload"
printf '%s\n' chimney_selftest_pass > "$out/suites.pass"
printf '%s\n' chimney_selftest_fail > "$out/suites.fail"
printf '%s\n' chimney_selftest_pass chimney_selftest_absent > "$out/suites.absent"
: > "$out/suites.empty"

if [ -z "${CHIMNEY_ACCEL:-}" ]; then
	CHIMNEY_ACCEL=$("$run" --probe -k "$bzimage" -o "$out/probe")
	export CHIMNEY_ACCEL
fi

# Boots: name|timeout|vmtests dir|modules|programs|kernel command line.
# Longest first, to overlap it.
unload=chimney.vmsuite=chimney_unload
boots=(
	"uncounted_abort|400|$out/vt-40-churn|$(mut uncounted-abort)|$out/bin/chimney-churn|$unload chimney.stress_seconds=12"
	"leaked_tcb|400|$out/vt-50-failnth|$(mut leaked-tcb)|$out/bin/chimney-failnth|$unload chimney.failnth_only=offload_ipv4"
	"hang|50|$none|$m/st_pass.ko $m/st_hang.ko"
	"pass|300|$here/vmtests-pass|$m/st_pass.ko"
	"kunit_fail|300|$none|$m/st_kunit_fail.ko"
	"warn|300|$none|$m/st_pass.ko $m/st_warn.ko"
	"leak|300|$none|$m/st_pass.ko $m/st_leak.ko"
	"uaf|300|$none|$m/st_pass.ko $m/st_uaf.ko"
	"lockdep|300|$none|$m/st_pass.ko $m/st_lockdep.ko"
	"rcu|300|$none|$m/st_pass.ko $m/st_rcu.ko"
	"no_exit|300|$none|$m/st_pass.ko $m/st_no_exit.ko"
	"init_fail|300|$none|$m/st_pass.ko $m/st_init_fail.ko"
	"no_ktap|300|$none|$m/st_no_suite.ko"
	"vmtest_fail|300|$here/vmtests-fail|$m/st_pass.ko"
)
# Verdicts: case|boot|suites file|expected exit (0 pass, 1 fail)|reason ERE
cases=(
	"positive_control|pass|pass|0|^chimney_selftest_pass: 4 passed, 0 failed$"
	"kunit_case_fails|kunit_fail|fail|1|^FAIL: suite chimney_selftest_fail: 1 test case.*st_kunit_fail_bad"
	"warn_on|warn|pass|1|^FAIL: console.log:[0-9]+: WARNING: .*st_warn"
	"warn_on_crash|warn|pass|1|^FAIL: crash: the VM stopped"
	"kmemleak|leak|pass|1|^FAIL: kmemleak: [1-9][0-9]* unreferenced object"
	"kasan_uaf|uaf|pass|1|^FAIL: console.log:[0-9]+: BUG: KASAN: slab-use-after-free"
	"lockdep_abba|lockdep|pass|1|^FAIL: console.log:[0-9]+: WARNING: possible circular locking"
	"suspicious_rcu|rcu|pass|1|^FAIL: console.log:[0-9]+: WARNING: suspicious RCU usage"
	"rmmod_fails|no_exit|pass|1|^FAIL: rmmod failed: st_no_exit$"
	"insmod_fails|init_fail|pass|1|^FAIL: insmod failed: st_init_fail$"
	"timeout|hang|pass|1|^FAIL: timeout: the VM was killed after .*running insmod st_hang"
	"no_ktap|no_ktap|empty|1|^FAIL: no KTAP"
	"expected_suite_missing|pass|absent|1|^FAIL: expected suite chimney_selftest_absent missing"
	"unlisted_suite|pass|empty|1|^FAIL: suite chimney_selftest_pass reported but not listed"
	"vmtest_fails|vmtest_fail|pass|1|^FAIL: suite chimney_vm: 1 test case.*10-fails"
	"churn_books|uncounted_abort|unload|1|CHURN-FAIL: .*event_abort [0-9]+ accepted from the target, host_event_abort [0-9]+ delivered"
	"failnth_leak|leaked_tcb|unload|1|^FAIL: kmemleak: [1-9][0-9]* unreferenced object"
)
only=" ${CHIMNEY_SELFTEST_ONLY:-} "
wanted() { [ "$only" = "  " ] || [[ "$only" == *" $1 "* ]]; }

# Each boot runs in the background, at most $jobs at a time, one while the
# VM beside us (-w) is still running. 512 MiB each (kmemleak scans less,
# about 5 s a boot), 1 GiB for the stress tests on the mutants.
slots() {
	if [ -n "$beside" ] && [ ! -e "$beside" ]; then echo 1; else echo "$jobs"; fi
}
running=0
most=0
for b in "${boots[@]}"; do
	IFS='|' read -r name t vmt mods bins app <<<"$b"
	extra=()
	for x in $bins; do extra+=(-b "$x"); done
	[ -z "$app" ] || extra+=(--append "$app")
	need=0
	for c in "${cases[@]}"; do
		IFS='|' read -r cname cboot _ <<<"$c"
		[ "$cboot" = "$name" ] && wanted "$cname" && need=1
	done
	[ "$need" = 1 ] || continue
	while [ "$running" -ge "$(slots)" ]; do
		wait -n || true
		running=$((running - 1))
	done
	mem=512M
	[ -z "$app" ] || mem=1G
	# shellcheck disable=SC2086 # $mods is a list
	"$run" -k "$bzimage" -o "$out/$name" -t "$t" -m "$mem" -v "$vmt" "${extra[@]}" $mods \
		> "$out/$name.run.log" 2>&1 &
	running=$((running + 1))
	[ "$running" -le "$most" ] || most=$running
done
wait || true

n=0
bad=0
ktap=$out/harness_selftest.ktap
{
	echo "KTAP version 1"
	echo "1..1"
	echo "    KTAP version 1"
	echo "    # Subtest: harness_selftest"
} > "$ktap"
body=$out/cases.ktap
: > "$body"
for c in "${cases[@]}"; do
	IFS='|' read -r cname cboot csuites cexp creason <<<"$c"
	wanted "$cname" || continue
	n=$((n + 1))
	rc=0
	# The unload run's tests: vm tests only, their diagnostics are the reason.
	vflags=(-q)
	[ "$csuites" != unload ] || vflags=(-n)
	if [ -f "$out/$cboot/status" ]; then
		"$verdict" "${vflags[@]}" -k "$ksrc" -s "$out/suites.$csuites" "$out/$cboot" \
			> "$out/$cname.verdict" 2>&1 || rc=$?
	else
		echo "run.sh did not finish: $(tail -n 3 "$out/$cboot.run.log")" > "$out/$cname.verdict"
		rc=2
	fi
	secs=$(cat "$out/$cboot/seconds" 2>/dev/null || echo '?')
	got=$(grep -E -m 1 "$creason" "$out/$cname.verdict" || true)
	if [ "$rc" = "$cexp" ] && [ -n "$got" ]; then
		echo "    # $cname: ${got} (${secs}s boot)" >> "$body"
		echo "    ok $n $cname" >> "$body"
		echo "harness_selftest: ok $cname: ${got#FAIL: }"
	else
		bad=$((bad + 1))
		{
			echo "    # $cname: expected exit $cexp and /$creason/, got exit $rc:"
			sed 's/^/    #   /' "$out/$cname.verdict" | sed -n '1,12p'
			echo "    not ok $n $cname"
		} >> "$body"
		echo "harness_selftest: NOT OK $cname: expected exit $cexp and /$creason/, got exit $rc"
		sed 's/^/    /' "$out/$cname.verdict" | sed -n '1,12p'
	fi
done
{
	echo "    1..$n"
	cat "$body"
	if [ "$bad" = 0 ]; then echo "ok 1 harness_selftest"; else echo "not ok 1 harness_selftest"; fi
} >> "$ktap"
echo "harness_selftest: $n cases, $bad wrong, $(($(date +%s) - start))s (accel $CHIMNEY_ACCEL, at most $most VMs at once)"
[ "$bad" = 0 ]
