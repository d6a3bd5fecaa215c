/* linux.seccomp: compile (libcontainer/seccomp.c), the cache
 * (seccomp_cache.c), install in a child process, the notify hand-off
 * (seccomp_notify.c), and the default profile of `nook spec`.  The ENOSYS
 * prologue is tested in test_seccomp_enosys.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../base/sha256.h"
#include "../../libcontainer/seccomp.h"
#include "../../libcontainer/seccomp_internal.h"
#include "../../oci/json.h"
#include "../../oci/spec.h"
#include "seccomp_test.h"

static char *compile_error(const char *json)
{
  struct oci_config *c = config_of(json);
  if (c == NULL)
    return xstrdup("(parse error)");
  struct seccomp_prog p;
  char *e = compile(c, NULL, &p);
  seccomp_prog_clear(&p);
  oci_config_free(c);
  return e;
}

#define CHECK_COMPILE_ERROR(json, want)                                                            \
  do {                                                                                             \
    cleanup_free char *_e = compile_error(json);                                                   \
    CHECK_STR_CONTAINS(_e, want);                                                                  \
  } while (0)

/* ---- compile ------------------------------------------------------------- */

TEST(compile_small_profile)
{
  struct oci_config *c = config_of(SECCOMP(
      "'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['getcwd', 'nosuchcall_xyz'], "
      "'action': 'SCMP_ACT_ERRNO', 'errnoRet': 33}]"));
  if (!CHECK(c != NULL))
    return;
  struct seccomp_prog p;
  cleanup_free char *e = compile(c, NULL, &p);
  CHECK(e == NULL);
  CHECK(p.bpf != NULL && p.len > 3 && p.len < 64);
  CHECK_INT_EQ(p.flags, 0);
  CHECK(!p.notify);
  /* The program starts by loading the architecture (seccomp_data.arch). */
  const struct sock_filter *f = p.bpf;
  CHECK(f[0].code == (BPF_LD | BPF_W | BPF_ABS) && f[0].k == 4);
  seccomp_prog_clear(&p);
  CHECK(p.bpf == NULL && p.len == 0);
  oci_config_free(c);
}

static int blocked_getcwd(int fd)
{
  char buf[64];
  long r = syscall(SYS_getcwd, buf, sizeof(buf));
  return r < 0 ? errno : 0;
}

TEST(install_errno_ret)
{
  struct oci_config *c = config_of(SECCOMP(
      "'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['getcwd'], 'action': "
      "'SCMP_ACT_ERRNO', 'errnoRet': 33}, {'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO'}]"));
  if (!CHECK(c != NULL))
    return;
  struct seccomp_prog p;
  cleanup_free char *e = compile(c, NULL, &p);
  if (CHECK(e == NULL)) {
    CHECK(exited(in_child(&p, blocked_getcwd), 33));
    CHECK(c->linux_.seccomp.syscalls[1].errno_ret == EPERM); /* the spec's default */
  }
  seccomp_prog_clear(&p);
  oci_config_free(c);
}

static int default_errno_child(int fd)
{
  /* Only exit_group is allowed: compute, then leave. */
  return probe(SYS_getppid, 0, 0);
}

TEST(default_errno_ret)
{
  struct oci_config *c = config_of(
      SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 38, 'syscalls': [{'names': "
              "['exit_group', 'exit'], 'action': 'SCMP_ACT_ALLOW'}]"));
  if (!CHECK(c != NULL))
    return;
  struct seccomp_prog p;
  cleanup_free char *e = compile(c, NULL, &p);
  if (CHECK(e == NULL))
    CHECK(exited(in_child(&p, default_errno_child), ENOSYS));
  seccomp_prog_clear(&p);
  oci_config_free(c);
}

static int kill_child(int fd)
{
  syscall(SYS_getppid);
  return 0;
}

TEST(kill_process)
{
  struct oci_config *c = config_of(SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': "
                                           "[{'names': ['getppid'], 'action': "
                                           "'SCMP_ACT_KILL_PROCESS'}]"));
  if (!CHECK(c != NULL))
    return;
  struct seccomp_prog p;
  cleanup_free char *e = compile(c, NULL, &p);
  if (CHECK(e == NULL)) {
    int st = in_child(&p, kill_child);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
  }
  seccomp_prog_clear(&p);
  oci_config_free(c);
}

