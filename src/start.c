#include "../vmm/container.h"
#include "cli.h"

static const struct cli_spec spec = {
    .name = "start",
    .help = "NAME:\n"
            "   nook start - executes the user defined process in a created container\n"
            "\n"
            "USAGE:\n"
            "   nook start <container-id>\n"
            "\n"
            "Where \"<container-id>\" is your name for the instance of the container that you\n"
            "are starting. The name you provide for the container instance must be unique on\n"
            "your host.\n"
            "\n"
            "DESCRIPTION:\n"
            "   The start command executes the user defined process in a created container.\n",
};

int cmd_start(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  int r = cli_parse_plain(&spec, argc, argv, 1, 1, err);
  if (r != 0)
    return cli_stop(r);
  if (vmm_container_is_vm(g->root, argv[optind]))
    return vmm_container_start(g->root, argv[optind], err) < 0 ? -1 : 0;
  return nook_container_start(g->root, argv[optind], err) < 0 ? -1 : 0;
}
