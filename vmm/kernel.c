#include "kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/capture.h"
#include "../base/utils.h"

static int check_bundle(const char *dir, nook_error_t *err)
{
  static const char *const need[] = {".complete", "vmlinux", "modules.load", "kver"};
  for (size_t i = 0; i < ARRAY_SIZE(need); i++) {
    cleanup_free char *p = NULL;
    xasprintf(&p, "%s/%s", dir, need[i]);
    if (access(p, R_OK) < 0)
      return nook_error(err, errno, "kernel bundle `%s`: no %s", dir, need[i]);
  }
  return 0;
}

/* The script beside the running binary, or NULL. */
static char *find_script(void)
{
  const char *env = getenv("NOOK_VM_KERNEL_SCRIPT");
  if (env != NULL && *env != '\0')
    return xstrdup(env);
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0)
    return NULL;
  exe[n] = '\0';
  const char *dir = dirname(exe);
  static const char *const rel[] = {"scripts/vm-kernel", "../libexec/nook/vm-kernel"};
  for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
    char *p = NULL;
    xasprintf(&p, "%s/%s", dir, rel[i]);
    if (access(p, X_OK) == 0)
      return p;
    free(p);
  }
  return NULL;
}

/* Run the script; its stdout's first line is the bundle.  Its stderr (what
 * it downloads, why it failed) is ours. */
static int run_script(const char *script, char **out, nook_error_t *err)
{
  char *const argv[] = {(char *)script, NULL};
  cleanup_free char *text = NULL;
  if (run_capture(argv, NULL, false, &text, err) < 0)
    return -1;
  text[strcspn(text, "\n")] = '\0';
  if (text[0] != '/')
    return nook_error(err, 0, "`%s` printed no bundle directory", script);
  *out = steal_pointer(&text);
  return 0;
}

int vmm_kernel_bundle(const char *dir, char **out, nook_error_t *err)
{
  cleanup_free char *found = NULL;
  if (dir == NULL || *dir == '\0')
    dir = getenv("NOOK_VM_KERNEL_BUNDLE");
  if (dir == NULL || *dir == '\0') {
    cleanup_free char *script = find_script();
    if (script == NULL)
      return nook_error(err, 0,
                        "no guest kernel: scripts/vm-kernel is not beside nook nor in "
                        "../libexec/nook/ (set NOOK_VM_KERNEL_BUNDLE or NOOK_VM_KERNEL_SCRIPT)");
    if (run_script(script, &found, err) < 0)
      return nook_error_wrap(err, "guest kernel");
    dir = found;
  }
  cleanup_free char *abs = realpath(dir, NULL);
  if (abs == NULL)
    return nook_error(err, errno, "kernel bundle `%s`", dir);
  if (check_bundle(abs, err) < 0)
    return -1;
  *out = steal_pointer(&abs);
  return 0;
}
