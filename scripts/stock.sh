#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The dev-box path on Debian 12's stock kernels: for each of 6.1 (the
# linux-headers-amd64 default) and the newest 6.12 in bookworm, build
# chimney.ko against the distribution headers, boot the matching unsigned
# vmlinuz in QEMU (scripts/qemu/run.sh script mode, -m 1G) and run
# scripts/stock-vm.sh in it; then "dkms add" + "dkms build" for 6.1.
#
# Kernel images are never installed on the host: apt-get download +
# dpkg-deb -x into $CHIMNEY_CACHE/stock. Headers are installed with apt-get,
# except where the headers package depends on its image (6.12 in bookworm):
# its dependencies minus the image are installed, the package itself is
# extracted into the cache.
#
# usage: scripts/stock.sh [SERIES...]     (default: 6.1 6.12)
# Output: one KTAP-ish line per test ("ok N stock-6.1 # ..."), a summary line
# per kernel, and "P F" in $CHIMNEY_OUT/stock/counts.
# Environment: CHIMNEY_CACHE, CHIMNEY_OUT, CHIMNEY_ACCEL=kvm|tcg,
#   CHIMNEY_STOCK_TIMEOUT (per VM, default 300), CHIMNEY_SKIP_DKMS=1,
#   CHIMNEY_STOCK_VM_SCRIPT (the in-VM script; to prove a failure fails).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${CHIMNEY_CACHE:-$HOME/.cache/chimney}/stock
out=${CHIMNEY_OUT:-$HOME/.cache/chimney/out}/stock
vm_timeout=${CHIMNEY_STOCK_TIMEOUT:-300}
vm_script=${CHIMNEY_STOCK_VM_SCRIPT:-$here/stock-vm.sh}
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$cache" "$out"

series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)

n=0
passed=0
failed=0
declare -A summary
order=()

log() { echo "stock: $*" >&2; }
installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == *'install ok installed'* ]]; }
apt_install() {
	local p missing=()
	for p in "$@"; do installed "$p" || missing+=("$p"); done
	[ ${#missing[@]} = 0 ] && return 0
	log "apt-get install ${missing[*]}"
	apt-get install -y --no-install-recommends "${missing[@]}" < /dev/null > "$out/apt.log" 2>&1 ||
		{ tail -n 20 "$out/apt.log" >&2; return 1; }
}
result() {		# result OK NAME COMMENT
	n=$((n + 1))
	if [ "$1" = 1 ]; then
		passed=$((passed + 1))
		echo "ok $n $2 # $3"
	else
		failed=$((failed + 1))
		echo "not ok $n $2 # $3"
	fi
}

# The kernel release (ABI name + flavour) for a series, from the apt lists.
release_of() {
	case "$1" in
	6.1) apt-cache depends linux-headers-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-headers-\(6\.1\.[0-9]*-[0-9]*-amd64\)$/\1/p' | sed -n '1p' ;;
	*) apt-cache search --names-only "^linux-headers-${1//./\\.}\\.[0-9]+\\+deb12-amd64\$" 2>/dev/null |
		awk '{print $1}' | sed 's/^linux-headers-//' | sort -V | tail -n 1 ;;
	esac
}