/* One syscall per operator, each with its own errno. */
static const struct {
  long nr;
  const char *name, *op;
  unsigned long value, value_two;
  unsigned long blocked[3], allowed[3];
} ops[] = {
    {SYS_getppid, "getppid", "SCMP_CMP_NE", 5, 0, {4, 6, 0}, {5, 5, 5}},
    {SYS_getpgrp, "getpgrp", "SCMP_CMP_LT", 5, 0, {4, 0, 1}, {5, 6, 100}},
    {SYS_getuid, "getuid", "SCMP_CMP_LE", 5, 0, {5, 4, 0}, {6, 7, 100}},
    {SYS_geteuid, "geteuid", "SCMP_CMP_EQ", 5, 0, {5, 5, 5}, {4, 6, 0}},
    {SYS_getgid, "getgid", "SCMP_CMP_GE", 5, 0, {5, 6, 100}, {4, 0, 1}},
    {SYS_getegid, "getegid", "SCMP_CMP_GT", 5, 0, {6, 7, 100}, {5, 4, 0}},
    /* (arg & 0xf0) == 0x30 */
    {SYS_gettid, "gettid", "SCMP_CMP_MASKED_EQ", 0xf0, 0x30, {0x30, 0x31, 0x13f}, {0x40, 0x3, 0}},
};

static int ops_child(int fd)
{
  for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
    for (int k = 0; k < 3; k++) {
      if (probe(ops[i].nr, ops[i].blocked[k], 0) != (int)(100 + i))
        return (int)(10 * i + k + 1);
      if (probe(ops[i].nr, ops[i].allowed[k], 0) != 0)
        return (int)(10 * i + k + 1);
    }
  return 0;
}

TEST(arg_operators)
{
  cleanup_free char *rules = xstrdup("");
  for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
    char *r;
    xasprintf(&r,
              "%s%s{'names': ['%s'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': %zu, 'args': "
              "[{'index': 0, 'value': %lu, 'valueTwo': %lu, 'op': '%s'}]}",
              rules, i ? ", " : "", ops[i].name, 100 + i, ops[i].value, ops[i].value_two,
              ops[i].op);
    free(rules);
    rules = r;
  }
  cleanup_free char *json = NULL;
  xasprintf(&json, SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [%s]"), rules);
  struct oci_config *c = config_of(json);
  if (!CHECK(c != NULL))
    return;
  struct seccomp_prog p;
  cleanup_free char *e = compile(c, NULL, &p);
  if (CHECK(e == NULL)) {
    int st = in_child(&p, ops_child);
    CHECK_INT_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
  }
  seccomp_prog_clear(&p);
  oci_config_free(c);
}

static int combine_child(int fd)
{
  /* getppid: arg0 == 1 OR arg0 == 2 (same index). */
  if (probe(SYS_getppid, 1, 0) != EPERM || probe(SYS_getppid, 2, 0) != EPERM ||
      probe(SYS_getppid, 3, 0) != 0)
    return 1;
  /* getpgrp: arg0 == 1 AND arg1 == 2 (distinct indexes). */
  if (probe(SYS_getpgrp, 1, 2) != EPERM || probe(SYS_getpgrp, 1, 3) != 0 ||
      probe(SYS_getpgrp, 0, 2) != 0)
    return 2;
  /* getuid: [arg0 == 1, arg0 == 2, arg1 == 7]: a repeated index turns every
   * condition into its own rule, as runc and crun do. */
  if (probe(SYS_getuid, 1, 0) != EPERM || probe(SYS_getuid, 0, 7) != EPERM ||
      probe(SYS_getuid, 3, 3) != 0)
    return 3;
  return 0;
}

TEST(args_same_index_or_distinct_and)
{
  struct oci_config *c = config_of(SECCOMP(
      "'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': ["
      "{'names': ['getppid'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, "
      "'op': 'SCMP_CMP_EQ'}, {'index': 0, 'value': 2, 'op': 'SCMP_CMP_EQ'}]}, "
      "{'names': ['getpgrp'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, "
      "'op': 'SCMP_CMP_EQ'}, {'index': 1, 'value': 2, 'op': 'SCMP_CMP_EQ'}]}, "
      "{'names': ['getuid'], 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1, "
      "'op': 'SCMP_CMP_EQ'}, {'index': 0, 'value': 2, 'op': 'SCMP_CMP_EQ'}, {'index': 1, "
      "'value': 7, 'op': 'SCMP_CMP_EQ'}]}]"));
  if (!CHECK(c != NULL))
    return;
  struct seccomp_prog p;
  cleanup_free char *e = compile(c, NULL, &p);
  if (CHECK(e == NULL)) {
    int st = in_child(&p, combine_child);
    CHECK_INT_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1, 0);
  }
  seccomp_prog_clear(&p);
  oci_config_free(c);
}

