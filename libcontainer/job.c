/* nook job: create, start, supervise, tear down, report (job.h).
 *
 * The supervision is a policy on run's foreground wait (foreground.h):
 * signals still go to the job's init, and the policy adds the deadlines.
 *   running --timeout--> stop signal to the init, grace starts
 *   running --INT/TERM/HUP--> forwarded, grace starts (a later one is
 *                             forwarded too; the grace does not restart)
 *   grace over --> SIGKILL to every process of the cgroup
 *   init gone  --> SIGKILL to every process of the cgroup (daemons it left),
 *                  figures read, container deleted */
#include "job.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../net/pasta.h"
#include "container_internal.h"
#include "foreground.h"

struct supervisor {
  const struct nook_job_opts *o;
  pid_t pid; /* the job's init (VM mode: the monitor) */
  const struct cgroup_manager *cgm;
  const struct cgroup_paths *cg; /* NULL: no cgroup */
  long long timeout_at, kill_at; /* CLOCK_MONOTONIC ns, -1: none */
  bool timed_out, killed;
  int cancelled_by;
};

/* Every process of the job, whatever it did to escape its init: the
 * cgroup's kill (cgroup.kill on v2; freezer, sweep and thaw on v1). */
static void kill_everything(struct supervisor *s, bool reaped)
{
  /* Not once reaped: the pid may name another process by then. */
  if (!reaped)
    kill(s->pid, SIGKILL);
  if (s->cg == NULL)
    return;
  nook_error_t e = NULL;
  if (s->cgm->kill(s->cg, SIGKILL, &e) < 0) {
    cleanup_free char *t = nook_error_text(e);
    nook_warn("job %s: kill its cgroup: %s", s->o->id ? s->o->id : "", t);
    nook_error_free(&e);
  }
}

static void grace_from(struct supervisor *s, long long now)
{
  long long at = now + s->o->kill_after_ns;
  if (s->kill_at < 0 || at < s->kill_at)
    s->kill_at = at;
}

static long long sup_deadline(void *data)
{
  struct supervisor *s = data;
  long long t = -1;
  if (!s->timed_out && s->timeout_at >= 0)
    t = s->timeout_at;
  if (!s->killed && s->kill_at >= 0 && (t < 0 || s->kill_at < t))
    t = s->kill_at;
  return t;
}

static void sup_expired(void *data)
{
  struct supervisor *s = data;
  long long now = monotonic_ns();
  if (!s->timed_out && s->timeout_at >= 0 && now >= s->timeout_at) {
    s->timed_out = true;
    nook_debug("job: timeout: signal %d to the init, SIGKILL in %lld ms", s->o->stop_signal,
               s->o->kill_after_ns / 1000000);
    kill(s->pid, s->o->stop_signal);
    grace_from(s, now);
  }
  if (!s->killed && s->kill_at >= 0 && now >= s->kill_at) {
    s->killed = true;
    nook_debug("job: grace period over: SIGKILL to every process");
    kill_everything(s, false);
  }
}

static int sup_signal(void *data, int sig)
{
  struct supervisor *s = data;
  if (sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
    if (s->cancelled_by == 0)
      s->cancelled_by = sig;
    grace_from(s, monotonic_ns());
  }
  return sig;
}

/* Before the pty proxy is joined: a daemon holding the terminal would keep
 * it open forever. */
static void sup_exited(void *data, int wstatus)
{
  kill_everything(data, true);
}

static struct nook_job_figure figure(bool has, uint64_t value)
{
  return (struct nook_job_figure){.has = has, .value = has ? value : 0};
}

/* The job's usage, read from its cgroup before it is removed. */
static void read_figures(const struct cgroup_paths *p, struct nook_job_report *r)
{
  struct cgroup_usage u;
  nook_error_t e = NULL;
  if (cgroup_usage(p, &u, &e) < 0) {
    cleanup_free char *t = nook_error_text(e);
    nook_warn("job %s: its figures: %s", r->id, t);
    nook_error_free(&e);
    return;
  }
  r->cpu_user_ns = figure(u.has_cpu, u.cpu_user_ns);
  r->cpu_system_ns = figure(u.has_cpu, u.cpu_system_ns);
  r->memory_peak = figure(u.has_memory_peak, u.memory_peak);
  r->pids_peak = figure(u.has_pids_peak, u.pids_peak);
  r->io_read_bytes = figure(u.has_io, u.io_read_bytes);
  r->io_write_bytes = figure(u.has_io, u.io_write_bytes);
  r->oom = figure(u.has_oom, u.oom);
  r->oom_kill = figure(u.has_oom_kill, u.oom_kill);
}

