#include "idmap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/capture.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "process.h"

bool mount_wants_idmap(const struct oci_mount *m)
{
  if (m->n_uid_mappings || m->n_gid_mappings)
    return true;
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp(m->options[i], "idmap") == 0 || strcmp(m->options[i], "ridmap") == 0)
      return true;
  return false;
}

static bool has_option(const struct oci_mount *m, const char *opt)
{
  for (size_t i = 0; i < m->n_options; i++)
    if (strcmp(m->options[i], opt) == 0)
      return true;
  return false;
}

static bool mount_is_bind(const struct oci_mount *m)
{
  return has_option(m, "bind") || has_option(m, "rbind") ||
         (m->type && strcmp(m->type, "bind") == 0);
}

bool mount_from_runtime(const struct oci_mount *m, bool in_userns)
{
  if (mount_wants_idmap(m))
    return true;
  return in_userns && m->source && mount_is_bind(m) && !has_option(m, "remount");
}

int bind_prepare_mount(const struct oci_mount *m, size_t idx, int *out, nook_error_t *err)
{
  int flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (has_option(m, "rbind") ? AT_RECURSIVE : 0);
  int tree = sys_open_tree(AT_FDCWD, m->source, flags);
  if (tree < 0)
    return nook_error(err, errno, "mounts[%zu] (bind on %s): bind source `%s`", idx, m->destination,
                      m->source);
  *out = tree;
  return 0;
}

/* The uidmap package's setuid helpers, where a distribution puts them. */
static char *find_helper(const char *name)
{
  const char *path = getenv("PATH");
  cleanup_free char *dirs = NULL;
  xasprintf(&dirs, "%s:/usr/bin:/bin:/usr/sbin:/sbin", path && *path ? path : "");
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char *p = NULL;
    xasprintf(&p, "%s/%s", d, name);
    if (*d == '/' && access(p, X_OK) == 0)
      return p;
    free(p);
  }
  return NULL;
}

/* Ranges need the setuid newuidmap/newgidmap, which check them against
 * /etc/subuid and /etc/subgid (a rootless user has no CAP_SETUID of its
 * own). */
static int write_id_map_helper(pid_t pid, bool gid, const struct oci_id_mapping *m, size_t n,
                               nook_error_t *err)
{
  const char *name = gid ? "newgidmap" : "newuidmap";
  cleanup_free char *helper = find_helper(name);
  if (helper == NULL)
    return nook_error(err, 0,
                      "mapping more than the user's own %s needs %s (the uidmap package) and a "
                      "range in %s: %s not found",
                      gid ? "gid" : "uid", name, gid ? "/etc/subgid" : "/etc/subuid", name);
  char **argv = xcalloc(3 * n + 3, sizeof(char *));
  size_t k = 0;
  argv[k++] = xstrdup(helper);
  xasprintf(&argv[k++], "%d", (int)pid);
  for (size_t i = 0; i < n; i++) {
    xasprintf(&argv[k++], "%u", m[i].container_id);
    xasprintf(&argv[k++], "%u", m[i].host_id);
    xasprintf(&argv[k++], "%u", m[i].size);
  }
  cleanup_free char *out = NULL;
  int r = run_capture_merged(argv, &out, err);
  strv_free(argv);
  return r < 0 ? -1 : 0;
}

int write_id_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                 nook_error_t *err)
{
  char path[64];
  bool gid = strcmp(file, "gid_map") == 0;
  /* Without CAP_SETUID (CAP_SETGID) over our own user namespace, the
   * kernel takes one line mapping our own effective id, and for gid_map
   * only once setgroups is denied (else a user could drop a group it is
   * denied by). */
  if (!process_has_cap(gid ? CAP_SETGID : CAP_SETUID)) {
    unsigned own = gid ? (unsigned)getegid() : (unsigned)geteuid();
    if (n != 1 || m[0].size != 1 || m[0].host_id != own)
      return write_id_map_helper(pid, gid, m, n, err);
    snprintf(path, sizeof(path), "/proc/%d/setgroups", pid);
    if (gid && write_file_at(AT_FDCWD, path, 0, 0, "deny", 4, err) < 0)
      return -1;
  }
  size_t cap = 40 * (n ? n : 1), len = 0;
  cleanup_free char *buf = xmalloc(cap);
  for (size_t i = 0; i < n; i++)
    len += (size_t)snprintf(buf + len, cap - len, "%u %u %u\n", m[i].container_id, m[i].host_id,
                            m[i].size);
  snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
  return write_file_at(AT_FDCWD, path, 0, 0, buf, len, err);
}

