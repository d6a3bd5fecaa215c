/* vmm/channel.c: framed, named, checked messages over a byte stream (a
 * SOCK_STREAM socketpair standing in for the virtio-serial port). */
#include "unit.h"

#include <ctype.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../base/utils.h"
#include "../../cgroups/internal.h"
#include "../../cgroups/stats_json.h"
#include "../../vmm/channel.h"
#include "../../vmm/stats_wire.h"

#define TYPE(x)                                                                                    \
  {                                                                                                \
    CHAN_##x, #x                                                                                   \
  }
static const struct {
  enum chan_type type;
  const char *enum_name;
} types[] = {
    TYPE(READY),  TYPE(EXEC),   TYPE(STDOUT),  TYPE(STDERR), TYPE(EXIT),   TYPE(POWEROFF),
    TYPE(SIGNAL), TYPE(ERROR),  TYPE(CREATE),  TYPE(START),  TYPE(KILL),   TYPE(STATE),
    TYPE(STDIN),  TYPE(OK),     TYPE(WINSIZE), TYPE(ACK),    TYPE(NOOK),   TYPE(CTR_EXEC),
    TYPE(STATS),  TYPE(PARKED), TYPE(UNPARK),  TYPE(NET),    TYPE(MEMBER),
};

static bool pair(int sv[2])
{
  return CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
}

TEST(wire_names_are_enum_names)
{
  CHECK_INT_EQ(sizeof(types) / sizeof(types[0]), CHAN_TYPE_MAX);
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
    char want[32];
    size_t n = 0;
    for (const char *c = types[i].enum_name; *c && n < sizeof(want) - 1; c++)
      want[n++] = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
    want[n] = '\0';
    CHECK_STR_EQ(chan_type_name(types[i].type), want);
  }
  CHECK_STR_EQ(chan_type_name((enum chan_type)(CHAN_TYPE_MAX + 1)), "unknown");
  CHECK_STR_EQ(chan_type_name((enum chan_type)0), "unknown");
}

TEST(messages_arrive_whole_and_in_order)
{
  int sv[2];
  if (!pair(sv))
    return;
  nook_error_t err = NULL;
  static const char argv[] = "/bin/echo\0hello\0";
  CHECK_INT_EQ(chan_send(sv[0], CHAN_READY, 0, "6.1.0-28-amd64", 14, &err), 0);
  CHECK_INT_EQ(chan_send(sv[0], CHAN_EXEC, 0, argv, sizeof(argv) - 1, &err), 0);
  CHECK_INT_EQ(chan_send(sv[0], CHAN_EXIT, 137, NULL, 0, &err), 0);
  struct chan_msg *m = malloc(sizeof(*m));
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_READY), m, &err), 0);
  CHECK_INT_EQ(m->type, CHAN_READY);
  CHECK_STR_EQ(m->data, "6.1.0-28-amd64");
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_EXEC), m, &err), 0);
  CHECK_INT_EQ(m->len, sizeof(argv) - 1);
  CHECK(memcmp(m->data, argv, sizeof(argv) - 1) == 0);
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_STDOUT) | CHAN_BIT(CHAN_EXIT), m, &err), 0);
  CHECK_INT_EQ(m->type, CHAN_EXIT);
  CHECK_INT_EQ(m->value, 137);
  CHECK_INT_EQ(m->len, 0);
  CHECK(err == NULL);
  free(m);
  close(sv[0]);
  close(sv[1]);
}

