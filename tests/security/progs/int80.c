/* int80 CALL...: system calls through `int $0x80`, the i386 ABI, from a
 * 64-bit process.  The kernel reports them to seccomp as AUDIT_ARCH_I386
 * with i386 numbers, so a filter must either know that architecture or
 * stop it: a profile written for x86_64 only must not be bypassed this way.
 *
 * Each CALL is NR[:ARG...] (up to 3 arguments): a number (0x.. and 0..
 * accepted) or @STRING, passed as the address of a copy of STRING in
 * memory below 4 GiB.  Prints one line per call, as it returns:
 *   NR ret=R errno=E      (errno 0 when R is not an error)
 * A call the filter kills ends the program there. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* In .bss of a static non-PIE binary: addressable with 32 bits. */
static char strings[8192];
static size_t strings_used;

static unsigned long arg(const char *s)
{
  if (*s != '@')
    return strtoul(s, NULL, 0);
  size_t n = strlen(s);
  if (strings_used + n > sizeof(strings)) {
    fprintf(stderr, "int80: strings too long\n");
    exit(2);
  }
  char *p = memcpy(strings + strings_used, s + 1, n); /* with the NUL */
  strings_used += n;
  if ((uintptr_t)p > UINT32_MAX) {
    fprintf(stderr, "int80: %p is above 4 GiB (build with -static -no-pie)\n", (void *)p);
    exit(2);
  }
  return (unsigned long)(uintptr_t)p;
}

static long int80(unsigned long nr, unsigned long a, unsigned long b, unsigned long c)
{
  long ret;
  __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
  return ret;
}

int main(int argc, char **argv)
{
  if (argc < 2) {
    fprintf(stderr, "usage: int80 NR[:ARG...]...\n");
    return 2;
  }
  for (int i = 1; i < argc; i++) {
    unsigned long v[4] = {0};
    int n = 0;
    for (char *tok = strtok(argv[i], ":"); tok != NULL && n < 4; tok = strtok(NULL, ":"))
      v[n++] = arg(tok);
    fflush(stdout);
    /* The i386 ABI returns a 32-bit value in eax. */
    long r = (int)int80(v[0], v[1], v[2], v[3]);
    printf("%lu ret=%ld errno=%ld\n", v[0], r, r < 0 && r >= -4095 ? -r : 0);
  }
  return 0;
}
