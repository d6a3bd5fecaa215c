/* Whether a container runs in VM mode, and with what.
 *
 * Three things select VM mode (docs/design.md, "VM mode"): config.json's
 * `vm` object (runtime-spec config-vm.md), the annotation nook.vm naming a
 * backend, or the binary invoked as `nook-vm`.  vmm_mode_select() is the one
 * place that decides; vmm_mode_spec() turns the config's vm object into the
 * backend's vmm_spec fields. */
#ifndef NOOK_VMM_MODE_H
#define NOOK_VMM_MODE_H

#include <stdbool.h>
#include <stdint.h>

#include "../base/error.h"
#include "../libcontainer/state.h"
#include "../oci/config.h"
#include "vmm.h"

/* The annotation that selects VM mode; its value names the backend.  It is
 * the state's annotation that records a container as VM mode: one name, so
 * it is defined where the lower layer (the state) needs it. */
#define VMM_ANNOTATION STATE_VM_ANNOTATION

/* The name of the binary that puts every container in VM mode. */
#define VMM_BINARY_NAME "nook-vm"

/* The backend a container gets when nothing names one. */
#define VMM_DEFAULT_BACKEND "qemu"

/* Defaults when config.json's vm.hwConfig gives none.  One vCPU: under TCG
 * each vCPU is a host thread and this machine's 2 cores are shared with the
 * host side, and a second CPU adds SMP bring-up to the boot; a workload that
 * wants more says so in vm.hwConfig.vcpus.  256 MiB: Debian's kernel boots
 * in 128 MiB but with little left for the workload (vm-boot.md); guest RAM
 * is touched on demand, so the host pays for what the guest uses, not for
 * the size. */
#define VMM_DEFAULT_VCPUS 1
#define VMM_DEFAULT_MEM_MIB 256
/* Below this Debian's kernel does not boot reliably (vm-boot.md). */
#define VMM_MIN_MEM_MIB 128

/* What selected VM mode, for messages. */
enum vmm_mode_source {
  VMM_BY_NONE = 0, /* namespace mode */
  VMM_BY_VM_OBJECT,
  VMM_BY_ANNOTATION,
  VMM_BY_BINARY_NAME,
};

struct vmm_mode {
  const char *backend; /* "qemu"; NULL in namespace mode (static storage) */
  enum vmm_mode_source source;
  const struct oci_vm *vm; /* the config's vm object, or NULL; points into it */
  /* Whether the VM may be restored from a template (template.h): unless
   * the annotation VMM_TEMPLATE_ANNOTATION says "false". */
  bool template;
};

/* "false": this container's VM boots, neither restored from a template nor
 * saved as one; "true" (the default) allows both. */
#define VMM_TEMPLATE_ANNOTATION "nook.vm.template"

/* The names of nook's backends, ", "-separated (malloc'ed): for messages
 * and `nook features`. */
char *vmm_backend_names(void);

/* The backends whose VMM program is installed (found in $PATH), in the same
 * form; "" when none is. */
char *vmm_backend_names_installed(void);

/* Whether the kernel can be given p as one command-line parameter: not
 * empty, and no double quote or newline (its parser knows quotes but has no
 * escape for them). */
bool vmm_kernel_param_ok(const char *p);

/* Whether argv[0] is the nook-vm name (its basename). */
bool vmm_invoked_as_vm(const char *argv0);

/* The mode of a parsed (and validated) config, given whether the binary was
 * invoked as nook-vm: 1 with *m filled for VM mode, 0 for namespace mode,
 * -1 with *err when the annotation names no backend nook has.  The
 * annotation, when given, must name a backend even with a vm object or
 * under nook-vm: a typo must not silently pick a default. */
int vmm_mode_select(const struct oci_config *c, bool invoked_as_vm, struct vmm_mode *m,
                    nook_error_t *err);

/* Fill spec's fields from the mode's vm object (or the defaults without
 * one): vcpus, mem_mib, program (vm.hypervisor.path), vmm_args
 * (vm.hypervisor.parameters), kernel (vm.kernel.path; left as the caller set
 * it, the kernel bundle's vmlinux, when that is absent), kernel_args
 * (vm.kernel.parameters), disk and disk_format (vm.image).  The pointers
 * point into the config, which must outlive spec.  Refused, naming the
 * field: a hypervisor that is not a qemu-system-* binary, or that -sandbox
 * is among its parameters (the confinement is nook's); vm.kernel.initrd
 * (the guest's initramfs is nook's own: nook is its /init, of the same
 * build as the host side, with the kernel's modules, and the channel
 * protocol needs both ends to match); fewer than VMM_MIN_MEM_MIB of memory;
 * 0 or more than 255 vCPUs; kernel parameters the kernel cannot take
 * (vmm_kernel_param_ok()); files that do not exist.  Errors read
 * "config.json: vm.<field>: ...". */
int vmm_mode_spec(const struct vmm_mode *m, struct vmm_spec *spec, nook_error_t *err);

/* The guest RAM in MiB the mode's config asks for (vm.hwConfig.memory, else
 * the default), as vmm_mode_spec() gives it (unchecked). */
uint64_t vmm_mode_mem_mib(const struct vmm_mode *m);

/* The guest needs (enum vmm_guest_need, initramfs.h) of a container's
 * config: a disk for vm.image, overlayfs for the nook.rootfs.overlay
 * annotation or a mount of type overlay. */
unsigned vmm_mode_needs(const struct oci_config *c);

#endif
