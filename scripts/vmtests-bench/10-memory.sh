#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Memory per offloaded connection (issue 10), measured from /proc: hold
# hold_conns connections on one device with chimney's host and target
# (chimney_bench's debugfs file "hold"), reading /proc/meminfo and
# /proc/slabinfo just before and just after the fill: the Slab, VmallocUsed
# (the rhashtables' bucket arrays are kvmalloc'ed) and Percpu deltas per
# connection, and by slab cache the objects that appeared, each charged its
# share of a slab (slab bytes / objects per slab, so a cache's own padding
# counts). Then upload them all; prints the fill and drain times too.
set -eu

n=$(cat /sys/module/chimney_bench/parameters/hold_conns)
ctl=/sys/kernel/debug/chimney_bench/hold
page=4096
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }

# Until VmallocUsed and Slab stop moving (15 s at most): deferred frees
# (RCU callbacks, rhashtable shrinking, an old bucket array after a resize)
# of the KUnit suite before the fill, and of the fill's own transient
# allocations after it, are not the connections' memory.
settle() {
	prev=""
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		sync
		[ "${1:-}" = drop ] && echo 3 > /proc/sys/vm/drop_caches
		sleep 1
		cur="$(meminfo VmallocUsed /proc/meminfo) $(meminfo Slab /proc/meminfo)"
		[ "$cur" = "$prev" ] && break
		prev=$cur
	done
}

settle drop
cat /proc/slabinfo > /tmp/slab0
cat /proc/meminfo > /tmp/mem0
echo "$n" > "$ctl"
settle
cat /proc/slabinfo > /tmp/slab1
cat /proc/meminfo > /tmp/mem1
echo 0 > "$ctl"
read -r _ _ _ fill_ns _ drain_ns < "$ctl"

d() {	# d KEY: kB delta of a /proc/meminfo line, in bytes
	echo $(( ($(meminfo "$1" /tmp/mem1) - $(meminfo "$1" /tmp/mem0)) * 1024 ))
}
vmalloc=$(d VmallocUsed)
percpu=$(d Percpu)
slab_pages=$(( $(d SUnreclaim) + $(d SReclaimable) ))

# name active_objs num_objs objsize objperslab pagesperslab : ...
awk -v page=$page '
	FNR == 1 { f++ }
	/^slabinfo|^#/ { next }
	f == 1 { a0[$1] = $2; next }
	{ a1[$1] = $2; size[$1] = $4; per[$1] = $5; pages[$1] = $6 }
	END {
		for (c in a1) {
			d = a1[c] - a0[c]
			if (d == 0) continue
			slot = pages[c] * page / per[c]
			printf "%d %s %d %d %.1f\n", d * slot, c, d, size[c], slot
		}
	}' /tmp/slab0 /tmp/slab1 | sort -rn > /tmp/slabdelta

# The figure is what the system gave up: the Slab (kmalloc'ed objects,
# slab slack and large kmallocs, which go straight to the page allocator and
# are counted as slab), VmallocUsed and Percpu deltas of /proc/meminfo. The
# per-cache breakdown (objects that appeared, from /proc/slabinfo) accounts
# for most of the Slab delta; "other" is the rest: large kmallocs (e.g. an
# rhashtable bucket array of up to 4 MiB) and partially filled slabs.
objs=$(awk '{ s += $1 } END { printf "%d", s }' /tmp/slabdelta)
total=$((slab_pages + vmalloc + percpu))
per() { awk -v a="$1" -v n="$n" 'BEGIN { printf "%.1f", a / n }'; }

echo "figure: memory_per_conn: $(per $total) B/conn at $n connections (goal <= 256): slab $(per "$slab_pages") (slab objects $(per "$objs"), other $(per $((slab_pages - objs)))), vmalloc $(per "$vmalloc"), percpu $(per "$percpu")"
# The breakdown: every cache that grew by at least one object per 100 connections.
awk -v n="$n" '
	$3 * 100 >= n || -$3 * 100 >= n {
		printf "bench: memory_cache %s: %.2f objects/conn x %.0f B (object %d B) = %.1f B/conn\n",
		       $2, $3 / n, $5, $4, $1 / n
	}' /tmp/slabdelta
echo "bench: memory_other: $(per $((slab_pages - objs))) B/conn (Slab delta not in a cache's objects: large kmallocs, slab slack)"
echo "bench: memory_vmalloc: $(per "$vmalloc") B/conn (VmallocUsed $((vmalloc / 1024)) kB)"
echo "bench: memory_percpu: $(per "$percpu") B/conn (Percpu $((percpu / 1024)) kB)"
echo "bench: hold: $n connections: fill $(per $((fill_ns / 1000))) us/conn, drain $(per $((drain_ns / 1000))) us/conn"
