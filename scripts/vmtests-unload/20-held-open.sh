# SPDX-License-Identifier: GPL-2.0
# A debugfs file held open pins chimney: rmmod is refused with a clear
# reason and changes nothing, then succeeds once the file is closed. Loaded
# again at the end for the harness.
. /vmtests/lib.inc
set -e

chimney=$(mod_file chimney)
ext=$(mod_file chimney_ext)
[ -d $D ] || fail "chimney is not loaded"
within 60 rmmod chimney_ext || fail "rmmod chimney_ext"
ip link add dummyh type dummy
ip link set dummyh up
cmd "attach dev=dummyh"
offload dummyh 10.51.0.1:1 10.51.0.2:80 >/dev/null

for f in stats devices/dummyh/stats command; do
	if [ $f = command ]; then exec 4> $D/$f; else exec 4< $D/$f; fi
	rmmod_refused "$D/$f held open"
	echo "with $f open: $(cat /tmp/rmmod.out)"
	[ -d $D/devices/dummyh ] || fail "the refused rmmod changed something"
	[ "$(conns dummyh)" = 1 ] || fail "the refused rmmod changed the connections"
	exec 4<&-
done
within 60 rmmod chimney || fail "rmmod chimney after closing the files"
[ ! -d /sys/module/chimney ] || fail "chimney still loaded"
ip link del dummyh
insmod "$chimney" || fail "insmod chimney at the end"
insmod "$ext" || fail "insmod chimney_ext at the end"
echo "held open: ok"
