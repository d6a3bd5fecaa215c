#!/bin/bash
# Install every build and test dependency of nook on Debian 12.
# Idempotent: when everything is already installed it does not touch apt (or
# npm) at all.  Non-interactive (CI runs it as root with no stdin and no tty).
set -euo pipefail

PKGS=(
  # build
  build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libcgroup-dev
  # the systemd cgroup driver: sd-bus's header at build time, the library
  # (dlopen'ed when the driver is used) at run time
  libsystemd-dev libsystemd0
  clang clang-format valgrind
  # tests
  bats bats-assert bats-support busybox-static python3 jq
  iproute2 util-linux bsdutils procps coreutils
  # nook job --net pasta (userspace networking)
  passt
  # the cgroup v2 test VM (tests/vm/run)
  qemu-system-x86 xz-utils cpio kmod
  # VM mode's vm.image tests (qcow2 images)
  qemu-utils
  # peers the integration suite can be pointed at (NOOK=/usr/sbin/runc)
  runc crun
  # the engine suite (tests/engines): engines driving nook, and the image tools
  podman containerd docker.io umoci skopeo
  # its CRI file (tests/engines/cri.bats): pod networks, the CRI client's
  # runtime (npm packages below) and its callers' transport
  containernetworking-plugins nodejs curl
  # the rootless pass (tests/rootless): newuidmap/newgidmap for ranged user namespaces
  uidmap
  # make bench: the syscall table and the chart
  strace gnuplot-nox
)

missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done
# npm comes with some builds of nodejs and is a package of its own in Debian's.
command -v npm >/dev/null 2>&1 || missing+=(npm)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The npm packages of the CRI test client (tests/engines/cri), exactly as
# package-lock.json pins them; again only when the lock file changed.
npm_deps() {
  local dir=$here/../tests/engines/cri stamp want
  stamp=$dir/node_modules/.nook-lock.sha256
  want=$(sha256sum <"$dir/package-lock.json")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "deps: npm packages of tests/engines/cri present"
    return 0
  fi
  echo "deps: npm ci in tests/engines/cri"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund </dev/null)
  echo "$want" >"$stamp"
}

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} packages present"
  npm_deps
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
npm_deps
echo "deps: done"
