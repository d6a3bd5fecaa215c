#include "rootless.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/utils.h"

/* PROC_USER_INIT_INO: the kernel gives the initial user namespace this
 * fixed inode number (include/linux/proc_ns.h, stable since Linux 3.8). */
#define INIT_USER_NS_INO 0xEFFFFFFDU

bool nook_rootless_detect(void)
{
  if (geteuid() != 0)
    return true;
  struct stat st;
  if (stat("/proc/self/ns/user", &st) < 0 || st.st_ino == INIT_USER_NS_INO)
    return false;
  /* In a user namespace, as its uid 0.  Sysctl files belong to the host's
   * root in every namespace; the kernel shows that owner as the uid it has
   * here, or as the overflow uid when the namespace does not map it. */
  if (stat("/proc/sys/kernel/overflowuid", &st) < 0)
    return true;
  return st.st_uid != 0;
}

bool rootless_cgroup_denied(const nook_error_t err)
{
  return err && (err->status == EACCES || err->status == EPERM || err->status == EROFS);
}

int rootless_apply_resources(const struct cgroup_manager *cgm, const struct cgroup_paths *p,
                             const struct oci_resources *r, const char *why, nook_error_t *err)
{
  cleanup_free struct cgroup_resource_group *g = NULL;
  size_t n = 0;
  cgroup_resources_split(r, &g, &n);
  for (size_t i = 0; i < n; i++) {
    if (p == NULL) {
      nook_warn("%s: not applied: %s", g[i].field, why);
      continue;
    }
    bool has;
    if (cgroup_has_controller(p, g[i].controller, &has, err) < 0)
      return nook_error_wrap(err, "%s", g[i].field);
    if (!has) {
      nook_warn("%s: not applied: running rootless, and the %s controller is not enabled for "
                "`%s` (the cgroup subtree delegated to the user does not have it)",
                g[i].field, g[i].controller, p->unified);
      continue;
    }
    if (cgm->apply(p, &g[i].r, err) < 0) {
      if (!rootless_cgroup_denied(*err))
        return -1;
      cleanup_free char *text = nook_error_text(*err);
      nook_error_free(err);
      nook_warn("%s: not applied: running rootless, and the kernel refused the write (%s)",
                g[i].field, text);
    }
  }
  return 0;
}

static bool same_ns(const char *path, const struct stat *ns)
{
  struct stat st;
  return stat(path, &st) == 0 && st.st_dev == ns->st_dev && st.st_ino == ns->st_ino;
}

int rootless_container_pids(const struct nook_state *st, pid_t **out, size_t *n, nook_error_t *err)
{
  *out = NULL;
  *n = 0;
  char path[64];
  struct stat ns;
  snprintf(path, sizeof(path), "/proc/%d/ns/pid", (int)st->pid);
  if (st->pid <= 0 || stat(path, &ns) < 0 || proc_start_time(st->pid) != st->pid_start)
    return 0;
  *out = xmalloc(sizeof(**out));
  (*out)[(*n)++] = st->pid;
  if (same_ns("/proc/self/ns/pid", &ns))
    return 0;
  DIR *d = opendir("/proc");
  if (d == NULL)
    return nook_error(err, errno, "open /proc");
  struct dirent *de;
  size_t cap = 1;
  while ((de = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || pid == st->pid)
      continue;
    snprintf(path, sizeof(path), "/proc/%ld/ns/pid", pid);
    /* Zombies too are left out: an exited task leaves cgroup.procs, and an
     * exec'd process reparented to an init that never reaps lingers so. */
    if (!same_ns(path, &ns) || proc_start_time((pid_t)pid) == 0)
      continue;
    if (*n == cap) {
      cap *= 2;
      *out = xrealloc(*out, cap * sizeof(**out));
    }
    (*out)[(*n)++] = (pid_t)pid;
  }
  closedir(d);
  return 0;
}
