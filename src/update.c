#include "../vmm/container.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "../oci/config.h"
#include "cli.h"

enum {
  OPT_BLKIO_WEIGHT = 256,
  OPT_CPU_PERIOD,
  OPT_CPU_QUOTA,
  OPT_CPU_SHARE,
  OPT_CPU_RT_PERIOD,
  OPT_CPU_RT_RUNTIME,
  OPT_CPUSET_CPUS,
  OPT_CPUSET_MEMS,
  OPT_MEMORY,
  OPT_MEMORY_RESERVATION,
  OPT_MEMORY_SWAP,
  OPT_PIDS_LIMIT,
  OPT_L3_CACHE_SCHEMA,
  OPT_MEM_BW_SCHEMA,
  OPT_KERNEL_MEMORY,
  OPT_KERNEL_MEMORY_TCP,
};

static const struct option longopts[] = {
    {"resources", required_argument, NULL, 'r'},
    {"blkio-weight", required_argument, NULL, OPT_BLKIO_WEIGHT},
    {"cpu-period", required_argument, NULL, OPT_CPU_PERIOD},
    {"cpu-quota", required_argument, NULL, OPT_CPU_QUOTA},
    {"cpu-share", required_argument, NULL, OPT_CPU_SHARE},
    {"cpu-shares", required_argument, NULL, OPT_CPU_SHARE},
    {"cpu-rt-period", required_argument, NULL, OPT_CPU_RT_PERIOD},
    {"cpu-rt-runtime", required_argument, NULL, OPT_CPU_RT_RUNTIME},
    {"cpuset-cpus", required_argument, NULL, OPT_CPUSET_CPUS},
    {"cpuset-mems", required_argument, NULL, OPT_CPUSET_MEMS},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"memory-reservation", required_argument, NULL, OPT_MEMORY_RESERVATION},
    {"memory-swap", required_argument, NULL, OPT_MEMORY_SWAP},
    {"pids-limit", required_argument, NULL, OPT_PIDS_LIMIT},
    {"l3-cache-schema", required_argument, NULL, OPT_L3_CACHE_SCHEMA},
    {"mem-bw-schema", required_argument, NULL, OPT_MEM_BW_SCHEMA},
    {"kernel-memory", required_argument, NULL, OPT_KERNEL_MEMORY},
    {"kernel-memory-tcp", required_argument, NULL, OPT_KERNEL_MEMORY_TCP},
    {0},
};

static const struct cli_spec spec = {
    .name = "update",
    .help =
        "NAME:\n"
        "   nook update - update container resource constraints\n"
        "\n"
        "USAGE:\n"
        "   nook update [command options] <container-id>\n"
        "\n"
        "OPTIONS:\n"
        "   --resources value, -r value  path to the file containing the resources to update or "
        "'-' to read from the standard input\n"
        "\n"
        "The accepted format is as follow (unchanged values can be omitted):\n"
        "\n"
        "{\n"
        "  \"memory\": {\n"
        "    \"limit\": 0,\n"
        "    \"reservation\": 0,\n"
        "    \"swap\": 0\n"
        "  },\n"
        "  \"cpu\": {\n"
        "    \"shares\": 0,\n"
        "    \"quota\": 0,\n"
        "    \"period\": 0,\n"
        "    \"realtimeRuntime\": 0,\n"
        "    \"realtimePeriod\": 0,\n"
        "    \"cpus\": \"\",\n"
        "    \"mems\": \"\"\n"
        "  },\n"
        "  \"blockIO\": {\n"
        "    \"weight\": 0\n"
        "  }\n"
        "}\n"
        "\n"
        "Note: if data is to be read from a file or the standard input, all\n"
        "other options are ignored.\n"
        "   --blkio-weight value        Specifies per cgroup weight, range is from 10 to 1000 "
        "(default: 0)\n"
        "   --cpu-period value          CPU CFS period to be used for hardcapping (in usecs). 0 to "
        "use system default\n"
        "   --cpu-quota value           CPU CFS hardcap limit (in usecs). Allowed cpu time in a "
        "given period\n"
        "   --cpu-share value           CPU shares (relative weight vs. other containers)\n"
        "   --cpu-rt-period value       CPU realtime period to be used for hardcapping (in "
        "usecs). 0 to use system default\n"
        "   --cpu-rt-runtime value      CPU realtime hardcap limit (in usecs). Allowed cpu time "
        "in a given period\n"
        "   --cpuset-cpus value         CPU(s) to use\n"
        "   --cpuset-mems value         Memory node(s) to use\n"
        "   --memory value              Memory limit (in bytes)\n"
        "   --memory-reservation value  Memory reservation or soft_limit (in bytes)\n"
        "   --memory-swap value         Total memory usage (memory + swap); set '-1' to enable "
        "unlimited swap\n"
        "   --pids-limit value          Maximum number of pids allowed in the container "
        "(default: 0)\n"
        "   --l3-cache-schema value     The string of Intel RDT/CAT L3 cache schema\n"
        "   --mem-bw-schema value       The string of Intel RDT/MBA memory bandwidth schema\n",
    .shortopts = "r:",
    .longopts = longopts,
};

