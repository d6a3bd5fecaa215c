#include "ps_table.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../base/utils.h"

#define ROW "%-8s %7s %7s %2s %5s %-8s %8s %s\n"

struct proc_row {
  char comm[64];
  int ppid, tty;
  unsigned long long utime, stime, start; /* clock ticks */
};

/* /proc/PID/stat; comm may hold blanks and parentheses: the fields start
 * after its last ')'. */
static bool read_stat(pid_t pid, struct proc_row *r)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  cleanup_free char *text = NULL;
  size_t len;
  if (read_file_at(AT_FDCWD, path, &text, &len, NULL) < 0)
    return false;
  char *open = strchr(text, '('), *close = strrchr(text, ')');
  if (open == NULL || close == NULL || close < open)
    return false;
  snprintf(r->comm, sizeof(r->comm), "%.*s", (int)(close - open - 1), open + 1);
  /* state ppid pgrp session tty_nr, then 7 fields to utime stime, then 6
   * to starttime */
  return sscanf(close + 2,
                "%*c %d %*d %*d %d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d "
                "%*d %llu",
                &r->ppid, &r->tty, &r->utime, &r->stime, &r->start) == 5;
}

static char *user_of(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  cleanup_free char *text = NULL;
  size_t len;
  unsigned uid;
  const char *line;
  if (read_file_at(AT_FDCWD, path, &text, &len, NULL) < 0 ||
      (line = strstr(text, "\nUid:")) == NULL || sscanf(line + 5, "%u", &uid) != 1)
    return xstrdup("?");
  /* procps prints a number for a name longer than its column. */
  struct passwd *pw = getpwuid(uid);
  char *s = NULL;
  if (pw != NULL && strlen(pw->pw_name) <= 8)
    s = xstrdup(pw->pw_name);
  else
    xasprintf(&s, "%u", uid);
  return s;
}

static char *cmd_of(pid_t pid, const char *comm)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
  char *text = NULL;
  size_t len = 0;
  if (read_file_at(AT_FDCWD, path, &text, &len, NULL) < 0 || len == 0) {
    free(text);
    xasprintf(&text, "[%s]", comm);
    return text;
  }
  while (len > 0 && text[len - 1] == '\0')
    len--;
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '\0')
      text[i] = ' ';
  }
  text[len] = '\0';
  return text;
}

static void tty_name(int tty, char *out, size_t size)
{
  unsigned major = ((unsigned)tty >> 8) & 0xfff;
  unsigned minor = ((unsigned)tty & 0xff) | (((unsigned)tty >> 12) & 0xfff00);
  if (major >= 136 && major <= 143)
    snprintf(out, size, "pts/%u", (major - 136) * 256 + minor);
  else if (major == 4 && minor < 64)
    snprintf(out, size, "tty%u", minor);
  else if (major == 4 || major == 5 || major == 204)
    snprintf(out, size, "ttyS%u", major == 4 ? minor - 64 : minor);
  else
    snprintf(out, size, "?");
}

void ps_table_print(const pid_t *pids, size_t n)
{
  printf(ROW, "UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD");
  long hz = sysconf(_SC_CLK_TCK);
  double uptime = 0;
  cleanup_file FILE *f = fopen("/proc/uptime", "re");
  if (hz <= 0 || f == NULL || fscanf(f, "%lf", &uptime) != 1)
    return;
  time_t now = time(NULL);
  for (size_t i = 0; i < n; i++) {
    struct proc_row r;
    if (!read_stat(pids[i], &r))
      continue; /* gone meanwhile */
    cleanup_free char *user = user_of(pids[i]);
    cleanup_free char *cmd = cmd_of(pids[i], r.comm);
    char pid[16], ppid[16], c[16], stime[16], tty[16], cpu[32];
    snprintf(pid, sizeof(pid), "%d", (int)pids[i]);
    snprintf(ppid, sizeof(ppid), "%d", r.ppid);
    /* C: CPU time over lifetime, in percent (procps' pcpu, truncated). */
    double ran = uptime - (double)r.start / (double)hz;
    unsigned long long secs = (r.utime + r.stime) / (unsigned long long)hz;
    snprintf(c, sizeof(c), "%d", ran > 0 ? (int)((double)(r.utime + r.stime) / hz * 100 / ran) : 0);
    time_t started = now - (time_t)ran;
    struct tm tm;
    localtime_r(&started, &tm);
    strftime(stime, sizeof(stime), now - started < 24 * 3600 ? "%H:%M" : "%b%d", &tm);
    tty_name(r.tty, tty, sizeof(tty));
    if (secs >= 86400)
      snprintf(cpu, sizeof(cpu), "%llu-%02llu:%02llu:%02llu", secs / 86400, secs / 3600 % 24,
               secs / 60 % 60, secs % 60);
    else
      snprintf(cpu, sizeof(cpu), "%02llu:%02llu:%02llu", secs / 3600, secs / 60 % 60, secs % 60);
    printf(ROW, user, pid, ppid, c, stime, tty, cpu, cmd);
  }
}
