/* vmm/mode.c: which containers run in VM mode, and how config.json's vm
 * object becomes the backend's vmm_spec. */
#include <sys/stat.h>
#include <unistd.h>

#include "../../vmm/mode.h"
#include "oci_test.h"

/* A directory with an executable qemu-system-x86_64, a kernel and a disk
 * image, for the checks that the files exist. */
static char *fixture(void)
{
  char *dir = xstrdup("/tmp/nook-unit-vm-XXXXXX");
  if (mkdtemp(dir) == NULL)
    return NULL;
  static const char *const files[] = {"qemu-system-x86_64", "vmlinux", "root.img", "qemu-kvm"};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    cleanup_free char *p = NULL;
    xasprintf(&p, "%s/%s", dir, files[i]);
    int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
    if (fd >= 0)
      close(fd);
  }
  return dir;
}

static void fixture_remove(char *dir)
{
  static const char *const files[] = {"qemu-system-x86_64", "vmlinux", "root.img", "qemu-kvm"};
  for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
    cleanup_free char *p = NULL;
    xasprintf(&p, "%s/%s", dir, files[i]);
    unlink(p);
  }
  rmdir(dir);
  free(dir);
}

/* The mode of a config (single quotes for double), or -1 with the error in
 * *msg. */
static int mode_of(const char *json, bool as_vm, struct vmm_mode *m, char **msg)
{
  struct oci_config *c = parse_ok(json);
  if (c == NULL)
    return -2;
  nook_error_t err = NULL;
  int r = vmm_mode_select(c, as_vm, m, &err);
  if (r < 0) {
    *msg = nook_error_text(err);
    nook_error_free(&err);
  }
  m->vm = NULL; /* points into c */
  oci_config_free(c);
  return r;
}

TEST(binary_name)
{
  CHECK(vmm_invoked_as_vm("nook-vm"));
  CHECK(vmm_invoked_as_vm("/usr/local/sbin/nook-vm"));
  CHECK(!vmm_invoked_as_vm("nook"));
  CHECK(!vmm_invoked_as_vm("/usr/sbin/nook-vm2"));
  CHECK(!vmm_invoked_as_vm("/nook-vm/nook"));
  CHECK(!vmm_invoked_as_vm(NULL));
}

TEST(selection)
{
  struct vmm_mode m;
  char *msg = NULL;
  CHECK_INT_EQ(mode_of("{" BASE "}", false, &m, &msg), 0);
  CHECK(m.backend == NULL && m.source == VMM_BY_NONE);

  CHECK_INT_EQ(mode_of("{" BASE "}", true, &m, &msg), 1);
  CHECK_STR_EQ(m.backend, "qemu");
  CHECK(m.source == VMM_BY_BINARY_NAME);

  CHECK_INT_EQ(mode_of("{" BASE ", 'annotations': {'nook.vm': 'qemu'}}", false, &m, &msg), 1);
  CHECK_STR_EQ(m.backend, "qemu");
  CHECK(m.source == VMM_BY_ANNOTATION);

  CHECK_INT_EQ(mode_of("{" BASE ", 'vm': {'kernel': {'path': '/k'}}}", false, &m, &msg), 1);
  CHECK_STR_EQ(m.backend, "qemu");
  CHECK(m.source == VMM_BY_VM_OBJECT);

  /* An unknown backend is an error however else VM mode was chosen. */
  static const char *const bad[] = {
      "{" BASE ", 'annotations': {'nook.vm': 'firecracker'}}",
      "{" BASE ", 'annotations': {'nook.vm': 'firecracker'}, 'vm': {'kernel': {'path': '/k'}}}",
  };
  for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
    for (int as_vm = 0; as_vm < 2; as_vm++) {
      msg = NULL;
      CHECK_INT_EQ(mode_of(bad[i], as_vm, &m, &msg), -1);
      CHECK_STR_EQ(msg, "config.json: annotations[\"nook.vm\"]: unknown VM backend "
                        "\"firecracker\": the backends are: qemu");
      free(msg);
    }
  }
  msg = NULL;
  CHECK_INT_EQ(mode_of("{" BASE ", 'annotations': {'nook.vm': ''}}", false, &m, &msg), -1);
  CHECK_STR_CONTAINS(msg, "unknown VM backend \"\"");
  free(msg);
}

