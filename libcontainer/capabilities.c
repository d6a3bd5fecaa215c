/* process.capabilities: bounding drop, the three libcap sets, ambient. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "../base/log.h"
#include "../base/utils.h"
#include "process.h"

#define BIT(c) (UINT64_C(1) << (c))

/* The highest capability the running kernel knows.  Read once: the caller
 * may have pivoted into a rootfs whose /proc is not mounted yet. */
static int last_cap(void)
{
  static int cached = -1;
  if (cached >= 0)
    return cached;
  char buf[16] = "";
  long long v = -1;
  cleanup_close int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? safe_read(fd, buf, sizeof(buf) - 1) : -1;
  if (n > 0) {
    buf[strcspn(buf, "\n")] = '\0';
    if (parse_int64(buf, &v) < 0)
      v = -1;
  }
  if (v < 0) {
    /* No procfs: the bounding set answers EINVAL past the last capability. */
    v = 0;
    while (v < 64 && prctl(PR_CAPBSET_READ, (unsigned long)v, 0, 0, 0) >= 0)
      v++;
    v--;
  }
  cached = v > 63 ? 63 : (int)v;
  return cached;
}

/* "CAP_CHOWN" as config.json spells it (or "capability 45"); cap_to_name() memory must go back
 * through cap_free(), not free(). */
static const char *cap_str(int c, char *buf, size_t len)
{
  char *name = cap_to_name(c);
  snprintf(buf, len, "%s", name ? name : "?");
  cap_free(name);
  for (char *p = buf; *p; p++)
    *p = (char)toupper((unsigned char)*p);
  if (isdigit((unsigned char)buf[0])) /* libcap has no name for it */
    snprintf(buf, len, "capability %d", c);
  return buf;
}

static void warn_caps(uint64_t mask, const char *why)
{
  char name[32];
  for (int c = 0; c < 64; c++)
    if (mask & BIT(c))
      nook_warn("process.capabilities: %s %s", cap_str(c, name, sizeof(name)), why);
}

static uint64_t get_mask(cap_t caps, cap_flag_t flag, int last)
{
  uint64_t m = 0;
  for (int c = 0; c <= last; c++) {
    cap_flag_value_t v;
    if (cap_get_flag(caps, c, flag, &v) == 0 && v == CAP_SET)
      m |= BIT(c);
  }
  return m;
}

static int set_mask(cap_t caps, cap_flag_t flag, uint64_t mask, int last)
{
  for (cap_value_t c = 0; c <= last; c++)
    if ((mask & BIT(c)) && cap_set_flag(caps, flag, 1, &c, CAP_SET) < 0)
      return -1;
  return 0;
}

static void cap_freep(cap_t *c)
{
  if (*c != NULL)
    cap_free(*c);
}

bool process_has_cap(int cap)
{
  cap_flag_value_t v = CAP_CLEAR;
  __attribute__((cleanup(cap_freep))) cap_t caps = cap_get_proc();
  if (caps == NULL || cap_get_flag(caps, (cap_value_t)cap, CAP_EFFECTIVE, &v) < 0)
    return false;
  return v == CAP_SET;
}

void process_capabilities_prepare(void)
{
  (void)last_cap();
}

int process_apply_capabilities(const struct oci_process *p, nook_error_t *err)
{
  const int last = last_cap();
  const uint64_t known = last >= 63 ? UINT64_MAX : BIT(last + 1) - 1;
  /* As runc: no process.capabilities means every set is empty. */
  struct oci_capabilities want = {0};
  if (p->has_capabilities)
    want = p->capabilities;

  uint64_t any = want.bounding | want.effective | want.inheritable | want.permitted | want.ambient;
  warn_caps(any & ~known, "is not known to the running kernel, skipped");
  want.bounding &= known;
  want.effective &= known;
  want.inheritable &= known;
  want.permitted &= known;
  want.ambient &= known;

  __attribute__((cleanup(cap_freep))) cap_t cur = cap_get_proc();
  if (cur == NULL)
    return nook_error(err, errno, "capget");
  /* A uid change away from 0 empties the effective set even with KEEPCAPS;
   * dropping from the bounding set needs CAP_SETPCAP effective again. */
  if (cap_fill(cur, CAP_EFFECTIVE, CAP_PERMITTED) < 0 || cap_set_proc(cur) < 0)
    return nook_error(err, errno, "capset: raise the effective set");
  const uint64_t had_perm = get_mask(cur, CAP_PERMITTED, last);
  const uint64_t had_inh = get_mask(cur, CAP_INHERITABLE, last);

  /* The kernel, not /proc (which the container may control), says where
   * the bounding set ends: EINVAL past the last capability.  Only the
   * wanted capabilities are read (to warn about those missing); the others
   * are dropped unread, which costs nothing when they are already gone. */
  uint64_t bset = 0;
  for (int c = 0; c < 64; c++) {
    int r = (want.bounding & BIT(c)) ? prctl(PR_CAPBSET_READ, (unsigned long)c, 0, 0, 0)
                                     : prctl(PR_CAPBSET_DROP, (unsigned long)c, 0, 0, 0);
    if (r < 0 && errno == EINVAL)
      break;
    if (r < 0) {
      int e = errno;
      char name[32];
      return nook_error(err, e, "%s %s in the bounding set",
                        (want.bounding & BIT(c)) ? "read" : "drop", cap_str(c, name, sizeof(name)));
    }
    if ((want.bounding & BIT(c)) && r == 1)
      bset |= BIT(c);
  }

  /* config.md: what cannot be granted is warned about, not fatal.  These are
   * capset(2)'s rules, applied up front so each skipped capability is named
   * instead of capset failing with EPERM. */
  uint64_t inh_allowed = had_inh | bset;
  if (!(had_perm & BIT(CAP_SETPCAP)))
    inh_allowed &= had_inh | had_perm;
  const uint64_t perm = want.permitted & had_perm;
  const uint64_t inh = want.inheritable & inh_allowed;
  const uint64_t eff = want.effective & perm;
  const uint64_t denied =
      (want.bounding & ~bset) | (want.permitted & ~perm) | (want.inheritable & ~inh);
  warn_caps(denied, "cannot be granted by this runtime, skipped");
  warn_caps(want.effective & ~perm & ~denied, "is effective but not permitted, skipped");
  warn_caps(want.ambient & ~(perm & inh) & ~denied,
            "is ambient but not permitted and inheritable, skipped");

  if (cap_clear(cur) < 0 || set_mask(cur, CAP_PERMITTED, perm, last) < 0 ||
      set_mask(cur, CAP_INHERITABLE, inh, last) < 0 || set_mask(cur, CAP_EFFECTIVE, eff, last) < 0)
    return nook_error(err, errno, "build the capability sets");
  if (cap_set_proc(cur) < 0)
    return nook_error(err, errno, "capset");

  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && want.ambient != 0)
    return nook_error(err, errno, "prctl PR_CAP_AMBIENT_CLEAR_ALL");
  for (int c = 0; c <= last; c++) {
    if (!(want.ambient & perm & inh & BIT(c)))
      continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)c, 0, 0) < 0) {
      int e = errno;
      char name[32];
      nook_warn("process.capabilities: raise ambient %s: %s", cap_str(c, name, sizeof(name)),
                strerror(e));
    }
  }

  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
    return nook_error(err, errno, "prctl PR_SET_KEEPCAPS 0");
  return 0;
}
