/* The objects of config.json for platforms other than Linux.  nook runs none
 * of them, but a document is only valid if they match the schema, so they
 * are type-checked against a compact transcription of schema/config-*.json
 * and otherwise ignored.  (The vm object is nook's VM mode: config_vm.c.) */
#include <string.h>

#include "parse.h"

enum kind { K_STRING, K_BOOL, K_U8, K_U16, K_U32, K_U64, K_FILEMODE, K_ENUM, K_OBJECT, K_ARRAY };

struct field {
  const char *key;
  enum kind kind;
  bool required;
  enum kind item;            /* K_ARRAY: kind of the items */
  const struct field *sub;   /* K_OBJECT, or K_ARRAY of K_OBJECT: the members */
  const char *const *values; /* K_ENUM, or K_ARRAY of K_ENUM: NULL-terminated */
  size_t min_items;
};

#define END                                                                                        \
  {                                                                                                \
    NULL, 0, false, 0, NULL, NULL, 0                                                               \
  }
#define STRING(k)                                                                                  \
  {                                                                                                \
    k, K_STRING, false, 0, NULL, NULL, 0                                                           \
  }
#define STRINGS(k)                                                                                 \
  {                                                                                                \
    k, K_ARRAY, false, K_STRING, NULL, NULL, 0                                                     \
  }
#define BOOL(k)                                                                                    \
  {                                                                                                \
    k, K_BOOL, false, 0, NULL, NULL, 0                                                             \
  }
#define NUM(k, kind)                                                                               \
  {                                                                                                \
    k, kind, false, 0, NULL, NULL, 0                                                               \
  }
#define ENUM(k, v)                                                                                 \
  {                                                                                                \
    k, K_ENUM, false, 0, NULL, v, 0                                                                \
  }
#define OBJECT(k, ...)                                                                             \
  {                                                                                                \
    k, K_OBJECT, false, 0, (const struct field[]){__VA_ARGS__, END}, NULL, 0                       \
  }
#define OBJECTS(k, ...)                                                                            \
  {                                                                                                \
    k, K_ARRAY, false, K_OBJECT, (const struct field[]){__VA_ARGS__, END}, NULL, 0                 \
  }

static const char *const sharing_mode[] = {"disable", "new", "inherit", NULL};
static const char *const sharing_mode_no_disable[] = {"new", "inherit", NULL};
static const char *const zos_namespaces[] = {"mount", "pid", "uts", "ipc", NULL};
static const char *const windows_id_types[] = {"class", NULL};

static const struct field platforms[] = {
    OBJECT("freebsd", OBJECTS("devices", STRING("path"), NUM("mode", K_FILEMODE)),
           OBJECT("jail", STRING("parent"), ENUM("host", sharing_mode_no_disable),
                  ENUM("ip4", sharing_mode), STRINGS("ip4Addr"), ENUM("ip6", sharing_mode),
                  STRINGS("ip6Addr"), ENUM("vnet", sharing_mode_no_disable), STRING("interface"),
                  STRINGS("vnetInterfaces"), ENUM("sysvmsg", sharing_mode),
                  ENUM("sysvsem", sharing_mode), ENUM("sysvshm", sharing_mode),
                  NUM("enforceStatfs", K_U8),
                  OBJECT("allow", BOOL("setHostname"), BOOL("rawSockets"), BOOL("chflags"),
                         STRINGS("mount"), BOOL("quotas"), BOOL("socketAf"), BOOL("mlock"),
                         BOOL("reservedPorts"), BOOL("suser")))),
    OBJECT("zos", OBJECTS("namespaces", {"type", K_ENUM, true, 0, NULL, zos_namespaces, 0},
                          STRING("path"))),
    OBJECT("solaris", STRING("milestone"), STRING("limitpriv"), STRING("maxShmMemory"),
           OBJECT("cappedCPU", STRING("ncpus")),
           OBJECT("cappedMemory", STRING("physical"), STRING("swap")),
           OBJECTS("anet", STRING("linkname"), STRING("lowerLink"), STRING("allowedAddress"),
                   STRING("configureAllowedAddress"), STRING("defrouter"), STRING("macAddress"),
                   STRING("linkProtection"))),
    OBJECT(
        "windows", {"layerFolders", K_ARRAY, true, K_STRING, NULL, NULL, 1},
        OBJECTS("devices", {"id", K_STRING, true, 0, NULL, NULL, 0},
                {"idType", K_ENUM, true, 0, NULL, windows_id_types, 0}),
        OBJECT("resources", OBJECT("memory", NUM("limit", K_U64)),
               OBJECT("cpu", NUM("count", K_U64), NUM("shares", K_U16), NUM("maximum", K_U16),
                      OBJECT("affinity", NUM("mask", K_U64), NUM("group", K_U32))),
               OBJECT("storage", NUM("iops", K_U64), NUM("bps", K_U64), NUM("sandboxSize", K_U64))),
        OBJECT("network", STRINGS("endpointList"), BOOL("allowUnqualifiedDNSQuery"),
               STRINGS("DNSSearchList"), STRING("networkSharedContainerName"),
               STRING("networkNamespace")),
        {"credentialSpec", K_OBJECT, false, 0, (const struct field[]){END}, NULL, 0},
        BOOL("servicing"), BOOL("ignoreFlushesDuringBoot"),
        OBJECT("hyperv", STRING("utilityVMPath"))),
    END,
};

