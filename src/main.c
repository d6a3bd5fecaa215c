/* nook's command line: global options, the command table, and the one place
 * that prints errors and decides the exit status. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "../libcontainer/rootless.h"
#include "../libcontainer/seccomp.h"
#include "../vmm/guest.h"
#include "../vmm/mode.h"
#include "cli.h"

#define NOOK_SPEC_VERSION "1.3.0"
#define NOOK_FEATURES "+SECCOMP +CAP +YAJL"

static cli_handler cmd_help;
cli_handler cmd_pause, cmd_resume, cmd_update, cmd_events, cmd_ps, cmd_exec, cmd_vm_exec,
    cmd_seccomp_precompile;

struct command {
  const char *name;
  cli_handler *run;
  const char *summary;
};

static const struct command commands[] = {
    {"create", cmd_create, "create a container"},
    {"delete", cmd_delete,
     "delete any resources held by the container often used with detached container"},
    {"events", cmd_events,
     "display container events such as OOM notifications, cpu, memory, and IO usage statistics"},
    {"exec", cmd_exec, "execute new process inside the container"},
    {"job", cmd_job, "run one CI job: a time limit, a teardown nothing survives, a report"},
    {"kill", cmd_kill,
     "kill sends the specified signal (default: SIGTERM) to the container's init process"},
    {"list", cmd_list, "lists containers started by nook with the given root"},
    {"pause", cmd_pause, "pause suspends all processes inside the container"},
    {"ps", cmd_ps, "ps displays the processes running inside a container"},
    {"resume", cmd_resume, "resumes all processes that have been previously paused"},
    {"seccomp-precompile", cmd_seccomp_precompile,
     "compile seccomp profiles into the compiled-filter cache"},
    {"run", cmd_run, "create and run a container"},
    {"spec", cmd_spec, "create a new specification file"},
    {"start", cmd_start, "executes the user defined process in a created container"},
    {"state", cmd_state, "output the state of a container"},
    {"update", cmd_update, "update container resource constraints"},
    {"features", cmd_features, "show the enabled features"},
    {"help", cmd_help, "Shows a list of commands or help for one command"},
};

/* Internal commands: found like the others, never listed by help. */
static const struct command internal_commands[] = {
    {"vm-exec", cmd_vm_exec, "boot a microVM and run commands in it (tests)"},
};

/* The commands that keep no state: they run without a state root. */
static bool command_is_stateless(const struct command *c)
{
  return c->run == cmd_spec || c->run == cmd_features || c->run == cmd_help ||
         c->run == cmd_seccomp_precompile;
}

/* "h" is the one alias, as in runc. */
static const struct command *find_command(const char *name)
{
  if (strcmp(name, "h") == 0)
    name = "help";
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
    if (strcmp(commands[i].name, name) == 0)
      return &commands[i];
  }
  for (size_t i = 0; i < ARRAY_SIZE(internal_commands); i++) {
    if (strcmp(internal_commands[i].name, name) == 0)
      return &internal_commands[i];
  }
  return NULL;
}

static void print_version_lines(void)
{
  const struct scmp_version *v = seccomp_version();
  printf("commit: %s\n"
         "spec: %s\n"
         "%s\n",
         NOOK_COMMIT, NOOK_SPEC_VERSION, NOOK_FEATURES);
  if (v != NULL)
    printf("libseccomp: %u.%u.%u\n", v->major, v->minor, v->micro);
}

