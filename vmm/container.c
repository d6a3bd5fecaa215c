#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../oci/config.h"
#include "guest.h"
#include "session.h"

#define ROOTFS_TAG "rootfs"

/* Every signal but those the kernel will not let be caught and those that
 * mean a fault in nook itself or concern its terminal. */
static void forwarded_signals(sigset_t *set)
{
  sigfillset(set);
  static const int keep[] = {SIGKILL, SIGSTOP, SIGSEGV, SIGBUS,  SIGILL,  SIGFPE,  SIGABRT,
                             SIGTRAP, SIGSYS,  SIGCHLD, SIGPIPE, SIGTTIN, SIGTTOU, SIGTSTP};
  for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
    sigdelset(set, keep[i]);
}

static const char *annotation(const struct oci_config *c)
{
  for (size_t i = 0; i < c->n_annotations; i++) {
    if (strcmp(c->annotations[i].key, VMM_ANNOTATION) == 0)
      return c->annotations[i].value;
  }
  return NULL;
}

static int backend_of(const struct oci_config *c, nook_error_t *err)
{
  const char *v = annotation(c);
  if (v == NULL)
    return 0;
  if (vmm_backend_find(v) == NULL)
    return nook_error(err, 0, "annotation %s=\"%s\": the VM backends are: qemu", VMM_ANNOTATION, v);
  return 1;
}

int vmm_bundle_wants_vm(const char *bundle, nook_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  size_t len;
  xasprintf(&path, "%s/config.json", bundle);
  /* An unreadable config is the normal path's error to report. */
  if (read_file_at(AT_FDCWD, path, &text, &len, NULL) < 0)
    return 0;
  if (strstr(text, "\"" VMM_ANNOTATION "\"") == NULL)
    return 0;
  struct oci_config *c = NULL;
  if (oci_config_parse(text, len, "config.json", &c, NULL) < 0)
    return 0;
  int r = backend_of(c, err);
  oci_config_free(c);
  return r;
}

static int refuse_unsupported(const struct nook_create_opts *o, const struct oci_config *c,
                              nook_error_t *err)
{
  const char *what = NULL;
  if (o->detach)
    what = "--detach";
  else if (o->console_socket != NULL || c->process.terminal)
    what = "a terminal";
  else if (o->pid_file != NULL)
    what = "--pid-file";
  else if (o->preserve_fds > 0)
    what = "--preserve-fds";
  if (what != NULL)
    return nook_error(err, 0, "VM mode (annotation %s) does not support %s yet", VMM_ANNOTATION,
                      what);
  return 0;
}

int vmm_container_run(const struct nook_create_opts *o, int *status, nook_error_t *err)
{
  cleanup_free char *config_path = NULL, *rootfs = NULL, *cache = NULL, *guest_root = NULL;
  cleanup_free char *joined = NULL;
  struct oci_config *c = NULL;
  int r = -1;
  xasprintf(&config_path, "%s/config.json", o->bundle);
  if (oci_config_load(config_path, &c, err) < 0 || oci_config_validate(c, true, err) < 0)
    goto out;
  if (backend_of(c, err) < 0 || refuse_unsupported(o, c, err) < 0)
    goto out;
  if (c->root_path == NULL) {
    nook_error(err, 0, "config.json: VM mode needs root.path");
    goto out;
  }
  if (c->root_path[0] == '/')
    joined = xstrdup(c->root_path);
  else
    xasprintf(&joined, "%s/%s", o->bundle, c->root_path);
  rootfs = realpath(joined, NULL);
  if (rootfs == NULL) {
    nook_error(err, errno, "root.path `%s`", c->root_path);
    goto out;
  }
  const char *kcache = getenv("NOOK_VM_KCACHE");
  xasprintf(&cache, "%s/initramfs", kcache && *kcache ? kcache : "/var/cache/nook-vm");
  struct vmm_share share = {.tag = ROOTFS_TAG, .path = rootfs, .readonly = c->root_readonly};
  struct vmm_session_opts so = {
      .backend = annotation(c),
      .cache_dir = cache,
      .work_parent = o->root,
      .shares = &share,
      .nshares = 1,
  };
  struct vmm_session s;
  if (vmm_session_boot(&so, &s, err) < 0)
    goto out;
  xasprintf(&guest_root, "%s/%s", VMM_GUEST_SHARES_DIR, ROOTFS_TAG);
  struct chan_exec e = {
      .root = guest_root,
      .cwd = c->process.cwd ? c->process.cwd : "/",
      .env = c->process.env,
      .argv = c->process.args,
  };
  /* As in namespace mode, the signals nook gets while the container runs
   * are the container's (runc's run forwards them too).  QEMU was started
   * before they were blocked. */
  sigset_t fwd, old;
  forwarded_signals(&fwd);
  sigprocmask(SIG_BLOCK, &fwd, &old);
  int sigfd = signalfd(-1, &fwd, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sigfd < 0)
    r = nook_error(err, errno, "signalfd");
  else
    r = vmm_session_exec(&s, &e, STDOUT_FILENO, STDERR_FILENO, sigfd, status, err);
  if (r == 0)
    r = vmm_session_poweroff(&s, 30000, err);
  vmm_session_destroy(&s);
  if (sigfd >= 0)
    close(sigfd);
  sigprocmask(SIG_SETMASK, &old, NULL);
out:
  oci_config_free(c);
  return r;
}
