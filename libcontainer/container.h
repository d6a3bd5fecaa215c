/* The container lifecycle: the library API the CLI commands call.
 * Every function follows the error contract; none prints or exits. */
#ifndef NOOK_CONTAINER_H
#define NOOK_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"
#include "state.h"

struct oci_resources; /* oci/config.h */

/* Options of create/run (runc's flags). */
struct nook_create_opts {
  const char *root; /* state root (--root) */
  const char *id;
  const char *bundle;         /* --bundle, default "." */
  const char *console_socket; /* --console-socket */
  const char *pid_file;       /* --pid-file */
  int preserve_fds;           /* --preserve-fds N: fds 3..3+N-1 pass through */
  bool no_pivot;              /* --no-pivot */
  bool no_new_keyring;        /* --no-new-keyring */
  bool systemd_cgroup;        /* global --systemd-cgroup */
  /* The config's text when it is not the bundle's config.json (nook job
   * builds it in memory): parsed, validated and saved exactly as the file
   * would be.  NULL: read bundle/config.json. */
  const char *config_json;
  size_t config_len;
  /* The container's init dies (SIGKILL) with the runtime process even after
   * start (nook job); otherwise, as with runc, a started container outlives
   * the runtime. */
  bool die_with_runtime;
  /* global --rootless (or detected): a cgroup the user cannot write is
   * skipped with a warning per resource instead of failing create */
  bool rootless;
  /* The compiled-filter cache directory (seccomp_cache_dir()); NULL: none */
  const char *seccomp_cache;
  /* run only */
  bool detach; /* --detach */
  bool keep;   /* --keep */
};

/* root.path (relative to the absolute `bundle`) is an existing directory;
 * the error names the field and the path. */
struct oci_config;
int nook_check_root_path(const struct oci_config *c, const char *bundle, nook_error_t *err);

int nook_container_create(const struct nook_create_opts *o, nook_error_t *err);
int nook_container_start(const char *root, const char *id, nook_error_t *err);
/* create + start + (unless detached) wait; *exit_status gets the container's
 * status as runc reports it (code, or 128+signal). */
int nook_container_run(const struct nook_create_opts *o, int *exit_status, nook_error_t *err);

/* Options of exec (runc's flags).  Strings point into argv. */
struct nook_exec_opts {
  const char *root, *id;
  const char *process_file; /* --process: a process JSON; the flags below are ignored */
  /* How errors name the --process file (default process_file; VM mode's
   * guest reads a copy of the host's file, whose name the user gave). */
  const char *process_name;
  char **args; /* the command, when no --process */
  size_t n_args;
  bool tty;                   /* -t */
  const char *console_socket; /* --console-socket */
  bool detach;                /* -d */
  const char *pid_file;       /* --pid-file */
  const char *cwd;            /* --cwd */
  char **env;                 /* -e NAME=VALUE, replacing the container's NAME */
  size_t n_env;
  const char *user;       /* -u UID[:GID] or NAME[:GROUP] */
  char **additional_gids; /* --additional-gids, decimal */
  size_t n_additional_gids;
  char **caps; /* --cap CAP_X: added to the container's sets */
  size_t n_caps;
  bool no_new_privs;                    /* --no-new-privs */
  const char *apparmor, *process_label; /* --apparmor, --process-label */
  int preserve_fds;                     /* --preserve-fds */
  char **cgroups;                       /* --cgroup [CONTROLLERS:]PATH, a sub-cgroup */
  size_t n_cgroups;
  bool ignore_paused; /* --ignore-paused */
  /* The compiled-filter cache directory (seccomp_cache_dir()); NULL: none */
  const char *seccomp_cache;
  /* With a terminal, its size from the start instead of the config's
   * (0: none).  No option sets it: VM mode's guest gets the host pty's. */
  uint32_t console_height, console_width;
};

/* Run a process in a running (or created) container; unless detached, wait
 * for it, forwarding signals, and give its status in *exit_status. */
int nook_container_exec(const struct nook_exec_opts *o, int *exit_status, nook_error_t *err);

int nook_container_kill(const char *root, const char *id, int sig, bool all, nook_error_t *err);
int nook_container_delete(const char *root, const char *id, bool force, nook_error_t *err);

/* The runtime-spec state JSON (runtime.md "State"), allocated. */
int nook_container_state_json(const char *root, const char *id, char **out, nook_error_t *err);
/* The same, where `query` (VM mode: the monitor knows whether the workload
 * in the guest still runs) may replace the status computed from the
 * recorded pid while that process lives. */
typedef enum nook_status nook_status_query(const char *root, const char *id,
                                           enum nook_status computed);
int nook_container_state_json_as(const char *root, const char *id, nook_status_query *query,
                                 char **out, nook_error_t *err);

struct nook_container_info {
  char *id;
  pid_t pid;    /* 0 when stopped */
  char *status; /* "creating", "created", "running", "paused", "stopped" */
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

/* ---- pause, resume, update, events, ps (ops.c) ---------------------------- */

/* Freeze every process of the container through its cgroup, and thaw it.
 * As with runc, a running or created container can be paused and only a
 * paused one resumed. */
int nook_container_pause(const char *root, const char *id, nook_error_t *err);
int nook_container_resume(const char *root, const char *id, nook_error_t *err);

/* `update`: the patch (what the caller gives, has_* flags set for what it
 * says) is merged into the saved linux.resources by oci_resources_merge()'s
 * rules (device rules are never changed), applied to the cgroup (the saved
 * values are put back when that fails) and written to the config.json kept
 * in the state dir. */
int nook_container_update(const char *root, const char *id, const struct oci_resources *patch,
                          nook_error_t *err);

/* One line of `events`, runc's format: {"type":"stats","id":..,"data":..}
 * or {"type":"oom","id":..}, compact, without a newline.  Returning < 0
 * (with *err set) stops the stream. */
typedef int nook_event_cb(const char *json, void *data, nook_error_t *err);

struct nook_events_opts {
  long long interval_ns; /* > 0 */
  bool stats_only;       /* --stats: one stats event, then return */
  nook_event_cb *emit;
  void *data;
};
/* Stats every interval and OOM notifications until the container's init
 * process exits (then 0); a stopped container is an error. */
int nook_container_events(const char *root, const char *id, const struct nook_events_opts *o,
                          nook_error_t *err);

/* The container's usage figures (what `events --stats` prints, through
 * stats_event_json()) for a caller that asks again and again: VM mode's
 * guest init, where re-reading the state and finding the cgroup for every
 * request costs more than the figures under emulation.  Open reads the
 * state and finds the cgroup once (a stopped container, or one without a
 * cgroup, is the error `events` gives) and keeps its stats files open;
 * read gives the figures as they are now (cgroup_stats_clear() frees
 * them). */
struct nook_stats_source;
struct cgroup_stats;
int nook_stats_open(const char *root, const char *id, struct nook_stats_source **out,
                    nook_error_t *err);
int nook_stats_read(struct nook_stats_source *s, struct cgroup_stats *out, nook_error_t *err);
void nook_stats_close(struct nook_stats_source *s);

/* Every pid in the container's cgroup (allocated; *n may be 0). */
int nook_container_pids(const char *root, const char *id, pid_t **out, size_t *n,
                        nook_error_t *err);

#endif
