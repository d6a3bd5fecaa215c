/* The container lifecycle: the library API the CLI commands call.
 * Every function follows the error contract; none prints or exits. */
#ifndef NOOK_CONTAINER_H
#define NOOK_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Options of create/run (runc's flags). */
struct nook_create_opts {
  const char *root;           /* state root (--root) */
  const char *id;
  const char *bundle;         /* --bundle, default "." */
  const char *console_socket; /* --console-socket */
  const char *pid_file;       /* --pid-file */
  int preserve_fds;           /* --preserve-fds N: fds 3..3+N-1 pass through */
  bool no_pivot;              /* --no-pivot */
  bool no_new_keyring;        /* --no-new-keyring */
  bool systemd_cgroup;        /* global --systemd-cgroup */
  /* run only */
  bool detach; /* --detach */
  bool keep;   /* --keep */
};

int nook_container_create(const struct nook_create_opts *o, nook_error_t *err);
int nook_container_start(const char *root, const char *id, nook_error_t *err);
/* create + start + (unless detached) wait; *exit_status gets the container's
 * status as runc reports it (code, or 128+signal). */
int nook_container_run(const struct nook_create_opts *o, int *exit_status, nook_error_t *err);

int nook_container_kill(const char *root, const char *id, int sig, bool all, nook_error_t *err);
int nook_container_delete(const char *root, const char *id, bool force, nook_error_t *err);

/* The runtime-spec state JSON (runtime.md "State"), allocated. */
int nook_container_state_json(const char *root, const char *id, char **out, nook_error_t *err);

struct nook_container_info {
  char *id;
  pid_t pid; /* 0 when stopped */
  char *status;  /* "creating", "created", "running", "paused", "stopped" */
  char *bundle;
  char *created; /* RFC 3339 */
  char *owner;
};
int nook_container_list(const char *root, struct nook_container_info **out, size_t *n,
                        nook_error_t *err);
void nook_container_info_free(struct nook_container_info *v, size_t n);

/* Validate a container id: non-empty, at most 1024 bytes, [A-Za-z0-9_+.-],
 * not "." or "..". */
int nook_validate_id(const char *id, nook_error_t *err);

#endif
