/* linux.seccomp, runtime side: the profile is compiled to classic BPF with
 * libseccomp before clone, so that the container process only has to hand
 * the instructions to seccomp(2): no libseccomp, no allocation there.
 *
 * Rule semantics follow runc and crun: names unknown to libseccomp on this
 * architecture are skipped; a rule with the default action is dropped
 * (libseccomp refuses it); conditions with distinct argument indexes form
 * one rule (AND), but when an entry repeats an index every condition
 * becomes a rule of its own (OR).
 *
 * System calls newer than the profile fail with ENOSYS instead of the
 * default action (see "ENOSYS stub" below), as with runc and crun: C
 * libraries probe new calls (clone3, faccessat2, ...) and fall back to the
 * old ones only on ENOSYS.
 *
 * Compiling a docker-sized profile costs libseccomp 15-20 ms, so the result
 * is cached host-wide (seccomp_cache.c). */
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/syscalls.h"
#include "../base/utils.h"
#include "seccomp_internal.h"

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1U << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1U << 5)
#endif

/* What the spec's flags may ask for (oci/names.c maps the names). */
#define SPEC_FLAGS                                                                                 \
  (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_SPEC_ALLOW |          \
   SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)

/* libseccomp's API levels (seccomp_api_get(3)). */
#define API_TSYNC 2
#define API_LOG 3 /* the LOG flag, SCMP_ACT_LOG, SCMP_ACT_KILL_PROCESS */
#define API_SSB 4
#define API_NOTIFY 5
#define API_NOTIFY_TSYNC 6

/* More instructions than this and seccomp(2) refuses the program. */
#define KERNEL_MAX_INSNS 4096

/* Above this many names, libseccomp lays the syscalls out as a binary tree
 * instead of a list: fewer instructions run per syscall (runc's threshold). */
#define BINARY_TREE_MIN_NAMES 32

/* The action with its errno, as libseccomp wants it. */
static uint32_t full_action(uint32_t action, uint32_t errno_ret)
{
  return oci_seccomp_action_takes_errno(action) ? action | (errno_ret & 0xffff) : action;
}

const char *seccomp_flag_name(unsigned flag)
{
  switch (flag) {
  case SECCOMP_FILTER_FLAG_TSYNC:
    return "SECCOMP_FILTER_FLAG_TSYNC";
  case SECCOMP_FILTER_FLAG_LOG:
    return "SECCOMP_FILTER_FLAG_LOG";
  case SECCOMP_FILTER_FLAG_SPEC_ALLOW:
    return "SECCOMP_FILTER_FLAG_SPEC_ALLOW";
  case SECCOMP_FILTER_FLAG_NEW_LISTENER:
    return "SECCOMP_FILTER_FLAG_NEW_LISTENER";
  case SECCOMP_FILTER_FLAG_TSYNC_ESRCH:
    return "SECCOMP_FILTER_FLAG_TSYNC_ESRCH";
  case SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV:
    return "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV";
  }
  return NULL;
}

/* Does the kernel know the flag?  Probing with a NULL program: a known flag
 * gets as far as copying the program (EFAULT), an unknown one is EINVAL. */
static bool kernel_has_flag(unsigned flag)
{
  return sys_seccomp(SECCOMP_SET_MODE_FILTER, flag, NULL) < 0 && errno == EFAULT;
}

static int flag_error(nook_error_t *err, unsigned flag, const char *why)
{
  return nook_error(err, 0, "linux.seccomp.flags: %s: %s", seccomp_flag_name(flag), why);
}

/* Everything that can be wrong with the profile regardless of the filter
 * libseccomp builds, and the flags to load it with.  Runs before the cache
 * lookup, so a cached program never hides an error. */
