/* cgroups/resource_groups.c: linux.resources split into the groups a
 * rootless create applies (or warns about) one at a time, and whether a v2
 * cgroup was given a group's controller. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../cgroups/cgroup.h"
#include "oci_test.h"

static bool parse(const char *json, struct oci_resources *r)
{
  cleanup_free char *doc = J(json);
  nook_error_t err = NULL;
  if (oci_resources_parse(doc, strlen(doc), "res", r, &err) < 0) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    return false;
  }
  return true;
}

/* "field=controller" per group, joined by spaces. */
static char *groups_of(const char *json)
{
  struct oci_resources r = {0};
  char *out = xstrdup("");
  if (!parse(json, &r))
    return out;
  struct cgroup_resource_group *g = NULL;
  size_t n = 0;
  cgroup_resources_split(&r, &g, &n);
  for (size_t i = 0; i < n; i++) {
    char *next = NULL;
    xasprintf(&next, "%s%s%s=%s", out, i ? " " : "", g[i].field, g[i].controller);
    free(out);
    out = next;
  }
  free(g);
  oci_resources_clear(&r);
  return out;
}

TEST(split_names_each_set_group_and_its_controller)
{
  cleanup_free char *all = groups_of(
      "{'memory': {'limit': 100}, 'cpu': {'shares': 512, 'cpus': '0'}, 'pids': {'limit': 5}, "
      "'blockIO': {'weight': 100}, 'unified': {'memory.high': '10', 'cgroup.type': 'threaded'}}");
  CHECK_STR_EQ(all, "linux.resources.memory=memory linux.resources.cpu=cpu "
                    "linux.resources.cpu.cpus/mems=cpuset linux.resources.pids=pids "
                    "linux.resources.blockIO=io linux.resources.unified[\"memory.high\"]=memory "
                    "linux.resources.unified[\"cgroup.type\"]=");
  /* what is unset or zero (runc's "unchanged") is no group */
  cleanup_free char *none = groups_of("{'memory': {'limit': 0}, 'cpu': {'shares': 0}}");
  CHECK_STR_EQ(none, "");
}

TEST(split_groups_carry_only_their_own_fields)
{
  struct oci_resources r = {0};
  CHECK(parse("{'memory': {'limit': 100}, 'cpu': {'quota': 5000, 'cpus': '0-1'}}", &r));
  struct cgroup_resource_group *g = NULL;
  size_t n = 0;
  cgroup_resources_split(&r, &g, &n);
  CHECK_INT_EQ(n, 3);
  if (n == 3) {
    CHECK(g[0].r.has_memory && !g[0].r.has_cpu && g[0].r.memory.limit == 100);
    CHECK(g[1].r.has_cpu && g[1].r.cpu.quota == 5000 && g[1].r.cpu.cpus == NULL);
    CHECK(g[2].r.has_cpu && !g[2].r.cpu.has_quota && strcmp(g[2].r.cpu.cpus, "0-1") == 0);
    CHECK(!g[1].r.has_memory && !g[2].r.has_memory);
  }
  free(g);
  oci_resources_clear(&r);
}

TEST(has_controller_reads_the_cgroups_own_list)
{
  char dir[] = "/tmp/nook-unit-groups.XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[64];
  snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
  nook_error_t err = NULL;
  CHECK_INT_EQ(
      write_file_at(AT_FDCWD, path, O_CREAT | O_TRUNC, 0644, "cpu memory pids\n", 16, &err), 0);
  struct cgroup_paths p = {.mode = CGROUP_MODE_UNIFIED, .unified = dir};
  bool has = false;
  CHECK_INT_EQ(cgroup_has_controller(&p, "memory", &has, &err), 0);
  CHECK(has);
  CHECK_INT_EQ(cgroup_has_controller(&p, "io", &has, &err), 0);
  CHECK(!has);
  CHECK_INT_EQ(cgroup_has_controller(&p, "", &has, &err), 0);
  CHECK(has);
  /* v1 hierarchies: the directory's files are there whenever it is */
  struct cgroup_paths v1 = {.mode = CGROUP_MODE_LEGACY};
  CHECK_INT_EQ(cgroup_has_controller(&v1, "io", &has, &err), 0);
  CHECK(has);
  unlink(path);
  rmdir(dir);
}
