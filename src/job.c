/* nook job: the options, typed; the job itself is libcontainer's (job.h),
 * or VM mode's with --vm (vmm/job.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "../libcontainer/job.h"
#include "../vmm/job.h"
#include "cli.h"

static const char help[] =
    "NAME:\n"
    "   nook job - run one CI job in a container: time limit, teardown, report\n"
    "\n"
    "USAGE:\n"
    "   nook job [--bundle DIR | --rootfs DIR] [command options] [-- CMD ARGS...]\n"
    "\n"
    "DESCRIPTION:\n"
    "   With --rootfs (an image directory, or / for the host's own tree) the config is\n"
    "nook spec's defaults with the options applied, and the image is never written (a\n"
    "private tmpfs layer takes the job's writes); with --bundle it is the bundle's\n"
    "config.json. stdin, stdout and stderr are the job's. After the job, every process,\n"
    "mount and cgroup of it is gone. nook job exits with the job's status; 124 when\n"
    "the timeout fired; 137 when the OOM killer ended it; 125 when the job could not\n"
    "be set up; 128+N when it was killed by signal N. See nook-job(8).\n"
    "\n"
    "OPTIONS:\n"
    "   --bundle value, -b value  the bundle whose config.json the job runs\n"
    "   --rootfs value            the job's root: nook spec's defaults around it\n"
    "   --memory value            memory limit (bytes, or 512m, 2g)\n"
    "   --memory-swap value       memory plus swap limit; -1: unlimited swap\n"
    "   --cpus value              CPUs of time per period (1.5: 150 ms every 100 ms)\n"
    "   --cpuset value            CPUs the job may run on (0-1, 3)\n"
    "   --pids value              the most processes and threads at once\n"
    "   --io-weight value         block I/O weight, 10 to 1000\n"
    "   --timeout value           wall-clock limit (90, 90s, 10m, 1h30m); none by default\n"
    "   --kill-after value        grace after the stop signal before SIGKILL (default: 10s)\n"
    "   --stop-signal value       sent to the job's init on timeout (default: TERM)\n"
    "   --bind value              SRC:DST[:ro] bind mount (repeatable)\n"
    "   --tmpfs value             DST[:SIZE] tmpfs mount (repeatable)\n"
    "   --env value, -e value     NAME=VALUE in the job's environment (repeatable)\n"
    "   --env-file value          NAME=VALUE lines (NAME alone: the value here)\n"
    "   --workdir value, -w value the job's working directory\n"
    "   --user value, -u value    UID[:GID] the job runs as\n"
    "   --hostname value          the job's hostname\n"
    "   --cgroup-parent value     the job's cgroup is PARENT/NAME\n"
    "   --net value               none, host or pasta (userspace networking)\n"
    "   --overlay value           tmpfs, DIR (writes kept in DIR/upper) or none\n"
    "   --report value            write the job's report (JSON) to FILE, - for stderr\n"
    "   --name value              the job's container id (default: job-<random>)\n"
    "   --tty, -t                 give the job a terminal\n"
    "   --vm                      run the job in a virtual machine (VM mode)\n";

enum {
  OPT_ROOTFS = 256,
  OPT_MEMORY,
  OPT_MEMORY_SWAP,
  OPT_CPUS,
  OPT_CPUSET,
  OPT_PIDS,
  OPT_IO_WEIGHT,
  OPT_TIMEOUT,
  OPT_KILL_AFTER,
  OPT_STOP_SIGNAL,
  OPT_BIND,
  OPT_TMPFS,
  OPT_ENV_FILE,
  OPT_HOSTNAME,
  OPT_CGROUP_PARENT,
  OPT_NET,
  OPT_OVERLAY,
  OPT_REPORT,
  OPT_NAME,
  OPT_VM,
};

static const struct option longopts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"rootfs", required_argument, NULL, OPT_ROOTFS},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"memory-swap", required_argument, NULL, OPT_MEMORY_SWAP},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"cpuset", required_argument, NULL, OPT_CPUSET},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"io-weight", required_argument, NULL, OPT_IO_WEIGHT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"kill-after", required_argument, NULL, OPT_KILL_AFTER},
    {"stop-signal", required_argument, NULL, OPT_STOP_SIGNAL},
    {"bind", required_argument, NULL, OPT_BIND},
    {"tmpfs", required_argument, NULL, OPT_TMPFS},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, OPT_ENV_FILE},
    {"workdir", required_argument, NULL, 'w'},
    {"user", required_argument, NULL, 'u'},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"cgroup-parent", required_argument, NULL, OPT_CGROUP_PARENT},
    {"net", required_argument, NULL, OPT_NET},
    {"overlay", required_argument, NULL, OPT_OVERLAY},
    {"report", required_argument, NULL, OPT_REPORT},
    {"name", required_argument, NULL, OPT_NAME},
    {"tty", optional_argument, NULL, 't'},
    {"vm", optional_argument, NULL, OPT_VM},
    {0},
};

/* What the parse owns besides argv's strings. */
struct parsed {
  struct nook_job_opts o;
  struct nook_job_bind *binds;
  struct nook_job_tmpfs *tmpfs;
  char **env_flags; /* --env, pointing into argv */
  char **env_files; /* --env-file, pointing into argv */
  char **owned;     /* strings split from argv */
  size_t n_owned;
};