static int check_profile(const struct oci_seccomp *s, int api, struct seccomp_prog *out,
                         nook_error_t *err)
{
  if (oci_seccomp_check_actions(s, err) < 0)
    return -1;

  bool notify = false;
  for (size_t i = 0; i < s->n_syscalls; i++) {
    const struct oci_seccomp_syscall *sc = &s->syscalls[i];
    if (sc->action != SCMP_ACT_NOTIFY)
      continue;
    notify = true;
    /* The container process hands the notify fd to the runtime with
     * sendmsg once the filter is in: trapping that call would wait for an
     * agent that can only get the fd through it. */
    for (size_t j = 0; j < sc->n_names; j++)
      if (strcmp(sc->names[j], "sendmsg") == 0)
        return nook_error(err, 0,
                          "linux.seccomp.syscalls[%zu].names[%zu]: SCMP_ACT_NOTIFY cannot be "
                          "used for sendmsg: it carries the notify fd to the runtime",
                          i, j);
  }
  if (notify && api < API_NOTIFY)
    return nook_error(err, 0,
                      "linux.seccomp: SCMP_ACT_NOTIFY needs Linux >= 5.0 and libseccomp >= 2.5 "
                      "(libseccomp API level %d)",
                      api);

  unsigned flags = s->flags;
  if (flags & ~SPEC_FLAGS)
    return nook_error(err, 0, "linux.seccomp.flags: unknown flag bits 0x%x",
                      (unsigned)(flags & ~SPEC_FLAGS));
  if ((flags & SECCOMP_FILTER_FLAG_TSYNC) && api < API_TSYNC)
    return flag_error(err, SECCOMP_FILTER_FLAG_TSYNC, "not supported by the kernel");
  if ((flags & SECCOMP_FILTER_FLAG_LOG) && api < API_LOG)
    return flag_error(err, SECCOMP_FILTER_FLAG_LOG, "not supported by the kernel");
  if ((flags & SECCOMP_FILTER_FLAG_SPEC_ALLOW) && api < API_SSB)
    return flag_error(err, SECCOMP_FILTER_FLAG_SPEC_ALLOW, "not supported by the kernel");
  if (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
    /* libseccomp 2.5 does not know this flag; nook loads the filter itself
     * and passes it on, so only the kernel has to. */
    if (!notify)
      return flag_error(err, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                        "only applies to SCMP_ACT_NOTIFY, which no rule uses (the kernel "
                        "refuses it without a listener)");
    if (!kernel_has_flag(SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV))
      return flag_error(err, SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
                        "not supported by the kernel (Linux >= 5.19)");
  }
  if (notify) {
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    /* TSYNC alone would return a thread id, not the listener fd. */
    if (flags & SECCOMP_FILTER_FLAG_TSYNC) {
      if (api < API_NOTIFY_TSYNC)
        return flag_error(err, SECCOMP_FILTER_FLAG_TSYNC,
                          "cannot be combined with SCMP_ACT_NOTIFY before Linux 5.7");
      flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    }
  }
  out->flags = flags;
  out->notify = notify;
  return 0;
}

static struct scmp_arg_cmp arg_cmp(const struct oci_seccomp_arg *a)
{
  return (struct scmp_arg_cmp){.arg = a->index,
                               .op = (enum scmp_compare)a->op,
                               .datum_a = a->value,
                               .datum_b = a->value_two};
}

static int rule_error(nook_error_t *err, int r, size_t i, size_t j, const char *name,
                      const char *action)
{
  return nook_error(err, -r, "linux.seccomp.syscalls[%zu].names[%zu]: `%s` with %s", i, j, name,
                    action ? action : "?");
}