static void check_mismatch(enum chan_type sent, unsigned expect, const char *want)
{
  int sv[2];
  if (!pair(sv))
    return;
  nook_error_t err = NULL;
  struct chan_msg *m = malloc(sizeof(*m));
  CHECK_INT_EQ(chan_send(sv[0], sent, 0, NULL, 0, &err), 0);
  CHECK(chan_recv(sv[1], expect, m, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, want);
  CHECK_INT_EQ(err ? err->status : -1, EPROTO);
  nook_error_free(&err);
  free(m);
  close(sv[0]);
  close(sv[1]);
}

TEST(an_unexpected_type_names_both)
{
  check_mismatch(CHAN_EXIT, CHAN_BIT(CHAN_READY), "channel: expected ready, got exit");
  check_mismatch(CHAN_READY, CHAN_BIT(CHAN_STDOUT) | CHAN_BIT(CHAN_EXIT),
                 "channel: expected stdout or exit, got ready");
  check_mismatch(CHAN_POWEROFF, CHAN_BIT(CHAN_STDOUT) | CHAN_BIT(CHAN_STDERR) | CHAN_BIT(CHAN_EXIT),
                 "channel: expected stdout, stderr or exit, got poweroff");
}

TEST(an_error_carries_errno_and_message)
{
  int sv[2];
  if (!pair(sv))
    return;
  nook_error_t cause = NULL, err = NULL;
  nook_error(&cause, ENOENT, "exec `/bin/nope`");
  chan_send_error(sv[0], cause);
  struct chan_msg *m = malloc(sizeof(*m));
  CHECK(chan_recv(sv[1], CHAN_BIT(CHAN_EXIT), m, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "exec `/bin/nope`");
  CHECK_INT_EQ(err ? err->status : -1, ENOENT);
  nook_error_free(&err);
  /* Asked for, an error is a message like any other. */
  chan_send_error(sv[0], cause);
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_ERROR), m, &err), 0);
  CHECK_INT_EQ(m->value, ENOENT);
  nook_error_free(&cause);
  free(m);
  close(sv[0]);
  close(sv[1]);
}

TEST(eof_and_bad_frames_are_errors)
{
  int sv[2];
  if (!pair(sv))
    return;
  nook_error_t err = NULL;
  struct chan_msg *m = malloc(sizeof(*m));
  close(sv[0]);
  CHECK(chan_recv(sv[1], CHAN_BIT(CHAN_READY), m, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "channel: closed by the other side while waiting for ready");
  nook_error_free(&err);
  close(sv[1]);

  /* Console noise on the port is not a frame. */
  if (!pair(sv))
    return;
  CHECK(write(sv[0], "login: root\n...........", 24) == 24);
  CHECK(chan_recv(sv[1], CHAN_BIT(CHAN_READY), m, &err) < 0);
  CHECK_STR_CONTAINS(err ? err->msg : NULL, "channel: not a frame (magic ");
  nook_error_free(&err);
  close(sv[0]);
  close(sv[1]);

  /* A length beyond the limit is refused before reading it. */
  if (!pair(sv))
    return;
  uint32_t big[4] = {CHAN_MAGIC, CHAN_STDOUT, 0, CHAN_MAX_DATA + 1};
  CHECK(write(sv[0], big, sizeof(big)) == sizeof(big));
  CHECK(chan_recv(sv[1], CHAN_BIT(CHAN_STDOUT), m, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL,
               "channel: a 65537-byte stdout while waiting for stdout (at most 65536)");
  nook_error_free(&err);
  /* ... and so is sending one. */
  CHECK(chan_send(sv[0], CHAN_STDOUT, 0, m->data, CHAN_MAX_DATA + 1, &err) < 0);
  CHECK_INT_EQ(err ? err->status : -1, EMSGSIZE);
  nook_error_free(&err);
  close(sv[0]);
  close(sv[1]);

  /* The peer dies in the middle of a frame. */
  if (!pair(sv))
    return;
  uint32_t cut[4] = {CHAN_MAGIC, CHAN_STDOUT, 0, 10};
  CHECK(write(sv[0], cut, sizeof(cut)) == sizeof(cut));
  CHECK(write(sv[0], "abc", 3) == 3);
  close(sv[0]);
  CHECK(chan_recv(sv[1], CHAN_BIT(CHAN_STDOUT), m, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL,
               "channel: the stream ended inside a message while waiting for stdout");
  nook_error_free(&err);
  close(sv[1]);
  free(m);
}

TEST(a_frame_split_across_reads_is_reassembled)
{
  int sv[2];
  if (!pair(sv))
    return;
  /* Another process writes a frame a byte at a time. */
  static const char payload[] = "hello, guest";
  pid_t pid = fork();
  if (pid == 0) {
    char frame[16 + sizeof(payload)];
    uint32_t head[4] = {CHAN_MAGIC, CHAN_STDOUT, 7, sizeof(payload) - 1};
    memcpy(frame, head, sizeof(head));
    memcpy(frame + sizeof(head), payload, sizeof(payload) - 1);
    for (size_t i = 0; i < sizeof(head) + sizeof(payload) - 1; i++) {
      if (write(sv[0], &frame[i], 1) != 1)
        _exit(1);
      usleep(500);
    }
    _exit(0);
  }
  close(sv[0]);
  nook_error_t err = NULL;
  struct chan_msg *m = malloc(sizeof(*m));
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_STDOUT), m, &err), 0);
  CHECK_INT_EQ(m->value, 7);
  CHECK_STR_EQ(m->data, payload);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  free(m);
  close(sv[1]);
}

