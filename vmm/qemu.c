/* The QEMU backend: `qemu-system-x86_64 -M microvm` with virtio-mmio
 * devices, booting an ELF vmlinux by PVH (no bzImage decompression).
 * The option choices are measured in shared/notes/vm-boot.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "../oci/json.h"
#include "confine.h"
#include "mode.h"
#include "qmp.h"
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
  /* Every device but the channel takes one of microvm's transports. */
  if (s->nshares + (s->disk != NULL) + s->has_net > VMM_MAX_SHARES)
    return nook_error(err, 0, "qemu: %zu shares%s%s: microvm has room for %d beside the channel",
                      s->nshares,
                      s->disk == NULL ? ""
                      : s->has_net    ? ", a disk"
                                      : " and a disk",
                      s->has_net ? " and a network device" : "", VMM_MAX_SHARES);
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
  if (s->has_net && s->net_fd < 0)
    return nook_error(err, 0, "qemu: a network device without a tap");
  if (s->disk != NULL && s->disk_format != NULL && strcmp(s->disk_format, "raw") != 0 &&
      strcmp(s->disk_format, "qcow2") != 0)
    return nook_error(err, 0, "qemu: disk format `%s`: want raw or qcow2", s->disk_format);
  for (char *const *k = s->kernel_args; k != NULL && *k != NULL; k++) {
    if (!vmm_kernel_param_ok(*k))
      return nook_error(err, 0,
                        "qemu: kernel parameter `%s`: empty, or a double quote or a "
                        "newline the kernel cannot be given",
                        *k);
  }
  return 0;
}

/* The kernel command line: the caller's, the TSC rate, then the extra
 * parameters, each quoted when it holds a blank (`a="b c"`, `"b c"`), the
 * form the kernel's parser takes as one parameter. */
static char *build_cmdline(const struct vmm_spec *s)
{
  char *line = xstrdup(s->cmdline ? s->cmdline : "");
  if (s->tsc_khz > 0) {
    char *next = NULL;
    xasprintf(&next, "%s%stsc_early_khz=%lu", line, *line ? " " : "", s->tsc_khz);
    free(line);
    line = next;
  }
  for (char *const *k = s->kernel_args; k != NULL && *k != NULL; k++) {
    char *next = NULL;
    const char *sep = *line ? " " : "";
    if (strpbrk(*k, " \t") == NULL) {
      xasprintf(&next, "%s%s%s", line, sep, *k);
    } else {
      const char *eq = strchr(*k, '=');
      if (eq != NULL)
        xasprintf(&next, "%s%s%.*s\"%s\"", line, sep, (int)(eq + 1 - *k), *k, eq + 1);
      else
        xasprintf(&next, "%s%s\"%s\"", line, sep, *k);
    }
    free(line);
    line = next;
  }
  return line;
}

