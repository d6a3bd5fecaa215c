#include "../base/utils.h"
#include "../vmm/container.h"
#include "cli.h"

static const char help[] =
    "NAME:\n"
    "   nook run - create and run a container\n"
    "\n"
    "USAGE:\n"
    "   nook run [command options] <container-id>\n"
    "\n"
    "Where \"<container-id>\" is your name for the instance of the container that you\n"
    "are starting. The name you provide for the container instance must be unique on\n"
    "your host.\n"
    "\n"
    "DESCRIPTION:\n"
    "   The run command creates an instance of a container for a bundle and starts it.\n"
    "The bundle is a directory with a specification file named \"config.json\" and a\n"
    "root filesystem.\n"
    "\n"
    "Unless --detach is given, nook waits for the container's process and exits with\n"
    "its status (128+N if it was killed by signal N), then deletes the container\n"
    "unless --keep is given.\n"
    "\n"
    "OPTIONS:\n"
    "   --bundle value, -b value  path to the root of the bundle directory, defaults to the "
    "current directory\n"
    "   --console-socket value    path to an AF_UNIX socket which will receive a file descriptor "
    "referencing the master end of the console's pseudoterminal\n"
    "   --detach, -d              detach from the container's process\n"
    "   --keep                    do not delete the container after it exits\n"
    "   --pid-file value          specify the file to write the process id to\n"
    "   --no-subreaper            accepted for compatibility with runc, and "
    "ignored\n" CLI_CREATE_COMMON_HELP;

int cmd_run(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  struct nook_create_opts o;
  int r = cli_parse_create(g, argc, argv, help, true, &o, err);
  if (r != 0)
    return cli_stop(r);
  int status = 0;
  cleanup_free char *config = NULL;
  int vm = vmm_bundle_wants_vm(o.bundle, g->vm_mode, &config, &o.config_len, err);
  if (vm < 0)
    return -1;
  o.config_json = config;
  if (vm ? vmm_container_run(&o, g->vm_mode, &status, err) < 0
         : nook_container_run(&o, &status, err) < 0)
    return -1;
  return status;
}
