#include "../vmm/container.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../base/utils.h"
#include "cli.h"
#include "ps_table.h"

extern char **environ;

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'f'},
    {0},
};

/* in_order: everything after the container id goes to ps(1), as with runc. */
static const struct cli_spec spec = {
    .name = "ps",
    .help = "NAME:\n"
            "   nook ps - ps displays the processes running inside a container\n"
            "\n"
            "USAGE:\n"
            "   nook ps [command options] <container-id> [ps options]\n"
            "\n"
            "OPTIONS:\n"
            "   --format value, -f value  select one of: table or json (default: \"table\")\n",
    .shortopts = "f:",
    .longopts = longopts,
    .in_order = true,
};

/* Run ps with args and collect what it wrote to stdout and stderr.  Returns
 * its wait status, or -1 with err set (errno ENOENT: no ps). */
static int run_ps(char **args, char **out, size_t *len, nook_error_t *err)
{
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0)
    return nook_error(err, errno, "pipe");
  cleanup_close int rd = pipefd[0];
  cleanup_close int wr = pipefd[1];
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, wr, 1);
  posix_spawn_file_actions_adddup2(&fa, wr, 2);
  pid_t pid;
  int e = posix_spawnp(&pid, "ps", &fa, NULL, args, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (e != 0)
    return nook_error(err, e, "exec: \"ps\"");
  close(steal_fd(&wr));
  int r = read_fd_all(rd, out, len, err);
  close(steal_fd(&rd)); /* a ps still writing gets EPIPE rather than hang */
  int status;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR)
      return nook_error(err, errno, "wait for ps");
  }
  return r < 0 ? -1 : status;
}

/* The column of the PID field in ps's header, -1 if none. */
static int pid_column(const char *header)
{
  cleanup_free char *copy = xstrdup(header);
  char *save = NULL;
  int i = 0;
  for (char *f = strtok_r(copy, " \t", &save); f; f = strtok_r(NULL, " \t", &save), i++)
    if (strcmp(f, "PID") == 0)
      return i;
  return -1;
}

static bool row_pid(const char *line, int col, long long *pid)
{
  cleanup_free char *copy = xstrdup(line);
  char *save = NULL;
  char *f = strtok_r(copy, " \t", &save);
  for (int i = 0; f && i < col; i++)
    f = strtok_r(NULL, " \t", &save);
  return f != NULL && parse_int64(f, pid) == 0;
}

static int print_table(const pid_t *pids, size_t n, int argc, char **argv, nook_error_t *err)
{
  char *args[argc + 3];
  int k = 0;
  args[k++] = "ps";
  if (argc == 0)
    args[k++] = "-ef";
  for (int i = 0; i < argc; i++)
    args[k++] = argv[i];
  args[k] = NULL;

  cleanup_free char *out = NULL;
  size_t len = 0;
  int status = run_ps(args, &out, &len, err);
  if (status < 0 && (*err)->status == ENOENT) {
    nook_error_free(err);
    /* No procps here (a VM-mode guest never has it): ps -ef's table is
     * ours to make; other ps options are not. */
    if (argc == 0) {
      ps_table_print(pids, n);
      return 0;
    }
    fputs("nook: ps(1) is not installed (procps); listing the pids only\n", stderr);
    puts("PID");
    for (size_t i = 0; i < n; i++)
      printf("%d\n", (int)pids[i]);
    return 0;
  }
  if (status < 0)
    return -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (WIFEXITED(status))
      return nook_error(err, 0, "exit status %d: %s", WEXITSTATUS(status), out ? out : "");
    return nook_error(err, 0, "signal: %s: %s", strsignal(WTERMSIG(status)), out ? out : "");
  }

  char *save = NULL;
  char *line = out ? strtok_r(out, "\n", &save) : NULL;
  if (line == NULL)
    return nook_error(err, 0, "couldn't find PID field in ps output");
  int col = pid_column(line);
  if (col < 0)
    return nook_error(err, 0, "couldn't find PID field in ps output");
  puts(line);
  while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
    long long pid;
    if (!row_pid(line, col, &pid))
      return nook_error(err, 0, "unable to parse pid: %s", line);
    for (size_t i = 0; i < n; i++) {
      if (pids[i] == pid) {
        puts(line);
        break;
      }
    }
  }
  return 0;
}

/* VM mode: what the guest's nook printed, guest pids. */
static int vm_ps(const char *root, const char *id, bool json, char **ps_args, nook_error_t *err)
{
  cleanup_free char *out = NULL;
  size_t len = 0;
  int r = vmm_container_ps(root, id, json, ps_args, &out, &len, err);
  if (r < 0)
    return -1;
  if (r == 1) {
    /* Ended: no processes, as namespace mode lists them. */
    if (json)
      puts("null");
    else
      ps_table_print(NULL, 0);
    return 0;
  }
  if (fwrite(out, 1, len, stdout) != len)
    return nook_error(err, errno, "write to stdout");
  return 0;
}

int cmd_ps(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  const char *format = "table";
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    if (c == 'f')
      format = optarg;
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args(spec.name, argc - optind, 1, -1, err) < 0)
    return -1;
  cleanup_free pid_t *pids = NULL;
  size_t n = 0;
  if (vmm_container_is_vm(g->root, argv[optind])) {
    if (strcmp(format, "json") != 0 && strcmp(format, "table") != 0)
      return nook_error(err, 0, "invalid format option");
    return vm_ps(g->root, argv[optind], strcmp(format, "json") == 0, argv + optind + 1, err);
  }
  if (nook_container_pids(g->root, argv[optind], &pids, &n, err) < 0)
    return -1;
  if (strcmp(format, "json") == 0) {
    /* Go's encoding of runc's empty (nil) slice is null. */
    if (n == 0) {
      puts("null");
      return 0;
    }
    putchar('[');
    for (size_t i = 0; i < n; i++)
      printf("%s%d", i ? "," : "", (int)pids[i]);
    puts("]");
    return 0;
  }
  if (strcmp(format, "table") != 0)
    return nook_error(err, 0, "invalid format option");
  return print_table(pids, n, argc - optind - 1, argv + optind + 1, err);
}
