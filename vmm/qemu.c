/* The QEMU backend: `qemu-system-x86_64 -M microvm` with virtio-mmio
 * devices, booting an ELF vmlinux by PVH (no bzImage decompression).
 * The option choices are measured in shared/notes/vm-boot.md. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../oci/json.h"
#include "vmm.h"

#define QEMU_PROGRAM "qemu-system-x86_64"

struct argv_buf {
  char **v;
  size_t n, cap;
};

__attribute__((format(printf, 2, 3))) static void add(struct argv_buf *a, const char *fmt, ...)
{
  if (a->n + 2 > a->cap) {
    a->cap = a->cap ? a->cap * 2 : 32;
    a->v = xrealloc(a->v, a->cap * sizeof(*a->v));
  }
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&a->v[a->n], fmt, ap) < 0)
    abort();
  va_end(ap);
  a->v[++a->n] = NULL;
}

/* QEMU's option syntax splits on ',': a literal comma in a value is ",,". */
static char *opt_escape(const char *s)
{
  size_t extra = 0;
  for (const char *c = s; *c; c++)
    extra += *c == ',';
  char *out = xmalloc(strlen(s) + extra + 1), *o = out;
  for (const char *c = s; *c; c++) {
    *o++ = *c;
    if (*c == ',')
      *o++ = ',';
  }
  *o = '\0';
  return out;
}

/* A tag becomes part of an id and of the guest's mount source: keep it to
 * characters that need no quoting anywhere. */
static bool tag_ok(const char *tag)
{
  if (tag == NULL || *tag == '\0' || strlen(tag) > 31)
    return false;
  for (const char *c = tag; *c; c++) {
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '_' || *c == '-'))
      return false;
  }
  return true;
}

static int check_spec(const struct vmm_spec *s, nook_error_t *err)
{
  if (s->kernel == NULL || s->initrd == NULL)
    return nook_error(err, 0, "qemu: a kernel and an initrd are required");
  if (s->channel_socket == NULL)
    return nook_error(err, 0, "qemu: a channel socket is required");
  if (s->accel != VMM_ACCEL_KVM && s->accel != VMM_ACCEL_TCG)
    return nook_error(err, 0, "qemu: the accelerator is not resolved (%s)",
                      vmm_accel_name(s->accel));
  if (s->vcpus == 0 || s->vcpus > 255)
    return nook_error(err, 0, "qemu: %u vCPUs: want 1 to 255", s->vcpus);
  /* Below ~128 MiB Debian's kernel does not boot (vm-boot.md). */
  if (s->mem_mib < 128)
    return nook_error(err, 0, "qemu: %u MiB of guest memory: want at least 128", s->mem_mib);
  if (s->nshares > VMM_MAX_SHARES)
    return nook_error(err, 0, "qemu: %zu shares: microvm has room for %d beside the channel",
                      s->nshares, VMM_MAX_SHARES);
  for (size_t i = 0; i < s->nshares; i++) {
    if (!tag_ok(s->shares[i].tag))
      return nook_error(err, 0, "qemu: share tag `%s`: want 1-31 of [A-Za-z0-9_-]",
                        s->shares[i].tag ? s->shares[i].tag : "");
    if (s->shares[i].path == NULL || s->shares[i].path[0] != '/')
      return nook_error(err, 0, "qemu: share `%s`: the path must be absolute", s->shares[i].tag);
    for (size_t j = 0; j < i; j++) {
      if (strcmp(s->shares[i].tag, s->shares[j].tag) == 0)
        return nook_error(err, 0, "qemu: share tag `%s` given twice", s->shares[i].tag);
    }
  }
  return 0;
}

