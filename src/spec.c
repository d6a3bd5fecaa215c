#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../oci/spec.h"
#include "cli.h"

static const struct option longopts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"rootless", optional_argument, NULL, 'r'},
    {0},
};

static const struct cli_spec spec = {
    .name = "spec",
    .help = "NAME:\n"
            "   nook spec - create a new specification file\n"
            "\n"
            "USAGE:\n"
            "   nook spec [command options]\n"
            "\n"
            "DESCRIPTION:\n"
            "   The spec command creates the new specification file named \"config.json\" for\n"
            "the bundle.\n"
            "\n"
            "The spec generated is just a starter file: it runs \"sh\" with a terminal in a\n"
            "root filesystem at \"rootfs\". Edit it (for example the args of the process) to\n"
            "get the container you want. An existing config.json is never overwritten.\n"
            "\n"
            "With --rootless the spec is adjusted for a container run by an unprivileged\n"
            "user: a user namespace mapping the caller's uid and gid, no network namespace,\n"
            "and /sys bind-mounted from the host.\n"
            "\n"
            "OPTIONS:\n"
            "   --bundle value, -b value  path to the root of the bundle directory\n"
            "   --rootless                generate a configuration for a rootless container\n",
    .shortopts = "b:",
    .longopts = longopts,
};

int cmd_spec(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  const char *bundle = NULL;
  bool rootless = false;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    if (c == 'b')
      bundle = optarg;
    else if (c == 'r')
      rootless = cli_true(optarg);
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args(spec.name, argc - optind, 0, 0, err) < 0)
    return -1;

  cleanup_free char *path = NULL;
  if (bundle != NULL && *bundle != '\0') {
    /* `spec -b DIR` for a new bundle is the natural first step: make DIR
     * (not its parents) rather than fail on it, as `mkdir DIR` would. */
    if (mkdir(bundle, 0755) < 0 && errno != EEXIST)
      return nook_error(err, errno, "--bundle %s: create the directory", bundle);
    xasprintf(&path, "%s/config.json", bundle);
  } else
    path = xstrdup("config.json");
  /* As runc: a cgroup namespace only on a pure cgroup v2 host.  A host
   * without a recognisable /sys/fs/cgroup just gets none. */
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  bool cgroupns = cgroup_detect_mode(&mode, &e) == 0 && mode == CGROUP_MODE_UNIFIED;
  nook_error_free(&e);
  cleanup_free char *json = oci_default_spec(rootless, cgroupns, geteuid(), getegid(), true);
  if (write_file_at(AT_FDCWD, path, O_CREAT | O_EXCL, 0666, json, strlen(json), err) < 0) {
    if ((*err)->status == EEXIST)
      return nook_error(err, 0, "File config.json exists. Remove it first");
    return -1;
  }
  return 0;
}
