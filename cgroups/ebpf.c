/* Device access on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built
 * from linux.resources.devices, loaded with bpf(BPF_PROG_LOAD) and attached
 * to the container's cgroup.  nook emits the instructions itself: the
 * program is small, and no BPF toolchain or library is needed at build or
 * run time.
 *
 * Semantics.  Rules apply in order, and for each access bit (r, w, m) the
 * last rule that matches the device and carries the bit decides it; an
 * access is allowed when every bit it asks for is.  A rule of type `a`
 * resets everything before it to allow-all or deny-all, as writing `a` to
 * devices.allow/deny does on v1 (its access and numbers are ignored there
 * too).  With no `a` rule the default is deny, so an empty list denies
 * everything, as on v1 and in runc.  Unlike v1, a rule may take access out
 * of a wildcard (deny c 136:1 w after allow c 136:* rwm): v2 can express
 * that, so it is done rather than refused.
 *
 * The program walks the rules backwards keeping the still-undecided bits:
 *   r2 = type, r3 = undecided access bits, r4 = major, r5 = minor
 *   per rule (last first): skip unless type/major/minor match and the rule
 *   carries an undecided bit; deny -> return 0; allow -> clear its bits,
 *   return 1 when none is left.  At the end: return the default.
 * RLIMIT_MEMLOCK is left alone: Linux 5.11+ charges BPF memory to the
 * memory cgroup instead (and root here may not raise it anyway). */
#include "ctl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../base/utils.h"

#define PROG_NAME "nook_devices"

static int sys_bpf(int cmd, union bpf_attr *attr)
{
  return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* ---- building ---- */

struct prog {
  struct bpf_insn *v;
  size_t n, cap;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 64;
    p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
  }
  p->v[p->n] = (struct bpf_insn){
      .code = code, .dst_reg = dst & 0xf, .src_reg = src & 0xf, .off = off, .imm = imm};
  return p->n++;
}

/* Point the jumps at indices [from, to) of `jumps` to the current end. */
static void patch(struct prog *p, const size_t *jumps, size_t n)
{
  for (size_t i = 0; i < n; i++)
    p->v[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
}

static int access_bits(const struct oci_device_cgroup *d, size_t idx, unsigned *out,
                       nook_error_t *err)
{
  unsigned bits = 0;
  for (const char *a = d->access ? d->access : "rwm"; *a; a++) {
    switch (*a) {
    case 'r':
      bits |= BPF_DEVCG_ACC_READ;
      break;
    case 'w':
      bits |= BPF_DEVCG_ACC_WRITE;
      break;
    case 'm':
      bits |= BPF_DEVCG_ACC_MKNOD;
      break;
    default:
      return nook_error(err, 0, "linux.resources.devices[%zu].access: invalid `%s`", idx,
                        d->access);
    }
  }
  *out = bits;
  return 0;
}

#define ALL_BITS (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)

static void emit_rule(struct prog *p, const struct oci_device_cgroup *d, unsigned bits)
{
  size_t skip[8], ns = 0;
  uint8_t j32 = BPF_JMP32 | BPF_K;
  skip[ns++] = emit(p, j32 | BPF_JNE, BPF_REG_2, 0, 0,
                    d->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
  if (d->has_major && d->major >= 0)
    skip[ns++] = emit(p, j32 | BPF_JNE, BPF_REG_4, 0, 0, (int32_t)(uint32_t)d->major);
  if (d->has_minor && d->minor >= 0)
    skip[ns++] = emit(p, j32 | BPF_JNE, BPF_REG_5, 0, 0, (int32_t)(uint32_t)d->minor);
  if (bits == ALL_BITS) {
    /* Carries every bit, so every undecided one: this rule decides. */
    emit(p, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, d->allow ? 1 : 0);
    emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  } else {
    emit(p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_3, 0, 0);
    emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, (int32_t)bits);
    skip[ns++] = emit(p, j32 | BPF_JEQ, BPF_REG_0, 0, 0, 0);
    if (d->allow) {
      emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, (int32_t)(~bits & ALL_BITS));
      skip[ns++] = emit(p, j32 | BPF_JNE, BPF_REG_3, 0, 0, 0);
      emit(p, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 1);
    } else {
      emit(p, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, 0);
    }
    emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  }
  patch(p, skip, ns);
}

