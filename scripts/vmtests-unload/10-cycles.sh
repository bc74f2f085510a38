# SPDX-License-Identifier: GPL-2.0
# Load/unload cycles of chimney under fire (issue 9, item 4). Each cycle:
# insmod with devices=dummy*, devices attached at load and by the notifier,
# connections (one initiate still pending), then background loops writing
# /sys/module/chimney/parameters/devices, reading every debugfs file and
# adding/removing devices, and rmmod in the middle of it. rmmod must succeed,
# refused only while a reader holds a debugfs file open (the module is
# pinned then), and never hang. Every few cycles chimney_ext (a layer module
# outside chimney) carries a stack with connections live and goes first.
# chimney and chimney_ext are loaded again at the end for the harness.
. /vmtests/lib.inc
set -e

cycles=${CHIMNEY_UNLOAD_CYCLES:-20}
P=/sys/module/chimney/parameters/devices
chimney=$(mod_file chimney)
ext=$(mod_file chimney_ext)
[ -f "$chimney" ] || fail "no chimney in /mods/list"
[ -f "$ext" ] || fail "no chimney_ext in /mods/list"
# The harness loaded both: chimney can only go once its user has.
within 60 rmmod chimney_ext || fail "rmmod chimney_ext (as loaded by the harness)"
within 60 rmmod chimney || fail "rmmod chimney (as loaded by the harness)"

loops=""
stop_loops() {
	# Only the loops this test started, by pid.
	[ -z "$loops" ] || kill $loops 2>/dev/null || true
	for p in $loops; do wait "$p" 2>/dev/null || true; done
	loops=""
}
trap stop_loops EXIT

# rmmod_busy NAME: rmmod, retried while the module is pinned (a debugfs file
# open in a reader); any other refusal, or a hang, fails.
rmmod_busy() {
	r_i=0
	while :; do
		rc=0
		within 60 sh -c "rmmod $1 > /tmp/rmmod.out 2>&1" || rc=$?
		[ "$rc" != 124 ] || fail "rmmod $1 did not return within 60 s"
		[ "$rc" != 0 ] || return 0
		grep -qE 'Resource temporarily unavailable|in use|busy' /tmp/rmmod.out ||
			fail "rmmod $1 refused for another reason: $(cat /tmp/rmmod.out)"
		refused=$((refused + 1))
		r_i=$((r_i + 1))
		[ $r_i -lt 300 ] || fail "rmmod $1 refused 300 times in a row: $(cat /tmp/rmmod.out)"
		sleep 0.05
	done
}

ip link add dummya type dummy
ip link set dummya up
refused=0
t0=$(now_ms)
cyc=0
while [ $cyc -lt "$cycles" ]; do
	cyc=$((cyc + 1))
	# dummya exists before the load; dummyb comes after it.
	insmod "$chimney" 'devices=dummy*' || fail "cycle $cyc: insmod chimney"
	wait_for "cycle $cyc: dummya attached at load" attached dummya
	ip link add dummyb type dummy
	ip link set dummyb up
	wait_for "cycle $cyc: dummyb attached" attached dummyb
	offload dummya 10.50.0.1:$cyc 10.50.0.2:80 >/dev/null
	offload dummyb 10.50.1.1:$cyc 10.50.1.2:80 >/dev/null
	offload dummyb "[2001:db8::50]:$cyc" '[2001:db8::51]:80' >/dev/null
	echo 3000 > $D/devices/dummyb/initiate_delay_ms
	offload dummyb 10.50.1.1:$((cyc + 1000)) 10.50.1.2:80 >/dev/null
	grep -q "10.50.1.1:$((cyc + 1000)) .* offloading " $D/connections ||
		fail "cycle $cyc: no initiate pending"
	with_ext=0
	if [ $((cyc % 5)) = 0 ]; then
		with_ext=1
		insmod "$ext" || fail "cycle $cyc: insmod chimney_ext"
		ip link add extl0 type dummy
		ip link set extl0 up
		ecmd "stack dev=extl0 im=2 async_ms=50"
		ecmd "offload dev=extl0 count=4"
	fi

	( while :; do
		echo 'dummy*' > $P
		echo 'dummy*,veth*' > $P
		echo '' > $P
	done ) 2>/dev/null &
	loops="$loops $!"
	( while :; do
		find $D -type f -exec cat {} \;
	done ) > /dev/null 2>&1 &
	loops="$loops $!"
	( while :; do
		ip link add dummyc type dummy && ip link set dummyc up
		ip link del dummyc
	done ) > /dev/null 2>&1 &
	loops="$loops $!"
	sleep 0.5

	if [ $with_ext = 1 ]; then
		rmmod_busy chimney_ext
		[ ! -d $E ] || fail "cycle $cyc: $E still there"
		[ "$(conns extl0)" = 0 ] || fail "cycle $cyc: chimney_ext left connections"
		ip link del extl0
	fi
	rmmod_busy chimney
	stop_loops
	[ ! -d $D ] || fail "cycle $cyc: $D still there after rmmod"
	[ ! -d /sys/module/chimney ] || fail "cycle $cyc: chimney still loaded"
	ip link del dummyb
	ip link del dummyc 2>/dev/null || true
done
t1=$(now_ms)
echo "$cycles load/unload cycles in $((t1 - t0)) ms; rmmod refused $refused time(s) while a reader held a file open"

# For the harness's own rmmod of both.
insmod "$chimney" || fail "insmod chimney at the end"
insmod "$ext" || fail "insmod chimney_ext at the end"
ip link del dummya
echo "unload cycles: ok"
