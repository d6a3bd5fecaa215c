/* Small helpers shared by every part of nook: scope-bound cleanup, ownership
 * transfer, safe reads and writes. */
#ifndef NOOK_UTILS_H
#define NOOK_UTILS_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>

#include "error.h"

void cleanup_freep(void *p);
void cleanup_closep(int *fd);
void cleanup_fclosep(FILE **f);
void cleanup_strvp(char ***v);

#define cleanup_free __attribute__((cleanup(cleanup_freep)))
#define cleanup_close __attribute__((cleanup(cleanup_closep)))
#define cleanup_file __attribute__((cleanup(cleanup_fclosep)))
#define cleanup_strv __attribute__((cleanup(cleanup_strvp)))

/* Explicit ownership transfer out of a cleanup-managed variable. */
#define steal_pointer(pp)                                                                          \
  ({                                                                                               \
    __typeof__(*(pp)) _p = *(pp);                                                                  \
    *(pp) = NULL;                                                                                  \
    _p;                                                                                            \
  })
#define steal_fd(fdp)                                                                              \
  ({                                                                                               \
    int _fd = *(fdp);                                                                              \
    *(fdp) = -1;                                                                                   \
    _fd;                                                                                           \
  })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void strv_free(char **v);
size_t strv_len(char *const *v);

/* Retry on EINTR, handle short I/O.  Return bytes or a negative value with err set. */
ssize_t safe_write(int fd, const void *buf, size_t len);
ssize_t safe_read(int fd, void *buf, size_t len);

/* Whole-file helpers relative to a directory fd (AT_FDCWD for plain paths).
 * write_file_at() opens with O_WRONLY|O_CLOEXEC|O_NOFOLLOW and flags. */
int write_file_at(int dirfd, const char *path, int flags, mode_t mode, const void *data, size_t len,
                  nook_error_t *err);
int read_file_at(int dirfd, const char *path, char **out, size_t *len, nook_error_t *err);
/* The most nook reads of any input (config.json, process.json,
 * --resources, a pipe): documented in nook(8). */
#define NOOK_INPUT_MAX (16u << 20)
/* Read to EOF, at most NOOK_INPUT_MAX bytes (more is an error). */
int read_fd_all(int fd, char **out, size_t *len, nook_error_t *err);
/* The same from offset 0 (pread), the fd's position left alone: a file
 * kept open and read again, such as a cgroup file, whose contents are
 * generated anew at each read from its start. */
int read_fd_all_from_start(int fd, char **out, size_t *len, nook_error_t *err);
/* read_fd_all of a regular file or a pipe only; errors name `name`. */
int read_input_fd(int fd, const char *name, char **out, size_t *len, nook_error_t *err);

/* Create every missing component of an absolute or relative host path. */
int mkdir_p(const char *path, mode_t mode, nook_error_t *err);

/* Lexical clean of a path read from "/" (a relative path is taken as
 * starting there): repeated slashes, "." components and a trailing slash go,
 * so the result always starts with "/" and names the same file.  ".." stays
 * unless fold_dotdot, which drops it with the component before it (never
 * above "/"): right only where the kernel then resolves the path inside a
 * root, where ".." cannot leave it anyway and a symlink is followed there. */
char *path_clean(const char *path, bool fold_dotdot);
/* path made absolute against the cwd, then path_clean()ed (".." kept);
 * NULL for NULL. */
char *absolute_path(const char *path);

bool has_prefix(const char *s, const char *prefix);
bool has_suffix(const char *s, const char *suffix);

/* Parse a decimal integer with full validation (no trailing junk, range). */
int parse_int64(const char *s, long long *out);
int parse_uint64(const char *s, unsigned long long *out);
/* A CPU (or memory node) list as cpuset.cpus takes it ("0-3,8"); errors
 * name `field`. */
int cpu_list_parse(const char *field, const char *s, cpu_set_t *set, nook_error_t *err);

/* Set FD_CLOEXEC on every fd >= from. */
int cloexec_fds_from(int from, nook_error_t *err);
/* Close every fd >= from now: for a forked child that runs on without an
 * exec, which FD_CLOEXEC alone would not protect. */
int close_fds_from(int from, nook_error_t *err);

/* fork() with a unix stream socket pair between parent and child: *sock is
 * the caller's end in each (the other end closed there).  Returns the pid
 * as fork() does, or -1 with *err naming `what`. */
pid_t fork_with_socket(int *sock, const char *what, nook_error_t *err);

/* fds 0, 1 and 2 on /dev/null: for a process that outlives the command
 * whose stdio it inherited and must not hold it open (an engine may read
 * that output to EOF). */
int stdio_to_null(nook_error_t *err);

/* The current time in RFC 3339, UTC, with nanoseconds
 * (2026-11-22T02:52:09.123456789Z); size >= 40. */
void rfc3339_now(char *out, size_t size);
struct timespec;
void rfc3339_format(const struct timespec *t, char *out, size_t size);

/* CLOCK_MONOTONIC in nanoseconds and milliseconds: deadlines and intervals. */
long long monotonic_ns(void);

/* Every signal's disposition back to the default and none blocked: the
 * clean slate a process about to exec a workload or a helper starts from,
 * whatever its parent blocked or caught to forward signals. */
void signals_reset(void);
long long monotonic_ms(void);

/* The first executable regular file called name on $PATH (name itself
 * when it has a slash), resolved by realpath(). */
int find_program(const char *name, char **out, nook_error_t *err);

#endif
