#include <stdlib.h>

#include "../base/utils.h"
#include "../vmm/container.h"
#include "cli.h"

static const struct cli_spec spec = {
    .name = "state",
    .help = "NAME:\n"
            "   nook state - output the state of a container\n"
            "\n"
            "USAGE:\n"
            "   nook state <container-id>\n"
            "\n"
            "Where \"<container-id>\" is your name for the instance of the container.\n"
            "\n"
            "DESCRIPTION:\n"
            "   The state command outputs current state information for the\n"
            "instance of a container.\n",
};

int cmd_state(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  int r = cli_parse_plain(&spec, argc, argv, 1, 1, err);
  if (r != 0)
    return cli_stop(r);
  cleanup_free char *json = NULL;
  int r2 = vmm_container_is_vm(g->root, argv[optind])
               ? vmm_container_state_json(g->root, argv[optind], &json, err)
               : nook_container_state_json(g->root, argv[optind], &json, err);
  if (r2 < 0)
    return -1;
  cli_print(json);
  return 0;
}
