#!/usr/bin/env bats
# VM mode's pause/resume, kill and delete of a paused container, ps, update
# and events (issue #15): the guest's nook does the container's part, the
# monitor the host's (QMP stop/cont of the vCPUs, the VMM's cgroup).
# Every test boots as few VMs as it can (TCG: seconds each).

load helpers

setup_file() {
  kernel_bundle
}

setup() {
  setup_vm_bundle
}

teardown() {
  delete_all
}

# run_up ID: `nook run -d` of the bundle as ID, stdout in $BATS_TEST_TMPDIR/ID.out
# (stdin $2, default /dev/null), until the container says up.
run_up() {
  nook run -d -b "$B" "$1" >"$BATS_TEST_TMPDIR/$1.out" <"${2:-/dev/null}"
  wait_for "$BATS_TEST_TMPDIR/$1.out" up
}

# guest_init_use ID: the guest init's open fds and resident kB, one a line,
# as a process of the container sees them (one without a pid namespace: the
# guest init is its /proc/1; CAP_SYS_PTRACE to list another's fds).
guest_init_use() {
  nook exec --cap CAP_SYS_PTRACE "$1" sh -c 'ls /proc/1/fd | wc -l; grep ^VmRSS: /proc/1/status | tr -dc 0-9'
}

# status ID: the container's status as `state` says it.
status() {
  nook state "$1" | jq -r .status
}

# qemu_ticks ID: utime+stime (clock ticks) of the container's QEMU.
qemu_ticks() {
  local q
  q=$(pgrep -P "$(nook state "$1" | jq .pid)" qemu-system)
  awk '{ print $14 + $15 }' "/proc/$q/stat"
}

# cpu_over_1s ID: how many ticks QEMU used in one second.
cpu_over_1s() {
  local a b
  a=$(qemu_ticks "$1")
  sleep 1
  b=$(qemu_ticks "$1")
  echo $((b - a))
}

# lines FILE: its line count.
lines() {
  wc -l <"$1"
}

# wait_more FILE N: until FILE has more than N lines (at most 120 s).
wait_more() {
  local i
  for ((i = 0; i < 1200; i++)); do
    [ "$(lines "$1")" -gt "$2" ] && return 0
    sleep 0.1
  done
  fail "$1 stayed at $2 lines"
}

# host_cg CONTROLLER ID: the container's (QEMU's) cgroup directory on the
# host for CONTROLLER (its v1 hierarchy, else the unified one), from its
# state.
host_cg() {
  local cg d
  cg=$(jq -r .cgroup "$ROOT/$2/state.json" | tr ';' '\n')
  d=$(sed -n "s/^h=$1:[0-9]*://p" <<<"$cg")
  [ -n "$d" ] || d=$(sed -n 's/^u=[0-9]*://p' <<<"$cg")
  echo "$d"
}

# host_limit memory|cpu|pids ID: that limit of QEMU's cgroup on the host
# (cpu: the quota).
host_limit() {
  local d
  d=$(host_cg "$1" "$2")
  case $1 in
  memory) cat "$d/memory.limit_in_bytes" 2>/dev/null || cat "$d/memory.max" ;;
  cpu) cat "$d/cpu.cfs_quota_us" 2>/dev/null || cut -d' ' -f1 "$d/cpu.max" ;;
  pids) cat "$d/pids.max" ;;
  esac
}

