/* measure: the timing driver of the benchmark suite (bench/run drives it).
 *
 * bench/run keeps one measure process alive for a whole benchmark and sends it
 * requests, one per line on stdin, fields separated by TABs.  Each request gets
 * exactly one reply line on stdout:
 *
 *   TAG <TAB> STATUS <TAB> WALL_NS <TAB> USER_US <TAB> SYS_US <TAB> MAXRSS_KB <TAB> HWM_KB
 *
 * Requests:
 *   run    TAG LOG ARGV...   spawn ARGV (stdin /dev/null, stdout+stderr appended
 *                            to LOG) and wait for it.  STATUS is the exit code,
 *                            128+signal, or -1 if it could not be spawned.
 *   hwm    TAG LOG ARGV...   as run, but ARGV is ptraced so that VmHWM of its
 *                            main process can be read before each execve and
 *                            when it exits; HWM_KB is the largest.
 *   wait   TAG PIDFILE MS    wait up to MS ms for the process whose pid is in
 *                            PIDFILE (a container's init) to exit; reap it if it
 *                            was reparented to us.  STATUS is its exit status,
 *                            -2 if it was not our child (no rusage), -1 if
 *                            PIDFILE is unreadable, -3 on timeout.
 *   chains TAG LOG N         followed by N lines, each a chain of commands
 *                            separated by a field ";".  All chains start at
 *                            once; each runs its commands one after the other
 *                            and stops at the first failure.  A command
 *                            "@wait PIDFILE" waits as the wait request does.
 *                            STATUS is the number of failed chains; the
 *                            rusage is the sum over every process reaped while
 *                            the chains ran (their commands and the orphaned
 *                            container inits); MAXRSS_KB is the largest.
 *
 * Why a C driver: wall time is taken with CLOCK_MONOTONIC right around the
 * spawn and the reap, so the driver adds microseconds, not the milliseconds of
 * a shell or an interpreter.  CPU time is the rusage that wait4 returns for the
 * spawned runtime: its own time plus that of every descendant it reaped (for
 * `run`, the container process too).  ru_maxrss from wait4 has the same scope:
 * the largest peak RSS of the runtime and its reaped descendants.
 *
 * measure makes itself a child subreaper: a container init left behind by
 * `create` is reparented to it, so the init's time is accounted (wait, chains)
 * instead of vanishing into pid 1. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_FIELDS 8192
#define MAX_CHAINS 256
#define MAX_CMDS 256

struct result {
  int status;
  long long wall_ns;
  long long user_us, sys_us;
  long maxrss_kb, hwm_kb;
};

/* Every process reaped so far that no request was waiting for by pid: the
 * orphaned container inits.  A later wait for such a pid finds it here. */
struct reaped {
  pid_t pid;
  int status;
  struct rusage ru;
};
static struct reaped *reaped;
static size_t n_reaped, cap_reaped;

static int devnull = -1;

static long long now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long tv_us(struct timeval tv)
{
  return tv.tv_sec * 1000000LL + tv.tv_usec;
}

static int decode_status(int st)
{
  if (WIFEXITED(st))
    return WEXITSTATUS(st);
  if (WIFSIGNALED(st))
    return 128 + WTERMSIG(st);
  return -1;
}

static void add_rusage(struct result *r, const struct rusage *ru)
{
  r->user_us += tv_us(ru->ru_utime);
  r->sys_us += tv_us(ru->ru_stime);
  if (ru->ru_maxrss > r->maxrss_kb)
    r->maxrss_kb = ru->ru_maxrss;
}

static void remember(pid_t pid, int st, const struct rusage *ru)
{
  if (n_reaped == cap_reaped) {
    cap_reaped = cap_reaped ? 2 * cap_reaped : 64;
    reaped = realloc(reaped, cap_reaped * sizeof(*reaped));
    if (!reaped) {
      perror("measure: realloc");
      exit(1);
    }
  }
  reaped[n_reaped++] = (struct reaped){.pid = pid, .status = st, .ru = *ru};
}

/* Take pid out of the reaped table; returns 1 if it was there. */
static int take_reaped(pid_t pid, int *st, struct rusage *ru)
{
  for (size_t i = 0; i < n_reaped; i++) {
    if (reaped[i].pid == pid) {
      *st = reaped[i].status;
      *ru = reaped[i].ru;
      reaped[i] = reaped[--n_reaped];
      return 1;
    }
  }
  return 0;
}

static int log_open(const char *path)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0)
    fprintf(stderr, "measure: open %s: %s\n", path, strerror(errno));
  return fd;
}

