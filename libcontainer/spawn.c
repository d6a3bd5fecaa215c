/* Creating the container process: the runtime's side of the sync protocol. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/reap.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "idmap.h"
#include "process.h"
#include "sync.h"

void spawn_plan_namespaces(struct spawn_ctx *ctx)
{
  const struct oci_linux *l = &ctx->config->linux_;
  unsigned long create = 0;
  for (size_t i = 0; i < l->n_namespaces; i++) {
    const struct oci_namespace *ns = &l->namespaces[i];
    if (ns->path) {
      ctx->slow_path = true;
      if (ns->type == OCI_NS_PID)
        ctx->fork_for_pid = true;
      if (ns->type == OCI_NS_USER)
        ctx->in_userns = true;
      if (ns->type == OCI_NS_CGROUP)
        ctx->in_cgroupns = true;
      continue;
    }
    switch (ns->type) {
    case OCI_NS_USER:
      ctx->new_userns = ctx->in_userns = true;
      break;
    case OCI_NS_NETWORK:
      ctx->new_netns = true;
      break;
    case OCI_NS_UTS:
      ctx->new_utsns = true;
      break;
    case OCI_NS_CGROUP:
      /* Unshared by the child once it is in its cgroup: see init.c. */
      ctx->new_cgroupns = true;
      continue;
    case OCI_NS_MOUNT:
      ctx->new_mntns = true;
      break;
    case OCI_NS_TIME:
      /* Its offsets must be written before it is entered: see init.c. */
      ctx->new_timens = true;
      continue;
    default:
      break;
    }
    create |= (unsigned long)oci_ns_clone_flag(ns->type);
  }
  ctx->no_mntns = oci_config_namespace(ctx->config, OCI_NS_MOUNT) == NULL;
  if (ctx->slow_path) {
    ctx->unshare_flags = create & ~(unsigned long)CLONE_NEWUSER;
    if (create & CLONE_NEWPID)
      ctx->fork_for_pid = true;
  } else {
    ctx->clone_flags = create;
  }
  const struct oci_config *c = ctx->config;
  ctx->sync = (struct sync_plan){
      .userns_ready = ctx->new_userns && ctx->slow_path,
      .pid = ctx->fork_for_pid,
      .created_state = c->has_hooks && c->hooks.n_start_container > 0,
      .pty = c->process.terminal,
      .seccomp_fd = ctx->seccomp && ctx->seccomp->notify,
      .mount_fds = true,
      /* A rootless runtime cannot clone mounts (no CAP_SYS_ADMIN over its
       * mount namespace) and reaches no source its container process
       * cannot: that process, owner of its own mount namespace, binds. */
      .mount_userns = ctx->in_userns && process_has_cap(CAP_SYS_ADMIN),
  };
}

static int write_maps(const struct spawn_ctx *ctx, pid_t pid, nook_error_t *err)
{
  const struct oci_linux *l = &ctx->config->linux_;
  if (write_id_map(pid, "uid_map", l->uid_mappings, l->n_uid_mappings, err) < 0)
    return nook_error_wrap(err, "linux.uidMappings");
  if (write_id_map(pid, "gid_map", l->gid_mappings, l->n_gid_mappings, err) < 0)
    return nook_error_wrap(err, "linux.gidMappings");
  return 0;
}

