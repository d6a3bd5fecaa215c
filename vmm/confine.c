#include "confine.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/capture.h"
#include "../base/syscalls.h"
#include "../base/utils.h"

#define MIB (UINT64_C(1) << 20)

/* ---- what the VMM program needs: the binary, its loader and libraries ---- */

/* A dynamically linked program's loader (PT_INTERP), or NULL when static. */
static int program_interp(const char *program, char **out, nook_error_t *err)
{
  *out = NULL;
  cleanup_close int fd = open(program, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "open `%s`", program);
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh) ||
      memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr))
    return nook_error(err, 0, "`%s` is not a 64-bit ELF program", program);
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph))
      return nook_error(err, errno, "read `%s`'s program headers", program);
    if (ph.p_type != PT_INTERP)
      continue;
    if (ph.p_filesz == 0 || ph.p_filesz > 4096)
      return nook_error(err, 0, "`%s`: a PT_INTERP of %llu bytes", program,
                        (unsigned long long)ph.p_filesz);
    char *s = xcalloc(1, ph.p_filesz + 1);
    if (pread(fd, s, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz) {
      free(s);
      return nook_error(err, errno, "read `%s`'s PT_INTERP", program);
    }
    *out = s;
    return 0;
  }
  return 0;
}

static void strv_push(char ***v, size_t *n, char *s)
{
  for (size_t i = 0; i < *n; i++) {
    if (strcmp((*v)[i], s) == 0) {
      free(s);
      return;
    }
  }
  *v = xrealloc(*v, (*n + 2) * sizeof(**v));
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
}

int vmm_parse_loader_list(const char *text, char ***out, nook_error_t *err)
{
  char **v = xcalloc(1, sizeof(*v));
  size_t n = 0;
  cleanup_free char *copy = xstrdup(text);
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    line += strspn(line, " \t");
    if (*line == '\0')
      continue;
    /* "libz.so.1 => /lib/.../libz.so.1 (0x...)", "/lib64/ld-linux-x86-64.so.2
     * (0x...)", "linux-vdso.so.1 (0x...)" (no file), "libq.so => not found". */
    const char *arrow = strstr(line, "=> ");
    const char *path = arrow ? arrow + 3 : line;
    if (arrow && strncmp(path, "not found", 9) == 0) {
      strv_free(v);
      return nook_error(err, 0, "the loader did not find %.*s", (int)(arrow - line - 1), line);
    }
    if (*path != '/')
      continue;
    strv_push(&v, &n, xstrndup(path, strcspn(path, " \t(")));
  }
  *out = v;
  return 0;
}

int vmm_program_libraries(const char *program, char ***out, nook_error_t *err)
{
  cleanup_free char *interp = NULL;
  if (program_interp(program, &interp, err) < 0)
    return -1;
  if (interp == NULL) {
    *out = xcalloc(1, sizeof(**out));
    return 0;
  }
  /* An empty environment: the loader resolves as it will for the VMM,
   * whose environment is cleared too (no LD_LIBRARY_PATH). */
  char *const argv[] = {interp, "--list", (char *)program, NULL};
  char *const envp[] = {NULL};
  cleanup_free char *text = NULL;
  if (run_capture(argv, envp, true, &text, err) < 0)
    return nook_error_wrap(err, "list the libraries of `%s`", program);
  return vmm_parse_loader_list(text, out, err);
}

/* ---- prepare / release: in the launching process ---- */