TEST(an_exec_request_round_trips)
{
  char *env[] = {"PATH=/bin", "A=", NULL};
  char *argv[] = {"sh", "-c", "", "x y", NULL};
  struct chan_exec e = {.root = "/mnt/rootfs", .cwd = "/tmp", .env = env, .argv = argv};
  char *buf = NULL;
  size_t len = 0;
  nook_error_t err = NULL;
  if (!CHECK_INT_EQ(chan_exec_encode(&e, &buf, &len, &err), 0))
    return;
  struct chan_exec d;
  char **denv = NULL, **dargv = NULL;
  CHECK_INT_EQ(chan_exec_decode(buf, len, &d, &denv, &dargv, &err), 0);
  CHECK_STR_EQ(d.root, "/mnt/rootfs");
  CHECK_STR_EQ(d.cwd, "/tmp");
  CHECK(denv[0] && strcmp(denv[0], "PATH=/bin") == 0 && denv[1] && strcmp(denv[1], "A=") == 0 &&
        denv[2] == NULL);
  /* An empty argument stays an argument. */
  CHECK(dargv[0] && strcmp(dargv[0], "sh") == 0 && dargv[2] && dargv[2][0] == '\0' && dargv[3] &&
        strcmp(dargv[3], "x y") == 0 && dargv[4] == NULL);
  free(denv);
  free(dargv);
  free(buf);

  /* No environment at all. */
  e.env = NULL;
  CHECK_INT_EQ(chan_exec_encode(&e, &buf, &len, &err), 0);
  CHECK_INT_EQ(chan_exec_decode(buf, len, &d, &denv, &dargv, &err), 0);
  CHECK(denv[0] == NULL);
  CHECK_STR_EQ(dargv[0], "sh");
  free(denv);
  free(dargv);
  free(buf);
}

