/* The ENOSYS prologue nook puts in front of libseccomp's filter (see
 * libcontainer/seccomp.c): syscalls newer than the profile knows fail with
 * ENOSYS instead of the default action.  Checked by running the compiled
 * program in bpf_interp.h for several architectures, and once installed. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpf_interp.h"
#include "seccomp_test.h"

#define RET_ERRNO(e) (SECCOMP_RET_ERRNO | (e))
#define X32 0x40000000U

/* The x86 numbers below are fixed by the kernel ABI. */
#define X86_64_READ 0
#define X86_64_GETUID 102
#define X86_64_GETPPID 110
#define X86_64_CLONE3 435
#define I386_READ 3
#define I386_GETPID 20
#define I386_GETUID 24
#define I386_SOCKET 359

static struct seccomp_prog compile_ok(const char *json)
{
  struct seccomp_prog p = {0};
  struct oci_config *c = config_of(json);
  if (!CHECK(c != NULL))
    return p;
  cleanup_free char *e = compile(c, NULL, &p);
  if (!CHECK(e == NULL))
    printf("  %s\n", e);
  oci_config_free(c);
  return p;
}

/* The verdict of p for (arch, nr), as the kernel's seccomp would see it. */
static uint32_t verdict(const struct seccomp_prog *p, uint32_t arch, uint32_t nr)
{
  return p->bpf == NULL ? BAD_PROGRAM : run_bpf(p->bpf, p->len, arch, nr, NULL);
}

#define CHECK_VERDICT(p, arch, nr, want)                                                           \
  do {                                                                                             \
    uint32_t _v = verdict(p, arch, nr);                                                            \
    if (!CHECK_INT_EQ(_v, want))                                                                   \
      printf("  (arch 0x%x, nr %u = 0x%x)\n", (unsigned)(arch), (unsigned)(nr), (unsigned)(nr));   \
  } while (0)

#define X86_RULES                                                                                  \
  "'syscalls': [{'names': ['read', 'getpid', 'clone3', 'socket', 'exit_group'], 'action': "        \
  "'SCMP_ACT_ALLOW'}, {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 33}]"

TEST(enosys_stub_x86_64_i386_x32)
{
  struct seccomp_prog p =
      compile_ok(SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86_64', "
                         "'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], " X86_RULES));
  /* x86_64: the profile's rules, the default below clone3, ENOSYS above. */
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_READ, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_GETPPID, RET_ERRNO(33));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_GETUID, RET_ERRNO(EPERM));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_CLONE3, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_CLONE3 - 1, RET_ERRNO(EPERM));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_CLONE3 + 1, RET_ERRNO(ENOSYS));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, 1000, RET_ERRNO(ENOSYS));
  /* x32: the same with bit 30; x32's own numbers (512...) are below. */
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | X86_64_READ, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | X86_64_GETUID, RET_ERRNO(EPERM));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | X86_64_CLONE3, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | (X86_64_CLONE3 + 1), RET_ERRNO(ENOSYS));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | 1000, RET_ERRNO(ENOSYS));
  /* i386: socket counts with its direct number too (not above clone3's
   * here, but allowed at both numbers). */
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_READ, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_GETPID, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_GETUID, RET_ERRNO(EPERM));
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_SOCKET, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, 435, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, 436, RET_ERRNO(ENOSYS));
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, 0xffffffffU, RET_ERRNO(ENOSYS));
  /* An architecture not in the filter: libseccomp's bad-arch action. */
  CHECK_VERDICT(&p, AUDIT_ARCH_AARCH64, 1000, SECCOMP_RET_KILL_THREAD);
  CHECK_VERDICT(&p, AUDIT_ARCH_AARCH64, 0, SECCOMP_RET_KILL_THREAD);
  seccomp_prog_clear(&p);
}

TEST(enosys_stub_leaves_x32_to_libseccomp_when_x32_is_not_listed)
{
  struct seccomp_prog p = compile_ok(SECCOMP(
      "'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86_64'], " X86_RULES));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_READ, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_GETUID, RET_ERRNO(EPERM));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, 1000, RET_ERRNO(ENOSYS));
  /* Numbers with bit 30 are above every x86_64 number, yet they are x32
   * calls, which this filter refuses as a bad architecture: ENOSYS would
   * let a process probe around a profile that does not want x32 at all. */
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | X86_64_READ, SECCOMP_RET_KILL_THREAD);
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | 1000, SECCOMP_RET_KILL_THREAD);
  /* i386 is not in the filter either. */
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_GETPID, SECCOMP_RET_KILL_THREAD);
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, 1000, SECCOMP_RET_KILL_THREAD);
  seccomp_prog_clear(&p);

  /* x32 listed without x86_64: x86_64 is native, in every filter. */
  p = compile_ok(SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': "
                         "['SCMP_ARCH_X32'], " X86_RULES));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, 1000, RET_ERRNO(ENOSYS));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_GETUID, RET_ERRNO(EPERM));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | 1000, RET_ERRNO(ENOSYS));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X32 | X86_64_GETUID, RET_ERRNO(EPERM));
  seccomp_prog_clear(&p);
}

