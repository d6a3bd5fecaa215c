/* nook's exec shim: the last program the container process runs before its
 * workload.
 *
 * Why it exists (CVE-2019-5736): a script whose interpreter is
 * /proc/self/exe, run by the container's last execve, would start the
 * *runtime's* binary inside the container, and a process there could keep
 * it open and overwrite it on the host once the runtime exits.  The runtime
 * therefore makes its final execve from this shim, loaded from a sealed
 * memfd (libcontainer/exec_shim.c): /proc/self/exe is then a sealed,
 * unwritable copy of this small program, never the host binary.
 *
 * Built freestanding (no libc: a few KiB, nothing to relocate):
 *   argv = { "nook-exec-shim", REPORT_FD, PATH, ARG0, ARG1, ... }
 * It makes REPORT_FD (the runtime's sync socket) close-on-exec, execs PATH
 * with ARG0... and the environment it got, and reports a failed execve on
 * REPORT_FD in the sync protocol's format (libcontainer/sync.h). */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "../sync.h"

#if defined(__x86_64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %rbp, %rbp\n"
        "  mov %rsp, %rdi\n"
        "  and $-16, %rsp\n"
        "  call shim_main\n"
        "  hlt\n");

static long sys3(long n, long a, long b, long c)
{
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}
#elif defined(__aarch64__)
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  mov x0, sp\n"
        "  bl shim_main\n"
        "  brk #0\n");

static long sys3(long n, long a, long b, long c)
{
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
  return x0;
}
#else
#error "the exec shim supports x86_64 and aarch64"
#endif

__attribute__((noreturn)) static void leave(int code)
{
  for (;;)
    sys3(SYS_exit, code, 0, 0);
}

/* A strict non-negative decimal fd, or -1. */
static int parse_fd(const char *s)
{
  long v = 0;
  if (s == NULL || *s == '\0')
    return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 1000000)
      return -1;
    v = v * 10 + (*s - '0');
  }
  return (int)v;
}

static void report(int fd, int e, const char *arg0)
{
  struct {
    uint32_t step;
    int32_t value;
    uint32_t len;
    char data[4096];
  } m;
  /* Fields set one by one: zeroing the whole struct makes compilers (clang)
   * call memset, which this program, without libc, does not have.  Only
   * the first len bytes of data are sent. */
  m.step = SYNC_ERROR;
  m.value = e;
  static const char pre[] = "exec: \"";
  size_t n = 0;
  for (const char *p = pre; *p; p++)
    m.data[n++] = *p;
  for (const char *p = arg0; p && *p && n < sizeof(m.data) - 2; p++)
    m.data[n++] = *p;
  m.data[n++] = '"';
  m.len = (uint32_t)n;
  sys3(SYS_write, fd, (long)&m, (long)(offsetof(__typeof__(m), data) + n));
}

__attribute__((noreturn, used)) void shim_main(long *sp)
{
  long argc = sp[0];
  char **argv = (char **)(sp + 1);
  char **envp = argv + argc + 1;
  /* Anything else (a script with "#!/proc/self/exe" reaching us) is not a
   * call from the runtime: refuse. */
  if (argc < 4)
    leave(127);
  int fd = parse_fd(argv[1]);
  if (fd < 0 && !(argv[1][0] == '-' && argv[1][1] == '1' && argv[1][2] == '\0'))
    leave(127);
  /* The socket must not reach the workload: close-on-exec, or closed (and
   * the error report lost) if a seccomp profile refuses fcntl. */
  if (fd >= 0 && sys3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC) < 0) {
    if (sys3(SYS_close, fd, 0, 0) < 0)
      leave(127);
    fd = -1;
  }
  long r = sys3(SYS_execve, (long)argv[2], (long)(argv + 3), (long)envp);
  if (fd >= 0)
    report(fd, (int)-r, argv[3]);
  leave(r == -ENOENT ? 127 : 126);
}