TEST(bad_exec_requests_are_refused)
{
  nook_error_t err = NULL;
  char *buf = NULL;
  size_t len;
  char *none[] = {NULL};
  char *argv[] = {"true", NULL};
  char *empty_env[] = {"", NULL};
  struct chan_exec e = {.root = "/", .cwd = "/", .argv = none};
  CHECK(chan_exec_encode(&e, &buf, &len, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "exec: no command");
  nook_error_free(&err);
  e = (struct chan_exec){.root = "rel", .cwd = "/", .argv = argv};
  CHECK(chan_exec_encode(&e, &buf, &len, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "exec: root and cwd must be absolute");
  nook_error_free(&err);
  e = (struct chan_exec){.root = "/", .cwd = "/", .env = empty_env, .argv = argv};
  CHECK(chan_exec_encode(&e, &buf, &len, &err) < 0);
  nook_error_free(&err);

  struct chan_exec d;
  char **env = NULL, **av = NULL;
  static const char no_nul[] = {'/', 0, '/', 0, 0, 't'};
  CHECK(chan_exec_decode(no_nul, sizeof(no_nul), &d, &env, &av, &err) < 0);
  nook_error_free(&err);
  static const char no_cmd[] = "/\0/\0A=1\0";
  CHECK(chan_exec_decode(no_cmd, sizeof(no_cmd), &d, &env, &av, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "exec: a malformed request (no command)");
  nook_error_free(&err);
  static const char rel[] = "x\0/\0\0true";
  CHECK(chan_exec_decode(rel, sizeof(rel), &d, &env, &av, &err) < 0);
  nook_error_free(&err);
  CHECK(buf == NULL);
}

TEST(a_nook_request_round_trips_with_its_stdin)
{
  char *argv[] = {"update", "-r", "-", "ctr", NULL};
  static const char in[] = "{\"pids\":{\"limit\":5}}\0\0x";
  struct chan_nook n = {.argv = argv, .in = in, .in_len = sizeof(in) - 1};
  char *buf = NULL;
  size_t len = 0;
  nook_error_t err = NULL;
  if (!CHECK_INT_EQ(chan_nook_encode(&n, &buf, &len, &err), 0))
    return;
  struct chan_nook d;
  char **dargv = NULL;
  CHECK_INT_EQ(chan_nook_decode(buf, len, &d, &dargv, &err), 0);
  CHECK(dargv[0] && strcmp(dargv[0], "update") == 0 && dargv[3] && strcmp(dargv[3], "ctr") == 0 &&
        dargv[4] == NULL);
  /* The input keeps its NULs: the first empty string ends the arguments. */
  CHECK_INT_EQ(d.in_len, sizeof(in) - 1);
  CHECK(d.in_len == sizeof(in) - 1 && memcmp(d.in, in, d.in_len) == 0);
  free(dargv);
  free(buf);

  /* No input. */
  n.in = NULL;
  n.in_len = 0;
  CHECK_INT_EQ(chan_nook_encode(&n, &buf, &len, &err), 0);
  CHECK_INT_EQ(chan_nook_decode(buf, len, &d, &dargv, &err), 0);
  CHECK_INT_EQ(d.in_len, 0);
  CHECK_STR_EQ(dargv[0], "update");
  free(dargv);
  free(buf);
}

TEST(bad_nook_requests_are_refused)
{
  nook_error_t err = NULL;
  char *buf = NULL;
  size_t len;
  char *none[] = {NULL};
  char *empty[] = {"ps", "", NULL};
  struct chan_nook n = {.argv = none};
  CHECK(chan_nook_encode(&n, &buf, &len, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "nook: no command");
  nook_error_free(&err);
  n.argv = empty;
  CHECK(chan_nook_encode(&n, &buf, &len, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "nook: an empty argument");
  nook_error_free(&err);
  CHECK(buf == NULL);
  struct chan_nook d;
  char **av = NULL;
  static const char unterminated[] = {'p', 's', 0, 'x'};
  CHECK(chan_nook_decode(unterminated, sizeof(unterminated), &d, &av, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "nook: a malformed request");
  nook_error_free(&err);
  static const char no_cmd[] = {0, 0};
  CHECK(chan_nook_decode(no_cmd, sizeof(no_cmd), &d, &av, &err) < 0);
  nook_error_free(&err);
}

TEST(a_ctr_exec_request_round_trips_and_takes_its_id)
{
  char *env[] = {"A=", "B=x=y"};
  char *caps[] = {"CAP_SYS_ADMIN"};
  char *args[] = {"sh", "-c", ""};
  /* The host's own fields never travel; the id does (the VM's container
   * or a pod member beside it). */
  struct chan_ctr_exec e = {.flags = CHAN_CTR_EXEC_TTY,
                            .opts = {.root = "/run/host",
                                     .id = "c1",
                                     .pid_file = "/host/pid",
                                     .detach = true,
                                     .cwd = "/tmp",
                                     .env = env,
                                     .n_env = 2,
                                     .tty = true,
                                     .user = "tester:tester",
                                     .caps = caps,
                                     .n_caps = 1,
                                     .no_new_privs = true,
                                     .console_height = 25,
                                     .console_width = 90,
                                     .args = args,
                                     .n_args = 3}};
  char *buf = NULL;
  size_t len = 0;
  nook_error_t err = NULL;
  if (!CHECK_INT_EQ(chan_ctr_exec_encode(&e, &buf, &len, &err), 0))
    return;
  chan_ctr_exec_set_proc(buf, len, 42);
  struct chan_ctr_exec d;
  CHECK_INT_EQ(chan_ctr_exec_decode(buf, len, &d, &err), 0);
  CHECK_INT_EQ(d.proc, 42);
  CHECK_INT_EQ(d.flags, CHAN_CTR_EXEC_TTY);
  CHECK(d.process == NULL);
  CHECK(d.opts.root == NULL && d.opts.pid_file == NULL && !d.opts.detach);
  CHECK_STR_EQ(d.opts.id, "c1");
  CHECK_STR_EQ(d.opts.cwd, "/tmp");
  CHECK_STR_EQ(d.opts.user, "tester:tester");
  CHECK(d.opts.tty && d.opts.no_new_privs && !d.opts.ignore_paused);
  CHECK(d.opts.n_env == 2 && strcmp(d.opts.env[0], "A=") == 0 &&
        strcmp(d.opts.env[1], "B=x=y") == 0);
  CHECK(d.opts.n_caps == 1 && strcmp(d.opts.caps[0], "CAP_SYS_ADMIN") == 0);
  CHECK(d.opts.n_cgroups == 0 && d.opts.cgroups == NULL);
  CHECK(d.opts.console_height == 25 && d.opts.console_width == 90);
  /* An empty argument stays an argument. */
  CHECK(d.opts.n_args == 3 && d.opts.args[2][0] == '\0' && d.opts.args[3] == NULL);
  chan_ctr_exec_clear(&d);
  free(buf);

  /* --process: the JSON, no options, no command. */
  e = (struct chan_ctr_exec){.process = "{\"args\": [\"true\"]}"};
  CHECK_INT_EQ(chan_ctr_exec_encode(&e, &buf, &len, &err), 0);
  CHECK_INT_EQ(chan_ctr_exec_decode(buf, len, &d, &err), 0);
  CHECK_STR_EQ(d.process, "{\"args\": [\"true\"]}");
  CHECK(d.opts.n_args == 0 && d.opts.env == NULL);
  chan_ctr_exec_clear(&d);
  free(buf);

  /* Too big for one frame: an error, not a truncated request. */
  char *big = xmalloc(CHAN_MAX_DATA + 1);
  memset(big, 'x', CHAN_MAX_DATA);
  big[CHAN_MAX_DATA] = '\0';
  e = (struct chan_ctr_exec){.process = big};
  CHECK(chan_ctr_exec_encode(&e, &buf, &len, &err) < 0);
  CHECK_INT_EQ(err ? err->status : 0, E2BIG);
  nook_error_free(&err);
  free(big);
  static const char short_one[] = "ab";
  CHECK(chan_ctr_exec_decode(short_one, sizeof(short_one), &d, &err) < 0);
  nook_error_free(&err);
  /* An option the guest does not know is refused, not ignored. */
  static const char unknown[] = "\0\0\0\0\0\0\0\0\0pid-file=/x\0\0true";
  CHECK(chan_ctr_exec_decode(unknown, sizeof(unknown), &d, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "ctr-exec: unknown option `pid-file=/x`");
  nook_error_free(&err);
}

TEST(exit_and_signal_name_their_process_in_the_payload)
{
  int sv[2];
  if (!pair(sv))
    return;
  struct chan_msg *m = xmalloc(sizeof(*m));
  nook_error_t err = NULL;
  CHECK_INT_EQ(chan_send_about(sv[0], CHAN_EXIT, 9, 7, &err), 0);
  CHECK_INT_EQ(chan_send(sv[0], CHAN_SIGNAL, 15, NULL, 0, &err), 0);
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_EXIT), m, &err), 0);
  CHECK_INT_EQ(m->value, 9);
  CHECK_INT_EQ(chan_proc_of(m), 7);
  /* None: the init (and vm-exec's only process). */
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_SIGNAL), m, &err), 0);
  CHECK_INT_EQ(chan_proc_of(m), CHAN_PROC_INIT);
  /* A frame appended to a buffer is what chan_send writes. */
  char *buf = NULL;
  size_t len = 0;
  chan_frame_append(&buf, &len, CHAN_STDOUT, 3, "abc", 3);
  chan_frame_append(&buf, &len, CHAN_ACK, 3, NULL, 0);
  CHECK(write(sv[0], buf, len) == (ssize_t)len);
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_STDOUT), m, &err), 0);
  CHECK_INT_EQ(m->value, 3);
  CHECK_STR_EQ(m->data, "abc");
  CHECK_INT_EQ(chan_recv(sv[1], CHAN_BIT(CHAN_ACK), m, &err), 0);
  CHECK_INT_EQ(m->len, 0);
  free(buf);
  free(m);
  close(sv[0]);
  close(sv[1]);
}