TEST(enosys_stub_foreign_architectures)
{
  /* The stub is built from libseccomp's tables for each architecture, not
   * the host's: aarch64 and riscv64 have read at 63 and no open. */
  struct seccomp_prog p = compile_ok(
      SECCOMP("'defaultAction': 'SCMP_ACT_KILL_PROCESS', 'architectures': ['SCMP_ARCH_AARCH64', "
              "'SCMP_ARCH_RISCV64'], 'syscalls': [{'names': ['read', 'open', 'clone3'], "
              "'action': 'SCMP_ACT_ALLOW'}]"));
  static const uint32_t arches[] = {AUDIT_ARCH_AARCH64, AUDIT_ARCH_RISCV64};
  for (size_t i = 0; i < ARRAY_SIZE(arches); i++) {
    CHECK_VERDICT(&p, arches[i], 63, SECCOMP_RET_ALLOW);
    CHECK_VERDICT(&p, arches[i], 435, SECCOMP_RET_ALLOW);
    CHECK_VERDICT(&p, arches[i], 434, SECCOMP_RET_KILL_PROCESS);
    CHECK_VERDICT(&p, arches[i], 436, RET_ERRNO(ENOSYS));
  }
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_READ, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, 2, SECCOMP_RET_ALLOW); /* open */
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, 1000, RET_ERRNO(ENOSYS));
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, 1000, SECCOMP_RET_KILL_THREAD);
  seccomp_prog_clear(&p);
}

TEST(enosys_stub_i386_direct_socket_numbers)
{
  /* socket resolves to a pseudo number on i386 (it goes through
   * socketcall); its direct number, 359, is still the largest named here. */
  struct seccomp_prog p = compile_ok(
      SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86'], "
              "'syscalls': [{'names': ['read', 'socket'], 'action': 'SCMP_ACT_ALLOW'}]"));
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_SOCKET, SECCOMP_RET_ALLOW);
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_SOCKET - 1, RET_ERRNO(EPERM));
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_SOCKET + 1, RET_ERRNO(ENOSYS));
  CHECK_VERDICT(&p, AUDIT_ARCH_I386, I386_GETUID, RET_ERRNO(EPERM));
  seccomp_prog_clear(&p);
}

/* The verdict for x86_64 syscall nr under `def` and a rule for read and
 * clone3. */
static uint32_t verdict_with_default(const char *def, uint32_t nr)
{
  cleanup_free char *json = NULL;
  xasprintf(&json,
            SECCOMP("%s, 'syscalls': [{'names': ['read', 'clone3'], 'action': "
                    "'SCMP_ACT_ERRNO', 'errnoRet': 5}]"),
            def);
  struct seccomp_prog p = compile_ok(json);
  /* Whatever the default, the rule applies. */
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_READ, RET_ERRNO(5));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_CLONE3, RET_ERRNO(5));
  uint32_t v = verdict(&p, AUDIT_ARCH_X86_64, nr);
  seccomp_prog_clear(&p);
  return v;
}

