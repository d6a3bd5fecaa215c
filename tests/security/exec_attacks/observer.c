/* CVE-2016-9962 replay: the container's init watches for a process that
 * `nook exec` is setting up (its name is still "nook") and tries what an
 * attacker would: open its /proc/PID/{environ,exe,cwd,fd/N,mem}, once
 * /out/go exists.  While
 * that process holds the runtime's state it must not be dumpable, so every
 * attempt must fail.  Prints one line per attempt, then exits. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void try_open(int pid, const char *what, int flags)
{
  char p[64];
  snprintf(p, sizeof(p), "/proc/%d/%s", pid, what);
  int fd = open(p, flags);
  if (fd >= 0) {
    printf("LEAK %s\n", what);
    close(fd);
  } else {
    printf("denied %s %s\n", what, strerror(errno));
  }
}

static int find_nook(void)
{
  DIR *d = opendir("/proc");
  struct dirent *e;
  int found = 0;
  while (d && (e = readdir(d))) {
    int pid = atoi(e->d_name);
    if (pid <= 1 || pid == getpid())
      continue;
    char p[64], comm[32] = "";
    snprintf(p, sizeof(p), "/proc/%d/comm", pid);
    FILE *f = fopen(p, "r");
    if (f) {
      if (fgets(comm, sizeof(comm), f) && strncmp(comm, "nook", 4) == 0)
        found = pid;
      fclose(f);
    }
  }
  if (d)
    closedir(d);
  return found;
}

int main(void)
{
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("observer-ready\n");
  for (int i = 0; i < 3000; i++) {
    /* The test says when: once the exec'd process is held past its
     * capability drop, where only non-dumpability protects it. */
    int pid = access("/out/go", F_OK) == 0 ? find_nook() : 0;
    if (pid) {
      printf("found nook\n");
      try_open(pid, "environ", O_RDONLY);
      try_open(pid, "exe", O_PATH);
      try_open(pid, "cwd", O_PATH);
      try_open(pid, "fd/0", O_RDONLY);
      try_open(pid, "mem", O_RDONLY);
      printf("observer-done\n");
      fflush(stdout);
      /* Stay, as the container's init, until the test stops us. */
      for (;;)
        pause();
    }
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  printf("observer: no nook process seen\n");
  return 1;
}
