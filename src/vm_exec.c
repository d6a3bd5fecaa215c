/* `nook vm-exec`: an internal command (not in the help) that boots one
 * microVM with nook as its init, runs commands in the guest one after the
 * other and powers it off.  It exercises the VM-mode foundation end to end
 * (tests/vmmode) until `create`/`run` drive it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../vmm/confine.h"
#include "../vmm/initramfs.h"
#include "../vmm/session.h"
#include "cli.h"

enum {
  OPT_KERNEL_BUNDLE = 256,
  OPT_SHARE,
  OPT_MEMORY,
  OPT_VCPUS,
  OPT_TIMEOUT,
  OPT_TIMINGS,
  OPT_CGROUP,
  OPT_PIDS_LIMIT,
  OPT_VMM_PID_FILE,
  OPT_NETNS,
};

static const struct option longopts[] = {
    {"kernel-bundle", required_argument, NULL, OPT_KERNEL_BUNDLE},
    {"share", required_argument, NULL, OPT_SHARE},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"vcpus", required_argument, NULL, OPT_VCPUS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"timings", optional_argument, NULL, OPT_TIMINGS},
    {"cgroup", required_argument, NULL, OPT_CGROUP},
    {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
    {"vmm-pid-file", required_argument, NULL, OPT_VMM_PID_FILE},
    {"netns", required_argument, NULL, OPT_NETNS},
    {0},
};

static const struct cli_spec spec = {
    .name = "vm-exec",
    .help = "NAME:\n"
            "   nook vm-exec - boot a microVM and run commands in it (internal, for tests)\n"
            "\n"
            "USAGE:\n"
            "   nook vm-exec [command options] -- CMD [ARG...] [\\; CMD [ARG...]]...\n"
            "\n"
            "Each CMD runs in the guest (stdin /dev/null, stdout and stderr relayed) after\n"
            "the one before it ended; the exit status is the last one's.  A command that\n"
            "cannot start fails the whole run with the guest's error.  Shares appear in\n"
            "the guest at /mnt/TAG.\n"
            "\n"
            "OPTIONS:\n"
            "   --kernel-bundle value  the guest kernel bundle (default: scripts/vm-kernel)\n"
            "   --share value          TAG=DIR or TAG=DIR:ro, a host directory for the guest\n"
            "   --memory value         guest memory in MiB (default: 256)\n"
            "   --vcpus value          guest CPUs (default: 1)\n"
            "   --timeout value        seconds from launch to the guest's ready (default: 120)\n"
            "   --timings              print the boot and power-off times on stderr\n"
            "   --cgroup value         the VMM's cgroup, as linux.cgroupsPath (default: one\n"
            "                          named after vm-exec-PID)\n"
            "   --pids-limit value     the VMM cgroup's pids limit, as linux.resources.pids\n"
            "   --vmm-pid-file value   write the VMM's pid there once the guest is ready\n"
            "   --netns value          the VMM's network namespace (default: a new one)\n"
            "\n"
            "The VMM always runs confined (vmm/confine.h).\n",
    .longopts = longopts,
};

static int parse_share(char *arg, struct vmm_share *s, nook_error_t *err)
{
  char *eq = strchr(arg, '=');
  if (eq == NULL || eq == arg || eq[1] == '\0')
    return nook_error(err, 0, "--share %s: want TAG=DIR or TAG=DIR:ro", arg);
  *eq = '\0';
  s->tag = arg;
  s->path = eq + 1;
  s->readonly = false;
  if (has_suffix(s->path, ":ro")) {
    eq[1 + strlen(s->path) - 3] = '\0';
    s->readonly = true;
  }
  return 0;
}

static int parse_uint(const char *opt, const char *arg, unsigned max, unsigned *out,
                      nook_error_t *err)
{
  unsigned long long v;
  if (parse_uint64(arg, &v) < 0 || v == 0 || v > max)
    return nook_error(err, 0, "%s %s: want a number from 1 to %u", opt, arg, max);
  *out = (unsigned)v;
  return 0;
}

int cmd_vm_exec(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  struct vmm_share shares[VMM_MAX_SHARES] = {0};
  /* Whatever the command does in the guest, it has every module. */
  struct vmm_session_opts o = {.backend = "qemu", .needs = VMM_NEED_ALL};
  unsigned timeout_s = 120, pids_limit = 0;
  bool timings = false;
  const char *cgroup = NULL, *pid_file = NULL, *netns = NULL;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    switch (c) {
    case OPT_KERNEL_BUNDLE:
      o.kernel_bundle = optarg;
      break;
    case OPT_SHARE:
      if (o.nshares == VMM_MAX_SHARES)
        return nook_error(err, 0, "at most %d --share", VMM_MAX_SHARES);
      if (parse_share(optarg, &shares[o.nshares], err) < 0)
        return -1;
      o.nshares++;
      break;
    case OPT_MEMORY:
      if (parse_uint("--memory", optarg, 1u << 20, &o.mem_mib, err) < 0)
        return -1;
      break;
    case OPT_VCPUS:
      if (parse_uint("--vcpus", optarg, 255, &o.vcpus, err) < 0)
        return -1;
      break;
    case OPT_TIMEOUT:
      if (parse_uint("--timeout", optarg, 3600, &timeout_s, err) < 0)
        return -1;
      break;
    case OPT_TIMINGS:
      timings = cli_true(optarg);
      break;
    case OPT_CGROUP:
      cgroup = optarg;
      break;
    case OPT_PIDS_LIMIT:
      if (parse_uint("--pids-limit", optarg, 1u << 22, &pids_limit, err) < 0)
        return -1;
      break;
    case OPT_VMM_PID_FILE:
      pid_file = optarg;
      break;
    case OPT_NETNS:
      netns = optarg;
      break;
    }
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args(spec.name, argc - optind, 1, -1, err) < 0)
    return -1;
  o.shares = shares;
  o.boot_timeout_ms = (int)timeout_s * 1000;
  const char *kcache = getenv("NOOK_VM_KCACHE");
  cleanup_free char *cache = NULL;
  xasprintf(&cache, "%s/initramfs", kcache && *kcache ? kcache : "/var/cache/nook-vm");
  o.cache_dir = cache;
  o.work_parent = g->root;

  cleanup_free char *id = NULL;
  xasprintf(&id, "vm-exec-%d", (int)getpid());
  struct oci_resources res = {.has_pids = pids_limit > 0, .pids_limit = pids_limit};
  struct vmm_confinement confine;
  struct vmm_confine_opts co = {
      .backend = vmm_backend_find(o.backend),
      .id = id,
      .cgroups_path = cgroup,
      .resources = &res,
      .mem_mib = o.mem_mib ? o.mem_mib : 256,
      .netns_path = netns,
  };
  if (vmm_confine_prepare(&co, &confine, err) < 0)
    return -1;
  o.confine = &confine;
  o.mem_mib = co.mem_mib;
  struct vmm_session s;
  if (vmm_session_boot(&o, &s, err) < 0) {
    vmm_confine_release(&confine, NULL);
    return -1;
  }
  if (timings)
    fprintf(stderr, "vm-exec: guest %s ready %.0f ms after launch\n", s.kernel_release, s.ready_ms);
  int status = 0, r = 0;
  if (pid_file != NULL) {
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%d\n", (int)s.vm.pid);
    r = write_file_at(AT_FDCWD, pid_file, O_CREAT | O_TRUNC, 0644, buf, (size_t)len, err);
  }
  char **cmd = argv + optind;
  static char *const env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                              "HOME=/root", NULL};
  fflush(stdout);
  while (r == 0 && *cmd != NULL) {
    char **end = cmd;
    while (*end != NULL && strcmp(*end, ";") != 0)
      end++;
    char *saved = *end;
    *end = NULL;
    if (cmd == end)
      r = nook_error(err, 0, "an empty command between `;`");
    else
      r = vmm_session_exec(&s,
                           &(struct chan_exec){.root = "/", .cwd = "/", .env = env, .argv = cmd},
                           STDOUT_FILENO, STDERR_FILENO, -1, &status, err);
    *end = saved;
    if (r < 0)
      break;
    cmd = *end ? end + 1 : end;
  }
  if (r == 0)
    r = vmm_session_poweroff(&s, 30000, err);
  if (r == 0 && timings)
    fprintf(stderr, "vm-exec: powered off\n");
  vmm_session_destroy(&s);
  if (vmm_confine_release(&confine, r < 0 ? NULL : err) < 0)
    r = -1;
  return r < 0 ? -1 : status;
}
