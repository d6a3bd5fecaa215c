#!/bin/bash
# `make demo`: run one busybox container with ./nook and show, from inside,
# what makes it a container.  Everything lives in a temporary directory
# (bundle and the runtime's --root) that is removed afterwards.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
NOOK=${NOOK:-$repo/nook}
export NOOK

if [ ! -x "$NOOK" ]; then
  echo "demo: $NOOK is not built (run make)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "demo: run as root (containers need namespaces, mounts and cgroups)" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nook-demo.XXXXXX")
root=$tmp/state
id=nook-demo-$$
cleanup() {
  "$NOOK" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# What runs inside.  The host's namespace ids come in through the
# environment, so the container can put its own next to them.
read -r -d '' inside <<'EOF' || true
section() { printf '\n== %s ==\n' "$1"; }
section "hostname"
hostname
section "id"
id
section "PID 1"
echo "my pid (echo \$\$): $$"
echo "ps sees only this container's processes:"
ps -o pid,user,comm
section "mounts (/proc/self/mounts)"
cat /proc/self/mounts
section "namespaces: container vs host"
printf '%-8s %-24s %-24s %s\n' TYPE CONTAINER HOST ""
for ns in cgroup ipc mnt net pid user uts time; do
  mine=$(readlink /proc/self/ns/$ns)
  eval host=\$HOST_NS_$ns
  if [ "$mine" = "$host" ]; then what="shared with the host"; else what="new"; fi
  printf '%-8s %-24s %-24s %s\n' "$ns" "$mine" "$host" "$what"
done
EOF

echo "demo: building a busybox bundle in $tmp/bundle"
"$here/mkbundle.sh" "$tmp/bundle" sh -c "$inside"

host_env=""
for ns in cgroup ipc mnt net pid user uts time; do
  host_env+="HOST_NS_$ns=$(readlink /proc/$$/ns/$ns) "
done
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
"$PYTHON" - "$tmp/bundle/config.json" "$host_env" <<'PY'
import json, sys
path, host_env = sys.argv[1], sys.argv[2].split()
with open(path) as f:
    c = json.load(f)
c["hostname"] = "nook-demo"
c["process"]["env"] = c["process"].get("env", []) + host_env
nss = c.setdefault("linux", {}).setdefault("namespaces", [])
if not any(n["type"] == "cgroup" for n in nss):
    nss.append({"type": "cgroup"})
with open(path, "w") as f:
    json.dump(c, f, indent=2)
PY

echo "demo: $NOOK --root $root run --bundle $tmp/bundle $id"
status=0
"$NOOK" --root "$root" run --bundle "$tmp/bundle" "$id" </dev/null || status=$?
echo
echo "== exit status =="
echo "nook run exited with status $status"
exit "$status"
