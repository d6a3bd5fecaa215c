#!/usr/bin/env bats
# /dev in the container: the default nodes and symlinks, /dev/console with a
# terminal, linux.devices (mknod, and host nodes bound in a user namespace).
# (mounts.bats checks the default nodes' numbers and one linux.devices node.)

load helpers
load mounts_helpers

# Device cgroup rules allowing the nodes a test creates (the default config
# denies everything but the runtime's default devices).
allow_devices() {
  update_config 'c["linux"]["resources"]["devices"].append({"allow": True, "access": "rwm"})'
}

@test "default devices: char nodes with the right numbers, mode 0666, owned by root" {
  setup_bundle sh -c 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done'
  run nook run "$ID"
  assert_success
  # (stat prints the numbers in hex)
  assert_line "/dev/null character special file 1:3 666 0:0"
  assert_line "/dev/zero character special file 1:5 666 0:0"
  assert_line "/dev/full character special file 1:7 666 0:0"
  assert_line "/dev/random character special file 1:8 666 0:0"
  assert_line "/dev/urandom character special file 1:9 666 0:0"
  assert_line "/dev/tty character special file 5:0 666 0:0"
}

@test "default devices work: null, zero, full, urandom" {
  setup_bundle sh -c 'echo x > /dev/null && echo null-ok
head -c 8 /dev/zero | od -An -tx1 | tr -d " "
{ echo x > /dev/full; } 2>&1 || echo full-refused
[ "$(head -c 16 /dev/urandom | wc -c)" = 16 ] && echo urandom-ok
[ -z "$(cat /dev/null)" ] && echo null-empty'
  run nook run "$ID"
  assert_success
  assert_line null-ok
  assert_line 0000000000000000
  assert_line --partial 'No space left on device'
  assert_line full-refused
  assert_line urandom-ok
  assert_line null-empty
}

@test "default /dev symlinks: ptmx, fd, stdin, stdout, stderr, core" {
  setup_bundle sh -c 'for l in ptmx fd stdin stdout stderr; do echo "$l -> $(readlink /dev/$l)"; done
if [ -L /dev/core ]; then echo "core -> $(readlink /dev/core)"; else echo "no core"; fi
[ -c /dev/pts/ptmx ] && echo pts-ptmx-ok
[ -e /dev/fd/0 ] && echo fd-ok'
  run nook run "$ID"
  assert_success
  assert_line "ptmx -> pts/ptmx"
  assert_line "fd -> /proc/self/fd"
  assert_line "stdin -> /proc/self/fd/0"
  assert_line "stdout -> /proc/self/fd/1"
  assert_line "stderr -> /proc/self/fd/2"
  # /dev/core only when the host kernel has /proc/kcore (this one has not)
  if [ -e /proc/kcore ]; then
    assert_line "core -> /proc/kcore"
  else
    assert_line "no core"
  fi
  assert_line pts-ptmx-ok
  assert_line fd-ok
}

# The spec's default devices are a MUST whether or not mounts[] has a /dev
# tmpfs: without one they are made in the image's /dev.
@test "without a /dev mount the default devices and symlinks are still supplied" {
  setup_bundle sh -c 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T" /dev/$d; done
echo "ptmx -> $(readlink /dev/ptmx)"; echo "fd -> $(readlink /dev/fd)"
echo x > /dev/null && echo null-ok'
  update_config 'c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev"]'
  run nook run "$ID"
  assert_success
  assert_line "/dev/null character special file 1:3"
  assert_line "/dev/zero character special file 1:5"
  assert_line "/dev/full character special file 1:7"
  assert_line "/dev/random character special file 1:8"
  assert_line "/dev/urandom character special file 1:9"
  assert_line "/dev/tty character special file 5:0"
  assert_line "ptmx -> pts/ptmx"
  assert_line "fd -> /proc/self/fd"
  assert_line null-ok
}

