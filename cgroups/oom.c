/* The OOM-watch object of `nook events`: which kind of notification the
 * manager hands out (a v1 eventfd or the v2 memory.events file) is known
 * here, so callers only poll an fd and ask whether an OOM kill happened. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../base/utils.h"

struct cgroup_oom_watch {
  int fd; /* -1: nothing more to watch */
  /* v2 memory.events: POLLPRI on any counter change, oom_kill re-read;
   * otherwise a v1 eventfd counting memory.oom_control events. */
  bool is_file;
  unsigned long long oom_kills;
  /* v1: the eventfd also fires when the memory cgroup is removed; an
   * oom_control still present tells the two apart. */
  char *v1_memory_dir;
};

static unsigned long long read_oom_kills(int fd)
{
  char buf[1024];
  ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0)
    return 0;
  buf[n] = '\0';
  uint64_t v = 0;
  return cg_kv_u64(buf, "oom_kill", &v) ? v : 0;
}

int cgroup_oom_watch_open(const struct cgroup_manager *m, const struct cgroup_paths *p,
                          struct cgroup_oom_watch **out, nook_error_t *err)
{
  *out = NULL;
  if (m->oom_notify_fd == NULL)
    return nook_error(err, ENOTSUP,
                      "the cgroup %s manager has no OOM notification; only stats are reported",
                      m->name);
  int fd = m->oom_notify_fd(p, err);
  if (fd < 0)
    return nook_error_wrap(err, "no OOM notifications");
  struct cgroup_oom_watch *w = xmalloc(sizeof(*w));
  /* Every manager gives the v1 eventfd when a v1 hierarchy carries the
   * memory controller, and memory.events otherwise. */
  const char *memory = cg_v1_dir(p, "memory");
  *w = (struct cgroup_oom_watch){.fd = fd, .is_file = memory == NULL};
  if (w->is_file) {
    w->oom_kills = read_oom_kills(fd);
  } else {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    w->v1_memory_dir = xstrdup(memory);
  }
  *out = w;
  return 0;
}

int cgroup_oom_watch_fd(const struct cgroup_oom_watch *w)
{
  return w ? w->fd : -1;
}

short cgroup_oom_watch_events(const struct cgroup_oom_watch *w)
{
  return w && w->is_file ? POLLPRI : POLLIN;
}

static void watch_stop(struct cgroup_oom_watch *w)
{
  if (w->fd >= 0)
    close(w->fd);
  w->fd = -1;
}

bool cgroup_oom_watch_fired(struct cgroup_oom_watch *w, short revents)
{
  if (w == NULL || w->fd < 0)
    return false;
  if ((revents & (cgroup_oom_watch_events(w) | POLLERR)) == 0)
    return false;
  if (w->is_file) {
    unsigned long long now = read_oom_kills(w->fd);
    bool fired = now > w->oom_kills;
    w->oom_kills = now;
    return fired;
  }
  uint64_t count = 0;
  if (read(w->fd, &count, sizeof(count)) != sizeof(count) || count == 0)
    return false;
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/memory.oom_control", w->v1_memory_dir);
  if (access(path, F_OK) != 0) {
    watch_stop(w);
    return false;
  }
  return true;
}

void cgroup_oom_watch_free(struct cgroup_oom_watch *w)
{
  if (w == NULL)
    return;
  watch_stop(w);
  free(w->v1_memory_dir);
  free(w);
}

void cleanup_oom_watchp(struct cgroup_oom_watch **w)
{
  cgroup_oom_watch_free(*w);
  *w = NULL;
}
