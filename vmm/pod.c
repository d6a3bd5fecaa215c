/* Pods in VM mode: a member's create on the host, and the monitor's mounts
 * of members' shares (pod.h). */
#include "pod.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/fdpass.h"
#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../libcontainer/hooks.h"
#include "../libcontainer/state.h"
#include "channel.h"
#include "container.h"
#include "guest.h"
#include "guest_ctr.h"
#include "lifecycle.h"
#include "mode.h"
#include "monitor.h"
#include "proxy.h"
#include "share.h"

/* ---- which pod ------------------------------------------------------------ */

/* PID of a path /proc/PID/ns/NAME, else 0. */
static pid_t ns_path_pid(const char *path, const char *name)
{
  int pid = 0, used = -1;
  if (sscanf(path, "/proc/%d/ns/%n", &pid, &used) != 1 || used < 0 || pid <= 0 ||
      strcmp(path + used, name) != 0)
    return 0;
  return pid;
}

/* The VM-mode container under root whose pid is pid (its monitor), or
 * NULL. */
static char *vm_container_of(const char *root, pid_t pid)
{
  DIR *d = opendir(root);
  if (d == NULL)
    return NULL;
  char *found = NULL;
  struct dirent *e;
  while (found == NULL && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || nook_validate_id(e->d_name, NULL) < 0)
      continue;
    cleanup_close int dirfd = -1;
    struct nook_state st;
    if (state_dir_open(root, e->d_name, &dirfd, NULL) < 0 || state_read(dirfd, &st, NULL) < 0)
      continue;
    cleanup_free char *member_of = st.vm != NULL ? vmm_pod_sandbox_of(dirfd) : NULL;
    if (st.pid == pid && st.vm != NULL && member_of == NULL)
      found = xstrdup(e->d_name);
    state_clear(&st);
  }
  closedir(d);
  return found;
}

/* A member's network namespace, when given, is its sandbox's: the one its
 * config names (the engine's, whose interface the VM took), or by
 * /proc/PID/ns/net its monitor's pid. */
static int same_network(const char *root, const char *sandbox, const struct oci_config *c,
                        nook_error_t *err)
{
  const struct oci_namespace *mine = oci_config_namespace(c, OCI_NS_NETWORK);
  if (mine == NULL || mine->path == NULL)
    return 0;
  cleanup_close int dirfd = -1;
  struct nook_state st;
  if (state_dir_open(root, sandbox, &dirfd, err) < 0 || state_read(dirfd, &st, err) < 0)
    return -1;
  pid_t spid = st.pid;
  state_clear(&st);
  if (ns_path_pid(mine->path, "net") == spid)
    return 0;
  cleanup_free char *text = NULL;
  size_t len;
  struct oci_config *sc = NULL;
  const struct oci_namespace *theirs = NULL;
  struct stat a, b;
  bool same = false;
  if (read_file_at(dirfd, "config.json", &text, &len, NULL) == 0 &&
      oci_config_parse(text, len, "config.json", &sc, NULL) == 0 &&
      (theirs = oci_config_namespace(sc, OCI_NS_NETWORK)) != NULL && theirs->path != NULL)
    same = stat(mine->path, &a) == 0 && stat(theirs->path, &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
  oci_config_free(sc);
  if (!same)
    return nook_error(err, 0,
                      "linux.namespaces: network path `%s` is not the network namespace of pod "
                      "sandbox \"%s\", whose VM holds the pod's interface",
                      mine->path, sandbox);
  return 0;
}

int vmm_pod_sandbox(const char *root, const struct oci_config *c, char **sandbox, nook_error_t *err)
{
  *sandbox = NULL;
  cleanup_free char *found = NULL;
  for (size_t i = 0; i < c->linux_.n_namespaces; i++) {
    const struct oci_namespace *ns = &c->linux_.namespaces[i];
    if (ns->path == NULL || ns->type == OCI_NS_NETWORK)
      continue;
    const char *what = oci_ns_type_name(ns->type);
    if (ns->type != OCI_NS_IPC && ns->type != OCI_NS_UTS && ns->type != OCI_NS_PID)
      return nook_error(err, 0,
                        "linux.namespaces[%zu].path: VM mode cannot join the host's %s namespace "
                        "`%s` (a pod's member shares only its sandbox's ipc, uts and pid "
                        "namespaces)",
                        i, what, ns->path);
    pid_t pid = ns_path_pid(ns->path, oci_ns_proc_name(ns->type));
    cleanup_free char *id = pid > 0 ? vm_container_of(root, pid) : NULL;
    if (id == NULL)
      return nook_error(err, 0,
                        "linux.namespaces[%zu].path: VM mode cannot join the host's %s namespace "
                        "`%s` (only a network namespace, whose interface the guest takes over, "
                        "or a VM-mode pod sandbox's /proc/PID/ns/%s)",
                        i, what, ns->path, oci_ns_proc_name(ns->type));
    if (found != NULL && strcmp(found, id) != 0)
      return nook_error(err, 0,
                        "linux.namespaces[%zu].path: `%s` is container \"%s\"'s, another "
                        "namespace is \"%s\"'s: a member joins one pod",
                        i, ns->path, id, found);
    if (found == NULL)
      found = steal_pointer(&id);
  }
  if (found == NULL)
    return 0;
  if (same_network(root, found, c, err) < 0)
    return -1;
  *sandbox = steal_pointer(&found);
  return 1;
}

char *vmm_pod_sandbox_of(int dirfd)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file_at(dirfd, VMM_POD_SANDBOX, &text, &len, NULL) < 0 ||
      nook_validate_id(text, NULL) < 0)
    return NULL;
  return steal_pointer(&text);
}