static int qemu_build_argv(const struct vmm_spec *s, char ***argv, nook_error_t *err)
{
  if (check_spec(s, err) < 0)
    return -1;
  struct argv_buf a = {0};
  cleanup_free char *kernel = opt_escape(s->kernel);
  cleanup_free char *initrd = opt_escape(s->initrd);
  cleanup_free char *chan = opt_escape(s->channel_socket);
  cleanup_free char *cmdline = build_cmdline(s);
  /* x86's COMMAND_LINE_SIZE; the kernel would cut the rest silently. */
  if (strlen(cmdline) >= 2048)
    return nook_error(err, 0, "qemu: the kernel command line has %zu bytes: x86 takes at most 2047",
                      strlen(cmdline));

  add(&a, "%s", s->program ? s->program : QEMU_PROGRAM);
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
    /* One host thread per vCPU; a 64 MiB translation cache.  The cache is
     * QEMU's largest private memory, but a smaller one is refilled by the
     * guest nook's create and start: `run true` took ~3.0 s at 16 and 32
     * MiB against ~2.45 s at 64 here (docs/design.md).  Under KVM there is
     * no such cache. */
    add(&a, "tcg,thread=multi,tb-size=64");
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
  /* A restored machine's kernel, initrd and command line are in the
   * state it loads; QEMU does not read the files (nor hold a copy). */
  if (!s->restore) {
    add(&a, "-kernel");
    add(&a, "%s", kernel);
    add(&a, "-initrd");
    add(&a, "%s", initrd);
    add(&a, "-append");
    add(&a, "%s", cmdline);
  }
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
  /* Two ports (QEMU keeps port 0 for a virtconsole): the default 31 give
   * the guest's virtio_console 64 virtqueues to set up, ~50 ms under TCG. */
  add(&a, "-device");
  add(&a, "virtio-serial-device,max_ports=2");
  add(&a, "-chardev");
  add(&a, "socket,id=chan,path=%s", chan);
  add(&a, "-device");
  add(&a, "virtserialport,chardev=chan,name=" VMM_CHANNEL_NAME);
  if (s->control_socket != NULL) {
    /* QMP, connected the same way as the channel. */
    cleanup_free char *ctl = opt_escape(s->control_socket);
    add(&a, "-chardev");
    add(&a, "socket,id=ctl,path=%s", ctl);
    add(&a, "-mon");
    add(&a, "chardev=ctl,mode=control");
  }
  if (s->disk != NULL) {
    cleanup_free char *disk = opt_escape(s->disk);
    add(&a, "-drive");
    add(&a, "file=%s,format=%s,if=none,id=disk0", disk, s->disk_format ? s->disk_format : "raw");
    add(&a, "-device");
    add(&a, "virtio-blk-device,drive=disk0");
  }
  if (s->has_net) {
    /* No mac=: the device's address is in a template's saved state, so
     * the guest sets the interface's own (net_vm_link_apply()). */
    add(&a, "-netdev");
    add(&a, "tap,id=net0,fd=%d", s->net_fd);
    add(&a, "-device");
    add(&a, "virtio-net-device,netdev=net0");
  }
  /* The config's own parameters come after nook's, so they can add devices
   * and override settings; -sandbox stays last (vmm/mode.c refuses it
   * there): the confinement is not the config's to undo. */
  for (char *const *p = s->vmm_args; p != NULL && *p != NULL; p++)
    add(&a, "%s", *p);
  if (s->restore) {
    add(&a, "-incoming");
    add(&a, "fd:%d", s->restore_fd);
  }
  if (s->sandbox) {
    add(&a, "-sandbox");
    add(&a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  }
  *argv = a.v;
  return 0;
}

/* What the child reports when it fails before the exec: the errno and,
 * from the confinement, the message. */
struct launch_failure {
  int status;
  char msg[1024];
};

static void report_failure(int fd, int status, nook_error_t *err)
{
  struct launch_failure f = {.status = status};
  if (err != NULL && *err != NULL) {
    f.status = (*err)->status;
    snprintf(f.msg, sizeof(f.msg), "%s", (*err)->msg);
  }
  if (write(fd, &f, sizeof(f)) < 0)
    _exit(126);
  _exit(127);
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
  /* Confined, QEMU has no /proc to find itself: an absolute argv[0] tells
   * it where its firmware and modules are (beside its binary). */
  const char *program = argv[0];
  if (spec->confine != NULL) {
    free(argv[0]);
    argv[0] = xstrdup(spec->confine->program);
    program = argv[0];
  }
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
  /* The child checks this for its launcher's death before PDEATHSIG was
   * set: in its own pid namespace getppid() says 0 whoever the parent is. */
  cleanup_close int parent = sys_pidfd_open(getpid(), 0);
  if (parent < 0)
    return nook_error(err, errno, "pidfd_open");
  unsigned long flags = spec->confine != NULL ? vmm_confine_clone_flags(spec->confine) : 0;
  int pidfd = -1;
  struct clone_args args = {
      .flags = flags | CLONE_PIDFD, .pidfd = (uint64_t)(uintptr_t)&pidfd, .exit_signal = SIGCHLD};
  pid_t pid = (pid_t)sys_clone3(&args, sizeof(args));
  if (pid < 0 && errno == ENOSYS)
    pid = (pid_t)syscall(__NR_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (pid < 0)
    return nook_error(err, errno, "clone the VMM's process");
  if (pid == 0) {
    int out = log_fd >= 0 ? log_fd : devnull;
    if (dup2(devnull, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
      report_failure(wr, errno, NULL);
    /* An ignored SIGPIPE would survive the exec. */
    signal(SIGPIPE, SIG_DFL);
    /* No transparent huge pages for the VMM (inherited across exec):
     * QEMU madvises guest RAM, TCG's code buffer and its ROMs huge, and
     * each first touch then allocates, compacts and zeroes 2 MiB.
     * Measured here (TCG, restored VM): 4.3 MiB less private memory (a
     * 2 MiB ACPI ROM holding 4 KiB, half-used huge pages) and a `run` of
     * /bin/true ~150 ms faster; a CPU-bound guest ran no slower. */
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0)
      report_failure(wr, errno, NULL);
    nook_error_t cerr = NULL;
    if (spec->confine != NULL && vmm_confine_enter(spec->confine, spec, &cerr) < 0)
      report_failure(wr, 0, &cerr);
    /* The fds the VMM inherits, by their numbers in -incoming and
     * -netdev. */
    if ((spec->restore && fcntl(spec->restore_fd, F_SETFD, 0) < 0) ||
        (spec->has_net && fcntl(spec->net_fd, F_SETFD, 0) < 0))
      report_failure(wr, errno, NULL);
    /* The VMM dies with whoever launched it: a crashed runtime must not
     * leave a guest running that nobody can reach.  Set after the
     * confinement, whose uid change would clear it. */
    struct pollfd alive = {.fd = parent, .events = POLLIN};
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&alive, 1, 0) != 0)
      report_failure(wr, errno, NULL);
    execvp(program, argv);
    report_failure(wr, errno, NULL);
  }
  close(steal_fd(&wr));
  struct launch_failure f;
  ssize_t n;
  do
    n = read(rd, &f, sizeof(f));
  while (n < 0 && errno == EINTR);
  if (n == (ssize_t)sizeof(f)) {
    if (pidfd >= 0)
      close(pidfd);
    waitpid(pid, NULL, 0);
    if (f.msg[0] != '\0')
      return nook_error(err, f.status, "start %s: %s", program, f.msg);
    return nook_error(err, f.status, "start %s", program);
  }
  vm->pid = pid;
  vm->pidfd = pidfd >= 0 ? pidfd : sys_pidfd_open(pid, 0);
  if (vm->pidfd < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return nook_error(err, e, "pidfd_open %s", program);
  }
  return 0;
}

/* microvm's firmware (qboot, whatever the kernel) and the accelerator
 * modules Debian's QEMU loads at -accel, found beside the binary as QEMU
 * itself looks for them (PREFIX/bin/qemu -> PREFIX/share/qemu,
 * PREFIX/lib/<multiarch>/qemu). */
static int qemu_data_files(const char *program, char ***out, nook_error_t *err)
{
  (void)err;
  cleanup_free char *prefix = xstrdup(program);
  for (int i = 0; i < 2; i++) {
    char *slash = strrchr(prefix, '/');
    if (slash == NULL || slash == prefix) {
      prefix[0] = '\0';
      break;
    }
    *slash = '\0';
  }
  char **v = xcalloc(1, sizeof(*v));
  size_t n = 0;
  char *bios = NULL;
  xasprintf(&bios, "%s/share/qemu/bios-microvm.bin", prefix);
  if (access(bios, R_OK) == 0) {
    v = xrealloc(v, (n + 2) * sizeof(*v));
    v[n++] = bios;
    v[n] = NULL;
  } else {
    free(bios);
  }
  static const char *const moddirs[] = {"lib/x86_64-linux-gnu/qemu", "lib64/qemu", "lib/qemu"};
  for (size_t i = 0; i < ARRAY_SIZE(moddirs); i++) {
    cleanup_free char *dir = NULL;
    xasprintf(&dir, "%s/%s", prefix, moddirs[i]);
    DIR *d = opendir(dir);
    if (d == NULL)
      continue;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (!has_prefix(e->d_name, "accel-") || !has_suffix(e->d_name, ".so"))
        continue;
      v = xrealloc(v, (n + 2) * sizeof(*v));
      xasprintf(&v[n++], "%s/%s", dir, e->d_name);
      v[n] = NULL;
    }
    closedir(d);
  }
  *out = v;
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

static int qemu_control_open(int ctl, int timeout_ms, nook_error_t *err)
{
  return qmp_handshake(ctl, timeout_ms, err);
}

/* stop or cont, then query-status to see the vCPUs in the state asked
 * for: QEMU answers stop before every vCPU has left the guest, but the
 * status it reports is the machine's. */
static int qemu_vcpus_run(int ctl, bool run, int timeout_ms, nook_error_t *err)
{
  struct json_doc *doc = NULL;
  const struct json_value *ret;
  if (qmp_execute(ctl, run ? "cont" : "stop", timeout_ms, &doc, &ret, err) < 0)
    return -1;
  json_doc_free(doc);
  if (qmp_execute(ctl, "query-status", timeout_ms, &doc, &ret, err) < 0)
    return -1;
  const struct json_value *running = json_get(ret, "running");
  const struct json_value *status = json_get(ret, "status");
  bool is_running = running != NULL && running->type == JSON_TRUE;
  int r = 0;
  if (running == NULL || is_running != run)
    r = nook_error(err, 0, "qmp %s: the machine is %s", run ? "cont" : "stop",
                   status && status->type == JSON_STRING ? status->u.str : "in an unknown state");
  json_doc_free(doc);
  return r;
}

#define TEMPLATE_FD_NAME "nook-template"

/* The migration stream from `rd` into `out` until QEMU closes its end. */
static int drain_stream(int rd, int out, long long deadline, nook_error_t *err)
{
  for (;;) {
    ssize_t n = splice(rd, NULL, out, NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0)
      continue;
    if (n == 0)
      return 0;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN)
      return nook_error(err, errno, "write the machine's state");
    long long left = deadline - monotonic_ms();
    if (left <= 0)
      return nook_error(err, ETIMEDOUT, "the machine's state still coming after the timeout");
    struct pollfd p = {.fd = rd, .events = POLLIN};
    if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
      return nook_error(err, errno, "poll");
  }
}

