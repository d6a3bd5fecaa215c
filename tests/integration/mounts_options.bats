#!/usr/bin/env bats
# mounts[]: every mount type, every option of the spec's Linux mount options
# table, propagation (per mount and linux.rootfsPropagation), idmapped
# mounts, tmpcopyup, destination creation; linux.mountLabel, the default
# maskedPaths/readonlyPaths, linux.sysctl.  (mounts.bats has the basics:
# default mounts, a bind, a file bind, noexec, masked/readonly paths.)
#
# Tests that need mounts on the host side (submounts of a bind source,
# shared peer groups, a mount made after the container started) make them in
# a private mount namespace of the test (private_mntns) and run the runtime
# there (nook_ns): nothing is ever mounted in the real host's namespace.

load helpers
load mounts_helpers

# Host sysctls a test could change if the runtime wrongly applied a
# non-namespaced key: put back in teardown (pairs of /proc/sys path, value).
SYSCTL_RESTORE=()

teardown() {
  local i
  for ((i = 0; i + 1 < ${#SYSCTL_RESTORE[@]}; i += 2)); do
    if [ "$(cat "${SYSCTL_RESTORE[i]}")" != "${SYSCTL_RESTORE[i + 1]}" ]; then
      echo "${SYSCTL_RESTORE[i + 1]}" >"${SYSCTL_RESTORE[i]}"
    fi
  done
  nook_teardown
}

# A tree for the host side, in the test's private mount namespace:
# $SRC (bind-mounted onto itself, shared) holding a file `top` and a tmpfs
# submount $SRC/sub (shared, a peer group of its own) holding `f`.
setup_src_tree() {
  SRC=$BATS_TEST_TMPDIR/src
  mkdir -p "$SRC/sub"
  echo top >"$SRC/top"
  private_mntns
  in_ns sh -c "mount --bind '$SRC' '$SRC' && mount --make-shared '$SRC' &&
    mount -t tmpfs -o size=1m subtmp '$SRC/sub' && echo sub > '$SRC/sub/f'" ||
    fail "setting up the source tree failed"
}

# --- mount types -------------------------------------------------------------

@test "mount types: proc, sysfs, devpts, mqueue, tmpfs at extra destinations" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"
  add_mounts "/x/proc proc proc nosuid,nodev,noexec" \
    "/x/sys sysfs sysfs ro,nosuid" \
    "/x/pts devpts devpts newinstance,ptmxmode=0666,mode=0620" \
    "/x/mq mqueue mqueue nodev" \
    "/x/tmp tmpfs tmpfs size=1m"
  run nook run "$ID"
  assert_success
  assert_equal "$(mnt "$output" /x/proc fstype)" proc
  assert_equal "$(mnt "$output" /x/sys fstype)" sysfs
  assert_equal "$(mnt "$output" /x/pts fstype)" devpts
  assert_equal "$(mnt "$output" /x/mq fstype)" mqueue
  assert_equal "$(mnt "$output" /x/tmp fstype)" tmpfs
  assert_opt "$output" /x/sys opts ro
  assert_opt "$output" /x/proc opts noexec
}

@test "bind of a directory leaves its submounts out; rbind brings them" {
  setup_src_tree
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; cat /b-rbind/top /b-rbind/sub/f; ls -A /b-bind/sub | wc -l"
  add_mounts "/b-bind bind $SRC bind" \
    "/b-rbind bind $SRC rbind"
  run nook_ns run "$ID"
  assert_success
  assert_equal "$(mnt_count "$output" /b-bind/sub)" 0
  assert_equal "$(mnt "$output" /b-rbind/sub fstype)" tmpfs
  assert_line top
  assert_line sub
  # the sub directory of the plain bind is the (empty) directory underneath
  assert_equal "${lines[-1]}" 0
}

@test "bind of a file from outside the bundle, rw: writes reach the host file" {
  setup_bundle sh -c 'cat /etc/app.conf; echo written-inside > /etc/app.conf'
  echo from-host >"$BATS_TEST_TMPDIR/app.conf"
  add_mount /etc/app.conf bind "$BATS_TEST_TMPDIR/app.conf" bind rw
  run nook run "$ID"
  assert_success
  assert_output from-host
  assert_equal "$(cat "$BATS_TEST_TMPDIR/app.conf")" written-inside
  # the destination in the image is an (empty) file, not the host's content
  [ -f rootfs/etc/app.conf ]
  [ ! -s rootfs/etc/app.conf ]
}

# The cgroup v1 layout runc makes on this hybrid host: /sys/fs/cgroup is a
# tmpfs, each v1 hierarchy of the host is mounted at /sys/fs/cgroup/<name>
# (name= stripped for named hierarchies), read-only, and shows the
# container's own cgroup (its root in mountinfo is the container's path).
@test "cgroup: every v1 hierarchy at /sys/fs/cgroup/NAME, read-only, rooted at the container's cgroup" {
  awk '$3 == "cgroup"' /proc/self/mounts | grep -q . ||
    skip "needs cgroup v1 hierarchies (this host has only cgroup v2: the cgroup2 tests cover it)"
  setup_bundle sh -c 'cat /proc/self/cgroup; echo ---; awk '"'"'{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup" || $(i + 1) == "tmpfs") print $5, $4, $6 }'"'"' /proc/self/mountinfo'
  run nook run "$ID"
  assert_success
  local line hier ctrls path name mp
  local -a cg=() mi=()
  local sep=0
  for line in "${lines[@]}"; do
    if [ "$line" = --- ]; then
      sep=1
    elif [ $sep = 0 ]; then
      cg+=("$line")
    else
      mi+=("$line")
    fi
  done
  printf '%s\n' "${mi[@]}" | grep -q '^/sys/fs/cgroup ' || fail "no tmpfs at /sys/fs/cgroup"
  local n=0
  for line in "${cg[@]}"; do
    IFS=: read -r hier ctrls path <<<"$line"
    [ -n "$ctrls" ] || continue # the v2 line
    name=${ctrls#name=}
    mp=$(printf '%s\n' "${mi[@]}" | awk -v m="/sys/fs/cgroup/$name" '$1 == m { l = $0 } END { print l }')
    [ -n "$mp" ] || fail "hierarchy $ctrls not mounted at /sys/fs/cgroup/$name"
    read -r _ root opts <<<"$mp"
    assert_equal "$root" "$path"
    has_opt "$opts" ro || fail "/sys/fs/cgroup/$name is not read-only: $opts"
    n=$((n + 1))
  done
  # the host's v1 hierarchies: cpu cpuacct cpuset memory devices freezer blkio pids systemd
  local host_n
  host_n=$(awk '$3 == "cgroup"' /proc/self/mounts | wc -l)
  assert_equal "$n" "$host_n"
}

@test "cgroup: in a cgroup namespace, the v1 hierarchies show only the container" {
  awk '$3 == "cgroup"' /proc/self/mounts | grep -q . ||
    skip "needs cgroup v1 hierarchies (this host has only cgroup v2: the cgroup2 tests cover it)"
  setup_bundle sh -c 'awk '"'"'{ for (i = 7; $i != "-"; i++); if ($(i + 1) == "cgroup") print $5, $4 }'"'"' /proc/self/mountinfo; while read p; do echo "proc $p"; done < /sys/fs/cgroup/pids/cgroup.procs'
  update_config 'ns_add("cgroup")'
  run nook run "$ID"
  assert_success
  assert_line "/sys/fs/cgroup/pids /"
  assert_line "/sys/fs/cgroup/memory /"
  assert_line "/sys/fs/cgroup/systemd /"
  # only the container's own process (pid 1, the shell) is in its cgroup
  assert_line "proc 1"
  refute_line --regexp '^proc [02-9]'
}

@test "cgroup2: a cgroup2 mount in a cgroup namespace is rooted at the container's cgroup" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; "'while read p; do echo "proc $p"; done < /u2/cgroup.procs; [ -e /u2/cgroup.controllers ] && echo has-controllers'
  update_config 'ns_add("cgroup")'
  add_mount /u2 cgroup2 cgroup2 nosuid nodev noexec
  run nook run "$ID"
  assert_success
  assert_equal "$(mnt "$output" /u2 fstype)" cgroup2
  assert_line "proc 1"
  refute_line --regexp '^proc [02-9]'
  assert_line has-controllers
}

@test "overlay mount: lowerdir/upperdir/workdir; writes go to the upper dir" {
  local o=$BATS_TEST_TMPDIR/ovl
  mkdir -p "$o/lower" "$o/upper" "$o/work"
  echo lower-content >"$o/lower/l1"
  echo keep >"$o/lower/l2"
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; cat /ov/l1; echo new > /ov/n1; echo changed > /ov/l1; rm /ov/l2"
  add_mount /ov overlay overlay "lowerdir=$o/lower" "upperdir=$o/upper" "workdir=$o/work"
  run nook run "$ID"
  assert_success
  assert_equal "$(mnt "$output" /ov fstype)" overlay
  assert_line lower-content
  assert_equal "$(cat "$o/upper/n1")" new
  assert_equal "$(cat "$o/upper/l1")" changed
  # the lower dir is untouched; the removal is a whiteout in the upper dir
  assert_equal "$(cat "$o/lower/l1")" lower-content
  assert_equal "$(cat "$o/lower/l2")" keep
  [ ! -e "$o/lower/n1" ]
  [ -c "$o/upper/l2" ] || fail "no whiteout for l2 in the upper dir"
}

@test "unknown options are filesystem data: tmpfs size=1m, mode, uid, gid, nr_inodes" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; stat -c 'stat %a %u %g' /t"
  add_mount /t tmpfs tmpfs nosuid size=1m mode=0710 uid=1000 gid=1000 nr_inodes=100
  run nook run "$ID"
  assert_success
  assert_opt "$output" /t super size=1024k
  assert_opt "$output" /t super mode=710
  assert_opt "$output" /t super uid=1000
  assert_opt "$output" /t super gid=1000
  assert_opt "$output" /t super nr_inodes=100
  assert_opt "$output" /t opts nosuid
  assert_line "stat 710 1000 1000"
}

@test "another filesystem type with data options: ramfs mode=0750" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; stat -c 'stat %a' /r; echo x > /r/f && echo wrote"
  add_mount /r ramfs ramfs nodev mode=0750
  run nook run "$ID"
  assert_success
  assert_equal "$(mnt "$output" /r fstype)" ramfs
  assert_opt "$output" /r super mode=750
  assert_line "stat 750"
  assert_line wrote
}

