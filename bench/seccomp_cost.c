/* seccomp_cost: where a warm seccomp profile's time goes, measured in one
 * process with nook's own library (build/libnook.a), so that a fraction of
 * a millisecond is not lost in the noise of whole runs:
 *
 *   seccomp_cost PLAIN_CONFIG SECCOMP_CONFIG CACHE_DIR N
 *
 * PLAIN_CONFIG is SECCOMP_CONFIG without linux.seccomp.  Prints the medians
 * of N samples, in microseconds, on one line:
 *
 *   parse_plain parse_seccomp lookup attach compile instructions
 *
 * parse_*: oci_config_parse of each config; lookup: seccomp_compile with
 * the entry in CACHE_DIR (key, directory checks, read, checksum); attach:
 * the seccomp(2) of the program in a forked child with no_new_privs (the
 * kernel's work: copying, checking and converting the cBPF, the JIT, the
 * action cache); compile: seccomp_compile without a cache (libseccomp),
 * N / 10 samples (at least 3).  Wall time, CLOCK_MONOTONIC. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../libcontainer/seccomp.h"
#include "../oci/config.h"
#include "timing.h"

static int die(const char *what, nook_error_t err)
{
  fprintf(stderr, "seccomp_cost: %s: %s\n", what, err ? err->msg : "failed");
  return 1;
}

static double parse_cost(const char *text, size_t len, long long *v, int n)
{
  for (int i = 0; i < n; i++) {
    struct oci_config *c = NULL;
    nook_error_t err = NULL;
    long long t = clock_ns(CLOCK_MONOTONIC);
    int r = oci_config_parse(text, len, "config.json", &c, &err);
    v[i] = clock_ns(CLOCK_MONOTONIC) - t;
    if (r == 0)
      oci_config_free(c);
    nook_error_free(&err);
  }
  return median_us(v, n);
}

/* The child's time for seccomp(2) alone, through a pipe. */
static long long attach_once(const struct seccomp_prog *p)
{
  int fds[2];
  if (pipe(fds) < 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    long long d = -1;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
      nook_error_t err = NULL;
      long long t = clock_ns(CLOCK_MONOTONIC);
      if (seccomp_install(p, NULL, &err) == 0)
        d = clock_ns(CLOCK_MONOTONIC) - t;
    }
    ssize_t w = write(fds[1], &d, sizeof(d));
    _exit(w == sizeof(d) ? 0 : 1);
  }
  long long d = -1;
  if (pid < 0 || read(fds[0], &d, sizeof(d)) != sizeof(d))
    d = -1;
  if (pid > 0)
    waitpid(pid, NULL, 0);
  close(fds[0]);
  close(fds[1]);
  return d;
}

int main(int argc, char **argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: seccomp_cost PLAIN_CONFIG SECCOMP_CONFIG CACHE_DIR N\n");
    return 2;
  }
  int n = atoi(argv[4]);
  if (n < 1)
    n = 1;
  nook_error_t err = NULL;
  char *plain = NULL, *sc = NULL;
  size_t plain_len = 0, sc_len = 0;
  struct oci_config *c = NULL;
  if (read_file_at(AT_FDCWD, argv[1], &plain, &plain_len, &err) < 0 ||
      read_file_at(AT_FDCWD, argv[2], &sc, &sc_len, &err) < 0 ||
      oci_config_parse(sc, sc_len, argv[2], &c, &err) < 0)
    return die("read the configs", err);
  if (!c->linux_.has_seccomp)
    return die("SECCOMP_CONFIG has no linux.seccomp", NULL);
  long long *v = xcalloc((size_t)n, sizeof(*v));
  double parse_plain = parse_cost(plain, plain_len, v, n);
  double parse_sc = parse_cost(sc, sc_len, v, n);

  struct seccomp_prog p = {0};
  if (seccomp_compile(&c->linux_.seccomp, argv[3], &p, &err) < 0) /* makes the entry */
    return die("compile", err);
  seccomp_prog_clear(&p);
  for (int i = 0; i < n; i++) {
    long long t = clock_ns(CLOCK_MONOTONIC);
    if (seccomp_compile(&c->linux_.seccomp, argv[3], &p, &err) < 0)
      return die("compile", err);
    v[i] = clock_ns(CLOCK_MONOTONIC) - t;
    if (i < n - 1)
      seccomp_prog_clear(&p);
  }
  double lookup = median_us(v, n);

  for (int i = 0; i < n; i++)
    if ((v[i] = attach_once(&p)) < 0)
      return die("seccomp(2) in a child", NULL);
  double attach = median_us(v, n);
  size_t insns = p.len;
  seccomp_prog_clear(&p);

  int nc = n / 10 < 3 ? 3 : n / 10;
  for (int i = 0; i < nc; i++) {
    long long t = clock_ns(CLOCK_MONOTONIC);
    if (seccomp_compile(&c->linux_.seccomp, NULL, &p, &err) < 0)
      return die("compile", err);
    v[i] = clock_ns(CLOCK_MONOTONIC) - t;
    seccomp_prog_clear(&p);
  }
  double compile = median_us(v, nc);
  printf("%.1f %.1f %.1f %.1f %.1f %zu\n", parse_plain, parse_sc, lookup, attach, compile, insns);
  free(v);
  free(plain);
  free(sc);
  oci_config_free(c);
  return 0;
}
