#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a test kernel in QEMU with the given modules and collect results.
#
# usage: scripts/qemu/run.sh [options] [MODULE.ko ...]
#   -k, --kernel FILE      bzImage (default: $(scripts/kernel.sh)/arch/x86/boot/bzImage)
#   -o, --out DIR          output dir (default: ${CHIMNEY_OUT:-~/.cache/chimney/out}/run)
#   -t, --timeout SECONDS  whole-VM timeout (default: ${CHIMNEY_TIMEOUT:-1200})
#   -m, --mem SIZE         guest memory (default: ${CHIMNEY_VM_MEM:-4G})
#   -v, --vmtests DIR      shell tests to run in the VM (default: scripts/vmtests)
#   -b, --bin FILE         copy FILE (a static program) to /bin in the VM; repeatable
#   -s, --script FILE      script mode: run FILE in the VM after loading the
#                          modules, stream its output here, exit with its status
#   --append ARGS          extra kernel command line
#   --probe                only decide KVM or TCG (see below), print it, exit
#
# Modules are insmod'ed in the order given; one argument "m.ko p=v ..."
# passes module parameters. Results in DIR:
#   console.log  ttyS0 (kernel log and /init's stderr)
#   result.txt   ttyS1: the structured results written by /init only
#   accel        kvm or tcg;  status  QEMU's exit status (124 = timeout)
# Test mode exits 0 once QEMU is gone, whatever happened in the VM: the
# verdict is scripts/qemu/verdict.sh's job.
#
# Environment: CHIMNEY_ACCEL=kvm|tcg skips the KVM probe; CHIMNEY_VERBOSE=1
# streams the console to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

kernel=""
out=""
timeout=${CHIMNEY_TIMEOUT:-1200}
mem=${CHIMNEY_VM_MEM:-4G}
vmtests=$top/scripts/vmtests
script=""
append=""
probe_only=0
mods=()
bins=()

while [ $# -gt 0 ]; do
	case "$1" in
	-k|--kernel) kernel=$2; shift 2 ;;
	-o|--out) out=$2; shift 2 ;;
	-t|--timeout) timeout=$2; shift 2 ;;
	-m|--mem) mem=$2; shift 2 ;;
	-v|--vmtests) vmtests=$2; shift 2 ;;
	-b|--bin) bins+=("$2"); shift 2 ;;
	-s|--script) script=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--probe) probe_only=1; shift ;;
	-h|--help) sed -n '4,26p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) mods+=("$1"); shift ;;
	esac
done

[ -n "$kernel" ] || kernel=$("$top/scripts/kernel.sh")/arch/x86/boot/bzImage
[ -f "$kernel" ] || { echo "run.sh: no kernel image $kernel" >&2; exit 2; }
[ -n "$out" ] || out=${CHIMNEY_OUT:-$HOME/.cache/chimney/out}/run
for m in "${mods[@]}"; do
	[ -f "${m%% *}" ] || { echo "run.sh: no such module ${m%% *}" >&2; exit 2; }
done
for b in "${bins[@]}"; do
	[ -x "$b" ] || { echo "run.sh: no such program $b" >&2; exit 2; }
done
[ -z "$script" ] || [ -f "$script" ] || { echo "run.sh: no such script $script" >&2; exit 2; }

mkdir -p "$out"
rm -rf "$out/initramfs" "$out/console.log" "$out/result.txt" "$out/status" "$out/accel"