int cg_devices_bpf_build(const struct oci_device_cgroup *rules, size_t n, struct bpf_insn **out,
                         size_t *n_out, nook_error_t *err)
{
  size_t start = 0;
  bool default_allow = false;
  for (size_t i = 0; i < n; i++) {
    const struct oci_device_cgroup *d = &rules[i];
    unsigned bits;
    if (access_bits(d, i, &bits, err) < 0)
      return -1;
    if (d->type == 'a' || d->type == '\0') {
      start = i + 1;
      default_allow = d->allow;
      continue;
    }
    if (d->type != 'c' && d->type != 'b')
      return nook_error(err, 0, "linux.resources.devices[%zu].type: invalid `%c`", i, d->type);
    if ((d->has_major && d->major > 0xffffffffLL) || (d->has_minor && d->minor > 0xffffffffLL))
      return nook_error(err, 0, "linux.resources.devices[%zu]: device number out of range", i);
  }
  struct prog p = {0};
  if (start < n) {
    /* struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
     * access_type = access << 16 | type. */
    emit(&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0);
    emit(&p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
    emit(&p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
    emit(&p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
    emit(&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0);
    emit(&p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0);
    for (size_t i = n; i-- > start;) {
      unsigned bits;
      access_bits(&rules[i], i, &bits, NULL);
      if (bits != 0)
        emit_rule(&p, &rules[i], bits);
    }
  }
  emit(&p, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, default_allow ? 1 : 0);
  emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  *out = p.v;
  *n_out = p.n;
  return 0;
}

/* ---- loading and attaching ---- */

int cg_devices_bpf_load(const struct bpf_insn *insns, size_t n, nook_error_t *err)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  a.insns = (uint64_t)(uintptr_t)insns;
  a.insn_cnt = (uint32_t)n;
  a.license = (uint64_t)(uintptr_t) "GPL";
  memcpy(a.prog_name, PROG_NAME, sizeof(PROG_NAME));
  int fd = sys_bpf(BPF_PROG_LOAD, &a); /* bpf fds are always O_CLOEXEC */
  if (fd >= 0)
    return fd;
  int e = errno;
  if (e != EINVAL && e != EACCES)
    return nook_error(err, e,
                      "linux.resources.devices: bpf(BPF_PROG_LOAD) of the cgroup v2 "
                      "device filter");
  /* Load again only to get the verifier's reason. */
  cleanup_free char *log = xcalloc(1, 65536);
  a.log_buf = (uint64_t)(uintptr_t)log;
  a.log_size = 65536;
  a.log_level = 1;
  fd = sys_bpf(BPF_PROG_LOAD, &a);
  if (fd >= 0) {
    close(fd);
    return nook_error(err, e, "linux.resources.devices: bpf(BPF_PROG_LOAD) failed once");
  }
  /* The reason is the last line before the "processed N insns" summary. */
  char *summary = strstr(log, "processed ");
  if (summary)
    *summary = '\0';
  size_t len = strlen(log);
  while (len > 0 && log[len - 1] == '\n')
    log[--len] = '\0';
  const char *tail = log + len;
  while (tail > log && tail[-1] != '\n')
    tail--;
  return nook_error(err, e,
                    "linux.resources.devices: the kernel refused the device filter (%zu "
                    "instructions): %.300s",
                    n, tail);
}

/* Attached program ids (up to `cap`) and how many are attached in all. */
static int query(int cgfd, uint32_t *ids, uint32_t cap, uint32_t *count, nook_error_t *err)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.query.target_fd = (uint32_t)cgfd;
  a.query.attach_type = BPF_CGROUP_DEVICE;
  a.query.prog_ids = (uint64_t)(uintptr_t)ids;
  a.query.prog_cnt = cap;
  if (sys_bpf(BPF_PROG_QUERY, &a) < 0 && errno != ENOSPC)
    return nook_error(err, errno, "bpf(BPF_PROG_QUERY)");
  *count = a.query.prog_cnt < cap ? a.query.prog_cnt : cap;
  return 0;
}

/* An fd of program `id` if it is one of nook's device filters, else -1. */
static int nook_prog_fd(uint32_t id)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.prog_id = id;
  int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
  if (fd < 0)
    return -1;
  struct bpf_prog_info info;
  memset(&info, 0, sizeof(info));
  memset(&a, 0, sizeof(a));
  a.info.bpf_fd = (uint32_t)fd;
  a.info.info_len = sizeof(info);
  a.info.info = (uint64_t)(uintptr_t)&info;
  if (sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) < 0 || strcmp(info.name, PROG_NAME) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int attach(int cgfd, int prog_fd, int replace_fd)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)prog_fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  a.attach_flags = BPF_F_ALLOW_MULTI | (replace_fd >= 0 ? BPF_F_REPLACE : 0);
  if (replace_fd >= 0)
    a.replace_bpf_fd = (uint32_t)replace_fd;
  return sys_bpf(BPF_PROG_ATTACH, &a);
}