# Echo the KDIR for release $1, installing or extracting its headers.
headers_for() {
	local rel=$1 pkg=linux-headers-$1 deps dir deb l
	if installed "$pkg"; then echo "/usr/src/$pkg"; return; fi
	deps=$(apt-cache depends "$pkg" | sed -n 's/^ *|\{0,1\}Depends: //p' | sort -u)
	if ! grep -q '^linux-image-' <<<"$deps"; then
		apt_install "$pkg" >&2 || return 1
		echo "/usr/src/$pkg"
		return
	fi
	# Depends on its image: install the rest, extract the package itself.
	dir=$cache/hdr-$rel
	if [ ! -f "$dir/.done" ]; then
		# shellcheck disable=SC2046 # one package name per word
		apt_install $(grep -v '^linux-image-' <<<"$deps") >&2 || return 1
		rm -rf "$dir"
		mkdir -p "$dir"
		(cd "$dir" && apt-get download "$pkg" > "$out/apt-download.log" 2>&1) ||
			{ cat "$out/apt-download.log" >&2; return 1; }
		dpkg-deb -x "$dir/${pkg}_"*.deb "$dir/root"
		rm -f "$dir/${pkg}_"*.deb
		# scripts -> ../../lib/linux-kbuild-*/scripts: point at the host's.
		for l in "$dir/root/usr/src/$pkg"/*; do
			[ -L "$l" ] || continue
			case $(readlink "$l") in
			../../lib/*) ln -sfn "/usr/lib/$(readlink "$l" | sed 's|^../../lib/||')" "$l" ;;
			esac
		done
		touch "$dir/.done"
	fi
	echo "$dir/root/usr/src/$pkg"
}

# Echo the directory the unsigned image of release $1 is extracted in.
image_for() {
	local rel=$1 dir=$cache/img-$1 pkg=linux-image-$1-unsigned
	if [ ! -f "$dir/.done" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		log "downloading $pkg"
		(cd "$dir" && apt-get download "$pkg" > "$out/apt-download.log" 2>&1) ||
			{ cat "$out/apt-download.log" >&2; return 1; }
		dpkg-deb -x "$dir/${pkg}_"*.deb "$dir"
		rm -f "$dir/${pkg}_"*.deb
		touch "$dir/.done"
	fi
	echo "$dir"
}

# Copy the sources (not build products) to a private build dir, so the
# tree's own objects (built against the test kernel) are left alone.
copy_tree() {
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$top" && tar -cf - --exclude='*.o' --exclude='*.ko' --exclude='*.mod' \
		--exclude='*.mod.c' --exclude='.*.cmd' --exclude='modules.order' \
		--exclude='Module.symvers' Kbuild Makefile dkms.conf module include kunit) |
		tar -C "$1" -xf -
}

accel=${CHIMNEY_ACCEL:-}
# The socket round's client and server (static: any kernel's initramfs).
"$top/scripts/sock/build.sh" "$out/sockbin" > "$out/sock-build.log" 2>&1 ||
	{ cat "$out/sock-build.log" >&2; echo "stock: building chimney-sock failed" >&2; exit 1; }
for s in "${series[@]}"; do
	t0=$(date +%s)
	name=stock-$s
	order+=("$s")
	rel=$(release_of "$s")
	if [ -z "$rel" ]; then
		result 0 "$name" "no $s kernel in the apt lists (apt-get update?)"
		summary[$s]="no kernel found"
		continue
	fi
	if ! kdir=$(headers_for "$rel") || ! img=$(image_for "$rel"); then
		result 0 "$name" "$rel: headers or image unavailable"
		summary[$s]="$rel: download failed"
		continue
	fi
	t1=$(date +%s)

	# Build.
	b=$out/build-$rel
	copy_tree "$b"
	if ! make -C "$b" KDIR="$kdir" modules > "$out/build-$rel.log" 2>&1; then
		tail -n 30 "$out/build-$rel.log" >&2
		result 0 "$name" "$rel: build failed ($out/build-$rel.log)"
		summary[$s]="$rel: build FAILED"
		continue
	fi
	ko=$b/module/chimney.ko
	vermagic=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	version=$(modinfo -F version "$ko")
	want=$(sed -n 's/^#define CHIMNEY_VERSION "\(.*\)"$/\1/p' "$top/module/version.h")
	problems=""
	[ "$vermagic" = "$rel" ] || problems+=" vermagic '$vermagic' is not $rel;"
	[ "$version" = "$want" ] || problems+=" modinfo version '$version' is not $want;"
	[ ! -e "$b/kunit/chimney_test.ko" ] || problems+=" the KUnit module was built;"
	t2=$(date +%s)

	# dummy.ko and veth.ko (the real connection's link) from the image
	# (xz-compressed on 6.12); neither has dependencies.
	for m in dummy veth; do
		f=$(find "$img/lib/modules/$rel" -name "$m.ko*" -print -quit)
		case "$f" in
		*.xz) xz -dc "$f" > "$out/$m-$rel.ko" ;;
		*.zst) zstd -dcq "$f" > "$out/$m-$rel.ko" ;;
		*) cp "$f" "$out/$m-$rel.ko" ;;
		esac
	done
	vmlinuz=$img/boot/vmlinuz-$rel
	if [ -z "$accel" ]; then
		accel=$("$top/scripts/qemu/run.sh" --probe -k "$vmlinuz" -o "$out/probe" 2>/dev/null || echo tcg)
	fi
	rc=0
	CHIMNEY_ACCEL=$accel "$top/scripts/qemu/run.sh" -k "$vmlinuz" -m 1G -t "$vm_timeout" \
		-o "$out/vm-$rel" -s "$vm_script" -b "$out/sockbin/chimney-sock" \
		"$out/dummy-$rel.ko" "$out/veth-$rel.ko" "$ko" > "$out/vm-$rel.out" 2>&1 || rc=$?
	t3=$(date +%s)
	res=$out/vm-$rel/result.clean
	if [ "$rc" != 0 ] || ! grep -qx 'stock-vm: PASS' "$res" 2>/dev/null; then
		problems+=" VM: $(grep -m1 '^stock-vm: FAIL' "$res" 2>/dev/null || echo "run.sh exit $rc") (log $out/vm-$rel);"
	fi
	# Host side too: the console is the whole kernel log.
	if grep -qE 'WARNING:|BUG:|Oops|Call Trace' "$out/vm-$rel/console.log" 2>/dev/null; then
		problems+=" splat on the console ($out/vm-$rel/console.log);"
	fi
	times="download $((t1 - t0))s, build $((t2 - t1))s, boot+test $((t3 - t2))s ($accel)"
	if [ -z "$problems" ]; then
		result 1 "$name" "$rel: $times"
		summary[$s]="$rel: PASS ($times)"
	else
		sed 's/^/# /' "$out/vm-$rel.out" | tail -n 20
		result 0 "$name" "$rel:$problems"
		summary[$s]="$rel: FAIL"
	fi
done

# DKMS on 6.1 (its headers are installed, so /lib/modules/<rel>/build exists).
if [ "${CHIMNEY_SKIP_DKMS:-0}" != 1 ]; then
	t0=$(date +%s)
	rel=$(release_of 6.1)
	ver=$(sed -n 's/^#define CHIMNEY_VERSION "\(.*\)"$/\1/p' "$top/module/version.h")
	ok=0
	if [ -n "$rel" ] && apt_install dkms "linux-headers-$rel"; then
		dkms remove "chimney/$ver" --all > /dev/null 2>&1 || true
		rm -rf "/usr/src/chimney-$ver"
		copy_tree "/usr/src/chimney-$ver"
		if dkms add "chimney/$ver" > "$out/dkms.log" 2>&1 &&
		   dkms build "chimney/$ver" -k "$rel" >> "$out/dkms.log" 2>&1 &&
		   built=$(find "/var/lib/dkms/chimney/$ver/$rel" -name 'chimney.ko*' -print -quit) &&
		   [ -n "$built" ] &&
		   [ -z "$(find "/var/lib/dkms/chimney/$ver/$rel" -name 'chimney_test.ko*')" ]; then
			ok=1
		else
			tail -n 20 "$out/dkms.log" | sed 's/^/# /'
		fi
		dkms remove "chimney/$ver" --all >> "$out/dkms.log" 2>&1 || true
		rm -rf "/usr/src/chimney-$ver"
	fi
	result "$ok" dkms-6.1 "dkms add + build chimney/$ver -k ${rel:-?}: $(($(date +%s) - t0))s"
	order+=(dkms)
	summary[dkms]="chimney/$ver on ${rel:-?}: $([ $ok = 1 ] && echo PASS || echo FAIL)"
fi

echo "1..$n"
for k in "${order[@]}"; do
	echo "stock $k: ${summary[$k]}"
done
echo "$passed $failed" > "$out/counts"
echo "stock: $passed passed, $failed failed"
[ "$failed" = 0 ]