static void report_limits(const struct oci_config *c, struct nook_job_report *r)
{
  const struct oci_resources *res = &c->linux_.resources;
  if (!c->linux_.has_resources)
    return;
  r->memory_limit = figure(res->has_memory && res->memory.has_limit && res->memory.limit > 0,
                           (uint64_t)res->memory.limit);
  r->memory_swap_limit = figure(res->has_memory && res->memory.has_swap && res->memory.swap > 0,
                                (uint64_t)res->memory.swap);
  r->cpu_quota =
      figure(res->has_cpu && res->cpu.has_quota && res->cpu.quota > 0, (uint64_t)res->cpu.quota);
  r->cpu_period = figure(res->has_cpu && res->cpu.has_period, res->cpu.period);
  if (res->has_cpu && res->cpu.cpus && *res->cpu.cpus)
    r->cpuset = xstrdup(res->cpu.cpus);
  r->pids_limit = figure(res->has_pids && res->pids_limit > 0, (uint64_t)res->pids_limit);
  r->io_weight = figure(res->has_blockio && res->blockio.has_weight, res->blockio.weight);
}

/* How the job ended, from its init's wait status and the supervision. */
static void conclude(const struct supervisor *s, int wstatus, struct nook_job_report *r)
{
  r->cancelled_by = s->cancelled_by;
  r->exit_status = foreground_exit_status(wstatus);
  r->signal = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0;
  r->reason = r->signal ? NOOK_JOB_SIGNALED : NOOK_JOB_EXITED;
  if (s->timed_out) {
    r->reason = NOOK_JOB_TIMEOUT;
    r->exit_status = NOOK_JOB_STATUS_TIMEOUT;
  } else if (r->exit_status == NOOK_JOB_STATUS_OOM && r->oom_kill.has && r->oom_kill.value > 0) {
    /* Killed by SIGKILL (or a shell saying its child was) while the OOM
     * killer acted in the cgroup. */
    r->reason = NOOK_JOB_OOM;
  }
}

/* Supervise pid until it exits; the figures are read after the final kill
 * and before the caller removes the cgroup. */
static void supervise(const struct nook_job_opts *o, pid_t pid, int pty_master,
                      const struct cgroup_manager *cgm, const struct cgroup_paths *cg, bool figures,
                      const sigset_t *set, struct nook_job_report *r)
{
  long long start = monotonic_ns();
  struct supervisor s = {.o = o,
                         .pid = pid,
                         .cgm = cgm,
                         .cg = cg,
                         .timeout_at = o->timeout_ns > 0 ? start + o->timeout_ns : -1,
                         .kill_at = -1};
  struct foreground_policy policy = {.deadline = sup_deadline,
                                     .expired = sup_expired,
                                     .signal = sup_signal,
                                     .exited = sup_exited,
                                     .data = &s};
  int wstatus = 0;
  wait_foreground_policy(pid, pty_master, set, &policy, &wstatus);
  r->started = true;
  r->wall_ns = monotonic_ns() - r->began_ns;
  /* Only for a report: without one nobody reads them (the exit status
   * says 137 for an OOM kill either way). */
  if (cg != NULL && figures && o->report != NULL)
    read_figures(cg, r);
  conclude(&s, wstatus, r);
}

int nook_job_supervise_container(const struct nook_job_opts *o, const char *root, const char *id,
                                 pid_t pid, bool figures, struct nook_job_report *r,
                                 nook_error_t *err)
{
  struct loaded l;
  if (load_container(root, id, false, true, &l, err) < 0)
    return -1;
  const struct cgroup_manager *m = NULL;
  struct cgroup_paths p = {0};
  int has_cg = loaded_cgroup(&l.st, &m, &p, err);
  if (has_cg < 0) {
    loaded_release(&l);
    return -1;
  }
  if (l.config)
    report_limits(l.config, r);
  sigset_t all, old;
  block_signals_for_forwarding(&all, &old);
  supervise(o, pid, -1, m, has_cg ? &p : NULL, figures, &all, r);
  sigprocmask(SIG_SETMASK, &old, NULL);
  cgroup_paths_clear(&p);
  loaded_release(&l);
  return 0;
}

/* The job ended before it started: cancelled during its set-up. */
static void cancelled_before_start(int sig, struct nook_job_report *r)
{
  r->cancelled_by = sig;
  r->signal = sig;
  r->reason = NOOK_JOB_SIGNALED;
  r->exit_status = 128 + sig;
}

/* A cancel that came during the set-up, after the create (signals are
 * blocked from there on): the job is then not started at all.  Consumed,
 * so the supervision does not see it again. */
static int pending_cancel(void)
{
  static const int cancels[] = {SIGINT, SIGTERM, SIGHUP};
  sigset_t pending;
  if (sigpending(&pending) < 0)
    return 0;
  for (size_t i = 0; i < ARRAY_SIZE(cancels); i++) {
    if (!sigismember(&pending, cancels[i]))
      continue;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, cancels[i]);
    struct timespec zero = {0};
    sigtimedwait(&one, NULL, &zero);
    return cancels[i];
  }
  return 0;
}

