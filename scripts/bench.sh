#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the figures of issue 10, each against its baseline measured
# in the same VM run (README, "Figures"). Builds (once, cached) the test
# kernel without the debug set, builds the modules against it in a scratch
# copy of the tree, boots it with chimney.ko and kunit/chimney_bench.ko
# (KUnit suite chimney_bench: event path, lookups, upload-all, two CPUs)
# and runs scripts/vmtests-bench (memory per connection, from /proc).
# Prints every "figure:" line, one per README row; exits non-zero when the
# run has a problem (verdict.sh: a failed case, a crash, a splat, a
# timeout) or a figure line is missing. Figures are never judged.
#
# usage: scripts/bench.sh
# Environment:
#   BENCH_SCALE=full|small  full (default, make bench): 1,000 / 100,000 /
#                           1,000,000 connections, 100,000 uploaded, a
#                           million held for the memory figure; small (make
#                           check): 1,000 / 10,000, 10,000 and 10,000, fewer
#                           events and rounds, a couple of minutes
#   BENCH_ARGS              extra chimney_bench parameters (rounds=, events=, ...)
#   CHIMNEY_OUT             logs (default ~/.cache/chimney/out; this run in bench/)
#   CHIMNEY_ACCEL=kvm|tcg   skip the KVM probe
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
scale=${BENCH_SCALE:-full}
out=${CHIMNEY_OUT:-$HOME/.cache/chimney/out}/bench

case "$scale" in
full)
	sizes=1000,100000,1000000
	params="lookup_conns=$sizes upload_conns=100000 upload_rounds=3 hold_conns=1000000 events=200000 rounds=11"
	timeout=1800 ;;
small)
	sizes=1000,10000
	params="lookup_conns=$sizes upload_conns=10000 upload_rounds=3 hold_conns=10000 events=20000 rounds=5"
	timeout=900 ;;
*) echo "bench: unknown BENCH_SCALE=$scale (full or small)" >&2; exit 2 ;;
esac
params+=" ${BENCH_ARGS:-}"

kdir=$(CHIMNEY_FLAVOUR=bench "$here/kernel.sh")
ksrc=$(CHIMNEY_FLAVOUR=bench "$here/kernel.sh" --print-src)
# Not in the tree: the tree's modules belong to the debug kernel.
rm -rf "$out/src"
mkdir -p "$out/src"
rsync -a --exclude .git --exclude '*.o' --exclude '*.ko' "$top/" "$out/src/"
make -s -C "$out/src" KDIR="$kdir" modules >/dev/null

# Under TCG each vCPU is a host thread: whatever else runs on the host (other
# VMs) shows in the figures, most in two_cpus_vs_one.
load0=$(cut -d' ' -f1-3 /proc/loadavg)
vms0=$(pgrep -cx 'qemu-system-x86' || true)
start=$(date +%s)
CHIMNEY_VMTEST_TIMEOUT=900 "$here/qemu/run.sh" -k "$kdir/arch/x86/boot/bzImage" \
	-t "$timeout" -m 6G -o "$out/run" -v "$here/vmtests-bench" \
	--append "kunit.filter_glob=chimney_bench chimney.vmsuite=chimney_bench_vm" \
	"$out/src/module/chimney.ko" \
	"$out/src/kunit/chimney_bench.ko $params"
rc=0
"$here/qemu/verdict.sh" -k "$ksrc" -s "$here/vmtests-bench/suites" "$out/run" \
	> "$out/verdict.txt" 2>&1 || rc=$?

echo "bench: $scale, accelerator $(cat "$out/run/accel" 2>/dev/null || echo ?), $(nproc) host CPUs, VM run $(($(date +%s) - start))s, kernel $(basename "$kdir")"
echo "bench: host load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; other QEMU processes at the start: $vms0"
# The KTAP (ttyS1) only: KUnit logs and vm test output, never the console.
grep -o '[#:] \(figure\|bench\): .*' "$out/run/result.clean" | cut -c3- > "$out/figures.txt" || true
cat "$out/figures.txt"

missing=0
rows="hop_vs_indirect depth2_vs_notifier two_cpus_vs_one upload_all_vs_removals"
for n in ${sizes//,/ }; do rows+=" lookup_key_$n lookup_id_$n"; done
rows+=" lookup_key_scale lookup_id_scale fill_drain memory_per_conn"
for r in $rows; do
	if ! grep -q "^figure: $r: " "$out/figures.txt"; then
		echo "bench: FAIL: no figure line for $r"
		missing=$((missing + 1))
	fi
done
if [ "$rc" != 0 ]; then
	grep -v '^chimney_' "$out/verdict.txt" | sed -n '1,40p'
	echo "bench: FAIL: the run had problems (verdict.sh; $out/run/console.log)"
fi
[ "$rc" = 0 ] && [ "$missing" = 0 ]
