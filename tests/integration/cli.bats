#!/usr/bin/env bats
# spec, features, list, --version, --help, --no-new-keyring.

load helpers

@test "spec: writes a default config.json in the cwd" {
  mkdir -p "$BATS_TEST_TMPDIR/sp"
  cd "$BATS_TEST_TMPDIR/sp"
  run nook spec
  assert_success
  [ -s config.json ]
  run jq -r '.ociVersion, (.process.args | join(" ")), .process.terminal, .root.path, .root.readonly, .process.cwd, .process.noNewPrivileges' config.json
  assert_success
  assert_line --index 0 --regexp '^1\.[0-9]+\.[0-9]+'
  assert_line --index 1 sh
  assert_line --index 2 true
  assert_line --index 3 rootfs
  assert_line --index 4 true
  assert_line --index 5 /
  assert_line --index 6 true
}

@test "spec: default namespaces, mounts, capabilities, masked and read-only paths" {
  mkdir -p "$BATS_TEST_TMPDIR/sp"
  cd "$BATS_TEST_TMPDIR/sp"
  nook spec
  run jq -r '.linux.namespaces[].type' config.json
  for t in pid network ipc uts mount; do assert_line "$t"; done
  run jq -r '.mounts[].destination' config.json
  for m in /proc /dev /dev/pts /dev/shm /dev/mqueue /sys; do assert_line "$m"; done
  run jq -r '.process.capabilities.bounding[]' config.json
  for cap in CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE; do assert_line "$cap"; done
  run jq -r '.linux.maskedPaths[]' config.json
  assert_line /proc/kcore
  assert_line /proc/keys
  run jq -r '.linux.readonlyPaths[]' config.json
  assert_line /proc/sys
  assert_line /proc/sysrq-trigger
  run jq -r '.process.rlimits[] | select(.type == "RLIMIT_NOFILE") | "\(.soft) \(.hard)"' config.json
  assert_output "1024 1024"
}

@test "spec --bundle DIR and -b DIR: write there" {
  mkdir -p "$BATS_TEST_TMPDIR/b1" "$BATS_TEST_TMPDIR/b2"
  cd /
  run nook spec --bundle "$BATS_TEST_TMPDIR/b1"
  assert_success
  jq -e .ociVersion "$BATS_TEST_TMPDIR/b1/config.json" >/dev/null
  run nook spec -b "$BATS_TEST_TMPDIR/b2"
  assert_success
  jq -e .ociVersion "$BATS_TEST_TMPDIR/b2/config.json" >/dev/null
  [ ! -e /config.json ]
}

@test "spec -b DIR: creates DIR when it does not exist (not its parents)" {
  skip_for_peer "runc fails when the bundle directory does not exist"
  cd /
  run nook spec -b "$BATS_TEST_TMPDIR/new"
  assert_success
  jq -e .ociVersion "$BATS_TEST_TMPDIR/new/config.json" >/dev/null
  [ "$(stat -c %a "$BATS_TEST_TMPDIR/new")" = 755 ]
  # A missing parent is an error naming the option and the directory.
  run nook spec -b "$BATS_TEST_TMPDIR/no/such"
  assert_failure
  assert_output --partial "--bundle $BATS_TEST_TMPDIR/no/such: create the directory"
  [ ! -e "$BATS_TEST_TMPDIR/no" ]
}

@test "spec: refuses to overwrite an existing config.json" {
  mkdir -p "$BATS_TEST_TMPDIR/sp"
  cd "$BATS_TEST_TMPDIR/sp"
  echo '{"keep": "me"}' >config.json
  run nook spec
  assert_failure
  assert_output --partial config.json
  assert_equal "$(jq -r .keep config.json)" me
}

@test "spec --rootless: user namespace mapping the caller, no network namespace" {
  mkdir -p "$BATS_TEST_TMPDIR/sp"
  cd "$BATS_TEST_TMPDIR/sp"
  run nook spec --rootless
  assert_success
  run jq -r '.linux.namespaces[].type' config.json
  assert_line user
  refute_line network
  run jq -r '.linux.uidMappings[0] | "\(.containerID) \(.hostID) \(.size)"' config.json
  assert_output "0 $(id -u) 1"
  run jq -r '.linux.gidMappings[0] | "\(.containerID) \(.hostID) \(.size)"' config.json
  assert_output "0 $(id -g) 1"
  # /sys is bind-mounted (sysfs cannot be mounted without a netns of our own)
  run jq -r '.mounts[] | select(.destination == "/sys") | .options | index("rbind") != null' config.json
  assert_output true
}

