/* run: create, start and wait in the foreground, forwarding signals. */
#include "container_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../net/net.h"
#include "../oci/config.h"
#include "../oci/state.h"
#include "foreground.h"
#include "hooks.h"
#include "seccomp.h"
#include "spawn.h"
#include "state.h"
#include "sync.h"
#include "terminal.h"

/* ---- run ----------------------------------------------------------------- */

/* Only the container this run made: while it ran, another shell may have
 * deleted it and created a new one under the same id. */
/* cr is released first (its state lock with it), its config kept for the
 * delete's poststop hooks: parsed once, by the create. */
static void release_and_delete(struct created *cr, const char *root, const char *id,
                               struct container_made made, bool keep, const char *why)
{
  struct oci_config *config = steal_pointer(&cr->config);
  created_release(cr);
  made.config = config;
  nook_error_t e = NULL;
  if (!keep && container_delete_made(root, id, true, &made, &e) < 0) {
    cleanup_free char *t = nook_error_text(e);
    nook_warn("%s: %s", why, t);
    nook_error_free(&e);
  }
  oci_config_free(config);
}

static void wait_created(const struct nook_create_opts *o, const char *root, struct created *cr,
                         struct container_made made, const sigset_t *set, int *exit_status)
{
  /* The state lock is for set-up: held while the container runs, it would
   * make pause, update, kill --all or delete from another shell wait for
   * the container to exit. */
  close(cr->dirfd);
  cr->dirfd = -1;
  wait_foreground(cr->sr.pid, cr->sr.pty_master, set, exit_status);
  release_and_delete(cr, root, o->id, made, o->keep, "delete after run");
}

int nook_container_run(const struct nook_create_opts *o, int *exit_status, nook_error_t *err)
{
  struct created cr;
  sigset_t all, old;
  /* Orphans of the container's pid namespace set-up come to us. */
  if (!o->detach)
    prctl(PR_SET_CHILD_SUBREAPER, 1);
  *exit_status = 255;
  cleanup_free char *root = absolute_path(o->root);
  /* Set-up (a large seccomp profile, slow hooks) stays interruptible: a
   * signal before the container exists ends run and undoes the create. */
  create_signals_catch();
  int r = do_create(o, true, &cr, err);
  create_signals_done();
  struct container_made made = {0};
  if (r == 0)
    made = (struct container_made){.pid = cr.st.pid, .pid_start = cr.st.pid_start};
  if (!o->detach) {
    /* From here every signal waits for wait_forwarding() to pass it on. */
    block_signals_for_forwarding(&all, &old);
  }
  if (r == 0 && create_interrupted_by() != 0) {
    r = nook_error(err, EINTR, "run interrupted by %s", strsignal(create_interrupted_by()));
    kill(cr.sr.pid, SIGKILL);
    release_and_delete(&cr, root, o->id, made, false, "delete after an interrupted run");
    if (!o->detach)
      sigprocmask(SIG_SETMASK, &old, NULL);
    return r;
  }
  if (r == 0 && (r = created_start(&cr, err)) < 0)
    release_and_delete(&cr, root, o->id, made, false, "delete after a failed start");
  if (r == 0) {
    unlinkat(cr.dirfd, "start.sock", 0);
    struct loaded l = {.dirfd = -1, .st = cr.st, .config = cr.config};
    run_poststart(&l);
    if (o->detach) {
      created_release(&cr);
      *exit_status = 0;
    } else {
      wait_created(o, root, &cr, made, &all, exit_status);
    }
  }
  if (!o->detach)
    sigprocmask(SIG_SETMASK, &old, NULL);
  return r;
}