/* A user namespace carrying just these mappings: a child that does nothing
 * but exist in it long enough for us to write its maps and open it. */
static int userns_with_mappings(const struct oci_mount *m, int *out, nook_error_t *err)
{
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return nook_error(err, errno, "pipe");
  struct clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
  pid_t pid = (pid_t)sys_clone3(&args, sizeof(args));
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return nook_error(err, errno, "clone a user namespace for an idmapped mount");
  }
  if (pid == 0) {
    char c;
    close(pipefd[1]);
    while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
      ;
    _exit(0);
  }
  close(pipefd[0]);
  int ret = -1;
  char path[64];
  if (write_id_map(pid, "uid_map", m->uid_mappings, m->n_uid_mappings, err) < 0 ||
      write_id_map(pid, "gid_map", m->gid_mappings, m->n_gid_mappings, err) < 0)
    goto out;
  snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
  *out = open(path, O_RDONLY | O_CLOEXEC);
  if (*out < 0) {
    nook_error(err, errno, "open `%s`", path);
    goto out;
  }
  ret = 0;
out:
  close(pipefd[1]);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
    ;
  return ret;
}

int idmap_prepare_mount(const struct oci_mount *m, size_t idx, pid_t pid, bool has_userns, int *out,
                        nook_error_t *err)
{
  bool recursive = has_option(m, "ridmap");
  bool rbind = has_option(m, "rbind");
  cleanup_close int userns = -1;
  if (m->n_uid_mappings != m->n_gid_mappings && (!m->n_uid_mappings || !m->n_gid_mappings))
    return nook_error(err, 0, "mounts[%zu]: uidMappings and gidMappings go together", idx);
  bool bind = has_option(m, "bind") || rbind || (m->type && strcmp(m->type, "bind") == 0);
  if (!bind)
    return nook_error(err, EINVAL, "mounts[%zu]: idmap applies to bind mounts", idx);
  if (m->n_uid_mappings) {
    if (userns_with_mappings(m, &userns, err) < 0)
      return nook_error_wrap(err, "mounts[%zu]", idx);
  } else {
    if (!has_userns)
      return nook_error(err, 0,
                        "mounts[%zu]: idmap without uidMappings/gidMappings needs a user "
                        "namespace",
                        idx);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
    userns = open(path, O_RDONLY | O_CLOEXEC);
    if (userns < 0)
      return nook_error(err, errno, "mounts[%zu]: open `%s`", idx, path);
  }
  cleanup_close int tree = sys_open_tree(
      AT_FDCWD, m->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (rbind ? AT_RECURSIVE : 0));
  if (tree < 0 && errno == EPERM)
    return nook_error(err, errno,
                      "mounts[%zu]: open_tree `%s`: an idmapped mount is made by the runtime, "
                      "which needs CAP_SYS_ADMIN over its mount namespace (a rootless runtime "
                      "has none)",
                      idx, m->source);
  if (tree < 0)
    return nook_error(err, errno, "mounts[%zu]: open_tree `%s`", idx, m->source);
  struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns};
  if (sys_mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a) < 0) {
    if (errno == EPERM)
      return nook_error(err, errno,
                        "mounts[%zu]: idmap `%s`: the kernel lets only a process with "
                        "CAP_SYS_ADMIN over the user namespace that mounted a filesystem idmap "
                        "it (rootless: a filesystem mounted in the runtime's own user namespace)",
                        idx, m->source);
    return nook_error(err, errno, "mounts[%zu]: idmap `%s`", idx, m->source);
  }
  *out = steal_fd(&tree);
  return 0;
}