static int add_rules(scmp_filter_ctx ctx, const struct oci_seccomp *s, uint32_t def,
                     nook_error_t *err)
{
  for (size_t i = 0; i < s->n_syscalls; i++) {
    const struct oci_seccomp_syscall *sc = &s->syscalls[i];
    uint32_t act = full_action(sc->action, sc->errno_ret);
    if (act == def)
      continue;
    /* The parser bounds index to 0..5, so more than 6 args repeat one. */
    unsigned seen = 0;
    bool repeated = false;
    struct scmp_arg_cmp cmp[6];
    for (size_t k = 0; k < sc->n_args && !repeated; k++) {
      unsigned bit = 1U << sc->args[k].index;
      repeated = (seen & bit) != 0;
      seen |= bit;
      if (!repeated)
        cmp[k] = arg_cmp(&sc->args[k]);
    }
    for (size_t j = 0; j < sc->n_names; j++) {
      const char *name = sc->names[j];
      int nr = seccomp_syscall_resolve_name(name);
      if (nr == __NR_SCMP_ERROR) {
        nook_debug("linux.seccomp.syscalls[%zu].names[%zu]: unknown system call `%s` ignored", i, j,
                   name);
        continue;
      }
      int r;
      if (sc->n_args == 0) {
        r = seccomp_rule_add(ctx, act, nr, 0);
      } else if (!repeated) {
        r = seccomp_rule_add_array(ctx, act, nr, (unsigned)sc->n_args, cmp);
      } else {
        r = 0;
        for (size_t k = 0; k < sc->n_args && r == 0; k++) {
          struct scmp_arg_cmp one = arg_cmp(&sc->args[k]);
          r = seccomp_rule_add_array(ctx, act, nr, 1, &one);
        }
      }
      if (r < 0)
        return rule_error(err, r, i, j, name, sc->action_name);
    }
  }
  return 0;
}

static size_t count_names(const struct oci_seccomp *s)
{
  size_t n = 0;
  for (size_t i = 0; i < s->n_syscalls; i++)
    n += s->syscalls[i].n_names;
  return n;
}

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t fnv(uint64_t h, const void *data, size_t n)
{
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

/* A profile that cannot fit the kernel's instruction limit is refused
 * before libseccomp spends minutes on it.  Every distinct rule that is not
 * the default action needs at least one compare of its own (the syscall
 * number, or an argument value), so the number of distinct rules is a lower
 * bound on the program's length.  Rules with arguments are left out for a
 * syscall that also has a rule without: libseccomp may fold them in. */
static int check_size(const struct oci_seccomp *s, uint32_t def, nook_error_t *err)
{
  size_t total = count_names(s);
  if (total <= KERNEL_MAX_INSNS)
    return 0;
  cleanup_free uint64_t *keys = xcalloc(total, sizeof(uint64_t));
  cleanup_free int *bare = xcalloc(total, sizeof(int));
  size_t n = 0, nbare = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < s->n_syscalls; i++) {
      const struct oci_seccomp_syscall *sc = &s->syscalls[i];
      if (full_action(sc->action, sc->errno_ret) == def || (sc->n_args == 0) != (pass == 0))
        continue;
      for (size_t j = 0; j < sc->n_names; j++) {
        int nr = seccomp_syscall_resolve_name(sc->names[j]);
        if (nr == __NR_SCMP_ERROR)
          continue;
        if (pass == 0) {
          bare[nbare++] = nr;
          keys[n++] = (uint64_t)(uint32_t)nr;
          continue;
        }
        if (bsearch(&nr, bare, nbare, sizeof(int), cmp_int) != NULL)
          continue;
        uint64_t h = fnv(14695981039346656037ULL, &nr, sizeof(nr));
        for (size_t k = 0; k < sc->n_args; k++)
          h = fnv(h, &sc->args[k], sizeof(sc->args[k]));
        keys[n++] = h | (1ULL << 63);
      }
    }
    if (pass == 0)
      qsort(bare, nbare, sizeof(int), cmp_int);
  }
  qsort(keys, n, sizeof(uint64_t), cmp_u64);
  size_t distinct = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || keys[i] != keys[i - 1])
      distinct++;
  if (distinct > KERNEL_MAX_INSNS)
    return nook_error(err, 0,
                      "linux.seccomp.syscalls: %zu distinct rules cannot fit the kernel's "
                      "limit of %d BPF instructions",
                      distinct, KERNEL_MAX_INSNS);
  return 0;
}