/* Stopped, the state goes through a pipe (QMP's getfd names its write end,
 * migrate writes it from QEMU's migration thread) into fd, which QEMU never
 * holds: a VMM cannot write a template other VMs load.  Then the vCPUs run
 * again, whatever happened.  A running machine's migration did not
 * complete here (QEMU 7.2, TCG: QEMU ended): the vCPUs stop first. */
static int qemu_save(int ctl, int fd, int timeout_ms, char **not_saved, nook_error_t *err)
{
  struct json_doc *doc = NULL;
  const struct json_value *ret;
  long long deadline = monotonic_ms() + timeout_ms;
  nook_error_t why = NULL;
  *not_saved = NULL;
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0)
    return nook_error(err, errno, "pipe");
  cleanup_close int rd = pfd[0];
  cleanup_close int wr = pfd[1];
  /* Fewer wake-ups for tens of MiB; the default size is fine too. */
  (void)fcntl(rd, F_SETPIPE_SZ, 1 << 20);
  if (qemu_vcpus_run(ctl, false, timeout_ms, err) < 0)
    return -1;
  int r = qmp_execute_args(ctl, "getfd", "{\"fdname\":\"" TEMPLATE_FD_NAME "\"}", wr, timeout_ms,
                           &doc, &ret, &why);
  json_doc_free(steal_pointer(&doc));
  close(steal_fd(&wr));
  if (r == 0) {
    r = qmp_execute_args(ctl, "migrate", "{\"uri\":\"fd:" TEMPLATE_FD_NAME "\"}", -1, timeout_ms,
                         &doc, &ret, &why);
    json_doc_free(steal_pointer(&doc));
  }
  if (r == 0)
    r = drain_stream(rd, fd, deadline, &why);
  /* The stream's end comes with the migration's; its status may lag. */
  while (r == 0 && qmp_execute(ctl, "query-migrate", timeout_ms, &doc, &ret, &why) == 0) {
    const struct json_value *st = json_get(ret, "status");
    const char *status = st != NULL && st->type == JSON_STRING ? st->u.str : "";
    bool done = strcmp(status, "completed") == 0;
    bool going = strcmp(status, "active") == 0 || strcmp(status, "device") == 0 ||
                 strcmp(status, "setup") == 0;
    if (going && monotonic_ms() < deadline) {
      json_doc_free(steal_pointer(&doc));
      nanosleep(&(struct timespec){.tv_nsec = 1000 * 1000}, NULL);
      continue;
    }
    if (!done) {
      const struct json_value *desc = json_get(ret, "error-desc");
      r = nook_error(&why, 0, "qemu: saving the machine: %s%s%s", status,
                     desc && desc->type == JSON_STRING ? ": " : "",
                     desc && desc->type == JSON_STRING ? desc->u.str : "");
    }
    json_doc_free(steal_pointer(&doc));
    break;
  }
  if (why != NULL) {
    *not_saved = nook_error_text(why);
    nook_error_free(&why);
  }
  return qemu_vcpus_run(ctl, true, timeout_ms, err);
}

