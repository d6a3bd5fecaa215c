#!/usr/bin/env bats
# create / start / run / state / delete, and the state JSON through the lifecycle.

load helpers

@test "create, start, exit: state goes created -> running -> stopped with its fields" {
  setup_bundle
  add_out_mount
  set_args sh -c 'echo started > /out/started; while [ ! -e /out/stop ]; do sleep 0.05; done'

  create_container "$ID"
  run nook state "$ID"
  assert_success
  # state is JSON with the runtime-spec fields
  run jq -r '.ociVersion, .id, .status, .bundle' <<<"$output"
  assert_success
  assert_line --index 0 --regexp '^1\.[0-9]+\.[0-9]+'
  assert_line --index 1 "$ID"
  assert_line --index 2 created
  assert_line --index 3 "$BUNDLE"
  pid=$(state_field "$ID" pid)
  [ "$pid" -gt 1 ]
  [ -d "/proc/$pid" ]

  # the user process has not run yet
  sleep 0.2
  [ ! -e "$OUTDIR/started" ]

  run nook start "$ID"
  assert_success
  wait_for_file "$OUTDIR/started"
  wait_for_state "$ID" running
  # same process: start execs the user program in the created init
  assert_equal "$(state_field "$ID" pid)" "$pid"

  touch "$OUTDIR/stop"
  wait_for_state "$ID" stopped
  wait_pid_gone "$pid"

  run nook delete "$ID"
  assert_success
  run nook state "$ID"
  assert_failure
  run nook list -q
  assert_success
  refute_output --partial "$ID"
}

@test "state: bundle is the absolute bundle path even when given relatively" {
  setup_bundle sleep 100
  cd "$BATS_TEST_TMPDIR"
  run nook_detached "$ID" create --bundle bundle
  assert_success
  assert_equal "$(state_field "$ID" bundle)" "$BUNDLE"
}

@test "state: annotations from config.json are reported" {
  setup_bundle sleep 100
  update_config 'c["annotations"] = {"org.nook.test": "yes", "other": "v"}'
  create_container "$ID"
  run nook state "$ID"
  assert_success
  assert_equal "$(jq -r '.annotations["org.nook.test"]' <<<"$output")" yes
  assert_equal "$(jq -r '.annotations.other' <<<"$output")" v
}

@test "run: exit code 0" {
  setup_bundle true
  run nook run "$ID"
  assert_success
}

@test "run: exit code 3 is passed through" {
  setup_bundle sh -c 'exit 3'
  run nook run "$ID"
  assert_equal "$status" 3
}

@test "run: stdout and stderr of the container reach the caller" {
  setup_bundle sh -c 'echo to-stdout; echo to-stderr >&2'
  run --separate-stderr nook run "$ID"
  assert_success
  assert_output to-stdout
  assert_equal "$stderr" to-stderr
}

@test "run: stdin of the caller reaches the container" {
  setup_bundle sh -c 'read line; echo "got:$line"'
  run bash -c 'echo hello-stdin | "$@"' _ timeout -k 5 30 "$NOOK" --root "$NOOK_ROOT" run "$ID"
  assert_success
  assert_output got:hello-stdin
}

@test "run: a process killed by SIGKILL inside reports 137" {
  # Without a PID namespace the shell is not an init, so SIGKILL from
  # inside kills it.
  setup_bundle sh -c 'kill -9 $$'
  update_config 'ns_remove("pid")'
  run nook run "$ID"
  assert_equal "$status" 137
}

@test "run: a container killed from outside reports 128+signal" {
  setup_bundle sleep 100
  bg nook run "$ID" >"$BATS_TEST_TMPDIR/run.out" 2>&1 </dev/null
  wait_for_state "$ID" running
  run nook kill "$ID" KILL
  assert_success
  rc=0
  wait "$BG_PID" || rc=$?
  assert_equal "$rc" 137
}

@test "run: without --keep the container is removed after it exits" {
  setup_bundle true
  run nook run "$ID"
  assert_success
  run nook state "$ID"
  assert_failure
  run nook list -q
  refute_output --partial "$ID"
}

@test "run --keep: the stopped container stays until deleted" {
  setup_bundle sh -c 'exit 5'
  run nook run --keep "$ID"
  assert_equal "$status" 5
  run nook state "$ID"
  assert_success
  assert_equal "$(jq -r .status <<<"$output")" stopped
  run nook delete "$ID"
  assert_success
  run nook state "$ID"
  assert_failure
}

@test "run --detach: returns while the container runs" {
  setup_bundle sleep 100
  SECONDS=0
  run run_detached "$ID"
  assert_success
  [ "$SECONDS" -lt 10 ]
  run nook state "$ID"
  assert_success
  assert_equal "$(jq -r .status <<<"$output")" running
  pid=$(jq -r .pid <<<"$output")
  [ -d "/proc/$pid" ]
  run nook kill "$ID" KILL
  assert_success
  wait_for_state "$ID" stopped
}

@test "run -d: the short flag works as --detach" {
  setup_bundle sleep 100
  run nook_detached "$ID" run -d --bundle "$BUNDLE"
  assert_success
  wait_for_state "$ID" running
}

@test "run --detach: the container's stdio goes where the runtime's went" {
  setup_bundle sh -c 'echo detached-out; echo detached-err >&2'
  run run_detached "$ID"
  assert_success
  wait_for_state "$ID" stopped
  run container_output "$ID"
  assert_line detached-out
  assert_line detached-err
}

@test "create --pid-file writes the container's pid" {
  setup_bundle sleep 100
  create_container "$ID" --pid-file "$BATS_TEST_TMPDIR/pidfile"
  [ -s "$BATS_TEST_TMPDIR/pidfile" ]
  pid=$(tr -d '[:space:]' <"$BATS_TEST_TMPDIR/pidfile")
  assert_equal "$pid" "$(state_field "$ID" pid)"
  [ -d "/proc/$pid" ]
}

