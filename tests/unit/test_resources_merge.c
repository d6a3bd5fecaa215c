/* `update`'s typed merge of linux.resources (oci_resources_merge) and the
 * resources serializer, seen through JSON in and JSON out. */
#include "oci_test.h"

static bool parse_res(const char *json, struct oci_resources *r)
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

/* `saved` merged with `update`, as compact JSON (single quotes for double);
 * NULL when a document does not parse. */
static char *merged(const char *saved, const char *update)
{
  struct oci_resources s = {0}, u = {0};
  char *out = NULL;
  if (parse_res(saved, &s) && parse_res(update, &u)) {
    oci_resources_merge(&s, &u);
    out = oci_resources_json(&s);
    for (char *p = out; *p; p++)
      if (*p == '"')
        *p = '\'';
  }
  oci_resources_clear(&s);
  oci_resources_clear(&u);
  return out;
}

#define CHECK_MERGE(saved, update, want)                                                           \
  do {                                                                                             \
    cleanup_free char *_m = merged(saved, update);                                                 \
    CHECK_STR_EQ(_m, want);                                                                        \
  } while (0)

TEST(merge_overrides_field_by_field)
{
  CHECK_MERGE("{'memory': {'limit': 100, 'reservation': 50}, 'pids': {'limit': 40}}",
              "{'memory': {'limit': 200, 'swappiness': 10}, 'cpu': {'shares': 300}}",
              "{'memory':{'limit':200,'reservation':50,'swappiness':10},'cpu':{'shares':300},"
              "'pids':{'limit':40}}");
  CHECK_MERGE("{'pids': {'limit': 40}}", "{'pids': {'limit': 0}}", "{'pids':{'limit':0}}");
  CHECK_MERGE("{}", "{}", "{}");
}

TEST(merge_zero_leaves_unchanged)
{
  CHECK_MERGE("{'memory': {'limit': 100, 'reservation': 50, 'swap': 300, 'kernel': 1, "
              "'kernelTCP': 2}, 'cpu': {'shares': 3, 'quota': 4, 'period': 5, "
              "'realtimeRuntime': 6, 'realtimePeriod': 7, 'cpus': '0-1', 'mems': '0'}, "
              "'blockIO': {'weight': 100, 'leafWeight': 200}}",
              "{'memory': {'limit': 0, 'reservation': 0, 'swap': 0, 'kernel': 0, 'kernelTCP': 0}, "
              "'cpu': {'shares': 0, 'quota': 0, 'period': 0, 'realtimeRuntime': 0, "
              "'realtimePeriod': 0, 'cpus': '', 'mems': ''}, "
              "'blockIO': {'weight': 0, 'leafWeight': 0}}",
              "{'memory':{'limit':100,'reservation':50,'swap':300,'kernel':1,'kernelTCP':2},"
              "'cpu':{'shares':3,'quota':4,'period':5,'realtimeRuntime':6,'realtimePeriod':7,"
              "'cpus':'0-1','mems':'0'},'blockIO':{'weight':100,'leafWeight':200}}");
  /* the zero rule is for updates: saved zeros stay, and a section given
   * with nothing but zeros is there after */
  CHECK_MERGE("{'memory': {'limit': 0}}", "{'cpu': {'quota': 0}}",
              "{'memory':{'limit':0},'cpu':{}}");
  /* other fields take 0 */
  CHECK_MERGE("{'memory': {'swappiness': 60}, 'cpu': {'burst': 9, 'idle': 1}}",
              "{'memory': {'swappiness': 0}, 'cpu': {'burst': 0, 'idle': 0}}",
              "{'memory':{'swappiness':0},'cpu':{'burst':0,'idle':0}}");
  CHECK_MERGE("{'cpu': {'cpus': '0'}}", "{'cpu': {'cpus': '1-3', 'mems': '0'}}",
              "{'cpu':{'cpus':'1-3','mems':'0'}}");
}

TEST(merge_never_changes_devices)
{
  CHECK_MERGE("{'devices': [{'allow': false, 'access': 'rwm'}, "
              "{'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rw'}]}",
              "{'devices': [{'allow': true, 'access': 'rwm'}], 'pids': {'limit': 5}}",
              "{'devices':[{'allow':false,'access':'rwm'},"
              "{'allow':true,'type':'c','major':1,'minor':3,'access':'rw'}],"
              "'pids':{'limit':5}}");
  CHECK_MERGE("{}", "{'devices': [{'allow': true}]}", "{}");
}