static char *own(struct parsed *p, char *s)
{
  p->owned[p->n_owned++] = s;
  return s;
}

static void parsed_clear(struct parsed *p)
{
  free(p->binds);
  free(p->tmpfs);
  free(p->env_flags);
  free(p->env_files);
  for (size_t i = 0; i < p->n_owned; i++)
    free(p->owned[i]);
  free(p->owned);
}

static int parse_duration(const char *opt, const char *s, long long *out, nook_error_t *err)
{
  /* A bare number is seconds, as timeout(1) takes it. */
  char *end;
  errno = 0;
  double secs = strtod(s, &end);
  if (*s >= '0' && *s <= '9' && *end == '\0' && errno == 0 && secs < 9e9) {
    *out = (long long)(secs * 1e9 + 0.5);
    return 0;
  }
  if (cli_parse_go_duration(s, out) < 0 || *out < 0)
    return nook_error(err, 0, "%s: invalid duration \"%s\" (90, 90s, 1m30s, 500ms)", opt, s);
  return 0;
}

static int parse_positive(const char *opt, const char *s, long long min, long long max,
                          long long *out, nook_error_t *err)
{
  if (parse_int64(s, out) < 0 || *out < min || *out > max)
    return nook_error(err, 0, "%s: \"%s\" is not a number from %lld to %lld", opt, s, min, max);
  return 0;
}

static int parse_user(const char *s, struct nook_job_opts *o, nook_error_t *err)
{
  cleanup_free char *uid = xstrdup(s);
  char *gid = strchr(uid, ':');
  if (gid)
    *gid++ = '\0';
  long long u, g = 0;
  if (parse_int64(uid, &u) < 0 || u < 0 || u > UINT32_MAX - 1 ||
      (gid && (parse_int64(gid, &g) < 0 || g < 0 || g > UINT32_MAX - 1)))
    return nook_error(err, 0, "--user: \"%s\" is not UID[:GID] (numbers)", s);
  o->has_user = true;
  o->uid = (uint32_t)u;
  o->gid = (uint32_t)g;
  return 0;
}

