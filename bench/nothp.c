/* nothp: run a command with transparent huge pages disabled for it and its
 * children, as nook launches its VMM (vmm/qemu.c), so that bench/run's bare
 * QEMU boot (VM mode's floor) runs QEMU exactly as VM mode does.  The flag
 * is inherited across execve; this adds one exec to the floor. */
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc < 2) {
    fputs("usage: nothp CMD [ARG...]\n", stderr);
    return 2;
  }
  if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) < 0) {
    perror("nothp: prctl(PR_SET_THP_DISABLE)");
    return 1;
  }
  execvp(argv[1], argv + 1);
  perror("nothp: execvp");
  return 127;
}
