/* libcontainer/process.c, capabilities.c, hooks.c, terminal.c and net/net.c.
 * Whatever changes process state (rlimits, uids, capabilities, namespaces,
 * mounts) runs in a forked child that reports through its exit status; the
 * mount and network namespaces are private, nothing on the host changes. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../base/utils.h"
#include "../../libcontainer/hooks.h"
#include "../../libcontainer/process.h"
#include "../../libcontainer/terminal.h"
#include "../../net/net.h"

/* ---- helpers ---- */

/* Runs fn in a child; true when it exits 0.  The child explains failures on
 * stderr. */
static bool in_child(int (*fn)(void *), void *arg)
{
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0)
    _exit(fn(arg));
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return false;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fprintf(stderr, "  child failed (status 0x%x)\n", status);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

#define CHILD_CHECK(cond)                                                                          \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "  %s:%d: child check failed: %s\n", __FILE__, __LINE__, #cond);             \
      return 1;                                                                                    \
    }                                                                                              \
  } while (0)

/* The error's message is exactly `want`; frees the error. */
static bool err_is(int r, nook_error_t *e, const char *want)
{
  bool same = r < 0 && *e && strcmp((*e)->msg, want) == 0;
  if (!same)
    fprintf(stderr, "  error `%s`, want `%s`\n", *e ? (*e)->msg : "(none)", want);
  nook_error_free(e);
  return same;
}

static bool err_has(int r, nook_error_t *e, const char *needle)
{
  bool found = r < 0 && *e && strstr((*e)->msg, needle) != NULL;
  if (!found)
    fprintf(stderr, "  error `%s` lacks `%s`\n", *e ? (*e)->msg : "(none)", needle);
  nook_error_free(e);
  return found;
}

static char *slurp(const char *path)
{
  char *s = NULL;
  nook_error_t e = NULL;
  if (read_file_at(AT_FDCWD, path, &s, NULL, &e) < 0) {
    nook_error_free(&e);
    return xstrdup("");
  }
  return s;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd >= 0) {
    if (safe_write(fd, text, strlen(text)) < 0) {
      /* the test reading it will fail */
    }
    fchmod(fd, mode);
    close(fd);
  }
}

/* The value of a "Name:\tvalue" line of /proc/self/status, trailing blanks
 * trimmed. */
static bool status_is(const char *field, const char *want)
{
  cleanup_free char *s = slurp("/proc/self/status");
  char key[64];
  snprintf(key, sizeof(key), "\n%s:\t", field);
  char *p = strstr(s, key);
  if (p == NULL)
    return false;
  p += strlen(key);
  p[strcspn(p, "\n")] = '\0';
  for (size_t n = strlen(p); n > 0 && p[n - 1] == ' '; n--)
    p[n - 1] = '\0';
  if (strcmp(p, want) != 0)
    fprintf(stderr, "  %s is `%s`, want `%s`\n", field, p, want);
  return strcmp(p, want) == 0;
}

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- rlimits ---- */

static int rlimit_child(void *arg)
{
  /* Lower the hard limit and give up CAP_SYS_RESOURCE (this host's root
   * lacks it anyway) so raising it again must fail. */
  struct rlimit low = {1024, 1024};
  CHILD_CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
  cap_t caps = cap_get_proc();
  cap_value_t res = CAP_SYS_RESOURCE;
  CHILD_CHECK(caps && cap_set_flag(caps, CAP_EFFECTIVE, 1, &res, CAP_CLEAR) == 0);
  CHILD_CHECK(cap_set_proc(caps) == 0);
  cap_free(caps);

  struct oci_rlimit rl[] = {
      {.resource = RLIMIT_NOFILE, .type = "RLIMIT_NOFILE", .soft = 512, .hard = 1000},
      {.resource = RLIMIT_NOFILE, .type = "RLIMIT_NOFILE", .soft = 2048, .hard = 2048},
  };
  struct oci_process p = {.rlimits = rl, .n_rlimits = 1};
  nook_error_t e = NULL;
  CHILD_CHECK(process_apply_rlimits(&p, &e) == 0);
  struct rlimit now;
  CHILD_CHECK(getrlimit(RLIMIT_NOFILE, &now) == 0 && now.rlim_cur == 512 && now.rlim_max == 1000);

  p.n_rlimits = 2;
  CHILD_CHECK(err_is(process_apply_rlimits(&p, &e), &e,
                     "process.rlimits[1]: setrlimit RLIMIT_NOFILE (soft 2048, hard 2048): raising "
                     "the hard limit above 1000 needs CAP_SYS_RESOURCE"));
  return 0;
}

