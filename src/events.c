#include "../vmm/container.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

enum { OPT_INTERVAL = 256, OPT_STATS };

static const struct option longopts[] = {
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"stats", optional_argument, NULL, OPT_STATS},
    {0},
};

static const struct cli_spec spec = {
    .name = "events",
    .help = "NAME:\n"
            "   nook events - display container events such as OOM notifications, cpu, memory, "
            "and IO usage statistics\n"
            "\n"
            "USAGE:\n"
            "   nook events [command options] <container-id>\n"
            "\n"
            "Where \"<container-id>\" is the name for the instance of the container.\n"
            "\n"
            "DESCRIPTION:\n"
            "   The events command displays information about the container. By default the\n"
            "information is displayed once every 5 seconds.\n"
            "\n"
            "OPTIONS:\n"
            "   --interval value  set the stats collection interval (default: 5s)\n"
            "   --stats           display the container's stats then exit\n",
    .longopts = longopts,
};

static int print_event(const char *json, void *data, nook_error_t *err)
{
  if (fputs(json, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) != 0)
    return nook_error(err, errno, "write to stdout");
  return 0;
}

int cmd_events(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  struct nook_events_opts o = {.interval_ns = 5000000000LL, .emit = print_event};
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    switch (c) {
    case OPT_INTERVAL:
      if (cli_parse_go_duration(optarg, &o.interval_ns) < 0)
        return nook_error(err, 0, "invalid value \"%s\" for flag -interval: parse error", optarg);
      break;
    case OPT_STATS:
      o.stats_only = cli_true(optarg);
      break;
    }
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args(spec.name, argc - optind, 1, 1, err) < 0)
    return -1;
  if (vmm_container_is_vm(g->root, argv[optind]))
    return vmm_container_events(g->root, argv[optind], &o, err) < 0 ? -1 : 0;
  return nook_container_events(g->root, argv[optind], &o, err) < 0 ? -1 : 0;
}
