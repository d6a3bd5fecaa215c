#include "../base/utils.h"
#include "../vmm/container.h"
#include "cli.h"

static const char help[] =
    "NAME:\n"
    "   nook create - create a container\n"
    "\n"
    "USAGE:\n"
    "   nook create [command options] <container-id>\n"
    "\n"
    "Where \"<container-id>\" is your name for the instance of the container that you\n"
    "are starting. The name you provide for the container instance must be unique on\n"
    "your host.\n"
    "\n"
    "DESCRIPTION:\n"
    "   The create command creates an instance of a container for a bundle. The bundle\n"
    "is a directory with a specification file named \"config.json\" and a root\n"
    "filesystem.\n"
    "\n"
    "The container's process is set up but does not run the args of the spec until\n"
    "\"nook start\" is called. See \"nook spec --help\" for the specification file.\n"
    "\n"
    "OPTIONS:\n"
    "   --bundle value, -b value  path to the root of the bundle directory, defaults to the "
    "current directory\n"
    "   --console-socket value    path to an AF_UNIX socket which will receive a file descriptor "
    "referencing the master end of the console's pseudoterminal\n"
    "   --pid-file value          specify the file to write the process id "
    "to\n" CLI_CREATE_COMMON_HELP;

int cmd_create(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  struct nook_create_opts o;
  int r = cli_parse_create(g, argc, argv, help, false, &o, err);
  if (r != 0)
    return cli_stop(r);
  /* Never a namespace container for a bundle that asked for a VM. */
  cleanup_free char *config = NULL;
  int vm = vmm_bundle_wants_vm(o.bundle, g->vm_mode, &config, &o.config_len, err);
  if (vm < 0)
    return -1;
  o.config_json = config;
  pid_t monitor;
  if (vm)
    return vmm_container_create(&o, g->vm_mode, &monitor, err) < 0 ? -1 : 0;
  return nook_container_create(&o, err) < 0 ? -1 : 0;
}
