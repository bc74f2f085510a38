# SPDX-License-Identifier: GPL-2.0
# The debugfs files and the command file as the README documents them
# (issue 5), including refusals from a shell.
. /vmtests/lib.inc
set -e

[ -n "$(cat $D/version)" ] || fail "no version"
ip link add dummy1 type dummy
ip link set dummy1 up
cmd "attach dev=dummy1 capacity=4"
attached dummy1 || fail "attach"
grep -qx '0 protocol chimney_host' $D/devices/dummy1/stack || fail "stack top"
grep -qx '1 target chimney_target' $D/devices/dummy1/stack || fail "stack bottom"
[ "$(cat $D/devices/dummy1/capacity)" = 4 ] || fail "capacity"

a=$(offload dummy1 10.2.0.1:1000 10.2.0.2:80)
b=$(offload dummy1 '[2001:db8::a]:1000' '[2001:db8::b]:443')
head -n 1 $D/connections | grep -q '^# id dev family local remote' || fail "header"
grep -q "^$a dummy1 ipv4 10.2.0.1:1000 10.2.0.2:80 offloaded - 0 0\$" $D/connections ||
	fail "connection line: $(grep "^$a " $D/connections)"
grep -q "^$b dummy1 ipv6 \[2001:db8::a\]:1000 \[2001:db8::b\]:443 offloaded" $D/connections ||
	fail "ipv6 connection line"

cmd "raise id=$a event=backlog bytes=65536"
grep -q "^$a .* offloaded - 65536 1\$" $D/connections || fail "backlog not shown"
cmd "policy dev=dummy1 reason=low_activity accept=0"
grep -qx 'low_activity decline' $D/devices/dummy1/policy || fail "policy"
grep -qx 'invalid_state mandatory' $D/devices/dummy1/policy || fail "mandatory"
cmd "raise id=$a event=retrieve reason=low_activity"
sleep 0.5
grep -q "^$a " $D/connections || fail "declined retrieve uploaded"
[ "$(stat $D/devices/dummy1/stats host_declined)" = 1 ] || fail "declined count"
# Disconnect: chimney's host uploads at once, so a second Disconnect is
# refused because the connection is terminating, not as a duplicate (that
# one is tested with chimney_ext's protocol layer, which keeps it offloaded).
# The device's own counters, before and after; the terminate is delayed so
# the second one surely meets a terminating connection.
S=$D/devices/dummy1/stats
echo 2000 > $D/devices/dummy1/terminate_delay_ms
disc=$(stat $S event_disconnect)
dup=$(stat $S rule_duplicate_disconnect)
term=$(stat $S rule_terminating)
cmd "raise id=$a event=disconnect"
[ "$(stat $S event_disconnect)" = $((disc + 1)) ] || fail "disconnect not counted on dummy1"
wait_for "the host's upload after disconnect" grep -q "^$a .* terminating " $D/connections
cmd_err "raise id=$a event=disconnect"
[ "$(stat $S rule_terminating)" = $((term + 1)) ] ||
	fail "second disconnect: rule_terminating $term -> $(stat $S rule_terminating), expected +1"
[ "$(stat $S rule_duplicate_disconnect)" = "$dup" ] ||
	fail "second disconnect on a terminating connection counted as a duplicate"
[ "$(stat $S event_disconnect)" = $((disc + 1)) ] || fail "the refused disconnect was counted as an event"
wait_for "connection $a uploaded" sh -c "! grep -q '^$a ' $D/connections"
echo 0 > $D/devices/dummy1/terminate_delay_ms

# Fault knobs.
echo 1 > $D/devices/dummy1/fail_initiate
cmd_err "offload dev=dummy1 src=10.2.0.1:2000 dst=10.2.0.2:80"
echo 0 > $D/devices/dummy1/fail_initiate
echo -12 > $D/devices/dummy1/fail_next_initiate
cmd_err "offload dev=dummy1 src=10.2.0.1:2001 dst=10.2.0.2:80"
c=$(offload dummy1 10.2.0.1:2002 10.2.0.2:80)
if echo 7 > $D/devices/dummy1/fail_initiate 2>/dev/null; then fail "bad knob value"; fi

# Refusals from a shell: each one changes nothing.
before=$(cat $D/connections $D/stats | md5sum)
cmd_err "bogus"
cmd_err "offload dev=dummy1 src=10.2.0.1:1 dst=10.2.0.2:0"
cmd_err "offload dev=nosuch src=10.2.0.1:1 dst=10.2.0.2:80"
cmd_err "terminate id=999999999"
cmd_err "raise id=$c event=retrieve reason=12"
printf 'terminate id=%s' "$c" > $D/command 2>/dev/null && fail "no newline accepted"
after=$(cat $D/connections $D/stats | md5sum)
[ "$before" = "$after" ] || fail "a refused command changed state"

# Each opener of the command file reads back the id of its own last
# offload, whatever others wrote in between (last_id is global).
exec 5<>$D/command 6<>$D/command
echo "offload dev=dummy1 src=10.2.0.1:3000 dst=10.2.0.2:80" >&5 || fail "offload through fd 5"
echo "offload dev=dummy1 src=10.2.0.1:3001 dst=10.2.0.2:80" >&6 || fail "offload through fd 6"
id6=""
id5=""
read -r id6 <&6 || true
read -r id5 <&5 || true
exec 5>&- 6>&-
[ -n "$id5" ] && [ -n "$id6" ] || fail "no per-opener id read back from $D/command"
[ "$id5" != "$id6" ] || fail "both openers read back id $id5"
grep -q "^$id5 dummy1 ipv4 10.2.0.1:3000 " $D/connections || fail "fd 5 read back $id5, not its connection"
grep -q "^$id6 dummy1 ipv4 10.2.0.1:3001 " $D/connections || fail "fd 6 read back $id6, not its connection"

# A file held open across device removal and module-visible changes.
exec 4< $D/devices/dummy1/stats
ip link del dummy1
wait_for "dummy1 detached" detached dummy1
cat <&4 >/dev/null 2>&1 || true
exec 4<&-
echo "debugfs: ok"