TEST(process_rlimits)
{
  CHECK(in_child(rlimit_child, NULL));
}

/* ---- executable lookup ---- */

TEST(process_find_executable_messages)
{
  char dir[] = "/tmp/nook-unit-exe-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char tool[64], noexec[64], sub[64], missing[64], path_env[64];
  snprintf(tool, sizeof(tool), "%s/tool", dir);
  snprintf(noexec, sizeof(noexec), "%s/noexec", dir);
  snprintf(sub, sizeof(sub), "%s/sub", dir);
  snprintf(missing, sizeof(missing), "%s/missing", dir);
  snprintf(path_env, sizeof(path_env), "PATH=/nonexistent::%s/", dir);
  put_file(tool, "#!/bin/sh\n", 0755);
  put_file(noexec, "#!/bin/sh\n", 0644);
  CHECK(mkdir(sub, 0755) == 0);

  char *args[] = {"tool", NULL};
  char *env[] = {"HOME=/", "PATH=/bin", path_env, NULL};
  struct oci_process p = {.args = args, .n_args = 1, .env = env, .n_env = 3};
  nook_error_t e = NULL;
  char *out = NULL;
  /* The last PATH wins; a trailing slash is not doubled. */
  CHECK(process_find_executable(&p, &out, &e) == 0 && out && strcmp(out, tool) == 0);
  free(out);
  out = NULL;

  char msg[256];
  args[0] = "noexec";
  CHECK(err_is(process_find_executable(&p, &out, &e), &e,
               "exec: \"noexec\": executable file not found in $PATH"));
  args[0] = "sub";
  CHECK(err_is(process_find_executable(&p, &out, &e), &e,
               "exec: \"sub\": executable file not found in $PATH"));
  args[0] = noexec;
  snprintf(msg, sizeof(msg), "exec: \"%s\": permission denied", noexec);
  CHECK(err_is(process_find_executable(&p, &out, &e), &e, msg));
  args[0] = sub;
  snprintf(msg, sizeof(msg), "exec: \"%s\": permission denied", sub);
  CHECK(err_is(process_find_executable(&p, &out, &e), &e, msg));
  args[0] = missing;
  snprintf(msg, sizeof(msg), "exec: \"%s\": stat %s: no such file or directory", missing, missing);
  CHECK(err_is(process_find_executable(&p, &out, &e), &e, msg));
  args[0] = tool;
  CHECK(process_find_executable(&p, &out, &e) == 0 && out && strcmp(out, tool) == 0);
  free(out);
  out = NULL;

  /* No PATH in process.env: runc's default, not nook's environment. */
  args[0] = "sh";
  p.n_env = 1;
  env[1] = NULL;
  CHECK(process_find_executable(&p, &out, &e) == 0 && out && has_suffix(out, "/sh"));
  free(out);
  out = NULL;
  args[0] = "";
  CHECK(process_find_executable(&p, &out, &e) < 0);
  nook_error_free(&e);
  CHECK(out == NULL);

  unlink(tool);
  unlink(noexec);
  rmdir(sub);
  rmdir(dir);
}

/* ---- user and capabilities ---- */

#define BIT(c) (UINT64_C(1) << (c))

