/* Internal to libcontainer: an existing container, loaded from its state
 * directory, for the commands that act on one (container.c, ops.c). */
#ifndef NOOK_CONTAINER_INTERNAL_H
#define NOOK_CONTAINER_INTERNAL_H

#include <stdbool.h>
#include <sys/stat.h>

#include "../base/error.h"
#include "../cgroups/cgroup.h"
#include "../oci/config.h"
#include "container.h"
#include "spawn.h"
#include "state.h"

struct loaded {
  int dirfd;
  struct nook_state st;
  enum nook_status status;   /* computed: process, start.sock, freezer */
  struct oci_config *config; /* only when asked for */
};

/* Open ROOT/ID (optionally under its lock), read its state and compute the
 * status; with want_config also parse the config.json saved at create. */
int load_container(const char *root, const char *id, bool lock, bool want_config, struct loaded *l,
                   nook_error_t *err);
void loaded_release(struct loaded *l);

/* The container's cgroup: 1 and *m, *p filled when it has one, 0 when not. */
int loaded_cgroup(const struct nook_state *st, const struct cgroup_manager **m,
                  struct cgroup_paths *p, nook_error_t *err);

/* The runtime-spec state JSON for hooks (compact) or `state` (pretty). */
char *state_json_for(const struct oci_config *c, const struct nook_state *st, const char *status,
                     bool pretty);

/* A container just created by do_create(), still held by the runtime. */
struct created {
  struct spawn_result sr;
  struct oci_config *config;
  int dirfd;
  struct nook_state st;
  struct cgroup_paths cg;
  const struct cgroup_manager *cgm;
  bool have_cg;
};

/* create and run's shared path: everything up to SYNC_READY.  In run mode
 * the container waits for SYNC_START on the sync socket, not on start.sock. */
int do_create(const struct nook_create_opts *o, bool run_mode, struct created *out,
              nook_error_t *err);
void created_release(struct created *c);
/* Start a container made by do_create(run_mode): SYNC_START over the sync
 * socket; the socket closing on execve means it started. */
int created_start(struct created *cr, nook_error_t *err);
/* Until the container exists, SIGTERM, SIGINT and SIGHUP make do_create()
 * kill what it started and fail cleanly (create_interrupted_by() is then
 * the signal); done: later ones no longer kill anything. */
void create_signals_catch(void);
void create_signals_done(void);
int create_interrupted_by(void);

/* Which container a process made: its init's pid and that pid's start
 * time.  Not the state directory's inode: a filesystem like ext4 gives a
 * directory made right after another's removal the same inode number. */
struct container_made {
  pid_t pid;
  unsigned long long pid_start;
  /* The config it was made from, still in memory (NULL: read the state's
   * config.json): its poststop hooks without parsing the config again. */
  const struct oci_config *config;
};

/* delete (--force when force) of ROOT/ID, but only while ROOT/ID is still
 * the container *made names: once it is another container of the same id,
 * that one is not ours to delete, and this returns 0. */
int container_delete_made(const char *root, const char *id, bool force,
                          const struct container_made *made, nook_error_t *err);

/* poststart hooks, warnings only (runtime.md). */
void run_poststart(struct loaded *l);

#endif
