# SPDX-License-Identifier: GPL-2.0
# rmmod of a layer module with connections live (issue 9): a full chimney_ext
# stack and chimney_ext intermediates inside a chimney stack, connections on
# both (asynchronous terminates, an initiate pending). Unregistering uploads
# them; the unload succeeds promptly and leaves nothing behind. Loaded again
# afterwards for the harness's own rmmod.
. /vmtests/lib.inc
set -e

[ -d $E ] || fail "chimney_ext is not loaded ($E missing)"
f=$(mod_file chimney_ext)
[ -n "$f" ] && [ -f "$f" ] || fail "no chimney_ext in /mods/list"
ip link add extr0 type dummy
ip link set extr0 up
ecmd "stack dev=extr0 im=1 async_ms=100"
ecmd "offload dev=extr0 count=8"
ip link add extr1 type dummy
ip link set extr1 up
cmd "attach dev=extr1"
ecmd "im dev=extr1 n=1"
offload extr1 10.43.0.1:1 10.43.0.2:80 >/dev/null
offload extr1 10.43.0.1:2 10.43.0.2:80 >/dev/null
echo 2000 > $D/devices/extr1/initiate_delay_ms
offload extr1 10.43.0.1:3 10.43.0.2:80 >/dev/null
echo 0 > $D/devices/extr1/initiate_delay_ms
[ "$(conns extr0)" = 8 ] && [ "$(conns extr1)" = 3 ] || fail "connections not set up"

dmesg -c >/dev/null
t0=$(now_ms)
rc=0
within 60 rmmod chimney_ext || rc=$?
t1=$(now_ms)
[ "$rc" != 124 ] || fail "rmmod chimney_ext with connections live did not return within 60 s"
[ "$rc" = 0 ] || fail "rmmod chimney_ext failed ($rc)"
echo "rmmod chimney_ext with 11 connections live: $((t1 - t0)) ms"
[ ! -d $E ] || fail "$E still there"
! dmesg | grep -q 'chimney_ext: .*refused with connections live' ||
	fail "chimney_layer_unregister() refused with connections live: chimney_ext had to upload them itself"
[ "$(conns extr0)" = 0 ] || fail "$(conns extr0) connections left on extr0"
[ "$(conns extr1)" = 0 ] || fail "$(conns extr1) connections left on extr1 (uploaded by the unregister)"
! grep -q ext_ $D/devices/extr1/stack || fail "an ext layer is still in extr1's stack"
grep -qx '1 target chimney_target' $D/devices/extr1/stack || fail "extr1's stack: $(cat $D/devices/extr1/stack)"
# chimney's own layers are intact: offloads work again on extr1.
offload extr1 10.43.0.1:4 10.43.0.2:80 >/dev/null

insmod "$f" || fail "insmod $f again"
[ -d $E ] || fail "$E missing after insmod"
ip link del extr0
ip link del extr1
wait_for "extr1 detached" detached extr1
echo "ext rmmod: ok"
