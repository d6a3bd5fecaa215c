/* vmm/template.c: what a template's key covers, which files are trusted,
 * and what a save leaves in the directory. */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../base/utils.h"
#include "../../vmm/template.h"

static char dir[] = "/tmp/nook-unit-template-XXXXXX";
static char kernel[64], initrd[64];

static void write_text(const char *path, const char *text)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  CHECK(fd >= 0);
  CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
  close(fd);
}

static void setup(void)
{
  if (dir[strlen(dir) - 1] == 'X') {
    CHECK(mkdtemp(dir) != NULL);
    snprintf(kernel, sizeof(kernel), "%s/vmlinux", dir);
    snprintf(initrd, sizeof(initrd), "%s/initrd", dir);
    write_text(kernel, "kernel");
    write_text(initrd, "initrd");
  }
}

static const struct vmm_share share_a = {.tag = "ctr", .path = "/run/a/share"};
static const struct vmm_share share_b = {.tag = "ctr", .path = "/var/run/other/b"};

static struct vmm_spec spec(void)
{
  setup();
  return (struct vmm_spec){
      .program = "/bin/true",
      .kernel = kernel,
      .initrd = initrd,
      .cmdline = "console=ttyS0 nook.park",
      .vcpus = 1,
      .mem_mib = 256,
      .shares = &share_a,
      .nshares = 1,
      .channel_socket = "/run/a/chan.sock",
      .control_socket = "/run/a/ctl.sock",
      .console_path = "/run/a/console.log",
      .accel = VMM_ACCEL_TCG,
      .sandbox = true,
  };
}

static void key_of(const struct vmm_spec *s, char out[VMM_TEMPLATE_KEY_LEN + 1])
{
  nook_error_t err = NULL;
  if (!CHECK(vmm_template_key(&vmm_qemu_backend, s, out, &err) == 0)) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
  }
}

TEST(template_key_ignores_the_paths_of_one_vm)
{
  char a[VMM_TEMPLATE_KEY_LEN + 1], b[VMM_TEMPLATE_KEY_LEN + 1];
  struct vmm_spec s = spec();
  key_of(&s, a);
  s.shares = &share_b;
  s.channel_socket = "/elsewhere/chan.sock";
  s.control_socket = "/elsewhere/ctl.sock";
  s.console_path = "/elsewhere/console.log";
  key_of(&s, b);
  CHECK_STR_EQ(a, b);
  CHECK_INT_EQ((int)strlen(a), VMM_TEMPLATE_KEY_LEN);
  /* A network device is part of the machine, its tap's fd number not. */
  s.has_net = true;
  s.net_fd = 9;
  key_of(&s, a);
  CHECK(strcmp(a, b) != 0);
  s.net_fd = 12;
  key_of(&s, b);
  CHECK_STR_EQ(a, b);
}

/* Whether s's key differs from base's. */
static bool other_key(const struct vmm_spec *s, const char *base)
{
  char k[VMM_TEMPLATE_KEY_LEN + 1];
  key_of(s, k);
  return strcmp(k, base) != 0;
}

TEST(template_key_covers_the_machine_and_its_files)
{
  char base[VMM_TEMPLATE_KEY_LEN + 1];
  const struct vmm_spec s0 = spec();
  key_of(&s0, base);
  char *const extra[] = {"-device", "virtio-rng-device", NULL};
  struct vmm_spec v[5];
  for (size_t i = 0; i < 5; i++)
    v[i] = s0;
  v[0].mem_mib = 512;
  v[1].vcpus = 2;
  v[2].cmdline = "console=ttyS0";
  v[3].vmm_args = extra;
  v[4].program = "/bin/false";
  for (size_t i = 0; i < 5; i++)
    if (!CHECK(other_key(&v[i], base)))
      printf("  change %zu kept the key\n", i);
  /* The same path, another kernel: a rebuilt file is another machine. */
  struct timespec t[2] = {{.tv_sec = 1000000}, {.tv_sec = 1000000}};
  CHECK(utimensat(AT_FDCWD, kernel, t, 0) == 0);
  CHECK(other_key(&s0, base));
  char k[VMM_TEMPLATE_KEY_LEN + 1], again[VMM_TEMPLATE_KEY_LEN + 1];
  key_of(&s0, k);
  key_of(&s0, again);
  CHECK_STR_EQ(k, again);
}

/* A saved template under key (dir/tpl), mode 0600, starting with QEMU's
 * stream magic. */
static void save_one(const char *tdir, const char *key, const char *content)
{
  nook_error_t err = NULL;
  cleanup_free char *tmp = NULL;
  int fd = vmm_template_create(tdir, key, &tmp, &err);
  if (!CHECK(fd >= 0))
    return;
  CHECK(write(fd, content, strlen(content)) == (ssize_t)strlen(content));
  close(fd);
  CHECK(vmm_template_install(tdir, key, tmp, &err) == 0);
  CHECK(access(tmp, F_OK) < 0);
}

static char *template_path(const char *tdir, const char *key)
{
  char *p = NULL;
  xasprintf(&p, "%s/template-%s", tdir, key);
  return p;
}

