/* nook seccomp-precompile: put the compiled programs of known profiles in
 * the cache before any container needs them (`make install` runs it on the
 * engines' default profiles), so that even the first container with one of
 * them skips libseccomp's 15-20 ms. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "../base/utils.h"
#include "../libcontainer/seccomp.h"
#include "../oci/config.h"
#include "cli.h"

static const struct cli_spec spec = {
    .name = "seccomp-precompile",
    .help = "NAME:\n"
            "   nook seccomp-precompile - compile seccomp profiles into the cache\n"
            "\n"
            "USAGE:\n"
            "   nook seccomp-precompile FILE...\n"
            "\n"
            "DESCRIPTION:\n"
            "   Each FILE is an OCI config.json (as an engine writes it into the bundle)\n"
            "   whose linux.seccomp is compiled and stored in the compiled-filter cache\n"
            "   (/var/cache/nook/seccomp for root, the user's cache when rootless,\n"
            "   $NOOK_SECCOMP_CACHE when set), replacing any entry of the same profile.\n"
            "   Precompiled entries are never evicted.  A container whose profile is\n"
            "   the same (rules, architectures, default action) then starts without\n"
            "   compiling it.  Prints one line per FILE: the entry and its size.\n",
};

int cmd_seccomp_precompile(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  int r = cli_parse_plain(&spec, argc, argv, 1, -1, err);
  if (r != 0)
    return cli_stop(r);
  if (g->seccomp_cache == NULL)
    return nook_error(err, 0,
                      "no seccomp cache: NOOK_SECCOMP_CACHE is \"off\", or rootless without "
                      "XDG_CACHE_HOME and HOME");
  for (int i = optind; i < argc; i++) {
    const char *file = argv[i];
    cleanup_free char *text = NULL;
    size_t len = 0;
    struct oci_config *c = NULL;
    if (read_file_at(AT_FDCWD, file, &text, &len, err) < 0 ||
        oci_config_parse(text, len, file, &c, err) < 0)
      return -1;
    if (!c->linux_.has_seccomp) {
      oci_config_free(c);
      return nook_error(err, 0, "%s: no linux.seccomp", file);
    }
    char key[65];
    size_t insns = 0;
    r = seccomp_precompile(&c->linux_.seccomp, g->seccomp_cache, key, &insns, err);
    oci_config_free(c);
    if (r < 0)
      return nook_error_wrap(err, "%s", file);
    printf("%s: %s/%s (%zu instructions)\n", file, g->seccomp_cache, key, insns);
  }
  return 0;
}
