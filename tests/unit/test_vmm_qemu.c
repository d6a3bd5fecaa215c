/* vmm/qemu.c's argv from a typed spec, and vmm/host.c's host probes. */
#include "unit.h"

#include <unistd.h>

#include "../../base/utils.h"
#include "../../vmm/vmm.h"

static const struct vmm_share two_shares[] = {
    {.tag = "rootfs", .path = "/b/rootfs", .readonly = true},
    {.tag = "io", .path = "/run/x,y", .readonly = false},
};

static struct vmm_spec base_spec(void)
{
  return (struct vmm_spec){
      .kernel = "/k/vmlinux",
      .initrd = "/k/initramfs.cpio",
      .cmdline = "console=ttyS0 quiet",
      .vcpus = 2,
      .mem_mib = 256,
      .channel_socket = "/run/vm/chan.sock",
      .accel = VMM_ACCEL_TCG,
  };
}

/* The argv as one line, each argument followed by one space. */
static char *joined(const struct vmm_spec *s, nook_error_t *err)
{
  char **argv = NULL;
  if (vmm_qemu_backend.build_argv(s, &argv, err) < 0)
    return NULL;
  size_t n = 1;
  for (char **a = argv; *a; a++)
    n += strlen(*a) + 1;
  char *out = xmalloc(n), *o = out;
  for (char **a = argv; *a; a++)
    o += sprintf(o, "%s ", *a);
  *o = '\0';
  strv_free(argv);
  return out;
}

/* The value that follows `opt` in the argv, or NULL. */
static char *value_of(const struct vmm_spec *s, const char *opt)
{
  char **argv = NULL;
  nook_error_t err = NULL;
  if (vmm_qemu_backend.build_argv(s, &argv, &err) < 0) {
    nook_error_free(&err);
    return NULL;
  }
  char *v = NULL;
  for (char **a = argv; *a && a[1]; a++) {
    if (strcmp(*a, opt) == 0) {
      v = xstrdup(a[1]);
      break;
    }
  }
  strv_free(argv);
  return v;
}

TEST(tcg_argv_is_a_microvm_with_the_channel)
{
  struct vmm_spec s = base_spec();
  nook_error_t err = NULL;
  char *line = joined(&s, &err);
  CHECK(line != NULL);
  CHECK(has_prefix(line, "qemu-system-x86_64 -M microvm,"));
  CHECK_STR_CONTAINS(line, "pit=off,pic=off,rtc=on ");
  CHECK_STR_CONTAINS(line, " -accel tcg,thread=multi,tb-size=64 -cpu max ");
  CHECK_STR_CONTAINS(line, " -smp 2 -m 256M ");
  CHECK_STR_CONTAINS(line, " -nodefaults -no-user-config -nographic -no-reboot ");
  CHECK_STR_CONTAINS(line, " -serial none ");
  CHECK_STR_CONTAINS(line, " -kernel /k/vmlinux -initrd /k/initramfs.cpio ");
  CHECK_STR_CONTAINS(line, " -device virtio-serial-device,max_ports=2 -chardev "
                           "socket,id=chan,path=/run/vm/chan.sock -device "
                           "virtserialport,chardev=chan,name=nook ");
  CHECK(strstr(line, "-sandbox") == NULL);
  CHECK(strstr(line, "kvm") == NULL);
  free(line);
  nook_error_free(&err);
}

TEST(kvm_argv_uses_the_host_cpu)
{
  struct vmm_spec s = base_spec();
  s.accel = VMM_ACCEL_KVM;
  char *accel = value_of(&s, "-accel"), *cpu = value_of(&s, "-cpu");
  CHECK_STR_EQ(accel, "kvm");
  CHECK_STR_EQ(cpu, "host");
  free(accel);
  free(cpu);
}

