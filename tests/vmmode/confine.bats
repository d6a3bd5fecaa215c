#!/usr/bin/env bats
# The VMM is confined on the host (issue #14): one boot through the internal
# `nook vm-exec` (which always confines its VMM); while the guest waits,
# setup_file looks at QEMU from the host through /proc and the cgroup
# filesystem, then lets the guest finish.  The tests assert on what it saw.

load helpers

setup_file() {
  have_qemu || return 0
  local d=$BATS_FILE_TMPDIR
  mkdir -p "$d/share" "$d/root" "$d/seen"
  echo "/nook-test-confine-$$" >"$d/cg"
  cp /bin/busybox "$d/share/busybox"
  # What only root's file capabilities reach: a 0700 directory of another
  # uid (a postgres image's data directory is one).
  mkdir -m 0700 "$d/share/secret"
  echo s3cret >"$d/share/secret/file"
  chmod 0600 "$d/share/secret/file"
  chown -R 1234:1234 "$d/share/secret"
  "$NOOK_VM_KERNEL_SCRIPT" >/dev/null
  local netns_opt=()
  if command -v ip >/dev/null && ip netns add "test-confine-$$" 2>/dev/null; then
    netns_opt=(--netns "/run/netns/test-confine-$$")
    echo "/run/netns/test-confine-$$" >"$d/netns"
  fi
  # The guest says it is up through the share (a write through the confined
  # 9p server) and waits for the host's go.
  timeout 300 "$NOOK" --root "$d/root" vm-exec --memory 256 --cgroup "$(cg_name)" --pids-limit 64 \
    --vmm-pid-file "$d/pid" "${netns_opt[@]}" --share share="$d/share" -- \
    /mnt/share/busybox sh -c 'B=/mnt/share/busybox
      $B cat /mnt/share/secret/file >/mnt/share/read-secret 2>&1
      echo mine >/mnt/share/mine && $B chown 4321:4322 /mnt/share/mine 2>/mnt/share/chown-err
      echo up >/mnt/share/up; i=0
      while [ ! -e /mnt/share/go ] && [ $i -lt 1200 ]; do /mnt/share/busybox sleep 0.1; i=$((i+1)); done
      echo waited=$i' >"$d/out" 2>"$d/err" &
  local vx=$! i
  for ((i = 0; i < 3000; i++)); do
    [ -e "$d/share/up" ] || [ ! -d "/proc/$vx" ] && break
    sleep 0.1
  done
  local p
  p=$(cat "$d/pid" 2>/dev/null) || p=
  if [ -n "$p" ] && [ -e "$d/share/up" ]; then
    local s=$d/seen
    cat "/proc/$p/status" >"$s/status"
    cat "/proc/$p/mountinfo" >"$s/mountinfo"
    cat "/proc/$p/cgroup" >"$s/cgroup"
    (cd "/proc/$p/root" && find . -xdev -mindepth 1 | sort) >"$s/root-tmpfs"
    ls -A "/proc/$p/root" >"$s/root"
    # An fd may close between the glob and its readlink (QEMU opens and
    # closes files as it runs): skip it rather than fail the whole file.
    for f in /proc/"$p"/fd/*; do readlink "$f" || :; done >"$s/fds"
    readlink "/proc/$p/ns/net" >"$s/netns"
    readlink "/proc/$p/ns/pid" >"$s/pidns"
    readlink /proc/self/ns/pid >"$s/host-pidns"
    # From inside QEMU's pid namespace a host process has no pid to name.
    if command -v nsenter >/dev/null; then
      nsenter -t "$p" -p -- sh -c "kill -0 $$ 2>/dev/null; echo host=\$?; kill -0 1; echo own=\$?" \
        >"$s/kill" 2>&1
    fi
    readlink /proc/self/ns/net >"$s/host-netns"
    [ ! -e "$d/netns" ] || stat -L -c 'net:[%i]' "$(cat "$d/netns")" >"$s/given-netns"
    local m
    m=$(cg_dir memory)
    cat "$m/memory.max" "$m/memory.limit_in_bytes" 2>/dev/null | head -n1 >"$s/memory"
    cat "$(cg_dir pids)/pids.max" >"$s/pids"
    # What the VMM cannot reach: host files outside its set.
    # The VMM's work directory is only a path to its socket and console
    # there; the launcher's log beside them is not in it.
    local log
    log=$(readlink "/proc/$p/fd/2")
    for f in /etc/passwd /etc/shadow /root /home /usr/bin/env /sys/kernel /proc/1 "$log"; do
      [ -e "/proc/$p/root$f" ] && echo "$f"
    done >"$s/reachable"
    echo "$p" >"$s/pid"
  fi
  touch "$d/share/go"
  local rc=0
  wait "$vx" || rc=$?
  echo "$rc" >"$d/rc"
  [ ! -e "$d/netns" ] || ip netns delete "test-confine-$$"
}

teardown_file() {
  [ -z "${BATS_FILE_TMPDIR:-}" ] || rm -rf "$BATS_FILE_TMPDIR/root"
}

seen() {
  [ -e "$BATS_FILE_TMPDIR/seen/pid" ] ||
    fail "the guest never came up: $(cat "$BATS_FILE_TMPDIR/err")"
}

@test "vm confine: the guest ran to the end through the confined VMM" {
  need_qemu
  seen
  run cat "$BATS_FILE_TMPDIR/rc"
  assert_output 0
  run cat "$BATS_FILE_TMPDIR/out"
  assert_output --regexp '^waited=[0-9]+$'
  refute_output 'waited=1200'
  # The 9p server wrote the guest's file into the share.
  run cat "$BATS_FILE_TMPDIR/share/up"
  assert_output up
}

@test "vm confine: QEMU keeps only the file capabilities of a writable share, no_new_privs and a seccomp filter" {
  need_qemu
  seen
  local s=$BATS_FILE_TMPDIR/seen/status
  run grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' "$s"
  # CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID: bits 0, 1, 3, 4.
  assert_line --regexp '^CapInh:\s+0+1b$'
  assert_line --regexp '^CapPrm:\s+0+1b$'
  assert_line --regexp '^CapEff:\s+0+1b$'
  assert_line --regexp '^CapBnd:\s+0+1b$'
  assert_line --regexp '^CapAmb:\s+0+1b$'
  assert_line --regexp '^NoNewPrivs:\s+1$'
  assert_line --regexp '^Seccomp:\s+2$'
}

@test "vm confine: QEMU runs without transparent huge pages (its ROMs and code buffer would take 2 MiB pages)" {
  need_qemu
  seen
  run grep '^THP_enabled:' "$BATS_FILE_TMPDIR/seen/status"
  assert_output --regexp '^THP_enabled:\s+0$'
}

@test "vm confine: QEMU's root holds only its own files, the VM's and the share" {
  need_qemu
  seen
  local d=$BATS_FILE_TMPDIR s=$BATS_FILE_TMPDIR/seen
  # The root is a read-only tmpfs.
  run awk '$5 == "/" { print $6, $(NF-2) }' "$s/mountinfo"
  assert_output --regexp '^ro,.* tmpfs$'
  # Every other mount is one of the allowed binds.
  local kcache=${NOOK_VM_KCACHE:-/var/cache/nook-vm}
  run awk '$5 != "/" { print $5 }' "$s/mountinfo"
  assert_success
  local mp bad=()
  while read -r mp; do
    case $mp in
    /usr/bin/qemu-system-* | /lib/* | /lib64/* | /usr/lib/* | /usr/lib64/* | /usr/share/qemu/*) ;;
    /etc/ld.so.cache | /dev/null | /dev/urandom | /dev/kvm | /proc/self/fd) ;;
    "$kcache"/*) ;;
    "$d/share" | "$d"/root/vm-*/chan.sock | "$d"/root/vm-*/console.log) ;;
    *) bad+=("$mp") ;;
    esac
  done <<<"$output"
  [ ${#bad[@]} -eq 0 ] || fail "mounts outside the allowed set: ${bad[*]}"
  # The binary and its libraries are read-only; so are the kernel and initrd.
  run awk '$5 ~ /^\/usr\/bin\/qemu|vmlinux|initramfs/ { print $6 }' "$s/mountinfo"
  refute_output --regexp '(^|\n)rw'
  # Device nodes and the channel socket: I/O only, no chmod or chown of the
  # host's inodes.
  run awk '$5 ~ /^\/dev\/|chan\.sock$/ { print $6 }' "$s/mountinfo"
  assert_output --regexp '^ro'
  refute_output --regexp '(^|\n)rw'
  run cat "$s/root"
  refute_line home
  refute_line root
  refute_line sys
  refute_line run
  refute_line boot
}

@test "vm confine: host files outside the set are not reachable through /proc/PID/root" {
  need_qemu
  seen
  local s=$BATS_FILE_TMPDIR/seen
  run cat "$s/reachable"
  assert_output ''
  # Nothing of /etc but the loader's cache; of /proc only QEMU's own fds.
  run grep -E '^\./(etc|proc)/' "$s/root-tmpfs"
  assert_output $'./etc/ld.so.cache\n./proc/self\n./proc/self/fd'
}

@test "vm confine: QEMU holds only the fds it opened itself plus its stdio" {
  need_qemu
  seen
  local d=$BATS_FILE_TMPDIR
  run cat "$d/seen/fds"
  local f bad=()
  while read -r f; do
    case $f in
    /dev/null | /dev/urandom | "$d"/root/vm-*/vmm.log | "$d"/root/vm-*/console.log) ;;
    socket:* | anon_inode:* | pipe:*) ;;
    "$d/share" | "$d/share/"* | */vmlinux | */initramfs-*) ;;
    *) bad+=("$f") ;;
    esac
  done <<<"$output"
  [ ${#bad[@]} -eq 0 ] || fail "unexpected fds: ${bad[*]}"
}

@test "vm confine: QEMU is in the given cgroup with guest RAM plus overhead as its memory limit" {
  need_qemu
  seen
  local s=$BATS_FILE_TMPDIR/seen
  run cat "$s/cgroup"
  assert_success
  assert_vmm_cgroup "$s" 256 64
  # vm-exec removed the cgroup when the VMM was gone.
  [ ! -e "$(cg_dir memory)" ]
  [ ! -e "$(cg_dir pids)" ]
}

@test "vm confine: QEMU runs in the given network namespace, never the host's" {
  need_qemu
  seen
  local s=$BATS_FILE_TMPDIR/seen
  run cat "$s/netns"
  refute_output "$(cat "$s/host-netns")"
  if [ -e "$s/given-netns" ]; then
    assert_output "$(cat "$s/given-netns")"
  fi
}

@test "vm confine: QEMU is pid 1 of its own pid namespace, with no procfs" {
  need_qemu
  seen
  local s=$BATS_FILE_TMPDIR/seen
  run cat "$s/pidns"
  refute_output "$(cat "$s/host-pidns")"
  run grep '^NSpid:' "$s/status"
  assert_output --regexp "^NSpid:\s+$(cat "$s/pid")\s+1$"
  # Of procfs it has only its own fd directory.
  run grep -E '^\./proc' "$s/root-tmpfs"
  assert_output $'./proc\n./proc/self\n./proc/self/fd'
  run awk '$(NF-2) == "proc" { print $5 }' "$s/mountinfo"
  assert_output /proc/self/fd
  if [ -e "$s/kill" ]; then
    run cat "$s/kill"
    assert_line host=1
    assert_line own=0
  fi
}

@test "vm confine: the guest's root reads another uid's 0700 files and chowns in a writable share" {
  need_qemu
  seen
  local d=$BATS_FILE_TMPDIR
  run cat "$d/share/read-secret"
  assert_output s3cret
  run cat "$d/share/chown-err"
  assert_output ''
  run stat -c '%u:%g' "$d/share/mine"
  assert_output 4321:4322
}
