/* The per-container state directory under --root:
 *   ROOT/ID/state.json   nook's record (this file's format; not the OCI state)
 *   ROOT/ID/config.json  the config as it was at create (hooks, exec need it)
 *   ROOT/ID/start.sock   exists between create and start; `start` connects
 * Mutating commands hold an exclusive flock on ROOT/ID for their duration. */
#ifndef NOOK_STATE_H
#define NOOK_STATE_H

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

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
};

enum nook_status {
  NOOK_CREATING,
  NOOK_CREATED,
  NOOK_RUNNING,
  NOOK_PAUSED,
  NOOK_STOPPED,
};

const char *nook_status_name(enum nook_status s);

/* Open (O_PATH-free, O_DIRECTORY) ROOT/ID; creating it when `create`
 * (failing with EEXIST-class message if it exists). */
int state_dir_open(const char *root, const char *id, bool create, int *dirfd, nook_error_t *err);
int state_lock(int dirfd, nook_error_t *err);
bool state_exists(const char *root, const char *id);

int state_write(int dirfd, const struct nook_state *s, nook_error_t *err);
int state_read(int dirfd, struct nook_state *s, nook_error_t *err);
void state_clear(struct nook_state *s);

/* Status from the pid (alive, same start time, not a zombie) and start.sock. */
enum nook_status state_status(int dirfd, const struct nook_state *s);

/* starttime field of /proc/PID/stat; 0 when the process is gone. */
unsigned long long proc_start_time(pid_t pid);

/* Remove ROOT/ID and everything in it. */
int state_dir_remove(const char *root, const char *id, nook_error_t *err);

char *now_rfc3339(void);

#endif
