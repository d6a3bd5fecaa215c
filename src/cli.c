#include "cli.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "../oci/config.h"

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
      .seccomp_cache = g->seccomp_cache,
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

/* Go's time.ParseDuration: "300ms", "1.5h", "2h45m", "-1s"; units ns, us
 * (µs, μs), ms, s, m, h; "0" alone needs no unit. */
int cli_parse_go_duration(const char *s, long long *out)
{
  static const struct {
    const char *name;
    long long ns;
  } units[] = {
      {"ns", 1},       {"us", 1000},        {"\xc2\xb5s", 1000},  {"\xce\xbcs", 1000},
      {"ms", 1000000}, {"s", 1000000000LL}, {"m", 60000000000LL}, {"h", 3600000000000LL},
  };
  bool neg = false;
  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (strcmp(s, "0") == 0) {
    *out = 0;
    return 0;
  }
  if (*s == '\0')
    return -1;
  long double total = 0;
  while (*s) {
    const char *start = s;
    long double v = 0;
    while (*s >= '0' && *s <= '9')
      v = v * 10 + (*s++ - '0');
    bool int_digits = s > start;
    long double scale = 1;
    bool frac_digits = false;
    if (*s == '.') {
      s++;
      while (*s >= '0' && *s <= '9') {
        scale /= 10;
        v += (*s++ - '0') * scale;
        frac_digits = true;
      }
    }
    if (!int_digits && !frac_digits)
      return -1;
    size_t ulen = strcspn(s, "0123456789.");
    size_t i = 0;
    while (i < sizeof(units) / sizeof(units[0]) &&
           (strlen(units[i].name) != ulen || strncmp(units[i].name, s, ulen) != 0))
      i++;
    if (ulen == 0 || i == sizeof(units) / sizeof(units[0]))
      return -1;
    s += ulen;
    total += v * units[i].ns;
    if (total > (long double)INT64_MAX)
      return -1;
  }
  *out = (long long)(neg ? -total : total);
  return 0;
}

/* docker/go-units' RAMInBytes, which runc uses: a decimal number, an
 * optional space, an optional k/m/g/t/p (powers of 1024) and optional
 * "i" and "b", in any case: "512m", "1.5g", "1GiB", "100". */
int cli_ram_in_bytes(const char *opt, const char *s, int64_t *out, nook_error_t *err)
{
  const char *p = s;
  size_t dots = 0;
  if (*p < '0' || *p > '9')
    goto invalid;
  while (*p >= '0' && *p <= '9')
    p++;
  while (*p == '.' && p[1] >= '0' && p[1] <= '9') {
    dots++;
    p++;
    while (*p >= '0' && *p <= '9')
      p++;
  }
  size_t numlen = (size_t)(p - s);
  if (*p == ' ')
    p++;
  double mult = 1;
  const char *units = "kmgtp";
  const char *u = *p ? strchr(units, *p | 0x20) : NULL;
  if (u != NULL) {
    for (const char *x = units; x <= u; x++)
      mult *= 1024;
    p++;
  }
  if (*p == 'i' || *p == 'I')
    p++;
  if (*p == 'b' || *p == 'B')
    p++;
  if (*p != '\0')
    goto invalid;
  if (dots > 1)
    return nook_error(err, 0,
                      "invalid value for %s: strconv.ParseFloat: parsing \"%.*s\": invalid syntax",
                      opt, (int)numlen, s);
  double v = strtod(s, NULL) * mult;
  if (!(v < 9223372036854775808.0))
    goto invalid;
  *out = (int64_t)v;
  return 0;
invalid:
  return nook_error(err, 0, "invalid value for %s: invalid size: '%s'", opt, s);
}

/* Signal names are case-insensitive, as with runc. */
int cli_parse_signal(const char *arg, nook_error_t *err)
{
  /* Signal 0 (runc takes any number) delivers nothing: it asks whether the
   * container is still there. */
  if (strcmp(arg, "0") == 0)
    return 0;
  char name[32];
  size_t n = strlen(arg);
  if (n < sizeof(name)) {
    for (size_t i = 0; i <= n; i++)
      name[i] = (char)toupper((unsigned char)arg[i]);
    int sig = oci_signal_from_name(name);
    if (sig >= 0)
      return sig;
  }
  return nook_error(err, 0, "unknown signal \"%s\"", arg);
}