int vmm_pod_monitor_dirfd(const char *root, int dirfd)
{
  cleanup_free char *sandbox = vmm_pod_sandbox_of(dirfd);
  int fd = -1;
  if (sandbox != NULL && state_dir_open(root, sandbox, &fd, NULL) < 0)
    fd = -1;
  return fd;
}

/* ---- a member's create ------------------------------------------------------ */

/* The member's share as a detached mount tree (*tree) and its config for
 * the guest (*config), built in a child of ours: vmm_share_prepare()
 * makes a private mount namespace for the binds, which we must not enter,
 * and the tree outlives it. */
static int build_share(const struct vmm_share_opts *so, int *tree, char **config, nook_error_t *err)
{
  int sock;
  pid_t pid = fork_with_socket(&sock, "the member's share builder", err);
  if (pid < 0)
    return -1;
  if (pid == 0) {
    nook_error_t e = NULL;
    char *path = NULL, *text = NULL;
    int t = -1;
    if (vmm_share_prepare(so, &path, &text, &e) == 0) {
      t = sys_open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
      if (t < 0)
        nook_error(&e, errno, "open_tree `%s`", path);
    }
    if (t < 0) {
      chan_send_error(sock, e);
      _exit(1);
    }
    struct iovec iov = {.iov_base = "t", .iov_len = 1};
    size_t n = strlen(text) + 1;
    if (chan_send(sock, CHAN_OK, 0, NULL, 0, NULL) < 0 || fdpass_send(sock, &iov, 1, t) != 1 ||
        chan_send(sock, CHAN_OK, 0, text, n > CHAN_MAX_DATA ? 0 : n, NULL) < 0)
      _exit(1);
    _exit(0);
  }
  cleanup_close int s = sock;
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  char byte;
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  int r = chan_recv(s, CHAN_BIT(CHAN_OK), msg, err);
  if (r == 0 && (fdpass_recv(s, &iov, 1, 0, tree) != 1 || *tree < 0))
    r = nook_error(err, EPROTO, "the member's share: no mount tree");
  if (r == 0 && chan_recv(s, CHAN_BIT(CHAN_OK), msg, err) == 0)
    *config = msg->len > 0 ? xstrndup(msg->data, msg->len) : NULL;
  else if (r == 0)
    r = -1;
  free(msg);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (r < 0 && *tree >= 0)
    close(steal_fd(tree));
  return r;
}

struct member_req {
  const char *id;
  int flags; /* CHAN_CREATE_* */
  const char *config;
  int tree;
};

/* In the member's proxy (proxy.h): CHAN_MEMBER to the sandbox's monitor,
 * the share's tree after it. */