TEST(rules_with_the_default_action_and_unknown_names_are_skipped)
{
  cleanup_free char *e = compile_error(
      SECCOMP("'defaultAction': 'SCMP_ACT_ERRNO', 'syscalls': [{'names': ['getcwd'], 'action': "
              "'SCMP_ACT_ERRNO', 'errnoRet': 1}, {'names': ['no_such_syscall', 'read'], 'action': "
              "'SCMP_ACT_ALLOW'}]"));
  CHECK(e == NULL);
}

TEST(compile_errors_name_the_field)
{
  /* The parser rejects most of these first; seccomp_compile checks again
   * for configs built by other means. */
  struct oci_config *c = config_of(SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW'"));
  if (CHECK(c != NULL)) {
    struct seccomp_prog p;
    c->linux_.seccomp.has_default_errno_ret = true;
    c->linux_.seccomp.default_errno_ret = 1;
    cleanup_free char *e = compile(c, NULL, &p);
    CHECK_STR_CONTAINS(e, "linux.seccomp.defaultAction: SCMP_ACT_ALLOW with defaultErrnoRet 1");
    oci_config_free(c);
  }
  CHECK_PARSE_ERROR(SECCOMP("'defaultAction': 'SCMP_ACT_KILL', 'defaultErrnoRet': 1"),
                    "linux.seccomp.defaultErrnoRet: not supported with action SCMP_ACT_KILL");
  CHECK_PARSE_ERROR(SECCOMP("'defaultAction': 'SCMP_ACT_NOPE'"),
                    "linux.seccomp.defaultAction: unknown seccomp action");
  CHECK_PARSE_ERROR(SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_Z']"),
                    "linux.seccomp.architectures[0]: unknown seccomp architecture");

  CHECK_COMPILE_ERROR(SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'flags': "
                              "['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']"),
                      "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: only applies "
                      "to SCMP_ACT_NOTIFY");
  CHECK_COMPILE_ERROR(SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x', "
                              "'syscalls': [{'names': ['getcwd', 'sendmsg'], 'action': "
                              "'SCMP_ACT_NOTIFY'}]"),
                      "linux.seccomp.syscalls[0].names[1]: SCMP_ACT_NOTIFY cannot be used for "
                      "sendmsg");
}

TEST(flags)
{
  struct oci_config *c = config_of(SECCOMP(
      "'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_TSYNC', "
      "'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'], 'syscalls': [{'names': "
      "['getcwd'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 33}]"));
  if (!CHECK(c != NULL))
    return;
  struct seccomp_prog p;
  cleanup_free char *e = compile(c, NULL, &p);
  if (CHECK(e == NULL)) {
    CHECK_INT_EQ(p.flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
                              SECCOMP_FILTER_FLAG_SPEC_ALLOW);
    CHECK(exited(in_child(&p, blocked_getcwd), 33));
  }
  seccomp_prog_clear(&p);
  oci_config_free(c);
}

/* ---- notify -------------------------------------------------------------- */

static int notify_child(int fd)
{
  if (fd < 0)
    return 1;
  int fl = fcntl(fd, F_GETFD);
  return fl >= 0 && (fl & FD_CLOEXEC) ? 0 : 2;
}

TEST(notify_install_returns_a_cloexec_listener)
{
  struct oci_config *c = config_of(
      SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/x', 'flags': "
              "['SECCOMP_FILTER_FLAG_TSYNC'], 'syscalls': [{'names': ['getppid'], 'action': "
              "'SCMP_ACT_NOTIFY'}]"));
  if (!CHECK(c != NULL))
    return;
  struct seccomp_prog p;
  cleanup_free char *e = compile(c, NULL, &p);
  if (CHECK(e == NULL)) {
    CHECK(p.notify);
    CHECK(p.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER);
    CHECK(p.flags & SECCOMP_FILTER_FLAG_TSYNC);
    CHECK(exited(in_child(&p, notify_child), 0));
  }
  seccomp_prog_clear(&p);
  oci_config_free(c);
}

