/* The container's pty: creation inside the container, hand-off over the
 * console socket, and the foreground proxy of `run`. */
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../base/fdpass.h"
#include "../base/syscalls.h"
#include "../base/utils.h"

/* Bind the pty slave over /dev/console so programs that open it reach the
 * container's terminal rather than the host console. */
static int bind_console(int slave, nook_error_t *err)
{
  struct stat st;
  if (lstat("/dev/console", &st) < 0)
    return errno == ENOENT ? 0 : nook_error(err, errno, "stat /dev/console");
  if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
    return nook_error(err, 0, "/dev/console is neither a file nor a device");

  cleanup_close int tree =
      sys_open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
  if (tree >= 0) {
    if (sys_move_mount(tree, "", AT_FDCWD, "/dev/console", MOVE_MOUNT_F_EMPTY_PATH) < 0)
      return nook_error(err, errno, "bind the pty over /dev/console");
    return 0;
  }
  if (errno != ENOSYS)
    return nook_error(err, errno, "open_tree of the pty");
  char src[64];
  snprintf(src, sizeof(src), "/proc/self/fd/%d", slave);
  if (mount(src, "/dev/console", NULL, MS_BIND, NULL) < 0)
    return nook_error(err, errno, "bind the pty over /dev/console");
  return 0;
}

int terminal_setup_container(bool has_size, uint32_t height, uint32_t width, bool console,
                             uid_t owner, int *master_out, nook_error_t *err)
{
  /* O_NONBLOCK until checked: in a running container (exec) /dev/pts is
   * the container's to replace, with a fifo or anything else. */
  cleanup_close int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
  if (master < 0)
    return nook_error(err, errno, "open /dev/pts/ptmx");
  struct statfs sfs;
  if (fstatfs(master, &sfs) < 0 || sfs.f_type != DEVPTS_SUPER_MAGIC)
    return nook_error(err, 0, "/dev/pts/ptmx is not on a devpts file system");
  int fl = fcntl(master, F_GETFL);
  if (fl < 0 || fcntl(master, F_SETFL, fl & ~O_NONBLOCK) < 0)
    return nook_error(err, errno, "fcntl /dev/pts/ptmx");
  if (unlockpt(master) < 0)
    return nook_error(err, errno, "unlockpt");
  /* The peer ioctl opens the slave of this very master: no lookup by name
   * in a /dev/pts the container could have tampered with. */
  cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0)
    return nook_error(err, errno, "ioctl TIOCGPTPEER");
  /* A non-root user must own its terminal (as with runc): devpts made it
   * root's, and such a user could not, say, fchmod it or mesg(1).  The
   * group stays the devpts mount's (tty). */
  if (owner != 0 && fchown(slave, owner, (gid_t)-1) < 0)
    return nook_error(err, errno, "give the pty to uid %u", (unsigned)owner);
  if (has_size) {
    struct winsize ws = {.ws_row = (unsigned short)height, .ws_col = (unsigned short)width};
    if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
      return nook_error(err, errno, "ioctl TIOCSWINSZ");
  }
  if (getsid(0) != getpid() && setsid() < 0)
    return nook_error(err, errno, "setsid");
  if (ioctl(slave, TIOCSCTTY, 0) < 0)
    return nook_error(err, errno, "ioctl TIOCSCTTY");
  if (console && bind_console(slave, err) < 0)
    return -1;

  for (int i = 0; i < 3; i++) {
    /* dup2 onto itself would keep the close-on-exec flag */
    if (slave == i ? fcntl(i, F_SETFD, 0) < 0 : dup2(slave, i) < 0)
      return nook_error(err, errno, "make the pty fd %d", i);
  }
  if (slave < 3)
    slave = -1;
  *master_out = steal_fd(&master);
  return 0;
}

int terminal_send_to_socket(const char *socket_path, int master, nook_error_t *err)
{
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  char proc_path[PATH_MAX];
  const char *path = socket_path;
  cleanup_close int dirfd = -1;
  if (strlen(path) >= sizeof(sa.sun_path)) {
    /* Too long for sun_path: reach it through an fd of its directory. */
    const char *slash = strrchr(socket_path, '/');
    if (slash == NULL)
      return nook_error(err, ENAMETOOLONG, "console socket `%s`", socket_path);
    cleanup_free char *dir = xstrndup(socket_path, (size_t)(slash - socket_path));
    dirfd = open(*dir ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
      return nook_error(err, errno, "open the directory of console socket `%s`", socket_path);
    snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d/%s", dirfd, slash + 1);
    path = proc_path;
    if (strlen(path) >= sizeof(sa.sun_path))
      return nook_error(err, ENAMETOOLONG, "console socket `%s`", socket_path);
  }
  memcpy(sa.sun_path, path, strlen(path));

  cleanup_close int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0)
    return nook_error(err, errno, "socket");
  if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
    return nook_error(err, errno, "connect to console socket `%s`", socket_path);

  /* The payload names the pty, as runc's does; receivers use it as the
   * file name of the fd. */
  char name[32] = "/dev/ptmx";
  unsigned ptn;
  if (ioctl(master, TIOCGPTN, &ptn) == 0)
    snprintf(name, sizeof(name), "/dev/pts/%u", ptn);
  struct iovec iov = {.iov_base = name, .iov_len = strlen(name)};
  ssize_t r = fdpass_send(sock, &iov, 1, master);
  if (r < 0)
    return nook_error(err, errno, "send the pty to console socket `%s`", socket_path);
  return 0;
}