@test "run --pid-file writes the container's pid" {
  setup_bundle sleep 100
  run_detached "$ID" --pid-file "$BATS_TEST_TMPDIR/pidfile"
  pid=$(tr -d '[:space:]' <"$BATS_TEST_TMPDIR/pidfile")
  assert_equal "$pid" "$(state_field "$ID" pid)"
}

@test "create --pid-file with a relative path is relative to the cwd" {
  setup_bundle sleep 100
  cd "$BATS_TEST_TMPDIR"
  create_container "$ID" --pid-file rel.pid
  assert_equal "$(cat "$BATS_TEST_TMPDIR/rel.pid")" "$(state_field "$ID" pid)"
}

@test "run --bundle: the bundle need not be the cwd" {
  setup_bundle sh -c 'echo from-bundle'
  cd /
  run nook run --bundle "$BUNDLE" "$ID"
  assert_success
  assert_output from-bundle
}

@test "run -b: the short bundle flag works" {
  setup_bundle sh -c 'echo from-bundle'
  cd /
  run nook run -b "$BUNDLE" "$ID"
  assert_success
  assert_output from-bundle
}

@test "start: a created container whose process exits goes to stopped" {
  setup_bundle sh -c 'exit 0'
  create_container "$ID"
  run nook start "$ID"
  assert_success
  wait_for_state "$ID" stopped
}

@test "delete --force: kills a running container and removes it" {
  setup_bundle sleep 100
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  run nook delete --force "$ID"
  assert_success
  wait_pid_gone "$pid"
  run nook state "$ID"
  assert_failure
}

@test "delete -f: short flag of --force" {
  setup_bundle sleep 100
  run_detached "$ID"
  run nook delete -f "$ID"
  assert_success
  run nook state "$ID"
  assert_failure
}

@test "delete --force: removes a created (never started) container and its process" {
  setup_bundle sleep 100
  create_container "$ID"
  pid=$(state_field "$ID" pid)
  run nook delete --force "$ID"
  assert_success
  wait_pid_gone "$pid"
  run nook state "$ID"
  assert_failure
}

@test "delete: a stopped container is removed without --force" {
  setup_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook delete "$ID"
  assert_success
  run nook list -q
  refute_output --partial "$ID"
}

@test "delete --force: an id that does not exist is not an error" {
  run nook delete --force "$ID"
  assert_success
}

@test "an id can be reused after delete" {
  setup_bundle true
  run nook run "$ID"
  assert_success
  run nook run "$ID"
  assert_success
}

@test "two containers from one bundle run side by side" {
  setup_bundle sleep 100
  run_detached "$ID"
  run_detached "$ID2"
  wait_for_state "$ID" running
  wait_for_state "$ID2" running
  [ "$(state_field "$ID" pid)" != "$(state_field "$ID2" pid)" ]
}

@test "the state root is created on demand" {
  setup_bundle true
  NOOK_ROOT=$BATS_TEST_TMPDIR/new/nested/root
  run nook run "$ID"
  assert_success
  [ -d "$NOOK_ROOT" ]
}

@test "without --root the state lives in the runtime's default root" {
  # nook's default is /run/nook (peers: /run/runc, /run/crun).
  case "$(runtime_name)" in
  runc*) default_root=/run/runc ;;
  crun*) default_root=/run/crun ;;
  *) default_root=/run/nook ;;
  esac
  setup_bundle sleep 100
  register_cleanup "" "$ID"
  run bash -c '"$1" create --bundle "$2" "$3" </dev/null >/dev/null 2>&1 3>&-' _ "$NOOK" "$BUNDLE" "$ID"
  assert_success
  [ -d "$default_root/$ID" ]
  run "$NOOK" list -q
  assert_line "$ID"
  run "$NOOK" delete --force "$ID"
  assert_success
  [ ! -e "$default_root/$ID" ]
}

# Regression: a foreground `run` held the state lock for the container's
# whole life, so pause, update and delete from another shell waited for the
# container to exit.
@test "run in the foreground: pause, resume and delete -f from elsewhere do not wait for it" {
  # Bounds far below the container's life: generous on a slow machine, and
  # still failing a command that waits for the container to exit.
  setup_bundle sleep 600
  bg nook run "$ID" </dev/null >/dev/null 2>&1
  local run_pid=$BG_PID
  wait_for_state "$ID" running
  run timeout 60 "$NOOK" --root "$NOOK_ROOT" pause "$ID"
  assert_success
  [ "$(state_field "$ID" status)" = paused ]
  run timeout 60 "$NOOK" --root "$NOOK_ROOT" resume "$ID"
  assert_success
  run timeout 60 "$NOOK" --root "$NOOK_ROOT" delete -f "$ID"
  assert_success
  wait_pid_gone "$run_pid"
}

@test "create: a failure after the process exists (--pid-file unwritable) reaps it; no zombie is left" {
  setup_bundle sleep 1000
  # Run under a subreaper: whatever the runtime leaves unreaped is
  # reparented here when it exits, and counted.
  run python3 -c '
import ctypes, os, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
signal.alarm(60)
rc = subprocess.call(sys.argv[1:], stdin=subprocess.DEVNULL)
left = 0
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
    left += 1
print("rc=%d left=%d" % (rc, left))
' "$NOOK" --root "$NOOK_ROOT" create --bundle "$BUNDLE" \
    --pid-file "$BATS_TEST_TMPDIR/no/such/dir/pid" "$ID"
  assert_output --partial "--pid-file"
  assert_output --partial "rc=1 left=0"
  run nook state "$ID"
  assert_failure
}
