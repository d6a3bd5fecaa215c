/* config.json's vm object (config-vm.md), the settings of nook's VM mode.
 * What nook's backends cannot do is refused by oci_config_validate(), not
 * here: the parser only says whether the document is well-formed. */
#include <stdlib.h>

#include "../base/utils.h"
#include "config.h"
#include "parse.h"

#define TRY(x)                                                                                     \
  do {                                                                                             \
    if ((x) < 0)                                                                                   \
      return -1;                                                                                   \
  } while (0)

static int parse_hypervisor(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_vm *vm = out;
  TRY(jf_req(c, v, "path", jv_str, &vm->hypervisor_path));
  TRY(jf_strv(c, v, "parameters", &vm->hypervisor_parameters, &vm->n_hypervisor_parameters));
  return 0;
}

static int parse_kernel(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_vm *vm = out;
  TRY(jf_req(c, v, "path", jv_str, &vm->kernel_path));
  TRY(jf_strv(c, v, "parameters", &vm->kernel_parameters, &vm->n_kernel_parameters));
  TRY(jf(c, v, "initrd", jv_str, &vm->kernel_initrd));
  return 0;
}

static int parse_image(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_vm *vm = out;
  TRY(jf_req(c, v, "path", jv_str, &vm->image_path));
  /* The schema requires format, but the prose says an unset one means raw,
   * and Go writers leave it "". */
  TRY(jf(c, v, "format", jv_opt_str, &vm->image_format));
  return 0;
}

struct iomem {
  uint64_t first_gfn, first_mfn, nr_mfns;
};

static int parse_iomem(struct pctx *c, const struct json_value *v, void *out)
{
  struct iomem *m = out;
  TRY(jv_object(c, v));
  TRY(jf(c, v, "firstGFN", jv_u64, &m->first_gfn));
  TRY(jf_req(c, v, "firstMFN", jv_u64, &m->first_mfn));
  TRY(jf_req(c, v, "nrMFNs", jv_u64, &m->nr_mfns));
  return 0;
}

/* Xen's pass-through fields are checked against the schema and then only
 * remembered as given: no backend of nook's can use them. */
static int parse_hw_config(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_vm *vm = out;
  cleanup_free char *device_tree = NULL;
  cleanup_strv char **dtdevs = NULL;
  cleanup_free struct iomem *iomems = NULL;
  cleanup_free uint32_t *irqs = NULL;
  size_t n = 0;
  int r;
  TRY(r = jf(c, v, "vcpus", jv_u32, &vm->vcpus));
  vm->has_vcpus = r > 0;
  TRY(r = jf(c, v, "memory", jv_u64, &vm->memory));
  vm->has_memory = r > 0;
  TRY(r = jf(c, v, "deviceTree", jv_str, &device_tree));
  vm->has_device_tree = r > 0;
  TRY(r = jf_strv(c, v, "dtdevs", &dtdevs, &n));
  vm->has_dtdevs = r > 0;
  TRY(r = jf_array(c, v, "iomems", sizeof(*iomems), &iomems, &n, parse_iomem));
  vm->has_iomems = r > 0;
  TRY(r = jf_array(c, v, "irqs", sizeof(*irqs), &irqs, &n, jv_u32));
  vm->has_irqs = r > 0;
  return 0;
}

int parse_vm(struct pctx *c, const struct json_value *v, void *out)
{
  struct oci_vm *vm = out;
  int r;
  TRY(r = jf_obj(c, v, "hypervisor", parse_hypervisor, vm));
  vm->has_hypervisor = r > 0;
  TRY(r = jf_obj(c, v, "kernel", parse_kernel, vm));
  if (r == 0) {
    size_t mark = path_key(c, "kernel");
    r = perr(c, "required field is missing");
    path_restore(c, mark);
    return r;
  }
  TRY(r = jf_obj(c, v, "image", parse_image, vm));
  vm->has_image = r > 0;
  TRY(jf_obj(c, v, "hwConfig", parse_hw_config, vm));
  return 0;
}

void oci_vm_clear(struct oci_vm *vm)
{
  free(vm->hypervisor_path);
  strv_free(vm->hypervisor_parameters);
  free(vm->kernel_path);
  strv_free(vm->kernel_parameters);
  free(vm->kernel_initrd);
  free(vm->image_path);
  free(vm->image_format);
}