static int member_request(int dirfd, void *arg, struct vmm_relay *io, int32_t *id,
                          nook_error_t *err)
{
  (void)io;
  const struct member_req *q = arg;
  size_t id_len = strlen(q->id) + 1, cfg_len = q->config ? strlen(q->config) + 1 : 0;
  if (id_len + cfg_len > CHAN_MAX_DATA)
    cfg_len = 0; /* the guest reads the share's config.json */
  cleanup_free char *payload = xmalloc(id_len + cfg_len);
  memcpy(payload, q->id, id_len);
  if (cfg_len > 0)
    memcpy(payload + id_len, q->config, cfg_len);
  cleanup_close int conn = vmm_monitor_connect(dirfd, err);
  if (conn == -2) {
    nook_error_free(err);
    return nook_error(err, 0, "the pod's sandbox is not running: its VM monitor does not answer");
  }
  if (conn < 0)
    return -1;
  struct iovec iov = {.iov_base = "t", .iov_len = 1};
  if (chan_send(conn, CHAN_MEMBER, q->flags, payload, id_len + cfg_len, err) < 0)
    return -1;
  if (fdpass_send(conn, &iov, 1, q->tree) != 1)
    return nook_error(err, errno, "pass the member's share to the VM monitor");
  struct chan_msg *msg = xmalloc(sizeof(*msg));
  int r = chan_recv(conn, CHAN_BIT(CHAN_OK), msg, err);
  if (r == 0) {
    vmm_warn_lines(msg->data, msg->len);
    *id = msg->value;
  }
  free(msg);
  return r < 0 ? -1 : steal_fd(&conn);
}

static int read_guest_pid(int dirfd, int *pid, nook_error_t *err)
{
  cleanup_free char *text = NULL;
  if (read_file_at(dirfd, VMM_POD_GUEST_PID, &text, NULL, err) < 0)
    return nook_error_wrap(err, "the pod's sandbox has no container in its VM yet");
  *pid = (int)strtol(text, NULL, 10);
  if (*pid <= 0)
    return nook_error(err, 0, "the pod's sandbox: `%s` holds no pid", VMM_POD_GUEST_PID);
  return 0;
}

int vmm_pod_create(const struct nook_create_opts *o, const struct oci_config *c, const char *text,
                   size_t len, const char *bundle, const char *rootfs, const char *sandbox,
                   const char *backend, pid_t *pid, nook_error_t *err)
{
  cleanup_free char *root = absolute_path(o->root);
  cleanup_free char *pid_file = absolute_path(o->pid_file);
  cleanup_free char *console = absolute_path(o->console_socket);
  /* Every cleanup variable before the first goto: a jump past one's
   * initialization would free garbage. */
  cleanup_free char *state_dir = NULL, *guest_dir = NULL, *config = NULL, *json = NULL,
                    *start = NULL;
  cleanup_close int sdir = -1, tree = -1;
  struct state_new sn = {.rootfd = -1, .dirfd = -1};
  struct nook_state st = {0};
  struct vmm_proxy p = {.pid = -1, .report = -1};
  int join_pid = 0, ret = -1;
  if (state_dir_open(root, sandbox, &sdir, err) < 0 || read_guest_pid(sdir, &join_pid, err) < 0)
    return nook_error_wrap(err, "pod sandbox \"%s\"", sandbox);
  /* Whose pod it is, before anyone can see it. */
  if (vmm_state_begin(root, o->id, bundle, rootfs, backend, text, len, &sn, &st, err) < 0 ||
      write_file_at(sn.dirfd, VMM_POD_SANDBOX, O_CREAT | O_TRUNC, 0600, sandbox, strlen(sandbox),
                    err) < 0 ||
      state_write(sn.dirfd, &st, err) < 0 || state_dir_publish(&sn, o->id, err) < 0)
    goto out;
  xasprintf(&state_dir, "%s/%s", root, o->id);
  xasprintf(&guest_dir, "%s/%s/" VMM_MEMBERS_DIR "/%s", VMM_GUEST_SHARES_DIR, VMM_CTR_TAG, o->id);
  struct vmm_share_opts so = {
      .state_dir = state_dir,
      .bundle = bundle,
      .rootfs = rootfs,
      .config = c,
      .config_text = text,
      .config_len = len,
      .drop_annotation = VMM_ANNOTATION,
      .seccomp_cache = o->seccomp_cache,
      .guest_dir = guest_dir,
      .join_pid = join_pid,
  };
  if (build_share(&so, &tree, &config, err) < 0)
    goto out;
  struct member_req q = {
      .id = o->id,
      .flags = (c->process.terminal ? CHAN_CREATE_TTY : 0) |
               (c->linux_.has_seccomp ? CHAN_CREATE_SECCOMP : 0),
      .config = config,
      .tree = tree,
  };
  const int drop[] = {sn.dirfd, sn.rootfd};
  if (vmm_proxy_fork(sdir, c->process.terminal, console, member_request, &q, drop, ARRAY_SIZE(drop),
                     &p, err) < 0)
    goto out;
  /* From here a killed CLI leaves a member `delete --force` can find. */
  st.pid = p.pid;
  st.pid_start = proc_start_time(p.pid);
  if (state_write(sn.dirfd, &st, err) < 0) {
    vmm_proxy_go(&p, false, NULL);
    goto out;
  }
  if (vmm_proxy_go(&p, true, err) < 0)
    goto out;
  if (c->has_hooks) {
    json = vmm_hook_state_json(c, &st, "created");
    if (hooks_run("createRuntime", c->hooks.create_runtime, c->hooks.n_create_runtime, json, err) <
            0 ||
        hooks_run("prestart", c->hooks.prestart, c->hooks.n_prestart, json, err) < 0)
      goto out_kill;
  }
  /* Created until start removes it, as a namespace container's start.sock
   * says (state_status()): a link to the monitor that starts it. */
  xasprintf(&start, "../%s/" VMM_MONITOR_SOCK, sandbox);
  if (symlinkat(start, sn.dirfd, "start.sock") < 0) {
    nook_error(err, errno, "link start.sock");
    goto out_kill;
  }
  st.ready = true;
  if (state_write(sn.dirfd, &st, err) < 0 || (pid_file && write_pid_file(pid_file, p.pid, err) < 0))
    goto out_kill;
  *pid = p.pid;
  close(sn.dirfd);
  sn.dirfd = -1;
  ret = 0;
  goto out;
out_kill:
  /* Created in the guest: out of it again, its share unmounted, before
   * its proxy goes (which would only kill its process). */
  {
    char *argv[] = {"delete", "--force", (char *)o->id, NULL};
    nook_error_t e = NULL;
    vmm_monitor_nook(sdir, argv, NULL, 0, NULL, NULL, &e);
    nook_error_free(&e);
  }
  kill(p.pid, SIGKILL);
  while (waitpid(p.pid, NULL, 0) < 0 && errno == EINTR)
    ;
out:
  /* Removed unless created; the root's fd closed either way. */
  state_dir_abandon(&sn, o->id);
  state_clear(&st);
  return ret;
}

