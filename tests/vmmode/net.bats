#!/usr/bin/env bats
# A VM-mode container's network (net/vmnet.h): the interface an engine set up
# in the container's network namespace (here: a veth pair between two
# namespaces of the test's own, addresses from the documentation ranges)
# becomes the guest's virtio-net device, with the same MAC, MTU, addresses
# and routes inside the container; traffic flows both ways; the namespace is
# left as the engine made it.

load helpers

setup_file() {
  own_templates
}

setup() {
  setup_vm_bundle
  POD=nook-test-$$-pod
  PEER=nook-test-$$-peer
  ip netns add "$POD"
  ip netns add "$PEER"
  ip -n "$POD" link add eth0 type veth peer name peer0 netns "$PEER"
  ip -n "$POD" link set eth0 mtu 1400 up
  ip -n "$POD" addr add 192.0.2.2/24 dev eth0
  ip -n "$POD" addr add 2001:db8::2/64 dev eth0 nodad
  ip -n "$POD" route add default via 192.0.2.1
  ip -n "$PEER" link set peer0 mtu 1400 up
  ip -n "$PEER" addr add 192.0.2.1/24 dev peer0
  MAC=$(ip -n "$POD" -o link show eth0 | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')
  vm_config --arg ns "/run/netns/$POD" \
    '.linux.namespaces |= map(if .type == "network" then .path = $ns else . end)'
}

teardown() {
  delete_all
  [ -n "${PEER_PID:-}" ] && kill "$PEER_PID" 2>/dev/null
  ip netns del "$POD" 2>/dev/null || true
  ip netns del "$PEER" 2>/dev/null || true
}

# The namespace as the engine left it: eth0 with its address, no tap, no tc.
assert_namespace_as_made() {
  run ip -n "$POD" -o link show
  assert_success
  [[ $output != *nookvm* ]] || fail "a tap is left: $output"
  run tc -n "$POD" qdisc show dev eth0
  [[ $output != *ingress* ]] || fail "the ingress qdisc is left: $output"
  run ip -n "$POD" -o addr show eth0
  [[ $output == *192.0.2.2/24* ]] || fail "eth0 lost its address: $output"
}

@test "net: the namespace's interface is the container's in the guest (MAC, MTU, addresses, routes); traffic both ways; the namespace is left as made" {
  vm_config '.process.args = ["sh", "-c", "ip -o link show eth0; ip -o addr show eth0; ip route; echo out | nc -w 10 192.0.2.1 8080 && echo in | nc -l -p 80"]'
  ip netns exec "$PEER" busybox nc -l -p 8080 >"$BATS_TEST_TMPDIR/peer.out" &
  PEER_PID=$!
  nook run --bundle "$B" n1 >"$BATS_TEST_TMPDIR/ctr.out" 2>&1 &
  local run_pid=$! got=
  for _ in $(seq 600); do
    grep -q out "$BATS_TEST_TMPDIR/peer.out" 2>/dev/null && break
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q out "$BATS_TEST_TMPDIR/peer.out" ||
    fail "the peer got nothing from the guest: $(cat "$BATS_TEST_TMPDIR/ctr.out")"
  # The other way: the peer reaches the container's listener.
  for _ in $(seq 100); do
    got=$(ip netns exec "$PEER" busybox nc -w 5 192.0.2.2 80 </dev/null 2>/dev/null) && [ -n "$got" ] && break
    sleep 0.2
  done
  [ "$got" = in ] || fail "the peer could not reach the container: '$got'"
  wait "$run_pid" || fail "run failed: $(cat "$BATS_TEST_TMPDIR/ctr.out")"
  run cat "$BATS_TEST_TMPDIR/ctr.out"
  [[ $output == *"link/ether $MAC "* ]] || fail "not eth0's MAC $MAC: $output"
  [[ $output == *"mtu 1400 "* ]] || fail "not eth0's MTU: $output"
  [[ $output == *"inet 192.0.2.2/24"* ]] || fail "no IPv4 address: $output"
  [[ $output == *"inet6 2001:db8::2/64"* ]] || fail "no IPv6 address: $output"
  [[ $output == *"default via 192.0.2.1 dev eth0"* ]] || fail "no default route: $output"
  assert_namespace_as_made
}

@test "net: a VM restored from its template gets the interface too, also after a killed monitor left its redirection; delete --force undoes a killed monitor's redirection and only its own" {
  vm_config '.process.args = ["sh", "-c", "ip -o addr show eth0; sleep 1000"]'
  # The first saves the template (unless the test before did), the second
  # is restored.
  local i pid
  for i in 1 2; do
    nook create --bundle "$B" "r$i" </dev/null >"$BATS_TEST_TMPDIR/r$i.out" 2>&1 ||
      fail "create r$i: $(cat "$BATS_TEST_TMPDIR/r$i.out")"
    nook start "r$i"
    for _ in $(seq 300); do
      grep -q "inet 192.0.2.2/24" "$BATS_TEST_TMPDIR/r$i.out" && break
      sleep 0.1
    done
    grep -q "inet 192.0.2.2/24" "$BATS_TEST_TMPDIR/r$i.out" || fail "r$i: $(cat "$BATS_TEST_TMPDIR/r$i.out")"
    # The guest's kernel answers: the frames reach it through the tap.
    ip netns exec "$PEER" busybox ping -c 1 -W 10 192.0.2.2 >/dev/null || fail "r$i does not answer a ping"
    # Killed, the monitor cannot undo the redirection to a tap that went
    # with QEMU: r2 must not be cut off by r1's.
    pid=$(nook state "r$i" | jq -r .pid)
    [ "$i" = 2 ] || { kill -KILL "$pid" && wait_gone "$pid"; }
  done
  # r1's delete undoes nothing of r2's, which r2's create replaced.
  nook delete --force r1
  ip netns exec "$PEER" busybox ping -c 1 -W 10 192.0.2.2 >/dev/null ||
    fail "r2 does not answer a ping after r1's delete"
  # r2's monitor killed too: delete undoes what it left.
  kill -KILL "$pid"
  wait_gone "$pid"
  run tc -n "$POD" qdisc show dev eth0
  [[ $output == *ingress* ]] || fail "the killed monitor's redirection is not there to undo: $output"
  nook delete --force r2
  assert_namespace_as_made
  [ -n "$(find "$NOOK_VM_TEMPLATES" -name 'template-*')" ] || fail "no template was saved"
}

@test "net: a namespace with only loopback gives the guest none; other namespaces' paths and linux.netDevices are refused, naming them" {
  ip netns del "$POD"
  ip netns add "$POD"
  vm_config '.process.args = ["sh", "-c", "ls /sys/class/net"]'
  run nook run --bundle "$B" lo1
  assert_success
  assert_output "lo"

  vm_config '.linux.namespaces |= map(if .type == "ipc" then .path = "/proc/1/ns/ipc" else . end)'
  run nook run --bundle "$B" ipc1
  assert_failure
  assert_output --regexp 'linux\.namespaces\[[0-9]+\]\.path: VM mode cannot join the host.s ipc namespace `/proc/1/ns/ipc`'
  vm_config '.linux.namespaces |= map(if .type == "ipc" then del(.path) else . end) | .linux.netDevices = {"dummy0": {}}'
  run nook run --bundle "$B" nd1
  assert_failure
  assert_output --partial "linux.netDevices: VM mode cannot move a host network device"
  [ -z "$(nook list -q)" ] || fail "left: $(nook list -q)"
}