/* libseccomp 2.5 exports only to an fd: a memfd, read back whole. */
static int export_bpf(scmp_filter_ctx ctx, struct seccomp_prog *out, nook_error_t *err)
{
  cleanup_close int fd = memfd_create("nook-seccomp", MFD_CLOEXEC);
  if (fd < 0)
    return nook_error(err, errno, "linux.seccomp: memfd_create");
  int r = seccomp_export_bpf(ctx, fd);
  if (r < 0)
    return nook_error(err, -r, "linux.seccomp: export the filter");
  struct stat st;
  if (fstat(fd, &st) < 0)
    return nook_error(err, errno, "linux.seccomp: fstat the exported filter");
  size_t size = (size_t)st.st_size;
  if (size == 0 || size % sizeof(struct sock_filter) != 0)
    return nook_error(err, 0, "linux.seccomp: libseccomp exported %zu bytes of BPF", size);
  size_t len = size / sizeof(struct sock_filter);
  if (len > KERNEL_MAX_INSNS)
    return nook_error(err, 0,
                      "linux.seccomp: the filter compiles to %zu instructions, the kernel takes at "
                      "most %d",
                      len, KERNEL_MAX_INSNS);
  cleanup_free void *bpf = xmalloc(size);
  ssize_t n = pread(fd, bpf, size, 0);
  if (n < 0 || (size_t)n != size)
    return nook_error(err, n < 0 ? errno : EIO, "linux.seccomp: read the exported filter");
  out->bpf = steal_pointer(&bpf);
  out->len = len;
  return 0;
}

/* ---- ENOSYS stub ----------------------------------------------------------
 *
 * libseccomp gives a system call that no rule names the default action, so
 * under an EPERM-by-default profile a call newer than the profile fails
 * with EPERM, and a C library that would fall back to an older call on
 * ENOSYS gives up instead.  As runc and crun do, nook prepends to
 * libseccomp's program a stub that, for each architecture in the filter,
 * returns ENOSYS for a syscall number above the largest number the profile
 * names for that architecture; everything else falls through to
 * libseccomp's program unchanged (cBPF only jumps forward, so code put in
 * front cannot disturb the jumps behind it).
 *
 * "Largest number the profile names" (runc's choice), not "largest number
 * libseccomp knows": a profile written before clone3 existed has decided
 * nothing about clone3, while libseccomp's table depends on the libseccomp
 * release, not on the profile.  Every name counts, whatever its action
 * (a rule with the default action still records a decision).  The cost:
 * under a small profile a known call above its largest name gets ENOSYS
 * rather than the default errno; both deny it.
 *
 * Differences from runc: the native architecture is always covered (it is
 * in every filter, listed or not; runc only looks at `architectures`), and
 * on x86 a socket or ipc call named in the profile also counts with its
 * direct number (socket is 359 on i386), not only as socketcall(102).
 *
 * x32 shares x86_64's AUDIT_ARCH and marks its calls with bit 30 of the
 * number.  Without SCMP_ARCH_X32 in the filter such a number must reach
 * libseccomp's program, whose bad-architecture action stops it, not ENOSYS.
 * With it, x32's own calls (512-547) usually set its threshold, so x32
 * calls newer than the profile below 512 get the default action, as in
 * runc.
 *
 * Not applied when the default action already lets calls through (ALLOW,
 * LOG, TRACE: a tracer handles new calls itself), or already is ENOSYS. */

#define X32_SYSCALL_BIT 0x40000000U

/* Past this many numbers libseccomp has no name for, its table has ended. */
#define DIRECT_CALL_GAP 64

struct arch_max {
  uint32_t audit;  /* seccomp_data.arch */
  int64_t max;     /* largest number named, -1: none */
  int64_t max_x32; /* AUDIT_ARCH_X86_64 only: x32's, bit 30 set; -1: none */
};

static bool stub_wanted(const struct oci_seccomp *s)
{
  uint32_t a = s->default_action;
  if (a == SCMP_ACT_ALLOW || a == SCMP_ACT_LOG || a == SCMP_ACT_TRACE(0))
    return false;
  return !(a == SCMP_ACT_ERRNO(0) && s->default_errno_ret == ENOSYS);
}

static bool profile_names(const struct oci_seccomp *s, const char *name)
{
  for (size_t i = 0; i < s->n_syscalls; i++)
    for (size_t j = 0; j < s->syscalls[i].n_names; j++)
      if (strcmp(s->syscalls[i].names[j], name) == 0)
        return true;
  return false;
}