TEST(enosys_stub_only_when_the_default_denies)
{
  static const struct {
    const char *def;
    uint32_t below, above; /* verdicts for getuid and for 1000 */
  } cases[] = {
      {"'defaultAction': 'SCMP_ACT_ERRNO'", RET_ERRNO(EPERM), RET_ERRNO(ENOSYS)},
      {"'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 13", RET_ERRNO(EACCES),
       RET_ERRNO(ENOSYS)},
      {"'defaultAction': 'SCMP_ACT_KILL'", SECCOMP_RET_KILL_THREAD, RET_ERRNO(ENOSYS)},
      {"'defaultAction': 'SCMP_ACT_KILL_PROCESS'", SECCOMP_RET_KILL_PROCESS, RET_ERRNO(ENOSYS)},
      {"'defaultAction': 'SCMP_ACT_TRAP'", SECCOMP_RET_TRAP, RET_ERRNO(ENOSYS)},
      /* Already ENOSYS, or letting calls through: no stub. */
      {"'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38", RET_ERRNO(ENOSYS),
       RET_ERRNO(ENOSYS)},
      {"'defaultAction': 'SCMP_ACT_ALLOW'", SECCOMP_RET_ALLOW, SECCOMP_RET_ALLOW},
      {"'defaultAction': 'SCMP_ACT_LOG'", SECCOMP_RET_LOG, SECCOMP_RET_LOG},
      {"'defaultAction': 'SCMP_ACT_TRACE'", SECCOMP_RET_TRACE | EPERM, SECCOMP_RET_TRACE | EPERM},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    if (!CHECK_INT_EQ(verdict_with_default(cases[i].def, X86_64_GETUID), cases[i].below) ||
        !CHECK_INT_EQ(verdict_with_default(cases[i].def, 1000), cases[i].above))
      printf("  with %s\n", cases[i].def);
  }
  /* The stub is the only difference between ERRNO(1) and ERRNO(38). */
  struct seccomp_prog a = compile_ok(SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', " X86_RULES));
  struct seccomp_prog b =
      compile_ok(SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38, " X86_RULES));
  CHECK(a.len > b.len && a.len - b.len < 16);
  seccomp_prog_clear(&a);
  seccomp_prog_clear(&b);
  /* A profile that names nothing denies everything the same way. */
  struct seccomp_prog p = compile_ok(SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO'"));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, X86_64_READ, RET_ERRNO(EPERM));
  CHECK_VERDICT(&p, AUDIT_ARCH_X86_64, 1000, RET_ERRNO(EPERM));
  seccomp_prog_clear(&p);
}

/* What each enosys_child*() exit code means. */
static const char *const enosys_failures[] = {
    [1] = "syscall 1000 did not get ENOSYS",
    [2] = "getuid did not get the default EPERM",
    [3] = "getppid did not get its rule's errno 33",
    [4] = "getpid was not allowed",
    [5] = "i386 getpid (int 0x80) was not allowed",
    [6] = "i386 syscall 1000 (int 0x80) did not get ENOSYS",
    [7] = "x32 syscall 1000 did not get ENOSYS",
    [200] = "the filter could not be installed",
};

/* Check that a child of in_child() exited 0; otherwise say why, telling a
 * crash from a failed check. */
static void check_enosys_child(int st)
{
  if (WIFSIGNALED(st)) {
    CHECK(!"the child was killed by a signal");
    printf("  killed by signal %d (%s)\n", WTERMSIG(st), strsignal(WTERMSIG(st)));
  } else if (!WIFEXITED(st)) {
    CHECK(!"the child did not exit");
    printf("  wait status 0x%x\n", (unsigned)st);
  } else if (WEXITSTATUS(st) != 0) {
    int code = WEXITSTATUS(st);
    const char *what = (size_t)code < ARRAY_SIZE(enosys_failures) ? enosys_failures[code] : NULL;
    CHECK(!"the child found a wrong verdict");
    printf("  exit %d: %s\n", code, what != NULL ? what : "(unknown)");
  }
}

static int enosys_child(int fd)
{
  if (probe(1000, 0, 0) != ENOSYS)
    return 1;
  if (probe(SYS_getuid, 0, 0) != EPERM)
    return 2;
  if (probe(SYS_getppid, 0, 0) != 33)
    return 3;
  if (probe(SYS_getpid, 0, 0) != 0)
    return 4;
#if defined(__x86_64__)
  if (probe((long)(X32 | 1000), 0, 0) != ENOSYS)
    return 7;
#endif
  return 0;
}

#define X86_ALL_PROFILE                                                                            \
  SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', 'architectures': ['SCMP_ARCH_X86_64', "              \
          "'SCMP_ARCH_X86', 'SCMP_ARCH_X32'], " X86_RULES)

TEST(enosys_stub_installed)
{
  struct seccomp_prog p = compile_ok(X86_ALL_PROFILE);
  if (p.bpf != NULL)
    check_enosys_child(in_child(&p, enosys_child));
  seccomp_prog_clear(&p);
}

#if defined(__x86_64__)
static long int80(long nr)
{
  long r;
  /* The compat entry hands back r8-r11 zeroed. */
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr) : "memory", "r8", "r9", "r10", "r11");
  return r;
}

/* Whether this host runs the i386 ABI from a 64-bit process at all: some
 * do not (a PVM guest kills every `int $0x80` with SIGSEGV, seccomp or
 * not), and there only the BPF-level checks above can run. */
static bool i386_abi_works(void)
{
  pid_t pid;
  fflush(NULL);
  if ((pid = fork()) == 0) {
    unit_default_crash_signals();
    _exit(int80(20) > 0 ? 0 : 1);
  }
  int st = -1;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The i386 ABI from this 64-bit process: getpid(20), then a number above
 * clone3. */
static int enosys_child_i386(int fd)
{
  if (int80(20) <= 0)
    return 5;
  if (int80(1000) != -ENOSYS)
    return 6;
  return 0;
}

TEST(enosys_stub_installed_i386)
{
  if (!i386_abi_works())
    SKIP("int $0x80 does not work on this host even without seccomp (it runs in the VM pass)");
  struct seccomp_prog p = compile_ok(X86_ALL_PROFILE);
  if (p.bpf != NULL)
    check_enosys_child(in_child(&p, enosys_child_i386));
  seccomp_prog_clear(&p);
}
#endif