static int check_object(struct pctx *c, const struct json_value *v, const struct field *fields);

static int check_value(struct pctx *c, const struct json_value *v, enum kind kind,
                       const struct field *f)
{
  union {
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    bool b;
    char *s;
  } scratch = {0};
  switch (kind) {
  case K_STRING:
    return v->type == JSON_STRING ? 0 : perr_type(c, v, "a string");
  case K_BOOL:
    return jv_bool(c, v, &scratch.b);
  case K_U8:
    if (jv_u16(c, v, &scratch.u16) < 0 || scratch.u16 > UINT8_MAX)
      return perr_type(c, v, "an unsigned 8-bit integer");
    return 0;
  case K_U16:
    return jv_u16(c, v, &scratch.u16);
  case K_U32:
    return jv_u32(c, v, &scratch.u32);
  case K_U64:
    return jv_u64(c, v, &scratch.u64);
  case K_FILEMODE:
    if (jv_u32(c, v, &scratch.u32) < 0 || scratch.u32 > 0777)
      return perr_type(c, v, "a file mode (0 to 511)");
    return 0;
  case K_ENUM:
    if (v->type != JSON_STRING)
      return perr_type(c, v, "a string");
    for (const char *const *e = f->values; *e; e++)
      if (strcmp(*e, v->u.str) == 0)
        return 0;
    char buf[QUOTE_MAX];
    return perr(c, "invalid value %s", quote(v->u.str, buf));
  case K_OBJECT:
    if (jv_object(c, v) < 0)
      return -1;
    return check_object(c, v, f->sub);
  case K_ARRAY:
    if (jv_array(c, v) < 0)
      return -1;
    if (v->len < f->min_items)
      return perr(c, "must have at least %zu entries", f->min_items);
    for (size_t i = 0; i < v->len; i++) {
      size_t mark = path_index(c, i);
      if (check_value(c, &v->u.items[i], f->item, f) < 0)
        return -1;
      path_restore(c, mark);
    }
    return 0;
  }
  return 0;
}

static int check_object(struct pctx *c, const struct json_value *v, const struct field *fields)
{
  for (const struct field *f = fields; f->key; f++) {
    const struct json_value *m = json_get(v, f->key);
    size_t mark = path_key(c, f->key);
    if (m == NULL && f->required)
      return perr(c, "required field is missing");
    if (m != NULL && check_value(c, m, f->kind, f) < 0)
      return -1;
    path_restore(c, mark);
  }
  return 0;
}

int parse_other_platforms(struct pctx *c, const struct json_value *root)
{
  return check_object(c, root, platforms);
}
