/* oci_config_for_guest(): the config a VM-mode guest builds the container
 * from. */
#include "unit.h"

#include <string.h>
#include <yajl/yajl_tree.h>

#include "../../base/utils.h"
#include "../../oci/config.h"

static const char config[] =
    "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"/host/rootfs\",\"readonly\":true},"
    "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
    "\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/"
    "data\",\"options\":[\"rbind\"]}],"
    "\"hooks\":{\"prestart\":[{\"path\":\"/p\"}],\"createRuntime\":[{\"path\":\"/c\"}],"
    "\"createContainer\":[{\"path\":\"/cc\"}],\"startContainer\":[{\"path\":\"/sc\"}],"
    "\"poststart\":[{\"path\":\"/ps\"}],\"poststop\":[{\"path\":\"/pt\"}]},"
    "\"annotations\":{\"nook.vm\":\"qemu\",\"keep\":\"me\"},"
    "\"vm\":{\"hypervisor\":{\"path\":\"/q\"}},"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\",\"path\":\"/run/"
    "netns/pod\"}],\"sysctl\":{\"a\":\"b\"}},"
    "\"hostname\":\"h\"}";

static const char *str_at(yajl_val root, const char **path)
{
  yajl_val v = yajl_tree_get(root, path, yajl_t_string);
  return v ? YAJL_GET_STRING(v) : NULL;
}

TEST(guest_config_paths_hooks_and_annotation)
{
  char *sources[] = {NULL, "/mnt/ctr/mounts/1"};
  char *out = NULL;
  nook_error_t err = NULL;
  CHECK_INT_EQ(oci_config_for_guest(config, strlen(config), "config.json", "rootfs", sources, 2,
                                    "nook.vm", 0, &out, &err),
               0);
  yajl_val root = yajl_tree_parse(out, NULL, 0);
  CHECK(root != NULL);
  const char *rp[] = {"root", "path", NULL}, *hn[] = {"hostname", NULL};
  CHECK_STR_EQ(str_at(root, rp), "rootfs");
  CHECK_STR_EQ(str_at(root, hn), "h");
  const char *ro[] = {"root", "readonly", NULL};
  CHECK(YAJL_IS_TRUE(yajl_tree_get(root, ro, yajl_t_true)));
  const char *mp[] = {"mounts", NULL};
  yajl_val mounts = yajl_tree_get(root, mp, yajl_t_array);
  CHECK(mounts != NULL && YAJL_GET_ARRAY(mounts)->len == 2);
  const char *src[] = {"source", NULL};
  CHECK_STR_EQ(str_at(YAJL_GET_ARRAY(mounts)->values[0], src), "proc");
  CHECK_STR_EQ(str_at(YAJL_GET_ARRAY(mounts)->values[1], src), "/mnt/ctr/mounts/1");
  const char *hp[] = {"hooks", NULL};
  yajl_val hooks = yajl_tree_get(root, hp, yajl_t_object);
  CHECK(hooks != NULL && YAJL_GET_OBJECT(hooks)->len == 2);
  CHECK_STR_EQ(YAJL_GET_OBJECT(hooks)->keys[0], "createContainer");
  CHECK_STR_EQ(YAJL_GET_OBJECT(hooks)->keys[1], "startContainer");
  const char *vm[] = {"annotations", "nook.vm", NULL}, *keep[] = {"annotations", "keep", NULL};
  CHECK(str_at(root, vm) == NULL);
  CHECK_STR_EQ(str_at(root, keep), "me");
  const char *vmo[] = {"vm", NULL};
  CHECK(yajl_tree_get(root, vmo, yajl_t_any) == NULL);
  /* The network namespace's path is the host's: the guest makes its own. */
  const char *nsp[] = {"linux", "namespaces", NULL}, *type[] = {"type", NULL},
             *path[] = {"path", NULL}, *sysctl[] = {"linux", "sysctl", "a", NULL};
  yajl_val ns = yajl_tree_get(root, nsp, yajl_t_array);
  CHECK(ns != NULL && YAJL_GET_ARRAY(ns)->len == 2);
  if (ns != NULL && YAJL_GET_ARRAY(ns)->len == 2) {
    CHECK_STR_EQ(str_at(YAJL_GET_ARRAY(ns)->values[1], type), "network");
    CHECK(yajl_tree_get(YAJL_GET_ARRAY(ns)->values[1], path, yajl_t_any) == NULL);
  }
  CHECK_STR_EQ(str_at(root, sysctl), "b");
  /* What the guest's nook parses. */
  struct oci_config *c = NULL;
  CHECK_INT_EQ(oci_config_parse(out, strlen(out), "guest", &c, &err), 0);
  oci_config_free(c);
  yajl_tree_free(root);
  free(out);
}

TEST(guest_config_refuses_what_is_not_an_object)
{
  char *out = NULL;
  nook_error_t err = NULL;
  CHECK(oci_config_for_guest("[1]", 3, "config.json", "rootfs", NULL, 0, NULL, 0, &out, &err) < 0);
  CHECK(err != NULL && strstr(err->msg, "not a JSON object") != NULL);
  nook_error_free(&err);
}

TEST(guest_config_member_joins_the_sandbox_guest_namespaces)
{
  static const char member[] = "{\"ociVersion\":\"1.2.0\",\"root\":{\"path\":\"rootfs\"},"
                               "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
                               "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"},"
                               "{\"type\":\"ipc\",\"path\":\"/proc/4242/ns/ipc\"},"
                               "{\"type\":\"uts\",\"path\":\"/proc/4242/ns/uts\"},"
                               "{\"type\":\"network\",\"path\":\"/run/netns/pod\"}]}}";
  char *out = NULL;
  nook_error_t err = NULL;
  CHECK_INT_EQ(oci_config_for_guest(member, strlen(member), "config.json", "rootfs", NULL, 0,
                                    "nook.vm", 17, &out, &err),
               0);
  yajl_val root = yajl_tree_parse(out, NULL, 0);
  CHECK(root != NULL);
  const char *nsp[] = {"linux", "namespaces", NULL}, *path[] = {"path", NULL};
  yajl_val ns = yajl_tree_get(root, nsp, yajl_t_array);
  CHECK(ns != NULL && YAJL_GET_ARRAY(ns)->len == 5);
  if (ns != NULL && YAJL_GET_ARRAY(ns)->len == 5) {
    yajl_val *v = YAJL_GET_ARRAY(ns)->values;
    /* New ones stay new; every path becomes the guest sandbox's. */
    CHECK(yajl_tree_get(v[0], path, yajl_t_any) == NULL);
    CHECK(yajl_tree_get(v[1], path, yajl_t_any) == NULL);
    CHECK_STR_EQ(str_at(v[2], path), "/proc/17/ns/ipc");
    CHECK_STR_EQ(str_at(v[3], path), "/proc/17/ns/uts");
    CHECK_STR_EQ(str_at(v[4], path), "/proc/17/ns/net");
  }
  yajl_tree_free(root);
  free(out);
}