/* strconv.ParseUint/ParseInt with base 10, and their messages. */
static int parse_num(const char *opt, const char *s, bool is_signed, void *out, nook_error_t *err)
{
  const char *digits = is_signed && (*s == '-' || *s == '+') ? s + 1 : s;
  bool syntax = *digits != '\0' && digits[strspn(digits, "0123456789")] == '\0';
  long long sv;
  unsigned long long uv;
  if (syntax && is_signed && parse_int64(s, &sv) == 0) {
    *(int64_t *)out = sv;
    return 0;
  }
  if (syntax && !is_signed && parse_uint64(s, &uv) == 0) {
    *(uint64_t *)out = uv;
    return 0;
  }
  return nook_error(err, 0, "invalid value for %s: strconv.%s: parsing \"%s\": %s", opt,
                    is_signed ? "ParseInt" : "ParseUint", s,
                    syntax ? "value out of range" : "invalid syntax");
}

/* urfave/cli's IntFlag: decimal, message as runc prints it. */
static int parse_int_flag(const char *opt, const char *s, long long min, long long max,
                          long long *out, nook_error_t *err)
{
  if (parse_int64(s, out) < 0 || *out < min || *out > max)
    return nook_error(err, 0, "invalid value \"%s\" for flag -%s: parse error", s, opt);
  return 0;
}

/* --resources: the document, parsed into *patch. */
static int read_resources(const char *path, struct oci_resources *patch, nook_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len;
  bool in = strcmp(path, "-") == 0;
  if ((in ? read_input_fd(0, "stdin", &text, &len, err)
          : read_file_at(AT_FDCWD, path, &text, &len, err)) < 0)
    return nook_error_wrap(err, "--resources");
  const char *origin = in ? "stdin" : path;
  if (oci_resources_parse(text, len, origin, patch, err) < 0)
    return -1;
  if (patch->n_devices > 0)
    nook_warn("update: %s: devices cannot be changed by update; ignored", origin);
  return 0;
}

/* As runc: an unlimited memory limit with the swap limit unsaid makes swap
 * unlimited too (cgroup v1 could not hold memory+swap below memory). */
static void unlimited_swap(struct oci_resources *r, bool swap_given)
{
  struct oci_memory *m = &r->memory;
  if (r->has_memory && m->has_limit && m->limit == -1 && !swap_given) {
    m->has_swap = true;
    m->swap = -1;
  }
}