static void check_process_state(const char *sock_dir, bool long_path)
{
  cleanup_free char *dir = NULL, *path = NULL;
  xasprintf(&dir, "%s/%s", sock_dir,
            long_path ? "a-directory-name-long-enough-to-push-the-socket-path-past-the-108-"
                        "bytes-of-sun_path"
                      : "d");
  mkdir(dir, 0700);
  xasprintf(&path, "%s/listener.sock", dir);
  CHECK(long_path == (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)));

  /* Listen through the directory too: bind has the same limit. */
  int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/listener.sock", dfd);
  if (!CHECK(lsock >= 0 && bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
             listen(lsock, 1) == 0))
    return;

  struct oci_config *c = config_of(SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': "
                                           "'/x', 'listenerMetadata': 'meta \\'quoted\\'', "
                                           "'syscalls': [{'names': ['getppid'], 'action': "
                                           "'SCMP_ACT_NOTIFY'}]"));
  if (!CHECK(c != NULL)) {
    close(lsock);
    return;
  }
  free(c->linux_.seccomp.listener_path);
  c->linux_.seccomp.listener_path = xstrdup(path);
  int pipefd[2];
  CHECK(pipe2(pipefd, O_CLOEXEC) == 0);
  nook_error_t err = NULL;
  const char *state = "{\"ociVersion\":\"1.3.0\",\"id\":\"c1\",\"status\":\"creating\","
                      "\"pid\":42,\"bundle\":\"/b\"}";
  int r = seccomp_send_notify_fd(&c->linux_.seccomp, pipefd[1], state, 42, &err);
  if (r < 0)
    printf("  %s\n", err->msg);
  nook_error_free(&err);
  CHECK(r == 0);

  int conn = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
  char buf[4096] = "";
  union {
    char b[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {buf, sizeof(buf) - 1};
  struct msghdr mh = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b)};
  ssize_t n = conn >= 0 ? recvmsg(conn, &mh, MSG_CMSG_CLOEXEC) : -1;
  CHECK(n > 0);
  struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
  int got = -1;
  if (CHECK(cm != NULL && cm->cmsg_type == SCM_RIGHTS))
    memcpy(&got, CMSG_DATA(cm), sizeof(int));
  /* The fd is the pipe's write end: what goes in comes out of ours. */
  if (CHECK(got >= 0)) {
    char x = 0;
    CHECK(write(got, "!", 1) == 1 && read(pipefd[0], &x, 1) == 1 && x == '!');
    close(got);
  }
  /* One message, then EOF. */
  char more;
  CHECK(conn >= 0 && read(conn, &more, 1) == 0);

  struct json_doc *doc = NULL;
  const struct json_value *root = NULL;
  if (CHECK(n > 0 && json_parse(buf, (size_t)n, "state", &doc, &root, &err) == 0)) {
    const struct json_value *v = json_get(root, "ociVersion");
    CHECK(v && v->type == JSON_STRING && strcmp(v->u.str, "1.3.0") == 0);
    v = json_get(root, "fds");
    CHECK(v && v->type == JSON_ARRAY && v->len == 1 &&
          strcmp(v->u.items[0].u.str, "seccompFd") == 0);
    v = json_get(root, "pid");
    CHECK(v && v->type == JSON_NUMBER && strcmp(v->u.str, "42") == 0);
    v = json_get(root, "metadata");
    CHECK(v && v->type == JSON_STRING && strcmp(v->u.str, "meta \"quoted\"") == 0);
    v = json_get(json_get(root, "state"), "id");
    CHECK(v && v->type == JSON_STRING && strcmp(v->u.str, "c1") == 0);
  }
  nook_error_free(&err);
  json_doc_free(doc);
  close(pipefd[0]);
  close(pipefd[1]);
  if (conn >= 0)
    close(conn);
  close(lsock);
  unlink(path);
  rmdir(dir);
  oci_config_free(c);
}

TEST(notify_sends_fd_and_process_state)
{
  char tmp[] = "/tmp/nook-seccomp-XXXXXX";
  if (!CHECK(mkdtemp(tmp) != NULL))
    return;
  check_process_state(tmp, false);
  check_process_state(tmp, true);
  rmdir(tmp);
}

TEST(notify_connect_error_names_the_field)
{
  struct oci_config *c = config_of(
      SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '/nonexistent/nook.sock', "
              "'syscalls': [{'names': ['getppid'], 'action': 'SCMP_ACT_NOTIFY'}]"));
  if (!CHECK(c != NULL))
    return;
  nook_error_t err = NULL;
  CHECK(seccomp_send_notify_fd(&c->linux_.seccomp, 0, "{}", 1, &err) < 0);
  cleanup_free char *t = nook_error_text(err);
  CHECK_STR_CONTAINS(t, "linux.seccomp.listenerPath: connect to `/nonexistent/nook.sock`");
  nook_error_free(&err);
  oci_config_free(c);
}

/* ---- the default profile ------------------------------------------------- */

