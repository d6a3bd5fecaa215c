#!/usr/bin/env bats
# Error cases: what fails, that it fails cleanly (no container left), and
# what the message says.

load helpers

@test "missing config.json: error names config.json" {
  mkdir -p "$BATS_TEST_TMPDIR/empty"
  cd "$BATS_TEST_TMPDIR/empty"
  run nook run "$ID"
  assert_failure
  assert_output --partial config.json
  run nook state "$ID"
  assert_failure
}

@test "config.json that is not JSON fails" {
  setup_bundle true
  echo '{"ociVersion": "1.0.2", "process": {' >config.json
  run nook run "$ID"
  assert_failure
  run nook state "$ID"
  assert_failure
}

@test "config.json that is not JSON: the message names the file" {
  skip_for_peer "runc reports only the JSON decoder's error"
  setup_bundle true
  echo '{"ociVersion": "1.0.2", "process": {' >config.json
  run nook run "$ID"
  assert_failure
  assert_output --partial config.json
}

@test "a field of the wrong type fails" {
  setup_bundle true
  update_config 'c["process"]["args"] = "not-an-array"'
  run nook run "$ID"
  assert_failure
}

@test "unknown capability: a warning naming it and its field; the container runs" {
  # config.md: a capability the runtime cannot grant MUST be logged as a
  # warning and SHOULD NOT fail the container.
  setup_bundle sh -c 'grep CapBnd /proc/self/status'
  update_config 'c["process"]["capabilities"] = {"bounding": ["CAP_KILL", "CAP_NOT_A_CAPABILITY"],
  "effective": ["CAP_KILL"], "permitted": ["CAP_KILL", "CAP_TEST"]}'
  log=$BATS_TEST_TMPDIR/runtime.log
  NOOK_OPTS="--log $log --log-format json" run nook run "$ID"
  assert_success
  # CAP_KILL (5) alone: the unknown names took nothing with them
  assert_output --regexp 'CapBnd:[[:space:]]+0000000000000020'
  log_messages warning
  assert_line --partial 'process.capabilities.bounding[1]: unknown capability "CAP_NOT_A_CAPABILITY"'
  assert_line --partial 'process.capabilities.permitted[1]: unknown capability "CAP_TEST"'
  # without --log the warning is on stderr
  run nook run "$ID"
  assert_success
  assert_output --partial 'process.capabilities.permitted[1]: unknown capability'
  assert_output --partial CAP_TEST
}

@test "unknown capability in exec --process: a warning, the process runs" {
  setup_bundle sleep 100
  run_detached "$ID"
  cat >"$BATS_TEST_TMPDIR/p.json" <<'EOF'
{"args": ["sh", "-c", "grep CapEff /proc/self/status"], "cwd": "/",
 "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL", "CAP_TEST"], "permitted": ["CAP_KILL"]}}
EOF
  run nook exec --process "$BATS_TEST_TMPDIR/p.json" "$ID"
  assert_success
  assert_output --partial 'p.json: capabilities.effective[1]: unknown capability'
  assert_output --partial CAP_TEST
  assert_output --regexp 'CapEff:[[:space:]]+0000000000000020'
}

@test "unknown properties in config.json are ignored" {
  setup_bundle sh -c 'echo still-runs'
  update_config 'c["org.example.future"] = {"x": 1}
c["process"]["futureField"] = [1, 2]
c["linux"]["futureLinuxField"] = "yes"'
  run nook run "$ID"
  assert_success
  assert_output still-runs
}

@test "a missing rootfs fails" {
  setup_bundle true
  rm -rf rootfs
  run nook run "$ID"
  assert_failure
  run nook state "$ID"
  assert_failure
}

@test "a missing root.path: the error names the field and the path" {
  skip_for_peer "runc and crun word it differently"
  setup_bundle true
  update_config 'c["root"]["path"] = "/nook-no-such-dir/rootfs"'
  run nook run "$ID"
  assert_failure
  assert_output --partial 'root.path: /nook-no-such-dir/rootfs does not exist'
  # relative to the bundle
  update_config 'c["root"]["path"] = "gone"'
  run nook run "$ID"
  assert_failure
  assert_output --partial "root.path: $BUNDLE/gone does not exist"
  : >"$BUNDLE/afile"
  update_config 'c["root"]["path"] = "afile"'
  run nook run "$ID"
  assert_failure
  assert_output --partial "root.path: $BUNDLE/afile is not a directory"
  run nook list -q
  assert_output ""
}

@test "ociVersion: another major version is refused, naming the field" {
  skip_for_peer "runc does not check ociVersion"
  setup_bundle true
  update_config 'c["ociVersion"] = "2.0.0"'
  run nook run "$ID"
  assert_failure
  assert_output --partial 'ociVersion: "2.0.0" is not supported'
  run nook list -q
  assert_output ""
}

@test "ociVersion: a newer 1.x minor runs, with a warning" {
  setup_bundle sh -c 'echo ran'
  update_config 'c["ociVersion"] = "1.9.0"'
  log=$BATS_TEST_TMPDIR/runtime.log
  NOOK_OPTS="--log $log --log-format json" run nook run "$ID"
  assert_success
  assert_output ran
  log_messages warning
  assert_output --partial 'ociVersion: "1.9.0" is newer than the runtime-spec 1.3.0'
  # a draft from before 1.0.0 (the spec's own example says 0.5.0-dev) too
  : >"$log"
  update_config 'c["ociVersion"] = "0.5.0-dev"'
  NOOK_OPTS="--log $log --log-format json" run nook run "$ID"
  assert_success
  log_messages warning
  assert_output --partial 'ociVersion: "0.5.0-dev" is a draft from before runtime-spec 1.0.0'
  # the known version runs without one
  : >"$log"
  update_config 'c["ociVersion"] = "1.3.0"'
  NOOK_OPTS="--log $log --log-format json" run nook run "$ID"
  assert_success
  log_messages warning
  assert_output ""
}