static int make_cgroup(const struct vmm_confine_opts *o, struct vmm_confinement *c,
                       nook_error_t *err)
{
  enum cgroup_mode mode;
  if (cgroup_detect_mode(&mode, err) < 0)
    return -1;
  c->cgm = cgroup_manager_for(mode);
  if (c->cgm->create(o->cgroups_path, o->id, &c->cgroup, err) < 0)
    return nook_error_wrap(err, "the VMM's cgroup");
  c->has_cgroup = true;
  struct oci_resources r = {0};
  if (o->resources != NULL) {
    r.has_pids = o->resources->has_pids;
    r.pids_limit = o->resources->pids_limit;
    r.has_cpu = o->resources->has_cpu;
    r.cpu = o->resources->cpu;
  }
  c->memory_limit = ((uint64_t)o->mem_mib + VMM_MEMORY_OVERHEAD_MIB) * MIB;
  r.has_memory = true;
  r.memory.has_limit = true;
  r.memory.limit = (int64_t)c->memory_limit;
  /* Only the devices the VMM opens; everything else is refused even to a
   * VMM that found a way to make a device node. */
  struct oci_device_cgroup devices[] = {
      {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
      {.allow = true,
       .type = 'c',
       .has_type = true,
       .has_major = true,
       .has_minor = true,
       .major = 1,
       .minor = 3,
       .access = "rwm"}, /* /dev/null */
      {.allow = true,
       .type = 'c',
       .has_type = true,
       .has_major = true,
       .has_minor = true,
       .major = 1,
       .minor = 9,
       .access = "rwm"}, /* /dev/urandom */
      {.allow = true,
       .type = 'c',
       .has_type = true,
       .has_major = true,
       .has_minor = true,
       .major = 10,
       .minor = 232,
       .access = "rwm"}, /* /dev/kvm */
  };
  r.devices = devices;
  r.n_devices = ARRAY_SIZE(devices);
  r.has_devices = true;
  if (c->cgm->apply(&c->cgroup, &r, err) < 0)
    return nook_error_wrap(err, "the VMM's cgroup limits");
  return 0;
}

int vmm_confine_prepare(const struct vmm_confine_opts *o, struct vmm_confinement *out,
                        nook_error_t *err)
{
  *out =
      (struct vmm_confinement){.netns_fd = -1, .set_ids = o->set_ids, .uid = o->uid, .gid = o->gid};
  struct vmm_confinement *c = out;
  cleanup_strv char **libs = NULL;
  cleanup_strv char **data = NULL;
  size_t n = 0;
  if (find_program(o->program ? o->program : o->backend->program, &c->program, err) < 0)
    goto fail;
  if (vmm_program_libraries(c->program, &libs, err) < 0)
    goto fail;
  if (o->backend->data_files && o->backend->data_files(c->program, &data, err) < 0)
    goto fail;
  c->ro_files = xcalloc(1, sizeof(*c->ro_files));
  strv_push(&c->ro_files, &n, xstrdup(c->program));
  for (char **l = libs; *l; l++)
    strv_push(&c->ro_files, &n, xstrdup(*l));
  for (char **d = data; d && *d; d++)
    strv_push(&c->ro_files, &n, xstrdup(*d));
  /* The loader's cache spares it a search of every library directory. */
  if (access("/etc/ld.so.cache", R_OK) == 0)
    strv_push(&c->ro_files, &n, xstrdup("/etc/ld.so.cache"));
  if (o->netns_path != NULL) {
    c->netns_fd = open(o->netns_path, O_RDONLY | O_CLOEXEC);
    if (c->netns_fd < 0) {
      nook_error(err, errno, "open the network namespace `%s`", o->netns_path);
      goto fail;
    }
  }
  if (make_cgroup(o, c, err) < 0)
    goto fail;
  return 0;
fail:
  vmm_confine_release(c, NULL);
  return -1;
}

int vmm_confine_join(const struct vmm_confinement *c, nook_error_t *err)
{
  if (c->has_cgroup && c->cgm->enter(&c->cgroup, getpid(), err) < 0)
    return nook_error_wrap(err, "join the VMM's cgroup");
  return 0;
}

int vmm_confine_release(struct vmm_confinement *c, nook_error_t *err)
{
  int r = 0;
  if (c->has_cgroup) {
    nook_error_t e = NULL;
    if (c->cgm->destroy(&c->cgroup, &e) < 0) {
      if (err != NULL) {
        *err = steal_pointer(&e);
        r = -1;
      }
      nook_error_free(&e);
    }
    cgroup_paths_clear(&c->cgroup);
    c->has_cgroup = false;
  }
  if (c->netns_fd >= 0)
    close(c->netns_fd);
  c->netns_fd = -1;
  free(steal_pointer(&c->program));
  strv_free(steal_pointer(&c->ro_files));
  return r;
}

void vmm_confine_forget(struct vmm_confinement *c)
{
  cgroup_paths_clear(&c->cgroup);
  c->has_cgroup = false;
  vmm_confine_release(c, NULL);
}

/* ---- enter: in the VMM's child ---- */

enum bind_kind {
  BIND_RO,  /* a file the VMM reads and maps (its binary, libraries) */
  BIND_RX,  /* read-only data: no exec */
  BIND_RW,  /* a file or share it writes */
  BIND_DEV, /* a device node: its I/O, not its inode */
};

struct bind {
  const char *path; /* the path in the VMM's root, and on the host unless src */
  const char *src;
  enum bind_kind kind;
  bool dir;
  int tree; /* the detached clone, until attached */
};

/* Open path without following magic links, as a detached clone of its
 * mount. */
static int clone_source(struct bind *b, nook_error_t *err)
{
  const char *src = b->src ? b->src : b->path;
  struct open_how how = {.flags = O_PATH | O_CLOEXEC | (b->dir ? O_DIRECTORY : 0),
                         .resolve = RESOLVE_NO_MAGICLINKS};
  cleanup_close int fd = sys_openat2(AT_FDCWD, src, &how);
  if (fd < 0)
    return nook_error(err, errno, "open `%s`", src);
  struct stat st;
  if (fstat(fd, &st) < 0)
    return nook_error(err, errno, "stat `%s`", src);
  if (b->kind == BIND_DEV ? !S_ISCHR(st.st_mode) : (!b->dir && S_ISDIR(st.st_mode)))
    return nook_error(err, 0, "`%s` is not what the VMM needs there", src);
  b->tree = sys_open_tree(
      fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (b->dir ? AT_RECURSIVE : 0));
  if (b->tree < 0)
    return nook_error(err, errno, "clone the mount of `%s`", b->path);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_NOSUID};
  switch (b->kind) {
  case BIND_RO:
    attr.attr_set |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV;
    break;
  case BIND_RX:
    attr.attr_set |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    break;
  case BIND_RW:
    attr.attr_set |= MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    break;
  case BIND_DEV:
    /* Read-only mounts keep the device's I/O but refuse chmod and chown
     * of the host's node. */
    attr.attr_set |= MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC;
    break;
  }
  if (sys_mount_setattr(b->tree, "", AT_EMPTY_PATH | (b->dir ? AT_RECURSIVE : 0), &attr) < 0)
    return nook_error(err, errno, "set the mount flags of `%s`", b->path);
  return 0;
}