# --- initramfs ---------------------------------------------------------------
# busybox-static is built with FEATURE_SH_STANDALONE: its sh, timeout, env...
# run their own "ip" applet before looking at PATH, so a vm test calling
# "ip" would never reach iproute2. Debian's dynamic busybox honours PATH;
# fetch it once (apt-get download, no install: it conflicts with the
# static one) unless the installed busybox already behaves.
honours_path() {
	local d
	d=$(mktemp -d)
	printf '#!/bin/sh\necho path-ip\n' > "$d/ip"
	chmod +x "$d/ip"
	[ "$(PATH=$d "$1" sh -c ip 2>/dev/null)" = path-ip ]
	local rc=$?
	rm -rf "$d"
	return $rc
}
pick_busybox() {
	local cache=${CHIMNEY_CACHE:-$HOME/.cache/chimney} dl
	local bb=$cache/busybox-deb/bin/busybox
	if [ -n "${CHIMNEY_BUSYBOX:-}" ]; then echo "$CHIMNEY_BUSYBOX"; return; fi
	if honours_path /bin/busybox; then echo /bin/busybox; return; fi
	if [ ! -x "$bb" ]; then
		dl=$(mktemp -d)
		if (cd "$dl" && apt-get download busybox) >"$dl/log" 2>&1; then
			rm -rf "$cache/busybox-deb"
			dpkg-deb -x "$dl"/busybox_*.deb "$cache/busybox-deb"
		fi
		rm -rf "$dl"
	fi
	if [ -x "$bb" ] && honours_path "$bb"; then echo "$bb"; return; fi
	echo "run.sh: WARNING: no PATH-honouring busybox; 'ip' in vm tests is busybox's applet" >&2
	echo /bin/busybox
}
# Copy a host binary and the shared libraries + loader it needs (host paths).
copy_bin() {
	local lib
	cp -L "$1" "$root$2"
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}
root=$out/initramfs
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,root,mods,vmtests,script,lib64}
copy_bin "$(pick_busybox)" /bin/busybox
for applet in $("$root/bin/busybox" --list); do
	# iproute2's ip (in /sbin, first in PATH) replaces busybox's limited one.
	case "$applet" in ip|busybox) continue ;; esac
	ln -sf busybox "$root/bin/$applet"
done
copy_bin "$(command -v ip || echo /sbin/ip)" /sbin/ip
for b in "${bins[@]}"; do
	copy_bin "$b" "/bin/$(basename "$b")"
done
# The kernel opens /dev/console before /init mounts devtmpfs.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
cp "$here/init" "$root/init"
chmod 755 "$root/init"