@test "an invalid filesystem option fails with an error naming it" {
  setup_bundle true
  add_mount /t tmpfs tmpfs size=1m bogus_opt=1
  run nook run "$ID"
  assert_failure
  assert_output --partial bogus_opt

  update_config 'c["mounts"][-1]["options"] = ["size=banana"]'
  run nook run "$ID"
  assert_failure
  assert_output --partial size
}

# --- options -------------------------------------------------------------------

@test "ro and rw: writes to a ro tmpfs fail with EROFS; the later option wins" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; touch /ro1/x || echo ro1-refused; touch /rw1/x && echo rw1-ok; touch /rw2/x && echo rw2-ok"
  add_mounts "/ro1 tmpfs tmpfs ro" \
    "/rw1 tmpfs tmpfs rw" \
    "/rw2 tmpfs tmpfs ro,rw"
  run nook run "$ID"
  assert_success
  assert_opt "$output" /ro1 opts ro
  assert_opt "$output" /rw2 opts rw
  assert_output --partial 'Read-only file system'
  assert_line ro1-refused
  assert_line rw1-ok
  assert_line rw2-ok
}

@test "nosuid/suid, nodev/dev, noexec/exec: flags in mountinfo; dev and exec enforced" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT
mknod /f-dev/n c 1 3 && echo x > /f-dev/n && echo dev-ok
mknod /f-nodev/n c 1 3 && { echo x > /f-nodev/n || echo nodev-refused; }
cp /bin/busybox /f-exec/true && /f-exec/true && echo exec-ok
cp /bin/busybox /f-noexec/true && { /f-noexec/true || echo noexec-refused; }"
  add_caps CAP_MKNOD
  add_mounts "/f-nosuid tmpfs tmpfs nosuid" \
    "/f-suid tmpfs tmpfs nosuid,suid" \
    "/f-nodev tmpfs tmpfs nodev" \
    "/f-dev tmpfs tmpfs nodev,dev" \
    "/f-noexec tmpfs tmpfs noexec" \
    "/f-exec tmpfs tmpfs noexec,exec"
  run nook run "$ID"
  assert_success
  assert_opt "$output" /f-nosuid opts nosuid
  refute_opt "$output" /f-suid opts nosuid
  assert_opt "$output" /f-nodev opts nodev
  refute_opt "$output" /f-dev opts nodev
  assert_opt "$output" /f-noexec opts noexec
  refute_opt "$output" /f-exec opts noexec
  assert_line dev-ok
  assert_line nodev-refused
  assert_line exec-ok
  assert_line noexec-refused
}

