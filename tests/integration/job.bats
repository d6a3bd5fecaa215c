#!/usr/bin/env bats
# nook job (issue #17): every option seen from inside the job, the exit
# status table, the image left untouched, networking.  Timeouts, cancels,
# kills and the report's figures: job_teardown.bats (also in the cgroup v2
# pass).

load helpers
load job_helpers

setup() {
  nook_setup
  skip_for_peer "nook job is nook's own command"
  setup_bundle
  job_setup
}

teardown() {
  nook_teardown
}

@test "job --rootfs: the job's stdio and its own exit status; nothing of it is left" {
  run job --rootfs "$JOB_ROOTFS" -- sh -c 'echo out; echo err >&2; read -r l; echo "in=$l"; exit 3' <<<hello
  assert_failure 3
  assert_line out
  assert_line err
  assert_line in=hello
  assert_job_gone
  run job --rootfs "$JOB_ROOTFS" -- true
  assert_success
  assert_output ""
  assert_job_gone
}

@test "job: 128+N and reason signaled when a signal ends the init" {
  # Without a pid namespace the init is an ordinary process: a signal it
  # has no handler for ends it.
  update_config "ns_remove('pid')"
  run job --bundle "$BUNDLE" --report "$OUT/r.json" -- sh -c 'kill -USR1 $$'
  assert_failure 138
  assert_equal "$(report_field "$OUT/r.json" .reason)" signaled
  assert_equal "$(report_field "$OUT/r.json" .signal)" SIGUSR1
  assert_equal "$(report_field "$OUT/r.json" .exit_status)" 138
  assert_job_gone
  run job --bundle "$BUNDLE" --report "$OUT/r.json" -- sh -c 'exit 0'
  assert_success
  assert_equal "$(report_field "$OUT/r.json" '[.reason, .signal, .cancelled_by, .error] | @tsv')" \
    "$(printf 'exited\t\t\t')"
}

@test "job: 125 when the job cannot be set up: the message on stderr, in --log, in the report" {
  local log=$BATS_TEST_TMPDIR/log
  NOOK_OPTS="--log $log --log-format json" run job --rootfs /nonexistent-$ID --report "$OUT/r.json" -- true
  assert_failure 125
  assert_output --partial "--rootfs \`/nonexistent-$ID\`: no such file or directory"
  log_messages error
  assert_output --partial "--rootfs \`/nonexistent-$ID\`"
  assert_equal "$(report_field "$OUT/r.json" '[.reason, .exit_status] | @tsv')" "$(printf 'setup-error\t125')"
  assert_equal "$(report_field "$OUT/r.json" .error)" "--rootfs \`/nonexistent-$ID\`: no such file or directory"
  assert_equal "$(report_field "$OUT/r.json" .wall_seconds)" null

  # The workload cannot be executed: set up, never started.
  run job --rootfs "$JOB_ROOTFS" --report "$OUT/r.json" -- /no/such/program
  assert_failure 125
  assert_output --partial "/no/such/program"
  assert_equal "$(report_field "$OUT/r.json" .reason)" setup-error
  assert_job_gone

  # A bundle whose config the validator refuses.
  update_config '.process.cwd = "relative"'
  run job --bundle "$BUNDLE"
  assert_failure 125
  assert_output --partial "process.cwd"
  assert_job_gone

  # An option the parser refuses still gives the report asked for.
  run job --report "$OUT/p.json" --rootfs "$JOB_ROOTFS" --memory lots -- true
  assert_failure 125
  assert_output --partial "invalid value for memory"
  assert_equal "$(report_field "$OUT/p.json" .reason)" setup-error
}

@test "job: bad options are refused, naming the option" {
  local bad
  while IFS='|' read -r bad; do
    # shellcheck disable=SC2086
    run job --rootfs "$JOB_ROOTFS" $bad -- true
    assert_failure 125
    assert_output --partial "${bad%% *}"
  done <<'EOF'
--cpus 0
--cpus many
--pids 0
--io-weight 5
--timeout soon
--kill-after -1s
--stop-signal NOPE
--stop-signal 0
--net wifi
--user root
--workdir relative
--bind /x
--bind /x:relative
--bind /x:/y:rx
--tmpfs relative
--tmpfs /t:big
--env NOEQUALS
--env-file /nonexistent/env
EOF
  run job -- true
  assert_failure 125
  assert_output --partial "give exactly one of --bundle and --rootfs"
  run job --rootfs "$JOB_ROOTFS" --bundle "$BUNDLE" -- true
  assert_failure 125
  assert_output --partial "give exactly one of --bundle and --rootfs"
  assert_job_gone
}