static void print_help(void)
{
  fputs("NAME:\n"
        "   nook - Open Container Initiative runtime\n"
        "\n"
        "nook is a command line client for running applications packaged according to\n"
        "the Open Container Initiative (OCI) format and is an implementation of the\n"
        "Open Container Initiative runtime specification.\n"
        "\n"
        "Containers are configured using bundles. A bundle for a container is a directory\n"
        "that includes a specification file named \"config.json\" and a root filesystem.\n"
        "The root filesystem contains the contents of the container.\n"
        "\n"
        "To start a new instance of a container:\n"
        "\n"
        "    # nook run [ -b bundle ] <container-id>\n"
        "\n"
        "Where \"<container-id>\" is your name for the instance of the container that you\n"
        "are starting. The name you provide for the container instance must be unique on\n"
        "your host. Providing the bundle directory using \"-b\" is optional. The default\n"
        "value for \"bundle\" is the current directory.\n"
        "\n"
        "USAGE:\n"
        "   nook [global options] command [command options] [arguments...]\n"
        "\n"
        "VERSION:\n"
        "   " NOOK_VERSION "\n",
        stdout);
  print_version_lines();
  fputs("\nCOMMANDS:\n", stdout);
  for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
    const char *name = strcmp(commands[i].name, "help") == 0 ? "help, h" : commands[i].name;
    printf("   %-10s%s\n", name, commands[i].summary);
  }
  fputs("\n"
        "GLOBAL OPTIONS:\n"
        "   --debug             enable debug logging\n"
        "   --log value         set the log file to write nook logs to (default is stderr)\n"
        "   --log-format value  set the log format ('text' (default), or 'json') (default: "
        "\"text\")\n"
        "   --root value        root directory for storage of container state (this should be "
        "located in tmpfs) (default: \"/run/nook\", or \"$XDG_RUNTIME_DIR/nook\" when "
        "rootless)\n"
        "   --criu value        accepted for compatibility and ignored: nook does not "
        "checkpoint\n"
        "   --systemd-cgroup    enable systemd cgroup support, expects cgroupsPath to be of form "
        "\"slice:prefix:name\" for e.g. \"system.slice:nook:434234\"\n"
        "   --rootless value    run as an unprivileged user: cgroups the user cannot write are "
        "skipped with a warning ('true', 'false', or 'auto') (default: \"auto\")\n"
        "   --help, -h          show help\n"
        "   --version, -v       print the version\n",
        stdout);
}

static int cmd_help(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  const struct command *cmd = argc < 2 ? NULL : find_command(argv[1]);
  if (argc < 2 || (cmd != NULL && cmd->run == cmd_help)) {
    print_help();
    return 0;
  }
  if (cmd == NULL)
    return nook_error(err, 0, "No help topic for '%s'", argv[1]);
  char *help_argv[] = {argv[1], "--help", NULL};
  optind = 0;
  return cmd->run(g, 2, help_argv, err);
}

struct globals {
  struct cli_global cli;
  bool root_given;
  const char *rootless; /* "true", "false" or "auto" */
  const char *log;
  enum nook_log_format log_format;
  bool debug, help, version;
};

enum {
  OPT_ROOT = 256,
  OPT_LOG,
  OPT_LOG_FORMAT,
  OPT_DEBUG,
  OPT_SYSTEMD_CGROUP,
  OPT_ROOTLESS,
  OPT_CRIU
};

static const struct option global_longopts[] = {
    {"root", required_argument, NULL, OPT_ROOT},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"debug", optional_argument, NULL, OPT_DEBUG},
    {"systemd-cgroup", optional_argument, NULL, OPT_SYSTEMD_CGROUP},
    {"rootless", required_argument, NULL, OPT_ROOTLESS},
    {"criu", required_argument, NULL, OPT_CRIU},
    {"version", no_argument, NULL, 'v'},
    {0},
};

/* Leaves optind at the command. */
static int parse_globals(int argc, char **argv, struct globals *g, nook_error_t *err)
{
  static const struct cli_spec spec = {
      .name = "nook",
      .shortopts = "v",
      .longopts = global_longopts,
      .in_order = true,
  };
  bool ignored;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    switch (c) {
    case OPT_ROOT:
      g->cli.root = optarg;
      g->root_given = true;
      break;
    case OPT_LOG:
      g->log = optarg;
      break;
    case OPT_LOG_FORMAT:
      if (strcmp(optarg, "text") == 0)
        g->log_format = NOOK_LOG_FORMAT_TEXT;
      else if (strcmp(optarg, "json") == 0)
        g->log_format = NOOK_LOG_FORMAT_JSON;
      else
        return nook_error(err, 0, "invalid log-format: %s", optarg);
      break;
    case OPT_DEBUG:
      g->debug = cli_true(optarg);
      break;
    case OPT_SYSTEMD_CGROUP:
      g->cli.systemd_cgroup = cli_true(optarg);
      break;
    case OPT_ROOTLESS:
      if (strcmp(optarg, "auto") != 0 && cli_parse_bool(optarg, &ignored) < 0)
        return nook_error(err, 0, "invalid --rootless value \"%s\": want true, false or auto",
                          optarg);
      g->rootless = optarg;
      break;
    case OPT_CRIU:
      break;
    case 'h':
      g->help = true;
      break;
    case 'v':
      g->version = true;
      break;
    }
  }
  return c == CLI_DONE ? 0 : -1;
}

