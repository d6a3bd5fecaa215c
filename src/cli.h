/* What the command files share: the global options, the handler signature,
 * and option parsing that behaves like runc's (urfave/cli) flags. */
#ifndef NOOK_CLI_H
#define NOOK_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

#include "../base/error.h"
#include "../libcontainer/container.h"

/* The global options every command may need. */
struct cli_global {
  /* --root; by default /run/nook, or $XDG_RUNTIME_DIR/nook when rootless
   * (NULL there when XDG_RUNTIME_DIR is not set: main() refuses every
   * command that keeps state) */
  const char *root;
  bool systemd_cgroup;
  bool rootless; /* --rootless true|false, or detected (auto) */
  /* seccomp_cache_dir(rootless): where compiled filters are kept, or NULL */
  const char *seccomp_cache;
  /* Invoked as nook-vm: create and run put every container in VM mode
   * (vmm_mode_select()).  Later commands go by the container's state. */
  bool vm_mode;
};

/* A command: argv[0] is the command name, options and arguments follow.
 * Returns the exit status, or a negative value with *err set. */
typedef int cli_handler(const struct cli_global *g, int argc, char **argv, nook_error_t *err);

/* The exit status main() gives a failed command: 1, unless the command says
 * otherwise (exec: 255 when the runtime failed, as runc, so that callers can
 * tell it from a process that exited 1). */
extern int cli_fail_status;

cli_handler cmd_create, cmd_start, cmd_run, cmd_state, cmd_kill, cmd_delete, cmd_list, cmd_spec,
    cmd_features, cmd_job;

/* One command's options.  Every command takes --help/-h, so it is not
 * listed in longopts; boolean long options use optional_argument so that
 * `--flag=false` works as with Go's flag package. */
struct cli_spec {
  const char *name; /* "create", for messages */
  const char *help; /* printed by --help; NULL: cli_getopt() returns 'h' */
  const char *shortopts;
  const struct option *longopts;
  bool in_order; /* options end at the first argument (global options) */
};

enum { CLI_DONE = -1, CLI_FAIL = -2, CLI_HELP = -3 };

/* getopt_long_only() with runc's error messages: returns the next option
 * value, CLI_DONE when the options end (arguments start at optind),
 * CLI_HELP after printing the help, or CLI_FAIL with *err set.  The caller
 * resets optind to 0 before the first call for an argv. */
int cli_getopt(int argc, char **argv, const struct cli_spec *spec, nook_error_t *err);

/* The exit status of a handler whose option loop stopped with c. */
static inline int cli_stop(int c)
{
  return c == CLI_HELP ? 0 : -1;
}

/* A boolean option's value, as validated by cli_getopt(): bare means true. */
bool cli_true(const char *arg);
/* Go's strconv.ParseBool: "true", "1", "f", ...; -1 if not a boolean. */
int cli_parse_bool(const char *s, bool *out);

/* Check the number of arguments left after the options, with runc's
 * messages; max < 0 means unbounded. */
int cli_check_args(const char *name, int nargs, int min, int max, nook_error_t *err);

/* The whole parse of a command that takes only --help: 0 when the
 * arguments number between min and max, CLI_HELP or CLI_FAIL. */
int cli_parse_plain(const struct cli_spec *spec, int argc, char **argv, int min, int max,
                    nook_error_t *err);

/* The options and the container id of create, and of run, which also takes
 * --detach, --keep and --no-subreaper.  Returns 0 with *o filled (its
 * strings point into argv), CLI_HELP or CLI_FAIL. */
int cli_parse_create(const struct cli_global *g, int argc, char **argv, const char *help, bool run,
                     struct nook_create_opts *o, nook_error_t *err);

/* Go's time.ParseDuration, as runc's duration flags take it: 0 with *out,
 * -1 when s is not a duration. */
int cli_parse_go_duration(const char *s, long long *out);

/* docker/go-units' RAMInBytes (runc's memory flags), errors naming opt. */
int cli_ram_in_bytes(const char *opt, const char *s, int64_t *out, nook_error_t *err);

/* A signal by name ("KILL", "SIGKILL", any case) or number; "0" is 0. */
int cli_parse_signal(const char *arg, nook_error_t *err);

/* Print text followed by a newline unless it already ends with one. */
void cli_print(const char *text);

/* The help lines create and run share (runc prints the same text). */
#define CLI_CREATE_COMMON_HELP                                                                     \
  "   --no-pivot                do not use pivot root to jail process inside rootfs.  This "       \
  "should be used whenever the rootfs is on top of a ramdisk\n"                                    \
  "   --no-new-keyring          do not create a new session keyring for the container.  This "     \
  "will cause the container to inherit the calling processes session key\n"                        \
  "   --preserve-fds value      Pass N additional file descriptors to the container (stdio + "     \
  "$LISTEN_FDS + N in total) (default: 0)\n"

#endif