@test "vm commands: pause stops QEMU's vCPUs and freezes the container, resume goes on; ps lists guest pids" {
  # Busy (QEMU uses a whole CPU while the container runs), and printing the
  # guest's uptime.
  vm_config '.process.args = ["sh", "-c", "echo up; while :; do :; done & while :; do cat /proc/uptime; sleep 0.2; done"]'
  run_up test-vmc1
  local out=$BATS_TEST_TMPDIR/test-vmc1.out pid
  pid=$(nook state test-vmc1 | jq .pid)
  wait_more "$out" 2
  [ "$(cpu_over_1s test-vmc1)" -gt 20 ]

  nook pause test-vmc1
  [ "$(status test-vmc1)" = paused ]
  run nook list
  assert_line --regexp "^test-vmc1 +$pid +paused "
  # Stopped vCPUs: QEMU costs nothing (a tick or two of its main loop).
  run cpu_over_1s test-vmc1
  [ "$output" -le 3 ] || fail "QEMU used $output ticks in 1 s while paused"
  # Requests while paused run the vCPUs for their time; the container's
  # cgroup stays frozen in the guest, so it writes nothing meanwhile.  (The
  # first ones relay what it wrote before the pause.)
  nook ps test-vmc1 >/dev/null
  nook events --stats test-vmc1 >/dev/null
  local n
  n=$(lines "$out")
  # The container's processes (sh, its busy child, maybe a sleep or a cat), guest
  # pids; frozen, they are the same for both.
  run nook ps -f json test-vmc1
  assert_success
  local gpids gpid count
  count=$(jq length <<<"$output")
  [ "$count" -ge 2 ]
  gpids=$(jq '.[]' <<<"$output")
  run nook ps test-vmc1
  assert_success
  assert_line --index 0 --regexp '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$'
  assert_equal "${#lines[@]}" $((count + 1))
  for gpid in $gpids; do
    assert_line --regexp "^0 +$gpid +[0-9]+ +[0-9]+ +[0-9:]+ +\? +[0-9:]+ (sh -c echo up; |sleep 0.2|cat /proc/uptime)"
  done
  nook events --stats test-vmc1 >/dev/null
  [ "$(lines "$out")" = "$n" ] || fail "the container ran while paused: $n -> $(lines "$out") lines"
  [ "$(status test-vmc1)" = paused ]
  # namespace mode's rules and words
  run -1 nook pause test-vmc1
  assert_output --partial 'container not running'
  run -1 nook start test-vmc1
  run -1 nook delete test-vmc1
  assert_output --partial 'cannot delete container test-vmc1 that is not stopped: paused'
  # exec waits for nothing: refused, with or without --ignore-paused (the
  # guest's nook would wait for the thaw, holding the guest init).
  run -255 nook exec test-vmc1 true
  assert_output --partial 'cannot exec in a paused container (use --ignore-paused to override)'
  run -255 timeout 60 "$NOOK" --root "$ROOT" exec --ignore-paused test-vmc1 true
  assert_output --partial 'not supported for a paused VM-mode container'
  [ "$(status test-vmc1)" = paused ]

  nook resume test-vmc1
  [ "$(status test-vmc1)" = running ]
  wait_more "$out" "$n"
  [ "$(cpu_over_1s test-vmc1)" -gt 20 ]
  # Stopped vCPUs, not only a frozen cgroup: the guest's clock stands still
  # too (under TCG its TSC is QEMU's virtual clock).  5 s paused; the guest
  # runs only for the pause and resume requests.
  nook pause test-vmc1
  n=$(lines "$out")
  local before after
  before=$(tail -n1 "$out" | cut -d' ' -f1)
  sleep 5
  nook resume test-vmc1
  wait_more "$out" "$n"
  after=$(sed -n "$((n + 1))p" "$out" | cut -d' ' -f1)
  awk -v a="$before" -v b="$after" 'BEGIN { exit !(b - a < 3.5) }' ||
    fail "the guest's clock went on while paused: $before -> $after"
  run -1 nook resume test-vmc1
  assert_output --partial 'container not paused'
  # ps(1)'s own options need ps(1), which the guest does not have.
  run -1 nook ps test-vmc1 -o pid
  assert_output --partial 'options for ps(1) (`-o`) are not supported in VM mode'
  run -1 nook ps -f yaml test-vmc1
  assert_output --partial 'invalid format option'

  nook kill test-vmc1 KILL
  wait_gone "$pid"
  run nook ps -f json test-vmc1
  assert_success
  assert_output null
  run -1 nook pause test-vmc1
  assert_output --partial 'container not running'
  nook delete test-vmc1
  assert_nothing_left
}