int spawn_container(struct spawn_ctx *ctx, const struct spawn_callbacks *cb,
                    struct spawn_result *out, nook_error_t *err)
{
  int sv[2];
  struct sync_msg *msg = xmalloc(sizeof(*msg));
  pid_t child = -1, pid = -1;
  cleanup_free char *state_json = NULL;
  int ret = -1;
  out->pty_master = -1;
  out->seccomp_fd = -1;
  out->stage1 = 0;

  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    free(msg);
    return nook_error(err, errno, "socketpair");
  }
  ctx->sock = sv[1];
  ctx->parent_sock = sv[0];

  struct clone_args args = {.flags = ctx->clone_flags, .exit_signal = SIGCHLD};
  child = (pid_t)sys_clone3(&args, sizeof(args));
  if (child < 0 && errno == ENOSYS)
    child = (pid_t)syscall(__NR_clone, ctx->clone_flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child < 0) {
    nook_error(err, errno, "clone the container process");
    close(sv[0]);
    close(sv[1]);
    free(msg);
    return -1;
  }
  if (child == 0)
    container_init(ctx);
  close(sv[1]);
  out->sock = sv[0];
  pid = child;

  if (ctx->new_userns && !ctx->slow_path && write_maps(ctx, child, err) < 0)
    goto fail;
  if (cb->before_go && cb->before_go(cb->data, child, err) < 0)
    goto fail;
  if (ctx->sync.userns_ready) {
    if (sync_recv(out->sock, SYNC_USERNS_READY, msg, NULL, err) < 0 ||
        write_maps(ctx, child, err) < 0)
      goto fail;
  }
  if (sync_send(out->sock, SYNC_GO, 0, NULL, -1, err) < 0)
    goto fail;
  if (ctx->sync.pid) {
    if (sync_recv(out->sock, SYNC_PID, msg, NULL, err) < 0)
      goto fail;
    pid = msg->value;
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
      ;
    out->stage1 = child;
    child = -1;
  }
  if (cb->on_pid && cb->on_pid(cb->data, pid, err) < 0)
    goto fail;

  if (sync_recv(out->sock, SYNC_RUN_HOOKS, msg, NULL, err) < 0)
    goto fail;
  if (cb->run_hooks(cb->data, pid, &state_json, err) < 0)
    goto fail;
  if (sync_send(out->sock, SYNC_HOOKS_DONE, 0, state_json, -1, err) < 0)
    goto fail;
  if (ctx->sync.created_state) {
    cleanup_free char *created = NULL;
    if (cb->created_json(cb->data, &created) < 0 ||
        sync_send(out->sock, SYNC_CREATED_STATE, 0, created, -1, err) < 0)
      goto fail;
  }
  for (size_t i = 0; i < ctx->config->n_mounts; i++) {
    const struct oci_mount *m = &ctx->config->mounts[i];
    if (!sync_plan_mount_fd(&ctx->sync, m))
      continue;
    int fd = -1;
    if (mount_wants_idmap(m) ? idmap_prepare_mount(m, i, pid, ctx->in_userns, &fd, err) < 0
                             : bind_prepare_mount(m, i, &fd, err) < 0)
      goto fail;
    int r = sync_send(out->sock, SYNC_MOUNT_FD, (int32_t)i, NULL, fd, err);
    close(fd);
    if (r < 0)
      goto fail;
  }
  if (ctx->sync.pty && sync_recv(out->sock, SYNC_PTY, msg, &out->pty_master, err) < 0)
    goto fail;
  if (ctx->sync.seccomp_fd && sync_recv(out->sock, SYNC_SECCOMP_FD, msg, &out->seccomp_fd, err) < 0)
    goto fail;
  /* The agent gets the fd at once: the container's next syscalls may
   * already wait on it (a NOTIFY rule for chdir, setresuid, ...). */
  if (out->seccomp_fd >= 0) {
    int r = cb->seccomp_fd(cb->data, pid, out->seccomp_fd, err);
    close(out->seccomp_fd);
    out->seccomp_fd = -1;
    if (r < 0)
      goto fail;
  }
  if (sync_recv(out->sock, SYNC_READY, msg, NULL, err) < 0)
    goto fail;
  out->pid = pid;
  ret = 0;
  goto done;

fail:
  if (out->pty_master >= 0)
    close(out->pty_master);
  if (out->seccomp_fd >= 0)
    close(out->seccomp_fd);
  out->pty_master = out->seccomp_fd = -1;
  close(out->sock);
  out->sock = -1;
  kill_and_reap(child);
  if (pid != child)
    kill(pid, SIGKILL); /* a grandchild: not ours to reap */
done:
  free(msg);
  return ret;
}
