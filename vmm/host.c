/* What the host offers a VM: the accelerator, the TSC rate, the backends. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../base/utils.h"
#include "vmm.h"

static const struct vmm_backend *const backends[] = {&vmm_qemu_backend};

const struct vmm_backend *vmm_backend_at(size_t i)
{
  return i < ARRAY_SIZE(backends) ? backends[i] : NULL;
}

const struct vmm_backend *vmm_backend_find(const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
    if (strcmp(backends[i]->name, name) == 0)
      return backends[i];
  }
  return NULL;
}

bool vmm_cpuinfo_has_virt(const char *text)
{
  for (const char *line = text; line && *line;) {
    const char *eol = strchr(line, '\n');
    size_t len = eol ? (size_t)(eol - line) : strlen(line);
    if (has_prefix(line, "flags")) {
      /* " vmx" / " svm" as whole words of the flags line. */
      for (const char *f = line; (f = memchr(f, ' ', len - (size_t)(f - line))) != NULL; f++) {
        if ((strncmp(f + 1, "vmx", 3) == 0 || strncmp(f + 1, "svm", 3) == 0) &&
            (f + 4 == line + len || f[4] == ' '))
          return true;
      }
      return false;
    }
    line = eol ? eol + 1 : NULL;
  }
  return false;
}

enum vmm_accel vmm_detect_accel_at(const char *dev, const char *cpuinfo)
{
  cleanup_close int fd = open(dev, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return VMM_ACCEL_TCG;
  /* A device that opens but does not speak the stable API (an emulation,
   * a different driver behind the name) cannot run a guest. */
  if (ioctl(fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION)
    return VMM_ACCEL_TCG;
  /* Nor can a paravirtual KVM without the CPU's virtualisation extensions:
   * kvm-pvm (a PVM guest's /dev/kvm) speaks the API but runs only
   * PVM-enabled guest kernels; QEMU aborts on Debian's ("failed to set MSR
   * 0x10a").  Hardware KVM, nested too, shows vmx or svm. */
  if (cpuinfo == NULL || !vmm_cpuinfo_has_virt(cpuinfo))
    return VMM_ACCEL_TCG;
  cleanup_close int vm = ioctl(fd, KVM_CREATE_VM, 0);
  return vm >= 0 ? VMM_ACCEL_KVM : VMM_ACCEL_TCG;
}

enum vmm_accel vmm_detect_accel(void)
{
  cleanup_free char *cpuinfo = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, "/proc/cpuinfo", &cpuinfo, &len, NULL) < 0)
    return VMM_ACCEL_TCG;
  return vmm_detect_accel_at("/dev/kvm", cpuinfo);
}

const char *vmm_accel_name(enum vmm_accel a)
{
  switch (a) {
  case VMM_ACCEL_KVM:
    return "kvm";
  case VMM_ACCEL_TCG:
    return "tcg";
  case VMM_ACCEL_AUTO:
    break;
  }
  return "auto";
}

unsigned long vmm_tsc_khz_from_cpuinfo(const char *text)
{
  for (const char *line = text; line && *line;
       line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    if (!has_prefix(line, "cpu MHz"))
      continue;
    const char *colon = strchr(line, ':');
    const char *eol = strchr(line, '\n');
    if (colon == NULL || (eol != NULL && colon > eol))
      return 0;
    char *end;
    errno = 0;
    double mhz = strtod(colon + 1, &end);
    if (errno != 0 || end == colon + 1 || mhz <= 0 || mhz > 1e6)
      return 0;
    return (unsigned long)(mhz * 1000.0);
  }
  return 0;
}

unsigned long vmm_host_tsc_khz(void)
{
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, "/proc/cpuinfo", &text, &len, NULL) < 0)
    return 0;
  return vmm_tsc_khz_from_cpuinfo(text);
}
