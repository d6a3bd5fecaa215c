#include <stdlib.h>

#include "../base/utils.h"
#include "../oci/features.h"
#include "cli.h"

static const struct cli_spec spec = {
    .name = "features",
    .help = "NAME:\n"
            "   nook features - show the enabled features\n"
            "\n"
            "USAGE:\n"
            "   nook features\n"
            "\n"
            "DESCRIPTION:\n"
            "   Show the enabled features.\n"
            "   The result is a JSON document in the format of the OCI runtime-spec\n"
            "   \"features\" document (features.md).\n",
};

int cmd_features(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  int r = cli_parse_plain(&spec, argc, argv, 0, 0, err);
  if (r != 0)
    return cli_stop(r);
  cleanup_free char *json = oci_features_json();
  cli_print(json);
  return 0;
}
