#include "mode.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"
#include "initramfs.h"

static bool in_path(const char *program)
{
  if (strchr(program, '/') != NULL)
    return access(program, X_OK) == 0;
  const char *path = getenv("PATH");
  if (path == NULL || *path == '\0')
    path = "/usr/local/bin:/usr/bin:/bin";
  cleanup_free char *dirs = xstrdup(path);
  char *save = NULL;
  for (char *d = strtok_r(dirs, ":", &save); d != NULL; d = strtok_r(NULL, ":", &save)) {
    cleanup_free char *full = NULL;
    xasprintf(&full, "%s/%s", *d ? d : ".", program);
    if (access(full, X_OK) == 0)
      return true;
  }
  return false;
}

static char *names(bool installed_only)
{
  char *out = xstrdup("");
  const struct vmm_backend *b;
  for (size_t i = 0; (b = vmm_backend_at(i)) != NULL; i++) {
    if (installed_only && !in_path(b->program))
      continue;
    char *next = NULL;
    xasprintf(&next, "%s%s%s", out, *out ? ", " : "", b->name);
    free(out);
    out = next;
  }
  return out;
}

char *vmm_backend_names(void)
{
  return names(false);
}

char *vmm_backend_names_installed(void)
{
  return names(true);
}

bool vmm_kernel_param_ok(const char *p)
{
  return *p != '\0' && strpbrk(p, "\"\n") == NULL;
}

bool vmm_invoked_as_vm(const char *argv0)
{
  if (argv0 == NULL)
    return false;
  const char *base = strrchr(argv0, '/');
  return strcmp(base ? base + 1 : argv0, VMM_BINARY_NAME) == 0;
}

int vmm_mode_select(const struct oci_config *c, bool invoked_as_vm, struct vmm_mode *m,
                    nook_error_t *err)
{
  *m = (struct vmm_mode){0};
  const char *named = oci_annotation(c, VMM_ANNOTATION);
  if (named != NULL) {
    const struct vmm_backend *b = vmm_backend_find(named);
    if (b == NULL) {
      cleanup_free char *known = vmm_backend_names();
      return nook_error(err, 0,
                        "config.json: annotations[\"" VMM_ANNOTATION "\"]: unknown VM backend "
                        "\"%s\": the backends are: %s",
                        named, known);
    }
    m->backend = b->name;
  }
  if (c->has_vm)
    m->source = VMM_BY_VM_OBJECT;
  else if (named != NULL)
    m->source = VMM_BY_ANNOTATION;
  else if (invoked_as_vm)
    m->source = VMM_BY_BINARY_NAME;
  else
    return 0;
  if (m->backend == NULL)
    m->backend = VMM_DEFAULT_BACKEND;
  m->vm = c->has_vm ? &c->vm : NULL;
  const char *tpl = oci_annotation(c, VMM_TEMPLATE_ANNOTATION);
  m->template = tpl == NULL || strcmp(tpl, "true") == 0;
  if (tpl != NULL && !m->template && strcmp(tpl, "false") != 0)
    return nook_error(err, 0,
                      "config.json: annotations[\"" VMM_TEMPLATE_ANNOTATION "\"]: \"%s\": "
                      "must be \"true\" or \"false\"",
                      tpl);
  return 1;
}

static int file_check(const char *field, const char *path, int mode, nook_error_t *err)
{
  if (access(path, mode) < 0)
    return nook_error(err, errno, "config.json: vm.%s: `%s`", field, path);
  return 0;
}

static int hypervisor_check(const struct oci_vm *vm, nook_error_t *err)
{
  const char *path = vm->hypervisor_path;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  /* The backend drives QEMU's microvm machine: another VMM would not
   * understand the options, and QEMU for another architecture could not run
   * the kernel. */
  if (!has_prefix(base, "qemu-system-"))
    return nook_error(err, 0,
                      "config.json: vm.hypervisor.path: `%s` is not a qemu-system-* binary (the "
                      "QEMU backend is nook's only one)",
                      path);
  if (file_check("hypervisor.path", path, X_OK, err) < 0)
    return -1;
  for (size_t i = 0; i < vm->n_hypervisor_parameters; i++) {
    const char *p = vm->hypervisor_parameters[i];
    if (strcmp(p, "-sandbox") == 0 || strcmp(p, "--sandbox") == 0)
      return nook_error(err, 0,
                        "config.json: vm.hypervisor.parameters[%zu]: -sandbox is nook's to set "
                        "(it confines QEMU)",
                        i);
  }
  return 0;
}