@test "/dev/console is a bind of the container's pty when process.terminal" {
  setup_bundle sh -c 'stat -c "console %t:%T %F" /dev/console; stat -L -c "stdin %t:%T" /proc/self/fd/0; echo "mounts $(grep -c " /dev/console " /proc/self/mountinfo)"; echo hi > /dev/console && echo wrote'
  update_config 'c["process"]["terminal"] = True'
  local sock=$BATS_TEST_TMPDIR/console.sock out=$BATS_TEST_TMPDIR/tty.out
  recvtty "$sock" "$out"
  create_container "$ID" --console-socket "$sock"
  nook start "$ID"
  wait_for_state "$ID" stopped
  local i
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    kill -0 "$RECVTTY_PID" 2>/dev/null || break
    sleep 0.05
  done
  run tr -d '\r' <"$out"
  local console stdin
  console=$(sed -n 's/^console \([0-9a-f]*:[0-9a-f]*\) .*/\1/p' <<<"$output")
  stdin=$(sed -n 's/^stdin //p' <<<"$output")
  [ -n "$console" ] || fail "no /dev/console: $output"
  assert_equal "$console" "$stdin"
  # major 136 (0x88): a Unix98 pty slave
  [[ $console == 88:* ]] || fail "/dev/console is $console, not a pty"
  assert_line --partial "character special file"
  assert_line "mounts 1"
  assert_line wrote
}

@test "linux.devices: c, b, u and p nodes with major, minor, fileMode, uid, gid" {
  setup_bundle sh -c 'for d in /dev/my-c /dev/my-b /dev/my-u /dev/my-p /dev/sub/dir/my-nested; do stat -c "%n %F %t:%T %a %u:%g" $d; done'
  allow_devices
  update_config 'c["linux"]["devices"] = [
  {"path": "/dev/my-c", "type": "c", "major": 1, "minor": 5, "fileMode": 0o640, "uid": 1000, "gid": 1001},
  {"path": "/dev/my-b", "type": "b", "major": 7, "minor": 3, "fileMode": 0o600, "uid": 0, "gid": 6},
  {"path": "/dev/my-u", "type": "u", "major": 1, "minor": 7, "fileMode": 0o666, "uid": 0, "gid": 0},
  {"path": "/dev/my-p", "type": "p", "fileMode": 0o620, "uid": 1000, "gid": 1000},
  {"path": "/dev/sub/dir/my-nested", "type": "c", "major": 1, "minor": 9, "fileMode": 0o444, "uid": 0, "gid": 0}]'
  run nook run "$ID"
  assert_success
  assert_line "/dev/my-c character special file 1:5 640 1000:1001"
  assert_line "/dev/my-b block special file 7:3 600 0:6"
  assert_line "/dev/my-u character special file 1:7 666 0:0"
  assert_line "/dev/my-p fifo 0:0 620 1000:1000"
  assert_line "/dev/sub/dir/my-nested character special file 1:9 444 0:0"
}

@test "linux.devices: the nodes are usable" {
  setup_bundle sh -c 'head -c 4 /dev/my-zero | od -An -tx1 | tr -d " "
{ echo x > /dev/my-full; } 2>&1 || echo full-refused
(echo through-fifo > /dev/my-fifo &) ; read l < /dev/my-fifo; echo "fifo:$l"'
  allow_devices
  update_config 'c["linux"]["devices"] = [
  {"path": "/dev/my-zero", "type": "c", "major": 1, "minor": 5, "fileMode": 0o666},
  {"path": "/dev/my-full", "type": "c", "major": 1, "minor": 7, "fileMode": 0o666},
  {"path": "/dev/my-fifo", "type": "p", "fileMode": 0o600}]'
  run nook run "$ID"
  assert_success
  assert_line 00000000
  assert_line --partial 'No space left on device'
  assert_line full-refused
  assert_line fifo:through-fifo
}

