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

const struct vmm_backend *vmm_backend_find(const char *name)
{
  static const struct vmm_backend *const backends[] = {&vmm_qemu_backend};
  for (size_t i = 0; i < ARRAY_SIZE(backends); i++) {
    if (strcmp(backends[i]->name, name) == 0)
      return backends[i];
  }
  return NULL;
}

enum vmm_accel vmm_detect_accel_at(const char *dev)
{
  cleanup_close int fd = open(dev, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return VMM_ACCEL_TCG;
  /* A device that opens but does not speak the stable API (an emulation,
   * a different driver behind the name) cannot run a guest. */
  return ioctl(fd, KVM_GET_API_VERSION, 0) == KVM_API_VERSION ? VMM_ACCEL_KVM : VMM_ACCEL_TCG;
}

enum vmm_accel vmm_detect_accel(void)
{
  return vmm_detect_accel_at("/dev/kvm");
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