static struct oci_config *default_spec(void)
{
  cleanup_free char *json = oci_default_spec(false, false, 0, 0, true);
  struct oci_config *c = NULL;
  nook_error_t err = NULL;
  if (oci_config_parse(json, strlen(json), "config.json", &c, &err) < 0) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    return NULL;
  }
  return c;
}

TEST(default_profile_shape)
{
  struct oci_config *c = default_spec();
  if (!CHECK(c != NULL && c->linux_.has_seccomp))
    return;
  const struct oci_seccomp *s = &c->linux_.seccomp;
  CHECK(s->default_action == SCMP_ACT_ERRNO(0) && s->default_errno_ret == EPERM);
#if defined(__x86_64__)
  CHECK(s->n_architectures == 3 && s->architectures[0] == SCMP_ARCH_X86_64 &&
        s->architectures[1] == SCMP_ARCH_X86 && s->architectures[2] == SCMP_ARCH_X32);
#endif
  CHECK(s->syscalls[0].action == SCMP_ACT_ALLOW);
  CHECK(s->syscalls[0].n_names >= 330);
  bool clone3 = false;
  for (size_t i = 0; i < s->n_syscalls; i++)
    for (size_t j = 0; j < s->syscalls[i].n_names; j++) {
      const char *n = s->syscalls[i].names[j];
      if (strcmp(n, "clone3") == 0)
        clone3 = s->syscalls[i].action == SCMP_ACT_ERRNO(0) && s->syscalls[i].errno_ret == ENOSYS;
      /* Nothing that needs capabilities the default spec does not grant. */
      CHECK(strcmp(n, "mount") != 0 && strcmp(n, "unshare") != 0 && strcmp(n, "setns") != 0 &&
            strcmp(n, "bpf") != 0 && strcmp(n, "keyctl") != 0 && strcmp(n, "reboot") != 0 &&
            strcmp(n, "init_module") != 0 && strcmp(n, "pivot_root") != 0);
    }
  CHECK(clone3);
  oci_config_free(c);
}

static int default_profile_child(int fd)
{
  if (probe(SYS_getpid, 0, 0) != 0)
    return 1;
  if (syscall(SYS_unshare, CLONE_NEWNS) == 0 || errno != EPERM)
    return 2;
  if (syscall(SYS_mount, "x", "/", "tmpfs", 0, NULL) == 0 || errno != EPERM)
    return 3;
  if (syscall(SYS_clone3, NULL, 0) == 0 || errno != ENOSYS)
    return 4;
  if (syscall(SYS_personality, 0xffffffffUL) < 0)
    return 5;
  if (syscall(SYS_personality, 0x0040000UL /* ADDR_NO_RANDOMIZE */) == 0 || errno != EPERM)
    return 6;
  /* Namespace flags on clone are refused; a plain fork works. */
  if (syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0) >= 0 || errno != EPERM)
    return 7;
  pid_t pid = fork();
  if (pid == 0)
    _exit(0);
  int st;
  if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
    return 8;
  return 0;
}

static double ms_since(const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

TEST(default_profile_compiles_and_confines)
{
  struct oci_config *c = default_spec();
  if (!CHECK(c != NULL))
    return;
  /* What nook adds to each run without a cache: the libseccomp compile. */
  enum { RUNS = 20 };
  double best = 1e9, total = 0;
  struct seccomp_prog p = {0};
  for (int i = 0; i < RUNS; i++) {
    seccomp_prog_clear(&p);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cleanup_free char *e = compile(c, NULL, &p);
    double ms = ms_since(&t0);
    if (!CHECK(e == NULL)) {
      printf("  %s\n", e);
      break;
    }
    total += ms;
    best = ms < best ? ms : best;
  }
  printf("  default profile: %zu instructions, compile %.3f ms (best of %d), %.3f ms mean\n", p.len,
         best, RUNS, total / RUNS);
  CHECK(p.len > 100 && p.len <= 4096);
  CHECK_INT_EQ(p.flags, 0);
  if (p.bpf != NULL) {
    int st = in_child(&p, default_profile_child);
    CHECK_INT_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : -1000 - WTERMSIG(st), 0);
  }
  seccomp_prog_clear(&p);
  oci_config_free(c);
}

TEST(default_profile_rootless)
{
  cleanup_free char *json = oci_default_spec(true, false, 1000, 1000, true);
  CHECK_STR_CONTAINS(json, "\"seccomp\": {");
  CHECK_STR_CONTAINS(json, "\"defaultErrnoRet\": 1");
}

/* ---- cache --------------------------------------------------------------- */