uint64_t vmm_mode_mem_mib(const struct vmm_mode *m)
{
  /* Rounded down: the guest gets no more than the config allows. */
  if (m->vm != NULL && m->vm->has_memory)
    return m->vm->memory >> 20;
  return VMM_DEFAULT_MEM_MIB;
}

int vmm_mode_spec(const struct vmm_mode *m, struct vmm_spec *spec, nook_error_t *err)
{
  spec->vcpus = VMM_DEFAULT_VCPUS;
  spec->mem_mib = VMM_DEFAULT_MEM_MIB;
  const struct oci_vm *vm = m->vm;
  if (vm == NULL)
    return 0;
  if (vm->kernel_initrd != NULL)
    return nook_error(err, 0,
                      "config.json: vm.kernel.initrd: not supported: the guest's initramfs is "
                      "nook's own (nook of this same build is its /init, with the kernel's "
                      "modules)");
  if (vm->has_hypervisor && hypervisor_check(vm, err) < 0)
    return -1;
  if (file_check("kernel.path", vm->kernel_path, R_OK, err) < 0)
    return -1;
  for (size_t i = 0; i < vm->n_kernel_parameters; i++) {
    if (!vmm_kernel_param_ok(vm->kernel_parameters[i]))
      return nook_error(err, 0,
                        "config.json: vm.kernel.parameters[%zu]: empty, or a double quote or a "
                        "newline, which the kernel cannot be given",
                        i);
  }
  if (vm->has_image && file_check("image.path", vm->image_path, R_OK, err) < 0)
    return -1;
  if (vm->has_vcpus) {
    if (vm->vcpus == 0 || vm->vcpus > 255)
      return nook_error(err, 0, "config.json: vm.hwConfig.vcpus: %u: want 1 to 255", vm->vcpus);
    spec->vcpus = vm->vcpus;
  }
  if (vm->has_memory) {
    uint64_t mib = vmm_mode_mem_mib(m);
    if (mib < VMM_MIN_MEM_MIB)
      return nook_error(err, 0,
                        "config.json: vm.hwConfig.memory: %ju bytes is less than the %d MiB the "
                        "guest kernel needs",
                        (uintmax_t)vm->memory, VMM_MIN_MEM_MIB);
    if (mib > UINT32_MAX)
      return nook_error(err, 0, "config.json: vm.hwConfig.memory: %ju bytes is too large",
                        (uintmax_t)vm->memory);
    spec->mem_mib = (unsigned)mib;
  }
  if (vm->has_hypervisor) {
    spec->program = vm->hypervisor_path;
    spec->vmm_args = vm->hypervisor_parameters;
  }
  spec->kernel = vm->kernel_path;
  spec->kernel_args = vm->kernel_parameters;
  if (vm->has_image) {
    spec->disk = vm->image_path;
    spec->disk_format = vm->image_format ? vm->image_format : "raw";
  }
  return 0;
}

unsigned vmm_mode_needs(const struct oci_config *c)
{
  unsigned needs = c->vm.has_image ? VMM_NEED_DISK : 0;
  /* An engine's network namespace: its interface becomes the guest's. */
  const struct oci_namespace *net = oci_config_namespace(c, OCI_NS_NETWORK);
  if (net != NULL && net->path != NULL)
    needs |= VMM_NEED_NET;
  if (oci_annotation(c, "nook.rootfs.overlay") != NULL)
    needs |= VMM_NEED_OVERLAY;
  for (size_t i = 0; i < c->n_mounts; i++) {
    if (c->mounts[i].type != NULL && strcmp(c->mounts[i].type, "overlay") == 0)
      needs |= VMM_NEED_OVERLAY;
  }
  return needs;
}