static int qemu_build_argv(const struct vmm_spec *s, char ***argv, nook_error_t *err)
{
  if (check_spec(s, err) < 0)
    return -1;
  struct argv_buf a = {0};
  cleanup_free char *kernel = opt_escape(s->kernel);
  cleanup_free char *initrd = opt_escape(s->initrd);
  cleanup_free char *chan = opt_escape(s->channel_socket);

  add(&a, "%s", QEMU_PROGRAM);
  /* No PIT or PIC (the guest uses the local APIC timer and the IOAPIC), no
   * option ROMs; the RTC stays (turning it off costs ~1 s of probing). */
  add(&a, "-M");
  add(&a, "microvm,x-option-roms=off,isa-serial=on,pit=off,pic=off,rtc=on");
  add(&a, "-accel");
  if (s->accel == VMM_ACCEL_KVM) {
    add(&a, "kvm");
    add(&a, "-cpu");
    add(&a, "host");
  } else {
    /* One host thread per vCPU; a 256 MiB translation cache (the default
     * 1 GiB is mostly untouched and costs host memory). */
    add(&a, "tcg,thread=multi,tb-size=256");
    add(&a, "-cpu");
    add(&a, "max");
  }
  add(&a, "-smp");
  add(&a, "%u", s->vcpus);
  add(&a, "-m");
  add(&a, "%uM", s->mem_mib);
  add(&a, "-nodefaults");
  add(&a, "-no-user-config");
  add(&a, "-nographic");
  add(&a, "-no-reboot");
  add(&a, "-serial");
  if (s->console_path != NULL) {
    cleanup_free char *console = opt_escape(s->console_path);
    add(&a, "file:%s", console);
  } else {
    add(&a, "none");
  }
  add(&a, "-kernel");
  add(&a, "%s", kernel);
  add(&a, "-initrd");
  add(&a, "%s", initrd);
  add(&a, "-append");
  if (s->tsc_khz > 0)
    add(&a, "%s%stsc_early_khz=%lu", s->cmdline ? s->cmdline : "",
        s->cmdline && *s->cmdline ? " " : "", s->tsc_khz);
  else
    add(&a, "%s", s->cmdline ? s->cmdline : "");
  for (size_t i = 0; i < s->nshares; i++) {
    cleanup_free char *path = opt_escape(s->shares[i].path);
    /* multidevs=remap: a share spanning filesystems keeps inode numbers
     * unique in the guest. */
    add(&a, "-fsdev");
    add(&a, "local,id=fs%zu,path=%s,security_model=none,multidevs=remap%s", i, path,
        s->shares[i].readonly ? ",readonly=on" : "");
    add(&a, "-device");
    add(&a, "virtio-9p-device,fsdev=fs%zu,mount_tag=%s", i, s->shares[i].tag);
  }
  /* The caller listens on the socket before the launch, so QEMU connects
   * as a client and nobody races for the path. */
  add(&a, "-device");
  add(&a, "virtio-serial-device");
  add(&a, "-chardev");
  add(&a, "socket,id=chan,path=%s", chan);
  add(&a, "-device");
  add(&a, "virtserialport,chardev=chan,name=" VMM_CHANNEL_NAME);
  if (s->sandbox) {
    add(&a, "-sandbox");
    add(&a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  }
  *argv = a.v;
  return 0;
}

/* The exact argv, as JSON, in the debug log: bench/run boots the same VMM
 * with a do-nothing initramfs as VM mode's floor, and a reader of the log
 * can rerun a failing boot by hand. */
static void debug_argv(char **argv)
{
  if (!nook_log_debug_enabled())
    return;
  yajl_gen g = jgen_new(NULL);
  yajl_gen_map_open(g);
  jgen_key_strv(g, "argv", (const char *const *)argv, 0);
  yajl_gen_map_close(g);
  cleanup_free char *json = jgen_finish(g);
  nook_debug("vmm: exec %s", json);
}

static int qemu_launch(const struct vmm_spec *spec, int log_fd, struct vmm_vm *vm,
                       nook_error_t *err)
{
  cleanup_strv char **argv = NULL;
  if (qemu_build_argv(spec, &argv, err) < 0)
    return -1;
  debug_argv(argv);
  cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0)
    return nook_error(err, errno, "open /dev/null");
  /* An exec failure comes back over a close-on-exec pipe. */
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) < 0)
    return nook_error(err, errno, "pipe");
  cleanup_close int rd = pfd[0];
  cleanup_close int wr = pfd[1];
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0)
    return nook_error(err, errno, "fork");
  if (pid == 0) {
    int out = log_fd >= 0 ? log_fd : devnull;
    if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
      goto fail;
    /* The VMM dies with whoever launched it: a crashed runtime must not
     * leave a guest running that nobody can reach. */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
      goto fail;
    /* An ignored SIGPIPE would survive the exec. */
    signal(SIGPIPE, SIG_DFL);
    execvp(argv[0], argv);
  fail:;
    int e = errno;
    if (write(wr, &e, sizeof(e)) < 0)
      _exit(126);
    _exit(127);
  }
  close(steal_fd(&wr));
  int child_errno = 0;
  ssize_t n = read(rd, &child_errno, sizeof(child_errno));
  if (n == (ssize_t)sizeof(child_errno)) {
    waitpid(pid, NULL, 0);
    return nook_error(err, child_errno, "start %s", argv[0]);
  }
  vm->pid = pid;
  vm->pidfd = sys_pidfd_open(pid, 0);
  if (vm->pidfd < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return nook_error(err, e, "pidfd_open %s", argv[0]);
  }
  return 0;
}

static int qemu_wait(struct vmm_vm *vm, int timeout_ms, int *status, nook_error_t *err)
{
  struct pollfd p = {.fd = vm->pidfd, .events = POLLIN};
  int r;
  do
    r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r < 0)
    return nook_error(err, errno, "qemu: poll");
  if (r == 0)
    return 1;
  pid_t w;
  do
    w = waitpid(vm->pid, status, 0);
  while (w < 0 && errno == EINTR);
  if (w < 0)
    return nook_error(err, errno, "qemu: wait for pid %d", vm->pid);
  close(vm->pidfd);
  vm->pidfd = -1;
  vm->pid = 0;
  return 0;
}

static void qemu_kill(struct vmm_vm *vm)
{
  if (vm->pid <= 0)
    return;
  sys_pidfd_send_signal(vm->pidfd, SIGKILL, NULL, 0);
  while (waitpid(vm->pid, NULL, 0) < 0 && errno == EINTR)
    ;
  close(vm->pidfd);
  vm->pidfd = -1;
  vm->pid = 0;
}

const struct vmm_backend vmm_qemu_backend = {
    .name = "qemu",
    .program = QEMU_PROGRAM,
    .build_argv = qemu_build_argv,
    .launch = qemu_launch,
    .wait = qemu_wait,
    .kill = qemu_kill,
};