static int caps_child(void *arg)
{
  struct oci_process p = {0};
  p.user.uid = 1000;
  p.user.gid = 1001;
  uint32_t gids[] = {5, 7};
  p.user.additional_gids = gids;
  p.user.n_additional_gids = 2;
  p.has_capabilities = true;
  uint64_t set = BIT(CAP_CHOWN) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE);
  /* 63 is unknown to the kernel: warned about and skipped, not fatal. */
  p.capabilities = (struct oci_capabilities){.bounding = set | BIT(63),
                                             .effective = set,
                                             .inheritable = BIT(CAP_NET_BIND_SERVICE),
                                             .permitted = set,
                                             .ambient = BIT(CAP_NET_BIND_SERVICE)};
  nook_error_t e = NULL;
  CHILD_CHECK(process_apply_user(&p, true, &e) == 0);
  CHILD_CHECK(process_apply_capabilities(&p, &e) == 0);
  CHILD_CHECK(status_is("Uid", "1000\t1000\t1000\t1000"));
  CHILD_CHECK(status_is("Gid", "1001\t1001\t1001\t1001"));
  CHILD_CHECK(status_is("Groups", "5 7"));
  CHILD_CHECK(status_is("CapEff", "0000000000000421"));
  CHILD_CHECK(status_is("CapPrm", "0000000000000421"));
  CHILD_CHECK(status_is("CapBnd", "0000000000000421"));
  CHILD_CHECK(status_is("CapInh", "0000000000000400"));
  CHILD_CHECK(status_is("CapAmb", "0000000000000400"));
  return 0;
}

static int no_caps_child(void *arg)
{
  struct oci_process p = {0}; /* root, no process.capabilities */
  nook_error_t e = NULL;
  CHILD_CHECK(process_apply_user(&p, true, &e) == 0);
  CHILD_CHECK(process_apply_capabilities(&p, &e) == 0);
  CHILD_CHECK(status_is("Groups", ""));
  CHILD_CHECK(status_is("CapEff", "0000000000000000"));
  CHILD_CHECK(status_is("CapPrm", "0000000000000000"));
  CHILD_CHECK(status_is("CapBnd", "0000000000000000"));
  CHILD_CHECK(status_is("CapAmb", "0000000000000000"));
  return 0;
}

static int setgroups_denied_child(void *arg)
{
  uint32_t gid = 5;
  struct oci_process p = {.user = {.additional_gids = &gid, .n_additional_gids = 1}};
  nook_error_t e = NULL;
  CHILD_CHECK(err_has(process_apply_user(&p, false, &e), &e, "setgroups is denied"));
  p.user.n_additional_gids = 0;
  CHILD_CHECK(process_apply_user(&p, false, &e) == 0);
  return 0;
}

TEST(process_user_and_capabilities)
{
  CHECK(in_child(caps_child, NULL));
  CHECK(in_child(no_caps_child, NULL));
  CHECK(in_child(setgroups_denied_child, NULL));
}

static int misc_child(void *arg)
{
  nook_error_t e = NULL;
  struct oci_process p = {.no_new_privileges = true,
                          .has_oom_score_adj = true,
                          .oom_score_adj = 500,
                          .has_io_priority = true,
                          .io_priority = {.klass = 3 /* IOPRIO_CLASS_IDLE */, .priority = 0},
                          .has_scheduler = true,
                          .scheduler = {.policy = SCHED_BATCH, .nice = 5},
                          .user = {.has_umask = true, .umask = 027}};
  CHILD_CHECK(process_apply_no_new_privs(&p, &e) == 0);
  CHILD_CHECK(status_is("NoNewPrivs", "1"));
  CHILD_CHECK(process_apply_oom_score_adj(&p, &e) == 0);
  cleanup_free char *oom = slurp("/proc/self/oom_score_adj");
  CHILD_CHECK(strcmp(oom, "500\n") == 0);
  CHILD_CHECK(process_apply_io_priority(&p, &e) == 0);
  CHILD_CHECK(syscall(__NR_ioprio_get, 1, 0) == (3 << 13));
  CHILD_CHECK(process_apply_scheduler(&p, &e) == 0);
  CHILD_CHECK(sched_getscheduler(0) == SCHED_BATCH);
  process_apply_umask(&p);
  CHILD_CHECK(umask(0) == 027);
  struct oci_linux l = {.has_personality = true, .personality = {.domain = 0x0008 /* LINUX32 */}};
  CHILD_CHECK(process_apply_personality(&l, &e) == 0);
  CHILD_CHECK(personality(0xffffffff) == 0x0008);
  return 0;
}

