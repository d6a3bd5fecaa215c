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

/* root's compiled-filter cache, shared by every state root of the host
 * (seccomp_cache.c).  Persistent: what `nook seccomp-precompile` puts there
 * at install time outlives reboots. */
#define SECCOMP_CACHE_HOST_DIR "/var/cache/nook/seccomp"

/* The cache directory of this runtime, allocated, or NULL for none:
 * $NOOK_SECCOMP_CACHE when set ("off": none, else an absolute directory);
 * otherwise SECCOMP_CACHE_HOST_DIR, or when rootless the user's own
 * $XDG_CACHE_HOME/nook/seccomp ($HOME/.cache/nook/seccomp). */
char *seccomp_cache_dir(bool rootless);

/* Runtime side, before clone: compile, or fetch from the cache directory
 * cache_dir (NULL: no cache).  Errors name the field:
 * "linux.seccomp.syscalls[3].errnoRet: ...". */
int seccomp_compile(const struct oci_seccomp *s, const char *cache_dir, struct seccomp_prog *out,
                    nook_error_t *err);

/* Compile s into cache_dir whether or not it is there already, as an entry
 * eviction keeps (nook seccomp-precompile).  key_hex gets the entry's name;
 * *instructions its length. */
int seccomp_precompile(const struct oci_seccomp *s, const char *cache_dir, char key_hex[65],
                       size_t *instructions, nook_error_t *err);
void seccomp_prog_clear(struct seccomp_prog *p);

/* VM mode: the guest's cache (SECCOMP_CACHE_HOST_DIR of its initramfs)
 * starts empty at every boot, and compiling a profile under TCG costs tens
 * of ms of the guest's create.  The host compiles it through its own cache
 * (cache_dir, seccomp_cache_dir(); NULL: none) and stores the program in
 * the cache directory dest, which the VM's share carries; the guest
 * imports that into its own cache before create, which then finds its
 * program there.  Best effort, both: a profile the host cannot compile is
 * left to the guest's create, whose error is the one the user sees. */
void seccomp_cache_seed(const struct oci_seccomp *s, const char *cache_dir, const char *dest);
/* Every verified program of the cache directory from into to (made when
 * missing). */
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