TEST(merge_replaces_arrays)
{
  CHECK_MERGE("{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}, {'pageSize': '1GB', "
              "'limit': 2}]}",
              "{'hugepageLimits': [{'pageSize': '1GB', 'limit': 3}]}",
              "{'hugepageLimits':[{'pageSize':'1GB','limit':3}]}");
  /* an empty array given replaces too; an absent one leaves them */
  CHECK_MERGE("{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}]}", "{'hugepageLimits': []}",
              "{'hugepageLimits':[]}");
  CHECK_MERGE("{'hugepageLimits': [{'pageSize': '2MB', 'limit': 1}]}", "{'pids': {'limit': 1}}",
              "{'hugepageLimits':[{'pageSize':'2MB','limit':1}],'pids':{'limit':1}}");
  CHECK_MERGE("{'blockIO': {'weight': 10, 'weightDevice': [{'major': 8, 'minor': 0, 'weight': 5}],"
              " 'throttleReadBpsDevice': [{'major': 8, 'minor': 0, 'rate': 1}], "
              "'throttleWriteIOPSDevice': [{'major': 8, 'minor': 0, 'rate': 2}]}}",
              "{'blockIO': {'weightDevice': [{'major': 8, 'minor': 16, 'leafWeight': 7}], "
              "'throttleReadBpsDevice': []}}",
              "{'blockIO':{'weight':10,'weightDevice':[{'major':8,'minor':16,'leafWeight':7}],"
              "'throttleReadBpsDevice':[],"
              "'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':2}]}}");
  CHECK_MERGE("{'network': {'classID': 1, 'priorities': [{'name': 'eth0', 'priority': 1}, "
              "{'name': 'lo', 'priority': 2}]}}",
              "{'network': {'priorities': [{'name': 'eth1', 'priority': 3}]}}",
              "{'network':{'classID':1,'priorities':[{'name':'eth1','priority':3}]}}");
  CHECK_MERGE("{'network': {'classID': 1}}", "{'network': {'classID': 0}}",
              "{'network':{'classID':0}}");
}

TEST(merge_maps_by_key)
{
  CHECK_MERGE("{'unified': {'memory.high': '100', 'pids.max': '10'}}",
              "{'unified': {'pids.max': '20', 'io.weight': ''}}",
              "{'unified':{'memory.high':'100','pids.max':'20','io.weight':''}}");
  CHECK_MERGE("{'unified': {'memory.high': '100'}}", "{'unified': {}}",
              "{'unified':{'memory.high':'100'}}");
  CHECK_MERGE("{}", "{'unified': {}, 'rdma': {}}", "{'rdma':{},'unified':{}}");
  CHECK_MERGE("{'rdma': {'mlx5_0': {'hcaHandles': 3, 'hcaObjects': 1000}, "
              "'mlx5_1': {'hcaHandles': 1}}}",
              "{'rdma': {'mlx5_0': {'hcaHandles': 0}, 'mlx5_2': {'hcaObjects': 7}}}",
              "{'rdma':{'mlx5_0':{'hcaHandles':0,'hcaObjects':1000},'mlx5_1':{'hcaHandles':1},"
              "'mlx5_2':{'hcaObjects':7}}}");
}

TEST(merge_twice_equals_layers)
{
  /* the second update starts from the first's result */
  struct oci_resources s = {0}, u1 = {0}, u2 = {0};
  CHECK(parse_res("{'memory': {'limit': 100}}", &s));
  CHECK(parse_res("{'memory': {'limit': 200, 'swap': 400}}", &u1));
  CHECK(parse_res("{'memory': {'swap': 0, 'reservation': 5}}", &u2));
  oci_resources_merge(&s, &u1);
  oci_resources_merge(&s, &u2);
  cleanup_free char *out = oci_resources_json(&s);
  CHECK_STR_EQ(out, "{\"memory\":{\"limit\":200,\"reservation\":5,\"swap\":400}}");
  oci_resources_clear(&s);
  oci_resources_clear(&u1);
  oci_resources_clear(&u2);
}