/* The largest number the profile names on `arch`, -1 if none resolves. */
static int64_t largest_named(const struct oci_seccomp *s, uint32_t arch)
{
  int64_t max = -1;
  bool multiplexed = false;
  for (size_t i = 0; i < s->n_syscalls; i++)
    for (size_t j = 0; j < s->syscalls[i].n_names; j++) {
      const char *name = s->syscalls[i].names[j];
      int nr = seccomp_syscall_resolve_name_arch(arch, name);
      if (nr >= 0) {
        max = nr > max ? nr : max;
        continue;
      }
      /* socket on i386 and s390 resolves to a pseudo number, and is
       * filtered both through socketcall and at its own number. */
      if (nr != __NR_SCMP_ERROR && seccomp_syscall_resolve_name_rewrite(arch, name) >= 0)
        multiplexed = true;
    }
  if (!multiplexed || max < 0)
    return max;
  /* Their direct numbers are only known the other way round: look above
   * max for names of the profile, up to a long gap in libseccomp's table. */
  int64_t best = max;
  int gap = 0;
  for (int64_t nr = max + 1; gap < DIRECT_CALL_GAP && nr < INT32_MAX; nr++) {
    cleanup_free char *name = seccomp_syscall_resolve_num_arch(arch, (int)nr);
    gap = name == NULL ? gap + 1 : 0;
    if (name != NULL && profile_names(s, name))
      best = nr;
  }
  return best;
}

/* One entry per AUDIT_ARCH of the filter; returns how many. */
static size_t arch_maxima(const struct oci_seccomp *s, struct arch_max *out, size_t cap)
{
  size_t n = 0;
  for (size_t i = 0; i <= s->n_architectures; i++) {
    uint32_t arch = i < s->n_architectures ? s->architectures[i] : seccomp_arch_native();
    if (arch == SCMP_ARCH_NATIVE)
      arch = seccomp_arch_native();
    bool x32 = arch == SCMP_ARCH_X32;
    uint32_t audit = x32 ? AUDIT_ARCH_X86_64 : arch;
    size_t k = 0;
    while (k < n && out[k].audit != audit)
      k++;
    if (k == n) {
      if (n == cap)
        continue;
      out[n++] = (struct arch_max){.audit = audit, .max = -1, .max_x32 = -1};
    }
    int64_t *slot = x32 ? &out[k].max_x32 : &out[k].max;
    if (*slot < 0)
      *slot = largest_named(s, arch);
  }
  return n;
}

/* A forward-only assembler: jump targets are labels, resolved at the end. */
#define STUB_MAX_INSNS 256
#define STUB_MAX_LABELS 64
#define NEXT (-1)

struct stub {
  struct sock_filter insn[STUB_MAX_INSNS];
  int jt[STUB_MAX_INSNS], jf[STUB_MAX_INSNS]; /* label or NEXT */
  int label_at[STUB_MAX_LABELS];
  size_t n;
  int n_labels;
  bool overflow;
};

enum { L_FILTER, L_ENOSYS, L_FIRST_FREE };

static int new_label(struct stub *st)
{
  if (st->n_labels == STUB_MAX_LABELS) {
    st->overflow = true;
    return L_FILTER;
  }
  st->label_at[st->n_labels] = -1;
  return st->n_labels++;
}

static void place(struct stub *st, int label)
{
  st->label_at[label] = (int)st->n;
}

static void emit(struct stub *st, uint16_t code, uint32_t k, int jt, int jf)
{
  if (st->n == STUB_MAX_INSNS) {
    st->overflow = true;
    return;
  }
  st->insn[st->n] = (struct sock_filter){.code = code, .k = k};
  st->jt[st->n] = jt;
  st->jf[st->n] = jf;
  st->n++;
}

static void load(struct stub *st, uint32_t offset)
{
  emit(st, BPF_LD | BPF_W | BPF_ABS, offset, NEXT, NEXT);
}

