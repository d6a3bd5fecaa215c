/* The control channel between nook on the host and nook's init in the
 * guest: a byte stream (a virtio-serial port in the guest, a unix socket on
 * the host), cut into framed messages of one shape.
 *
 * As with the sync protocol (libcontainer/sync.h), every message type has one
 * meaning and a wire name (the enum name without CHAN_, lower case, '_' as
 * '-'); a side says which types it waits for, and anything else is a protocol
 * error naming both.  CHAN_ERROR carries an errno and a message, so a failure
 * in the guest reaches the host's error contract (and --log) unchanged.
 *
 * Frame: magic, type, value, payload length (host byte order: both ends are
 * the same nook build on the same architecture), then the payload. */
#ifndef NOOK_VMM_CHANNEL_H
#define NOOK_VMM_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"
#include "../libcontainer/container.h"

enum chan_type {
  CHAN_READY = 1, /* guest -> host: init is up; payload: the guest kernel's release */
  CHAN_EXEC,      /* host -> guest: run a process; payload: chan_exec_encode()'s */
  CHAN_STDOUT,    /* guest -> host: bytes the process wrote to stdout */
  CHAN_STDERR,    /* guest -> host: bytes the process wrote to stderr */
  CHAN_EXIT,      /* guest -> host: the process ended; value: its raw wait status */
  CHAN_POWEROFF,  /* host -> guest: power the VM off */
  CHAN_SIGNAL,    /* host -> guest: deliver signal `value` to the running process */
  CHAN_ERROR,     /* either way: errno in value, message in payload */
  /* The container lifecycle (VM mode).  Host -> guest requests are answered
   * by CHAN_OK or CHAN_ERROR; the same types are the requests a CLI sends
   * to the container's monitor over monitor.sock. */
  CHAN_CREATE,  /* build the container; payload: its id, a NUL, then (when it fits) the
                   share's config.json; value: CHAN_CREATE_* flags.  CHAN_OK value: the
                   guest pid */
  CHAN_START,   /* start the created container's process */
  CHAN_KILL,    /* signal `value` to the container's init; payload "all": every process */
  CHAN_STATE,   /* CLI -> monitor: CHAN_OK value is an enum nook_status */
  CHAN_STDIN,   /* host -> guest: bytes for process `value`'s stdin; empty: EOF */
  CHAN_OK,      /* a request succeeded; value: what the request says */
  CHAN_WINSIZE, /* host -> guest: process `value`'s terminal size; payload: struct winsize */
  CHAN_ACK,     /* either way: stdio bytes taken; value: process id, payload: chan_ack */
  /* CLI -> monitor -> guest: run the guest's nook on the container
   * (pause, resume, ps, update); payload: chan_nook_encode()'s.
   * CHAN_OK payload: the guest nook's warnings, a NUL, its stdout. */
  CHAN_NOOK,
  CHAN_CTR_EXEC, /* CLI -> monitor -> guest: run a process in the container (`nook exec`);
                    payload: chan_ctr_exec_encode()'s.  CHAN_OK value: its guest pid */
  /* CLI -> monitor -> guest: the container's stats (`events --stats`),
   * read by the guest init itself: no payload.  CHAN_OK payload: the
   * figures, stats_wire_encode()'s; the CLI writes runc's line.  Not a
   * CHAN_NOOK command: a forked guest nook that loads the state and finds
   * the cgroup anew costs ~9 ms a request under emulation, the figures
   * themselves ~0.4. */
  CHAN_STATS,
  /* Templates (vmm/template.h).  A guest booted with VMM_GUEST_PARK_ARG on
   * its command line sends PARKED once its kernel, modules, channel and
   * timer are up, before it touches a share or reads anything of a
   * container, and waits for UNPARK: the host may save the VM there and
   * restore later VMs from that point.  UNPARK's payload, struct
   * chan_unpark, is what every restored copy must not share with the
   * others: the wall clock and fresh entropy for the kernel's RNG. */
  CHAN_PARKED,
  CHAN_UNPARK,
  /* host -> guest, before CREATE: the container's network interface
   * (net_vm_link_encode()), which the guest's device becomes inside the
   * container once it is created.  Answered OK or ERROR (a malformed
   * description). */
  CHAN_NET,
  /* A pod's member container in the sandbox's VM (docs/design.md, "Pods"):
   * CLI -> monitor, value CHAN_CREATE_* flags, payload the member's id, a
   * NUL, its config for the guest; then one byte carrying (SCM_RIGHTS) the
   * detached mount tree of its share, which the monitor mounts at
   * VMM_MEMBERS_DIR/ID in the VMM's share.  monitor -> guest: the same,
   * with the process id the monitor gave the member's init (an int32_t)
   * before the id.  CHAN_OK value: the guest pid; from then on the CLI's
   * connection carries the init's stdio and exit as an exec's does. */
  CHAN_MEMBER,
};
#define CHAN_TYPE_MAX CHAN_MEMBER
/* Where members' shares go, inside a VM's share. */
#define VMM_MEMBERS_DIR "members"