/* -incoming: "inmigrate" until the state is in; then cont. */
static int qemu_restored(int ctl, int timeout_ms, nook_error_t *err)
{
  long long deadline = monotonic_ms() + timeout_ms;
  for (;;) {
    struct json_doc *doc = NULL;
    const struct json_value *ret;
    if (qmp_execute(ctl, "query-status", timeout_ms, &doc, &ret, err) < 0)
      return -1;
    const struct json_value *st = json_get(ret, "status");
    bool loading = st != NULL && st->type == JSON_STRING && strcmp(st->u.str, "inmigrate") == 0;
    json_doc_free(doc);
    if (!loading)
      break;
    if (monotonic_ms() > deadline)
      return nook_error(err, ETIMEDOUT, "qemu: the machine's state not loaded after %d ms",
                        timeout_ms);
    nanosleep(&(struct timespec){.tv_nsec = 2 * 1000 * 1000}, NULL);
  }
  return qemu_vcpus_run(ctl, true, timeout_ms, err);
}

const struct vmm_backend vmm_qemu_backend = {
    .name = "qemu",
    .program = QEMU_PROGRAM,
    .build_argv = qemu_build_argv,
    .data_files = qemu_data_files,
    .launch = qemu_launch,
    .wait = qemu_wait,
    .kill = qemu_kill,
    .control_open = qemu_control_open,
    .vcpus_run = qemu_vcpus_run,
    .save = qemu_save,
    .restored = qemu_restored,
};
