/* The per-container state directory under --root:
 *   ROOT/ID/state.json   nook's record (this file's format; not the OCI state)
 *   ROOT/ID/config.json  the config as it was at create (hooks, exec need it)
 *   ROOT/ID/start.sock   exists between create and start; `start` connects
 * Mutating commands hold an exclusive flock on ROOT/ID for their duration. */
#ifndef NOOK_STATE_H
#define NOOK_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "../base/error.h"

struct nook_state {
  char *id;
  pid_t pid;
  unsigned long long pid_start; /* /proc/PID/stat starttime: tells a recycled pid apart */
  char *bundle;
  char *rootfs;
  char *created; /* RFC 3339, UTC */
  char *owner;
  char *cgroup;        /* cgroup_paths_serialize() */
  bool ready;          /* the container process reported SYNC_READY */
  char *overlay_upper; /* set when nook made a per-container overlay upper dir */
  /* VM mode: the backend's name ("qemu"); pid is then the VM monitor's and
   * the later commands dispatch on this, not on how nook was invoked. */
  char *vm;
};

/* The state annotation naming a VM-mode container's backend. */
#define STATE_VM_ANNOTATION "nook.vm"

enum nook_status {
  NOOK_CREATING,
  NOOK_CREATED,
  NOOK_RUNNING,
  NOOK_PAUSED,
  NOOK_STOPPED,
};

const char *nook_status_name(enum nook_status s);

/* Open ROOT/ID (O_DIRECTORY); "does not exist" when it does not. */
int state_dir_open(const char *root, const char *id, int *dirfd, nook_error_t *err);
/* Open ROOT/ID and take its lock, making sure what was locked is still
 * ROOT/ID (its previous holder may have removed it). */
int state_dir_open_locked(const char *root, const char *id, int *dirfd, nook_error_t *err);
int state_lock(int dirfd, nook_error_t *err);
bool state_exists(const char *root, const char *id);

/* Private names of directories being made; `list` skips dot names. */
#define STATE_TMP_PREFIX ".new-"

/* A container directory under construction: made and locked under a
 * private name, then published as ROOT/ID by a rename that never
 * replaces. */
struct state_new {
  int rootfd;
  int dirfd; /* locked */
  bool published;
  char tmpname[64];
};
int state_dir_create(const char *root, const char *id, struct state_new *out, nook_error_t *err);
int state_dir_publish(struct state_new *n, const char *id, nook_error_t *err);
/* Failure: remove the directory (if it is still the one this create made)
 * and close the fds. */
void state_dir_abandon(struct state_new *n, const char *id);

/* Whether ROOT/name (rootfd) is the directory open as dirfd. */
bool state_dir_is(int rootfd, const char *name, int dirfd);
/* Remove the private directories of creates that died before publishing. */
void state_sweep_stale(const char *root);

int state_write(int dirfd, const struct nook_state *s, nook_error_t *err);
/* state_write also keeps a copy, for when state.json is overwritten. */
#define STATE_BACKUP "state.copy.json"
/* 0; 1 when state.json was corrupt and its copy was used (warned); -1 with
 * err. */
int state_read(int dirfd, struct nook_state *s, nook_error_t *err);
void state_clear(struct nook_state *s);

/* VM mode: the monitor's mark of a paused container in the state dir.  Its
 * recorded cgroup is the VMM's, which pause never freezes (the vCPUs are
 * stopped instead), so the freezer cannot say it. */
#define STATE_PAUSED_MARK "paused"

/* Status from the pid (alive, same start time, not a zombie), start.sock
 * and, for a VM-mode container, STATE_PAUSED_MARK. */
enum nook_status state_status(int dirfd, const struct nook_state *s);

/* starttime field of /proc/PID/stat; 0 when the process is gone. */
unsigned long long proc_start_time(pid_t pid);

/* Whether the process pid that started at start_time is gone, a zombie, or
 * on its way out (the kernel's PF_EXITING: killed, its files may already be
 * closed while it is not yet a zombie). */
bool proc_exiting(pid_t pid, unsigned long long start_time);

/* Remove ROOT/ID and everything in it, but only while it is still the
 * directory open as dirfd: never a newer container of the same id. */
int state_dir_remove(const char *root, const char *id, int dirfd, nook_error_t *err);
int state_dir_remove_fd(int rootfd, const char *name, int dirfd, nook_error_t *err);

char *now_rfc3339(void);

/* --pid-file: written to a temporary name and renamed into place, so a
 * reader never sees a partial pid. */
int write_pid_file(const char *path, pid_t pid, nook_error_t *err);

#endif
