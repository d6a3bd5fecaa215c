/* oci_config_edit (nook job's config): typed edits of a config text, the
 * rest kept as it was; seen as compact JSON with single quotes. */
#include "../../oci/config_edit.h"
#include "../../oci/json.h"
#include "../../oci/spec.h"
#include "oci_test.h"

/* The edited document, re-emitted compactly (single quotes for double);
 * NULL when the edit fails. */
static char *edited(const char *json, const struct oci_config_edit *e)
{
  cleanup_free char *doc = J(json);
  cleanup_free char *out = NULL;
  nook_error_t err = NULL;
  if (oci_config_edit(doc, strlen(doc), "config.json", e, &out, &err) < 0) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    return NULL;
  }
  struct json_doc *d = NULL;
  const struct json_value *root;
  if (json_parse(out, strlen(out), "out", &d, &root, &err) < 0) {
    printf("  %s\n", err->msg);
    nook_error_free(&err);
    return NULL;
  }
  yajl_gen g = jgen_new(NULL);
  jgen_value(g, root);
  char *s = jgen_finish(g);
  json_doc_free(d);
  for (char *p = s; *p; p++)
    if (*p == '"')
      *p = '\'';
  return s;
}

#define CHECK_EDIT(json, e, want)                                                                  \
  do {                                                                                             \
    cleanup_free char *_m = edited(json, e);                                                       \
    CHECK_STR_EQ(_m, want);                                                                        \
  } while (0)

#define NO_EDIT                                                                                    \
  {                                                                                                \
    .root_readonly = -1, .terminal = -1                                                            \
  }

TEST(edit_nothing_keeps_everything)
{
  struct oci_config_edit e = NO_EDIT;
  CHECK_EDIT("{'b': [1, {'x': null}], 'a': 2.50, 'c': 'd'}", &e,
             "{'b':[1,{'x':null}],'a':2.50,'c':'d'}");
}

TEST(edit_scalars_replaced_and_added_in_place)
{
  struct oci_config_edit e = NO_EDIT;
  e.root_path = "/img";
  e.root_readonly = 0;
  e.terminal = 1;
  e.cwd = "/w";
  e.hostname = "h";
  e.has_user = true;
  e.uid = 1000;
  e.gid = 100;
  CHECK_EDIT("{'ociVersion': '1.3.0', 'process': {'terminal': false, 'cwd': '/', 'user': {'uid': "
             "0, 'gid': 0, 'additionalGids': [5]}}, 'root': {'path': 'rootfs', 'readonly': true}}",
             &e,
             "{'ociVersion':'1.3.0','process':{'terminal':true,'cwd':'/w','user':{'uid':1000,"
             "'gid':100,'additionalGids':[5]}},'root':{'path':'/img','readonly':false},"
             "'hostname':'h'}");
}

TEST(edit_makes_missing_objects)
{
  struct oci_config_edit e = NO_EDIT;
  e.has_memory_limit = true;
  e.memory_limit = 67108864;
  e.has_cpu_quota = true;
  e.cpu_quota = 150000;
  e.cpu_period = 100000;
  e.has_pids_limit = true;
  e.pids_limit = 64;
  e.cgroups_path = "/ci/j1";
  /* null is "not set": an object is made in its place */
  CHECK_EDIT("{'linux': {'resources': null}}", &e,
             "{'linux':{'resources':{'memory':{'limit':67108864},'cpu':{'quota':150000,"
             "'period':100000},'pids':{'limit':64}},'cgroupsPath':'/ci/j1'}}");
  CHECK_EDIT("{}", &e,
             "{'linux':{'cgroupsPath':'/ci/j1','resources':{'memory':{'limit':67108864},'cpu':{"
             "'quota':150000,'period':100000},'pids':{'limit':64}}}}");
}

TEST(edit_resources_keep_other_fields)
{
  struct oci_config_edit e = NO_EDIT;
  e.has_memory_swap = true;
  e.memory_swap = -1;
  e.has_blkio_weight = true;
  e.blkio_weight = 300;
  e.cpu_cpus = "0-1";
  CHECK_EDIT("{'linux': {'resources': {'devices': [{'allow': false, 'access': 'rwm'}], 'memory': "
             "{'limit': 5, 'swap': 6}}}}",
             &e,
             "{'linux':{'resources':{'devices':[{'allow':false,'access':'rwm'}],'memory':{'limit':"
             "5,'swap':-1},'cpu':{'cpus':'0-1'},'blockIO':{'weight':300}}}}");
}

