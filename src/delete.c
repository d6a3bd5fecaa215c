#include "../vmm/container.h"
#include "cli.h"

static const struct option longopts[] = {
    {"force", optional_argument, NULL, 'f'},
    {0},
};

static const struct cli_spec spec = {
    .name = "delete",
    .help = "NAME:\n"
            "   nook delete - delete any resources held by the container often used with "
            "detached container\n"
            "\n"
            "USAGE:\n"
            "   nook delete [command options] <container-id>\n"
            "\n"
            "Where \"<container-id>\" is the name for the instance of the container.\n"
            "\n"
            "EXAMPLE:\n"
            "For example, if the container id is \"ubuntu01\" and nook list currently shows "
            "the\n"
            "status of \"ubuntu01\" as \"stopped\" the following will delete resources held "
            "for\n"
            "\"ubuntu01\" removing \"ubuntu01\" from the nook list of containers:\n"
            "\n"
            "       # nook delete ubuntu01\n"
            "\n"
            "OPTIONS:\n"
            "   --force, -f  Forcibly deletes the container if it is still running (uses "
            "SIGKILL)\n",
    .shortopts = "f",
    .longopts = longopts,
};

int cmd_delete(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  bool force = false;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    if (c == 'f')
      force = cli_true(optarg);
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args(spec.name, argc - optind, 1, 1, err) < 0)
    return -1;
  if (vmm_container_is_vm(g->root, argv[optind]))
    return vmm_container_delete(g->root, argv[optind], force, err) < 0 ? -1 : 0;
  return nook_container_delete(g->root, argv[optind], force, err) < 0 ? -1 : 0;
}
