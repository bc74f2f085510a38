#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build (or reuse) the chimney test kernel and print its build directory.
#
# Source: Debian's linux-source-6.12 package. It is unpacked once per package
# version, and built once per (package version, config fragments) pair, both
# under $CHIMNEY_CACHE (default ~/.cache/chimney), never inside the repository.
# A warm cache makes this a no-op; a cold one costs one kernel build.
#
# usage: [CHIMNEY_FLAVOUR=debug|bench] scripts/kernel.sh [--print-src]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${CHIMNEY_CACHE:-$HOME/.cache/chimney}
tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | sed -n '1p')
[ -n "$tarball" ] || { echo "kernel.sh: linux-source-6.12 is not installed (apt-get install linux-source-6.12)" >&2; exit 1; }
pkgver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
# CHIMNEY_FLAVOUR=debug (default): the test kernel with every debug option.
# CHIMNEY_FLAVOUR=bench: the same kernel without the debug set, for figures.
case "${CHIMNEY_FLAVOUR:-debug}" in
debug) frags=("$here/qemu/kernel.config" "$here/qemu/debug.config") ;;
bench) frags=("$here/qemu/kernel.config") ;;
*) echo "kernel.sh: unknown CHIMNEY_FLAVOUR ${CHIMNEY_FLAVOUR}" >&2; exit 2 ;;
esac
key=$(cat "${frags[@]}" | sha256sum | cut -c1-12)

src=$cache/src-$pkgver
out=$cache/build-$pkgver-$key
mkdir -p "$cache"

if [ "${1:-}" = "--print-src" ]; then
	echo "$src"
	exit 0
fi

# Two concurrent runs (a developer and a harness self-test) must not both
# unpack or build into the same directory.
exec 9>"$cache/.lock"
flock 9

if [ ! -f "$src/.unpacked" ]; then
	echo "kernel.sh: unpacking $tarball ($pkgver)" >&2
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -C "$src.tmp" --strip-components=1 -xf "$tarball"
	touch "$src.tmp/.unpacked"
	mv "$src.tmp" "$src"
fi

if [ -f "$out/.built" ]; then
	echo "$out"
	exit 0
fi

echo "kernel.sh: configuring $out" >&2
mkdir -p "$out"
make -s -C "$src" O="$out" allnoconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >"$out/merge.log"
make -s -C "$src" O="$out" olddefconfig >/dev/null

# merge_config.sh only warns when Kconfig drops a requested symbol; a test
# kernel that silently lost KASAN would make every verdict a lie.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=n) sym=${line%%=*}
		if grep -q "^$sym=" "$out/.config"; then
			echo "kernel.sh: $sym should be unset" >&2; missing=1
		fi ;;
	CONFIG_*) if ! grep -qxF "$line" "$out/.config"; then
			echo "kernel.sh: $line did not survive olddefconfig" >&2; missing=1
		fi ;;
	esac
done < <(cat "${frags[@]}")
[ "$missing" = 0 ] || exit 1

echo "kernel.sh: building ($(nproc) jobs); log in $out/build.log" >&2
if ! make -C "$src" O="$out" -j"$(nproc)" bzImage modules >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	exit 1
fi
touch "$out/.built"
echo "$out"