@test "sync, async, dirsync: superblock flags" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"
  add_mounts "/s-sync tmpfs tmpfs sync" \
    "/s-async tmpfs tmpfs sync,async" \
    "/s-dirsync tmpfs tmpfs dirsync"
  run nook run "$ID"
  assert_success
  assert_opt "$output" /s-sync super sync
  refute_opt "$output" /s-async super sync
  assert_opt "$output" /s-dirsync super dirsync
}

# Kernel 6.18 accepts MS_MANDLOCK (and `mand` through fsconfig), shows `mand`
# in the superblock options, and ignores it (mandatory locking is gone since
# 5.15; it logs a deprecation warning).  The spec makes `mand` a MAY: the
# container must start either way.
@test "mand is accepted (kernel 6.18 keeps the flag and ignores it)" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; echo x > /m/f && echo wrote"
  add_mount /m tmpfs tmpfs mand
  run nook run "$ID"
  assert_success
  assert_equal "$(mnt "$output" /m fstype)" tmpfs
  assert_line wrote
}

@test "atime options: noatime, relatime, strictatime, nodiratime, atime" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"
  add_mounts "/a-noatime tmpfs tmpfs noatime" \
    "/a-relatime tmpfs tmpfs relatime" \
    "/a-strictatime tmpfs tmpfs strictatime" \
    "/a-nodiratime tmpfs tmpfs nodiratime" \
    "/a-atime tmpfs tmpfs noatime,atime"
  run nook run "$ID"
  assert_success
  assert_opt "$output" /a-noatime opts noatime
  assert_opt "$output" /a-relatime opts relatime
  refute_opt "$output" /a-relatime opts noatime
  refute_opt "$output" /a-strictatime opts relatime
  refute_opt "$output" /a-strictatime opts noatime
  assert_opt "$output" /a-nodiratime opts nodiratime
  refute_opt "$output" /a-atime opts noatime
}

@test "remount: a later entry changes an earlier mount in place" {
  mkdir -p "$BATS_TEST_TMPDIR/data"
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; touch /rm/x || echo rm-refused; touch /rb/x || echo rb-refused"
  add_mounts "/rm tmpfs tmpfs size=1m" \
    "/rm tmpfs tmpfs remount,ro" \
    "/rb bind $BATS_TEST_TMPDIR/data rbind" \
    "/rb bind $BATS_TEST_TMPDIR/data bind,remount,ro"
  run nook run "$ID"
  assert_success
  assert_equal "$(mnt_count "$output" /rm)" 1
  assert_equal "$(mnt_count "$output" /rb)" 1
  assert_opt "$output" /rm opts ro
  assert_opt "$output" /rm super size=1024k
  assert_opt "$output" /rb opts ro
  assert_line rm-refused
  assert_line rb-refused
  [ ! -e "$BATS_TEST_TMPDIR/data/x" ]
}