@test "spec: the generated config runs a container" {
  setup_bundle sh -c 'echo default-spec-ok'
  run nook run "$ID"
  assert_success
  assert_output default-spec-ok
}

@test "features: JSON with versions, hooks, mount options, namespaces, capabilities" {
  run nook features
  assert_success
  f=$output
  [[ $(jq -r .ociVersionMin <<<"$f") =~ ^1\.[0-9]+\.[0-9]+ ]]
  [[ $(jq -r .ociVersionMax <<<"$f") =~ ^1\.[0-9]+\.[0-9]+ ]]
  run jq -r '.hooks[]' <<<"$f"
  for h in prestart createRuntime createContainer startContainer poststart poststop; do assert_line "$h"; done
  run jq -r '.mountOptions[]' <<<"$f"
  for o in ro rw bind rbind nosuid nodev noexec; do assert_line "$o"; done
  run jq -r '.linux.namespaces[]' <<<"$f"
  for t in cgroup ipc mount network pid user uts; do assert_line "$t"; done
  run jq -r '.linux.capabilities[]' <<<"$f"
  for cap in CAP_CHOWN CAP_KILL CAP_SYS_ADMIN CAP_NET_BIND_SERVICE; do assert_line "$cap"; done
}

@test "features: nook reports the time namespace it implements" {
  skip_for_peer "runc 1.1 has no time namespace support"
  run nook features
  assert_success
  run jq -r '.linux.namespaces[]' <<<"$output"
  assert_line time
}