TEST(resources_json_round_trips)
{
  static const char doc[] =
      "{'devices':[{'allow':false,'access':'rwm'},{'allow':true,'type':'b','major':8,'minor':-1}],"
      "'memory':{'limit':-1,'reservation':1,'swap':-1,'kernel':0,'kernelTCP':0,'swappiness':"
      "60,'disableOOMKiller':true,'useHierarchy':false,'checkBeforeUpdate':true},"
      "'cpu':{'shares':1024,'quota':-1,'burst':5,'period':100000,'realtimeRuntime':-1,"
      "'realtimePeriod':1000,'cpus':'','mems':'0','idle':1},"
      "'blockIO':{'weight':10,'leafWeight':20,'weightDevice':[{'major':8,'minor':0,'weight':"
      "500,'leafWeight':300}],'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':600}],"
      "'throttleWriteBpsDevice':[],'throttleReadIOPSDevice':[{'major':8,'minor':0,'rate':1}],"
      "'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':2}]},"
      "'hugepageLimits':[{'pageSize':'2MB','limit':9223372036854771712}],"
      "'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':500}]},"
      "'pids':{'limit':32771},'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000}},"
      "'unified':{'io.max':'8:0 rbps=1','memory.high':'max'}}";
  struct oci_resources r = {0};
  CHECK(parse_res(doc, &r));
  cleanup_free char *out = oci_resources_json(&r);
  cleanup_free char *want = J(doc);
  CHECK_STR_EQ(out, want);
  oci_resources_clear(&r);

  /* empty lists and maps given stay given */
  static const char empty[] = "{'devices':[],'hugepageLimits':[],'rdma':{},'unified':{}}";
  CHECK(parse_res(empty, &r));
  cleanup_free char *out2 = oci_resources_json(&r);
  cleanup_free char *want2 = J(empty);
  CHECK_STR_EQ(out2, want2);
  oci_resources_clear(&r);
}

TEST(config_with_resources_keeps_the_rest)
{
  cleanup_free char *cfg = J("{'ociVersion': '1.0.2', 'linux': {'namespaces': [{'type': 'pid'}], "
                             "'resources': {'pids': {'limit': 1}}, 'maskedPaths': ['/x']}, "
                             "'annotations': {'a': '1.50'}}");
  struct oci_resources r = {.has_pids = true, .pids_limit = 7};
  char *out = NULL;
  nook_error_t err = NULL;
  CHECK(oci_config_with_resources(cfg, strlen(cfg), "config.json", &r, &out, &err) == 0);
  struct oci_config *c = NULL;
  CHECK(out != NULL && oci_config_parse(out, strlen(out), "config.json", &c, &err) == 0);
  if (c != NULL) {
    CHECK(c->linux_.has_resources && c->linux_.resources.has_pids);
    CHECK(c->linux_.resources.pids_limit == 7);
    CHECK(c->linux_.n_namespaces == 1 && c->linux_.n_masked_paths == 1);
    CHECK_STR_EQ(oci_annotation(c, "a"), "1.50");
    CHECK_STR_EQ(c->oci_version, "1.0.2");
  }
  oci_config_free(c);
  free(out);

  /* no linux.resources, no linux: added */
  cleanup_free char *bare = J("{'ociVersion': '1.0.2', 'linux': {'resources': null}}");
  out = NULL;
  CHECK(oci_config_with_resources(bare, strlen(bare), "config.json", &r, &out, &err) == 0);
  CHECK_STR_CONTAINS(out, "\"resources\": {\n\t\t\t\"pids\"");
  free(out);
  cleanup_free char *nolinux = J("{'ociVersion': '1.0.2'}");
  out = NULL;
  CHECK(oci_config_with_resources(nolinux, strlen(nolinux), "config.json", &r, &out, &err) == 0);
  CHECK_STR_CONTAINS(out, "\"linux\": {\n\t\t\"resources\"");
  free(out);

  CHECK(oci_config_with_resources("[]", 2, "config.json", &r, &out, &err) < 0);
  CHECK_STR_CONTAINS(err ? err->msg : NULL, "not an object");
  nook_error_free(&err);
}
