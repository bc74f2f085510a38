#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: build the debug kernel (cached) and the modules, run every
# KUnit suite and vm test in QEMU with lint beside them, judge the run, then prove the judge still
# fails what it must (harness self-test). Ends with "N passed, N failed".
#
# Environment:
#   CHIMNEY_OUT             logs and run directories (default ~/.cache/chimney/out)
#   CHIMNEY_TIMEOUT         whole-VM timeout in seconds (default 1200)
#   CHIMNEY_VMTEST_TIMEOUT  per vm test timeout in seconds (default 240: 50-sock
#                           takes 70-95 s beside the unload VM)
#   CHIMNEY_MODULES         modules to load, in order (default: module/chimney.ko
#                           kunit/chimney_test.ko kunit/chimney_ext.ko)
#   CHIMNEY_SKIP_UNLOAD=1   skip the unload run (load/unload cycles under fire,
#                           the fuzzer; scripts/vmtests-unload, a second VM next
#                           to the first)
#   CHIMNEY_SKIP_CYCLES=1   skip the insmod/rmmod cycles under fire (10-cycles)
#   CHIMNEY_SKIP_FUZZ=1     skip the fuzzer (30-fuzz)
#   CHIMNEY_SKIP_STRESS=1   skip the concurrent churn (40-churn)
#   STRESS_SECONDS          seconds of churn (default 60)
#   CHIMNEY_SKIP_FAILNTH=1  skip fail-nth fault injection of every allocation
#                           (50-failnth)
#   CHIMNEY_UNLOAD_CYCLES   insmod/rmmod cycles (default 100)
#   CHIMNEY_FUZZ_WRITES     fuzzed writes (default 100000)
#   CHIMNEY_SEED            seed of the fuzzer and the cycles (default: the clock,
#                           printed in the unload run's output)
#   CHIMNEY_SKIP_SELFTEST=1 skip the harness self-test (quick dev loop)
#   CHIMNEY_SKIP_LINT=1     skip scripts/lint.sh
#   CHIMNEY_SKIP_STOCK=1    skip scripts/stock.sh (Debian 6.1/6.12 in QEMU, dkms)
#   CHIMNEY_SKIP_BENCH=1    skip scripts/bench.sh (BENCH_SCALE=small: the bounded benchmark)
#   CHIMNEY_ACCEL=kvm|tcg   skip the KVM probe;  CHIMNEY_VERBOSE=1 stream the console
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${CHIMNEY_OUT:-$HOME/.cache/chimney/out}
mkdir -p "$out"
start=$(date +%s)
passed=0
failed=0
problems=0

finish() {
	local took=$(($(date +%s) - start))
	if [ "$problems" = 0 ]; then
		echo "check: PASS in ${took}s (logs in $out)"
	else
		echo "check: FAIL, $problems problem(s) above, ${took}s (logs in $out)"
	fi
	echo "$passed passed, $failed failed"
	exit $((problems ? 1 : 0))
}
problem() {
	echo "FAIL: $*"
	problems=$((problems + 1))
}
# A step line with the seconds since the start: where the time goes.
say() {
	echo "check: [$(($(date +%s) - start))s] $*"
}

# --- packages (a no-op when all are installed) -----------------------------------
if ! "$top/scripts/deps.sh"; then
	problem "missing packages (scripts/deps.sh)"
	finish
fi

# --- kernel and modules ------------------------------------------------------------
say "kernel"
if ! kdir=$("$top/scripts/kernel.sh"); then
	problem "the test kernel did not build (scripts/kernel.sh)"
	finish
fi
ksrc=$("$top/scripts/kernel.sh" --print-src)
say "building modules against $kdir"
if ! make -C "$top" KDIR="$kdir" modules > "$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log"
	problem "building the chimney modules failed (make KDIR=$kdir; $out/build.log)"
	finish
fi
read -r -a mods <<<"${CHIMNEY_MODULES:-$top/module/chimney.ko $top/kunit/chimney_test.ko $top/kunit/chimney_ext.ko}"
unload_mods=("$top/module/chimney.ko" "$top/kunit/chimney_ext.ko")
for m in "${mods[@]}" "${unload_mods[@]}"; do
	[ -f "$m" ] || problem "the build did not produce $m"
