/* The VM backend interface: what nook's VM mode asks of a virtual machine
 * monitor, independent of which one runs the guest.
 *
 * A backend turns a typed `struct vmm_spec` (kernel, initrd, command line,
 * vCPUs, memory, shared directories, the control channel's socket, the
 * accelerator) into a running VMM process, and stops it.  The guest side
 * (vmm/guest_*.c) relies only on what every backend gives: virtio-mmio
 * devices, a virtio-console port named VMM_CHANNEL_NAME and virtio-9p shares
 * named by their tags, so a second backend (Cloud Hypervisor, Firecracker)
 * is one more file beside vmm/qemu.c. */
#ifndef NOOK_VMM_H
#define NOOK_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"

/* The name of the guest's control port (/sys/class/virtio-ports/X/name). */
#define VMM_CHANNEL_NAME "nook"

/* microvm has 8 virtio-mmio transports; the channel takes one, and a disk
 * (vmm_spec.disk) and a network device (vmm_spec.has_net) one more each. */
#define VMM_MAX_SHARES 7

struct vmm_confinement; /* confine.h */

enum vmm_accel {
  VMM_ACCEL_AUTO = 0, /* vmm_detect_accel() decides */
  VMM_ACCEL_KVM,
  VMM_ACCEL_TCG,
};

/* A host directory the guest mounts by `tag` (9p). */
struct vmm_share {
  const char *tag;
  const char *path;
  bool readonly;
};

struct vmm_spec {
  const char *kernel;  /* an ELF vmlinux (booted by PVH) */
  const char *initrd;  /* the initramfs */
  const char *cmdline; /* the kernel command line; the backend may append to it */
  unsigned vcpus;
  unsigned mem_mib;
  const struct vmm_share *shares;
  size_t nshares;
  /* A unix socket the caller listens on; the VMM connects to it and carries
   * the guest's VMM_CHANNEL_NAME port over it. */
  const char *channel_socket;
  /* Another socket the caller listens on, for the VMM's control interface
   * (QEMU: QMP), which pauses and resumes the vCPUs; NULL: none. */
  const char *control_socket;
  /* Where the guest's serial console goes (a file); NULL: nowhere. */
  const char *console_path;
  enum vmm_accel accel; /* never VMM_ACCEL_AUTO once resolved */
  /* The host TSC rate, for the guest's tsc_early_khz= (a PVH guest without a
   * PIT cannot calibrate it); 0: not passed. */
  unsigned long tsc_khz;
  bool sandbox; /* the VMM's own syscall filter (QEMU's -sandbox) */
  /* From config.json's vm object (vmm/mode.h), all optional. */
  const char *program;      /* the VMM binary; NULL: the backend's own */
  char *const *vmm_args;    /* appended to the VMM's argv; NULL-terminated */
  char *const *kernel_args; /* appended to cmdline, one parameter each (quoted
                               when it holds a blank); NULL-terminated */
  const char *disk;         /* a virtio-blk disk image (vm.image) */
  const char *disk_format;  /* "raw" or "qcow2"; NULL: raw */
  /* Where the VMM runs on the host (vmm_confine_enter() in its child), or
   * NULL: unconfined. */
  const struct vmm_confinement *confine;
  /* Restore the machine from restore_fd (a template, vmm/template.h)
   * instead of booting kernel and initrd: the rest of the spec must be the
   * template's. */
  bool restore;
  int restore_fd;
  /* A network device on the tap whose queue is net_fd (net/vmnet.h). */
  bool has_net;
  int net_fd;
};

/* A launched VMM. */
struct vmm_vm {
  pid_t pid;
  int pidfd; /* polls readable when the VMM exits */
};

struct vmm_backend {
  const char *name;
  /* The program the backend runs, for a clear error when it is missing. */
  const char *program;
  /* The VMM's argv (NULL-terminated, freed with strv_free) for spec. */
  int (*build_argv)(const struct vmm_spec *spec, char ***argv, nook_error_t *err);
  /* Files beyond the program and its libraries that the VMM opens (QEMU's
   * firmware and accelerator modules), for a confined VMM's root; program
   * is the binary's absolute path.  NULL-terminated. */
  int (*data_files)(const char *program, char ***out, nook_error_t *err);
  /* Start the VMM for spec: stdin /dev/null, stdout and stderr to log_fd
   * (or /dev/null when < 0). */
  int (*launch)(const struct vmm_spec *spec, int log_fd, struct vmm_vm *vm, nook_error_t *err);
  /* Wait at most timeout_ms (< 0: for ever) for the VMM to exit; 0 and its
   * wait status when it did, 1 when it still runs. */
  int (*wait)(struct vmm_vm *vm, int timeout_ms, int *status, nook_error_t *err);
  /* End the VMM at once (the guest gets no say) and reap it. */
  void (*kill)(struct vmm_vm *vm);
  /* The connection the VMM made to spec.control_socket (`ctl`): make it
   * take commands, once, when it is accepted. */
  int (*control_open)(int ctl, int timeout_ms, nook_error_t *err);
  /* Stop (run false) or resume every vCPU.  Stopped, the guest does not run
   * at all (no host CPU goes to it; its clock and timers wait) while the
   * VMM still serves the channel and ctl; the guest's state is kept. */
  int (*vcpus_run)(int ctl, bool run, int timeout_ms, nook_error_t *err);
  /* Templates (NULL: the backend has none).  Save the machine's whole state
   * to fd: the vCPUs stop, the state is written, the vCPUs run again.  A
   * save that failed is *not_saved (why, allocated), not an error: the
   * machine goes on.  -1: the machine does not run again. */
  int (*save)(int ctl, int fd, int timeout_ms, char **not_saved, nook_error_t *err);
  /* A machine launched with spec.restore: wait until its state is loaded,
   * then run its vCPUs. */
  int (*restored)(int ctl, int timeout_ms, nook_error_t *err);
};

extern const struct vmm_backend vmm_qemu_backend;

/* The backend called `name` ("qemu"), or NULL. */
const struct vmm_backend *vmm_backend_find(const char *name);
/* The i-th backend nook has, NULL past the last: for listing them. */
const struct vmm_backend *vmm_backend_at(size_t i);

/* VMM_ACCEL_KVM when /dev/kvm opens, answers KVM_GET_API_VERSION with the
 * stable API and creates a VM, and the CPU has hardware virtualisation (vmx
 * or svm in /proc/cpuinfo); else VMM_ACCEL_TCG.  Module names prove nothing:
 * a nested or paravirtualised host may load kvm and still be unable to run
 * a standard guest kernel. */
enum vmm_accel vmm_detect_accel(void);
/* The same probe on another device node and cpuinfo text (tests). */
enum vmm_accel vmm_detect_accel_at(const char *dev, const char *cpuinfo);
/* Whether a cpuinfo text's first flags line has vmx or svm. */
bool vmm_cpuinfo_has_virt(const char *cpuinfo);
const char *vmm_accel_name(enum vmm_accel a);

/* The host's TSC rate in kHz from /proc/cpuinfo's first "cpu MHz", or 0. */
unsigned long vmm_host_tsc_khz(void);
/* The same from a cpuinfo text (tests). */
unsigned long vmm_tsc_khz_from_cpuinfo(const char *text);

#endif