/* posix_spawn is a vfork underneath: the spawn costs the same however large
 * the driver grows, and nothing runs between the clock read and the exec but
 * the fd setup. */
static pid_t spawn(char **argv, int logfd)
{
  posix_spawn_file_actions_t fa;
  pid_t pid;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, devnull, 0);
  posix_spawn_file_actions_adddup2(&fa, logfd, 1);
  posix_spawn_file_actions_adddup2(&fa, logfd, 2);
  int e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e) {
    dprintf(logfd, "measure: spawn %s: %s\n", argv[0], strerror(e));
    return -1;
  }
  return pid;
}

static void do_run(char **argv, int logfd, struct result *r)
{
  struct rusage ru;
  int st;
  long long t0 = now_ns();
  pid_t pid = spawn(argv, logfd);
  if (pid < 0) {
    r->status = -1;
    return;
  }
  while (wait4(pid, &st, 0, &ru) < 0) {
    if (errno != EINTR) {
      r->status = -1;
      return;
    }
  }
  r->wall_ns = now_ns() - t0;
  r->status = decode_status(st);
  add_rusage(r, &ru);
}

/* VmHWM of a process, from /proc/PID/status, in KiB. */
static long read_hwm(pid_t pid)
{
  char path[64], line[256];
  long kb = -1;
  snprintf(path, sizeof(path), "/proc/%d/status", pid);
  FILE *f = fopen(path, "re");
  if (!f)
    return -1;
  while (fgets(line, sizeof(line), f))
    if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
      break;
  fclose(f);
  return kb;
}

/* The peak RSS of the runtime's own process (not of its children), which
 * wait4 cannot tell apart.  VmHWM is per address space: read it at the
 * process's exit (PTRACE_O_TRACEEXIT, while its memory still exists) and at
 * the entry of every execve, since crun and runc re-execute themselves and an
 * exec starts a new address space.  Only the main thread is traced, so the
 * runtime runs as it would untraced except for a stop per syscall of that
 * thread and per signal it receives: the wall and cpu of this request are
 * not used. */
static void do_hwm(char **argv, int logfd, struct result *r)
{
  long long t0 = now_ns();
  pid_t pid = fork();
  if (pid < 0) {
    r->status = -1;
    return;
  }
  if (pid == 0) {
    dup2(devnull, 0);
    dup2(logfd, 1);
    dup2(logfd, 2);
    ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    execvp(argv[0], argv);
    dprintf(2, "measure: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int st, first = 1;
  struct rusage ru;
  for (;;) {
    if (wait4(pid, &st, __WALL, &ru) < 0) {
      if (errno == EINTR)
        continue;
      r->status = -1;
      return;
    }
    if (WIFEXITED(st) || WIFSIGNALED(st))
      break;
    int sig = 0, event = st >> 16;
    if (first && WSTOPSIG(st) == SIGTRAP) {
      /* The stop after our own execve of the runtime. */
      first = 0;
      ptrace(PTRACE_SETOPTIONS, pid, NULL,
             (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_TRACEEXEC | PTRACE_O_TRACESYSGOOD));
    } else if (WSTOPSIG(st) == (SIGTRAP | 0x80)) {
      struct __ptrace_syscall_info info;
      if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) > 0 &&
          info.op == PTRACE_SYSCALL_INFO_ENTRY &&
          (info.entry.nr == SYS_execve || info.entry.nr == SYS_execveat)) {
        long kb = read_hwm(pid);
        if (kb > r->hwm_kb)
          r->hwm_kb = kb;
      }
    } else if (event == PTRACE_EVENT_EXIT) {
      long kb = read_hwm(pid);
      if (kb > r->hwm_kb)
        r->hwm_kb = kb;
    } else if (event == 0) {
      sig = WSTOPSIG(st); /* a signal for the runtime: deliver it */
    }
    ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig);
  }
  r->wall_ns = now_ns() - t0;
  r->status = decode_status(st);
  add_rusage(r, &ru);
}

static pid_t read_pidfile(const char *path)
{
  char buf[32];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return -1;
  buf[n] = 0;
  long v = strtol(buf, NULL, 10);
  return v > 0 ? (pid_t)v : -1;
}

/* Reap every zombie child without blocking, remembering each. */
static void reap_all(void)
{
  struct rusage ru;
  int st;
  pid_t p;
  while ((p = wait4(-1, &st, WNOHANG, &ru)) > 0)
    remember(p, st, &ru);
}