/* NULL when the config's spec is filled in; else the error. */
static char *spec_error(const char *json, struct vmm_spec *spec)
{
  struct oci_config *c = parse_ok(json);
  if (c == NULL)
    return xstrdup("(parse error)");
  nook_error_t err = NULL;
  char *text = NULL;
  struct vmm_mode m;
  if (vmm_mode_select(c, false, &m, &err) < 0 || vmm_mode_spec(&m, spec, &err) < 0) {
    text = nook_error_text(err);
    nook_error_free(&err);
  }
  oci_config_free(c);
  return text;
}

#define CHECK_SPEC_ERROR(json, want)                                                               \
  do {                                                                                             \
    struct vmm_spec _s = {0};                                                                      \
    cleanup_free char *_e = spec_error(json, &_s);                                                 \
    CHECK_STR_EQ(_e ? _e : "ok", want);                                                            \
  } while (0)

TEST(defaults_without_a_vm_object)
{
  struct vmm_mode m = {.backend = "qemu", .source = VMM_BY_ANNOTATION};
  struct vmm_spec s = {.kernel = "/bundle/vmlinux"};
  nook_error_t err = NULL;
  CHECK_INT_EQ(vmm_mode_spec(&m, &s, &err), 0);
  CHECK_INT_EQ(s.vcpus, VMM_DEFAULT_VCPUS);
  CHECK_INT_EQ(s.mem_mib, VMM_DEFAULT_MEM_MIB);
  CHECK_STR_EQ(s.kernel, "/bundle/vmlinux");
  CHECK(s.program == NULL && s.vmm_args == NULL && s.kernel_args == NULL && s.disk == NULL);
}

TEST(vm_object_to_spec)
{
  char *dir = fixture();
  if (!CHECK(dir != NULL))
    return;
  cleanup_free char *json = NULL;
  xasprintf(&json,
            "{" BASE ", 'vm': {'hypervisor': {'path': '%s/qemu-system-x86_64', 'parameters': "
            "['-device', 'virtio-rng-device']}, 'kernel': {'path': '%s/vmlinux', 'parameters': "
            "['foo=bar', 'hello world']}, 'image': {'path': '%s/root.img', 'format': 'qcow2'}, "
            "'hwConfig': {'vcpus': 2, 'memory': 536871936}}}",
            dir, dir, dir);
  struct oci_config *c = parse_ok(json);
  if (!CHECK(c != NULL)) {
    fixture_remove(dir);
    return;
  }
  struct vmm_mode m;
  struct vmm_spec s = {.kernel = "/bundle/vmlinux"};
  nook_error_t err = NULL;
  CHECK_INT_EQ(vmm_mode_select(c, false, &m, &err), 1);
  CHECK_INT_EQ(vmm_mode_spec(&m, &s, &err), 0);
  cleanup_free char *qemu = NULL, *kernel = NULL, *image = NULL;
  xasprintf(&qemu, "%s/qemu-system-x86_64", dir);
  xasprintf(&kernel, "%s/vmlinux", dir);
  xasprintf(&image, "%s/root.img", dir);
  CHECK_STR_EQ(s.program, qemu);
  CHECK_STR_EQ(s.kernel, kernel);
  CHECK_STR_EQ(s.disk, image);
  CHECK_STR_EQ(s.disk_format, "qcow2");
  CHECK(s.vmm_args != NULL && strcmp(s.vmm_args[1], "virtio-rng-device") == 0 &&
        s.vmm_args[2] == NULL);
  CHECK(s.kernel_args != NULL && strcmp(s.kernel_args[1], "hello world") == 0 &&
        s.kernel_args[2] == NULL);
  CHECK_INT_EQ(s.vcpus, 2);
  /* 512 MiB and 1 KiB: rounded down. */
  CHECK_INT_EQ(s.mem_mib, 512);
  oci_config_free(c);

  /* An image without a format is raw (config-vm.md). */
  cleanup_free char *raw = NULL;
  xasprintf(&raw,
            "{" BASE ", 'vm': {'kernel': {'path': '%s/vmlinux'}, 'image': {'path': "
            "'%s/root.img', 'format': ''}}}",
            dir, dir);
  struct vmm_spec s2 = {0};
  cleanup_free char *e = spec_error(raw, &s2);
  CHECK_STR_EQ(e ? e : "ok", "ok");
  CHECK_STR_EQ(s2.disk_format, "raw");
  fixture_remove(dir);
}