TEST(process_misc_attributes)
{
  CHECK(in_child(misc_child, NULL));
}

/* ---- hooks ---- */

TEST(hooks_state_args_env)
{
  char dir[] = "/tmp/nook-unit-hooks-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char out[64], script[256];
  snprintf(out, sizeof(out), "%s/out", dir);
  /* argv[0] is args[0], not the path; $0 of `sh -c` is the next argument. */
  snprintf(script, sizeof(script),
           "cat > %s.state; { head -c 7 /proc/$$/cmdline; echo \" $0 $FOO\"; } > %s.argv", out,
           out);
  struct oci_hook h = {.path = "/bin/sh",
                       .args = (char *[]){"my-hook", "-c", script, "arg1", NULL},
                       .env = (char *[]){"FOO=bar", NULL}};
  const char *state = "{\"ociVersion\":\"1.3.0\",\"id\":\"x\",\"status\":\"creating\"}";
  nook_error_t e = NULL;
  CHECK(hooks_run("createRuntime", &h, 1, state, &e) == 0);
  char path[80];
  snprintf(path, sizeof(path), "%s.state", out);
  cleanup_free char *got_state = slurp(path);
  CHECK_STR_EQ(got_state, state);
  unlink(path);
  snprintf(path, sizeof(path), "%s.argv", out);
  cleanup_free char *got_argv = slurp(path);
  CHECK_STR_EQ(got_argv, "my-hook arg1 bar\n");
  unlink(path);
  rmdir(dir);
}

TEST(hooks_failures)
{
  nook_error_t e = NULL;
  struct oci_hook fail = {
      .path = "/bin/sh",
      .args = (char *[]){"sh", "-c", "echo out; echo went wrong >&2; exit 3", NULL}};
  CHECK(err_is(hooks_run("createRuntime", &fail, 1, "{}", &e), &e,
               "createRuntime hook #0 (/bin/sh): exited with status 3: went wrong"));

  /* Only stdout: it is what there is to show. */
  struct oci_hook out_only = {.path = "/bin/sh",
                              .args = (char *[]){"sh", "-c", "echo only stdout; exit 1", NULL}};
  CHECK(err_is(hooks_run("poststart", &out_only, 1, "{}", &e), &e,
               "poststart hook #0 (/bin/sh): exited with status 1: only stdout"));

  struct oci_hook killed = {.path = "/bin/sh",
                            .args = (char *[]){"sh", "-c", "kill -TERM $$", NULL}};
  CHECK(err_is(hooks_run("prestart", &killed, 1, "{}", &e), &e,
               "prestart hook #0 (/bin/sh): killed by signal 15 (SIGTERM)"));

  /* The tail is the last KiB, the earliest output dropped. */
  struct oci_hook chatty = {
      .path = "/bin/sh",
      .args = (char *[]){"sh", "-c",
                         "i=0; while [ $i -lt 500 ]; do echo line$i >&2; i=$((i+1)); done; "
                         "exit 1",
                         NULL}};
  int r = hooks_run("createContainer", &chatty, 1, "{}", &e);
  CHECK(r < 0 && e && has_suffix(e->msg, "line498\nline499"));
  CHECK(e && strstr(e->msg, "line0\n") == NULL && strlen(e->msg) < 1200);
  nook_error_free(&e);

  struct oci_hook missing = {.path = "/nonexistent/hook"};
  r = hooks_run("startContainer", &missing, 1, "{}", &e);
  CHECK(r < 0 && e && e->status == ENOENT);
  CHECK(err_is(r, &e, "startContainer hook #0 (/nonexistent/hook): exec"));
}

