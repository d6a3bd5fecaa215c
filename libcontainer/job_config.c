/* nook job's config: the template (nook spec's defaults around --rootfs, or
 * the bundle's config.json) with the options applied as typed edits
 * (oci/config_edit.h).  The result is text that do_create() parses and
 * validates as it would a config.json on disk. */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/utils.h"
#include "../cgroups/cgroup.h"
#include "../oci/config_edit.h"
#include "../oci/spec.h"
#include "state.h"

/* The CFS period --cpus is a quota of (100 ms, as docker and runc). */
#define JOB_CPU_PERIOD_US 100000

char *nook_job_new_id(void)
{
  unsigned char b[8];
  if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
    /* No entropy source: the time and pid are unique enough for a name
     * that create refuses when taken. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long v = (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^
                           ((unsigned long long)getpid() << 40);
    memcpy(b, &v, sizeof(b));
  }
  char *id;
  xasprintf(&id, "job-%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6],
            b[7]);
  return id;
}

static int read_template(const struct nook_job_opts *o, char **json, size_t *len, char **bundle,
                         nook_error_t *err)
{
  if (o->bundle != NULL) {
    *bundle = absolute_path(o->bundle);
    cleanup_free char *path = NULL;
    xasprintf(&path, "%s/config.json", *bundle);
    if (read_file_at(AT_FDCWD, path, json, len, err) < 0)
      return nook_error_wrap(err, "--bundle `%s`", o->bundle);
    return 0;
  }
  struct stat st;
  if (stat(o->rootfs, &st) < 0)
    return nook_error(err, errno, "--rootfs `%s`", o->rootfs);
  if (!S_ISDIR(st.st_mode))
    return nook_error(err, ENOTDIR, "--rootfs `%s`", o->rootfs);
  /* As `nook spec`: a cgroup namespace only on a pure cgroup v2 host. */
  enum cgroup_mode mode;
  nook_error_t e = NULL;
  bool cgroupns = cgroup_detect_mode(&mode, &e) == 0 && mode == CGROUP_MODE_UNIFIED;
  nook_error_free(&e);
  *json = oci_default_spec(false, cgroupns, geteuid(), getegid(), false);
  *len = strlen(*json);
  /* There is no bundle: the job's state records where it was started. */
  *bundle = absolute_path(".");
  return 0;
}

/* docker's --env-file: one NAME=VALUE a line, taken as it is (no quotes,
 * no expansion); blank lines and lines starting with # are skipped; a
 * NAME alone takes its value from nook's own environment (left out when
 * unset there).  The entries are appended to *env. */
static int read_env_file(const char *path, char ***env, size_t *n, nook_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t len = 0;
  if (read_file_at(AT_FDCWD, path, &text, &len, err) < 0)
    return nook_error_wrap(err, "--env-file");
  if (strlen(text) != len)
    return nook_error(err, 0, "--env-file `%s`: a NUL byte in the file", path);
  unsigned line = 0;
  for (char *l = text, *next; l && *l; l = next) {
    line++;
    next = strchr(l, '\n');
    if (next)
      *next++ = '\0';
    size_t k = strlen(l);
    if (k > 0 && l[k - 1] == '\r')
      l[--k] = '\0';
    while (*l == ' ' || *l == '\t')
      l++;
    if (*l == '\0' || *l == '#')
      continue;
    if (l[0] == '=')
      return nook_error(err, 0, "--env-file `%s`: line %u: \"%s\" has no name", path, line, l);
    char *entry;
    if (strchr(l, '=') == NULL) {
      const char *v = getenv(l);
      if (v == NULL)
        continue;
      xasprintf(&entry, "%s=%s", l, v);
    } else {
      entry = xstrdup(l);
    }
    *env = xrealloc(*env, (*n + 2) * sizeof(char *));
    (*env)[(*n)++] = entry;
    (*env)[*n] = NULL;
  }
  return 0;
}

/* The job's environment edits: every --env-file's entries, then --env's
 * (the config edit lets the last one given for a name win).  NULL-terminated
 * and owned. */
static int job_env(const struct nook_job_opts *o, char ***out, size_t *n, nook_error_t *err)
{
  *out = xcalloc(1, sizeof(char *));
  *n = 0;
  for (size_t i = 0; i < o->n_env_files; i++)
    if (read_env_file(o->env_files[i], out, n, err) < 0)
      return -1;
  *out = xrealloc(*out, (*n + o->n_env + 1) * sizeof(char *));
  for (size_t i = 0; i < o->n_env; i++)
    (*out)[(*n)++] = xstrdup(o->env[i]);
  (*out)[*n] = NULL;
  return 0;
}

/* --bind SRC:DST[:ro] and --tmpfs DST[:SIZE] as mounts[] entries. */
static struct oci_edit_mount *job_mounts(const struct nook_job_opts *o, char ***strings)
{
  static const char *const rw[] = {"rbind", "rw", NULL};
  static const char *const ro[] = {"rbind", "ro", NULL};
  size_t n = o->n_binds + o->n_tmpfs;
  struct oci_edit_mount *m = xcalloc(n + 1, sizeof(*m));
  /* Per tmpfs: its options array (5 entries) and its size option. */
  char **owned = xcalloc(2 * o->n_tmpfs + o->n_binds + 1, sizeof(char *));
  size_t k = 0;
  for (size_t i = 0; i < o->n_binds; i++) {
    owned[k] = absolute_path(o->binds[i].source);
    m[i] = (struct oci_edit_mount){.destination = o->binds[i].destination,
                                   .type = "bind",
                                   .source = owned[k++],
                                   .options = o->binds[i].readonly ? ro : rw};
  }
  for (size_t i = 0; i < o->n_tmpfs; i++) {
    const char **opts = xcalloc(5, sizeof(char *));
    opts[0] = "nosuid";
    opts[1] = "nodev";
    opts[2] = "mode=1777";
    if (o->tmpfs[i].size != NULL) {
      xasprintf(&owned[k], "size=%s", o->tmpfs[i].size);
      opts[3] = owned[k++];
    }
    owned[k++] = (char *)opts;
    m[o->n_binds + i] = (struct oci_edit_mount){.destination = o->tmpfs[i].destination,
                                                .type = "tmpfs",
                                                .source = "tmpfs",
                                                .options = opts};
  }
  *strings = owned;
  return m;
}