TEST(template_open_trusts_only_our_private_saved_machines)
{
  setup();
  cleanup_free char *tdir = NULL, *path = NULL, *why = NULL;
  xasprintf(&tdir, "%s/t1", dir);
  const char *key = "k1";
  int fd = vmm_template_open(tdir, key, &why);
  CHECK(fd < 0 && why == NULL); /* none: no reason to log */
  save_one(tdir, key, "QEVM and the rest");
  struct stat st;
  CHECK(stat(tdir, &st) == 0 && (st.st_mode & 07777) == 0700);
  path = template_path(tdir, key);
  CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
  fd = vmm_template_open(tdir, key, &why);
  CHECK(fd >= 0 && why == NULL);
  if (fd >= 0)
    close(fd);

  static const struct {
    mode_t mode;
    uid_t uid;
    const char *content, *why;
  } bad[] = {
      {0620, 0, "QEVM", "writable by other users"}, {0604, 0, "QEVM", "readable by other users"},
      {0600, 1, "QEVM", "owned by another user"},   {0600, 0, "ELF!", "not a saved machine"},
      {0600, 0, "QE", "not a saved machine"},
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    write_text(path, bad[i].content);
    CHECK(chmod(path, bad[i].mode) == 0);
    CHECK(chown(path, bad[i].uid, (gid_t)-1) == 0);
    free(steal_pointer(&why));
    fd = vmm_template_open(tdir, key, &why);
    CHECK(fd < 0);
    if (CHECK(why != NULL))
      CHECK_STR_CONTAINS(why, bad[i].why);
    CHECK(chown(path, 0, (gid_t)-1) == 0);
  }
  /* A directory others may write is as bad as the file. */
  write_text(path, "QEVM");
  CHECK(chmod(path, 0600) == 0);
  CHECK(chmod(tdir, 0770) == 0);
  free(steal_pointer(&why));
  CHECK(vmm_template_open(tdir, key, &why) < 0);
  if (CHECK(why != NULL))
    CHECK_STR_CONTAINS(why, "writable by other users");
  CHECK(chmod(tdir, 0700) == 0);
  /* A symlink is not followed. */
  CHECK(unlink(path) == 0);
  CHECK(symlink(kernel, path) == 0);
  free(steal_pointer(&why));
  CHECK(vmm_template_open(tdir, key, &why) < 0);
  CHECK(why != NULL);
}

TEST(template_restore_argv_loads_the_state_instead_of_booting)
{
  struct vmm_spec s = spec();
  s.restore = true;
  s.restore_fd = 7;
  char **argv = NULL;
  nook_error_t err = NULL;
  if (!CHECK(vmm_qemu_backend.build_argv(&s, &argv, &err) == 0))
    return;
  bool incoming = false, kernel_seen = false;
  for (char **a = argv; *a; a++) {
    if (strcmp(*a, "-incoming") == 0 && a[1] != NULL)
      incoming = strcmp(a[1], "fd:7") == 0;
    if (strcmp(*a, "-kernel") == 0 || strcmp(*a, "-initrd") == 0 || strcmp(*a, "-append") == 0)
      kernel_seen = true;
  }
  CHECK(incoming);
  CHECK(!kernel_seen);
  /* -sandbox stays last. */
  size_t n = strv_len(argv);
  CHECK(n >= 2 && strcmp(argv[n - 2], "-sandbox") == 0);
  strv_free(argv);
}

TEST(template_install_keeps_a_few_recent_others_and_clears_stale_saves)
{
  setup();
  cleanup_free char *tdir = NULL, *stale = NULL, *fresh_tmp = NULL;
  xasprintf(&tdir, "%s/t2", dir);
  char key[16];
  time_t now = time(NULL);
  /* Seven others, used 1..7 hours ago; one unused for two days. */
  for (int i = 1; i <= 8; i++) {
    snprintf(key, sizeof(key), "old%d", i);
    save_one(tdir, key, "QEVM");
    cleanup_free char *p = template_path(tdir, key);
    time_t when = now - (i == 8 ? 48 : i) * 3600;
    struct timespec t[2] = {{.tv_sec = when}, {.tv_sec = when}};
    CHECK(utimensat(AT_FDCWD, p, t, 0) == 0);
  }
  /* A crashed save of two hours ago, and one under way. */
  xasprintf(&stale, "%s/.template-x.AAAAAA", tdir);
  write_text(stale, "QEVM");
  struct timespec t2[2] = {{.tv_sec = now - 7200}, {.tv_sec = now - 7200}};
  CHECK(utimensat(AT_FDCWD, stale, t2, 0) == 0);
  xasprintf(&fresh_tmp, "%s/.template-y.BBBBBB", tdir);
  write_text(fresh_tmp, "QEVM");

  save_one(tdir, "new", "QEVM");
  for (int i = 1; i <= 8; i++) {
    snprintf(key, sizeof(key), "old%d", i);
    cleanup_free char *p = template_path(tdir, key);
    bool kept = access(p, F_OK) == 0;
    if (!CHECK(kept == (i <= 4)))
      printf("  %s %s\n", key, kept ? "kept" : "removed");
  }
  cleanup_free char *p = template_path(tdir, "new");
  CHECK(access(p, F_OK) == 0);
  CHECK(access(stale, F_OK) < 0);
  CHECK(access(fresh_tmp, F_OK) == 0);
  /* The last test in this file: the directory goes. */
  cleanup_free char *cmd = NULL;
  xasprintf(&cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}