@test "vm commands: kill of a paused container: TERM waits for resume, KILL ends it; delete --force leaves nothing" {
  vm_config ".process.args = [\"sh\", \"-c\", \"trap 'echo got-term; exit 3' TERM; echo up; while :; do sleep 0.1; done\"]"
  run_up test-vmc2a
  run_up test-vmc2b
  run_up test-vmc2c
  local a=$BATS_TEST_TMPDIR/test-vmc2a.out pa pb pc
  pa=$(nook state test-vmc2a | jq .pid)
  pb=$(nook state test-vmc2b | jq .pid)
  pc=$(nook state test-vmc2c | jq .pid)
  nook pause test-vmc2a
  nook pause test-vmc2b
  nook pause test-vmc2c

  # As in namespace mode: a frozen process gets TERM when it thaws.
  nook kill test-vmc2a TERM
  nook ps test-vmc2a >/dev/null # the vCPUs ran meanwhile
  [ "$(status test-vmc2a)" = paused ]
  run cat "$a"
  refute_line got-term
  nook resume test-vmc2a
  wait_for "$a" got-term
  wait_gone "$pa"
  [ "$(status test-vmc2a)" = stopped ]

  # KILL ends a frozen process (cgroup v2): the container stops, paused.
  nook kill test-vmc2b KILL
  wait_gone "$pb"
  [ "$(status test-vmc2b)" = stopped ]

  run nook delete --force test-vmc2c
  assert_success
  wait_gone "$pc"
  run -1 nook state test-vmc2c
  nook delete test-vmc2a
  nook delete test-vmc2b
  assert_nothing_left
}