: > "$root/mods/list"
i=0
for spec in "${mods[@]}"; do
	# "path.ko" or "path.ko param=value ...": parameters go to insmod.
	m=${spec%% *}
	args=""
	[ "$m" = "$spec" ] || args=${spec#* }
	i=$((i + 1))
	name=$(modinfo -F name "$m" 2>/dev/null || true)
	[ -n "$name" ] || name=$(basename "$m" .ko | tr - _)
	file=$(printf '%02d-%s' "$i" "$(basename "$m")")
	cp "$m" "$root/mods/$file"
	echo "$file $name $args" >> "$root/mods/list"
done
if [ -d "$vmtests" ]; then
	# *.sh are the tests; *.inc are helpers they source.
	find "$vmtests" -maxdepth 1 \( -name '*.sh' -o -name '*.inc' \) \
		-exec cp {} "$root/vmtests/" \;
fi
mode="test"
if [ -n "$script" ]; then
	mode=script
	cp "$script" "$root/script/run.sh"
fi
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 > "$out/initramfs.cpio.gz"

# --- QEMU ----------------------------------------------------------------------
# dummy.numdummies=0: no stray dummy0, the vm tests create what they need.
cmdline="console=ttyS0 panic=-1 panic_on_warn=1 oops=panic kmemleak=on loglevel=7"
cmdline+=" dummy.numdummies=0"
cmdline+=" rdinit=/init chimney.mode=$mode ${CHIMNEY_VMTEST_TIMEOUT:+chimney.vmtest_timeout=$CHIMNEY_VMTEST_TIMEOUT} $append"

# qemu OUT-CONSOLE OUT-RESULT TIMEOUT MEM ACCEL-ARGS... ; runs with stdin
# from /dev/null so it never touches the terminal.
qemu() {
	local con=$1 res=$2 t=$3 m=$4 mcmd=$5
	shift 5
	timeout -k 10 "$t" qemu-system-x86_64 \
		-bios /usr/share/qemu/qboot.rom -nographic -no-reboot \
		-m "$m" -smp 2 "$@" \
		-kernel "$kernel" -initrd "$out/initramfs.cpio.gz" \
		-append "$cmdline ${mcmd}" \
		-monitor none -serial stdio -serial "file:$res" \
		-net none < /dev/null > "$con" 2>&1
}

# Nested KVM on some CI hosts boots nothing and hangs; only trust KVM if a
# probe boot reaches /init within a short timeout.
accel=${CHIMNEY_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		start=$(date +%s)
		# The subshell keeps bash's "Aborted" job message off the terminal.
		if (qemu "$out/probe.log" /dev/null 20 512M chimney.mode=probe -enable-kvm -cpu host,la57=off) 2>/dev/null &&
		   grep -q 'chimney-harness: probe ok' "$out/probe.log"; then
			accel=kvm
		fi
		echo "run.sh: KVM probe: $accel ($(($(date +%s) - start))s)" >&2
	fi
fi
# la57=off: with 5-level paging an interrupt during early identify_cpu()
# trips a false KASAN wild-memory-access (seen ~1 in 30 TCG boots).
# shellcheck disable=SC2054 # the commas are QEMU's
if [ "$accel" = kvm ]; then
	accel_args=(-enable-kvm -cpu host,la57=off)
else
	accel_args=(-accel tcg,thread=multi -cpu max,la57=off)
fi
echo "$accel" > "$out/accel"
if [ "$probe_only" = 1 ]; then
	echo "$accel"
	exit 0
fi
echo "run.sh: booting $(basename "$kernel") under $accel, ${#mods[@]} module(s), timeout ${timeout}s, log $out/console.log" >&2

start=$(date +%s)
: > "$out/console.log"
: > "$out/result.txt"
qemu "$out/console.log" "$out/result.txt" "$timeout" "$mem" "" "${accel_args[@]}" &
qpid=$!
# tail --pid exits after QEMU does, having copied everything.
if [ "${CHIMNEY_VERBOSE:-0}" = 1 ]; then
	tail -n +1 -f --pid="$qpid" "$out/console.log" >&2 &
fi
if [ "$mode" = script ]; then
	# Stream the script's output (ttyS1) live, minus the harness markers.
	tail -n +1 -f --pid="$qpid" "$out/result.txt" |
		grep --line-buffered -v '^chimney-harness: ' &
fi
status=0
wait "$qpid" || status=$?
wait || true
took=$(($(date +%s) - start))
echo "$status" > "$out/status"
echo "$took" > "$out/seconds"
echo "run.sh: VM finished in ${took}s (status $status)" >&2

if [ "$mode" = script ]; then
	tr -d '\r' < "$out/result.txt" > "$out/result.clean"
	rc=$(sed -n 's/^chimney-harness: script exit \([0-9]*\)$/\1/p' "$out/result.clean" | tail -n 1)
	if grep -q '^chimney-harness: insmod failed' "$out/result.clean"; then
		echo "run.sh: insmod failed:" >&2
		grep -A5 '^chimney-harness: insmod failed' "$out/result.clean" >&2
	fi
	if grep -qE 'WARNING:|BUG:|KASAN|Oops|Kernel panic|suspicious RCU|circular locking' "$out/console.log"; then
		echo "run.sh: the kernel complained, see $out/console.log:" >&2
		grep -m 5 -E 'WARNING:|BUG:|KASAN|Oops|Kernel panic|suspicious RCU|circular locking' "$out/console.log" >&2
	fi
	if [ -z "$rc" ]; then
		[ "$status" = 124 ] && echo "run.sh: timeout after ${timeout}s" >&2
		echo "run.sh: the VM did not finish the script; console tail:" >&2
		tail -n 40 "$out/console.log" >&2
		exit 1
	fi
	exit "$rc"
fi
exit 0