/* if (A <op> k) goto jt else goto jf */
static void jump_if(struct stub *st, uint16_t op, uint32_t k, int jt, int jf)
{
  emit(st, BPF_JMP | op | BPF_K, k, jt, jf);
}

/* One architecture: A = nr, then ENOSYS above the largest named number. */
static void emit_section(struct stub *st, const struct arch_max *a)
{
  load(st, offsetof(struct seccomp_data, nr));
  /* On s390, a number the kernel does not know reaches the filter as 0
   * (setup(2), long gone): that is a new call too. */
  if (a->audit == AUDIT_ARCH_S390 || a->audit == AUDIT_ARCH_S390X)
    jump_if(st, BPF_JEQ, 0, L_ENOSYS, NEXT);
  if (a->audit != AUDIT_ARCH_X86_64) {
    jump_if(st, BPF_JGT, (uint32_t)a->max, L_ENOSYS, L_FILTER);
    return;
  }
  if (a->max >= 0 && a->max_x32 >= 0) {
    int x32 = new_label(st);
    jump_if(st, BPF_JSET, X32_SYSCALL_BIT, x32, NEXT);
    jump_if(st, BPF_JGT, (uint32_t)a->max, L_ENOSYS, L_FILTER);
    place(st, x32);
    jump_if(st, BPF_JGT, (uint32_t)a->max_x32, L_ENOSYS, L_FILTER);
  } else if (a->max >= 0) {
    jump_if(st, BPF_JSET, X32_SYSCALL_BIT, L_FILTER, NEXT);
    jump_if(st, BPF_JGT, (uint32_t)a->max, L_ENOSYS, L_FILTER);
  } else {
    jump_if(st, BPF_JSET, X32_SYSCALL_BIT, NEXT, L_FILTER);
    jump_if(st, BPF_JGT, (uint32_t)a->max_x32, L_ENOSYS, L_FILTER);
  }
}

/* Resolve the labels; false if a conditional jump does not fit in 8 bits
 * (it cannot with the few architectures a filter holds). */
static bool resolve(struct stub *st)
{
  for (size_t i = 0; i < st->n; i++) {
    struct sock_filter *f = &st->insn[i];
    if (BPF_CLASS(f->code) != BPF_JMP)
      continue;
    int target[2] = {st->jt[i], st->jf[i]};
    uint32_t off[2];
    for (int t = 0; t < 2; t++) {
      int at = target[t] == NEXT ? (int)i + 1 : st->label_at[target[t]];
      if (at <= (int)i)
        return false;
      off[t] = (uint32_t)(at - (int)i - 1);
    }
    if (BPF_OP(f->code) == BPF_JA) {
      f->k = off[0];
      continue;
    }
    if (off[0] > 255 || off[1] > 255)
      return false;
    f->jt = (uint8_t)off[0];
    f->jf = (uint8_t)off[1];
  }
  return true;
}

/* Put the stub in front of out->bpf (libseccomp's program). */
static int add_enosys_stub(const struct oci_seccomp *s, struct seccomp_prog *out, nook_error_t *err)
{
  if (!stub_wanted(s))
    return 0;
  struct arch_max arches[32];
  size_t n = arch_maxima(s, arches, ARRAY_SIZE(arches));
  struct stub st = {.n_labels = L_FIRST_FREE};
  int section[ARRAY_SIZE(arches)];
  size_t used = 0;

  load(&st, offsetof(struct seccomp_data, arch));
  for (size_t i = 0; i < n; i++) {
    section[i] = -1;
    if (arches[i].max < 0 && arches[i].max_x32 < 0)
      continue; /* nothing named there: libseccomp's program decides */
    section[i] = new_label(&st);
    jump_if(&st, BPF_JEQ, arches[i].audit, section[i], NEXT);
    used++;
  }
  if (used == 0)
    return 0;
  emit(&st, BPF_JMP | BPF_JA, 0, L_FILTER, NEXT);
  for (size_t i = 0; i < n; i++) {
    if (section[i] < 0)
      continue;
    place(&st, section[i]);
    emit_section(&st, &arches[i]);
    nook_debug("linux.seccomp: arch 0x%x: ENOSYS above syscall %lld (x32: %lld)", arches[i].audit,
               (long long)arches[i].max, (long long)arches[i].max_x32);
  }
  place(&st, L_ENOSYS);
  emit(&st, BPF_RET | BPF_K, SCMP_ACT_ERRNO(ENOSYS), NEXT, NEXT);
  place(&st, L_FILTER);
  if (st.overflow || !resolve(&st))
    return nook_error(err, 0, "linux.seccomp: cannot build the ENOSYS stub for %zu architectures",
                      n);

  size_t len = st.n + out->len;
  if (len > KERNEL_MAX_INSNS)
    return nook_error(err, 0,
                      "linux.seccomp: the filter compiles to %zu instructions, the kernel takes at "
                      "most %d",
                      len, KERNEL_MAX_INSNS);
  struct sock_filter *bpf = xmalloc(len * sizeof(*bpf));
  memcpy(bpf, st.insn, st.n * sizeof(*bpf));
  memcpy(bpf + st.n, out->bpf, out->len * sizeof(*bpf));
  free(out->bpf);
  out->bpf = bpf;
  out->len = len;
  return 0;
}