@test "vm commands: update changes the limits in the guest and QEMU's cpu and pids on the host; memory beyond the VM is refused" {
  # The container prints its cgroup's limits whenever they change.
  cat >"$B/rootfs/limits.sh" <<'EOF2'
echo up
old=
while :; do
  v=$(cat /sys/fs/cgroup/cpu.max /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max)
  v=$(echo $v)
  [ "$v" = "$old" ] || echo "limits $v"
  old=$v
  sleep 0.2
done
EOF2
  vm_config ".linux.cgroupsPath = \"/nook-test-vmc3-$$\" | .linux.resources = {\"pids\": {\"limit\": 50}}
    | .linux.namespaces += [{\"type\": \"cgroup\"}] | .process.args = [\"sh\", \"/limits.sh\"]"
  run_up test-vmc3
  local out=$BATS_TEST_TMPDIR/test-vmc3.out mem
  wait_for "$out" 'limits max 100000 max 50'
  [ "$(host_limit pids test-vmc3)" = 50 ]
  mem=$(host_limit memory test-vmc3)

  nook update --memory 64M --pids-limit 20 --cpu-quota 50000 --cpu-period 100000 test-vmc3
  wait_for "$out" 'limits 50000 100000 67108864 20'
  # QEMU's cgroup: cpu and pids as the container's, memory as it booted
  # (guest RAM plus the VMM's overhead).
  [ "$(host_limit cpu test-vmc3)" = 50000 ]
  [ "$(host_limit pids test-vmc3)" = 20 ]
  [ "$(host_limit memory test-vmc3)" = "$mem" ]

  # The VM's memory is fixed at boot: more cannot be granted.
  run -1 nook update --memory 1G test-vmc3
  assert_output --partial 'memory limit (--memory, memory.limit) 1073741824 bytes: more than the VM'"'"'s 256 MiB of memory'
  echo '{"memory": {"limit": 536870912}}' >"$BATS_TEST_TMPDIR/r.json"
  run -1 nook update -r "$BATS_TEST_TMPDIR/r.json" test-vmc3
  assert_output --partial 'more than the VM'"'"'s 256 MiB'
  # The guest's own errors, in its words.
  run -1 nook update --cpu-quota 500 --cpu-period 100000000 test-vmc3
  [ "$(nook events --stats test-vmc3 | jq .data.memory.usage.limit)" = 67108864 ]

  # A paused container is updated too (as in namespace mode).
  nook pause test-vmc3
  nook update --pids-limit 30 -r - test-vmc3 <<<'{"pids": {"limit": 30}}'
  [ "$(status test-vmc3)" = paused ]
  nook resume test-vmc3
  wait_for "$out" 'limits 50000 100000 67108864 30'
  [ "$(host_limit pids test-vmc3)" = 30 ]
  nook delete --force test-vmc3
  assert_nothing_left
}

@test "vm commands: events --stats in runc's shape with the guest's figures and the VMM's; --interval; an OOM kill in the guest" {
  # The container allocates past its limit when told to (a line on stdin):
  # tail of /dev/zero is OOM-killed, the container goes on.  No pid
  # namespace: its processes see the guest init (guest_init_use).
  vm_config '.linux.resources = {"memory": {"limit": 33554432}}
    | .linux.namespaces |= map(select(.type != "pid"))
    | .process.args = ["sh", "-c", "echo up; read go; tail /dev/zero; echo oom-done; while :; do sleep 1; done"]'
  local fifo=$BATS_TEST_TMPDIR/in w
  mkfifo "$fifo"
  exec {w}<>"$fifo"
  run_up test-vmc4 "$fifo"
  run nook events --stats test-vmc4
  assert_success
  [ "${#lines[@]}" = 1 ]
  local ev=$output
  [ "$(jq -r .type <<<"$ev")" = stats ]
  [ "$(jq -r .id <<<"$ev")" = test-vmc4 ]
  # the guest's figures: the container's cgroup in the VM
  [ "$(jq .data.memory.usage.limit <<<"$ev")" = 33554432 ]
  [ "$(jq '.data.cpu.usage.total > 0' <<<"$ev")" = true ]
  [ "$(jq '.data.pids.current' <<<"$ev")" = 1 ]
  [ "$(jq '.data.memory.peak > 0' <<<"$ev")" = true ]
  [ "$(jq '.data.memory.events.oom_kill' <<<"$ev")" = 0 ]
  [ "$(jq '.data.cpu.psi.some | has("avg10")' <<<"$ev")" = true ]
  [ "$(jq -c '[.data.intel_rdt, .data.network_interfaces]' <<<"$ev")" = '[{},null]' ]
  # nook's addition: QEMU's own usage on the host (guest RAM + overhead)
  local overhead
  overhead=$(sed -n 's/^#define VMM_MEMORY_OVERHEAD_MIB \([0-9]*\)$/\1/p' "$REPO_ROOT/vmm/confine.h")
  [ "$(jq .data.vmm.memory.usage.limit <<<"$ev")" = $(((256 + overhead) * 1024 * 1024)) ]
  [ "$(jq '.data.vmm.memory.usage.usage > 0 and .data.vmm.cpu.usage.total > 0' <<<"$ev")" = true ]
  [ "$(jq '.data.vmm.pids.current > 1' <<<"$ev")" = true ]

  # The guest init answers itself, keeping the cgroup's files open between
  # requests: many leave its fds and memory as they were (a leak of the
  # line alone would be ~400 kB), and no fd of its reaches an exec'd process.
  local before after i
  before=($(guest_init_use test-vmc4))
  [ "${before[0]}" -gt 3 ] && [ "${before[1]}" -gt 0 ] || fail "guest init: ${before[*]}"
  for ((i = 0; i < 100; i++)); do
    nook events --stats test-vmc4 >/dev/null
  done
  after=($(guest_init_use test-vmc4))
  [ "${after[0]}" = "${before[0]}" ] || fail "guest init fds: ${before[0]} -> ${after[0]}"
  [ "${after[1]}" -le $((before[1] + 100)) ] || fail "guest init VmRSS: ${before[1]} -> ${after[1]} kB"
  # (the shell's own fds, `:` keeps it from exec'ing ls, whose fds would
  # include the directory it reads)
  run nook exec test-vmc4 sh -c 'ls -l /proc/$$/fd/; :'
  assert_success
  refute_output --partial /sys/fs/cgroup
  run nook exec test-vmc4 sh -c 'ls /proc/$$/fd; :'
  assert_output "$(printf '0\n1\n2')"

  local evout=$BATS_TEST_TMPDIR/events
  nook events --interval 500ms test-vmc4 >"$evout" &
  local evpid=$!
  for ((i = 0; i < 1200; i++)); do
    [ "$(grep -c '"type":"stats"' "$evout")" -ge 2 ] && break
    sleep 0.1
  done
  [ "$(grep -c '"type":"stats"' "$evout")" -ge 2 ] || fail "no periodic stats: $(cat "$evout")"
  refute grep -q '"type":"oom"' "$evout"
  echo go >&"$w"
  wait_for "$BATS_TEST_TMPDIR/test-vmc4.out" oom-done
  wait_for "$evout" '{"type":"oom","id":"test-vmc4"}'
  [ "$(nook events --stats test-vmc4 | jq .data.memory.events.oom_kill)" -ge 1 ]
  # The stream ends with the container.
  nook kill test-vmc4 KILL
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$evpid" 2>/dev/null || break
    sleep 0.1
  done
  wait "$evpid" || fail "events exited $?"
  exec {w}>&-
  run -1 nook events --stats test-vmc4
  assert_output --partial 'container with id test-vmc4 is not running'
  run -1 nook events --interval 0s test-vmc4
  assert_output --partial 'duration interval must be greater than 0'
  nook delete test-vmc4
  assert_nothing_left
}