# With rootfsPropagation shared the container's copies of the test
# namespace's shared mounts stay shared, so a plain rbind of $SRC is shared
# and each propagation option visibly changes it.  The non-recursive ones
# change the bind itself; its submount stays as a plain rbind leaves it.
@test "propagation options on an rbind: private, shared, slave, unbindable (submounts untouched)" {
  setup_src_tree
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"
  update_config 'c["linux"]["rootfsPropagation"] = "shared"'
  local p specs=("/p-plain bind $SRC rbind")
  for p in private shared slave unbindable; do
    specs+=("/p-$p bind $SRC rbind,$p")
  done
  add_mounts "${specs[@]}"
  run nook_ns run "$ID"
  assert_success
  assert_equal "$(mnt "$output" /p-private prop)" -
  assert_opt "$output" /p-shared prop shared:
  assert_opt "$output" /p-slave prop master:
  refute_opt "$output" /p-slave prop shared:
  assert_equal "$(mnt "$output" /p-unbindable prop)" unbindable
  local plain_sub
  plain_sub=$(mnt "$output" /p-plain/sub prop)
  for p in private shared slave unbindable; do
    assert_equal "$(mnt "$output" "/p-$p/sub" prop)" "$plain_sub"
  done
}

@test "recursive propagation options reach the submounts of an rbind" {
  setup_src_tree
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"
  update_config 'c["linux"]["rootfsPropagation"] = "shared"'
  local p specs=()
  for p in rprivate rshared rslave runbindable; do
    specs+=("/p-$p bind $SRC rbind,$p")
  done
  add_mounts "${specs[@]}"
  run nook_ns run "$ID"
  assert_success
  for m in /p-rprivate /p-rprivate/sub; do
    assert_equal "$(mnt "$output" $m prop)" -
  done
  for m in /p-rshared /p-rshared/sub; do
    assert_opt "$output" $m prop shared:
  done
  for m in /p-rslave /p-rslave/sub; do
    assert_opt "$output" $m prop master:
    refute_opt "$output" $m prop shared:
  done
  for m in /p-runbindable /p-runbindable/sub; do
    assert_equal "$(mnt "$output" $m prop)" unbindable
  done
}

@test "read-only bind: ro covers the bind itself, rro its submounts too (EROFS)" {
  setup_src_tree
  setup_bundle sh -c "$MOUNTINFO_SCRIPT
for f in /b-ro/new /b-ro/sub/new /b-rro/new /b-rro/sub/new; do
  touch \$f 2>&1 && echo \"\$f writable\"
done; true"
  add_mounts "/b-ro bind $SRC rbind,ro" \
    "/b-rro bind $SRC rbind,rro"
  run nook_ns run "$ID"
  assert_success
  assert_opt "$output" /b-ro opts ro
  refute_opt "$output" /b-ro/sub opts ro
  assert_opt "$output" /b-rro opts ro
  assert_opt "$output" /b-rro/sub opts ro
  assert_line --regexp '/b-ro/new: Read-only file system$'
  assert_line '/b-ro/sub/new writable'
  assert_line --regexp '/b-rro/new: Read-only file system$'
  assert_line --regexp '/b-rro/sub/new: Read-only file system$'
  # nothing reached the host tree but the one allowed write
  [ ! -e "$SRC/new" ]
  in_ns test -e "$SRC/sub/new"
}

@test "recursive attributes: rnosuid, rnodev, rnoexec, rnoatime, rnodiratime, rstrictatime reach submounts" {
  setup_src_tree
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"
  local o specs=("/plain-nosuid bind $SRC rbind,nosuid")
  for o in rnosuid rnodev rnoexec rnoatime rnodiratime rstrictatime; do
    specs+=("/r-$o bind $SRC rbind,$o")
  done
  add_mounts "${specs[@]}"
  run nook_ns run "$ID"
  assert_success
  for o in nosuid nodev noexec noatime nodiratime; do
    assert_opt "$output" "/r-r$o" opts "$o"
    assert_opt "$output" "/r-r$o/sub" opts "$o"
  done
  for m in /r-rstrictatime /r-rstrictatime/sub; do
    refute_opt "$output" $m opts relatime
    refute_opt "$output" $m opts noatime
  done
  # the non-recursive option stops at the bind itself
  assert_opt "$output" /plain-nosuid opts nosuid
  refute_opt "$output" /plain-nosuid/sub opts nosuid
}

