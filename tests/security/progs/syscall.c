/* syscall CALL...: raw x86_64 (native) system calls, for what busybox
 * cannot ask for: numbers the kernel or the profile does not know, x32
 * numbers (bit 30), a given errno.
 *
 * Each CALL is NR[:ARG...] (up to 6 arguments): a number (0x.. and 0..
 * accepted) or @STRING, passed as the address of STRING.  Prints one line
 * per call, as it returns:
 *   NR ret=R errno=E      (errno 0 on success)
 * A call the filter kills ends the program there. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long arg(char *s)
{
  return *s == '@' ? (long)(s + 1) : (long)strtoul(s, NULL, 0);
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: syscall NR[:ARG...]...\n");
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    long v[7] = {0};
    int n = 0;
    for (char *tok = strtok(argv[i], ":"); tok != NULL && n < 7; tok = strtok(NULL, ":"))
      v[n++] = arg(tok);
    fflush(stdout);
    errno = 0;
    long r = syscall(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    printf("%lu ret=%ld errno=%d\n", (unsigned long)v[0], r, r < 0 ? errno : 0);
  }
  return 0;
}