/* Wait for an arbitrary pid (our child or not) to exit, up to timeout_ms.
 * pidfd_open + poll works whether or not the process is our child; a child
 * is then reaped for its rusage.  Returns the status as described in the
 * header (with rusage added to r). */
static int wait_pid(pid_t pid, int timeout_ms, struct result *r)
{
  struct rusage ru;
  int st;
  if (take_reaped(pid, &st, &ru)) {
    add_rusage(r, &ru);
    return decode_status(st);
  }
  int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pfd >= 0) {
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    int n;
    while ((n = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
      ;
    close(pfd);
    if (n == 0)
      return -3;
  }
  pid_t w = wait4(pid, &st, WNOHANG, &ru);
  if (w == pid) {
    add_rusage(r, &ru);
    return decode_status(st);
  }
  /* Gone already and not ours, or reaped by a concurrent reap_all. */
  if (take_reaped(pid, &st, &ru)) {
    add_rusage(r, &ru);
    return decode_status(st);
  }
  return -2;
}

static void do_wait(const char *pidfile, int timeout_ms, struct result *r)
{
  long long t0 = now_ns();
  pid_t pid = read_pidfile(pidfile);
  r->status = pid < 0 ? -1 : wait_pid(pid, timeout_ms, r);
  r->wall_ns = now_ns() - t0;
}

/* ---- chains ---- */

struct chain {
  char **cmds[MAX_CMDS]; /* each a NULL-terminated argv */
  int n, next;
  pid_t running; /* the spawned command, 0 if none */
  pid_t waiting; /* the pid an @wait waits for, 0 if none */
  int foreign;   /* that pid is not our child: poll for it */
  long long since;
  int failed, done;
};

/* The fields of line, or -1 when there are more than max - 1: a chain cut
 * short would time fewer commands than it names (the 100 sequential runs
 * were once 32 of nook's and 18 of the floor's). */
static int split(char *line, char **f, int max)
{
  int n = 0;
  char *save = NULL;
  for (char *t = strtok_r(line, "\t\n", &save); t; t = strtok_r(NULL, "\t\n", &save)) {
    if (n == max - 1)
      return -1;
    f[n++] = t;
  }
  f[n] = NULL;
  return n;
}

static int parse_chain(char *line, struct chain *c)
{
  static char *f[MAX_FIELDS];
  int n = split(line, f, MAX_FIELDS);
  memset(c, 0, sizeof(*c));
  if (n < 0)
    return -1;
  int start = 0;
  for (int i = 0; i <= n; i++) {
    if (i == n || strcmp(f[i], ";") == 0) {
      if (i > start) {
        if (c->n == MAX_CMDS)
          return -1;
        char **argv = calloc((size_t)(i - start + 1), sizeof(char *));
        if (!argv)
          return -1;
        for (int k = start; k < i; k++)
          argv[k - start] = strdup(f[k]);
        c->cmds[c->n++] = argv;
      }
      start = i + 1;
    }
  }
  return 0;
}

static void free_chain(struct chain *c)
{
  for (int i = 0; i < c->n; i++) {
    for (char **a = c->cmds[i]; *a; a++)
      free(*a);
    free(c->cmds[i]);
  }
}

/* Start the chain's next command (or @wait); a chain whose commands are all
 * done, or that failed, is marked done.  An @wait whose process has already
 * ended completes at once. */
static void chain_step(struct chain *c, int logfd, struct result *r)
{
  for (;;) {
    c->running = c->waiting = 0;
    c->foreign = 0;
    if (c->failed || c->next == c->n) {
      c->done = 1;
      return;
    }
    char **argv = c->cmds[c->next++];
    if (strcmp(argv[0], "@wait") != 0) {
      c->running = spawn(argv, logfd);
      if (c->running < 0) {
        c->running = 0;
        c->failed = 1;
        continue;
      }
      return;
    }
    pid_t pid = argv[1] ? read_pidfile(argv[1]) : -1;
    if (pid < 0) {
      c->failed = 1;
      continue;
    }
    struct rusage ru;
    int st;
    if (take_reaped(pid, &st, &ru)) /* its rusage was counted when reaped */
      continue;
    pid_t w = wait4(pid, &st, WNOHANG, &ru);
    if (w == pid) {
      add_rusage(r, &ru);
      continue;
    }
    if (w < 0 && kill(pid, 0) < 0 && errno == ESRCH)
      continue; /* not our child, and gone */
    c->waiting = pid;
    c->foreign = w < 0;
    c->since = now_ns();
    return;
  }
}

static void do_chains(int nchains, int logfd, struct result *r)
{
  static struct chain ch[MAX_CHAINS];
  char *line = NULL;
  size_t cap = 0;
  int bad = 0;
  for (int i = 0; i < nchains; i++) {
    if (getline(&line, &cap, stdin) < 0 || parse_chain(line, &ch[i]) < 0)
      bad = 1;
  }
  free(line);
  if (bad) {
    r->status = -1;
    return;
  }
  /* Orphans of earlier requests are not part of this measurement. */
  reap_all();
  n_reaped = 0;

  long long t0 = now_ns();
  for (int i = 0; i < nchains; i++)
    chain_step(&ch[i], logfd, r);
  for (;;) {
    int active = 0, foreign = 0;
    for (int i = 0; i < nchains; i++) {
      active += !ch[i].done;
      foreign += ch[i].foreign;
    }
    if (!active)
      break;
    /* Block until a child ends.  Only an @wait for a process that is not our
     * child (never the case with runc, crun or nook) makes us poll. */
    struct rusage ru;
    int st;
    pid_t p = wait4(-1, &st, foreign ? WNOHANG : 0, &ru);
    if (p < 0 && errno == EINTR)
      continue;
    if (p > 0) {
      add_rusage(r, &ru);
      int mine = 0;
      for (int i = 0; i < nchains && !mine; i++) {
        if (ch[i].running == p) {
          mine = 1;
          if (decode_status(st) != 0)
            ch[i].failed = 1;
          chain_step(&ch[i], logfd, r);
        } else if (ch[i].waiting == p) {
          mine = 1;
          chain_step(&ch[i], logfd, r);
        }
      }
      if (!mine) /* an init that ended before its chain reached @wait */
        remember(p, st, &ru);
      continue;
    }
    for (int i = 0; i < nchains; i++) {
      if (!ch[i].foreign)
        continue;
      if (kill(ch[i].waiting, 0) < 0 && errno == ESRCH) {
        chain_step(&ch[i], logfd, r);
      } else if (now_ns() - ch[i].since > 10000000000LL) {
        ch[i].failed = 1; /* 10 s and the init still runs */
        chain_step(&ch[i], logfd, r);
      }
    }
    struct timespec ts = {0, 1000000};
    nanosleep(&ts, NULL);
  }
  r->wall_ns = now_ns() - t0;
  r->status = 0;
  for (int i = 0; i < nchains; i++) {
    if (ch[i].failed)
      r->status++;
    free_chain(&ch[i]);
  }
}

int main(void)
{
  /* Container inits that outlive their runtime come to us, not to pid 1. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
    perror("measure: PR_SET_CHILD_SUBREAPER");
    return 1;
  }
  devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (devnull < 0) {
    perror("measure: /dev/null");
    return 1;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);

  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, stdin) >= 0) {
    char *f[MAX_FIELDS];
    int n = split(line, f, MAX_FIELDS);
    if (n < 2) {
      fprintf(stderr, "measure: bad request\n");
      return 2;
    }
    struct result r = {.status = -1, .hwm_kb = -1};
    const char *tag = f[1];
    if ((strcmp(f[0], "run") == 0 || strcmp(f[0], "hwm") == 0) && n >= 4) {
      int logfd = log_open(f[2]);
      if (logfd >= 0) {
        if (f[0][0] == 'r')
          do_run(&f[3], logfd, &r);
        else
          do_hwm(&f[3], logfd, &r);
        close(logfd);
      }
    } else if (strcmp(f[0], "wait") == 0 && n == 4) {
      do_wait(f[2], atoi(f[3]), &r);
    } else if (strcmp(f[0], "chains") == 0 && n == 4) {
      int nchains = atoi(f[3]);
      int logfd = log_open(f[2]);
      if (nchains < 1 || nchains > MAX_CHAINS || logfd < 0) {
        fprintf(stderr, "measure: bad chains request\n");
        return 2;
      }
      do_chains(nchains, logfd, &r);
      close(logfd);
    } else {
      fprintf(stderr, "measure: unknown request %s\n", f[0]);
      return 2;
    }
    printf("%s\t%d\t%lld\t%lld\t%lld\t%ld\t%ld\n", tag, r.status, r.wall_ns, r.user_us, r.sys_us,
           r.maxrss_kb, r.hwm_kb);
  }
  free(line);
  /* Leave no zombie behind (bench/run deletes the containers first). */
  reap_all();
  return 0;
}