static void delete_job(const char *root, const char *id, const struct container_made *made)
{
  nook_error_t e = NULL;
  if (container_delete_made(root, id, true, made, &e) < 0) {
    cleanup_free char *t = nook_error_text(e);
    nook_warn("job %s: delete: %s", id, t);
    nook_error_free(&e);
  }
}

/* Everything after the create: pasta, start, supervision, teardown.  The
 * container is deleted on every path. */
static int run_created(const struct nook_job_opts *o, const char *root, const char *id,
                       struct created *cr, const sigset_t *set, struct nook_job_report *r,
                       nook_error_t *err)
{
  struct container_made made = {.pid = cr->st.pid, .pid_start = cr->st.pid_start};
  struct net_pasta pasta = {.pid = 0, .pidfd = -1};
  int ret = -1;
  report_limits(cr->config, r);
  int cancel = create_interrupted_by();
  if (cancel != 0)
    goto cancelled;
  if (o->net == NOOK_JOB_NET_PASTA) {
    cleanup_free char *fifo = NULL;
    xasprintf(&fifo, "%s/%s/pasta.ready", root, id);
    int pr = net_pasta_start(cr->sr.pid, fifo, &pasta, err);
    unlink(fifo);
    if (pr < 0) {
      kill(cr->sr.pid, SIGKILL);
      goto out;
    }
  }
  if ((cancel = pending_cancel()) != 0)
    goto cancelled;
  if (created_start(cr, err) < 0)
    goto out;
  unlinkat(cr->dirfd, "start.sock", 0);
  struct loaded l = {.dirfd = -1, .st = cr->st, .config = cr->config};
  run_poststart(&l);
  /* As run: the state lock is for set-up, not for the job's life. */
  close(cr->dirfd);
  cr->dirfd = -1;
  supervise(o, cr->sr.pid, cr->sr.pty_master, cr->cgm, cr->have_cg ? &cr->cg : NULL, true, set, r);
  ret = 0;
  goto out;
cancelled:
  kill(cr->sr.pid, SIGKILL);
  cancelled_before_start(cancel, r);
  ret = 0;
out:
  net_pasta_stop(&pasta);
  /* Released first (the state lock with it); the config stays for the
   * delete's poststop hooks, parsed once. */
  struct oci_config *config = steal_pointer(&cr->config);
  made.config = config;
  created_release(cr);
  delete_job(root, id, &made);
  oci_config_free(config);
  return ret;
}

static int run_job(const struct nook_job_opts *o, const char *id, struct nook_job_report *r,
                   nook_error_t *err)
{
  cleanup_job_create struct nook_job_create c = {0};
  if (nook_job_create_opts(o, id, &c, err) < 0)
    return -1;
  const struct nook_create_opts *co = &c.co;
  const char *root = c.root;
  /* Orphans of the job (daemons it double-forks, in a pid namespace
   * shared with the host) come to us and are reaped. */
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct created cr;
  create_signals_catch();
  int rc = do_create(co, true, &cr, err);
  create_signals_done();
  sigset_t all, old;
  block_signals_for_forwarding(&all, &old);
  int ret;
  if (rc < 0 && create_interrupted_by() != 0) {
    nook_error_free(err);
    cancelled_before_start(create_interrupted_by(), r);
    ret = 0;
  } else if (rc < 0) {
    ret = -1;
  } else {
    ret = run_created(o, root, id, &cr, &all, r, err);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return ret;
}

int nook_job_run(const struct nook_job_opts *o, struct nook_job_report *r, nook_error_t *err)
{
  return nook_job_run_with(o, run_job, r, err);
}

int nook_job_run_with(const struct nook_job_opts *o, nook_job_runner *run,
                      struct nook_job_report *r, nook_error_t *err)
{
  memset(r, 0, sizeof(*r));
  r->began_ns = monotonic_ns();
  /* Made absolute now: create changes the working directory. */
  cleanup_free char *report = NULL;
  if (o->report)
    report = strcmp(o->report, "-") == 0 ? xstrdup("-") : absolute_path(o->report);
  cleanup_free char *id = o->id ? xstrdup(o->id) : nook_job_new_id();
  r->id = xstrdup(id);
  r->timeout_ns = o->timeout_ns;
  r->kill_after_ns = o->kill_after_ns;
  r->stop_signal = o->stop_signal;
  struct nook_job_opts opts = *o;
  opts.id = id;
  int ret = run(&opts, id, r, err);
  if (ret < 0)
    nook_job_report_setup_error(r, *err);
  if (report) {
    nook_error_t e = NULL;
    if (nook_job_report_write(report, r, &e) < 0) {
      cleanup_free char *t = nook_error_text(e);
      nook_warn("job %s: %s", id, t);
      nook_error_free(&e);
    }
  }
  return ret;
}