TEST(hooks_timeout_kills)
{
  nook_error_t e = NULL;
  struct oci_hook h = {.path = "/bin/sleep",
                       .args = (char *[]){"sleep", "10", NULL},
                       .has_timeout = true,
                       .timeout = 1};
  double t0 = now_s();
  CHECK(err_is(hooks_run("createRuntime", &h, 1, "{}", &e), &e,
               "createRuntime hook #0 (/bin/sleep): timed out after 1s"));
  double took = now_s() - t0;
  CHECK(took >= 0.9 && took < 3.0);
}

TEST(hooks_order_and_warn)
{
  char dir[] = "/tmp/nook-unit-hooks-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char touch[64];
  snprintf(touch, sizeof(touch), "%s/ran", dir);
  struct oci_hook hooks[] = {
      {.path = "/bin/true"},
      {.path = "/bin/false"},
      {.path = "/usr/bin/touch", .args = (char *[]){"touch", touch, NULL}},
  };
  nook_error_t e = NULL;
  CHECK(err_is(hooks_run("prestart", hooks, 3, "{}", &e), &e,
               "prestart hook #1 (/bin/false): exited with status 1"));
  CHECK(access(touch, F_OK) < 0); /* stopped at the failure */
  hooks_run_warn("poststop", hooks, 3, "{}");
  CHECK(access(touch, F_OK) == 0); /* went on after it */
  unlink(touch);
  rmdir(dir);
}

TEST(hooks_no_fd_leak_no_sigpipe)
{
  /* A descriptor someone forgot to mark close-on-exec must not reach the
   * hook. */
  int leak = open("/dev/null", O_RDONLY);
  CHECK(leak >= 0);
  int leak_hi = dup2(leak, 77);
  CHECK(leak_hi == 77);
  nook_error_t e = NULL;
  struct oci_hook probe = {.path = "/bin/sh",
                           .args = (char *[]){"sh", "-c", "test ! -e /proc/$$/fd/77", NULL}};
  CHECK(hooks_run("createRuntime", &probe, 1, "{}", &e) == 0);
  nook_error_free(&e);
  close(leak);
  close(leak_hi);

  /* 1 MiB of state to a hook that never reads it: no SIGPIPE, no hang. */
  size_t n = 1 << 20;
  char *big = xmalloc(n + 1);
  memset(big, ' ', n);
  big[n] = '\0';
  struct oci_hook deaf = {.path = "/bin/true"};
  CHECK(hooks_run("poststart", &deaf, 1, big, &e) == 0);
  nook_error_free(&e);
  free(big);
  sigset_t pending;
  sigpending(&pending);
  CHECK(!sigismember(&pending, SIGPIPE));
}

/* ---- terminal ---- */

struct term_arg {
  char sock[PATH_MAX];
};

static int term_container(struct term_arg *a)
{
  nook_error_t e = NULL;
  int master = -1;
  CHILD_CHECK(terminal_setup_container(true, 30, 100, true, 0, &master, &e) == 0);
  CHILD_CHECK(isatty(0) && isatty(1) && isatty(2));
  struct winsize ws;
  CHILD_CHECK(ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_row == 30 && ws.ws_col == 100);
  CHILD_CHECK(getsid(0) == getpid() && tcgetpgrp(0) == getpgrp());
  struct stat console, pty;
  CHILD_CHECK(stat("/dev/console", &console) == 0 && fstat(0, &pty) == 0);
  CHILD_CHECK(console.st_rdev == pty.st_rdev);
  CHILD_CHECK(fcntl(master, F_GETFD) == FD_CLOEXEC);
  CHILD_CHECK(terminal_send_to_socket(a->sock, master, &e) == 0);
  close(master);
  CHILD_CHECK(write(1, "hello from the container\n", 25) == 25);
  return 0;
}