done
[ "$problems" = 0 ] || finish

# The socket target's test program, for scripts/vmtests/50-sock.sh (with
# iproute2's ss and tc: netem; busybox's tc has none) and
# scripts/vmtests-unload/25-sock-pin.sh.
if ! "$top/scripts/sock/build.sh" "$out/sockbin" > "$out/sock-build.log" 2>&1; then
	cat "$out/sock-build.log"
	problem "building the socket test program failed (scripts/sock/build.sh)"
	finish
fi

# --- the unload run, in the background ---------------------------------------------
# Only chimney and chimney_ext, no KUnit: the vm tests of scripts/vmtests-unload
# (suite chimney_unload) load and unload chimney many times. A second VM
# beside the main one (the box allows two), so wall time barely grows; judged
# after the main run, before anything else boots a VM.
unload_pid=""
if [ "${CHIMNEY_SKIP_UNLOAD:-0}" != 1 ]; then
	say "unload run in the background (CHIMNEY_SKIP_UNLOAD=1 skips it)"
	rm -rf "$out/unload" "$out/unload-tests"
	# The VM-side programs (static) and the tests not skipped.
	if ! "$top/scripts/stress/build.sh" "$out/bin" > "$out/stress-build.log" 2>&1; then
		cat "$out/stress-build.log"
		problem "building the stress programs failed (scripts/stress/build.sh)"
		finish
	fi
	mkdir -p "$out/unload-tests"
	for t in "$top"/scripts/vmtests-unload/*; do
		case "$(basename "$t")" in
		10-cycles.sh) [ "${CHIMNEY_SKIP_CYCLES:-0}" = 1 ] && continue ;;
		30-fuzz.sh) [ "${CHIMNEY_SKIP_FUZZ:-0}" = 1 ] && continue ;;
		40-churn.sh) [ "${CHIMNEY_SKIP_STRESS:-0}" = 1 ] && continue ;;
		50-failnth.sh) [ "${CHIMNEY_SKIP_FAILNTH:-0}" = 1 ] && continue ;;
		esac
		cp "$t" "$out/unload-tests/"
	done
	seed=${CHIMNEY_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	bins=()
	for b in "$out"/bin/chimney-* "$out/sockbin/chimney-sock"; do bins+=(-b "$b"); done
	# Under TCG with the debug kernel: cycles ~8 s each, the fuzzer ~300
	# writes/s (slower in its checked rounds), churn as asked, fail-nth
	# a few minutes; the VM's timeout follows the sizes asked for.
	unload_timeout=$((${CHIMNEY_UNLOAD_CYCLES:-100} * 12 + ${CHIMNEY_FUZZ_WRITES:-100000} / 100 +
		${STRESS_SECONDS:-60} * 2 + 1800))
	# unload.done appears when the VM is gone: the self-test then boots
	# two VMs at a time (a finished child is a zombie to kill -0 until
	# waited for, so the file, not the pid).
	rm -f "$out/unload.done"
	(
		rc=0
		CHIMNEY_VMTEST_TIMEOUT=${CHIMNEY_UNLOAD_VMTEST_TIMEOUT:-1800} \
			"$top/scripts/qemu/run.sh" -k "$kdir/arch/x86/boot/bzImage" -o "$out/unload" \
			-t "$unload_timeout" -m 2G -v "$out/unload-tests" "${bins[@]}" \
			--append "chimney.vmsuite=chimney_unload chimney.unload_cycles=${CHIMNEY_UNLOAD_CYCLES:-100} chimney.unload_seed=$seed chimney.fuzz_writes=${CHIMNEY_FUZZ_WRITES:-100000} chimney.fuzz_seed=$seed chimney.stress_seconds=${STRESS_SECONDS:-60} chimney.stress_seed=$seed" \
			"${unload_mods[@]}" > "$out/unload.log" 2>&1 || rc=$?
		touch "$out/unload.done"
		exit "$rc"
	) &
	unload_pid=$!
	# chimney.ko with -g, for mapping the fail-nth run's sites to lines at
	# the end (scripts/stress/sites.sh); built now, beside the VMs.
	"$top/scripts/stress/sites.sh" --build "$out/sites-g" "$kdir" > "$out/sites-build.log" 2>&1 &
	sites_pid=$!
fi

# The harness self-test's modules, mutants and programs, built now beside
# the VMs (-p); its boots come after the main run (-r).
selftest_prep=""
if [ "${CHIMNEY_SKIP_SELFTEST:-0}" != 1 ]; then
	"$top/scripts/selftest/selftest.sh" -k "$kdir" -o "$out/selftest" -p \
		> "$out/selftest-build.log" 2>&1 &
	selftest_prep=$!
fi

# --- static checks, in the background ------------------------------------------------
# checkpatch, sparse and W=1 need a core for a minute or two; beside the VMs
# they cost the wall clock little. Judged at the end, output in one piece.
lint_pid=""
if [ "${CHIMNEY_SKIP_LINT:-0}" != 1 ] && [ -x "$top/scripts/lint.sh" ]; then
	say "lint in the background (CHIMNEY_SKIP_LINT=1 skips it)"
	KDIR="$kdir" CHIMNEY_OUT="$out" "$top/scripts/lint.sh" > "$out/lint.txt" 2>&1 &
	lint_pid=$!
fi

# --- the test run ------------------------------------------------------------------
say "running ${mods[*]##*/} in the VM"
CHIMNEY_VMTEST_TIMEOUT=${CHIMNEY_VMTEST_TIMEOUT:-240} "$top/scripts/qemu/run.sh" -k "$kdir/arch/x86/boot/bzImage" -o "$out/run" \
	-b "$out/sockbin/chimney-sock" -b "$(command -v ss || echo /usr/bin/ss)" \
	-b "$(command -v tc || echo /sbin/tc)" "${mods[@]}"
