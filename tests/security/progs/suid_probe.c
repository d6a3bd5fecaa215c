/* suid_probe: what a process got from execve: its real and effective uid
 * and its capability sets.  Installed setuid root in an image, it shows
 * whether no_new_privs kept the exec from granting anything. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
  printf("ruid=%u euid=%u\n", (unsigned)getuid(), (unsigned)geteuid());
  FILE *f = fopen("/proc/self/status", "re");
  char line[256];
  while (f != NULL && fgets(line, sizeof(line), f) != NULL)
    if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0)
      fputs(line, stdout);
  return 0;
}