static int term_child(void *arg)
{
  struct term_arg *a = arg;
  CHILD_CHECK(unshare(CLONE_NEWNS) == 0);
  CHILD_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
  CHILD_CHECK(mount("devpts", "/dev/pts", "devpts", 0, "newinstance,ptmxmode=0666") == 0);

  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  /* The long path is reached through /proc/self/fd; bind the short one. */
  char *base = strrchr(a->sock, '/');
  char dir[PATH_MAX];
  snprintf(dir, sizeof(dir), "%.*s", (int)(base - a->sock), a->sock);
  CHILD_CHECK(chdir(dir) == 0);
  snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", base + 1);
  CHILD_CHECK(l >= 0 && bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l, 1) == 0);
  CHILD_CHECK(chdir("/") == 0);

  pid_t pid = fork();
  if (pid == 0)
    _exit(term_container(a));
  int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  CHILD_CHECK(c >= 0);
  char name[64] = "";
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {.iov_base = name, .iov_len = sizeof(name) - 1};
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl)};
  CHILD_CHECK(recvmsg(c, &msg, MSG_CMSG_CLOEXEC) > 0);
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  CHILD_CHECK(cm && cm->cmsg_type == SCM_RIGHTS);
  int master;
  memcpy(&master, CMSG_DATA(cm), sizeof(int));
  CHILD_CHECK(has_prefix(name, "/dev/pts/"));

  /* The proxy: stdin at EOF at once, stdout into a pipe. */
  int p[2];
  CHILD_CHECK(pipe2(p, O_CLOEXEC) == 0);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  CHILD_CHECK(dup2(null, 0) == 0 && dup2(p[1], 1) == 1);
  nook_error_t e = NULL;
  int r = terminal_proxy(master, &e);
  close(1);
  close(p[1]);
  char out[256] = "";
  CHILD_CHECK(read(p[0], out, sizeof(out) - 1) > 0);
  int status;
  CHILD_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CHILD_CHECK(r == 0);
  CHILD_CHECK(strstr(out, "hello from the container\r\n") != NULL);
  return 0;
}

TEST(terminal_setup_send_proxy)
{
  /* A socket path longer than sun_path, as engines sometimes use. */
  struct term_arg a;
  char dir[] = "/tmp/nook-unit-term-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char deep[256];
  snprintf(deep, sizeof(deep), "%s/%0120d", dir, 0);
  CHECK(mkdir(deep, 0700) == 0);
  snprintf(a.sock, sizeof(a.sock), "%s/console.sock", deep);
  CHECK(strlen(a.sock) > sizeof(((struct sockaddr_un *)0)->sun_path));
  CHECK(in_child(term_child, &a));
  unlink(a.sock);
  rmdir(deep);
  rmdir(dir);
}

/* ---- network ---- */

static int loopback_child(void *arg)
{
  CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
  nook_error_t e = NULL;
  CHILD_CHECK(net_loopback_up(&e) == 0);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
  CHILD_CHECK(s >= 0 && ioctl(s, SIOCGIFFLAGS, &ifr) == 0);
  CHILD_CHECK(ifr.ifr_flags & IFF_UP);
  return 0;
}

TEST(net_loopback_up)
{
  CHECK(in_child(loopback_child, NULL));
}

static int run_quiet(const char *cmd)
{
  char buf[512];
  snprintf(buf, sizeof(buf), "%s >/dev/null 2>&1", cmd);
  return system(buf);
}

/* Both namespaces are made here: the "host" one the device starts in and the
 * container's.  Needs iproute2 to make the veth pair and show the result. */