static int detach(int cgfd, int prog_fd)
{
  union bpf_attr a;
  memset(&a, 0, sizeof(a));
  a.target_fd = (uint32_t)cgfd;
  a.attach_bpf_fd = (uint32_t)prog_fd;
  a.attach_type = BPF_CGROUP_DEVICE;
  return sys_bpf(BPF_PROG_DETACH, &a);
}

#define MAX_ATTACHED 64

int cg_devices_bpf_attach(const char *dir, int prog_fd, nook_error_t *err)
{
  cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return nook_error(err, errno, "linux.resources.devices: open `%s`", dir);
  uint32_t ids[MAX_ATTACHED], n;
  if (query(cgfd, ids, MAX_ATTACHED, &n, err) < 0)
    return nook_error_wrap(err, "linux.resources.devices: `%s`", dir);
  /* nook's earlier filter (an update) is replaced in place, so the cgroup
   * is never without one; programs of others stay. */
  int old[MAX_ATTACHED];
  size_t n_old = 0;
  for (uint32_t i = 0; i < n; i++) {
    int fd = nook_prog_fd(ids[i]);
    if (fd >= 0)
      old[n_old++] = fd;
  }
  int r = attach(cgfd, prog_fd, n_old ? old[0] : -1);
  size_t first_detach = 1;
  if (r < 0 && n_old && errno == EINVAL) {
    /* No BPF_F_REPLACE (Linux < 5.6): add the new one, drop the old. */
    r = attach(cgfd, prog_fd, -1);
    first_detach = 0;
  }
  int e = errno;
  for (size_t i = 0; i < n_old; i++) {
    if (r == 0 && i >= first_detach)
      detach(cgfd, old[i]);
    close(old[i]);
  }
  if (r < 0)
    return nook_error(err, e, "linux.resources.devices: bpf(BPF_PROG_ATTACH) to `%s`", dir);
  return 0;
}

int cg_devices_bpf_count(const char *dir, size_t *total, size_t *nook, nook_error_t *err)
{
  cleanup_close int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgfd < 0)
    return nook_error(err, errno, "open `%s`", dir);
  uint32_t ids[MAX_ATTACHED], n;
  if (query(cgfd, ids, MAX_ATTACHED, &n, err) < 0)
    return -1;
  *total = n;
  *nook = 0;
  for (uint32_t i = 0; i < n; i++) {
    int fd = nook_prog_fd(ids[i]);
    if (fd >= 0) {
      ++*nook;
      close(fd);
    }
  }
  return 0;
}