/* SRC:DST[:ro|:rw] */
static int parse_bind(struct parsed *p, const char *s, nook_error_t *err)
{
  char *copy = own(p, xstrdup(s));
  char *dst = strchr(copy, ':');
  if (dst == NULL || dst == copy)
    return nook_error(err, 0, "--bind: \"%s\" is not SRC:DST[:ro]", s);
  *dst++ = '\0';
  bool ro = false;
  char *mode = strchr(dst, ':');
  if (mode) {
    *mode++ = '\0';
    if (strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
      return nook_error(err, 0, "--bind: \"%s\": the mode is ro or rw, not \"%s\"", s, mode);
    ro = strcmp(mode, "ro") == 0;
  }
  if (dst[0] != '/')
    return nook_error(err, 0, "--bind: \"%s\": the destination must be an absolute path", s);
  struct nook_job_opts *o = &p->o;
  p->binds[o->n_binds++] =
      (struct nook_job_bind){.source = copy, .destination = dst, .readonly = ro};
  return 0;
}

/* DST[:SIZE], SIZE as tmpfs takes it: a number, an optional k/m/g, or N%. */
static int parse_tmpfs(struct parsed *p, const char *s, nook_error_t *err)
{
  char *copy = own(p, xstrdup(s));
  char *size = strchr(copy, ':');
  if (size) {
    *size++ = '\0';
    size_t digits = strspn(size, "0123456789");
    if (digits == 0 || (size[digits] != '\0' &&
                        (strchr("kKmMgG%", size[digits]) == NULL || size[digits + 1] != '\0')))
      return nook_error(err, 0, "--tmpfs: \"%s\": the size is a number with k, m, g or %%", s);
  }
  if (copy[0] != '/')
    return nook_error(err, 0, "--tmpfs: \"%s\": the destination must be an absolute path", s);
  struct nook_job_opts *o = &p->o;
  p->tmpfs[o->n_tmpfs++] = (struct nook_job_tmpfs){.destination = copy, .size = size};
  return 0;
}

static int check_env(const char *opt, const char *entry, nook_error_t *err)
{
  const char *eq = strchr(entry, '=');
  if (eq == NULL || eq == entry)
    return nook_error(err, 0, "%s: \"%s\" is not NAME=VALUE", opt, entry);
  return 0;
}

static int parse_option(struct parsed *p, int c, const char *arg, nook_error_t *err)
{
  struct nook_job_opts *o = &p->o;
  long long v;
  switch (c) {
  case 'b':
    o->bundle = arg;
    break;
  case OPT_ROOTFS:
    o->rootfs = arg;
    break;
  case OPT_MEMORY:
    o->has_memory = true;
    return cli_ram_in_bytes("memory", arg, &o->memory, err);
  case OPT_MEMORY_SWAP:
    o->has_memory_swap = true;
    o->memory_swap = -1;
    return strcmp(arg, "-1") == 0 ? 0 : cli_ram_in_bytes("memory-swap", arg, &o->memory_swap, err);
  case OPT_CPUS: {
    char *end;
    errno = 0;
    double cpus = strtod(arg, &end);
    if (end == arg || *end != '\0' || errno != 0 || !(cpus >= 0.01 && cpus <= 1e6))
      return nook_error(err, 0, "--cpus: \"%s\" is not a number of CPUs (0.5, 2)", arg);
    o->cpu_quota = (int64_t)(cpus * 100000 + 0.5);
    break;
  }
  case OPT_CPUSET:
    o->cpuset = arg;
    break;
  case OPT_PIDS:
    if (parse_positive("--pids", arg, 1, INT64_MAX, &v, err) < 0)
      return -1;
    o->has_pids = true;
    o->pids = v;
    break;
  case OPT_IO_WEIGHT:
    if (parse_positive("--io-weight", arg, 10, 1000, &v, err) < 0)
      return -1;
    o->has_io_weight = true;
    o->io_weight = (uint16_t)v;
    break;
  case OPT_TIMEOUT:
    return parse_duration("--timeout", arg, &o->timeout_ns, err);
  case OPT_KILL_AFTER:
    return parse_duration("--kill-after", arg, &o->kill_after_ns, err);
  case OPT_STOP_SIGNAL:
    if ((o->stop_signal = cli_parse_signal(arg, err)) < 0)
      return nook_error_wrap(err, "--stop-signal");
    if (o->stop_signal == 0)
      return nook_error(err, 0, "--stop-signal: 0 is not a signal");
    break;
  case OPT_BIND:
    return parse_bind(p, arg, err);
  case OPT_TMPFS:
    return parse_tmpfs(p, arg, err);
  case 'e':
    if (check_env("--env", arg, err) < 0)
      return -1;
    p->env_flags[p->o.n_env++] = (char *)arg;
    break;
  case OPT_ENV_FILE:
    p->env_files[p->o.n_env_files++] = (char *)arg;
    break;
  case 'w':
    if (arg[0] != '/')
      return nook_error(err, 0, "--workdir: \"%s\" is not an absolute path", arg);
    o->workdir = arg;
    break;
  case 'u':
    return parse_user(arg, o, err);
  case OPT_HOSTNAME:
    o->hostname = arg;
    break;
  case OPT_CGROUP_PARENT:
    o->cgroup_parent = arg;
    break;
  case OPT_NET:
    if (strcmp(arg, "none") == 0)
      o->net = NOOK_JOB_NET_NONE;
    else if (strcmp(arg, "host") == 0)
      o->net = NOOK_JOB_NET_HOST;
    else if (strcmp(arg, "pasta") == 0)
      o->net = NOOK_JOB_NET_PASTA;
    else
      return nook_error(err, 0, "--net: \"%s\" is not none, host or pasta", arg);
    break;
  case OPT_OVERLAY:
    if (*arg == '\0')
      return nook_error(err, 0, "--overlay: tmpfs, none or a directory");
    o->overlay = arg;
    break;
  case OPT_REPORT:
    o->report = arg;
    break;
  case OPT_NAME:
    o->id = arg;
    break;
  case 't':
    o->tty = cli_true(arg);
    break;
  case OPT_VM:
    o->vm = cli_true(arg);
    break;
  }
  return 0;
}

/* The combinations no single option can refuse. */
static int check_opts(const struct nook_job_opts *o, nook_error_t *err)
{
  if ((o->bundle == NULL) == (o->rootfs == NULL))
    return nook_error(err, 0, "give exactly one of --bundle and --rootfs");
  if (o->vm && o->net == NOOK_JOB_NET_PASTA)
    return nook_error(err, 0, "--net pasta: not available with --vm (the VM has no network)");
  if (o->vm && o->tty)
    return nook_error(err, 0, "--tty: not available with --vm yet");
  return 0;
}

static int parse(const struct cli_global *g, int argc, char **argv, struct parsed *p,
                 nook_error_t *err)
{
  static const struct cli_spec spec = {
      .name = "job",
      .help = help,
      .shortopts = "b:e:w:u:t",
      .longopts = longopts,
      .in_order = true,
  };
  /* Each repeatable option takes at most one slot per argument. */
  p->binds = xcalloc((size_t)argc, sizeof(*p->binds));
  p->tmpfs = xcalloc((size_t)argc, sizeof(*p->tmpfs));
  p->env_flags = xcalloc((size_t)argc, sizeof(char *));
  p->env_files = xcalloc((size_t)argc, sizeof(char *));
  p->owned = xcalloc((size_t)argc, sizeof(char *));
  struct nook_job_opts *o = &p->o;
  *o = (struct nook_job_opts){.root = g->root,
                              .kill_after_ns = NOOK_JOB_DEFAULT_KILL_AFTER_NS,
                              .stop_signal = SIGTERM,
                              .systemd_cgroup = g->systemd_cgroup,
                              .rootless = g->rootless,
                              .seccomp_cache = g->seccomp_cache,
                              .binds = p->binds,
                              .tmpfs = p->tmpfs,
                              .env = p->env_flags,
                              .env_files = p->env_files};
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    if (parse_option(p, c, optarg, err) < 0)
      return CLI_FAIL;
  }
  if (c != CLI_DONE)
    return c;
  o->args = argv + optind;
  o->n_args = (size_t)(argc - optind);
  if (g->vm_mode)
    o->vm = true;
  return check_opts(o, err) < 0 ? CLI_FAIL : 0;
}

int cmd_job(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  /* A job that could not be set up exits 125, whatever failed. */
  cli_fail_status = NOOK_JOB_STATUS_SETUP;
  struct parsed p = {0};
  struct nook_job_report r = {0};
  int status = -1;
  int c = parse(g, argc, argv, &p, err);
  if (c == CLI_HELP) {
    status = 0;
  } else if (c < 0) {
    /* Still a report, when the runner asked for one: it must not wait for
     * a file that never comes. */
    if (p.o.report != NULL) {
      nook_job_report_setup_error(&r, *err);
      r.kill_after_ns = p.o.kill_after_ns;
      r.stop_signal = p.o.stop_signal;
      nook_job_report_write(p.o.report, &r, NULL);
    }
  } else if ((p.o.vm ? vmm_job_run(&p.o, &r, err) : nook_job_run(&p.o, &r, err)) == 0) {
    status = r.exit_status;
  }
  nook_job_report_clear(&r);
  parsed_clear(&p);
  return status;
}
