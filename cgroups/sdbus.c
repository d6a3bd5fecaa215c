/* The systemd driver's D-Bus client: libsystemd's sd-bus, loaded with
 * dlopen the first time the driver needs systemd, so that neither the
 * cgroupfs driver nor the systemd driver's commands that only touch cgroup
 * files (ps, pause, exec, kill, events) pay for loading it and its
 * libraries.  The header gives the prototypes; the functions come from
 * libsystemd.so.0 at run time. */
#include "systemd.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "internal.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
/* systemd's own socket: no bus daemon in between, and systemd sends its job
 * signals to every client there.  systemctl uses it as root too. */
#define SD_PRIVATE "/run/systemd/private"

#define SDBUS_FUNCS(X)                                                                             \
  X(sd_bus_new)                                                                                    \
  X(sd_bus_set_address)                                                                            \
  X(sd_bus_start)                                                                                  \
  X(sd_bus_open_system)                                                                            \
  X(sd_bus_flush_close_unref)                                                                      \
  X(sd_bus_call)                                                                                   \
  X(sd_bus_message_new_method_call)                                                                \
  X(sd_bus_message_append)                                                                         \
  X(sd_bus_message_append_basic)                                                                   \
  X(sd_bus_message_open_container)                                                                 \
  X(sd_bus_message_close_container)                                                                \
  X(sd_bus_message_read)                                                                           \
  X(sd_bus_message_unref)                                                                          \
  X(sd_bus_match_signal)                                                                           \
  X(sd_bus_process)                                                                                \
  X(sd_bus_wait)                                                                                   \
  X(sd_bus_error_free)                                                                             \
  X(sd_bus_error_has_name)                                                                         \
  X(sd_bus_get_property_string)

static struct {
#define X(f) __typeof__(f) *f;
  SDBUS_FUNCS(X)
#undef X
} lib;

static sd_bus *bus;

/* Every JobRemoved seen (job path, result): a job may end while nook still
 * waits for the reply that names it. */
static struct {
  char **job, **result;
  size_t n;
} removed;

