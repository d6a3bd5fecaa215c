/* Private to cgroups/: the systemd cgroup driver's parts.  The unit name
 * and slice from cgroupsPath (sd_unit.c), the unit properties from
 * linux.resources and the org.systemd.property.* annotations (sd_props.c,
 * sd_gvariant.c), and the D-Bus calls to systemd's manager (sdbus.c, which
 * loads libsystemd only when the driver is used).  manager_systemd.c
 * composes them into a struct cgroup_manager. */
#ifndef NOOK_CGROUPS_SYSTEMD_H
#define NOOK_CGROUPS_SYSTEMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"

/* ---- cgroupsPath in systemd form (sd_unit.c) ---- */

/* The unit nook makes for a container: `unit` in `slice`. */
struct sd_unit_name {
  char *slice; /* "system.slice", "-.slice" for the root */
  char *unit;  /* "docker-ID.scope" */
  /* Where the slice's cgroup is, below systemd's root ("/system.slice",
   * "/kubepods.slice/kubepods-besteffort.slice"; "" for the root slice). */
  char *slice_path;
};

/* runc's reading of cgroupsPath for --systemd-cgroup: "slice:prefix:name"
 * gives the scope prefix-name.scope in slice (empty slice: system.slice);
 * an empty cgroupsPath gives nook-<id>.scope in system.slice. */
int sd_unit_parse(const char *cgroups_path, const char *id, struct sd_unit_name *out,
                  nook_error_t *err);
/* "a-b.slice" -> "/a.slice/a-b.slice", "-.slice" -> "" (systemd's nesting
 * of slices by dashes), or an error naming the slice. */
int sd_expand_slice(const char *slice, char **out, nook_error_t *err);
void sd_unit_name_clear(struct sd_unit_name *u);

/* ---- unit properties (sd_props.c, sd_gvariant.c) ---- */

/* One D-Bus value, as systemd's StartTransientUnit and SetUnitProperties
 * take them in their a(sv) argument. */
struct sdp_value {
  char *sig; /* its D-Bus signature: "t", "as", "a(ss)" */
  union {
    uint64_t u; /* y q u t */
    int64_t i;  /* n i x */
    double d;
    bool b;
    char *s; /* s o g */
  };
  struct sdp_value *items; /* array elements or struct fields */
  size_t n;
};

struct sdp_prop {
  char *name;
  struct sdp_value v;
};

struct sdp_list {
  struct sdp_prop *v;
  size_t n;
};

void sdp_list_clear(struct sdp_list *l);
void sdp_add_bool(struct sdp_list *l, const char *name, bool b);
void sdp_add_u64(struct sdp_list *l, const char *name, uint64_t u);
void sdp_add_str(struct sdp_list *l, const char *name, const char *s);
/* AllowedCPUs, AllowedMemoryNodes: systemd's CPU-set bytes ("ay"). */
void sdp_add_bytes(struct sdp_list *l, const char *name, const uint8_t *b, size_t n);
void sdp_add_pids(struct sdp_list *l, const char *name, const pid_t *pids, size_t n);
/* DeviceAllow: entries of (path, permissions), "a(ss)"; none clears the
 * list (systemd's reset). */
void sdp_add_device_allow(struct sdp_list *l, char *const *paths, char *const *perms, size_t n);
/* Move a value (and its ownership) into the list under name. */
void sdp_add_value(struct sdp_list *l, const char *name, struct sdp_value *v);
void sdp_value_clear(struct sdp_value *v);
/* "Name=t 42" per property, one line each, in GVariant-like text: for
 * errors, the debug log and tests.  Caller frees. */
char *sdp_format(const struct sdp_list *l);

/* What systemd is, for the properties it takes (0 when unknown: every
 * versioned property is then left to the cgroup files). */
struct sd_host {
  bool v2; /* the unified hierarchy (else v1 properties: MemoryLimit, ...) */
  int version;
};

/* linux.resources as unit properties, where systemd has them (runc's table,
 * docs/systemd.md), and the device policy when r->devices is set.  *r_out
 * (a shallow copy of r) gets cpu.quota rounded up as systemd rounds
 * CPUQuotaPerSecUSec, so the file nook writes afterwards agrees with it. */
int sdp_from_resources(const struct oci_resources *r, const struct sd_host *h, struct sdp_list *out,
                       struct oci_resources *r_out, nook_error_t *err);
/* The org.systemd.property.NAME annotations, as runc takes them: NAME of
 * letters only (3 or more), the value in GVariant text format, a
 * NAMESec (lowercase letter before "Sec") given in seconds sent as NAMEUSec
 * in microseconds. */
int sdp_from_annotations(const struct oci_kv *a, size_t n, struct sdp_list *out, nook_error_t *err);
/* One GVariant text value ("uint64 5", "'x'", "@as ['a']", "[1, 2]",
 * "true") into v; what names the value in errors. */
int sd_gvariant_parse(const char *text, struct sdp_value *v, nook_error_t *err);

/* ---- D-Bus to systemd (sdbus.c) ---- */

/* How long nook waits for a job of systemd's (a unit's start or stop)
 * before it gives up, cancels the job and says which unit it was:
 * NOOK_SYSTEMD_TIMEOUT seconds when set (nook(8)), else 30 s as runc. */
long long sdbus_timeout_ms(void);
/* Load libsystemd and connect to systemd's manager, once per process.  The
 * connection is reused by the calls below. */
int sdbus_connect(nook_error_t *err);
/* systemd's version number ("252.38-1" -> 252); 0 when it cannot be read. */
int sdbus_version(void);
/* StartTransientUnit(unit, "fail", props) and wait for the job: its result
 * must be "done".  A unit of that name left over (failed) is reset and the
 * start tried once more, as runc does; *exists says the unit is someone
 * else's (a live one of that name). */
int sdbus_start_unit(const char *unit, const struct sdp_list *props, bool *exists,
                     nook_error_t *err);
/* SetUnitProperties(unit, runtime, props). */
int sdbus_set_properties(const char *unit, const struct sdp_list *props, nook_error_t *err);
/* StopUnit(unit, "replace") and wait for the job, then ResetFailedUnit: no
 * unit of that name is left loaded.  A unit that is not loaded is fine. */
int sdbus_stop_unit(const char *unit, nook_error_t *err);

#endif