/* Rootless or not, and so the default state root: root's is /run/nook; a
 * rootless runtime's is $XDG_RUNTIME_DIR/nook (runc and crun do the same),
 * and without XDG_RUNTIME_DIR there is none (NULL). */
static void resolve_rootless(struct globals *g, char **root_buf)
{
  if (strcmp(g->rootless, "auto") == 0)
    g->cli.rootless = nook_rootless_detect();
  else
    cli_parse_bool(g->rootless, &g->cli.rootless);
  if (g->root_given || !g->cli.rootless)
    return;
  const char *xdg = getenv("XDG_RUNTIME_DIR");
  g->cli.root = NULL;
  if (xdg && *xdg) {
    xasprintf(root_buf, "%s/nook", xdg);
    g->cli.root = *root_buf;
  }
}

int cli_fail_status = 1;

/* The failure goes to stderr as one plain line and, with --log, also to the
 * log file, whose last error line is what engines report.  Without --log,
 * --log-format json turns the stderr line into a JSON record instead. */
static int fail(const struct globals *g, bool log_ready, nook_error_t *err)
{
  cleanup_free char *msg = nook_error_text(*err);
  nook_error_free(err);
  bool to_log = log_ready && (nook_log_fd() >= 0 || g->log_format == NOOK_LOG_FORMAT_JSON);
  if (to_log)
    nook_log(NOOK_LOG_ERROR, "%s", msg);
  if (!to_log || nook_log_fd() >= 0)
    fprintf(stderr, "nook: error: %s\n", msg);
  return cli_fail_status;
}

/* The CLI.  Also run, without an exec, by the children of a VM-mode
 * guest's init (vmm_guest_init()); those reset what a fresh process would
 * have (fds, signals, the log, getopt), and this resets its own state. */
static int nook_main(int argc, char **argv)
{
  struct globals g = {.cli = {.root = "/run/nook"}, .rootless = "auto"};
  cleanup_free char *root_buf = NULL, *seccomp_cache = NULL;
  nook_error_t err = NULL;

  cli_fail_status = 1;
  /* An engine registers nook-vm as a second runtime (a symlink `make
   * install` makes): the name is the whole configuration. */
  g.cli.vm_mode = vmm_invoked_as_vm(argv[0]);

  if (parse_globals(argc, argv, &g, &err) < 0)
    return fail(&g, false, &err);
  if (g.version) {
    printf("nook version %s\n", NOOK_VERSION);
    print_version_lines();
    return 0;
  }
  if (g.help || optind >= argc) {
    print_help();
    return 0;
  }
  if (nook_log_init(g.log, g.log_format, g.debug, &err) < 0)
    return fail(&g, false, &err);

  const char *name = argv[optind];
  const struct command *cmd = find_command(name);
  if (cmd == NULL) {
    nook_error(&err, 0, "unknown command \"%s\"", name);
    return fail(&g, true, &err);
  }
  resolve_rootless(&g, &root_buf);
  seccomp_cache = seccomp_cache_dir(g.cli.rootless);
  g.cli.seccomp_cache = seccomp_cache;
  if (g.cli.root == NULL && !command_is_stateless(cmd)) {
    nook_error(&err, 0,
               "running rootless and XDG_RUNTIME_DIR is not set: give the state directory with "
               "--root DIR (a directory the user owns, ideally on a tmpfs)");
    return fail(&g, true, &err);
  }
  nook_debug("command %s, root %s%s%s", name, g.cli.root ? g.cli.root : "(none)",
             g.cli.rootless ? ", rootless" : "", g.cli.vm_mode ? ", VM mode (nook-vm)" : "");
  int cmd_argc = argc - optind;
  char **cmd_argv = argv + optind;
  optind = 0; /* each command parses its own argv from the start */
  int status = cmd->run(&g.cli, cmd_argc, cmd_argv, &err);
  if (status < 0)
    return fail(&g, true, &err);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    nook_error(&err, errno, "write to stdout");
    return fail(&g, true, &err);
  }
  return status;
}

int main(int argc, char **argv)
{
  /* In a VM-mode guest, nook is the init (the initramfs's /init). */
  if (vmm_guest_is_init(argv[0]))
    vmm_guest_init(nook_main);
  return nook_main(argc, argv);
}
