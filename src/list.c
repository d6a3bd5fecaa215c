#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "../base/utils.h"
#include "cli.h"

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'f'},
    {"quiet", optional_argument, NULL, 'q'},
    {0},
};

static const struct cli_spec spec = {
    .name = "list",
    .help = "NAME:\n"
            "   nook list - lists containers started by nook with the given root\n"
            "\n"
            "USAGE:\n"
            "   nook list [command options]\n"
            "\n"
            "Where the given root is specified via the global option \"--root\"\n"
            "(default: \"/run/nook\").\n"
            "\n"
            "EXAMPLE 1:\n"
            "To list containers created via the default \"--root\":\n"
            "       # nook list\n"
            "\n"
            "EXAMPLE 2:\n"
            "To list containers created using a non-default value for \"--root\":\n"
            "       # nook --root value list\n"
            "\n"
            "OPTIONS:\n"
            "   --format value, -f value  select one of: table or json (default: \"table\")\n"
            "   --quiet, -q               display only container IDs\n",
    .shortopts = "f:q",
    .longopts = longopts,
};

struct list {
  struct nook_container_info *v;
  size_t n;
};

static void list_clear(struct list *l)
{
  nook_container_info_free(l->v, l->n);
}

static const char *str(const char *s)
{
  return s ? s : "";
}

static int by_id(const void *a, const void *b)
{
  return strcmp(((const struct nook_container_info *)a)->id,
                ((const struct nook_container_info *)b)->id);
}

/* Columns as runc's tabwriter lays them out: at least 12 wide, 3 spaces of
 * padding; the last column is not padded. */
enum { MIN_WIDTH = 12, PADDING = 3, COLUMNS = 6 };

static void print_table(const struct list *l)
{
  static const char *const header[COLUMNS] = {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"};
  size_t rows = l->n + 1;
  const char *(*cell)[COLUMNS] = xcalloc(rows, sizeof(*cell));
  char(*pid)[24] = xcalloc(rows, sizeof(*pid));
  memcpy(cell[0], header, sizeof(header));
  for (size_t r = 1; r < rows; r++) {
    const struct nook_container_info *c = &l->v[r - 1];
    snprintf(pid[r], sizeof(pid[r]), "%d", (int)c->pid);
    const char *row[COLUMNS] = {c->id, pid[r], c->status, c->bundle, c->created, c->owner};
    memcpy(cell[r], row, sizeof(row));
  }

  int width[COLUMNS - 1];
  for (int i = 0; i < COLUMNS - 1; i++) {
    width[i] = MIN_WIDTH;
    for (size_t r = 0; r < rows; r++) {
      int w = (int)strlen(str(cell[r][i])) + PADDING;
      width[i] = w > width[i] ? w : width[i];
    }
  }
  for (size_t r = 0; r < rows; r++) {
    for (int i = 0; i < COLUMNS - 1; i++)
      printf("%-*s", width[i], str(cell[r][i]));
    printf("%s\n", str(cell[r][COLUMNS - 1]));
  }
  free(pid);
  free(cell);
}

static void gen_string(yajl_gen gen, const char *s)
{
  s = str(s);
  yajl_gen_string(gen, (const unsigned char *)s, strlen(s));
}

static void gen_field(yajl_gen gen, const char *key, const char *value)
{
  gen_string(gen, key);
  gen_string(gen, value);
}

/* ociVersion and rootfs are part of the state but not of
 * nook_container_info; a container deleted meanwhile just leaves them empty. */
static void gen_state_field(yajl_gen gen, yajl_val state, const char *key)
{
  const char *path[] = {key, NULL};
  yajl_val v = state ? yajl_tree_get(state, path, yajl_t_string) : NULL;
  gen_field(gen, key, v ? YAJL_GET_STRING(v) : "");
}

static void print_json(const struct cli_global *g, const struct list *l)
{
  yajl_gen gen = yajl_gen_alloc(NULL);
  yajl_gen_array_open(gen);
  for (size_t i = 0; i < l->n; i++) {
    const struct nook_container_info *c = &l->v[i];
    cleanup_free char *json = NULL;
    nook_error_t ignored = NULL;
    if (nook_container_state_json(g->root, c->id, &json, &ignored) < 0)
      nook_error_free(&ignored);
    yajl_val state = json ? yajl_tree_parse(json, NULL, 0) : NULL;

    yajl_gen_map_open(gen);
    gen_state_field(gen, state, "ociVersion");
    gen_field(gen, "id", c->id);
    gen_string(gen, "pid");
    yajl_gen_integer(gen, c->pid);
    gen_field(gen, "status", c->status);
    gen_field(gen, "bundle", c->bundle);
    gen_state_field(gen, state, "rootfs");
    gen_field(gen, "created", c->created);
    gen_field(gen, "owner", c->owner);
    yajl_gen_map_close(gen);
    yajl_tree_free(state);
  }
  yajl_gen_array_close(gen);
  const unsigned char *buf;
  size_t len;
  yajl_gen_get_buf(gen, &buf, &len);
  printf("%.*s\n", (int)len, (const char *)buf);
  yajl_gen_free(gen);
}

int cmd_list(const struct cli_global *g, int argc, char **argv, nook_error_t *err)
{
  const char *format = "table";
  bool quiet = false;
  int c;
  while ((c = cli_getopt(argc, argv, &spec, err)) >= 0) {
    if (c == 'f')
      format = optarg;
    else if (c == 'q')
      quiet = cli_true(optarg);
  }
  if (c != CLI_DONE)
    return cli_stop(c);
  if (cli_check_args(spec.name, argc - optind, 0, 0, err) < 0)
    return -1;
  bool json = strcmp(format, "json") == 0;
  if (!json && strcmp(format, "table") != 0)
    return nook_error(err, 0, "invalid format option");

  __attribute__((cleanup(list_clear))) struct list l = {0};
  if (nook_container_list(g->root, &l.v, &l.n, err) < 0)
    return -1;
  /* By id, as runc (which reads the root sorted): stable for scripts that
   * diff one listing against the next. */
  if (l.n > 1)
    qsort(l.v, l.n, sizeof(*l.v), by_id);
  if (quiet) {
    for (size_t i = 0; i < l.n; i++)
      printf("%s\n", l.v[i].id);
  } else if (json) {
    print_json(g, &l);
  } else {
    print_table(&l);
  }
  return 0;
}
