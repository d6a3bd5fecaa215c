#!/bin/bash
# mkbundle.sh DIR [ARGS...]
# Build an OCI bundle in DIR: DIR/rootfs (busybox-static, one symlink per
# applet, /etc/passwd and /etc/group with root, nobody and tester) and
# DIR/config.json from `$NOOK spec`, with process.args set to ARGS (default
# `sh`) and process.terminal false.
#
# The rootfs is built once into a cache directory ($NOOK_BUNDLE_CACHE,
# default tests/.work/rootfs-cache in the repo) and copied per bundle.
# $NOOK is the runtime whose `spec` produces config.json (default: the repo's
# ./nook).
set -euo pipefail

if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [ARGS...]" >&2
  exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
dir=$1
shift
[ $# -gt 0 ] || set -- sh

NOOK=${NOOK:-$repo/nook}
BUSYBOX=${BUSYBOX:-/bin/busybox}
cache=${NOOK_BUNDLE_CACHE:-$repo/tests/.work/rootfs-cache}

if [ ! -x "$BUSYBOX" ] || ! "$BUSYBOX" --list >/dev/null 2>&1; then
  echo "mkbundle: $BUSYBOX is missing or not a busybox (install busybox-static: scripts/deps.sh)" >&2
  exit 1
fi
if file_out=$(LC_ALL=C ldd "$BUSYBOX" 2>&1) && [[ $file_out != *"not a dynamic"* ]]; then
  echo "mkbundle: $BUSYBOX is dynamically linked; the rootfs needs busybox-static" >&2
  exit 1
fi

# The cache is keyed on the busybox binary and this script, so an upgrade of
# either rebuilds it.
key=$(cat "$BUSYBOX" "${BASH_SOURCE[0]}" | md5sum | cut -c1-16)
cached=$cache/$key

build_rootfs() {
  local r=$1
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,proc,sys,dev,root,home/tester,var/tmp,run}
  chmod 1777 "$r/tmp" "$r/var/tmp"
  chmod 0700 "$r/root"
  cp "$BUSYBOX" "$r/bin/busybox"
  chmod 0755 "$r/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] && continue
    ln -sf busybox "$r/bin/$applet"
  done
  cat >"$r/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:tester:/home/tester:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
  cat >"$r/etc/group" <<'GROUP'
root:x:0:
tester:x:1000:
nogroup:x:65534:
GROUP
  chown 1000:1000 "$r/home/tester"
  echo "nook-test" >"$r/etc/hostname"
  : >"$r/etc/hosts"
  : >"$r/etc/resolv.conf"
}

if [ ! -d "$cached" ]; then
  mkdir -p "$cache"
  # Several bundles may be made at once (parallel bats): build under a lock
  # into a private dir and rename it into place.
  exec {lockfd}>"$cache/.lock"
  flock "$lockfd"
  if [ ! -d "$cached" ]; then
    tmp=$(mktemp -d "$cache/.build.XXXXXX")
    build_rootfs "$tmp"
    chmod 0755 "$tmp"
    mv "$tmp" "$cached"
    # Drop caches of older busybox/script versions.
    find "$cache" -mindepth 1 -maxdepth 1 -type d ! -name "$key" -exec rm -rf {} + 2>/dev/null || true
  fi
  flock -u "$lockfd"
  exec {lockfd}>&-
fi

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
rm -rf "$dir/rootfs" "$dir/config.json"
# Hardlink the tree (creating ~400 applet symlinks one by one is slow on some
# filesystems), then give the bundle private copies of the regular files so
# that nothing a container writes can reach the cache.
if cp -al "$cached" "$dir/rootfs" 2>/dev/null; then
  (cd "$cached" && find . -type f -print0 | xargs -0 cp -a --parents --remove-destination -t "$dir/rootfs")
else
  rm -rf "$dir/rootfs"
  cp -a "$cached" "$dir/rootfs"
fi

if [ ! -x "$NOOK" ]; then
  echo "mkbundle: runtime $NOOK not found or not executable (build it with make, or set NOOK=)" >&2
  exit 1
fi
(cd "$dir" && "$NOOK" spec) || {
  echo "mkbundle: \`$NOOK spec\` failed" >&2
  exit 1
}

PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
"$PYTHON" - "$dir/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:]
with open(path) as f:
    c = json.load(f)
p = c.setdefault("process", {})
p["args"] = args
p["terminal"] = False
c.setdefault("root", {})["path"] = "rootfs"
with open(path, "w") as f:
    json.dump(c, f, indent=2)
    f.write("\n")
PY
