/* Internal to oci/: the spec's symbolic names and the kernel/libseccomp
 * values they map to.  The public lookups (namespaces, capabilities,
 * rlimits, signals) are declared in config.h. */
#ifndef NOOK_OCI_NAMES_H
#define NOOK_OCI_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct oci_name {
  const char *name;
  int64_t value;
};

struct oci_name_table {
  const struct oci_name *v;
  size_t n;
};

extern const struct oci_name_table oci_seccomp_actions; /* base actions: ERRNO(0), TRACE(0) */
extern const struct oci_name_table oci_seccomp_arches;  /* SCMP_ARCH_* (AUDIT_ARCH_*) */
extern const struct oci_name_table oci_seccomp_ops;     /* enum scmp_compare */
extern const struct oci_name_table oci_seccomp_flags;   /* SECCOMP_FILTER_FLAG_* */
extern const struct oci_name_table oci_sched_policies;  /* SCHED_* */
extern const struct oci_name_table oci_sched_flags;     /* SCHED_FLAG_* */
extern const struct oci_name_table oci_ioprio_classes;  /* IOPRIO_CLASS_* */
extern const struct oci_name_table oci_mpol_modes;      /* MPOL_* */
extern const struct oci_name_table oci_mpol_flags;      /* MPOL_F_* */
extern const struct oci_name_table oci_propagations;    /* MS_* (| MS_REC) */
extern const struct oci_name_table oci_personality_domains;
extern const struct oci_name_table oci_rlimits; /* RLIMIT_* */

bool oci_name_lookup(const struct oci_name_table *t, const char *name, int64_t *out);
const char *oci_name_of(const struct oci_name_table *t, int64_t value);

#endif