TEST(edit_env_replaces_by_name_last_wins)
{
  char *env[] = {"HOME=/x", "NEW=1", "NEW=2", "TERM=dumb"};
  struct oci_config_edit e = NO_EDIT;
  e.env = env;
  e.n_env = 4;
  CHECK_EDIT("{'process': {'env': ['PATH=/bin', 'TERM=xterm', 'HOMEX=y', 7]}}", &e,
             "{'process':{'env':['PATH=/bin','HOMEX=y',7,'HOME=/x','NEW=2','TERM=dumb']}}");
  CHECK_EDIT("{'process': {}}", &e, "{'process':{'env':['HOME=/x','NEW=2','TERM=dumb']}}");
}

TEST(edit_args_and_mounts)
{
  char *args[] = {"sh", "-c", "echo \"hi\""};
  static const char *const ro[] = {"rbind", "ro", NULL};
  struct oci_edit_mount m[] = {{"/w", "bind", "/src", ro}, {"/t", "tmpfs", "tmpfs", NULL}};
  struct oci_config_edit e = NO_EDIT;
  e.args = args;
  e.n_args = 3;
  e.mounts = m;
  e.n_mounts = 2;
  CHECK_EDIT("{'process': {'args': ['x']}, 'mounts': [{'destination': '/proc'}]}", &e,
             "{'process':{'args':['sh','-c','echo \\'hi\\'']},'mounts':[{'destination':'/proc'},"
             "{'destination':'/w','type':'bind','source':'/src','options':['rbind','ro']},{"
             "'destination':'/t','type':'tmpfs','source':'tmpfs'}]}");
}

TEST(edit_network_namespace)
{
  struct oci_config_edit e = NO_EDIT;
  const char *cfg = "{'linux': {'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': "
                    "'/run/netns/x'}, {'type': 'mount'}]}}";
  e.netns = OCI_EDIT_NETNS_NEW;
  CHECK_EDIT(cfg, &e,
             "{'linux':{'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'network'}]}}");
  e.netns = OCI_EDIT_NETNS_NONE;
  CHECK_EDIT(cfg, &e, "{'linux':{'namespaces':[{'type':'pid'},{'type':'mount'}]}}");
}

TEST(edit_annotations_and_duplicate_keys)
{
  const char *keys[] = {"nook.rootfs.overlay", "nook.vm"};
  const char *values[] = {"tmpfs", "qemu"};
  struct oci_config_edit e = NO_EDIT;
  e.annotation_keys = keys;
  e.annotation_values = values;
  e.n_annotations = 2;
  /* The last of duplicate keys is what the parser reads: only it stays. */
  CHECK_EDIT("{'annotations': {'a': 'b', 'nook.vm': 'x'}, 'annotations': {'c': 'd'}}", &e,
             "{'annotations':{'c':'d','nook.rootfs.overlay':'tmpfs','nook.vm':'qemu'}}");
  CHECK_EDIT("{'annotations': {'nook.vm': 'x'}}", &e,
             "{'annotations':{'nook.vm':'qemu','nook.rootfs.overlay':'tmpfs'}}");
}

TEST(edit_refuses_non_object)
{
  struct oci_config_edit e = NO_EDIT;
  nook_error_t err = NULL;
  char *out = NULL;
  CHECK(oci_config_edit("[1]", 3, "config.json", &e, &out, &err) < 0);
  CHECK_STR_EQ(err ? err->msg : NULL, "config.json: not a JSON object");
  nook_error_free(&err);
  CHECK(oci_config_edit("{", 1, "config.json", &e, &out, &err) < 0);
  nook_error_free(&err);
}

TEST(edit_of_the_default_spec_parses)
{
  cleanup_free char *spec = oci_default_spec(false, false, 0, 0, true);
  char *args[] = {"make", "test"};
  struct oci_config_edit e = NO_EDIT;
  e.root_path = "/";
  e.root_readonly = 0;
  e.terminal = 0;
  e.args = args;
  e.n_args = 2;
  e.has_memory_limit = true;
  e.memory_limit = 1 << 30;
  cleanup_free char *out = NULL;
  nook_error_t err = NULL;
  CHECK(oci_config_edit(spec, strlen(spec), "spec", &e, &out, &err) == 0);
  struct oci_config *c = NULL;
  if (CHECK(out && oci_config_parse(out, strlen(out), "config.json", &c, &err) == 0)) {
    CHECK_STR_EQ(c->root_path, "/");
    CHECK(!c->root_readonly);
    CHECK(!c->process.terminal);
    CHECK_STR_EQ(c->process.args[0], "make");
    CHECK(c->linux_.resources.memory.limit == 1 << 30);
    /* the rest of the spec: its devices rule and seccomp profile */
    CHECK(c->linux_.resources.n_devices == 1);
    CHECK(c->linux_.has_seccomp);
  }
  oci_config_free(c);
  nook_error_free(&err);
}
