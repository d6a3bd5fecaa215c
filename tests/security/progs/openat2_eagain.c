/* openat2_eagain CMD [ARG...]: run CMD with every openat2(2) answering
 * EAGAIN, as it does while renames or mounts on the host race a
 * RESOLVE_IN_ROOT lookup, only for ever: a caller that retries without a
 * bound hangs. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: openat2_eagain CMD [ARG...]\n");
    return 2;
  }
  struct sock_filter insns[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof(insns) / sizeof(insns[0]), .filter = insns};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) {
    perror("openat2_eagain: seccomp");
    return 2;
  }
  execvp(argv[1], argv + 1);
  perror("openat2_eagain: exec");
  return 127;
}