@test "recursive attributes: rrw, rsuid, rdev, rexec clear flags on submounts" {
  setup_src_tree
  # per-mount flags on the host-side submount
  in_ns mount -o remount,bind,ro,nosuid,nodev,noexec,noatime "$SRC/sub"
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; touch /c-rrw/sub/new && echo rrw-wrote"
  local o specs=("/c-plain bind $SRC rbind")
  for o in rrw rsuid rdev rexec; do
    specs+=("/c-$o bind $SRC rbind,$o")
  done
  add_mounts "${specs[@]}"
  run nook_ns run "$ID"
  assert_success
  # a plain rbind keeps the submount's flags
  for o in ro nosuid nodev noexec noatime; do
    assert_opt "$output" /c-plain/sub opts "$o"
  done
  refute_opt "$output" /c-rrw/sub opts ro
  refute_opt "$output" /c-rsuid/sub opts nosuid
  refute_opt "$output" /c-rdev/sub opts nodev
  refute_opt "$output" /c-rexec/sub opts noexec
  assert_line rrw-wrote
}

@test "recursive attributes: ratime clears noatime on submounts" {
  skip_for_peer "runc 1.1.5 fails ratime with EINVAL (it clears only part of MOUNT_ATTR__ATIME)"
  setup_src_tree
  in_ns mount -o remount,bind,noatime "$SRC/sub"
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"
  add_mounts "/c-ratime bind $SRC rbind,ratime" \
    "/c-plain bind $SRC rbind"
  run nook_ns run "$ID"
  assert_success
  assert_opt "$output" /c-plain/sub opts noatime
  refute_opt "$output" /c-ratime/sub opts noatime
}

# --- idmapped mounts (runc 1.1 has none) ----------------------------------------

# A host directory $IDM with a file owned by 1000:1000.
setup_idmap_src() {
  IDM=$BATS_TEST_TMPDIR/idm
  mkdir -p "$IDM"
  echo idmapped >"$IDM/f"
  chown 1000:1000 "$IDM/f"
  chmod 0755 "$IDM"
}

USERNS_PY='ns_add("user")
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]'

@test "idmap: in a user namespace, a host file owned by 1000 is seen as 1000 (not nobody)" {
  skip_if_peer_older 1.2.0 "idmapped mounts"
  open_tmpdir_for_userns
  setup_idmap_src
  setup_bundle sh -c 'stat -c "%n %u %g" /plain/f /mapped/f; touch /mapped/new && stat -c "%n %u %g" /mapped/new'
  update_config "$USERNS_PY"
  # container root (host 100000) cannot create them in the root-owned rootfs
  mkdir rootfs/plain rootfs/mapped
  add_mounts "/plain bind $IDM rbind" \
    "/mapped bind $IDM rbind,idmap"
  run nook run "$ID"
  assert_success
  assert_line "/plain/f 65534 65534"
  assert_line "/mapped/f 1000 1000"
  # a file created by container root is owned by 0 on disk (not 100000)
  assert_line "/mapped/new 0 0"
  assert_equal "$(stat -c '%u %g' "$IDM/new")" "0 0"
}

@test "idmap with mount-level uidMappings/gidMappings, without a user namespace" {
  skip_if_peer_older 1.2.0 "idmapped mounts"
  setup_idmap_src
  setup_bundle stat -c '%u %g' /mapped/f
  update_config "c['mounts'].append({'destination': '/mapped', 'type': 'bind', 'source': '$IDM',
  'options': ['rbind', 'idmap'],
  'uidMappings': [{'containerID': 1000, 'hostID': 2000, 'size': 1}],
  'gidMappings': [{'containerID': 1000, 'hostID': 3000, 'size': 1}]})"
  run nook run "$ID"
  assert_success
  # on-disk 1000 (the mapping's containerID) is seen as its hostID
  assert_output "2000 3000"
}

@test "idmap with mount-level mappings in a user namespace container" {
  skip_if_peer_older 1.2.0 "idmapped mounts"
  open_tmpdir_for_userns
  setup_idmap_src
  setup_bundle stat -c '%u %g' /mapped/f
  update_config "$USERNS_PY"
  mkdir rootfs/mapped
  update_config "c['mounts'].append({'destination': '/mapped', 'type': 'bind', 'source': '$IDM',
  'options': ['rbind', 'idmap'],
  'uidMappings': [{'containerID': 1000, 'hostID': 100005, 'size': 1}],
  'gidMappings': [{'containerID': 1000, 'hostID': 100007, 'size': 1}]})"
  run nook run "$ID"
  assert_success
  # on disk 1000 -> host 100005/100007 -> inside the user namespace 5/7
  assert_output "5 7"
}

@test "ridmap maps the submounts of an rbind too; idmap only the bind itself" {
  skip_if_peer_older 1.2.0 "idmapped mounts"
  open_tmpdir_for_userns
  setup_src_tree
  in_ns sh -c "chown 1000:1000 '$SRC/top' '$SRC/sub/f'"
  setup_bundle sh -c 'stat -c "%n %u" /i/top /i/sub/f /ri/top /ri/sub/f'
  update_config "$USERNS_PY"
  mkdir rootfs/i rootfs/ri
  add_mounts "/i bind $SRC rbind,idmap" \
    "/ri bind $SRC rbind,ridmap"
  run nook_ns run "$ID"
  assert_success
  assert_line "/i/top 1000"
  assert_line "/i/sub/f 65534"
  assert_line "/ri/top 1000"
  assert_line "/ri/sub/f 1000"
}

