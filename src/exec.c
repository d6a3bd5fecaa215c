#include "../vmm/container.h"
#include <limits.h>
#include <stdlib.h>

#include "../base/utils.h"
#include "cli.h"

enum {
  OPT_CONSOLE_SOCKET = 256,
  OPT_CWD,
  OPT_PID_FILE,
  OPT_PROCESS_LABEL,
  OPT_APPARMOR,
  OPT_NO_NEW_PRIVS,
  OPT_PRESERVE_FDS,
  OPT_CGROUP,
  OPT_IGNORE_PAUSED,
};

static const struct option longopts[] = {
    {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"env", required_argument, NULL, 'e'},
    {"tty", optional_argument, NULL, 't'},
    {"user", required_argument, NULL, 'u'},
    {"additional-gids", required_argument, NULL, 'g'},
    {"process", required_argument, NULL, 'p'},
    {"detach", optional_argument, NULL, 'd'},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"process-label", required_argument, NULL, OPT_PROCESS_LABEL},
    {"apparmor", required_argument, NULL, OPT_APPARMOR},
    {"no-new-privs", optional_argument, NULL, OPT_NO_NEW_PRIVS},
    {"cap", required_argument, NULL, 'c'},
    {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS},
    {"cgroup", required_argument, NULL, OPT_CGROUP},
    {"ignore-paused", optional_argument, NULL, OPT_IGNORE_PAUSED},
    {0},
};

static const struct cli_spec spec = {
    .name = "exec",
    .help =
        "NAME:\n"
        "   nook exec - execute new process inside the container\n"
        "\n"
        "USAGE:\n"
        "   nook exec [command options] <container-id> <command> [command options]  || -p "
        "process.json <container-id>\n"
        "\n"
        "Where \"<container-id>\" is the name for the instance of the container and\n"
        "\"<command>\" is the command to be executed in the container.\n"
        "\"<command>\" can't be empty unless a \"-p\" flag provided.\n"
        "\n"
        "EXAMPLE:\n"
        "For example, if the container is configured to run the linux ps command the\n"
        "following will output a list of processes running in the container:\n"
        "\n"
        "       # nook exec <container-id> ps\n"
        "\n"
        "OPTIONS:\n"
        "   --console-socket value             path to an AF_UNIX socket which will receive a "
        "file descriptor referencing the master end of the console's pseudoterminal\n"
        "   --cwd value                        current working directory in the container\n"
        "   --env value, -e value              set environment variables\n"
        "   --tty, -t                          allocate a pseudo-TTY\n"
        "   --user value, -u value             UID (format: <uid>[:<gid>]), or a user name "
        "(format: <name>[:<group>]) from the container's /etc/passwd and /etc/group\n"
        "   --additional-gids value, -g value  additional gids\n"
        "   --process value, -p value          path to the process.json\n"
        "   --detach, -d                       detach from the container's process\n"
        "   --pid-file value                   specify the file to write the process id to\n"
        "   --process-label value              set the asm process label for the process "
        "commonly used with selinux\n"
        "   --apparmor value                   set the apparmor profile for the process\n"
        "   --no-new-privs                     set the no new privileges value for the process\n"
        "   --cap value, -c value              add a capability to the bounding set for the "
        "process\n"
        "   --preserve-fds value               Pass N additional file descriptors to the "
        "container (stdio + $LISTEN_FDS + N in total) (default: 0)\n"
        "   --cgroup value                     run the process in an (existing) sub-cgroup(s). "
        "Format is [<controller>:]<cgroup>.\n"
        "   --ignore-paused                    allow exec in a paused container\n",
    .shortopts = "e:tu:g:p:dc:",
    .longopts = longopts,
    /* Options end at the container id: what follows is the command's. */
    .in_order = true,
};

/* Append to one of the repeatable options (at most argc entries each). */
static void push(char ***v, size_t *n, int argc, char *s)
{
  if (*v == NULL)
    *v = xmalloc((size_t)argc * sizeof(char *));
  (*v)[(*n)++] = s;
}

int cmd_exec(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  struct nook_exec_opts o = {.root = g->root, .seccomp_cache = g->seccomp_cache};
  long long fds;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    switch (c) {
    case OPT_CONSOLE_SOCKET:
      o.console_socket = optarg;
      break;
    case OPT_CWD:
      o.cwd = optarg;
      break;
    case 'e':
      push(&o.env, &o.n_env, argc, optarg);
      break;
    case 't':
      o.tty = cli_true(optarg);
      break;
    case 'u':
      o.user = optarg;
      break;
    case 'g':
      push(&o.additional_gids, &o.n_additional_gids, argc, optarg);
      break;
    case 'p':
      o.process_file = optarg;
      break;
    case 'd':
      o.detach = cli_true(optarg);
      break;
    case OPT_PID_FILE:
      o.pid_file = optarg;
      break;
    case OPT_PROCESS_LABEL:
      o.process_label = optarg;
      break;
    case OPT_APPARMOR:
      o.apparmor = optarg;
      break;
    case OPT_NO_NEW_PRIVS:
      o.no_new_privs = cli_true(optarg);
      break;
    case 'c':
      push(&o.caps, &o.n_caps, argc, optarg);
      break;
    case OPT_PRESERVE_FDS:
      if (parse_int64(optarg, &fds) < 0 || fds < 0 || fds > INT_MAX) {
        nook_error(err, 0, "invalid value \"%s\" for flag -preserve-fds: parse error", optarg);
        return -1;
      }
      o.preserve_fds = (int)fds;
      break;
    case OPT_CGROUP:
      push(&o.cgroups, &o.n_cgroups, argc, optarg);
      break;
    case OPT_IGNORE_PAUSED:
      o.ignore_paused = cli_true(optarg);
      break;
    }
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args("exec", argc - optind, 1, -1, err) < 0)
    return -1;
  o.id = argv[optind];
  o.args = argv + optind + 1;
  o.n_args = (size_t)(argc - optind - 1);
  int status = 0;
  /* From here a failure is the runtime's, not the process's. */
  cli_fail_status = 255;
  int r = vmm_container_is_vm(g->root, o.id) ? vmm_container_exec(&o, &status, err)
                                             : nook_container_exec(&o, &status, err);
  free(o.env);
  free(o.additional_gids);
  free(o.caps);
  free(o.cgroups);
  return r < 0 ? -1 : status;
}
