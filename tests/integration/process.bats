#!/usr/bin/env bats
# process.*: args, env, cwd, user, umask, rlimits, capabilities,
# noNewPrivileges, oomScoreAdj, scheduler, ioPriority; hostname/domainname;
# linux.personality.

load helpers

# /proc/self/status field of the container process, whitespace-normalised.
status_field() {
  awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ +/, ""); print }' <<<"$2"
}

@test "process.args: passed verbatim, including spaces and empty strings" {
  setup_bundle sh -c 'printf "[%s]" "$@"' argv0 a "b c" "" 'd"e'
  run nook run "$ID"
  assert_success
  assert_output '[a][b c][][d"e]'
}

@test "process.args: args[0] is looked up in the PATH of process.env inside the rootfs" {
  setup_bundle mytool
  mkdir -p rootfs/opt/tools
  printf '#!/bin/sh\necho mytool-ran\n' >rootfs/opt/tools/mytool
  chmod 0755 rootfs/opt/tools/mytool
  update_config 'c["process"]["env"] = ["PATH=/opt/tools:/bin"]'
  run nook run "$ID"
  assert_success
  assert_output mytool-ran
}

@test "process.args: an absolute args[0] is executed as is" {
  setup_bundle /bin/busybox echo absolute
  update_config 'c["process"]["env"] = []'
  run nook run "$ID"
  assert_success
  assert_output absolute
}

@test "process.env: exactly the configured variables (no leak from the runtime's env)" {
  setup_bundle env
  update_config 'c["process"]["env"] = ["PATH=/bin", "FOO=bar", "SPACED=a b", "HOME=/tmp", "EMPTY="]'
  NOOK_LEAK_CANARY=leaked run nook run "$ID"
  assert_success
  assert_line FOO=bar
  assert_line "SPACED=a b"
  assert_line HOME=/tmp
  assert_line EMPTY=
  refute_output --partial NOOK_LEAK_CANARY
  refute_output --partial BATS_
}

@test "process.env: HOME defaults to the user's home from /etc/passwd" {
  setup_bundle sh -c 'echo "home=$HOME"'
  update_config 'c["process"]["env"] = ["PATH=/bin"]'
  run nook run "$ID"
  assert_success
  assert_output home=/root

  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}'
  run nook run "$ID"
  assert_success
  assert_output home=/home/tester
}

@test "process.cwd: the process starts in cwd" {
  setup_bundle pwd
  update_config '.process.cwd = "/home/tester"'
  run nook run "$ID"
  assert_success
  assert_output /home/tester
}

@test "process.cwd: a missing cwd is created" {
  setup_bundle pwd
  update_config 'c["process"]["cwd"] = "/var/made/by/runtime"; c["root"]["readonly"] = False'
  run nook run "$ID"
  assert_success
  assert_output /var/made/by/runtime
}

@test "process.cwd: entered before the user switch, so a root-only path works (run and exec)" {
  setup_bundle sh -c 'pwd; ls 2>&1; sleep 100'
  mkdir -p rootfs/secret/work
  chmod 0700 rootfs/secret
  touch rootfs/secret/work/file-inside
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}; c["process"]["cwd"] = "/secret/work"'
  run_detached "$ID"
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q file-inside "$BATS_TEST_TMPDIR/$ID.out" && break
    sleep 0.1
  done
  run container_output "$ID"
  assert_line /secret/work
  assert_line file-inside
  run nook exec "$ID" pwd
  assert_success
  assert_output /secret/work
}

@test "process.user: uid, gid and additionalGids" {
  setup_bundle cat /proc/self/status
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 2000]}'
  run nook run "$ID"
  assert_success
  status=$output
  assert_equal "$(status_field Uid "$status")" "1000 1000 1000 1000"
  assert_equal "$(status_field Gid "$status")" "1000 1000 1000 1000"
  assert_equal "$(status_field Groups "$status")" "10 2000"
}

@test "process.user: id reports the user and group names from the rootfs" {
  setup_bundle id
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}'
  run nook run "$ID"
  assert_success
  assert_output "uid=1000(tester) gid=1000(tester)"
}