@test "job --timeout: the stop signal to the init, then 124 and reason timeout" {
  run job --rootfs "$JOB_ROOTFS" --timeout 1 --stop-signal USR1 --report "$OUT/r.json" -- \
    sh -c 'trap "echo got-USR1; exit 7" USR1; while :; do sleep 0.1; done'
  assert_failure 124
  assert_output got-USR1
  assert_equal "$(report_field "$OUT/r.json" '[.reason, .exit_status, .signal] | @tsv')" \
    "$(printf 'timeout\t124\t')"
  assert_equal "$(report_field "$OUT/r.json" '.limits | [.timeout_seconds, .kill_after_seconds, .stop_signal] | @tsv')" \
    "$(printf '1\t10\tSIGUSR1')"
  assert_job_gone
  # A job that ends in time is not a timeout.
  run job --rootfs "$JOB_ROOTFS" --timeout 1m -- sh -c 'exit 4'
  assert_failure 4
}

# The limits as the job's cgroup holds them, v1 or v2 (the job's
# /sys/fs/cgroup), one "name=value" a line.
LIMITS_SCRIPT='
c=/sys/fs/cgroup
if [ -e $c/memory/memory.limit_in_bytes ]; then
  echo "memory=$(cat $c/memory/memory.limit_in_bytes)"
  echo "swap=$(cat $c/memory/memory.memsw.limit_in_bytes)"
  echo "cpu=$(cat $c/cpu/cpu.cfs_quota_us) $(cat $c/cpu/cpu.cfs_period_us)"
  echo "pids=$(cat $c/pids/pids.max)"
else
  echo "memory=$(cat $c/memory.max)"
  echo "swap=$(($(cat $c/memory.swap.max) + $(cat $c/memory.max)))"
  echo "cpu=$(cat $c/cpu.max)"
  echo "pids=$(cat $c/pids.max)"
fi
grep Cpus_allowed_list /proc/self/status'

@test "job --memory --memory-swap --cpus --cpuset --pids: in the job's cgroup and the report's limits" {
  run job --rootfs "$JOB_ROOTFS" --memory 64m --memory-swap 96m --cpus 1.5 --cpuset 0 --pids 50 \
    --report "$OUT/r.json" -- sh -c "$LIMITS_SCRIPT"
  assert_success
  assert_line memory=67108864
  assert_line swap=100663296
  assert_line "cpu=150000 100000"
  assert_line pids=50
  assert_line --regexp '^Cpus_allowed_list:[[:space:]]+0$'
  assert_equal "$(report_field "$OUT/r.json" '.limits | [.memory_bytes, .memory_swap_bytes, .cpu_quota_us, .cpu_period_us, .cpuset, .pids] | @tsv')" \
    "$(printf '67108864\t100663296\t150000\t100000\t0\t50')"
  assert_job_gone
}

@test "job --io-weight: the weight in the job's cgroup, or an error naming blockIO.weight where the host has none" {
  run job --rootfs "$JOB_ROOTFS" --io-weight 500 -- sh -c '
for f in /sys/fs/cgroup/blkio/blkio.weight /sys/fs/cgroup/blkio/blkio.bfq.weight \
         /sys/fs/cgroup/io.bfq.weight /sys/fs/cgroup/io.weight; do
  [ -e $f ] && { echo "$f: $(cat $f)"; exit 0; }
done
exit 9'
  if [ "$status" -eq 125 ]; then
    # This host (mq-deadline, no BFQ; v1 blkio) has no weight files.
    assert_output --partial "linux.resources.blockIO.weight"
  else
    assert_success
    # v1 and BFQ take 10..1000; v2's io.weight is 1..10000 (runc's mapping).
    assert_output --regexp ': (default )?(500|4950)$'
  fi
  assert_job_gone
}

