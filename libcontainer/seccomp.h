/* linux.seccomp: compiled to a BPF program by the runtime (libseccomp),
 * loaded by the container process as late as possible, just before execve. */
#ifndef NOOK_SECCOMP_H
#define NOOK_SECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../base/error.h"
#include "../oci/config.h"

struct seccomp_prog {
  void *bpf;      /* struct sock_filter[] */
  size_t len;     /* number of instructions */
  unsigned flags; /* SECCOMP_FILTER_FLAG_* to load with */
  bool notify;    /* the profile uses SCMP_ACT_NOTIFY */
};

/* Runtime side, before clone: compile, or fetch from the cache under
 * cache_dir (the state root; NULL: no cache).  Errors name the field:
 * "linux.seccomp.syscalls[3].errnoRet: ...". */
int seccomp_compile(const struct oci_seccomp *s, const char *cache_dir, struct seccomp_prog *out,
                    nook_error_t *err);
void seccomp_prog_clear(struct seccomp_prog *p);

/* VM mode: a guest's state root starts empty at every boot, and compiling
 * a profile under TCG costs tens of ms of the guest's create.  The host
 * compiles it (through its own cache under cache_dir) into dest's cache,
 * which the VM's share carries; the guest imports that cache into its own
 * before create, which then finds its program there.  Best effort, both:
 * a profile the host cannot compile is left to the guest's create, whose
 * error is the one the user sees. */
void seccomp_cache_seed(const struct oci_seccomp *s, const char *cache_dir, const char *dest);
/* Every verified program of from's cache into to's (made when missing). */
void seccomp_cache_import(const char *from, const char *to);

/* Container side: install the program with seccomp(2).  Requires
 * no_new_privs or CAP_SYS_ADMIN (the caller sets no_new_privs when the
 * process keeps no CAP_SYS_ADMIN).  With notify, *notify_fd gets the
 * listener fd. */
int seccomp_install(const struct seccomp_prog *p, int *notify_fd, nook_error_t *err);

/* Runtime side: send the notify fd and the container process state to
 * linux.seccomp.listenerPath (config-linux.md "The Container Process State"). */
int seccomp_send_notify_fd(const struct oci_seccomp *s, int notify_fd, const char *state_json,
                           pid_t pid, nook_error_t *err);

#endif
