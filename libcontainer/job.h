/* nook job: one command per CI job (issue #17).  The container goes
 * through the normal create/start/delete path (the config it gets is text,
 * parsed and validated as a config.json); on top of it a wall-clock limit
 * with a grace period, cancellation by the runner's signals, a teardown
 * through the cgroup that leaves nothing behind, and a resource report
 * read from the cgroup before it is removed.  docs/design.md, "nook job". */
#ifndef NOOK_JOB_H
#define NOOK_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../base/error.h"
#include "container.h"

/* Exit statuses of nook job besides the job's own (nook-job(8)). */
#define NOOK_JOB_STATUS_TIMEOUT 124
#define NOOK_JOB_STATUS_SETUP 125
#define NOOK_JOB_STATUS_OOM 137

/* The defaults of --kill-after and --stop-signal (Buildkite's grace). */
#define NOOK_JOB_DEFAULT_KILL_AFTER_NS (10LL * 1000000000LL)

enum nook_job_net {
  NOOK_JOB_NET_CONFIG = 0, /* as the config says (--rootfs: none, nook spec's default) */
  NOOK_JOB_NET_NONE,       /* a network namespace of its own: loopback only */
  NOOK_JOB_NET_HOST,       /* the host's network namespace */
  NOOK_JOB_NET_PASTA,      /* its own, connected to the outside by pasta (net/pasta.h) */
};

struct nook_job_bind {
  const char *source, *destination;
  bool readonly;
};

struct nook_job_tmpfs {
  const char *destination;
  const char *size; /* NULL: the kernel's default (half of RAM) */
};

/* Every option of nook job, typed (src/job.c parses the command line).
 * Strings are not copied: they must outlive the call. */
struct nook_job_opts {
  const char *root;          /* state root (--root) */
  const char *seccomp_cache; /* seccomp_cache_dir(); NULL: none */
  const char *id;            /* --name; NULL: generated */
  const char *bundle;        /* --bundle: its config.json, as run would use it */
  const char *rootfs;        /* --rootfs: nook spec's defaults around this directory */
  char **args;               /* the command after --; n_args 0: the config's */
  size_t n_args;
  bool tty; /* -t */
  bool has_memory, has_memory_swap, has_pids, has_io_weight;
  int64_t memory, memory_swap, pids; /* bytes; memory_swap -1: unlimited */
  uint16_t io_weight;
  int64_t cpu_quota;       /* --cpus as a quota per 100 ms period, 0: unset */
  const char *cpuset;      /* --cpuset */
  long long timeout_ns;    /* 0: none */
  long long kill_after_ns; /* the grace between the stop signal and SIGKILL */
  int stop_signal;         /* sent to the job's init on timeout */
  const struct nook_job_bind *binds;
  size_t n_binds;
  const struct nook_job_tmpfs *tmpfs;
  size_t n_tmpfs;
  char **env; /* --env NAME=VALUE, over the files' */
  size_t n_env;
  /* --env-file: NAME=VALUE lines (docker's format), read in order, before
   * --env */
  char **env_files;
  size_t n_env_files;
  const char *workdir;
  bool has_user;
  uint32_t uid, gid;
  const char *hostname;
  const char *cgroup_parent; /* the job's cgroup is PARENT/ID */
  enum nook_job_net net;
  const char *overlay; /* "tmpfs" (default), an absolute DIR, or "none" */
  const char *report;  /* --report FILE, "-" for stderr; NULL: none */
  bool vm;             /* --vm: the nook.vm annotation (VM mode) */
  bool systemd_cgroup; /* global --systemd-cgroup */
  bool rootless;       /* global --rootless (or detected) */
};

enum nook_job_reason {
  NOOK_JOB_EXITED,
  NOOK_JOB_SIGNALED,
  NOOK_JOB_TIMEOUT,
  NOOK_JOB_OOM,
  NOOK_JOB_SETUP_ERROR,
};

/* A figure of the report: has false when the host cannot give it (the
 * report says null, never a made-up 0). */
struct nook_job_figure {
  bool has;
  uint64_t value;
};