TEST(unresolved_accel_is_refused)
{
  struct vmm_spec s = base_spec();
  s.accel = VMM_ACCEL_AUTO;
  nook_error_t err = NULL;
  char **argv = NULL;
  CHECK(vmm_qemu_backend.build_argv(&s, &argv, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "qemu: the accelerator is not resolved (auto)");
  nook_error_free(&err);
}

TEST(tsc_rate_is_appended_to_the_cmdline)
{
  struct vmm_spec s = base_spec();
  s.tsc_khz = 2399998;
  char *append = value_of(&s, "-append");
  CHECK_STR_EQ(append, "console=ttyS0 quiet tsc_early_khz=2399998");
  free(append);
  s.cmdline = NULL;
  append = value_of(&s, "-append");
  CHECK_STR_EQ(append, "tsc_early_khz=2399998");
  free(append);
  s.tsc_khz = 0;
  append = value_of(&s, "-append");
  CHECK_STR_EQ(append, "");
  free(append);
}

TEST(shares_become_9p_devices_with_commas_escaped)
{
  struct vmm_spec s = base_spec();
  s.shares = two_shares;
  s.nshares = 2;
  nook_error_t err = NULL;
  char *line = joined(&s, &err);
  CHECK_STR_CONTAINS(line, " -fsdev local,id=fs0,path=/b/rootfs,security_model=none,"
                           "multidevs=remap,readonly=on -device "
                           "virtio-9p-device,fsdev=fs0,mount_tag=rootfs ");
  CHECK_STR_CONTAINS(line, " -fsdev local,id=fs1,path=/run/x,,y,security_model=none,"
                           "multidevs=remap -device virtio-9p-device,fsdev=fs1,mount_tag=io ");
  free(line);
  nook_error_free(&err);
}

TEST(console_and_sandbox)
{
  struct vmm_spec s = base_spec();
  s.console_path = "/run/vm/console,log";
  s.sandbox = true;
  char *serial = value_of(&s, "-serial"), *sandbox = value_of(&s, "-sandbox");
  CHECK_STR_EQ(serial, "file:/run/vm/console,,log");
  CHECK_STR_EQ(sandbox, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  free(serial);
  free(sandbox);
}

static void check_refused(const struct vmm_spec *s, const char *want)
{
  nook_error_t err = NULL;
  char **argv = NULL;
  CHECK(vmm_qemu_backend.build_argv(s, &argv, &err) < 0);
  CHECK(argv == NULL);
  CHECK_STR_EQ(err ? err->msg : NULL, want);
  nook_error_free(&err);
}

TEST(bad_specs_are_refused_with_a_reason)
{
  struct vmm_spec s = base_spec();
  s.mem_mib = 64;
  check_refused(&s, "qemu: 64 MiB of guest memory: want at least 128");
  s = base_spec();
  s.vcpus = 0;
  check_refused(&s, "qemu: 0 vCPUs: want 1 to 255");
  s = base_spec();
  s.kernel = NULL;
  check_refused(&s, "qemu: a kernel and an initrd are required");
  s = base_spec();
  s.channel_socket = NULL;
  check_refused(&s, "qemu: a channel socket is required");

  struct vmm_share bad[VMM_MAX_SHARES + 1];
  char tags[VMM_MAX_SHARES + 1][16];
  for (int i = 0; i <= VMM_MAX_SHARES; i++) {
    snprintf(tags[i], sizeof(tags[i]), "s%d", i);
    bad[i] = (struct vmm_share){.tag = tags[i], .path = "/x"};
  }
  s = base_spec();
  s.shares = bad;
  s.nshares = VMM_MAX_SHARES + 1;
  check_refused(&s, "qemu: 8 shares: microvm has room for 7 beside the channel");
  s.nshares = 2;
  bad[1].tag = "s0";
  check_refused(&s, "qemu: share tag `s0` given twice");
  bad[1].tag = "a b";
  check_refused(&s, "qemu: share tag `a b`: want 1-31 of [A-Za-z0-9_-]");
  bad[1].tag = "s1";
  bad[1].path = "rel";
  check_refused(&s, "qemu: share `s1`: the path must be absolute");
}

TEST(config_settings_reach_the_argv)
{
  struct vmm_spec s = base_spec();
  char *const vmm_args[] = {"-device", "virtio-rng-device", NULL};
  char *const kernel_args[] = {"foo=bar", "hello world", "msg=a b", NULL};
  s.program = "/opt/qemu/bin/qemu-system-x86_64";
  s.vmm_args = vmm_args;
  s.kernel_args = kernel_args;
  s.tsc_khz = 2000000;
  s.sandbox = true;
  nook_error_t err = NULL;
  char *line = joined(&s, &err);
  CHECK(has_prefix(line, "/opt/qemu/bin/qemu-system-x86_64 -M microvm,"));
  /* The config's parameters after nook's, the sandbox still last. */
  CHECK_STR_CONTAINS(line, "name=nook -device virtio-rng-device -sandbox on,");
  free(line);
  char *append = value_of(&s, "-append");
  CHECK_STR_EQ(append,
               "console=ttyS0 quiet tsc_early_khz=2000000 foo=bar \"hello world\" msg=\"a b\"");
  free(append);
  s.cmdline = NULL;
  s.tsc_khz = 0;
  append = value_of(&s, "-append");
  CHECK_STR_EQ(append, "foo=bar \"hello world\" msg=\"a b\"");
  free(append);
}

/* n shares (s0, s1, ...) in s, kept in m. */
struct many_shares {
  struct vmm_share v[VMM_MAX_SHARES];
  char tags[VMM_MAX_SHARES][16];
};

static void many_shares(struct many_shares *m, struct vmm_spec *s, int n)
{
  for (int i = 0; i < n; i++) {
    snprintf(m->tags[i], sizeof(m->tags[i]), "s%d", i);
    m->v[i] = (struct vmm_share){.tag = m->tags[i], .path = "/x"};
  }
  s->shares = m->v;
  s->nshares = (size_t)n;
}

TEST(disk_image_is_a_virtio_blk_device)
{
  struct vmm_spec s = base_spec();
  s.disk = "/img/root,1.qcow2";
  s.disk_format = "qcow2";
  nook_error_t err = NULL;
  char *line = joined(&s, &err);
  CHECK_STR_CONTAINS(line, " -drive file=/img/root,,1.qcow2,format=qcow2,if=none,id=disk0 "
                           "-device virtio-blk-device,drive=disk0 ");
  free(line);
  s.disk_format = NULL;
  char *drive = value_of(&s, "-drive");
  CHECK_STR_EQ(drive, "file=/img/root,,1.qcow2,format=raw,if=none,id=disk0");
  free(drive);
  s.disk_format = "vdi";
  check_refused(&s, "qemu: disk format `vdi`: want raw or qcow2");
  s.disk_format = NULL;
  struct many_shares m;
  many_shares(&m, &s, VMM_MAX_SHARES);
  check_refused(&s, "qemu: 7 shares and a disk: microvm has room for 7 beside the channel");
}

TEST(network_device_is_virtio_net_on_the_tap_without_a_mac)
{
  struct vmm_spec s = base_spec();
  s.has_net = true;
  s.net_fd = 7;
  nook_error_t err = NULL;
  char *line = joined(&s, &err);
  /* No mac=: a template's saved device state would override it. */
  CHECK_STR_CONTAINS(line, " -netdev tap,id=net0,fd=7 -device virtio-net-device,netdev=net0 ");
  free(line);
  s.net_fd = -1;
  check_refused(&s, "qemu: a network device without a tap");
  s.net_fd = 7;
  struct many_shares m;
  many_shares(&m, &s, VMM_MAX_SHARES - 1);
  s.disk = "/img/root";
  check_refused(&s, "qemu: 6 shares, a disk and a network device: microvm has room for 7 beside "
                    "the channel");
}

TEST(kernel_parameters_the_kernel_cannot_take_are_refused)
{
  struct vmm_spec s = base_spec();
  char *const quote[] = {"a=\"b\"", NULL};
  s.kernel_args = quote;
  check_refused(&s, "qemu: kernel parameter `a=\"b\"`: empty, or a double quote or a newline the "
                    "kernel cannot be given");
  char *const empty[] = {"", NULL};
  s.kernel_args = empty;
  check_refused(&s, "qemu: kernel parameter ``: empty, or a double quote or a newline the kernel "
                    "cannot be given");
  char big[2100];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  char *const long_one[] = {big, NULL};
  s.kernel_args = long_one;
  check_refused(&s, "qemu: the kernel command line has 2119 bytes: x86 takes at most 2047");
}

TEST(backend_lookup)
{
  CHECK(vmm_backend_find("qemu") == &vmm_qemu_backend);
  CHECK(vmm_backend_find("firecracker") == NULL);
  CHECK(vmm_backend_at(0) == &vmm_qemu_backend);
  CHECK(vmm_backend_at(1) == NULL);
}

TEST(kvm_detection_wants_the_stable_api_and_hardware)
{
  static const char vmx[] = "processor\t: 0\nflags\t\t: fpu vme de vmx sse\n";
  /* Neither a missing node nor a device that is not KVM means KVM. */
  CHECK_INT_EQ(vmm_detect_accel_at("/nonexistent/kvm", vmx), VMM_ACCEL_TCG);
  CHECK_INT_EQ(vmm_detect_accel_at("/dev/null", vmx), VMM_ACCEL_TCG);
  /* A real /dev/kvm without vmx/svm (kvm-pvm) is no KVM for Debian's
   * kernel either. */
  if (access("/dev/kvm", R_OK | W_OK) == 0)
    CHECK_INT_EQ(vmm_detect_accel_at("/dev/kvm", "flags\t\t: fpu sse\n"), VMM_ACCEL_TCG);
  enum vmm_accel a = vmm_detect_accel();
  CHECK(a == VMM_ACCEL_KVM || a == VMM_ACCEL_TCG);
}

TEST(virtualisation_flags_from_cpuinfo)
{
  CHECK(vmm_cpuinfo_has_virt("processor\t: 0\nflags\t\t: fpu vmx sse\n"));
  CHECK(vmm_cpuinfo_has_virt("flags\t\t: fpu svm\nbugs\t\t: x\n"));
  CHECK(vmm_cpuinfo_has_virt("flags\t\t: svm"));
  CHECK(!vmm_cpuinfo_has_virt("flags\t\t: fpu vmxx sse\n"));
  CHECK(!vmm_cpuinfo_has_virt("flags\t\t: fpu sse\nvmx flags\t: vmx\n"));
  CHECK(!vmm_cpuinfo_has_virt("processor\t: 0\n"));
  CHECK(!vmm_cpuinfo_has_virt(""));
}

TEST(tsc_rate_from_cpuinfo)
{
  CHECK_INT_EQ(vmm_tsc_khz_from_cpuinfo("processor\t: 0\nmodel name\t: X\ncpu MHz\t\t: "
                                        "2399.998\ncache size\t: 1 KB\ncpu MHz\t\t: 1.0\n"),
               2399998);
  CHECK_INT_EQ(vmm_tsc_khz_from_cpuinfo("processor\t: 0\n"), 0);
  CHECK_INT_EQ(vmm_tsc_khz_from_cpuinfo("cpu MHz\t\t: fast\n"), 0);
  CHECK_INT_EQ(vmm_tsc_khz_from_cpuinfo("cpu MHz\nx: 3\n"), 0);
  CHECK_INT_EQ(vmm_tsc_khz_from_cpuinfo(""), 0);
}