static int set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value,
                    const char *what, nook_error_t *err)
{
  int r = seccomp_attr_set(ctx, attr, value);
  return r < 0 ? nook_error(err, -r, "linux.seccomp: %s", what) : 0;
}

static int build(const struct oci_seccomp *s, struct seccomp_prog *out, nook_error_t *err)
{
  uint32_t def = full_action(s->default_action, s->default_errno_ret);
  scmp_filter_ctx ctx = seccomp_init(def);
  if (ctx == NULL)
    return nook_error(err, 0,
                      "linux.seccomp.defaultAction: %s: not supported by libseccomp %u.%u.%u "
                      "or the kernel",
                      s->default_action_name ? s->default_action_name : "?",
                      seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
  int ret = -1;
  for (size_t i = 0; i < s->n_architectures; i++) {
    int r = seccomp_arch_add(ctx, s->architectures[i]);
    /* The native architecture is in every new filter already. */
    if (r < 0 && r != -EEXIST) {
      nook_error(err, -r, "linux.seccomp.architectures[%zu]: not supported by libseccomp %u.%u.%u",
                 i, seccomp_version()->major, seccomp_version()->minor, seccomp_version()->micro);
      goto out;
    }
  }
  /* The attributes only matter to seccomp_load, which nook does not use: the
   * flags go to seccomp(2) directly.  Setting them still has libseccomp
   * check that the kernel supports them; no_new_privs is nook's business. */
  if (set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "no_new_privs attribute", err) < 0 ||
      ((s->flags & SECCOMP_FILTER_FLAG_TSYNC) &&
       set_attr(ctx, SCMP_FLTATR_CTL_TSYNC, 1, "flags: SECCOMP_FILTER_FLAG_TSYNC", err) < 0) ||
      ((s->flags & SECCOMP_FILTER_FLAG_LOG) &&
       set_attr(ctx, SCMP_FLTATR_CTL_LOG, 1, "flags: SECCOMP_FILTER_FLAG_LOG", err) < 0) ||
      ((s->flags & SECCOMP_FILTER_FLAG_SPEC_ALLOW) &&
       set_attr(ctx, SCMP_FLTATR_CTL_SSB, 1, "flags: SECCOMP_FILTER_FLAG_SPEC_ALLOW", err) < 0))
    goto out;
  /* libseccomp <= 2.5.4 mishandles the tree for an empty rule set, hence
   * the threshold as well as the speed-up. */
  if (count_names(s) > BINARY_TREE_MIN_NAMES &&
      seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
    nook_debug("linux.seccomp: libseccomp cannot build a binary tree; using a list");
  if (check_size(s, def, err) < 0 || add_rules(ctx, s, def, err) < 0 ||
      export_bpf(ctx, out, err) < 0 || add_enosys_stub(s, out, err) < 0)
    goto out;
  ret = 0;
out:
  seccomp_release(ctx);
  return ret;
}

/* seccomp_compile(), handing out the cache key when `key` is not NULL: the
 * seed below files the program under the key this computed. */
static int compile(const struct oci_seccomp *s, const char *cache_dir, struct seccomp_prog *out,
                   uint8_t *key, nook_error_t *err)
{
  memset(out, 0, sizeof(*out));
  int api = (int)seccomp_api_get();
  if (check_profile(s, api, out, err) < 0)
    return -1;
  uint8_t own[SHA256_DIGEST_LEN];
  if (key == NULL)
    key = own;
  if (cache_dir != NULL || key != own)
    seccomp_cache_key(s, api, key);
  if (cache_dir != NULL && seccomp_cache_load(cache_dir, key, out))
    return 0;
  if (build(s, out, err) < 0) {
    seccomp_prog_clear(out);
    return -1;
  }
  if (cache_dir != NULL)
    seccomp_cache_keep(cache_dir, key, out);
  return 0;
}

int seccomp_compile(const struct oci_seccomp *s, const char *cache_dir, struct seccomp_prog *out,
                    nook_error_t *err)
{
  return compile(s, cache_dir, out, NULL, err);
}

int seccomp_precompile(const struct oci_seccomp *s, const char *cache_dir, char key_hex[65],
                       size_t *instructions, nook_error_t *err)
{
  struct seccomp_prog p = {0};
  int api = (int)seccomp_api_get();
  uint8_t key[SHA256_DIGEST_LEN];
  if (check_profile(s, api, &p, err) < 0 || build(s, &p, err) < 0) {
    seccomp_prog_clear(&p);
    return -1;
  }
  seccomp_cache_key(s, api, key);
  sha256_hex(key, key_hex);
  *instructions = p.len;
  int r = seccomp_cache_store(cache_dir, key, &p, true, err);
  seccomp_prog_clear(&p);
  return r;
}

void seccomp_cache_seed(const struct oci_seccomp *s, const char *cache_dir, const char *dest)
{
  struct seccomp_prog p;
  nook_error_t err = NULL;
  uint8_t key[SHA256_DIGEST_LEN];
  if (compile(s, cache_dir, &p, key, &err) < 0) {
    cleanup_free char *text = nook_error_text(err);
    nook_debug("seccomp cache: not seeded: %s", text);
    nook_error_free(&err);
    return;
  }
  seccomp_cache_keep(dest, key, &p);
  seccomp_prog_clear(&p);
}

void seccomp_prog_clear(struct seccomp_prog *p)
{
  free(p->bpf);
  memset(p, 0, sizeof(*p));
}

/* ---- container side ------------------------------------------------------ */

/* Runs in the container process, possibly under the filter it just loaded
 * when reporting an error: no allocation before the syscall, nothing but
 * the error afterwards. */
int seccomp_install(const struct seccomp_prog *p, int *notify_fd, nook_error_t *err)
{
  if (notify_fd != NULL)
    *notify_fd = -1;
  struct sock_fprog prog = {.len = (unsigned short)p->len, .filter = p->bpf};
  int r = sys_seccomp(SECCOMP_SET_MODE_FILTER, p->flags, &prog);
  if (r < 0 && errno == ENOSYS && p->flags == 0)
    r = prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0); /* Linux < 3.17 */
  if (r < 0) {
    int e = errno;
    char flags[256] = "";
    for (unsigned bit = 1; bit != 0 && bit <= p->flags; bit <<= 1) {
      if (!(p->flags & bit))
        continue;
      const char *name = seccomp_flag_name(bit);
      size_t used = strlen(flags);
      snprintf(flags + used, sizeof(flags) - used, "%s%s", used ? " " : "", name ? name : "?");
    }
    if (e == EACCES)
      return nook_error(err, e, "load the seccomp filter: needs no_new_privs or CAP_SYS_ADMIN");
    return nook_error(err, e, "load the seccomp filter (%zu instructions, flags [%s])", p->len,
                      flags);
  }
  if (p->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
    if (notify_fd != NULL)
      *notify_fd = r;
    else
      close(r);
  }
  return 0;
}
