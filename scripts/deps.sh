#!/bin/bash
# Install every build and test dependency of nook on Debian 12.
# Idempotent: when everything is already installed it does not touch apt at
# all.  Non-interactive (CI runs it as root with no stdin and no tty).
set -euo pipefail

PKGS=(
  # build
  build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libmnl-dev libcgroup-dev
  clang clang-format valgrind
  # tests
  bats bats-assert bats-support busybox-static python3 jq
  iproute2 util-linux bsdutils procps coreutils
  # the cgroup v2 test VM (tests/vm/run)
  qemu-system-x86 xz-utils cpio kmod
  # VM mode's vm.image tests (qcow2 images)
  qemu-utils
  # peers the integration suite can be pointed at (NOOK=/usr/sbin/runc)
  runc crun
  # the engine suite (tests/engines): engines driving nook, and the image tools
  podman containerd docker.io umoci skopeo
  # make bench: the syscall table and the chart
  strace gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
  else
    echo "deps: missing packages and not root: ${missing[*]}" >&2
    exit 1
  fi
else
  SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# Refresh the package lists once when they are missing or older than a day.
lists=/var/lib/apt/lists
if [ -z "$(find "$lists" -maxdepth 1 -name '*_Packages' -mmin -1440 2>/dev/null | head -n1)" ]; then
  "${SUDO[@]}" apt-get update -q </dev/null
fi

if ! "${SUDO[@]}" apt-get install "${APT_OPTS[@]}" "${missing[@]}" </dev/null; then
  # Lists may be stale despite their age (a mirror moved on): refresh once and retry.
  "${SUDO[@]}" apt-get update -q </dev/null
  "${SUDO[@]}" apt-get install "${APT_OPTS[@]}" "${missing[@]}" </dev/null
fi
echo "deps: done"
