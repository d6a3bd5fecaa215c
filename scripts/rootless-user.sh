#!/bin/bash
# scripts/rootless-user.sh [NAME]
# Make sure the unprivileged user the rootless tests run as exists (default
# name nook-rootless), with a home directory and subordinate uid and gid
# ranges in /etc/subuid and /etc/subgid (for newuidmap/newgidmap: Debian's
# uidmap package, scripts/deps.sh).  Idempotent: a user and ranges already
# there are left as they are.  Prints "NAME UID GID SUBUID_START SUBGID_START
# COUNT" as its last line.  Needs root.
set -euo pipefail

name=${1:-nook-rootless}
count=65536

if [ "$(id -u)" -ne 0 ]; then
  echo "rootless-user: needs root (it adds a user and /etc/subuid ranges)" >&2
  exit 1
fi

exec {lockfd}>/run/nook-rootless-user.lock
flock "$lockfd"

if ! getent passwd "$name" >/dev/null; then
  # -K: no automatic subordinate ranges; they are added below, the same way
  # whether the user is new or not.
  useradd --create-home --user-group --shell /bin/bash -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 \
    --comment "nook rootless tests" "$name"
fi
home=$(getent passwd "$name" | cut -d: -f6)
uid=$(id -u "$name")
gid=$(id -g "$name")
if [ ! -d "$home" ]; then
  mkdir -p "$home"
  chown "$uid:$gid" "$home"
fi
chmod 0755 "$home"

# ensure_range FILE: NAME's line in FILE, else a new range above every range
# there (and above 100000, login.defs' SUB_UID_MIN), so no two users share ids.
ensure_range() {
  local file=$1 start
  touch "$file"
  start=$(awk -F: -v n="$name" '$1 == n { print $2; exit }' "$file")
  if [ -z "$start" ]; then
    start=$(awk -F: 'BEGIN { m = 100000 } { e = $2 + $3; if (e > m) m = e } END { print m }' "$file")
    printf '%s:%s:%s\n' "$name" "$start" "$count" >>"$file"
  fi
  echo "$start"
}
subuid=$(ensure_range /etc/subuid)
subgid=$(ensure_range /etc/subgid)

echo "$name $uid $gid $subuid $subgid $count"
