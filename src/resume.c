#include "../vmm/container.h"
#include "cli.h"

static const struct cli_spec spec = {
    .name = "resume",
    .help = "NAME:\n"
            "   nook resume - resumes all processes that have been previously paused\n"
            "\n"
            "USAGE:\n"
            "   nook resume <container-id>\n"
            "\n"
            "Where \"<container-id>\" is the name for the instance of the container to be\n"
            "resumed.\n"
            "\n"
            "DESCRIPTION:\n"
            "   The resume command resumes all processes in the instance of the container.\n"
            "\n"
            "Use nook list to identify instances of containers and their current status.\n",
};

int cmd_resume(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  int r = cli_parse_plain(&spec, argc, argv, 1, 1, err);
  if (r != 0)
    return cli_stop(r);
  if (vmm_container_is_vm(g->root, argv[optind]))
    return vmm_container_resume(g->root, argv[optind], err) < 0 ? -1 : 0;
  return nook_container_resume(g->root, argv[optind], err) < 0 ? -1 : 0;
}