/* The kernel parameter that makes the guest init park (a dotted name: the
 * kernel takes it for a module's and neither warns nor hands it to init;
 * the guest reads /proc/cmdline). */
#define VMM_GUEST_PARK_ARG "nook.park"

struct chan_unpark {
  int64_t realtime_sec; /* the host's CLOCK_REALTIME */
  int64_t realtime_nsec;
  uint8_t seed[64]; /* from the host's getrandom() */
};

/* CHAN_STDOUT, CHAN_STDERR, CHAN_STDIN, CHAN_ACK and CHAN_WINSIZE carry the
 * process id in value (0: the container's init; an exec'd process gets the
 * id its monitor gave it, > 0).  CHAN_EXIT's value is the raw wait status
 * (so the monitor, or an exec's proxy, can end by the same signal) and
 * CHAN_SIGNAL's the signal: they name their process in the payload, one
 * int32_t (none: the init, or vm-exec's only process). */
#define CHAN_PROC_INIT 0

/* CHAN_CREATE's value, flags.  TTY: process.terminal; the container's stdio
 * is a pty in the guest whose master the guest init holds (one stream:
 * CHAN_STDOUT).  SECCOMP: the config has linux.seccomp, so the share holds
 * its compiled program (share.h); without it the guest does not look (a
 * lookup over 9p that finds nothing still costs a round trip to the VMM). */
#define CHAN_CREATE_TTY 1
#define CHAN_CREATE_SECCOMP 2

/* Flow control of the stdio streams: a sender keeps at most CHAN_WINDOW
 * bytes of one stream unacknowledged; the receiver acks what it has passed
 * on (written to the pipe, the pty or the host's fd).  So neither end
 * buffers more than a window per stream, and a reader that stalls stalls
 * the writer at the far end (as a full pipe does in namespace mode)
 * instead of the channel every other message shares. */
#define CHAN_WINDOW (256 * 1024)

struct chan_ack {
  uint32_t stream; /* CHAN_STDIN, CHAN_STDOUT or CHAN_STDERR */
  uint32_t bytes;
};

/* A set of types for chan_recv(). */
#define CHAN_BIT(t) (1u << (t))

#define CHAN_MAGIC 0x4e4f4f4bu /* "KOON" in memory on little-endian: "NOOK" read as text */
#define CHAN_MAX_DATA 65536

struct chan_msg {
  uint32_t type;
  int32_t value;
  uint32_t len;
  char data[CHAN_MAX_DATA + 1]; /* always NUL-terminated on receive */
};

const char *chan_type_name(enum chan_type t);

int chan_send(int fd, enum chan_type type, int32_t value, const void *data, size_t len,
              nook_error_t *err);
/* Append the frame chan_send() would write to *buf (of *len bytes, grown
 * as needed), for a sender that must not block on its peer. */
void chan_frame_append(char **buf, size_t *len, enum chan_type type, int32_t value,
                       const void *data, size_t data_len);
/* Send an error built from cause (best effort: the channel may be gone). */
void chan_send_error(int fd, const nook_error_t cause);