@test "idmap without mappings and without a user namespace is an error" {
  skip_if_peer_older 1.2.0 "idmapped mounts"
  setup_idmap_src
  setup_bundle true
  add_mount /mapped bind "$IDM" rbind idmap
  run nook run "$ID"
  assert_failure
  assert_output --partial idmap
}

# --- tmpcopyup, destinations ---------------------------------------------------

@test "tmpcopyup: a tmpfs over an image directory keeps its files; writes stay off the image" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; echo \"hostname=\$(cat /etc/hostname)\"; echo \"sub=\$(ls /etc/sub) \$(stat -c %a /etc/sub) \$(cat /etc/sub/file)\"; echo \"link=\$(readlink /etc/link)\"; echo new > /etc/hostname; touch /etc/added; echo \"after=\$(cat /etc/hostname)\""
  mkdir -p rootfs/etc/sub
  chmod 0750 rootfs/etc/sub
  echo nested >rootfs/etc/sub/file
  ln -s hostname rootfs/etc/link
  local before
  before=$(cd rootfs/etc && find . -printf '%p %y %s %m\n' | sort && md5sum hostname)
  add_mount /etc tmpfs tmpfs tmpcopyup nosuid
  run nook run "$ID"
  assert_success
  assert_equal "$(mnt "$output" /etc fstype)" tmpfs
  assert_line hostname=nook-test
  assert_line "sub=file 750 nested"
  assert_line link=hostname
  assert_line after=new
  assert_equal "$(cd rootfs/etc && find . -printf '%p %y %s %m\n' | sort && md5sum hostname)" "$before"
}

@test "destinations: nested directories and a nested file for a file bind are created in the rootfs" {
  echo file-content >"$BATS_TEST_TMPDIR/hostfile"
  mkdir -p "$BATS_TEST_TMPDIR/hostdir"
  echo dir-content >"$BATS_TEST_TMPDIR/hostdir/f"
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; cat /new/a/b/c/file.conf /new/d/e/f/f; ls -d /new/t/u/v"
  add_mounts "/new/a/b/c/file.conf bind $BATS_TEST_TMPDIR/hostfile bind,ro" \
    "/new/d/e/f bind $BATS_TEST_TMPDIR/hostdir rbind,ro" \
    "/new/t/u/v tmpfs tmpfs size=1m"
  run nook run "$ID"
  assert_success
  assert_line file-content
  assert_line dir-content
  assert_equal "$(mnt "$output" /new/t/u/v fstype)" tmpfs
  # created inside the rootfs, with the right types, empty
  [ -f rootfs/new/a/b/c/file.conf ] && [ ! -s rootfs/new/a/b/c/file.conf ]
  [ -d rootfs/new/d/e/f ] && [ -z "$(ls -A rootfs/new/d/e/f)" ]
  [ -d rootfs/new/t/u/v ]
  # and nowhere else
  assert_equal "$(cat "$BATS_TEST_TMPDIR/hostfile")" file-content
  [ ! -e /new ]
}

# --- linux.rootfsPropagation -----------------------------------------------------

# The bundle directory (the rootfs's parent) bind-mounted onto itself and made
# shared in the test's mount namespace, so that the container's / (a bind of
# the rootfs directory) has a host peer group to relate to.
share_rootfs() {
  in_ns sh -c "mount --bind '$BUNDLE' '$BUNDLE' && mount --make-shared '$BUNDLE'" ||
    fail "sharing the bundle directory failed"
}

# runc 1.1.5 leaves / private whatever rootfsPropagation says (it applies the
# flag to the old / before binding the rootfs); crun 1.8.1 gets shared and
# unbindable right but leaves slave private.
@test "rootfsPropagation: shared, slave, private, unbindable as seen on / inside" {
  skip_for_peer "runc 1.1 does not apply rootfsPropagation to the container's /"
  private_mntns
  setup_bundle sh -c "$MOUNTINFO_SCRIPT"
  share_rootfs
  local p
  for p in shared slave private unbindable; do
    update_config "c['linux']['rootfsPropagation'] = '$p'"
    run nook_ns run "$ID"
    [ "$status" -eq 0 ] || fail "rootfsPropagation $p: status $status: $output"
    case $p in
    shared)
      assert_opt "$output" / prop shared:
      # a new peer group, not one of the host's
      local group
      group=$(mnt "$output" / prop | tr , '\n' | sed -n 's/^shared://p')
      run ns_mounts
      refute_output --regexp "(^|,| )shared:$group(,|$)"
      ;;
    slave)
      assert_opt "$output" / prop master:
      refute_opt "$output" / prop shared:
      ;;
    private) assert_equal "$(mnt "$output" / prop)" - ;;
    unbindable) assert_equal "$(mnt "$output" / prop)" unbindable ;;
    esac
  done
}