/* One job's report (job_report.c writes it as JSON). */
struct nook_job_report {
  char *id;        /* NULL before one was chosen */
  int exit_status; /* what nook job exits with */
  enum nook_job_reason reason;
  int signal;       /* the signal that ended the job's init, or 0 */
  int cancelled_by; /* the runner's signal that cancelled the job, or 0 */
  char *error;      /* setup-error: the message */
  bool started;     /* the workload ran (wall time is known) */
  /* From nook job's start (CLOCK_MONOTONIC began_ns), the set-up included:
   * the cgroup's cpu counts the init's set-up work too, so a wall time
   * from the workload's start could be less than the cpu time. */
  long long began_ns, wall_ns;
  struct nook_job_figure cpu_user_ns, cpu_system_ns, memory_peak, pids_peak, io_read_bytes,
      io_write_bytes, oom, oom_kill;
  /* The limits that applied: those of the config the job ran with. */
  struct nook_job_figure memory_limit, memory_swap_limit, pids_limit, cpu_quota, cpu_period,
      io_weight;
  char *cpuset;
  long long timeout_ns, kill_after_ns;
  int stop_signal;
};

/* Run the job: build its config, create, start (attaching pasta first
 * with --net pasta), supervise it until its init ends (timeout, grace,
 * cancellation), kill whatever is left in its cgroup, read the figures,
 * delete it.  Returns 0 with *r filled (exit status, reason, figures), or
 * -1 with *err when the job could not be set up (r->reason is then
 * setup-error and r->exit_status NOOK_JOB_STATUS_SETUP).  Either way the
 * report goes to o->report when that is set. */
int nook_job_run(const struct nook_job_opts *o, struct nook_job_report *r, nook_error_t *err);

/* What runs a job once its id is chosen: namespace mode's (job.c) or VM
 * mode's (vmm/job.c).  Returns 0 with r's exit status, reason and figures
 * filled, or -1 with *err when the job could not be set up. */
typedef int nook_job_runner(const struct nook_job_opts *o, const char *id,
                            struct nook_job_report *r, nook_error_t *err);
/* nook_job_run with another runner: the id, the report's fixed fields,
 * the setup error and the report file are done here for both. */
int nook_job_run_with(const struct nook_job_opts *o, nook_job_runner *run,
                      struct nook_job_report *r, nook_error_t *err);

/* The config text the job runs with (nook spec's defaults or the bundle's
 * config.json, the options applied), and the bundle directory create gets
 * (the cwd with --rootfs).  Used by nook_job_run and VM mode's job. */
int nook_job_config(const struct nook_job_opts *o, const char *id, char **json, size_t *len,
                    char **bundle, nook_error_t *err);

/* The create options of the job's container and the strings they point
 * into: the config text (nook_job_config), the bundle, the absolute state
 * root.  Used by nook_job_run and VM mode's job. */
struct nook_job_create {
  struct nook_create_opts co;
  char *json, *bundle, *root;
};
int nook_job_create_opts(const struct nook_job_opts *o, const char *id, struct nook_job_create *c,
                         nook_error_t *err);
void nook_job_create_clear(struct nook_job_create *c);
#define cleanup_job_create __attribute__((cleanup(nook_job_create_clear)))

/* A fresh id for a job without --name: "job-" and 16 hex digits. */
char *nook_job_new_id(void);

/* Supervise the container ROOT/ID whose process pid (a child of the
 * caller, which blocked the signals to forward before making it, as
 * block_signals_for_forwarding() does) stands for the job (VM mode: the
 * monitor), and fill *r's exit status, reason, limits and (with figures)
 * figures as nook_job_run does.  The container's cgroup is the one in its
 * state.
 * Deleting the container and writing the report are the caller's. */
int nook_job_supervise_container(const struct nook_job_opts *o, const char *root, const char *id,
                                 pid_t pid, bool figures, struct nook_job_report *r,
                                 nook_error_t *err);

/* The report as JSON, to path ("-": stderr), written whole or not at all
 * (a temporary file renamed over path). */
int nook_job_report_write(const char *path, const struct nook_job_report *r, nook_error_t *err);
/* r as a setup error with err's text (the error itself is left alone). */
void nook_job_report_setup_error(struct nook_job_report *r, const nook_error_t err);
void nook_job_report_clear(struct nook_job_report *r);

#endif