@test "features: VM mode's backends and accelerator, as this host has them" {
  is_peer_runtime && skip "VM mode is nook's"
  run nook features
  assert_success
  f=$output
  accel=$(jq -r '.annotations["io.github.nook.vm.accel"]' <<<"$f")
  backends=$(jq -r '.annotations["io.github.nook.vm.backends"]' <<<"$f")
  # KVM only where /dev/kvm exists and the CPU has hardware virtualisation.
  if [ -c /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
    [[ $accel == kvm || $accel == tcg ]]
  else
    assert_equal "$accel" tcg
  fi
  if command -v qemu-system-x86_64 >/dev/null; then
    assert_equal "$backends" qemu
  else
    assert_equal "$backends" ""
  fi
  # Without QEMU on PATH no backend is usable, and features says so.
  run env PATH=/nonexistent "$NOOK" features
  assert_success
  assert_equal "$(jq -r '.annotations["io.github.nook.vm.backends"]' <<<"$output")" ""
}

@test "make install: nook-vm is a symlink to nook, and answers as nook does" {
  is_peer_runtime && skip "nook's install"
  dest=$BATS_TEST_TMPDIR/dest
  # -o nook: install the binary as built; the test must not rebuild the tree.
  run make -s -C "$REPO_ROOT" install DESTDIR="$dest" PREFIX=/usr -o nook
  assert_success
  assert_equal "$(readlink "$dest/usr/sbin/nook-vm")" nook
  [ -x "$dest/usr/sbin/nook" ]
  run "$dest/usr/sbin/nook-vm" --version
  assert_success
  assert_line --index 0 --regexp '^nook version '
  run "$dest/usr/sbin/nook-vm" --debug --root "$NOOK_ROOT" list
  assert_success
  assert_output --partial "VM mode (nook-vm)"
  run "$dest/usr/sbin/nook" --debug --root "$NOOK_ROOT" list
  assert_success
  refute_output --partial "VM mode"
}

@test "list: a table with a row per container" {
  setup_bundle sleep 100
  run_detached "$ID"
  create_container "$ID2"
  pid=$(state_field "$ID" pid)
  run nook list
  assert_success
  assert_line --index 0 --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'
  assert_line --regexp "^$ID +$pid +running +$BUNDLE +[0-9]{4}-[0-9]{2}-[0-9]{2}T[^ ]+ +root$"
  assert_line --regexp "^$ID2 +[0-9]+ +created +$BUNDLE +[^ ]+ +root$"
}

@test "list -q: only the ids" {
  setup_bundle sleep 100
  run_detached "$ID"
  run_detached "$ID2"
  run nook list -q
  assert_success
  assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "$(printf '%s\n' "$ID" "$ID2" | sort | tr '\n' ' ')"
  run nook list --quiet
  assert_success
  assert_line "$ID"
}

@test "list: containers in the order of their ids (table, -q, json)" {
  setup_bundle sleep 100
  local ids=("$ID-a" "$ID-b" "$ID-c" "$ID-d" "$ID-e") id sorted
  for id in "${ids[@]}"; do
    create_container "$id"
  done
  sorted=$(printf '%s\n' "${ids[@]}" | LC_ALL=C sort)
  run nook list -q
  assert_success
  assert_output "$sorted"
  run nook list
  assert_success
  assert_equal "$(tail -n +2 <<<"$output" | awk '{ print $1 }')" "$sorted"
  run nook list --format json
  assert_success
  assert_equal "$(jq -r '.[].id' <<<"$output")" "$sorted"
}

@test "list --format json: one object per container with the state fields" {
  setup_bundle sleep 100
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  run nook list --format json
  assert_success
  run jq -r --arg id "$ID" '.[] | select(.id == $id) | "\(.pid) \(.status) \(.bundle) \(.owner)"' <<<"$output"
  assert_output "$pid running $BUNDLE root"
  run nook list -f json
  assert_success
  run jq -r '.[0].created' <<<"$output"
  assert_output --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
}

@test "list: a stopped container shows as stopped" {
  setup_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook list
  assert_line --regexp "^$ID +[0-9]+ +stopped "
}

@test "list: an empty or missing root lists nothing" {
  NOOK_ROOT=$BATS_TEST_TMPDIR/missing-root
  run nook list
  assert_success
  assert_output --regexp '^ID +PID +STATUS +BUNDLE +CREATED +OWNER$'
  run nook list -q
  assert_success
  assert_output ""
  run nook list --format json
  assert_success
  assert_equal "$(jq 'if . == null then 0 else length end' <<<"$output")" 0
}

@test "state: pretty JSON with the runtime-spec fields and runc's extras" {
  setup_bundle sleep 100
  create_container "$ID"
  run nook state "$ID"
  assert_success
  jq -e 'has("ociVersion") and has("id") and has("status") and has("pid") and has("bundle")' <<<"$output" >/dev/null
  assert_equal "$(jq -r .rootfs <<<"$output")" "$BUNDLE/rootfs"
  [[ $(jq -r .created <<<"$output") =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
  # multi-line (indented), as runc prints it
  [ "${#lines[@]}" -gt 3 ]
}

@test "--version prints the version and the spec version" {
  run nook --version
  assert_success
  assert_line --index 0 --regexp 'version [0-9]+\.[0-9]+\.[0-9]+'
  assert_line --regexp '^spec: 1\.[0-9]+\.[0-9]+'
  run "$NOOK" -v
  assert_success
  assert_line --index 0 --regexp 'version [0-9]+\.[0-9]+\.[0-9]+'
}

@test "--help lists the commands" {
  run "$NOOK" --help
  assert_success
  for cmd in create start run state kill delete list spec features; do
    assert_output --regexp "(^|[[:space:]])$cmd([[:space:],]|$)"
  done
}

@test "--root: the state lives under the given root" {
  setup_bundle sleep 100
  create_container "$ID"
  [ -d "$NOOK_ROOT/$ID" ]
  run "$NOOK" --root "$BATS_TEST_TMPDIR/other-root" state "$ID"
  assert_failure
}

@test "--no-new-keyring: the container keeps the caller's session keyring" {
  setup_bundle cat /proc/keys
  update_config 'c["linux"]["maskedPaths"] = [p for p in c["linux"]["maskedPaths"] if p != "/proc/keys"]'
  # by default a new session keyring, named after the container, is joined
  run nook run "$ID"
  assert_success
  assert_output --regexp "keyring +_ses\\.$ID:"
  run nook run --no-new-keyring "$ID2"
  assert_success
  refute_output --partial "$ID2"
}
