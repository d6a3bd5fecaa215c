#include <stdlib.h>

#include "../base/utils.h"
#include "../oci/features.h"
#include "../vmm/mode.h"
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
            "   \"features\" document (features.md).\n"
            "   VM mode is in the annotations: io.github.nook.vm.backends lists\n"
            "   the VM backends whose VMM is installed (\"\" when none is), and\n"
            "   io.github.nook.vm.accel says how guests would run here: \"kvm\"\n"
            "   (hardware virtualisation) or \"tcg\" (emulation, much slower).\n",
};

int cmd_features(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  int r = cli_parse_plain(&spec, argc, argv, 0, 0, err);
  if (r != 0)
    return cli_stop(r);
  cleanup_free char *backends = vmm_backend_names_installed();
  const struct oci_kv vm[] = {
      {"io.github.nook.vm.accel", (char *)vmm_accel_name(vmm_detect_accel())},
      {"io.github.nook.vm.backends", backends},
  };
  cleanup_free char *json = oci_features_json(vm, ARRAY_SIZE(vm));
  cli_print(json);
  return 0;
}
