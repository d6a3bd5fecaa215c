/* Typed edits of a config.json text: what a caller that builds a config
 * from a template (nook job: `nook spec`'s defaults or a bundle's config,
 * and its options) changes, with everything else kept as it was.  The
 * result is text, so it goes through the same parser and validator as a
 * config.json on disk. */
#ifndef NOOK_OCI_CONFIG_EDIT_H
#define NOOK_OCI_CONFIG_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../base/error.h"

/* A mount appended to mounts[]. */
struct oci_edit_mount {
  const char *destination, *type, *source;
  const char *const *options; /* NULL-terminated; NULL for none */
};

enum oci_edit_netns {
  OCI_EDIT_NETNS_KEEP = 0, /* linux.namespaces as it is */
  OCI_EDIT_NETNS_NEW,      /* a new network namespace (one given by path is dropped) */
  OCI_EDIT_NETNS_NONE,     /* no network namespace entry: the caller's */
};

/* Each member left at its zero value changes nothing. */
struct oci_config_edit {
  const char *root_path;
  int root_readonly; /* -1: unchanged, else false/true */
  int terminal;      /* -1: unchanged */
  char *const *args; /* process.args replaced when n_args > 0 */
  size_t n_args;
  /* NAME=VALUE: replaces NAME's entry in process.env (the last one given
   * for a name wins), or is appended. */
  char *const *env;
  size_t n_env;
  const char *cwd;
  bool has_user; /* process.user.uid and gid */
  uint32_t uid, gid;
  const char *hostname;
  const struct oci_edit_mount *mounts; /* appended to mounts[] */
  size_t n_mounts;
  const char *cgroups_path;
  enum oci_edit_netns netns;
  /* linux.resources fields, each set when its has_ flag is */
  bool has_memory_limit, has_memory_swap, has_cpu_quota, has_pids_limit, has_blkio_weight;
  int64_t memory_limit, memory_swap, cpu_quota, pids_limit;
  uint64_t cpu_period; /* with cpu_quota */
  uint16_t blkio_weight;
  const char *cpu_cpus; /* linux.resources.cpu.cpus */
  /* annotations set (replacing a value of the same key) */
  const char *const *annotation_keys, *const *annotation_values;
  size_t n_annotations;
};

/* The config text json with e applied, compact (only nook reads it: the
 * container's state keeps it) and malloc'ed in *out.  Fails only when json is not a JSON object
 * (errors name origin); whether the result is a valid config is the validator's to say. */
int oci_config_edit(const char *json, size_t len, const char *origin,
                    const struct oci_config_edit *e, char **out, nook_error_t *err);

#endif