/* A stats struct with every kind of field set, as the guest reads it. */
static void full_stats(struct cgroup_stats *s)
{
  memset(s, 0, sizeof(*s));
  s->has_cpu = s->has_memory = s->has_mem_events = s->has_pids = s->has_psi_io = true;
  s->cpu_usage_total = 123456789;
  s->mem_limit = UINT64_MAX;
  s->ev_oom_kill = 3;
  s->pids_peak = 9;
  s->psi_io_full = (struct cgroup_psi){.avg10 = 0.25, .avg60 = 1.5, .avg300 = 7, .total = 42};
  s->cpu_percpu = xmalloc(2 * sizeof(uint64_t));
  s->cpu_percpu[0] = 5;
  s->cpu_percpu[1] = 6;
  s->n_percpu = 2;
  cg_stats_add_blkio(&s->io_serviced, &s->n_io_serviced, 8, 0, "Read", 17);
  cg_stats_add_hugetlb(s, "2MB")->failcnt = 1;
  cg_stats_raw(s, "anon 4096\nfile 0\n");
}

/* CHAN_STATS's payload gives back the figures exactly: the same stats
 * line on both sides of the channel. */
TEST(stats_wire_round_trip)
{
  struct cgroup_stats s, back;
  full_stats(&s);
  char *buf = NULL;
  size_t len = 0;
  stats_wire_encode(&s, &buf, &len);
  nook_error_t err = NULL;
  CHECK_INT_EQ(stats_wire_decode(buf, len, &back, &err), 0);
  char *want = stats_event_json_vmm("c", &s, &s), *got = stats_event_json_vmm("c", &back, &s);
  CHECK_STR_EQ(got, want);
  CHECK(back.has_mem_events && back.ev_oom_kill == 3 && !back.has_mem_peak);
  free(want);
  free(got);
  cgroup_stats_clear(&back);
  /* Nothing at all is a struct of zeros and no flags. */
  struct cgroup_stats empty = {0};
  free(buf);
  stats_wire_encode(&empty, &buf, &len);
  CHECK_INT_EQ(stats_wire_decode(buf, len, &back, &err), 0);
  CHECK(!back.has_cpu && back.n_mem_raw == 0 && back.cpu_percpu == NULL);
  cgroup_stats_clear(&back);
  free(buf);
  cgroup_stats_clear(&s);
}