@test "linux.devices: a listed node denied by linux.resources.devices stays unusable" {
  # The default config denies every device; /dev/kmsg is listed but gets no
  # allow rule, so the cgroup refuses to open it (as runc does).  /dev/null,
  # one of the runtime's default devices, stays usable.
  setup_bundle sh -c '[ -c /dev/kmsg ] && echo kmsg-exists
( : < /dev/kmsg ) 2>&1 && echo kmsg-opened
echo x > /dev/null && echo null-ok'
  # (CAP_SYSLOG: without it the kernel itself refuses to open /dev/kmsg)
  update_config 'c["linux"]["devices"] = [
  {"path": "/dev/kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 0o666}]
for k in ("bounding", "effective", "permitted"):
    c["process"]["capabilities"][k].append("CAP_SYSLOG")'
  run nook run "$ID"
  assert_success
  assert_line kmsg-exists
  assert_line --partial 'Operation not permitted'
  refute_line kmsg-opened
  assert_line null-ok
}

# In a user namespace mknod(2) of a device is not allowed: the runtime binds
# the host's node (same path) instead.  The default nodes come from there
# too and must be usable; /dev/net/tun (mode 0600 on the host) is there with
# its numbers, although the container's root (host uid 100000) may not open it.
@test "user namespace: device nodes are binds of the host's nodes and usable" {
  open_tmpdir_for_userns
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"'
echo x > /dev/null && echo null-ok
[ "$(head -c 4 /dev/zero | wc -c)" = 4 ] && echo zero-ok
[ "$(head -c 4 /dev/urandom | wc -c)" = 4 ] && echo urandom-ok
stat -c "%n %F %t:%T" /dev/null /dev/net/tun'
  update_config 'ns_add("user")
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["devices"] = [{"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o666, "uid": 0, "gid": 0}]
c["linux"]["resources"]["devices"].append({"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"})'
  run nook run "$ID"
  assert_success
  assert_line null-ok
  assert_line zero-ok
  assert_line urandom-ok
  assert_line "/dev/null character special file 1:3"
  assert_line "/dev/net/tun character special file a:c8"
  # binds: each node is a mount point (of the host's devtmpfs)
  [ "$(mnt_count "$output" /dev/null)" -ge 1 ] || fail "/dev/null is not a bind"
  [ "$(mnt_count "$output" /dev/net/tun)" -ge 1 ] || fail "/dev/net/tun is not a bind"
  assert_equal "$(mnt "$output" /dev/null fstype)" devtmpfs
}

# Regression (podman --device, --privileged): engines copy the host node's
# whole st_mode into fileMode, and a privileged config lists /dev/ptmx.
@test "linux.devices: fileMode with the file type bits is accepted (permission bits used)" {
  setup_bundle sh -c 'stat -c "%n %F %t:%T %a" /dev/mytun'
  update_config 'c["linux"]["devices"] = [{"path": "/dev/mytun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o20600}]'
  run nook run "$ID"
  assert_success
  assert_output "/dev/mytun character special file a:c8 600"
}

@test "linux.devices: fileMode type bits that disagree with type are an error naming the field" {
  setup_bundle true
  update_config 'c["linux"]["devices"] = [{"path": "/dev/mytun", "type": "b", "major": 10, "minor": 200, "fileMode": 0o20600}]'
  run nook run "$ID"
  assert_failure
  assert_output --partial 'linux.devices[0]: fileMode 020600: its file type bits disagree with type "b"'
}

@test "linux.devices: a /dev/ptmx node in the list still ends as the pts/ptmx link" {
  setup_bundle sh -c 'readlink /dev/ptmx; stat -c "%F" /dev/stdin'
  update_config 'c["linux"]["devices"] = [{"path": "/dev/ptmx", "type": "c", "major": 5, "minor": 2, "fileMode": 0o20666}]'
  run nook run "$ID"
  assert_success
  assert_line --index 0 pts/ptmx
  assert_line --index 1 "symbolic link"
}
