#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../base/utils.h"

/* strconv.ParseBool's spellings, which runc's boolean flags accept. */
int cli_parse_bool(const char *s, bool *out)
{
  static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
  static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
    if (strcmp(s, yes[i]) == 0 || strcmp(s, no[i]) == 0) {
      *out = strcmp(s, yes[i]) == 0;
      return 0;
    }
  }
  return -1;
}

bool cli_true(const char *arg)
{
  bool v = true;
  if (arg != NULL)
    cli_parse_bool(arg, &v);
  return v;
}

/* The flag as the user wrote it, without any "=value". */
static const char *flag_name(char *buf, size_t size, const char *arg)
{
  snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
  return buf;
}

int cli_getopt(int argc, char **argv, const struct cli_spec *spec, nook_error_t *err)
{
  /* Every command takes --help: append it rather than repeat it in each table. */
  size_t n = 0;
  while (spec->longopts != NULL && spec->longopts[n].name != NULL)
    n++;
  struct option longopts[n + 2];
  if (n > 0)
    memcpy(longopts, spec->longopts, n * sizeof(*longopts));
  longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
  longopts[n + 1] = (struct option){0};
  cleanup_free char *shortopts = NULL;
  xasprintf(&shortopts, "%s:%sh", spec->in_order ? "+" : "",
            spec->shortopts ? spec->shortopts : "");

  opterr = 0;
  int index = -1;
  int c = getopt_long_only(argc, argv, shortopts, longopts, &index);
  char name[64];
  switch (c) {
  case -1:
    return CLI_DONE;
  case 'h':
    if (spec->help == NULL)
      return c;
    fputs(spec->help, stdout);
    return CLI_HELP;
  case '?':
    if (optopt != 0)
      nook_error(err, 0, "flag provided but not defined: -%c", optopt);
    else
      nook_error(err, 0, "flag provided but not defined: %s",
                 flag_name(name, sizeof(name), argv[optind - 1]));
    return CLI_FAIL;
  case ':':
    nook_error(err, 0, "flag needs an argument: %s",
               flag_name(name, sizeof(name), argv[optind - 1]));
    return CLI_FAIL;
  }
  bool ignored;
  if (index >= 0 && longopts[index].has_arg == optional_argument && optarg != NULL &&
      cli_parse_bool(optarg, &ignored) < 0) {
    nook_error(err, 0, "invalid boolean value \"%s\" for -%s: parse error", optarg,
               longopts[index].name);
    return CLI_FAIL;
  }
  return c;
}

int cli_check_args(const char *name, int nargs, int min, int max, nook_error_t *err)
{
  if (min == max && nargs != min)
    return nook_error(err, 0, "\"%s\" requires exactly %d argument(s)", name, min);
  if (nargs < min)
    return nook_error(err, 0, "\"%s\" requires a minimum of %d argument(s)", name, min);
  if (max >= 0 && nargs > max)
    return nook_error(err, 0, "\"%s\" requires a maximum of %d argument(s)", name, max);
  return 0;
}

int cli_parse_plain(const struct cli_spec *spec, int argc, char **argv, int min, int max,
                    nook_error_t *err)
{
  int c;
  while ((c = cli_getopt(argc, argv, spec, err)) >= 0) {
    /* no options besides --help */
  }
  if (c != CLI_DONE)
    return c;
  if (cli_check_args(spec->name, argc - optind, min, max, err) < 0)
    return CLI_FAIL;
  return 0;
}

enum {
  OPT_CONSOLE_SOCKET = 256,
  OPT_PID_FILE,
  OPT_NO_PIVOT,
  OPT_NO_NEW_KEYRING,
  OPT_PRESERVE_FDS,
  OPT_KEEP,
  OPT_NO_SUBREAPER,
};

/* create's options, which run shares. */
// clang-format off
#define CREATE_OPTIONS                                                   \
  {"bundle", required_argument, NULL, 'b'},                              \
  {"console-socket", required_argument, NULL, OPT_CONSOLE_SOCKET},       \
  {"pid-file", required_argument, NULL, OPT_PID_FILE},                   \
  {"no-pivot", optional_argument, NULL, OPT_NO_PIVOT},                   \
  {"no-new-keyring", optional_argument, NULL, OPT_NO_NEW_KEYRING},       \
  {"preserve-fds", required_argument, NULL, OPT_PRESERVE_FDS}
// clang-format on

static const struct option create_longopts[] = {CREATE_OPTIONS, {0}};
static const struct option run_longopts[] = {
    CREATE_OPTIONS,
    {"detach", optional_argument, NULL, 'd'},
    {"keep", optional_argument, NULL, OPT_KEEP},
    /* Accepted and ignored, so engines that pass it keep working. */
    {"no-subreaper", optional_argument, NULL, OPT_NO_SUBREAPER},
    {0},
};

int cli_parse_create(const struct cli_global *g, int argc, char **argv, const char *help, bool run,
                     struct nook_create_opts *o, nook_error_t *err)
{
  const struct cli_spec spec = {
      .name = argv[0],
      .help = help,
      .shortopts = run ? "b:d" : "b:",
      .longopts = run ? run_longopts : create_longopts,
  };
  *o = (struct nook_create_opts){
      .root = g->root,
      .bundle = ".",
      .systemd_cgroup = g->systemd_cgroup,
      .rootless = g->rootless,
  };
  long long fds;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    switch (c) {
    case 'b':
      o->bundle = optarg;
      break;
    case OPT_CONSOLE_SOCKET:
      o->console_socket = optarg;
      break;
    case OPT_PID_FILE:
      o->pid_file = optarg;
      break;
    case OPT_NO_PIVOT:
      o->no_pivot = cli_true(optarg);
      break;
    case OPT_NO_NEW_KEYRING:
      o->no_new_keyring = cli_true(optarg);
      break;
    case OPT_PRESERVE_FDS:
      if (parse_int64(optarg, &fds) < 0 || fds < 0 || fds > INT_MAX) {
        nook_error(err, 0, "invalid value \"%s\" for flag -preserve-fds: parse error", optarg);
        return CLI_FAIL;
      }
      o->preserve_fds = (int)fds;
      break;
    case 'd':
      o->detach = cli_true(optarg);
      break;
    case OPT_KEEP:
      o->keep = cli_true(optarg);
      break;
    case OPT_NO_SUBREAPER:
      break;
    }
  }
  if (c != CLI_DONE)
    return c;
  if (cli_check_args(spec.name, argc - optind, 1, 1, err) < 0)
    return CLI_FAIL;
  o->id = argv[optind];
  return 0;
}

void cli_print(const char *text)
{
  fputs(text, stdout);
  if (*text == '\0' || text[strlen(text) - 1] != '\n')
    fputc('\n', stdout);
}
