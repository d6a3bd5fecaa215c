#!/usr/bin/env bats
# update: new limits reach the container's cgroup and are kept.

load helpers

# cgroup_dir PID CONTROLLER: the directory of PID's cgroup for CONTROLLER
# (a v1 hierarchy when it has one, else the v2 hierarchy).  The caller's
# memory cgroup may be nested: the path comes from /proc/PID/cgroup.
cgroup_dir() {
  local pid=$1 ctrl=$2 line path mnt
  line=$(grep -E "^[0-9]+:([^:]*,)?$ctrl(,[^:]*)?:" "/proc/$pid/cgroup" | head -n1)
  if [ -n "$line" ]; then
    path=${line#*:*:}
    mnt=$(awk -v c="$ctrl" '$3 == "cgroup" && $4 ~ "(^|,)" c "(,|$)" { print $2; exit }' /proc/mounts)
    echo "$mnt$path"
    return
  fi
  path=$(grep '^0::' "/proc/$pid/cgroup" | cut -d: -f3)
  mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
  echo "$mnt$path"
}

# The memory limit of PID's cgroup in bytes ("max" for none on v2).
memory_limit() {
  local dir
  dir=$(cgroup_dir "$1" memory)
  if [ -e "$dir/memory.limit_in_bytes" ]; then
    cat "$dir/memory.limit_in_bytes"
  else
    cat "$dir/memory.max"
  fi
}

# "QUOTA PERIOD" of PID's cgroup ("max PERIOD" / "-1 PERIOD" without a quota).
cpu_max() {
  local dir
  dir=$(cgroup_dir "$1" cpu)
  if [ -e "$dir/cpu.cfs_quota_us" ]; then
    echo "$(cat "$dir/cpu.cfs_quota_us") $(cat "$dir/cpu.cfs_period_us")"
  else
    cat "$dir/cpu.max"
  fi
}

# The linux.resources the runtime keeps for the container.
saved_resources() {
  jq -c "${1:-.}" <<<"$(jq '.linux.resources' "$NOOK_ROOT/$ID/config.json")"
}

start_sleeper() {
  setup_bundle sleep 1000
  run_detached "$ID"
  PID=$(state_field "$ID" pid)
}

@test "update --memory: the memory cgroup's limit changes" {
  start_sleeper
  run nook update --memory 64m "$ID"
  assert_success
  assert_equal "$(memory_limit "$PID")" 67108864
  run nook update --memory 100000000 "$ID"
  assert_success
  assert_equal "$(memory_limit "$PID")" 99999744 # the kernel rounds down to pages
}

@test "update --memory: sizes with suffixes, as runc (units.RAMInBytes)" {
  start_sleeper
  for pair in 512m:536870912 1g:1073741824 1.5g:1610612736 1GiB:1073741824 "2 MB:2097152" \
    262144KB:268435456 300M:314572800; do
    nook update --memory "${pair%%:*}" "$ID"
    assert_equal "$(memory_limit "$PID")" "${pair##*:}"
  done
}

@test "update --memory -1: no limit" {
  setup_bundle sleep 1000
  update_config 'c["linux"]["resources"]["memory"] = {"limit": 33554432}'
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  assert_equal "$(memory_limit "$pid")" 33554432
  run nook update --memory -1 "$ID"
  assert_success
  limit=$(memory_limit "$pid")
  [ "$limit" = max ] || [ "$limit" -gt 1000000000000 ] || fail "limit still $limit"
}

@test "update --pids-limit: pids.max changes and forks beyond it fail" {
  setup_bundle sh -c 'echo ready >/out/ready; while [ ! -e /out/go ]; do sleep 0.05; done
    (for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 1000 & done) 2>/out/err
    echo finished >/out/result
    exec sleep 1000'
  add_out_mount
  run_detached "$ID"
  wait_for_file "$OUTDIR/ready"
  pid=$(state_field "$ID" pid)
  dir=$(cgroup_dir "$pid" pids)
  run nook update --pids-limit 8 "$ID"
  assert_success
  assert_equal "$(cat "$dir/pids.max")" 8
  touch "$OUTDIR/go"
  # the loop's forks run into the limit
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    grep -q "fork" "$OUTDIR/err" 2>/dev/null && break
    sleep 0.05
  done
  run cat "$OUTDIR/err"
  assert_output --partial "fork"
  current=$(cat "$dir/pids.current")
  [ "$current" -le 8 ] || fail "pids.current $current above the limit"
  # -1 lifts the limit
  run nook update --pids-limit -1 "$ID"
  assert_success
  assert_equal "$(cat "$dir/pids.max")" max
}

@test "update --cpu-quota/--cpu-period: the CFS bandwidth changes" {
  start_sleeper
  run nook update --cpu-period 100000 --cpu-quota 50000 "$ID"
  assert_success
  assert_equal "$(cpu_max "$PID")" "50000 100000"
  run nook update --cpu-quota 20000 "$ID"
  assert_success
  assert_equal "$(cpu_max "$PID")" "20000 100000"
  run nook update --cpu-quota -1 "$ID"
  assert_success
  run cpu_max "$PID"
  assert_output --regexp '^(-1|max) 100000$'
}

@test "update --cpu-share: cpu.shares (v2: cpu.weight) changes" {
  start_sleeper
  dir=$(cgroup_dir "$PID" cpu)
  if [ -e "$dir/cpu.shares" ]; then
    run nook update --cpu-share 512 "$ID"
    assert_success
    assert_equal "$(cat "$dir/cpu.shares")" 512
  else
    before=$(cat "$dir/cpu.weight")
    run nook update --cpu-share 512 "$ID"
    assert_success
    [ "$(cat "$dir/cpu.weight")" != "$before" ] || fail "cpu.weight still $before"
  fi
}

@test "update --resources FILE: the document's values are applied" {
  start_sleeper
  cat >"$BATS_TEST_TMPDIR/res.json" <<'EOF'
{"memory": {"limit": 50331648}, "pids": {"limit": 77}}
EOF
  run nook update --resources "$BATS_TEST_TMPDIR/res.json" "$ID"
  assert_success
  assert_equal "$(memory_limit "$PID")" 50331648
  assert_equal "$(cat "$(cgroup_dir "$PID" pids)/pids.max")" 77
}

@test "update -r -: the document is read from stdin" {
  start_sleeper
  run nook update -r - "$ID" <<<'{"memory": {"limit": 41943040}, "pids": {"limit": 55}}'
  assert_success
  assert_equal "$(memory_limit "$PID")" 41943040
  assert_equal "$(cat "$(cgroup_dir "$PID" pids)/pids.max")" 55
}

@test "update: the new values are kept in the saved config.json" {
  skip_for_peer "runc keeps its config in state.json, not config.json"
  setup_bundle sleep 1000
  update_config 'c["linux"]["resources"]["pids"] = {"limit": 40}'
  update_config 'c["linux"]["resources"]["cpu"] = {"shares": 300}'
  run_detached "$ID"
  nook update --memory 64m --cpu-quota 30000 --cpu-period 100000 "$ID"
  assert_equal "$(saved_resources .memory.limit)" 67108864
  assert_equal "$(saved_resources .cpu)" '{"shares":300,"quota":30000,"period":100000}'
  assert_equal "$(saved_resources .pids.limit)" 40
  # a later update starts from the saved values
  nook update --pids-limit 50 "$ID"
  assert_equal "$(saved_resources .pids.limit)" 50
  assert_equal "$(saved_resources .memory.limit)" 67108864
  # device rules are untouched
  assert_equal "$(saved_resources .devices)" "$(jq -c .linux.resources.devices "$BUNDLE/config.json")"
  # and the rest of the config too
  assert_equal "$(jq -c 'del(.linux.resources)' "$NOOK_ROOT/$ID/config.json")" \
    "$(jq -c 'del(.linux.resources)' "$BUNDLE/config.json")"
  # --memory -1 alone makes swap unlimited too (as runc)
  nook update --memory -1 "$ID"
  assert_equal "$(saved_resources .memory)" '{"limit":-1,"swap":-1}'
  # the state is still readable
  run nook state "$ID"
  assert_success
}

@test "update: zero values leave limits unchanged, as with runc" {
  start_sleeper
  nook update --memory 64m --pids-limit 30 "$ID"
  run nook update -r - "$ID" <<<'{"memory": {"limit": 0}, "cpu": {"shares": 0, "cpus": ""}}'
  assert_success
  nook update --pids-limit 0 "$ID"
  assert_equal "$(memory_limit "$PID")" 67108864
  assert_equal "$(cat "$(cgroup_dir "$PID" pids)/pids.max")" 30
}

@test "update: device access is kept" {
  setup_bundle sh -c 'while :; do
      if [ -e /out/go ]; then
        rm /out/go
        if echo x >/dev/null && head -c 1 /dev/zero >/dev/null; then echo ok; else echo denied; fi >/out/dev
      fi
      sleep 0.05
    done'
  add_out_mount
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  dir=$(cgroup_dir "$pid" devices)
  before=""
  [ -e "$dir/devices.list" ] && before=$(cat "$dir/devices.list")
  nook update --memory 64m "$ID"
  [ -e "$dir/devices.list" ] && assert_equal "$(cat "$dir/devices.list")" "$before"
  touch "$OUTDIR/go"
  wait_for_file "$OUTDIR/dev"
  assert_equal "$(cat "$OUTDIR/dev")" ok
}

@test "update: a value the kernel refuses fails and changes nothing" {
  skip_for_peer "runc's error handling differs"
  start_sleeper
  nook update --memory 64m "$ID"
  before=$(cat "$NOOK_ROOT/$ID/config.json")
  run nook update --memory 128m --cpuset-cpus 9999 "$ID"
  assert_failure
  assert_output --partial "cpus"
  assert_equal "$(memory_limit "$PID")" 67108864
  assert_equal "$(cat "$NOOK_ROOT/$ID/config.json")" "$before"
}

@test "update: a stopped container cannot be updated" {
  setup_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook update --memory 64m "$ID"
  assert_failure
  assert_output --partial "container not running"
}

@test "update: a paused container can be updated" {
  start_sleeper
  nook pause "$ID"
  run nook update --pids-limit 33 "$ID"
  assert_success
  assert_equal "$(cat "$(cgroup_dir "$PID" pids)/pids.max")" 33
  nook resume "$ID"
}

@test "update: invalid values are rejected with runc's messages" {
  start_sleeper
  run nook update --memory abc "$ID"
  assert_failure
  assert_output --partial "invalid value for memory: invalid size: 'abc'"
  run nook update --memory-swap 1.2.3 "$ID"
  assert_failure
  assert_output --partial 'invalid value for memory-swap'
  run nook update --cpu-share x "$ID"
  assert_failure
  assert_output --partial 'invalid value for cpu-share: strconv.ParseUint: parsing'
  assert_output --partial 'invalid syntax'
  run nook update --cpu-quota 1.5 "$ID"
  assert_failure
  assert_output --partial 'invalid value for cpu-quota: strconv.ParseInt: parsing'
  assert_output --partial 'invalid syntax'
  run nook update --pids-limit x "$ID"
  assert_failure
  assert_output --partial 'for flag -pids-limit: parse error'
  run nook update -r - "$ID" <<<'{"memory": {"limit": "big"}}'
  assert_failure
  run nook update -r "$BATS_TEST_TMPDIR/missing.json" "$ID"
  assert_failure
  run nook update --memory 64m "nonexistent-$ID"
  assert_failure
  assert_output --partial "does not exist"
}
