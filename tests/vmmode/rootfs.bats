#!/usr/bin/env bats
# VM mode's root filesystem (issue #14): the bundle's rootfs and every bind
# source reach the guest through the container's one 9p share; root.readonly,
# binds of host directories and files (rbind, ro), the nook.rootfs.overlay
# annotation (a tmpfs upper in the guest) and vm.image (a virtio-blk root).
# Few boots: each test checks several things in one container run.

load helpers

setup_file() {
  kernel_bundle
}

setup() {
  setup_vm_bundle
  H=$BATS_TEST_TMPDIR/host
  mkdir "$H"
}

teardown() {
  delete_all
}

# The container's script: process.args = sh -c SCRIPT.
script() {
  vm_config ".process.args = [\"sh\", \"-c\", $(jq -Rs . <<<"$1")]"
}

@test "vm rootfs: root.readonly; binds of a host directory (rw, ro, rbind) and of a host file" {
  mkdir -p "$H/rw" "$H/ro" "$H/rb/sub"
  echo host-ro >"$H/ro/f"
  echo host-file >"$H/file"
  echo host-rb >"$H/rb/sub/f"
  mount -t tmpfs test-vmroot "$H/rb/sub"
  echo on-submount >"$H/rb/sub/g"
  vm_config ".root.readonly = true | .mounts += [
    {\"destination\": \"/rw\", \"type\": \"bind\", \"source\": \"$H/rw\", \"options\": [\"bind\"]},
    {\"destination\": \"/ro\", \"type\": \"bind\", \"source\": \"$H/ro\", \"options\": [\"bind\", \"ro\"]},
    {\"destination\": \"/etc/hostfile\", \"type\": \"bind\", \"source\": \"$H/file\", \"options\": [\"bind\"]},
    {\"destination\": \"/rb\", \"type\": \"bind\", \"source\": \"$H/rb\", \"options\": [\"rbind\"]}]"
  script '
    touch /root-write 2>/dev/null && echo root-writable
    echo from-guest >/rw/new && echo rw-ok
    cat /ro/f; echo x >/ro/g 2>/dev/null && echo ro-writable
    cat /etc/hostfile; [ -f /etc/hostfile ] && echo is-file
    echo appended >>/etc/hostfile && echo file-rw-ok
    cat /rb/sub/g
    grep -qw overlay /proc/filesystems || echo no-overlayfs
    grep -qw ext4 /proc/filesystems || echo no-ext4
    exit 0'
  run --separate-stderr nook run -b "$B" test-vmr1 </dev/null
  umount "$H/rb/sub"
  assert_success
  refute_line root-writable
  assert_line rw-ok
  assert_line host-ro
  refute_line ro-writable
  assert_line host-file
  assert_line is-file
  assert_line file-rw-ok
  assert_line on-submount
  # The guest loads only the modules the container needs: neither overlayfs
  # nor the disk's ext4 here (vmm/initramfs.h, enum vmm_guest_need).
  assert_line no-overlayfs
  assert_line no-ext4
  [ "$(cat "$H/rw/new")" = from-guest ]
  [ ! -e "$H/ro/g" ]
  [ ! -e "$B/rootfs/root-write" ]
  [ "$(tail -n1 "$H/file")" = appended ]
  assert_nothing_left
}

@test "vm rootfs: refused without a boot: a missing bind source (namespace mode's error), an overlay upper directory" {
  vm_config ".mounts += [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"$H/none\", \"options\": [\"bind\"]}]"
  run_ns_mode create test-vmr2
  local want=$output
  [[ $want == *"$H/none"* ]]
  run -1 nook create -b "$B" test-vmr2
  assert_output "$want"
  assert_nothing_left
  # A persistent overlay upper cannot be: only the guest's tmpfs.
  vm_config "del(.mounts[-1]) | .annotations[\"nook.rootfs.overlay\"] = \"$H\""
  run -1 nook create -b "$B" test-vmr2
  assert_output --partial 'nook.rootfs.overlay: VM mode supports only "tmpfs"'
  assert_nothing_left
}

@test "vm rootfs: nook.rootfs.overlay=tmpfs: the rootfs share is the lower, writes stay in the guest" {
  vm_config '.root.readonly = false | .annotations["nook.rootfs.overlay"] = "tmpfs" | .annotations["nook.rootfs.overlay.size"] = "8m"'
  script '
    echo new >/etc/overlay-new && cat /etc/overlay-new
    echo changed >/etc/passwd && cat /etc/passwd
    rm /bin/true && [ ! -e /bin/true ] && echo removed
    grep " / " /proc/mounts | cut -d" " -f3
    df -k / | tail -n1 | awk "{print \"size \" \$2}"
    grep -qw ext4 /proc/filesystems || echo no-ext4'
  local before
  before=$(cat "$B/rootfs/etc/passwd")
  run --separate-stderr nook run -b "$B" test-vmr3 </dev/null
  echo "$stderr"
  assert_success
  assert_line new
  assert_line changed
  assert_line removed
  assert_line overlay
  assert_line 'size 8192'
  assert_line no-ext4
  [ ! -e "$B/rootfs/etc/overlay-new" ]
  [ -e "$B/rootfs/bin/true" ]
  [ "$(cat "$B/rootfs/etc/passwd")" = "$before" ]
  assert_nothing_left
}

# disk_config FORMAT IMAGE: the bundle's config with vm.image, the kernel
# of scripts/vm-kernel's bundle as vm.kernel.path.
disk_config() {
  local kb
  kb=$("$NOOK_VM_KERNEL_SCRIPT")
  vm_config ".root.readonly = false | .vm = {\"kernel\": {\"path\": \"$kb/vmlinux\"},
    \"image\": {\"path\": \"$2\", \"format\": \"$1\"}} | .mounts += [
    {\"destination\": \"/rw\", \"type\": \"bind\", \"source\": \"$H\", \"options\": [\"bind\"]}]"
}

# make_image IMG [partitioned]: an ext4 image of the bundle's rootfs with
# a marker file: the whole disk, or (partitioned) the first partition of an
# MBR table (written by hand: util-linux's fdisk is not always installed).
make_image() {
  echo in-the-image >"$B/rootfs/from-image"
  if [ -n "${2:-}" ]; then
    truncate -s 40M "$1"
    mkfs.ext4 -q -F -E offset=1048576 -d "$B/rootfs" "$1" 32M
    # Entry 1: type 0x83, LBA 2048, 79872 sectors; then the signature.
    printf '\x00\x00\x00\x00\x83\x00\x00\x00\x00\x08\x00\x00\x00\x38\x01\x00' |
      dd of="$1" bs=1 seek=446 conv=notrunc status=none
    printf '\x55\xaa' | dd of="$1" bs=1 seek=510 conv=notrunc status=none
  else
    mkfs.ext4 -q -F -d "$B/rootfs" "$1" 32M
  fi
  rm "$B/rootfs/from-image"
}

@test "vm rootfs: vm.image raw: an ext4 disk is the root, writes land in the image; binds still work" {
  local img=$BATS_TEST_TMPDIR/root.img
  make_image "$img"
  disk_config raw "$img"
  script '
    cat /from-image
    echo written >/written && echo root-rw
    grep " / " /proc/mounts | cut -d" " -f3
    grep -qw overlay /proc/filesystems || echo no-overlayfs
    echo via-bind >/rw/out'
  run --separate-stderr nook run -b "$B" test-vmr4 </dev/null
  echo "$stderr"
  assert_success
  assert_line in-the-image
  assert_line root-rw
  assert_line ext4
  assert_line no-overlayfs
  [ "$(cat "$H/out")" = via-bind ]
  [ ! -e "$B/rootfs/written" ]
  run debugfs -R "cat /written" "$img"
  assert_line written
  assert_nothing_left
}

@test "vm rootfs: vm.image qcow2 of a partitioned disk: the first partition is the root" {
  command -v qemu-img >/dev/null || skip "qemu-img is missing (scripts/deps.sh installs qemu-utils)"
  local img=$BATS_TEST_TMPDIR/root.img
  make_image "$img" partitioned
  qemu-img convert -f raw -O qcow2 "$img" "$img.qcow2"
  disk_config qcow2 "$img.qcow2"
  script 'cat /from-image; grep " / " /proc/mounts | cut -d" " -f3'
  run --separate-stderr nook run -b "$B" test-vmr5 </dev/null
  echo "$stderr"
  assert_success
  assert_line in-the-image
  assert_line ext4
  assert_nothing_left
}