TEST(vm_object_refusals_name_the_field)
{
  char *dir = fixture();
  if (!CHECK(dir != NULL))
    return;
  cleanup_free char *k = NULL, *json = NULL, *want = NULL;
  xasprintf(&k, "'kernel': {'path': '%s/vmlinux'}", dir);

  free(json);
  xasprintf(&json, "{" BASE ", 'vm': {%s, 'hwConfig': {'memory': 134217727}}}", k);
  CHECK_SPEC_ERROR(json, "config.json: vm.hwConfig.memory: 134217727 bytes is less than the 128 "
                         "MiB the guest kernel needs");
  free(json);
  xasprintf(&json, "{" BASE ", 'vm': {%s, 'hwConfig': {'memory': 134217728}}}", k);
  CHECK_SPEC_ERROR(json, "ok");
  free(json);
  xasprintf(&json, "{" BASE ", 'vm': {%s, 'hwConfig': {'vcpus': 0}}}", k);
  CHECK_SPEC_ERROR(json, "config.json: vm.hwConfig.vcpus: 0: want 1 to 255");
  free(json);
  xasprintf(&json, "{" BASE ", 'vm': {%s, 'hwConfig': {'vcpus': 256}}}", k);
  CHECK_SPEC_ERROR(json, "config.json: vm.hwConfig.vcpus: 256: want 1 to 255");

  free(json);
  xasprintf(&json, "{" BASE ", 'vm': {'kernel': {'path': '%s/vmlinux', 'initrd': '/i.img'}}}", dir);
  CHECK_SPEC_ERROR(json, "config.json: vm.kernel.initrd: not supported: the guest's initramfs is "
                         "nook's own (nook of this same build is its /init, with the kernel's "
                         "modules)");
  free(json);
  xasprintf(&json, "{" BASE ", 'vm': {'kernel': {'path': '%s/nope'}}}", dir);
  free(want);
  xasprintf(&want, "config.json: vm.kernel.path: `%s/nope`: no such file or directory", dir);
  CHECK_SPEC_ERROR(json, want);

  free(json);
  xasprintf(&json, "{" BASE ", 'vm': {%s, 'hypervisor': {'path': '%s/qemu-kvm'}}}", k, dir);
  free(want);
  xasprintf(&want,
            "config.json: vm.hypervisor.path: `%s/qemu-kvm` is not a qemu-system-* binary (the "
            "QEMU backend is nook's only one)",
            dir);
  CHECK_SPEC_ERROR(json, want);
  free(json);
  xasprintf(&json,
            "{" BASE ", 'vm': {%s, 'hypervisor': {'path': '/nonexistent/qemu-system-x86_64'}}}", k);
  CHECK_SPEC_ERROR(json, "config.json: vm.hypervisor.path: `/nonexistent/qemu-system-x86_64`: "
                         "no such file or directory");
  free(json);
  xasprintf(&json,
            "{" BASE ", 'vm': {%s, 'hypervisor': {'path': '%s/qemu-system-x86_64', 'parameters': "
            "['-m', '1G', '-sandbox', 'off']}}}",
            k, dir);
  CHECK_SPEC_ERROR(json, "config.json: vm.hypervisor.parameters[2]: -sandbox is nook's to set (it "
                         "confines QEMU)");
  free(json);
  xasprintf(&json,
            "{" BASE ", 'vm': {'kernel': {'path': '%s/vmlinux', 'parameters': ['a=1', "
            "'b=\\'c\\'']}}}",
            dir);
  CHECK_SPEC_ERROR(json, "config.json: vm.kernel.parameters[1]: empty, or a double quote or a "
                         "newline, which the kernel cannot be given");
  free(json);
  xasprintf(&json, "{" BASE ", 'vm': {%s, 'image': {'path': '%s/none.img'}}}", k, dir);
  free(want);
  xasprintf(&want, "config.json: vm.image.path: `%s/none.img`: no such file or directory", dir);
  CHECK_SPEC_ERROR(json, want);
  fixture_remove(dir);
}

TEST(backend_names)
{
  cleanup_free char *all = vmm_backend_names();
  CHECK_STR_EQ(all, "qemu");
  cleanup_free char *installed = vmm_backend_names_installed();
  bool has_qemu = false;
  cleanup_free char *path = xstrdup(getenv("PATH") ? getenv("PATH") : "");
  char *save = NULL;
  for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    cleanup_free char *p = NULL;
    xasprintf(&p, "%s/qemu-system-x86_64", d);
    has_qemu |= access(p, X_OK) == 0;
  }
  CHECK_STR_EQ(installed, has_qemu ? "qemu" : "");
}