/* The guest's answer is not trusted: any cut, a count beyond the bytes, a
 * string without its end or bytes left over is refused, and nothing is
 * left allocated (the unit tests run under ASan). */
TEST(stats_wire_malformed)
{
  struct cgroup_stats s, back;
  full_stats(&s);
  char *buf = NULL;
  size_t len = 0;
  stats_wire_encode(&s, &buf, &len);
  cgroup_stats_clear(&s);
  nook_error_t err = NULL;
  for (size_t cut = 0; cut < len; cut++) {
    CHECK(stats_wire_decode(buf, cut, &back, &err) < 0);
    CHECK(err != NULL && err->status == EPROTO);
    nook_error_free(&err);
    CHECK(back.mem_raw == NULL && back.cpu_percpu == NULL && back.hugetlb == NULL);
  }
  /* Counts in the head: the first words after the flags. */
  char *bad = xmalloc(len + 1);
  for (size_t word = 1; word <= 5; word++) {
    memcpy(bad, buf, len);
    uint32_t huge = 0x7fffffff;
    memcpy(bad + word * sizeof(uint32_t), &huge, sizeof(huge));
    CHECK(stats_wire_decode(bad, len, &back, &err) < 0);
    nook_error_free(&err);
  }
  memcpy(bad, buf, len);
  bad[len] = 'x';
  CHECK(stats_wire_decode(bad, len + 1, &back, &err) < 0);
  nook_error_free(&err);
  memcpy(bad, buf, len);
  bad[len - 1] = 'x'; /* the last value's NUL */
  CHECK(stats_wire_decode(bad, len, &back, &err) < 0);
  nook_error_free(&err);
  free(bad);
  free(buf);
}
