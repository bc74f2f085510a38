# SPDX-License-Identifier: GPL-2.0
# chimney_ext's intermediate layers inside a stack chimney attached (its host
# on top, its target at the bottom), with connections live (issue 9): link
# down uploads everything through them and refuses offloads until up, events
# cross them, and deleting the device returns promptly and unbinds them.
. /vmtests/lib.inc
set -e

[ -d $E ] || fail "chimney_ext is not loaded ($E missing)"
ip link add extc0 type dummy
ip link set extc0 up
cmd "attach dev=extc0"
# Layers register only while the stack carries no connection.
ecmd "im dev=extc0 n=2"
grep -qx '0 protocol chimney_host' $D/devices/extc0/stack || fail "stack top: $(cat $D/devices/extc0/stack)"
grep -qx '1 intermediate ext_im1' $D/devices/extc0/stack || fail "ext_im1 not right below the host"
grep -qx '2 intermediate ext_im0' $D/devices/extc0/stack || fail "ext_im0 not above the target"
grep -qx '3 target chimney_target' $D/devices/extc0/stack || fail "stack bottom"
a=$(offload extc0 10.41.0.1:1 10.41.0.2:80)
offload extc0 10.41.0.1:2 10.41.0.2:80 >/dev/null
offload extc0 '[2001:db8::41]:3' '[2001:db8::42]:80' >/dev/null
ecmd_err "im dev=extc0 n=1"
[ "$(estat extc0.im_initiate)" = 6 ] || fail "each ext_im should have seen 3 initiates"
cmd "raise id=$a event=backlog bytes=4096"
[ "$(estat extc0.im_forwarded)" = 2 ] || fail "the backlog event did not cross both ext_im"
grep -q "^$a .* 4096 1\$" $D/connections || fail "the host did not get the backlog"

# Link down: chimney's target raises UPLOAD_ALL, which the ext_im pass up;
# the host uploads everything through them; offloads are refused until up.
st=$(estat extc0.im_status)
ip link set extc0 down
wait_for "upload on link down" sh -c "[ \$(grep -c '^[0-9]* extc0 ' $D/connections) = 0 ]"
[ "$(estat extc0.im_terminate_complete)" = 6 ] ||
	fail "$(estat extc0.im_terminate_complete) terminate completions in the ext_im, expected 6"
cmd_err "offload dev=extc0 src=10.41.0.1:4 dst=10.41.0.2:80"
[ "$(estat extc0.im_initiate)" = 6 ] || fail "an offload reached the ext_im while the link was down"
expect "link down: UPLOAD_ALL did not travel up through both ext_im ($(estat extc0.im_status) status forwards)" \
	[ "$(estat extc0.im_status)" -ge $((st + 2)) ]
st=$(estat extc0.im_status)
ip link set extc0 up
wait_for "offloads again after link up" sh -c "echo 'offload dev=extc0 src=10.41.0.1:5 dst=10.41.0.2:80' > $D/command 2>/dev/null"
[ "$(estat extc0.im_initiate)" = 8 ] || fail "the offload after up did not cross both ext_im"
expect "link up: OFFLOAD_RESUME did not travel up through both ext_im" \
	[ "$(estat extc0.im_status)" -ge $((st + 2)) ]

# Delete the device with connections live, one initiate still pending at
# chimney's target: prompt, everything uploaded, the ext_im unbound.
offload extc0 10.41.0.1:6 10.41.0.2:80 >/dev/null
echo 3000 > $D/devices/extc0/initiate_delay_ms
offload extc0 10.41.0.1:7 10.41.0.2:80 >/dev/null
[ "$(conns extc0)" = 3 ] || fail "expected 3 connections before the delete"
unbind=$(estat unbind)
t0=$(now_ms)
rc=0
within 30 ip link del extc0 || rc=$?
t1=$(now_ms)
[ "$rc" != 124 ] || fail "ip link del with ext_im and live connections did not return within 30 s"
[ "$rc" = 0 ] || fail "ip link del failed ($rc)"
echo "ip link del of a chimney device with 2 ext_im and 3 connections (1 initiating): $((t1 - t0)) ms"
[ $((t1 - t0)) -lt 10000 ] || fail "ip link del took $((t1 - t0)) ms"
wait_for "extc0 detached" detached extc0
[ "$(estat unbind)" = $((unbind + 2)) ] || fail "$(($(estat unbind) - unbind)) ext_im unbound, expected 2"
! grep -q '^extc0\.' $E/stats || fail "chimney_ext kept extc0's state after unbind"
[ "$(conns extc0)" = 0 ] || fail "connections left"
[ "$(estat errors)" = 0 ] || fail "chimney_ext counted broken promises"
expect_done
echo "ext_im in a chimney stack: ok"