static char *cache_file(const char *dir)
{
  DIR *d = opendir(dir);
  char *found = NULL;
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL)
    if (strlen(de->d_name) == 64) {
      free(found);
      xasprintf(&found, "%s/%s", dir, de->d_name);
    }
  if (d != NULL)
    closedir(d);
  return found;
}

static bool same_prog(const struct seccomp_prog *a, const struct seccomp_prog *b)
{
  return a->len == b->len && a->flags == b->flags && a->notify == b->notify &&
         memcmp(a->bpf, b->bpf, a->len * sizeof(struct sock_filter)) == 0;
}

/* Replace the cached program of `file` with `len` instructions of `with`,
 * header and checksum kept consistent: a file only the trust checks reject. */
static void forge(const char *file, const struct seccomp_prog *with)
{
  size_t len;
  cleanup_free char *data = NULL;
  nook_error_t err = NULL;
  if (read_file_at(AT_FDCWD, file, &data, &len, &err) < 0) {
    nook_error_free(&err);
    return;
  }
  const size_t hdr = 56; /* magic 8, format 4, len 4, key 32, checksum 8 */
  cleanup_free char *out = xmalloc(hdr + with->len * 8);
  memcpy(out, data, hdr);
  uint32_t n = (uint32_t)with->len;
  memcpy(out + 12, &n, 4);
  uint64_t sum = seccomp_cache_checksum(with->bpf, with->len);
  memcpy(out + 48, &sum, 8);
  memcpy(out + hdr, with->bpf, with->len * 8);
  unlink(file);
  CHECK(write_file_at(AT_FDCWD, file, O_CREAT | O_EXCL, 0600, out, hdr + with->len * 8, &err) == 0);
  nook_error_free(&err);
}

/* The cache tests' two profiles, the default and a one-rule one, each with
 * its program compiled without a cache: what a cached one must equal. */
static bool two_profiles(struct oci_config **c, struct oci_config **other,
                         struct seccomp_prog *fresh, struct seccomp_prog *small)
{
  *c = default_spec();
  *other = config_of(SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': "
                             "[{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO'}]"));
  if (!CHECK(*c != NULL && *other != NULL))
    return false;
  CHECK(compile(*c, NULL, fresh) == NULL);
  CHECK(compile(*other, NULL, small) == NULL);
  return true;
}