int nook_job_config(const struct nook_job_opts *o, const char *id, char **json, size_t *len,
                    char **bundle, nook_error_t *err)
{
  cleanup_free char *text = NULL;
  size_t text_len = 0;
  *json = NULL;
  *bundle = NULL;
  if (read_template(o, &text, &text_len, bundle, err) < 0) {
    free(*bundle);
    *bundle = NULL;
    return -1;
  }
  struct oci_config_edit e = {.root_readonly = -1, .terminal = o->tty};
  cleanup_free char *rootfs = NULL, *overlay_dir = NULL, *cgroups_path = NULL;
  /* The overlay: --rootfs's default is a tmpfs layer (the image is never
   * written); with --bundle the config decides unless --overlay is given. */
  const char *overlay = o->overlay;
  if (overlay == NULL && o->rootfs != NULL)
    overlay = "tmpfs";
  if (o->rootfs != NULL) {
    rootfs = absolute_path(o->rootfs);
    e.root_path = rootfs;
    /* Without an overlay the image stays read-only, as nook spec has it. */
    e.root_readonly = overlay != NULL && strcmp(overlay, "none") != 0 ? 0 : 1;
  } else if (overlay != NULL && strcmp(overlay, "none") != 0) {
    e.root_readonly = 0;
  }
  const char *keys[3], *values[3];
  size_t nk = 0;
  if (overlay != NULL && strcmp(overlay, "none") != 0) {
    if (strcmp(overlay, "tmpfs") != 0)
      overlay = overlay_dir = absolute_path(overlay);
    keys[nk] = "nook.rootfs.overlay";
    values[nk++] = overlay;
  }
  if (o->vm) {
    keys[nk] = STATE_VM_ANNOTATION;
    values[nk++] = "qemu";
  }
  e.annotation_keys = keys;
  e.annotation_values = values;
  e.n_annotations = nk;
  e.args = o->args;
  e.n_args = o->n_args;
  cleanup_strv char **env = NULL;
  if (job_env(o, &env, &e.n_env, err) < 0) {
    free(*bundle);
    *bundle = NULL;
    return -1;
  }
  e.env = env;
  e.cwd = o->workdir;
  e.has_user = o->has_user;
  e.uid = o->uid;
  e.gid = o->gid;
  e.hostname = o->hostname;
  if (o->cgroup_parent != NULL) {
    size_t n = strlen(o->cgroup_parent);
    bool slash = n > 0 && o->cgroup_parent[n - 1] == '/';
    xasprintf(&cgroups_path, "%s%s%s", o->cgroup_parent, slash ? "" : "/", id);
    e.cgroups_path = cgroups_path;
  }
  static const enum oci_edit_netns netns[] = {
      [NOOK_JOB_NET_CONFIG] = OCI_EDIT_NETNS_KEEP,
      [NOOK_JOB_NET_NONE] = OCI_EDIT_NETNS_NEW,
      [NOOK_JOB_NET_HOST] = OCI_EDIT_NETNS_NONE,
      [NOOK_JOB_NET_PASTA] = OCI_EDIT_NETNS_NEW,
  };
  e.netns = netns[o->net];
  e.has_memory_limit = o->has_memory;
  e.memory_limit = o->memory;
  e.has_memory_swap = o->has_memory_swap;
  e.memory_swap = o->memory_swap;
  e.has_cpu_quota = o->cpu_quota > 0;
  e.cpu_quota = o->cpu_quota;
  e.cpu_period = JOB_CPU_PERIOD_US;
  e.cpu_cpus = o->cpuset;
  e.has_pids_limit = o->has_pids;
  e.pids_limit = o->pids;
  e.has_blkio_weight = o->has_io_weight;
  e.blkio_weight = o->io_weight;
  cleanup_strv char **owned = NULL;
  cleanup_free struct oci_edit_mount *mounts = job_mounts(o, &owned);
  e.mounts = mounts;
  e.n_mounts = o->n_binds + o->n_tmpfs;
  const char *origin = o->bundle ? "config.json" : "nook spec's default config";
  if (oci_config_edit(text, text_len, origin, &e, json, err) < 0) {
    free(*bundle);
    *bundle = NULL;
    return -1;
  }
  *len = strlen(*json);
  return 0;
}

int nook_job_create_opts(const struct nook_job_opts *o, const char *id, struct nook_job_create *c,
                         nook_error_t *err)
{
  size_t len = 0;
  if (nook_job_config(o, id, &c->json, &len, &c->bundle, err) < 0)
    return -1;
  c->root = absolute_path(o->root);
  c->co = (struct nook_create_opts){.root = c->root,
                                    .id = id,
                                    .bundle = c->bundle,
                                    .config_json = c->json,
                                    .config_len = len,
                                    .die_with_runtime = true,
                                    .systemd_cgroup = o->systemd_cgroup,
                                    .rootless = o->rootless,
                                    .seccomp_cache = o->seccomp_cache};
  return 0;
}

void nook_job_create_clear(struct nook_job_create *c)
{
  free(c->json);
  free(c->bundle);
  free(c->root);
  *c = (struct nook_job_create){0};
}