static int load(nook_error_t *err)
{
  static void *handle;
  if (handle)
    return 0;
  void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (h == NULL)
    return nook_error(err, 0,
                      "the systemd cgroup driver needs libsystemd.so.0 (Debian package "
                      "libsystemd0): %s",
                      dlerror());
#define X(f)                                                                                       \
  if ((lib.f = (__typeof__(lib.f))dlsym(h, #f)) == NULL) {                                         \
    dlclose(h);                                                                                    \
    return nook_error(err, 0,                                                                      \
                      "libsystemd.so.0 has no `%s`: too old for the systemd cgroup driver", #f);   \
  }
  SDBUS_FUNCS(X)
#undef X
  handle = h;
  return 0;
}

/* "context: the bus error's message (its name)", or strerror of r. */
static int bus_fail(nook_error_t *err, int r, sd_bus_error *e, const char *context)
{
  int ret;
  if (e && e->name)
    ret = nook_error(err, 0, "%s: %s (%s)", context, e->message ? e->message : "", e->name);
  else
    ret = nook_error(err, r < 0 ? -r : EIO, "%s", context);
  if (e)
    lib.sd_bus_error_free(e);
  return ret;
}

long long sdbus_timeout_ms(void)
{
  const char *s = getenv("NOOK_SYSTEMD_TIMEOUT");
  char *end;
  double v = s && *s ? strtod(s, &end) : 0;
  if (s && *s && *end == '\0' && v > 0 && v < 86400)
    return (long long)(v * 1000);
  if (s && *s)
    nook_warn("NOOK_SYSTEMD_TIMEOUT=%s is not a number of seconds (0-86400): using 30", s);
  return 30000;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
  uint32_t id;
  const char *job, *unit, *result;
  if (lib.sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0)
    return 0;
  removed.job = xrealloc(removed.job, (removed.n + 1) * sizeof(char *));
  removed.result = xrealloc(removed.result, (removed.n + 1) * sizeof(char *));
  removed.job[removed.n] = xstrdup(job);
  removed.result[removed.n] = xstrdup(result);
  removed.n++;
  return 0;
}

static int open_private(sd_bus **out)
{
  sd_bus *b = NULL;
  int r = lib.sd_bus_new(&b);
  if (r >= 0)
    r = lib.sd_bus_set_address(b, "unix:path=" SD_PRIVATE);
  if (r >= 0)
    r = lib.sd_bus_start(b);
  if (r < 0) {
    if (b)
      lib.sd_bus_flush_close_unref(b);
    return r;
  }
  *out = b;
  return 0;
}

int sdbus_connect(nook_error_t *err)
{
  if (bus)
    return 0;
  if (load(err) < 0)
    return -1;
  sd_bus *b = NULL;
  int r = -ENOENT;
  if (geteuid() == 0 && access(SD_PRIVATE, F_OK) == 0)
    r = open_private(&b);
  if (r < 0 && (r = lib.sd_bus_open_system(&b)) < 0)
    return nook_error(err, -r,
                      "the systemd cgroup driver cannot reach systemd (neither %s nor the system "
                      "bus)",
                      SD_PRIVATE);
  /* Local on systemd's socket; an AddMatch to the bus daemon otherwise. */
  r = lib.sd_bus_match_signal(b, NULL, NULL, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed,
                              NULL);
  if (r < 0) {
    lib.sd_bus_flush_close_unref(b);
    return nook_error(err, -r, "subscribe to systemd's JobRemoved signal");
  }
  bus = b;
  return 0;
}

int sdbus_version(void)
{
  static int version = -1;
  if (version >= 0)
    return version;
  version = 0;
  char *s = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  if (bus &&
      lib.sd_bus_get_property_string(bus, SD_DEST, SD_PATH, SD_MANAGER, "Version", &e, &s) >= 0) {
    /* "252.38-1~deb12u1", "v245.4-1.fc32", "245" */
    const char *p = s;
    while (*p == '"' || *p == 'v')
      p++;
    version = atoi(p);
  }
  free(s);
  if (bus)
    lib.sd_bus_error_free(&e);
  return version;
}

/* ---- building calls ---- */

static int append_value(sd_bus_message *m, const struct sdp_value *v)
{
  char t = v->sig[0];
  switch (t) {
  case 'b': {
    int b = v->b;
    return lib.sd_bus_message_append_basic(m, t, &b);
  }
  case 'y': {
    uint8_t x = (uint8_t)v->u;
    return lib.sd_bus_message_append_basic(m, t, &x);
  }
  case 'q': {
    uint16_t x = (uint16_t)v->u;
    return lib.sd_bus_message_append_basic(m, t, &x);
  }
  case 'u': {
    uint32_t x = (uint32_t)v->u;
    return lib.sd_bus_message_append_basic(m, t, &x);
  }
  case 't':
    return lib.sd_bus_message_append_basic(m, t, &v->u);
  case 'n': {
    int16_t x = (int16_t)v->i;
    return lib.sd_bus_message_append_basic(m, t, &x);
  }
  case 'i': {
    int32_t x = (int32_t)v->i;
    return lib.sd_bus_message_append_basic(m, t, &x);
  }
  case 'x':
    return lib.sd_bus_message_append_basic(m, t, &v->i);
  case 'd':
    return lib.sd_bus_message_append_basic(m, t, &v->d);
  case 's':
  case 'o':
  case 'g':
    return lib.sd_bus_message_append_basic(m, t, v->s);
  default:
    break;
  }
  /* An array ("aT") or a struct ("(...)", 'r' to sd-bus, without parens). */
  bool array = t == 'a';
  cleanup_free char *contents =
      array ? xstrdup(v->sig + 1) : xstrndup(v->sig + 1, strlen(v->sig) - 2);
  int r = lib.sd_bus_message_open_container(m, array ? 'a' : 'r', contents);
  for (size_t i = 0; r >= 0 && i < v->n; i++)
    r = append_value(m, &v->items[i]);
  return r < 0 ? r : lib.sd_bus_message_close_container(m);
}

/* The a(sv) of StartTransientUnit and SetUnitProperties. */
static int append_props(sd_bus_message *m, const struct sdp_list *l)
{
  int r = lib.sd_bus_message_open_container(m, 'a', "(sv)");
  for (size_t i = 0; r >= 0 && i < l->n; i++) {
    r = lib.sd_bus_message_open_container(m, 'r', "sv");
    if (r >= 0)
      r = lib.sd_bus_message_append_basic(m, 's', l->v[i].name);
    if (r >= 0)
      r = lib.sd_bus_message_open_container(m, 'v', l->v[i].v.sig);
    if (r >= 0)
      r = append_value(m, &l->v[i].v);
    if (r >= 0)
      r = lib.sd_bus_message_close_container(m);
    if (r >= 0)
      r = lib.sd_bus_message_close_container(m);
  }
  return r < 0 ? r : lib.sd_bus_message_close_container(m);
}

static int new_call(sd_bus_message **m, const char *path, const char *iface, const char *member)
{
  return lib.sd_bus_message_new_method_call(bus, m, SD_DEST, path, iface, member);
}

/* Send m; on success *job (when asked) is the object path the reply names. */
static int call(sd_bus_message *m, long long timeout_ms, char **job, sd_bus_error *e)
{
  sd_bus_message *reply = NULL;
  int r = lib.sd_bus_call(bus, m, (uint64_t)timeout_ms * 1000, e, &reply);
  if (r >= 0 && job) {
    const char *path;
    r = lib.sd_bus_message_read(reply, "o", &path);
    if (r >= 0)
      *job = xstrdup(path);
  }
  if (reply)
    lib.sd_bus_message_unref(reply);
  return r;
}

static int simple_call(const char *member, const char *unit, sd_bus_error *e)
{
  sd_bus_message *m = NULL;
  int r = new_call(&m, SD_PATH, SD_MANAGER, member);
  if (r >= 0)
    r = lib.sd_bus_message_append(m, "s", unit);
  if (r >= 0)
    r = call(m, sdbus_timeout_ms(), NULL, e);
  if (m)
    lib.sd_bus_message_unref(m);
  return r;
}

/* Wait for job until deadline (CLOCK_MONOTONIC ms): 1 with *result set,
 * 0 on timeout, -1 on a broken connection. */
static int wait_job(const char *job, long long deadline, char **result, nook_error_t *err)
{
  for (;;) {
    for (size_t i = 0; i < removed.n; i++)
      if (strcmp(removed.job[i], job) == 0) {
        *result = xstrdup(removed.result[i]);
        return 1;
      }
    int r = lib.sd_bus_process(bus, NULL);
    if (r < 0)
      return nook_error(err, -r, "the connection to systemd failed while waiting for job %s", job);
    if (r > 0)
      continue;
    long long left = deadline - cg_now_ms();
    if (left <= 0)
      return 0;
    r = lib.sd_bus_wait(bus, (uint64_t)left * 1000);
    if (r < 0 && r != -EINTR)
      return nook_error(err, -r, "wait for systemd's job %s", job);
  }
}

static void cancel_job(const char *job)
{
  sd_bus_message *m = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  if (new_call(&m, job, "org.freedesktop.systemd1.Job", "Cancel") >= 0)
    call(m, 5000, NULL, &e);
  if (m)
    lib.sd_bus_message_unref(m);
  lib.sd_bus_error_free(&e);
}

/* ---- the driver's calls ---- */

static int start_once(const char *unit, const struct sdp_list *props, char **job, sd_bus_error *e)
{
  sd_bus_message *m = NULL;
  int r = new_call(&m, SD_PATH, SD_MANAGER, "StartTransientUnit");
  if (r >= 0)
    r = lib.sd_bus_message_append(m, "ss", unit, "fail");
  if (r >= 0)
    r = append_props(m, props);
  if (r >= 0)
    r = lib.sd_bus_message_append(m, "a(sa(sv))", 0);
  if (r >= 0)
    r = call(m, sdbus_timeout_ms(), job, e);
  if (m)
    lib.sd_bus_message_unref(m);
  return r;
}

int sdbus_start_unit(const char *unit, const struct sdp_list *props, bool *exists,
                     nook_error_t *err)
{
  *exists = false;
  if (sdbus_connect(err) < 0)
    return -1;
  long long timeout = sdbus_timeout_ms();
  long long deadline = cg_now_ms() + timeout;
  cleanup_free char *job = NULL, *result = NULL, *context = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = start_once(unit, props, &job, &e);
  if (r < 0 && lib.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
    /* A unit of that name left failed by an earlier container: reset (so
     * systemd unloads it) and try once more. */
    lib.sd_bus_error_free(&e);
    simple_call("ResetFailedUnit", unit, &e);
    lib.sd_bus_error_free(&e);
    r = start_once(unit, props, &job, &e);
    if (r < 0 && lib.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists")) {
      lib.sd_bus_error_free(&e);
      *exists = true;
      return nook_error(err, 0,
                        "systemd unit `%s` exists already: another container (or unit) has this "
                        "cgroupsPath",
                        unit);
    }
  }
  if (r < 0) {
    xasprintf(&context, "systemd refused to start unit `%s` (StartTransientUnit)", unit);
    return bus_fail(err, r, &e, context);
  }
  r = wait_job(job, deadline, &result, err);
  if (r < 0)
    return nook_error_wrap(err, "start unit `%s`", unit);
  if (r == 0) {
    /* Left queued, the job would start the scope later around a process
     * that is gone by then. */
    cancel_job(job);
    return nook_error(err, ETIMEDOUT,
                      "systemd did not start unit `%s` within %lld.%03lld s (job %s cancelled; "
                      "NOOK_SYSTEMD_TIMEOUT sets the limit)",
                      unit, timeout / 1000, timeout % 1000, job);
  }
  if (strcmp(result, "done") != 0) {
    simple_call("ResetFailedUnit", unit, &e);
    lib.sd_bus_error_free(&e);
    return nook_error(err, 0, "systemd could not start unit `%s`: its job ended `%s`", unit,
                      result);
  }
  return 0;
}

int sdbus_set_properties(const char *unit, const struct sdp_list *props, nook_error_t *err)
{
  if (sdbus_connect(err) < 0)
    return -1;
  sd_bus_message *m = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = new_call(&m, SD_PATH, SD_MANAGER, "SetUnitProperties");
  if (r >= 0)
    r = lib.sd_bus_message_append(m, "sb", unit, 1);
  if (r >= 0)
    r = append_props(m, props);
  if (r >= 0)
    r = call(m, sdbus_timeout_ms(), NULL, &e);
  if (m)
    lib.sd_bus_message_unref(m);
  if (r < 0) {
    cleanup_free char *context = NULL;
    xasprintf(&context, "systemd refused the properties of unit `%s` (SetUnitProperties)", unit);
    return bus_fail(err, r, &e, context);
  }
  return 0;
}

int sdbus_stop_unit(const char *unit, nook_error_t *err)
{
  if (sdbus_connect(err) < 0)
    return -1;
  long long timeout = sdbus_timeout_ms();
  long long deadline = cg_now_ms() + timeout;
  cleanup_free char *job = NULL, *result = NULL;
  sd_bus_message *m = NULL;
  sd_bus_error e = SD_BUS_ERROR_NULL;
  int r = new_call(&m, SD_PATH, SD_MANAGER, "StopUnit");
  if (r >= 0)
    r = lib.sd_bus_message_append(m, "ss", unit, "replace");
  if (r >= 0)
    r = call(m, timeout, &job, &e);
  if (m)
    lib.sd_bus_message_unref(m);
  if (r < 0 && lib.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
    /* Not loaded: stopped and collected already (its last process left). */
    lib.sd_bus_error_free(&e);
    return 0;
  }
  if (r < 0) {
    cleanup_free char *context = NULL;
    xasprintf(&context, "systemd refused to stop unit `%s` (StopUnit)", unit);
    return bus_fail(err, r, &e, context);
  }
  r = wait_job(job, deadline, &result, err);
  if (r < 0)
    return nook_error_wrap(err, "stop unit `%s`", unit);
  if (r == 0)
    return nook_error(err, ETIMEDOUT,
                      "systemd did not stop unit `%s` within %lld.%03lld s (job %s; "
                      "NOOK_SYSTEMD_TIMEOUT sets the limit)",
                      unit, timeout / 1000, timeout % 1000, job);
  if (strcmp(result, "done") != 0)
    nook_debug("stop unit `%s`: job ended `%s`", unit, result);
  /* A failed unit stays loaded until reset; nothing of it may be left. */
  r = simple_call("ResetFailedUnit", unit, &e);
  if (r < 0 && !lib.sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit")) {
    cleanup_free char *context = NULL;
    xasprintf(&context, "reset unit `%s` (ResetFailedUnit)", unit);
    return bus_fail(err, r, &e, context);
  }
  lib.sd_bus_error_free(&e);
  return 0;
}