TEST(cache)
{
  char root[] = "/tmp/nook-seccomp-cache-XXXXXX";
  if (!CHECK(mkdtemp(root) != NULL))
    return;
  struct oci_config *c, *other;
  struct seccomp_prog fresh = {0}, p = {0}, small = {0};
  if (!two_profiles(&c, &other, &fresh, &small))
    return;

  /* A miss compiles and stores; a hit returns the same program, faster. */
  CHECK(compile(c, root, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  cleanup_free char *file = cache_file(root);
  struct stat st;
  if (!CHECK(file != NULL && stat(file, &st) == 0))
    return;
  CHECK((st.st_mode & 07777) == 0600 && st.st_uid == geteuid());
  const char *dir = root;
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK(compile(c, root, &p) == NULL);
  double hit_ms = ms_since(&t0);
  printf("  default profile from the cache: %.3f ms\n", hit_ms);
  CHECK(same_prog(&p, &fresh));
  seccomp_prog_clear(&p);

  /* A consistent file is used (this is what makes it a cache)... */
  forge(file, &small);
  CHECK(compile(c, root, &p) == NULL && p.len == small.len);
  seccomp_prog_clear(&p);
  /* ...unless someone else owns it or may write it. */
  if (geteuid() == 0) {
    CHECK(chown(file, 1000, 1000) == 0);
    CHECK(compile(c, root, &p) == NULL && same_prog(&p, &fresh));
    seccomp_prog_clear(&p);
  }
  forge(file, &small);
  CHECK(chmod(file, 0622) == 0);
  CHECK(compile(c, root, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  /* A second name (hard link), a symlink, a corrupt body: all misses. */
  forge(file, &small);
  cleanup_free char *link2 = NULL;
  xasprintf(&link2, "%s/other", dir);
  CHECK(link(file, link2) == 0);
  CHECK(compile(c, root, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  unlink(link2);
  forge(file, &small);
  CHECK(rename(file, link2) == 0 && symlink(link2, file) == 0);
  CHECK(compile(c, root, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  unlink(link2);
  unlink(file);
  CHECK(compile(c, root, &p) == NULL && same_prog(&p, &fresh)); /* stores again */
  seccomp_prog_clear(&p);
  {
    cleanup_close int fd = open(file, O_WRONLY | O_CLOEXEC);
    CHECK(fd >= 0 && pwrite(fd, "\xff", 1, 100) == 1);
  }
  CHECK(compile(c, root, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  /* A directory others may write is not used at all, nor one below a
   * directory others may write (a sticky one excepted: /tmp holds root). */
  forge(file, &small);
  CHECK(chmod(dir, 0777) == 0);
  CHECK(compile(c, root, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  CHECK(chmod(dir, 0700) == 0);
  cleanup_free char *below = NULL;
  xasprintf(&below, "%s/sub/cache", root);
  CHECK(compile(c, below, &p) == NULL && same_prog(&p, &fresh)); /* made, stored */
  seccomp_prog_clear(&p);
  cleanup_free char *below_file = cache_file(below);
  if (CHECK(below_file != NULL))
    forge(below_file, &small);
  CHECK(compile(c, below, &p) == NULL && p.len == small.len); /* trusted: used */
  seccomp_prog_clear(&p);
  cleanup_free char *sub = NULL;
  xasprintf(&sub, "%s/sub", root);
  CHECK(chmod(sub, 0777) == 0);
  CHECK(compile(c, below, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  CHECK(chmod(sub, 01777) == 0); /* sticky: others cannot move `cache` */
  CHECK(compile(c, below, &p) == NULL && p.len == small.len);
  seccomp_prog_clear(&p);
  /* Only a plain absolute path names a cache. */
  static const char *const odd[] = {"/", "relative", "/tmp/./x", "/tmp/x/.."};
  for (size_t i = 0; i < ARRAY_SIZE(odd); i++) {
    CHECK(compile(c, odd[i], &p) == NULL && same_prog(&p, &fresh));
    seccomp_prog_clear(&p);
  }
  cleanup_free char *in_root = cache_file("/");
  CHECK(in_root == NULL);
  /* A symlink in the path is not followed. */
  cleanup_free char *via = NULL;
  xasprintf(&via, "%s/via", root);
  CHECK(symlink(sub, via) == 0);
  cleanup_free char *via_cache = NULL;
  xasprintf(&via_cache, "%s/cache", via);
  CHECK(compile(c, via_cache, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  /* Errors are still reported with a cache. */
  c->linux_.seccomp.flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  cleanup_free char *e = compile(c, root, &p);
  CHECK_STR_CONTAINS(e, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV");

  seccomp_prog_clear(&fresh);
  seccomp_prog_clear(&small);
  oci_config_free(c);
  oci_config_free(other);
  cleanup_free char *cmd = NULL;
  xasprintf(&cmd, "rm -rf '%s'", root);
  CHECK(system(cmd) == 0);
}

TEST(cache_dir)
{
  /* root's is the host's; a rootless user's is under their own cache home */
  unsetenv("NOOK_SECCOMP_CACHE");
  setenv("XDG_CACHE_HOME", "/x/cache", 1);
  setenv("HOME", "/home/u", 1);
  cleanup_free char *root = seccomp_cache_dir(false);
  cleanup_free char *user = seccomp_cache_dir(true);
  CHECK_STR_EQ(root, "/var/cache/nook/seccomp");
  CHECK_STR_EQ(user, "/x/cache/nook/seccomp");
  setenv("XDG_CACHE_HOME", "relative", 1); /* not absolute: ignored, as the spec says */
  cleanup_free char *home = seccomp_cache_dir(true);
  CHECK_STR_EQ(home, "/home/u/.cache/nook/seccomp");
  unsetenv("XDG_CACHE_HOME");
  unsetenv("HOME");
  CHECK(seccomp_cache_dir(true) == NULL);
  setenv("NOOK_SECCOMP_CACHE", "/t/c", 1);
  cleanup_free char *env = seccomp_cache_dir(false);
  CHECK_STR_EQ(env, "/t/c");
  setenv("NOOK_SECCOMP_CACHE", "off", 1);
  CHECK(seccomp_cache_dir(false) == NULL && seccomp_cache_dir(true) == NULL);
  unsetenv("NOOK_SECCOMP_CACHE");
}

/* VM mode: the host seeds the share's cache, the guest imports it. */
TEST(cache_seed_and_import)
{
  char tmp[] = "/tmp/nook-seccomp-seed-XXXXXX";
  if (!CHECK(mkdtemp(tmp) != NULL))
    return;
  cleanup_free char *host = NULL, *share = NULL, *seed = NULL, *guest = NULL, *guest2 = NULL;
  xasprintf(&host, "%s/host", tmp);
  xasprintf(&share, "%s/share", tmp);
  xasprintf(&seed, "%s/.seccomp~cache", share);
  xasprintf(&guest, "%s/guest", tmp);
  xasprintf(&guest2, "%s/guest2", tmp);
  CHECK(mkdir(share, 0711) == 0);
  struct oci_config *c, *other;
  struct seccomp_prog fresh = {0}, p = {0}, small = {0};
  if (!two_profiles(&c, &other, &fresh, &small))
    return;

  /* Compiled through the host's cache into the share's. */
  seccomp_cache_seed(&c->linux_.seccomp, host, seed);
  cleanup_free char *in_host = cache_file(host), *in_share = cache_file(seed);
  if (!CHECK(in_host != NULL && in_share != NULL))
    return;
  /* The import is what the guest's compile then finds: a consistent
   * program there (forged to tell it from a compile) is used. */
  forge(in_share, &small);
  seccomp_cache_import(seed, guest);
  cleanup_free char *in_guest = cache_file(guest);
  CHECK(in_guest != NULL);
  CHECK(compile(c, guest, &p) == NULL && p.len == small.len);
  seccomp_prog_clear(&p);
  /* Only a verified entry is copied: not one others may write. */
  CHECK(chmod(in_share, 0622) == 0);
  seccomp_cache_import(seed, guest2);
  cleanup_free char *in_guest2 = cache_file(guest2);
  CHECK(in_guest2 == NULL);
  CHECK(compile(c, guest2, &p) == NULL && same_prog(&p, &fresh));
  seccomp_prog_clear(&p);
  /* A profile the host cannot compile seeds nothing (and says nothing):
   * the guest's create reports it. */
  cleanup_free char *cmd = NULL;
  xasprintf(&cmd, "rm -rf '%s'", seed);
  CHECK(system(cmd) == 0);
  c->linux_.seccomp.flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  seccomp_cache_seed(&c->linux_.seccomp, host, seed);
  cleanup_free char *none = cache_file(seed);
  CHECK(none == NULL);

  seccomp_prog_clear(&fresh);
  seccomp_prog_clear(&small);
  oci_config_free(c);
  oci_config_free(other);
  free(cmd);
  xasprintf(&cmd, "rm -rf '%s'", tmp);
  CHECK(system(cmd) == 0);
}

TEST(cache_is_bounded)
{
  char root[] = "/tmp/nook-seccomp-cache-XXXXXX";
  if (!CHECK(mkdtemp(root) != NULL))
    return;
  /* 300 stale entries and 3 precompiled (read-only) ones: the next store
   * drops stale ones, never the precompiled. */
  for (int i = 0; i < 303; i++) {
    cleanup_free char *f = NULL;
    xasprintf(&f, "%s/%s-%d", root, i < 300 ? "stale" : "pinned", i);
    nook_error_t err = NULL;
    CHECK(write_file_at(AT_FDCWD, f, O_CREAT | O_EXCL, i < 300 ? 0600 : 0400, "x", 1, &err) == 0);
    nook_error_free(&err);
  }
  struct oci_config *c = config_of(SECCOMP("'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': "
                                           "[{'names': ['getcwd'], 'action': 'SCMP_ACT_ERRNO'}]"));
  struct seccomp_prog p = {0};
  CHECK(c != NULL && compile(c, root, &p) == NULL);
  seccomp_prog_clear(&p);
  oci_config_free(c);
  DIR *d = opendir(root);
  int n = 0, pinned = 0, entries = 0;
  struct dirent *de;
  while (d != NULL && (de = readdir(d)) != NULL) {
    n += de->d_name[0] != '.';
    pinned += strncmp(de->d_name, "pinned-", 7) == 0;
    entries += strlen(de->d_name) == 64;
  }
  if (d != NULL)
    closedir(d);
  CHECK_INT_EQ(pinned, 3);
  CHECK_INT_EQ(entries, 1);
  CHECK(n <= 256 - 100);
  cleanup_free char *cmd = NULL;
  xasprintf(&cmd, "rm -rf '%s'", root);
  CHECK(system(cmd) == 0);
}

TEST(sha256_vectors)
{
  static const struct {
    const char *in, *hex;
  } v[] = {
      {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
      {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
  };
  for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
    struct sha256 c;
    uint8_t d[SHA256_DIGEST_LEN];
    char hex[2 * SHA256_DIGEST_LEN + 1];
    sha256_init(&c);
    /* In odd pieces, to cross block boundaries. */
    for (const char *p = v[i].in; *p; p++)
      sha256_update(&c, p, 1);
    sha256_final(&c, d);
    sha256_hex(d, hex);
    CHECK_STR_EQ(hex, v[i].hex);
  }
}