/* ---- the monitor's side ----------------------------------------------------- */

/* A child of ours in the VMM's mount namespace runs fn there: setns needs
 * a process that shares its filesystem attributes with no other thread. */
static int in_vmm_mntns(pid_t vmm_pid, int (*fn)(const void *), const void *arg)
{
  cleanup_free char *path = NULL;
  xasprintf(&path, "/proc/%d/ns/mnt", vmm_pid);
  cleanup_close int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0)
    return -errno;
  pid_t pid = fork();
  if (pid < 0)
    return -errno;
  if (pid == 0)
    _exit(setns(ns, CLONE_NEWNS) < 0 ? errno : fn(arg));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  return WIFEXITED(status) ? -WEXITSTATUS(status) : -EINTR;
}

struct attach {
  const char *target;
  int tree;
};

static int attach_tree(const void *arg)
{
  const struct attach *a = arg;
  return sys_move_mount(a->tree, "", AT_FDCWD, a->target, MOVE_MOUNT_F_EMPTY_PATH) < 0 ? errno : 0;
}

static int detach_tree(const void *arg)
{
  return umount2(arg, MNT_DETACH) < 0 ? errno : 0;
}

int vmm_pod_attach(pid_t vmm_pid, const char *share, const char *id, int tree, nook_error_t *err)
{
  cleanup_free char *members = NULL, *target = NULL;
  xasprintf(&members, "%s/" VMM_MEMBERS_DIR, share);
  xasprintf(&target, "%s/%s", members, id);
  /* The directories are the share's own, the same in the VMM's view. */
  if ((mkdir(members, 0711) < 0 && errno != EEXIST) || mkdir(target, 0711) < 0)
    return nook_error(err, errno, "make `%s`", target);
  struct attach a = {.target = target, .tree = tree};
  int r = in_vmm_mntns(vmm_pid, attach_tree, &a);
  if (r < 0) {
    rmdir(target);
    return nook_error(err, -r, "mount the member's share at `%s` for the VMM", target);
  }
  return 0;
}

void vmm_pod_detach(pid_t vmm_pid, const char *share, const char *id)
{
  cleanup_free char *target = NULL;
  xasprintf(&target, "%s/" VMM_MEMBERS_DIR "/%s", share, id);
  in_vmm_mntns(vmm_pid, detach_tree, target);
  rmdir(target);
}