static void copy_winsize(int master)
{
  struct winsize ws;
  if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0 || ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0)
    ioctl(master, TIOCSWINSZ, &ws);
}

static int proxy_loop(int master, int sigfd, nook_error_t *err)
{
  char in[16384], out[16384];
  size_t in_len = 0;
  bool stdin_open = true;
  for (;;) {
    struct pollfd pfd[3] = {
        {.fd = stdin_open && in_len < sizeof(in) ? STDIN_FILENO : -1, .events = POLLIN},
        {.fd = master, .events = POLLIN | (in_len ? POLLOUT : 0)},
        {.fd = sigfd, .events = POLLIN},
    };
    if (poll(pfd, ARRAY_SIZE(pfd), -1) < 0) {
      if (errno == EINTR)
        continue;
      return nook_error(err, errno, "poll");
    }
    if (pfd[2].revents) {
      struct signalfd_siginfo si;
      while (read(sigfd, &si, sizeof(si)) > 0)
        ;
      copy_winsize(master);
    }
    if (pfd[0].revents) {
      ssize_t r = read(STDIN_FILENO, in + in_len, sizeof(in) - in_len);
      if (r > 0)
        in_len += (size_t)r;
      else if (r == 0 || (errno != EINTR && errno != EAGAIN))
        stdin_open = false; /* keep draining the container's output */
    }
    if (pfd[1].revents & POLLOUT) {
      ssize_t w = write(master, in, in_len);
      if (w > 0) {
        memmove(in, in + w, in_len - (size_t)w);
        in_len -= (size_t)w;
      } else if (w < 0 && errno != EINTR && errno != EAGAIN) {
        in_len = 0;
        stdin_open = false;
      }
    }
    if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(master, out, sizeof(out));
      if (r > 0) {
        /* Blocking write: a stalled reader of our stdout stalls the container,
         * as it would without a pty in between. */
        if (safe_write(STDOUT_FILENO, out, (size_t)r) < 0 && errno != EPIPE)
          return nook_error(err, errno, "write to stdout");
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        return 0; /* EIO: every slave fd is closed, the container is gone */
      }
    }
  }
}

int terminal_proxy(int master, nook_error_t *err)
{
  int master_flags = fcntl(master, F_GETFL);
  if (master_flags < 0 || fcntl(master, F_SETFL, master_flags | O_NONBLOCK) < 0)
    return nook_error(err, errno, "fcntl on the pty master");

  /* SIGTTOU and SIGTTIN blocked: in a background process group of our
   * terminal (under `timeout`, whose own group it is) the raw mode and the
   * reads go ahead instead of stopping us, and nothing would continue us. */
  sigset_t winch, blocked, saved_mask;
  sigemptyset(&winch);
  sigaddset(&winch, SIGWINCH);
  blocked = winch;
  sigaddset(&blocked, SIGTTOU);
  sigaddset(&blocked, SIGTTIN);
  sigprocmask(SIG_BLOCK, &blocked, &saved_mask);
  cleanup_close int sigfd = signalfd(-1, &winch, SFD_CLOEXEC | SFD_NONBLOCK);
  int ret;
  if (sigfd < 0) {
    ret = nook_error(err, errno, "signalfd");
    goto restore_mask;
  }

  struct termios saved_tio;
  bool raw = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0;
  if (raw) {
    struct termios tio = saved_tio;
    cfmakeraw(&tio);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &tio) < 0) {
      ret = nook_error(err, errno, "put the terminal in raw mode");
      goto restore_mask;
    }
  }
  copy_winsize(master);
  ret = proxy_loop(master, sigfd, err);
  if (raw)
    tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tio);
restore_mask:
  sigprocmask(SIG_SETMASK, &saved_mask, NULL);
  fcntl(master, F_SETFL, master_flags);
  return ret;
}

int terminal_receive_from_socket(int lfd, const char *where, nook_error_t *err)
{
  cleanup_close int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0)
    return nook_error(err, errno, "accept on `%s`", where);
  char name[64];
  struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
  int fd = -1;
  if (fdpass_recv(conn, &iov, 1, 0, &fd) < 0)
    return nook_error(err, errno, "receive the pty master");
  if (fd < 0)
    return nook_error(err, EBADMSG, "no pty master on `%s`", where);
  return fd;
}