/* The directory that will hold path's last component in the tmpfs at
 * rootfd, made as needed; never crosses into a bind mount already placed
 * (two binds nested in each other are refused, not written through). */
static int make_parent(int rootfd, const char *path, const char **leaf, nook_error_t *err)
{
  cleanup_free char *copy = xstrdup(path);
  char *last = strrchr(copy, '/');
  *leaf = path + (last - copy) + 1;
  *last = '\0';
  int dfd = dup(rootfd);
  if (dfd < 0)
    return nook_error(err, errno, "dup");
  char *save = NULL;
  for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
    if (mkdirat(dfd, c, 0755) < 0 && errno != EEXIST) {
      int e = errno;
      close(dfd);
      return nook_error(err, e, "make `%s` in the VMM's root", c);
    }
    struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                           .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS};
    int next = sys_openat2(dfd, c, &how);
    int e = errno;
    close(dfd);
    if (next < 0 && e == EXDEV)
      return nook_error(err, 0, "`%s` in the VMM's root would lie inside another bind", path);
    if (next < 0)
      return nook_error(err, e, "place `%s` in the VMM's root", path);
    dfd = next;
  }
  return dfd;
}

static int attach(int rootfd, struct bind *b, nook_error_t *err)
{
  const char *leaf;
  cleanup_close int dfd = make_parent(rootfd, b->path, &leaf, err);
  if (dfd < 0)
    return -1;
  if (b->dir) {
    if (mkdirat(dfd, leaf, 0755) < 0)
      return nook_error(err, errno, "make `%s` in the VMM's root", b->path);
  } else {
    int fd = openat(dfd, leaf, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
      return nook_error(err, errno, "make `%s` in the VMM's root", b->path);
    close(fd);
  }
  if (sys_move_mount(b->tree, "", dfd, leaf, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return nook_error(err, errno, "bind `%s` in the VMM's root", b->path);
  return 0;
}

/* A read-only tmpfs with every bind in it, made the root. */
static int pivot_into(const char *mountpoint, struct bind *binds, size_t n, nook_error_t *err)
{
  cleanup_close int fs = sys_fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0)
    return nook_error(err, errno, "fsopen tmpfs");
  if (sys_fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 ||
      sys_fsconfig(fs, FSCONFIG_SET_STRING, "size", "1m", 0) < 0 ||
      sys_fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
    return nook_error(err, errno, "configure the VMM's root tmpfs");
  cleanup_close int root =
      sys_fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
  if (root < 0)
    return nook_error(err, errno, "fsmount tmpfs");
  /* Any directory serves as the mount point: the mount namespace is the
   * VMM's alone, so covering it hides nothing from anyone else, and the
   * binds were cloned before. */
  if (sys_move_mount(root, "", AT_FDCWD, mountpoint, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    return nook_error(err, errno, "mount the VMM's root on `%s`", mountpoint);
  for (size_t i = 0; i < n; i++) {
    if (attach(root, &binds[i], err) < 0)
      return -1;
  }
  struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
  if (sys_mount_setattr(root, "", AT_EMPTY_PATH, &ro) < 0)
    return nook_error(err, errno, "make the VMM's root read-only");
  if (fchdir(root) < 0)
    return nook_error(err, errno, "chdir to the VMM's root");
  /* Stack the old root under the new one and detach it: no directory for
   * it is needed in a read-only root. */
  if (sys_pivot_root(".", ".") < 0)
    return nook_error(err, errno, "pivot_root to the VMM's root");
  if (umount2(".", MNT_DETACH) < 0)
    return nook_error(err, errno, "detach the host's root");
  if (chdir("/") < 0)
    return nook_error(err, errno, "chdir /");
  return 0;
}

unsigned long vmm_confine_clone_flags(const struct vmm_confinement *c)
{
  (void)c;
  return CLONE_NEWPID;
}

/* The capabilities a confined VMM keeps: none, unless it serves shares.
 * QEMU's 9p server (security_model=none) acts on the share with its own
 * credentials, so without these the guest's root would lose root's file
 * semantics on its own rootfs: reading a 0700 directory of another uid
 * (DAC_OVERRIDE also covers directory search, so DAC_READ_SEARCH, which
 * would allow open_by_handle_at() past the mount namespace, is not kept),
 * chown (CHOWN), chmod/utimes/xattrs of others' files (FOWNER), keeping
 * setuid/setgid bits across a write or a chown (FSETID).  They act only on
 * what the VMM's mount namespace holds, where everything else is bound
 * read-only: docs/design.md has the threat model.  A read-only share needs
 * only the read side. */
uint64_t vmm_confine_caps(const struct vmm_spec *spec)
{
  uint64_t caps = 0;
  for (size_t i = 0; i < spec->nshares; i++) {
    caps |= UINT64_C(1) << CAP_DAC_OVERRIDE;
    if (!spec->shares[i].readonly)
      caps |=
          (UINT64_C(1) << CAP_CHOWN) | (UINT64_C(1) << CAP_FOWNER) | (UINT64_C(1) << CAP_FSETID);
  }
  return caps;
}

static int drop_privileges(const struct vmm_confinement *c, uint64_t keep, nook_error_t *err)
{
  if (c->set_ids) {
    if (setgroups(0, NULL) < 0 || setresgid(c->gid, c->gid, c->gid) < 0)
      return nook_error(err, errno, "set the VMM's gid to %u", (unsigned)c->gid);
  }
  /* Root gets no capabilities back from exec or a later setuid: what it
   * keeps crosses the exec as ambient capabilities, which need ambient
   * raising left allowed (the VMM cannot change securebits: no SETPCAP). */
  unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                       SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED;
  if (keep == 0)
    bits |= SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
    return nook_error(err, errno, "set the VMM's securebits");
  if (c->set_ids && setresuid(c->uid, c->uid, c->uid) < 0)
    return nook_error(err, errno, "set the VMM's uid to %u", (unsigned)c->uid);
  for (unsigned long cap = 0; cap < 64; cap++) {
    if (keep & (UINT64_C(1) << cap))
      continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
      if (errno == EINVAL)
        break; /* past the kernel's last capability */
      return nook_error(err, errno, "drop capability %lu from the bounding set", cap);
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
    return nook_error(err, errno, "clear the ambient capabilities");
  struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
  struct __user_cap_data_struct d[2] = {{0}};
  for (int i = 0; i < 2; i++) {
    d[i].effective = d[i].permitted = d[i].inheritable = (uint32_t)(keep >> (32 * i));
  }
  if (syscall(SYS_capset, &h, d) < 0)
    return nook_error(err, errno, "drop every capability but the VMM's");
  for (unsigned long cap = 0; cap < 64; cap++) {
    if ((keep & (UINT64_C(1) << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return nook_error(err, errno, "keep capability %lu across the exec", cap);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return nook_error(err, errno, "set no_new_privs");
  return 0;
}

static char *dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');
  return slash == NULL || slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

int vmm_confine_enter(const struct vmm_confinement *c, const struct vmm_spec *spec,
                      nook_error_t *err)
{
  if (vmm_confine_join(c, err) < 0)
    return -1;
  if (c->netns_fd >= 0 ? setns(c->netns_fd, CLONE_NEWNET) : unshare(CLONE_NEWNET))
    return nook_error(err, errno, "enter the VMM's network namespace");
  if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
    return nook_error(err, errno, "unshare the VMM's namespaces");
  /* Nothing done here may propagate back to the host. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
    return nook_error(err, errno, "make the VMM's mounts private");

  if (spec->console_path != NULL) {
    /* QEMU opens it with O_TRUNC: a bind needs the file to exist. */
    int fd = open(spec->console_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
      return nook_error(err, errno, "create the console log `%s`", spec->console_path);
    close(fd);
  }
  /* Beside the files and shares: kernel, initrd, the two sockets, console,
   * disk, three devices and the fd directory. */
  size_t max = strv_len(c->ro_files) + spec->nshares + 10, n = 0;
  cleanup_free struct bind *binds = xcalloc(max, sizeof(*binds));
  for (char **f = c->ro_files; *f; f++)
    binds[n++] = (struct bind){.path = *f, .kind = BIND_RO};
  if (!spec->restore) {
    binds[n++] = (struct bind){.path = spec->kernel, .kind = BIND_RX};
    binds[n++] = (struct bind){.path = spec->initrd, .kind = BIND_RX};
  }
  for (size_t i = 0; i < spec->nshares; i++)
    binds[n++] = (struct bind){.path = spec->shares[i].path,
                               .kind = spec->shares[i].readonly ? BIND_RX : BIND_RW,
                               .dir = true};
  /* Connecting needs no writable mount; chmod of the launcher's socket
   * would. */
  binds[n++] = (struct bind){.path = spec->channel_socket, .kind = BIND_RX};
  if (spec->control_socket != NULL)
    binds[n++] = (struct bind){.path = spec->control_socket, .kind = BIND_RX};
  if (spec->console_path != NULL)
    binds[n++] = (struct bind){.path = spec->console_path, .kind = BIND_RW};
  /* vm.image: the guest's root disk, written through by the guest. */
  if (spec->disk != NULL)
    binds[n++] = (struct bind){.path = spec->disk, .kind = BIND_RW};
  binds[n++] = (struct bind){.path = "/dev/null", .kind = BIND_DEV};
  binds[n++] = (struct bind){.path = "/dev/urandom", .kind = BIND_DEV};
  if (spec->accel == VMM_ACCEL_KVM)
    binds[n++] = (struct bind){.path = "/dev/kvm", .kind = BIND_DEV};
  /* QEMU's 9p server changes modes and xattrs of O_PATH fds through
   * /proc/self/fd/N; its own fd directory is all of procfs it gets (a whole
   * procfs would show the host's processes, and let uid 0 write sysctls
   * even without capabilities).  The host's /proc/self names this process
   * by its host pid (getpid() is 1 in its own pid namespace); the process
   * stays the same across the exec. */
  binds[n++] = (struct bind){.path = "/proc/self/fd", .kind = BIND_RX, .dir = true};
  /* A relative path (the monitor's work directory: a socket path must fit
   * sun_path) is bound at its absolute place, and the VMM starts in the
   * same directory of its root, so the relative paths in its argv still
   * name the same files. */
  cleanup_free char *cwd = getcwd(NULL, 0);
  cleanup_strv char **joined = xcalloc(n + 1, sizeof(*joined));
  size_t n_joined = 0;
  for (size_t i = 0; i < n; i++)
    binds[i].tree = -1;
  int r = 0;
  for (size_t i = 0; i < n && r == 0; i++) {
    if (binds[i].path == NULL) {
      r = nook_error(err, 0, "the VMM's root: a file without a path");
      break;
    }
    if (binds[i].path[0] != '/') {
      if (cwd == NULL || cwd[0] != '/') {
        r = nook_error(err, errno, "the VMM's root: `%s` is relative to an unknown directory",
                       binds[i].path);
        break;
      }
      char *abs = NULL;
      xasprintf(&abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, binds[i].path);
      joined[n_joined++] = abs;
      binds[i].path = abs;
    }
    r = clone_source(&binds[i], err);
  }
  cleanup_free char *mountpoint = NULL;
  if (r == 0) {
    mountpoint =
        spec->channel_socket[0] == '/' || cwd == NULL ? dir_of(spec->channel_socket) : xstrdup(cwd);
    r = pivot_into(mountpoint, binds, n, err);
  }
  for (size_t i = 0; i < n; i++) {
    if (binds[i].tree >= 0)
      close(binds[i].tree);
  }
  if (r < 0)
    return -1;
  if (n_joined > 0 && chdir(cwd) < 0)
    return nook_error(err, errno, "chdir to `%s` in the VMM's root", cwd);
  if (drop_privileges(c, vmm_confine_caps(spec), err) < 0)
    return -1;
  /* Nothing the launcher holds crosses the exec; the launcher's own
   * close-on-exec error pipe keeps working until then. */
  if (cloexec_fds_from(3, err) < 0)
    return -1;
  cleanup_free char *bindir = dir_of(c->program);
  clearenv();
  setenv("PATH", bindir, 1);
  return 0;
}