rc=0
"$top/scripts/qemu/verdict.sh" -k "$ksrc" -s "$top/kunit/suites" "$out/run" \
	| tee "$out/verdict.txt" || rc=$?
read -r p f < "$out/run/counts" || { p=0; f=0; }
passed=$((passed + p))
failed=$((failed + f))
n=$(grep -c '^FAIL: ' "$out/verdict.txt" || true)
problems=$((problems + n))
[ "$rc" = 0 ] || [ "$n" != 0 ] || problem "verdict.sh failed without saying why (exit $rc)"

# --- stock Debian kernels (scripts/stock.sh: 6.1 and 6.12 in QEMU, dkms) ------------
if [ "${CHIMNEY_SKIP_STOCK:-0}" != 1 ] && [ -x "$top/scripts/stock.sh" ]; then
	say "stock kernels (CHIMNEY_SKIP_STOCK=1 skips them)"
	rm -f "$out/stock/counts"
	CHIMNEY_ACCEL=$(cat "$out/run/accel" 2>/dev/null || true) CHIMNEY_OUT="$out" \
		"$top/scripts/stock.sh" || problem "stock kernels (scripts/stock.sh)"
	read -r p f < "$out/stock/counts" || { p=0; f=1; }
	passed=$((passed + p))
	failed=$((failed + f))
fi

# --- the benchmark, bounded (scripts/bench.sh, BENCH_SCALE=small) -------------------
# The non-debug kernel, chimney_bench.ko at 1,000 / 10,000 connections: proves
# `make bench` runs and prints every figure (a couple of minutes); the full
# form with a million connections is `make bench`. Figures are not judged.
if [ "${CHIMNEY_SKIP_BENCH:-0}" != 1 ]; then
	say "the benchmark, bounded (CHIMNEY_SKIP_BENCH=1 skips it)"
	if BENCH_SCALE=small CHIMNEY_ACCEL=$(cat "$out/run/accel" 2>/dev/null || true) \
		CHIMNEY_OUT="$out" "$top/scripts/bench.sh" > "$out/bench.txt" 2>&1; then
		grep '^figure: ' "$out/bench.txt" || true
		echo "chimney_bench: 1 passed, 0 failed"
		passed=$((passed + 1))
	else
		tail -n 40 "$out/bench.txt"
		problem "the benchmark, bounded (BENCH_SCALE=small scripts/bench.sh; $out/bench.txt)"
		failed=$((failed + 1))
	fi