/* Wait for a message whose type is in `expect` (CHAN_BIT()s).  A CHAN_ERROR
 * the caller did not ask for becomes *err with the peer's errno and message;
 * EOF, a bad frame or an unexpected type is a protocol error. */
int chan_recv(int fd, unsigned expect, struct chan_msg *msg, nook_error_t *err);

/* The process a CHAN_EXIT or CHAN_SIGNAL is about (CHAN_PROC_INIT). */
int32_t chan_proc_of(const struct chan_msg *m);
/* Send CHAN_EXIT or CHAN_SIGNAL about process proc. */
int chan_send_about(int fd, enum chan_type type, int32_t value, int32_t proc, nook_error_t *err);

/* What CHAN_EXEC asks for: a process with its root directory (chroot),
 * working directory (inside that root), environment and argv. */
struct chan_exec {
  const char *root, *cwd;
  char *const *env;  /* NULL-terminated; no entry is empty */
  char *const *argv; /* NULL-terminated, at least one */
};

/* Payload: root, cwd, each env entry, an empty string, each argv entry; all
 * NUL-terminated.  *buf is freed by the caller. */
int chan_exec_encode(const struct chan_exec *e, char **buf, size_t *len, nook_error_t *err);
/* The inverse, pointing into data (NUL-terminated by chan_recv); *env and
 * *argv are allocated arrays the caller frees (not their strings). */
int chan_exec_decode(const char *data, size_t len, struct chan_exec *e, char ***env, char ***argv,
                     nook_error_t *err);

/* What CHAN_NOOK asks for: the guest nook's command line after its global
 * options (argv[0] is the command: "ps", "update", ...) and the bytes of its
 * stdin (`update -r -`). */
struct chan_nook {
  char *const *argv; /* NULL-terminated, at least one */
  const char *in;
  size_t in_len;
};

/* Payload: each argv entry, an empty string, then the stdin bytes.  *buf is
 * freed by the caller. */
int chan_nook_encode(const struct chan_nook *n, char **buf, size_t *len, nook_error_t *err);
/* The inverse, pointing into data; *argv is an allocated array the caller
 * frees (not its strings). */
int chan_nook_decode(const char *data, size_t len, struct chan_nook *n, char ***argv,
                     nook_error_t *err);
/* What CHAN_CTR_EXEC asks for: `nook exec` of the container, in the
 * guest, with the host CLI's options that make sense there: opts' cwd,
 * env, tty, user, additional_gids, caps, no_new_privs, apparmor,
 * process_label, cgroups, ignore_paused, process_name, the console size
 * (the host pty's), the container's id (the VM's own, or a pod member's
 * beside it: pod.h) and the command (args; none with process).  The rest of
 * opts (the host's paths and fds: root, console_socket, detach, pid_file,
 * preserve_fds, process_file) is never sent: the guest sets its own. */
struct chan_ctr_exec {
  int32_t proc;        /* the id the monitor gave it (the CLI sends 0) */
  uint32_t flags;      /* CHAN_CTR_EXEC_* */
  const char *process; /* --process's JSON text, or NULL */
  struct nook_exec_opts opts;
};
#define CHAN_CTR_EXEC_TTY 1u           /* process.terminal: its stdio is a pty */
#define CHAN_CTR_EXEC_IGNORE_PAUSED 2u /* --ignore-paused */

/* Payload: proc and flags (host byte order), then NUL-terminated strings:
 * the process JSON (empty when none), each option as NAME or NAME=VALUE, an
 * empty string, each argument of the command.  At most CHAN_MAX_DATA bytes
 * in all. */
int chan_ctr_exec_encode(const struct chan_ctr_exec *e, char **buf, size_t *len, nook_error_t *err);
/* The inverse; strings point into data, opts' arrays are allocated
 * (chan_ctr_exec_clear frees them). */
int chan_ctr_exec_decode(const char *data, size_t len, struct chan_ctr_exec *e, nook_error_t *err);
void chan_ctr_exec_clear(struct chan_ctr_exec *e);
/* Give the request in a payload its process id (the monitor does). */
void chan_ctr_exec_set_proc(char *data, size_t len, int32_t proc);

#endif
