#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Which allocation call sites of module/ did the fail-nth run fail? Lists
# every call site (grep of the allocating calls), maps each failed site the
# VM printed ("failnth: site func+0xoff/0xsize") to a source line with the
# kernel's scripts/faddr2line, and marks each call site failed or not.
# The module is built again with -g (KCFLAGS; GCC's code does not change
# with -g, so the offsets match the VM's module) to have line numbers.
# usage: scripts/stress/sites.sh RESULT.txt KDIR KSRC [GDIR]
#        scripts/stress/sites.sh --build GDIR KDIR
# --build only builds that module into GDIR (make check does it early, in
# the background); given GDIR, the mapping uses the module built there.
# Exit 1 if a call site was never failed, 2 if it cannot tell.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)

# chimney.ko alone (not the KUnit module) with -g, from a copy of the tree.
build_g() {
	local dir=$1 kdir=$2

	rm -rf "$dir"
	mkdir -p "$dir"
	(cd "$top" && tar -cf - --exclude='*.o' --exclude='*.ko' --exclude='*.mod*' \
		--exclude='.*.cmd' include module) | tar -xf - -C "$dir"
	echo 'obj-m += module/' > "$dir/Kbuild"
	make -C "$kdir" M="$dir" KCFLAGS=-g modules > "$dir/build.log" 2>&1 ||
		{ tail -n 20 "$dir/build.log"; return 2; }
}

if [ "${1:-}" = --build ]; then
	build_g "${2:?usage: sites.sh --build GDIR KDIR}" "${3:?usage: sites.sh --build GDIR KDIR}"
	exit
fi
res=$1 kdir=$2 ksrc=$3 gdir=${4:-}
calls='k[mz]alloc|kcalloc|kmalloc_array|kv[mz]alloc|kvcalloc|kmem_cache_z?alloc|kstrdup|kmemdup'
calls+='|alloc_(ordered_)?workqueue|rhashtable_init|rhashtable_(lookup_)?insert_fast'
calls+='|xa_insert|xa_reserve|xa_store|xa_alloc|netdev_hold|debugfs_create_(dir|file(_unsafe)?)'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ -z "$gdir" ] || [ ! -f "$gdir/module/chimney.ko" ]; then
	gdir=$tmp/g
	build_g "$gdir" "$kdir" || exit 2
fi
ko=$gdir/module/chimney.ko
# The line of each failed site's call: the stack gives the return address,
# one byte back is inside the call instruction (as the kernel's own
# stack decoders do), which faddr2line maps to the call's line. One
# faddr2line run for all of them: it reads the module's symbols once.
sed -n 's/.*failnth: site \([^ ]*\) (first failed by \(.*\))$/\1\t\2/p' "$res" | tr -d '\r' |
while IFS=$'\t' read -r site by; do
	fn=${site%%+*} off=${site#*+} size=${off#*/} off=${off%%/*}
	printf '%s+%#x/%s\t%s\n' "$fn" $((off - 1)) "$size" "$by"
done > "$tmp/sites"
: > "$tmp/lines"
if [ -s "$tmp/sites" ]; then
	# shellcheck disable=SC2046 # one argument per site
	"$ksrc/scripts/faddr2line" "$ko" $(cut -f1 "$tmp/sites") 2>/dev/null |
		awk '/^[^ ]+\+0x[0-9a-f]+\/0x[0-9a-f]+:$/ { site = substr($0, 1, length($0) - 1); next }
		     site != "" && !(site in loc) && match($0, /\/module\/[^ \/]*\.[ch]:[0-9]+/) {
			loc[site] = substr($0, RSTART + 8, RLENGTH - 8); print site, loc[site] }' \
		> "$tmp/lines" || true
fi
while IFS=$'\t' read -r site by; do
	loc=$(awk -v s="$site" '$1 == s { print $2; exit }' "$tmp/lines")
	echo "$site $loc $by"
done < "$tmp/sites" > "$tmp/failed"

# Call sites that allocate nothing on any path an entry point takes, each
# with the reason (a code pattern, so a changed call is counted again).
noalloc() {
	case $1 in
	*'xa_store(&chimney_by_id'*)
		echo 'allocates nothing: the slot was reserved by xa_reserve() (chimney_table_reserve())' ;;
	*'rhashtable_lookup_insert_fast(&chimney_by_key'*)
		echo 'allocates only to rehash a table over 100% whose deferred resize has not run; its unwind is the -EEXIST one (KUnit chimney_table_insert_lookup_remove)' ;;
	*) return 1 ;;
	esac
}

total=0 hit=0 nofail=0 none=0
while IFS=: read -r file line code; do
	f=$(basename "$file")
	# netdev_hold() with a sleeping gfp: ref_tracker_alloc() adds
	# __GFP_NOFAIL, which failslab never fails (and no error exists).
	if grep -q 'netdev_hold(.*GFP_KERNEL' <<<"$code"; then
		nofail=$((nofail + 1))
		printf '  %-22s cannot fail (GFP_KERNEL: ref_tracker_alloc() adds __GFP_NOFAIL)\n' "$file:$line"
		continue
	fi
	if why=$(noalloc "$code"); then
		none=$((none + 1))
		printf '  %-22s %s\n' "$file:$line" "$why"
		continue
	fi
	total=$((total + 1))
	# netdev_hold() with an atomic gfp: ref_tracker_alloc() fails it
	# silently (__GFP_NOWARN), leaving the reference counted but
	# untracked; the kernel's one "unreliable refcount tracker" line is
	# the evidence failnth prints.
	if grep -q 'netdev_hold(' <<<"$code"; then
		by=$(sed -n 's/.*failnth: silent refcount tracker failure (first by \(.*\))$/\1/p' "$res" |
			tr -d '\r' | sed -n '1p')
		if [ -n "$by" ]; then
			hit=$((hit + 1))
			printf '  %-22s failed silently (first by: %s; no error reaches chimney)\n' "$file:$line" "$by"
		else
			printf '  %-22s NOT FAILED: %s\n' "$file:$line" "$(sed -n "${line}p" "$top/$file" | sed 's/^[[:space:]]*//')"
		fi
		continue
	fi
	# faddr2line names one line of the call: the first up to its ';'.
	end=$(awk -v l="$line" 'NR >= l && /;/ { print NR; exit }' "$top/$file")
	by=$(awk -v f="$f" -v l="$line" -v e="$end" '{ split($2, a, ":"); if (a[1] == f && a[2] >= l && a[2] <= e) { $1 = ""; $2 = ""; sub(/^  /, ""); print; exit } }' "$tmp/failed")
	if [ -n "$by" ]; then
		hit=$((hit + 1))
		printf '  %-22s failed (first by: %s)\n' "$file:$line" "$by"
	else
		printf '  %-22s NOT FAILED: %s\n' "$file:$line" "$(sed -n "${line}p" "$top/$file" | sed 's/^[[:space:]]*//')"
	fi
done < <(cd "$top" && grep -nE "\\b($calls)\\(" module/*.c | grep -vE '^[^:]*:[0-9]*:\s*\*')
echo "sites: $hit of $total allocation call sites in module/ failed at least once ($nofail more cannot fail, $none allocate nothing on the paths taken)"
[ "$hit" = "$total" ]
