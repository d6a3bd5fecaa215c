/* libcontainer/sync.c: step names on the wire and the declared optional
 * steps, over a real SOCK_SEQPACKET socketpair. */
#include "unit.h"

#include <ctype.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../libcontainer/sync.h"
#include "../../oci/config.h"

/* Every step, with its enum name: the wire name must be derivable from it. */
#define STEP(x)                                                                                    \
  {                                                                                                \
    SYNC_##x, #x                                                                                   \
  }
static const struct {
  enum sync_step step;
  const char *enum_name;
} steps[] = {
    STEP(USERNS_READY), STEP(GO),    STEP(RUN_HOOKS),  STEP(HOOKS_DONE), STEP(CREATED_STATE),
    STEP(PTY),          STEP(PID),   STEP(SECCOMP_FD), STEP(MOUNT_FD),   STEP(STAGE2_GO),
    STEP(READY),        STEP(START), STEP(ERROR),
};

TEST(wire_names_are_enum_names)
{
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    char want[64];
    size_t n = 0;
    for (const char *c = steps[i].enum_name; *c && n < sizeof(want) - 1; c++)
      want[n++] = *c == '_' ? '-' : (char)tolower((unsigned char)*c);
    want[n] = '\0';
    CHECK_STR_EQ(sync_step_name(steps[i].step), want);
  }
}

TEST(every_step_is_listed_and_named)
{
  /* A step added to the enum but not to the table reads "unknown". */
  CHECK_INT_EQ(sizeof(steps) / sizeof(steps[0]), SYNC_ERROR);
  for (int s = 1; s <= SYNC_ERROR; s++)
    CHECK(strcmp(sync_step_name((enum sync_step)s), "unknown") != 0);
  CHECK_STR_EQ(sync_step_name((enum sync_step)(SYNC_ERROR + 1)), "unknown");
}

/* The startContainer state and exec's second go are steps of their own: a
 * side waiting for one does not take the other. */
static void check_mismatch(enum sync_step sent, enum sync_step expect, const char *want)
{
  int sv[2];
  if (!CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0))
    return;
  nook_error_t err = NULL;
  struct sync_msg *msg = malloc(sizeof(*msg));
  CHECK_INT_EQ(sync_send(sv[0], sent, 0, "{}", -1, &err), 0);
  CHECK(sync_recv(sv[1], expect, msg, NULL, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, want);
  nook_error_free(&err);
  free(msg);
  close(sv[0]);
  close(sv[1]);
}

TEST(distinct_steps_do_not_stand_in_for_each_other)
{
  check_mismatch(SYNC_CREATED_STATE, SYNC_HOOKS_DONE,
                 "sync: expected hooks-done, got created-state");
  check_mismatch(SYNC_HOOKS_DONE, SYNC_CREATED_STATE,
                 "sync: expected created-state, got hooks-done");
  check_mismatch(SYNC_STAGE2_GO, SYNC_GO, "sync: expected go, got stage2-go");
  check_mismatch(SYNC_GO, SYNC_STAGE2_GO, "sync: expected stage2-go, got go");
}

TEST(plan_names_the_mount_fds)
{
  char *bind_opts[] = {"rbind", NULL};
  struct oci_mount bind = {.destination = "/mnt",
                           .source = "/tmp",
                           .type = "bind",
                           .options = bind_opts,
                           .n_options = 1};
  char *proc_opts[] = {NULL};
  struct oci_mount proc = {
      .destination = "/proc", .source = "proc", .type = "proc", .options = proc_opts};
  struct sync_plan none = {0};
  struct sync_plan host = {.mount_fds = true};
  struct sync_plan userns = {.mount_fds = true, .mount_userns = true};
  CHECK(!sync_plan_mount_fd(&none, &bind));
  CHECK(!sync_plan_mount_fd(&host, &bind));
  CHECK(sync_plan_mount_fd(&userns, &bind));
  CHECK(!sync_plan_mount_fd(&userns, &proc));
}