int cmd_update(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  /* runc's flags, typed as the linux.resources they set */
  __attribute__((cleanup(oci_resources_clear))) struct oci_resources r = {0};
  struct oci_memory *mem = &r.memory;
  struct oci_cpu *cpu = &r.cpu;
  const char *resources = NULL;
  bool any_flag = false;
  long long n;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    /* As with runc's string flags, an empty value is no value. */
    if (c != 'r' && optarg != NULL && *optarg == '\0')
      continue;
    any_flag = any_flag || c != 'r';
    switch (c) {
    case 'r':
      resources = *optarg ? optarg : NULL;
      break;
    case OPT_BLKIO_WEIGHT:
      if (parse_int_flag("blkio-weight", optarg, 0, UINT16_MAX, &n, err) < 0)
        return -1;
      r.has_blockio = r.blockio.has_weight = n != 0; /* runc: 0 leaves it unchanged */
      r.blockio.weight = (uint16_t)n;
      break;
    case OPT_CPU_PERIOD:
      if (parse_num("cpu-period", optarg, false, &cpu->period, err) < 0)
        return -1;
      r.has_cpu = cpu->has_period = true;
      break;
    case OPT_CPU_QUOTA:
      if (parse_num("cpu-quota", optarg, true, &cpu->quota, err) < 0)
        return -1;
      r.has_cpu = cpu->has_quota = true;
      break;
    case OPT_CPU_SHARE:
      if (parse_num("cpu-share", optarg, false, &cpu->shares, err) < 0)
        return -1;
      r.has_cpu = cpu->has_shares = true;
      break;
    case OPT_CPU_RT_PERIOD:
      if (parse_num("cpu-rt-period", optarg, false, &cpu->realtime_period, err) < 0)
        return -1;
      r.has_cpu = cpu->has_realtime_period = true;
      break;
    case OPT_CPU_RT_RUNTIME:
      if (parse_num("cpu-rt-runtime", optarg, true, &cpu->realtime_runtime, err) < 0)
        return -1;
      r.has_cpu = cpu->has_realtime_runtime = true;
      break;
    case OPT_CPUSET_CPUS:
    case OPT_CPUSET_MEMS: {
      char **dst = c == OPT_CPUSET_CPUS ? &cpu->cpus : &cpu->mems;
      free(*dst);
      *dst = xstrdup(optarg);
      r.has_cpu = true;
      break;
    }
    case OPT_MEMORY:
    case OPT_MEMORY_RESERVATION:
    case OPT_MEMORY_SWAP: {
      const char *name = c == OPT_MEMORY               ? "memory"
                         : c == OPT_MEMORY_RESERVATION ? "memory-reservation"
                                                       : "memory-swap";
      int64_t v = -1;
      if (strcmp(optarg, "-1") != 0 && cli_ram_in_bytes(name, optarg, &v, err) < 0)
        return -1;
      r.has_memory = true;
      if (c == OPT_MEMORY) {
        mem->has_limit = true;
        mem->limit = v;
      } else if (c == OPT_MEMORY_RESERVATION) {
        mem->has_reservation = true;
        mem->reservation = v;
      } else {
        mem->has_swap = true;
        mem->swap = v;
      }
      break;
    }
    case OPT_PIDS_LIMIT:
      if (parse_int_flag("pids-limit", optarg, INT64_MIN, INT64_MAX, &n, err) < 0)
        return -1;
      r.has_pids = n != 0; /* runc: 0 leaves it unchanged */
      r.pids_limit = n < 0 ? -1 : n;
      break;
    case OPT_L3_CACHE_SCHEMA:
      return nook_error(err, 0, "Intel RDT/CAT: l3 cache schema is not enabled");
    case OPT_MEM_BW_SCHEMA:
      return nook_error(err, 0, "Intel RDT/MBA: memory bandwidth schema is not enabled");
    case OPT_KERNEL_MEMORY:
    case OPT_KERNEL_MEMORY_TCP:
      nook_warn("Setting --%s is ignored and will be removed",
                c == OPT_KERNEL_MEMORY ? "kernel-memory" : "kernel-memory-tcp");
      break;
    }
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args(spec.name, argc - optind, 1, 1, err) < 0)
    return -1;

  /* A flag counts as the swap limit whatever its value; in the document, 0
   * is no swap limit (0 leaves it unchanged). */
  bool swap_given = mem->has_swap;
  if (resources != NULL) {
    /* runc reads either the document or the flags, never both. */
    if (any_flag)
      nook_warn("update: --resources is given: the other options are ignored");
    oci_resources_clear(&r);
    if (read_resources(resources, &r, err) < 0)
      return -1;
    swap_given = r.has_memory && mem->has_swap && mem->swap != 0;
  }
  unlimited_swap(&r, swap_given);
  if (vmm_container_is_vm(g->root, argv[optind]))
    return vmm_container_update(g->root, argv[optind], &r, err) < 0 ? -1 : 0;
  return nook_container_update(g->root, argv[optind], &r, err) < 0 ? -1 : 0;
}