@test "process.user: no supplementary groups unless configured" {
  setup_bundle cat /proc/self/status
  update_config 'c["process"]["user"] = {"uid": 65534, "gid": 65534}'
  run nook run "$ID"
  assert_success
  assert_equal "$(status_field Uid "$output")" "65534 65534 65534 65534"
  assert_equal "$(status_field Groups "$output")" ""
}

@test "process.user.umask: applied; default is 0022" {
  setup_bundle sh -c umask
  run nook run "$ID"
  assert_success
  assert_output 0022

  update_config 'c["process"]["user"]["umask"] = 0o077'
  run nook run "$ID"
  assert_success
  assert_output 0077
}

@test "process.rlimits: soft and hard values are applied" {
  setup_bundle cat /proc/self/limits
  update_config 'c["process"]["rlimits"] = [
    {"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512},
    {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
    {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400}]'
  run nook run "$ID"
  assert_success
  assert_line --regexp '^Max open files +256 +512 +files'
  assert_line --regexp '^Max core file size +0 +4096 +bytes'
  assert_line --regexp '^Max processes +300 +400 +processes'
}

@test "process.rlimits: raising a hard limit without CAP_SYS_RESOURCE fails" {
  if grep -q '^CapEff:' /proc/self/status && (( 0x$(awk '/^CapEff:/ {print $2}' /proc/self/status) & (1 << 24) )); then
    skip "this host has CAP_SYS_RESOURCE: raising a hard limit is allowed"
  fi
  setup_bundle true
  hard=$(ulimit -Hn)
  update_config "c['process']['rlimits'] = [{'type': 'RLIMIT_NOFILE', 'soft': $((hard + 1)), 'hard': $((hard + 1))}]"
  run nook run "$ID"
  assert_failure
  assert_output --regexp '[Rr][Ll][Ii][Mm][Ii][Tt]'
}

@test "process.capabilities: root gets exactly the configured sets" {
  setup_bundle cat /proc/self/status
  update_config 's = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
c["process"]["capabilities"] = {"bounding": s, "effective": s, "permitted": s}'
  run nook run "$ID"
  assert_success
  assert_equal "$(status_field CapBnd "$output")" 0000000000000421
  assert_equal "$(status_field CapEff "$output")" 0000000000000421
  assert_equal "$(status_field CapPrm "$output")" 0000000000000421
  assert_equal "$(status_field CapInh "$output")" 0000000000000000
  assert_equal "$(status_field CapAmb "$output")" 0000000000000000
}

@test "process.capabilities: a non-root user keeps ambient capabilities across exec" {
  setup_bundle cat /proc/self/status
  update_config 's = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
c["process"]["user"] = {"uid": 1000, "gid": 1000}
c["process"]["capabilities"] = {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
  "effective": s, "permitted": s, "inheritable": s, "ambient": s}'
  run nook run "$ID"
  assert_success
  assert_equal "$(status_field CapBnd "$output")" 00000000000004a1
  assert_equal "$(status_field CapInh "$output")" 0000000000000420
  assert_equal "$(status_field CapPrm "$output")" 0000000000000420
  assert_equal "$(status_field CapEff "$output")" 0000000000000420
  assert_equal "$(status_field CapAmb "$output")" 0000000000000420
}

@test "process.capabilities: a non-root user without ambient loses permitted on exec" {
  setup_bundle cat /proc/self/status
  update_config 's = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
c["process"]["user"] = {"uid": 1000, "gid": 1000}
c["process"]["capabilities"] = {"bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_SETUID"],
  "effective": s, "permitted": s, "inheritable": s}'
  run nook run "$ID"
  assert_success
  assert_equal "$(status_field CapBnd "$output")" 00000000000004a1
  assert_equal "$(status_field CapInh "$output")" 0000000000000420
  assert_equal "$(status_field CapPrm "$output")" 0000000000000000
  assert_equal "$(status_field CapEff "$output")" 0000000000000000
  assert_equal "$(status_field CapAmb "$output")" 0000000000000000
}

@test "process.capabilities: no capabilities object means an empty set" {
  setup_bundle cat /proc/self/status
  update_config 'del c["process"]["capabilities"]'
  run nook run "$ID"
  assert_success
  assert_equal "$(status_field CapBnd "$output")" 0000000000000000
  assert_equal "$(status_field CapEff "$output")" 0000000000000000
}

