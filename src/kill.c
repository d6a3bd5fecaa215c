#include <signal.h>
#include <string.h>

#include "../oci/config.h"
#include "../vmm/container.h"
#include "cli.h"

static const struct option longopts[] = {
    {"all", optional_argument, NULL, 'a'},
    {0},
};

static const struct cli_spec spec = {
    .name = "kill",
    .help = "NAME:\n"
            "   nook kill - kill sends the specified signal (default: SIGTERM) to the "
            "container's init process\n"
            "\n"
            "USAGE:\n"
            "   nook kill [command options] <container-id> [signal]\n"
            "\n"
            "Where \"<container-id>\" is the name for the instance of the container and\n"
            "\"[signal]\" is the signal to be sent to the init process, by name (with or\n"
            "without the SIG prefix) or by number.\n"
            "\n"
            "EXAMPLE:\n"
            "For example, if the container id is \"ubuntu01\" the following will send a "
            "\"KILL\"\n"
            "signal to the init process of the \"ubuntu01\" container:\n"
            "\n"
            "       # nook kill ubuntu01 KILL\n"
            "\n"
            "OPTIONS:\n"
            "   --all, -a  send the specified signal to all processes inside the container\n",
    .shortopts = "a",
    .longopts = longopts,
};

int cmd_kill(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  bool all = false;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    if (c == 'a')
      all = cli_true(optarg);
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args(spec.name, argc - optind, 1, 2, err) < 0)
    return -1;
  int sig = SIGTERM;
  if (optind + 1 < argc && (sig = cli_parse_signal(argv[optind + 1], err)) < 0)
    return -1;
  if (vmm_container_is_vm(g->root, argv[optind]))
    return vmm_container_kill(g->root, argv[optind], sig, all, err) < 0 ? -1 : 0;
  return nook_container_kill(g->root, argv[optind], sig, all, err) < 0 ? -1 : 0;
}