@test "job --bind (rw, ro) and --tmpfs: the job's workspace" {
  local ws=$BATS_TEST_TMPDIR/ws
  mkdir -p "$ws"
  echo from-host >"$ws/in"
  run job --rootfs "$JOB_ROOTFS" --bind "$ws:/ws" --bind "$ws:/wsro:ro" --tmpfs /scratch:1m \
    --tmpfs /big -- sh -c '
cat /ws/in; echo from-job > /ws/new
echo x > /wsro/x && echo ro-is-writable
grep " /scratch " /proc/mounts; grep " /big " /proc/mounts
echo data > /scratch/f && echo tmpfs-writable'
  assert_success
  assert_line from-host
  refute_line ro-is-writable
  assert_line --regexp '^tmpfs /scratch tmpfs rw,nosuid,nodev,.*size=1024k'
  assert_line --regexp '^tmpfs /big tmpfs rw,nosuid,nodev,'
  assert_line tmpfs-writable
  assert_equal "$(cat "$ws/new")" from-job
  [ ! -e "$ws/x" ]
  assert_job_gone
  # A source that does not exist is the create's error, naming the mount.
  run job --rootfs "$JOB_ROOTFS" --bind "$ws/missing:/m" -- true
  assert_failure 125
  assert_output --partial "/m"
  assert_job_gone
}

@test "job --env --env-file --workdir --user --hostname" {
  printf '# a comment\nA=from-file\nB=two words\n\n  FROM_HOST\nNOT_SET_HERE\nC=x=y\n' >"$OUT/env"
  export FROM_HOST=host-value
  unset NOT_SET_HERE
  run job --rootfs "$JOB_ROOTFS" --env-file "$OUT/env" --env A=from-flag --env D=d \
    --workdir /tmp --user 1000:1001 --hostname ci-host -- sh -c '
echo "A=$A"; echo "B=$B"; echo "C=$C"; echo "D=$D"; echo "FROM_HOST=$FROM_HOST"
echo "unset=${NOT_SET_HERE-none}"; echo "cwd=$(pwd)"; echo "ids=$(id -u):$(id -g)"
echo "hostname=$(hostname)"'
  unset FROM_HOST
  assert_success
  assert_line A=from-flag
  assert_line "B=two words"
  assert_line C=x=y
  assert_line D=d
  assert_line FROM_HOST=host-value
  assert_line unset=none
  assert_line cwd=/tmp
  assert_line ids=1000:1001
  assert_line hostname=ci-host
  assert_job_gone
}

@test "job --cgroup-parent: the job's cgroup is PARENT/NAME, and a parent nook made goes with it" {
  local parent=nook-test-jobparent-$ID
  run job --rootfs "$JOB_ROOTFS" --cgroup-parent "$parent" -- cat /proc/self/cgroup
  assert_success
  assert_line --regexp "^[0-9]+:pids:/(.*/)?$parent/$ID\$|^0::/$parent/$ID\$"
  assert_job_gone
  run find /sys/fs/cgroup -maxdepth 8 -type d -name "$parent"
  assert_output ""
}

@test "job --rootfs: the image is unchanged after a job that writes everywhere (the default tmpfs layer)" {
  local before
  before=$(image_state "$JOB_ROOTFS")
  run job --rootfs "$JOB_ROOTFS" -- sh -c '
echo changed > /etc/hostname; echo more >> /etc/passwd; rm /bin/ls; rm -r /home
mkdir -p /new/dir; echo x > /new/dir/f; chmod 700 /tmp; ln -s /x /link; touch /bin/busybox
cat /etc/hostname; [ -e /bin/ls ] || echo ls-gone'
  assert_success
  assert_line changed
  assert_line ls-gone
  assert_equal "$(image_state "$JOB_ROOTFS")" "$before"
  assert_job_gone
  # The next job sees the image as it was.
  run job --rootfs "$JOB_ROOTFS" -- cat /etc/hostname
  assert_output nook-test
}

@test "job --overlay DIR keeps the job's writes in DIR/upper; --overlay none: a read-only root" {
  local layer=$BATS_TEST_TMPDIR/layer before
  before=$(image_state "$JOB_ROOTFS")
  run job --rootfs "$JOB_ROOTFS" --overlay "$layer" -- sh -c 'echo kept > /kept'
  assert_success
  assert_equal "$(cat "$layer/upper/kept")" kept
  assert_equal "$(image_state "$JOB_ROOTFS")" "$before"
  assert_job_gone
  run job --rootfs "$JOB_ROOTFS" --overlay none -- sh -c 'touch /x'
  assert_failure 1
  assert_output --partial "Read-only file system"
  assert_equal "$(image_state "$JOB_ROOTFS")" "$before"
  assert_job_gone
}