static int move_child(void *arg)
{
  CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
  int host = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  CHILD_CHECK(unshare(CLONE_NEWNET) == 0);
  int target = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  CHILD_CHECK(host >= 0 && target >= 0 && setns(host, CLONE_NEWNET) == 0);

  CHILD_CHECK(run_quiet("ip link add nkA type veth peer name nkB") == 0);
  CHILD_CHECK(run_quiet("ip link add nkC type veth peer name nkD") == 0);
  CHILD_CHECK(run_quiet("ip link add nkE type veth peer name nkF") == 0);
  CHILD_CHECK(run_quiet("ip addr add 10.99.0.2/24 brd + dev nkA") == 0);
  CHILD_CHECK(run_quiet("ip addr add fd00:99::2/64 dev nkA nodad") == 0);
  /* Several addresses of each family: every one must move, not the first. */
  CHILD_CHECK(run_quiet("ip addr add 10.98.0.2/16 dev nkA") == 0);
  CHILD_CHECK(run_quiet("ip addr add fd00:98::2/64 dev nkA nodad") == 0);
  CHILD_CHECK(run_quiet("ip addr add 10.97.0.2/24 dev nkC") == 0);

  struct oci_net_device devs[] = {{.host_name = "nkA", .name = "eth0"},
                                  {.host_name = "nkC", .name = "net%d"}};
  struct oci_linux l = {.net_devices = devs, .n_net_devices = 2};
  nook_error_t e = NULL;
  CHILD_CHECK(net_move_devices(&l, target, &e) == 0);
  CHILD_CHECK(if_nametoindex("nkA") == 0 && if_nametoindex("nkC") == 0);

  /* A taken name fails before the device leaves the host. */
  struct oci_net_device taken = {.host_name = "nkE", .name = "eth0"};
  l.net_devices = &taken;
  l.n_net_devices = 1;
  CHILD_CHECK(err_has(net_move_devices(&l, target, &e), &e, "a device \"eth0\" exists"));
  CHILD_CHECK(if_nametoindex("nkE") != 0);
  taken.host_name = "nkX";
  CHILD_CHECK(err_has(net_move_devices(&l, target, &e), &e, "linux.netDevices[\"nkX\"]: find it"));

  CHILD_CHECK(setns(target, CLONE_NEWNET) == 0);
  CHILD_CHECK(if_nametoindex("eth0") != 0 && if_nametoindex("net0") != 0);
  CHILD_CHECK(run_quiet("ip -o link show eth0 | grep -q '[<,]UP[,>]'") == 0);
  CHILD_CHECK(run_quiet("ip -o link show net0 | grep -q '[<,]UP[,>]'") == 0);
  CHILD_CHECK(run_quiet("ip -o addr show dev eth0 | grep -q 'inet 10.99.0.2/24 brd "
                        "10.99.0.255 scope global'") == 0);
  CHILD_CHECK(run_quiet("ip -o addr show dev eth0 | grep -q 'inet6 fd00:99::2/64 scope global'") ==
              0);
  CHILD_CHECK(run_quiet("ip -o addr show dev eth0 | grep -q 'inet 10.98.0.2/16 scope global'") ==
              0);
  CHILD_CHECK(run_quiet("ip -o addr show dev eth0 | grep -q 'inet6 fd00:98::2/64 scope global'") ==
              0);
  CHILD_CHECK(run_quiet("ip -o addr show dev net0 | grep -q 'inet 10.97.0.2/24 scope global'") ==
              0);
  /* ...and no address of another device came along. */
  CHILD_CHECK(run_quiet("ip -o addr show dev net0 | grep -q '10.99.0.2'") != 0);
  return 0;
}

TEST(net_move_devices)
{
  if (run_quiet("ip -V") != 0)
    SKIP("no iproute2");
  CHECK(in_child(move_child, NULL));
}