# The container waits for /out/go, then reports what it sees at
# /mnt/hostmount, where the test mounted a tmpfs after the start.
host_mount_after_start() {
  local prop=$1
  private_mntns
  setup_bundle sh -c 'until [ -e /out/go ]; do sleep 0.02; done; cat /mnt/hostmount/hello 2>&1; echo "mounts $(grep -c " /mnt/hostmount " /proc/self/mountinfo)"'
  mkdir -p rootfs/mnt/hostmount
  add_out_mount
  share_rootfs
  update_config "c['linux']['rootfsPropagation'] = '$prop'"
  nook_ns_detached "$ID" run -d --bundle "$BUNDLE"
  wait_for_state "$ID" running
  in_ns sh -c "mount -t tmpfs -o size=1m hostmount '$BUNDLE/rootfs/mnt/hostmount' && echo from-host > '$BUNDLE/rootfs/mnt/hostmount/hello'" ||
    fail "host-side mount failed"
  touch "$OUTDIR/go"
  wait_for_state "$ID" stopped
  run container_output "$ID"
}

@test "rootfsPropagation slave: a mount made on the host after start appears inside" {
  skip_for_peer "runc 1.1 does not apply rootfsPropagation to the container's /"
  host_mount_after_start slave
  assert_line from-host
  assert_line "mounts 1"
}

@test "rootfsPropagation private: a mount made on the host after start does not appear inside" {
  host_mount_after_start private
  refute_line from-host
  assert_line "mounts 0"
}

# The reverse direction: the container (with CAP_SYS_ADMIN) mounts a tmpfs
# under a bind of the test namespace's shared directory $SRC.
mount_inside() {
  local opt=$1
  setup_src_tree
  setup_bundle sh -c 'mkdir -p /shared/inside && mount -t tmpfs -o size=1m inside /shared/inside && echo from-container > /shared/inside/hello && echo mounted'
  # mount(2) inside: CAP_SYS_ADMIN, and no seccomp profile (`nook spec` has one)
  add_caps CAP_SYS_ADMIN
  update_config 'c["linux"].pop("seccomp", None)'
  update_config 'c["linux"]["rootfsPropagation"] = "shared"'
  if [ -n "$opt" ]; then
    add_mount /shared bind "$SRC" rbind "$opt"
  else
    add_mount /shared bind "$SRC" rbind
  fi
}

@test "a mount made inside under an rshared bind propagates out to the host" {
  mount_inside rshared
  run nook_ns run "$ID"
  assert_success
  assert_output mounted
  run ns_mounts
  assert_equal "$(mnt "$output" "$SRC/inside" fstype)" tmpfs
  assert_equal "$(in_ns cat "$SRC/inside/hello")" from-container
}

@test "a mount made inside under an rslave bind does not propagate out" {
  mount_inside rslave
  run nook_ns run "$ID"
  assert_success
  assert_output mounted
  run ns_mounts
  assert_equal "$(mnt_count "$output" "$SRC/inside")" 0
  [ ! -e "$SRC/inside/hello" ]
}

@test "without rootfsPropagation, mounts made inside never reach the host" {
  mount_inside ""
  update_config 'c["linux"].pop("rootfsPropagation", None)'
  share_rootfs
  mkdir -p rootfs/mnt/x
  update_config 'c["process"]["args"] = ["sh", "-c", "mkdir -p /shared/inside && mount -t tmpfs -o size=1m inside /shared/inside && mount -t tmpfs -o size=1m x /mnt/x && echo mounted"]'
  run nook_ns run "$ID"
  assert_success
  assert_output mounted
  run ns_mounts
  assert_equal "$(mnt_count "$output" "$SRC/inside")" 0
  # nothing the runtime or the container mounted in the rootfs leaked out
  run awk -v r="$BUNDLE/rootfs/" '$1 == "M" && index($2, r) == 1' <<<"$output"
  assert_output ""
}

# --- linux.mountLabel ------------------------------------------------------------

@test "mountLabel: empty is accepted; a label runs with a warning (no SELinux here)" {
  setup_bundle echo ok
  update_config 'c["linux"]["mountLabel"] = ""'
  run nook run "$ID"
  assert_success
  assert_output ok

  # as crun: not applied, said in a warning (linux.bats checks its text)
  update_config 'c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"'
  run nook run "$ID"
  assert_success
  assert_line ok
}

# --- default maskedPaths and readonlyPaths ---------------------------------------

@test "default maskedPaths (nook spec): files are /dev/null binds that read empty, dirs empty read-only tmpfs" {
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; for f in /proc/keys /proc/timer_list; do echo \"\$f \$(stat -c '%F %t:%T' \$f) \$(wc -c < \$f)\"; done; ls -A /proc/acpi /sys/firmware | grep -v : | grep -c . ; touch /sys/firmware/x 2>&1; true"
  # the masks of this host (/proc/kcore, /proc/sched_debug, ... do not exist here)
  [ "$(wc -c </proc/keys)" -gt 0 ] && [ "$(wc -c </proc/timer_list)" -gt 0 ]
  local masked
  masked=$(jq -r '.linux.maskedPaths[]' config.json)
  [[ $masked == *"/proc/kcore"* && $masked == *"/proc/keys"* && $masked == *"/proc/timer_list"* && $masked == *"/sys/firmware"* && $masked == *"/proc/acpi"* ]] ||
    fail "unexpected default maskedPaths: $masked"
  run nook run "$ID"
  assert_success
  assert_line "/proc/keys character special file 1:3 0"
  assert_line "/proc/timer_list character special file 1:3 0"
  for d in /proc/acpi /sys/firmware; do
    assert_equal "$(mnt "$output" $d fstype)" tmpfs
    assert_opt "$output" $d opts ro
  done
  assert_line 0
  assert_output --partial 'Read-only file system'
}