@test "job --rootfs /: the host's own tree under a private layer" {
  run job --rootfs / -- sh -c "
test -x /usr/bin/python3 && echo has-host-python
echo written > '$BATS_TEST_TMPDIR/from-job' && cat '$BATS_TEST_TMPDIR/from-job'
cat /proc/1/comm"
  assert_success
  assert_line has-host-python
  assert_line written
  assert_line sh
  [ ! -e "$BATS_TEST_TMPDIR/from-job" ]
  assert_job_gone
}

@test "job --bundle: the bundle's config.json, the options over it" {
  setup_bundle sh -c 'echo "from-bundle A=$A uid=$(id -u)"'
  run job --bundle "$BUNDLE" --env A=1 --user 1000
  assert_success
  assert_output "from-bundle A=1 uid=1000"
  assert_job_gone
  run job --bundle "$BUNDLE" -- echo replaced
  assert_success
  assert_output replaced
  assert_job_gone
}

@test "job -t: the job's stdio is a terminal" {
  run script -qec "timeout -k 5 60 $NOOK --root $NOOK_ROOT job --name $ID -t --rootfs $JOB_ROOTFS -- sh -c 'test -t 0 && test -t 1 && echo tty-ok; tty'" /dev/null
  assert_success
  assert_output --partial tty-ok
  assert_output --partial /dev/pts/
  assert_job_gone
  run job --rootfs "$JOB_ROOTFS" -- sh -c 'test -t 0 || echo no-tty'
  assert_output no-tty
}

@test "job --net none: a loopback only, nothing reachable; --net host: the host's namespace" {
  run job --rootfs "$JOB_ROOTFS" --net none -- sh -c 'ls /sys/class/net; nc -w 2 192.0.2.1 80 </dev/null || echo unreachable'
  assert_success
  assert_line lo
  assert_line unreachable
  assert_equal "${#lines[@]}" 3 # lo, nc's message, unreachable
  run job --rootfs "$JOB_ROOTFS" --net host -- readlink /proc/self/ns/net
  assert_success
  assert_output "$(host_ns net)"
  run job --rootfs "$JOB_ROOTFS" --net none -- readlink /proc/self/ns/net
  refute_output "$(host_ns net)"
  assert_job_gone
}

@test "job --net pasta: a server on the host's loopback through pasta's gateway, the job's loopback its own" {
  command -v pasta >/dev/null || fail "pasta is not installed (scripts/deps.sh installs passt)"
  # A server on the host's loopback only, on a free port it reports.
  bg "$PYTHON" -c '
import http.server, socketserver, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"hello-from-host\n")
    def log_message(self, *a): pass
s = socketserver.TCPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
__import__("os").rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()' "$OUT/port"
  wait_for_file "$OUT/port"
  local port
  port=$(cat "$OUT/port")
  run job --rootfs / --net pasta -- python3 -c "
import urllib.request, subprocess
print(urllib.request.urlopen('http://192.0.2.1:$port/', timeout=20).read().decode().strip())
try:
    urllib.request.urlopen('http://127.0.0.1:$port/', timeout=5)
    print('own-loopback-reaches-host')
except OSError:
    print('own-loopback-is-own')
print(subprocess.run(['ip', '-4', '-o', 'addr', 'show', 'eth0'], capture_output=True, text=True).stdout.split()[3])"
  assert_success
  assert_line hello-from-host
  assert_line own-loopback-is-own
  assert_line 192.0.2.2/24
  assert_job_gone
}

@test "job --report -: the report on stderr, every field, in a fixed set" {
  run --separate-stderr job --rootfs "$JOB_ROOTFS" --report - -- sh -c 'echo job-output'
  assert_success
  assert_output job-output
  assert_equal "$(jq -r 'keys_unsorted | join(",")' <<<"$stderr")" \
    "id,exit_status,reason,signal,cancelled_by,error,wall_seconds,cpu_user_seconds,cpu_system_seconds,memory_peak_bytes,pids_peak,io_read_bytes,io_write_bytes,oom,oom_kill,limits"
  assert_equal "$(jq -r '.limits | keys_unsorted | join(",")' <<<"$stderr")" \
    "memory_bytes,memory_swap_bytes,cpu_quota_us,cpu_period_us,cpuset,pids,io_weight,timeout_seconds,kill_after_seconds,stop_signal"
  assert_equal "$(jq -r .id <<<"$stderr")" "$ID"
  # Without --name the id is generated.
  run --separate-stderr nook job --rootfs "$JOB_ROOTFS" --report - -- true
  assert_success
  [[ $(jq -r .id <<<"$stderr") =~ ^job-[0-9a-f]{16}$ ]]
}