fi

# --- harness self-test ---------------------------------------------------------------
if [ "${CHIMNEY_SKIP_SELFTEST:-0}" != 1 ]; then
	say "harness self-test (CHIMNEY_SKIP_SELFTEST=1 skips it)"
	CHIMNEY_ACCEL=$(cat "$out/run/accel")
	export CHIMNEY_ACCEL
	# Beside the unload run: one self-test VM at a time keeps to two VMs;
	# two at a time once it is done.
	# Booted with what was built in the background, or built now if that
	# failed (its output says why).
	phase=-r
	if ! wait "$selftest_prep"; then
		cat "$out/selftest-build.log"
		phase=""
	fi
	if ! "$top/scripts/selftest/selftest.sh" -k "$kdir" -o "$out/selftest" ${phase:+"$phase"} \
		${unload_pid:+-w "$out/unload.done"}; then
		problem "harness self-test: the harness misjudged a deliberately broken module"
	fi
	ktap=$out/selftest/harness_selftest.ktap
	if [ -f "$ktap" ]; then
		python3 "$ksrc/tools/testing/kunit/kunit.py" parse "$ktap" > "$out/selftest/parsed" 2>&1 || true
		summary=$(grep -o 'Ran [0-9]* tests:.*' "$out/selftest/parsed" | tail -n 1 || true)
		p=$(sed -n 's/.* passed: \([0-9]*\).*/\1/p' <<<"$summary")
		f=$(sed -n 's/.* failed: \([0-9]*\).*/\1/p' <<<"$summary")
		echo "harness_selftest: ${p:-0} passed, ${f:-0} failed"
		passed=$((passed + ${p:-0}))
		failed=$((failed + ${f:-0}))
	else
		problem "harness self-test produced no KTAP"
	fi
fi
# --- the unload run's verdict -------------------------------------------------------
# Waited for last: it runs beside the main VM, the stock kernels, the
# benchmark and the self-test (one VM of it at a time until the unload VM is
# done), two VMs at most.
if [ -n "$unload_pid" ]; then
	say "waiting for the unload run"
	wait "$unload_pid" || problem "the unload run did not finish ($out/unload.log)"
	rc=0
	"$top/scripts/qemu/verdict.sh" -n -k "$ksrc" -s "$top/scripts/vmtests-unload/suites" \
		"$out/unload" | tee "$out/unload-verdict.txt" || rc=$?
	read -r p f < "$out/unload/counts" || { p=0; f=1; }
	passed=$((passed + p))
	failed=$((failed + f))
	n=$(grep -c '^FAIL: ' "$out/unload-verdict.txt" || true)
	problems=$((problems + n))
	[ "$rc" = 0 ] || [ "$n" != 0 ] || problem "verdict.sh failed on the unload run without saying why (exit $rc)"
	# Which allocation call sites of module/ the fail-nth run failed: all
	# of them, or a new one is missing from its entry points.
	wait "$sites_pid" || true	# without its module, sites.sh builds one
	if grep -q 'failnth: site ' "$out/unload/result.txt" 2>/dev/null; then
		rc=0
		"$top/scripts/stress/sites.sh" "$out/unload/result.txt" "$kdir" "$ksrc" \
			"$out/sites-g" > "$out/unload-sites.txt" 2>&1 || rc=$?
		tail -n 1 "$out/unload-sites.txt"
		case $rc in
		0) ;;
		1) grep 'NOT FAILED' "$out/unload-sites.txt" || true
		   problem "fail-nth never failed an allocation call site of module/ ($out/unload-sites.txt)" ;;
		*) problem "scripts/stress/sites.sh could not map the failed sites ($out/unload-sites.txt)" ;;
		esac
	fi
fi

# --- the static checks' verdict -----------------------------------------------------
if [ -n "$lint_pid" ]; then
	rc=0
	wait "$lint_pid" || rc=$?
	cat "$out/lint.txt"
	[ "$rc" = 0 ] || problem "make lint failed ($out/lint.txt)"
fi

finish