@test "process.capabilities: dropped capabilities are enforced" {
  # Without CAP_CHOWN even root cannot give a file away.
  setup_bundle sh -c 'touch /tmp/f && chown 1000 /tmp/f && echo chowned'
  update_config 's = ["CAP_KILL"]
c["root"]["readonly"] = False
c["process"]["capabilities"] = {"bounding": s, "effective": s, "permitted": s}'
  run nook run "$ID"
  assert_failure
  refute_output --partial chowned
}

@test "process.noNewPrivileges: true sets NoNewPrivs, false leaves it clear" {
  setup_bundle grep NoNewPrivs /proc/self/status
  update_config 'c["process"]["noNewPrivileges"] = True'
  run nook run "$ID"
  assert_success
  assert_output --regexp '^NoNewPrivs:[[:space:]]+1$'

  update_config 'c["process"]["noNewPrivileges"] = False'
  run nook run "$ID"
  assert_success
  assert_output --regexp '^NoNewPrivs:[[:space:]]+0$'
}

@test "process.oomScoreAdj: written to oom_score_adj" {
  setup_bundle cat /proc/self/oom_score_adj
  update_config 'c["process"]["oomScoreAdj"] = 123'
  run nook run "$ID"
  assert_success
  assert_output 123
}

@test "hostname is set in the UTS namespace" {
  setup_bundle hostname
  update_config 'c["hostname"] = "slartibartfast"'
  run nook run "$ID"
  assert_success
  assert_output slartibartfast
  # and not on the host
  [ "$(hostname)" != slartibartfast ]
}

@test "domainname is set in the UTS namespace" {
  skip_if_peer_older 1.2.0 "domainname"
  setup_bundle cat /proc/sys/kernel/domainname
  update_config 'c["hostname"] = "slartibartfast"; c["domainname"] = "magrathea.example"'
  run nook run "$ID"
  assert_success
  assert_output magrathea.example
  [ "$(cat /proc/sys/kernel/domainname)" != magrathea.example ]
}

@test "linux.personality LINUX32: uname -m reports i686" {
  [ "$(uname -m)" = x86_64 ] || skip "LINUX32 check written for x86_64 hosts"
  skip_if_peer_older 1.2.0 "linux.personality"
  setup_bundle uname -m
  update_config 'c["linux"]["personality"] = {"domain": "LINUX32"}'
  run nook run "$ID"
  assert_success
  assert_output i686
}

@test "linux.personality LINUX: uname -m is the native machine" {
  setup_bundle uname -m
  update_config 'c["linux"]["personality"] = {"domain": "LINUX"}'
  run nook run "$ID"
  assert_success
  assert_output "$(uname -m)"
}

@test "process.scheduler: SCHED_BATCH with nice is applied" {
  skip_if_peer_older 1.2.0 "process.scheduler"
  # /proc/self/stat: field 19 is nice, field 41 the policy (3 = SCHED_BATCH)
  setup_bundle sh -c 'cut -d" " -f19,41 /proc/self/stat'
  update_config 'c["process"]["scheduler"] = {"policy": "SCHED_BATCH", "nice": 5}'
  run nook run "$ID"
  assert_success
  assert_output "5 3"
}

@test "process.scheduler: SCHED_IDLE is applied" {
  skip_if_peer_older 1.2.0 "process.scheduler"
  setup_bundle sh -c 'cut -d" " -f41 /proc/self/stat'
  update_config 'c["process"]["scheduler"] = {"policy": "SCHED_IDLE"}'
  run nook run "$ID"
  assert_success
  assert_output 5
}

@test "process.ioPriority: class and priority are applied" {
  skip_if_peer_older 1.2.0 "process.ioPriority"
  setup_bundle ionice
  update_config 'c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_BE", "priority": 3}'
  run nook run "$ID"
  assert_success
  assert_output "best-effort: prio 3"

  update_config 'c["process"]["ioPriority"] = {"class": "IOPRIO_CLASS_IDLE", "priority": 4}'
  run nook run "$ID"
  assert_success
  assert_output idle
}