@test "default readonlyPaths (nook spec): read-only mounts, writes fail with EROFS" {
  # Opening for writing is enough (EROFS comes from open); nothing is written,
  # so a runtime that failed to make them read-only changes nothing.
  setup_bundle sh -c "$MOUNTINFO_SCRIPT; for f in /proc/irq/default_smp_affinity /proc/sys/kernel/printk_ratelimit; do ( exec 3>>\$f ) 2>&1 && echo \"\$f open-ok\"; done; true"
  local ro
  ro=$(jq -r '.linux.readonlyPaths[]' config.json)
  [[ $ro == *"/proc/sys"* && $ro == *"/proc/sysrq-trigger"* && $ro == *"/proc/bus"* && $ro == *"/proc/fs"* && $ro == *"/proc/irq"* ]] ||
    fail "unexpected default readonlyPaths: $ro"
  run nook run "$ID"
  assert_success
  # (this kernel has no /proc/sysrq-trigger: nothing to make read-only there)
  for p in /proc/sys /proc/sysrq-trigger /proc/bus /proc/fs /proc/irq; do
    [ -e $p ] || continue
    assert_opt "$output" $p opts ro
  done
  [ "$(grep -c 'Read-only file system' <<<"$output")" -eq 2 ] || fail "expected two EROFS: $output"
  refute_output --partial open-ok
}

# --- linux.sysctl ------------------------------------------------------------------

@test "sysctl: net.ipv4.ip_forward, kernel.shmmax, fs.mqueue.msg_max applied inside, not on the host" {
  local h_fwd h_shm h_msg
  h_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
  h_shm=$(cat /proc/sys/kernel/shmmax)
  h_msg=$(cat /proc/sys/fs/mqueue/msg_max)
  local want_fwd=$((1 - h_fwd)) want_msg=$((h_msg == 17 ? 18 : 17))
  setup_bundle cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max
  update_config "ns_add('network'); ns_add('ipc')
c['linux']['sysctl'] = {'net.ipv4.ip_forward': '$want_fwd', 'kernel.shmmax': '12345678', 'fs.mqueue.msg_max': '$want_msg'}"
  run nook run "$ID"
  assert_success
  assert_line --index 0 "$want_fwd"
  assert_line --index 1 12345678
  assert_line --index 2 "$want_msg"
  assert_equal "$(cat /proc/sys/net/ipv4/ip_forward)" "$h_fwd"
  assert_equal "$(cat /proc/sys/kernel/shmmax)" "$h_shm"
  assert_equal "$(cat /proc/sys/fs/mqueue/msg_max)" "$h_msg"
}

@test "sysctl: a key that is not namespaced is refused, naming the key" {
  local h_panic h_swap
  h_panic=$(cat /proc/sys/kernel/panic)
  h_swap=$(cat /proc/sys/vm/swappiness)
  SYSCTL_RESTORE=(/proc/sys/kernel/panic "$h_panic" /proc/sys/vm/swappiness "$h_swap")
  setup_bundle echo started
  update_config "c['linux']['sysctl'] = {'kernel.panic': '$((h_panic + 7))'}"
  run nook run "$ID"
  assert_failure
  refute_line started
  assert_output --partial kernel.panic

  update_config "c['linux']['sysctl'] = {'vm.swappiness': '$((h_swap == 60 ? 61 : 60))'}"
  run nook run "$ID"
  assert_failure
  refute_line started
  assert_output --partial vm.swappiness
  assert_equal "$(cat /proc/sys/kernel/panic)" "$h_panic"
  assert_equal "$(cat /proc/sys/vm/swappiness)" "$h_swap"
}

@test "sysctl: kernel.domainname and kernel.hostname only with a uts namespace" {
  local h_host h_dom
  h_host=$(cat /proc/sys/kernel/hostname)
  h_dom=$(cat /proc/sys/kernel/domainname)
  setup_bundle cat /proc/sys/kernel/domainname
  update_config 'c.pop("hostname", None); c.pop("domainname", None)
ns_add("uts")
c["linux"]["sysctl"] = {"kernel.domainname": "dom-sysctl"}'
  run nook run "$ID"
  assert_success
  assert_output dom-sysctl

  update_config 'ns_remove("uts")'
  run nook run "$ID"
  assert_failure
  refute_line dom-sysctl
  assert_output --partial kernel.domainname
  assert_equal "$(cat /proc/sys/kernel/domainname)" "$h_dom"

  skip_for_peer "runc refuses kernel.hostname (it conflicts with the hostname field, even when unset)"
  set_args cat /proc/sys/kernel/hostname
  update_config 'ns_add("uts")
c["linux"]["sysctl"] = {"kernel.hostname": "from-sysctl"}'
  run nook run "$ID"
  assert_success
  assert_output from-sysctl

  update_config 'ns_remove("uts")'
  run nook run "$ID"
  assert_failure
  refute_line from-sysctl
  assert_output --partial kernel.hostname
  assert_equal "$(cat /proc/sys/kernel/hostname)" "$h_host"
}