@test "an executable that is not in the container fails with runc's message" {
  setup_bundle no-such-binary
  run nook run "$ID"
  assert_failure
  assert_output --partial 'executable file not found'
  assert_output --partial no-such-binary
  run nook state "$ID"
  assert_failure
}

@test "create fails at once when the executable does not exist" {
  setup_bundle /no/such/path
  run create_container "$ID"
  assert_failure
  run nook state "$ID"
  assert_failure
}

@test "duplicate container id: create fails, the first container is untouched" {
  setup_bundle sleep 100
  create_container "$ID"
  pid=$(state_field "$ID" pid)
  run create_container "$ID"
  assert_failure
  assert_output --partial 'already exists'
  assert_equal "$(state_field "$ID" pid)" "$pid"
  assert_equal "$(state_field "$ID" status)" created
}

@test "unknown id: state, start, kill and delete fail with 'does not exist'" {
  for cmd in state start kill delete; do
    run nook $cmd no-such-container
    assert_failure
    assert_output --partial 'does not exist'
  done
}

@test "start of a running container fails and leaves it running" {
  setup_bundle sleep 100
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  run nook start "$ID"
  assert_failure
  assert_equal "$(state_field "$ID" status)" running
  assert_equal "$(state_field "$ID" pid)" "$pid"
}

@test "start of a stopped container fails" {
  setup_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook start "$ID"
  assert_failure
}

@test "delete of a running container without --force fails and leaves it running" {
  setup_bundle sleep 100
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  run nook delete "$ID"
  assert_failure
  assert_output --partial "$ID"
  assert_equal "$(state_field "$ID" status)" running
  [ -d "/proc/$pid" ]
}

@test "invalid container ids are rejected" {
  setup_bundle true
  for bad in a/b ../escape . .. "with space" ""; do
    run nook run "$bad"
    assert_failure
    [ -n "$bad" ] || continue
    assert_output --regexp '[Ii]nvalid'
  done
  # nothing was created, in or out of the root
  run nook list -q
  assert_output ""
  [ ! -e "$BATS_TEST_TMPDIR/escape" ]
}

@test "valid ids may use letters, digits, _ + - and ." {
  setup_bundle true
  run nook run "Ab_0+1-2.x"
  assert_success
}

@test "a command without its id argument is a usage error" {
  for cmd in create start state kill delete run; do
    run nook $cmd
    assert_failure
  done
}

@test "unknown command and unknown flag are errors" {
  run nook no-such-command
  assert_failure
  run nook state --no-such-flag "$ID"
  assert_failure
}

@test "hostname without a UTS namespace is an error" {
  setup_bundle true
  update_config 'ns_remove("uts"); c["hostname"] = "nope"'
  run nook run "$ID"
  assert_failure
  [ "$(hostname)" != nope ]
}

@test "duplicate namespace types are an error" {
  setup_bundle true
  update_config 'c["linux"]["namespaces"].append({"type": "network"}); c["linux"]["namespaces"].append({"type": "network"})'
  run nook run "$ID"
  assert_failure
}

@test "a namespace path of the wrong type is an error" {
  setup_bundle true
  update_config "ns_add('network', '/proc/$$/ns/ipc')"
  run nook run "$ID"
  assert_failure
}

@test "--log-format json: errors are JSON lines with level, msg and time" {
  setup_bundle true
  log=$BATS_TEST_TMPDIR/runtime.log
  NOOK_OPTS="--log $log --log-format json" run nook start no-such-container
  assert_failure
  [ -s "$log" ]
  # every line is a JSON object with the three fields
  run jq -e -c 'select(has("level") and has("msg") and has("time") | not)' "$log"
  assert_output ""
  log_messages error
  assert_output --partial 'does not exist'
  # time is RFC 3339
  run jq -r '.time' "$log"
  assert_line --index 0 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
}

@test "--log-format json: a failing create logs its error" {
  setup_bundle no-such-binary
  log=$BATS_TEST_TMPDIR/runtime.log
  NOOK_OPTS="--log $log --log-format json" run nook run "$ID"
  assert_failure
  log_messages error
  assert_output --partial 'executable file not found'
}

@test "--log-format text: errors go to the log file as text" {
  log=$BATS_TEST_TMPDIR/runtime.log
  NOOK_OPTS="--log $log --log-format text" run nook kill no-such-container
  assert_failure
  grep -q 'does not exist' "$log"
  # not JSON
  ! jq -e . "$log" >/dev/null 2>&1
}

@test "--log-format with an unknown format is an error" {
  run "$NOOK" --log-format yaml --root "$NOOK_ROOT" list
  assert_failure
}

@test "--debug: debug messages are logged" {
  setup_bundle true
  log=$BATS_TEST_TMPDIR/runtime.log
  NOOK_OPTS="--debug --log $log --log-format json" run nook run "$ID"
  assert_success
  run jq -r '.level' "$log"
  assert_line debug
}

# Engines match runc's (Go's) lower-case errno words to choose exit
# statuses: the docker CLI exits 127 only on "no such file or directory".
@test "errno texts are in Go's spelling: lower-case" {
  setup_bundle true
  update_config 'c["process"]["cwd"] = "/proc/nook-no-such-dir"'
  run nook run "$ID"
  assert_failure
  assert_output --partial ": no such file or directory"
  refute_output --partial "No such file"
}
