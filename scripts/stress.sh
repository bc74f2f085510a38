#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make stress / make fuzz / make cycles: the long forms of the unload run's
# stress tests (issue 11), one VM on the debug kernel, judged like make
# check judges it (verdict.sh: no splat, no kmemleak report, every test ok).
#
# usage: scripts/stress.sh churn|fuzz|cycles|all
# Environment:
#   STRESS_SECONDS   seconds of concurrent churn (default 60; e.g. 3600)
#   FUZZ_WRITES      fuzzed writes (default 100000; e.g. 2000000)
#   UNLOAD_CYCLES    insmod/rmmod cycles (default 100; e.g. 1000)
#   SEED             seed of all three (default: the clock; printed)
#   CHIMNEY_OUT      output (default ~/.cache/chimney/out; this run: stress/)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-churn}
out=${CHIMNEY_OUT:-$HOME/.cache/chimney/out}
secs=${STRESS_SECONDS:-60}
writes=${FUZZ_WRITES:-100000}
cycles=${UNLOAD_CYCLES:-100}
seed=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
case "$what" in
churn) tests=(40-churn.sh) ;;
fuzz) tests=(30-fuzz.sh) ;;
cycles) tests=(10-cycles.sh) ;;
all) tests=(10-cycles.sh 30-fuzz.sh 40-churn.sh) ;;
*) echo "usage: $0 churn|fuzz|cycles|all" >&2; exit 2 ;;
esac

"$top/scripts/deps.sh"
kdir=$("$top/scripts/kernel.sh")
ksrc=$("$top/scripts/kernel.sh" --print-src)
make -C "$top" KDIR="$kdir" modules > "$out/stress-modules.log" 2>&1 ||
	{ tail -n 40 "$out/stress-modules.log"; exit 1; }
"$top/scripts/stress/build.sh" "$out/bin"
bins=()
for b in "$out"/bin/chimney-*; do bins+=(-b "$b"); done
rm -rf "$out/stress" "$out/stress-tests"
mkdir -p "$out/stress-tests"
cp "$top/scripts/vmtests-unload/lib.inc" "$out/stress-tests/"
for t in "${tests[@]}"; do cp "$top/scripts/vmtests-unload/$t" "$out/stress-tests/"; done
# The VM gets the whole run plus the boot; each test may take all of it.
budget=$((secs * 2 + writes / 100 + cycles * 12 + 900))
echo "stress: $what (seconds $secs, writes $writes, cycles $cycles, seed $seed), VM timeout ${budget}s"
CHIMNEY_VMTEST_TIMEOUT=$budget "$top/scripts/qemu/run.sh" -k "$kdir/arch/x86/boot/bzImage" \
	-o "$out/stress" -t $((budget + 120)) -m 2G -v "$out/stress-tests" \
	"${bins[@]}" \
	--append "chimney.vmsuite=chimney_unload chimney.unload_cycles=$cycles chimney.unload_seed=$seed chimney.fuzz_writes=$writes chimney.fuzz_seed=$seed chimney.stress_seconds=$secs chimney.stress_seed=$seed" \
	"$top/module/chimney.ko" "$top/kunit/chimney_ext.ko"
grep -E '^    # (chimney-(fuzz|cycles|churn):|books:|[A-Z]+-FAIL|FAIL)' "$out/stress/result.txt" | sed 's/^    # //' || true
"$top/scripts/qemu/verdict.sh" -n -k "$ksrc" -s "$top/scripts/vmtests-unload/suites" "$out/stress"
