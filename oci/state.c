#include "state.h"

#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"
#include "json.h"

static int cmp_kv(const void *a, const void *b)
{
  const struct oci_kv *x = *(const struct oci_kv *const *)a, *y = *(const struct oci_kv *const *)b;
  return strcmp(x->key, y->key);
}

/* Keys in the order of runc's `state` (which is Go's struct order); Go also
 * sorts map keys, so annotations come out sorted. */
char *oci_state_to_json(const struct oci_state *s, bool pretty)
{
  yajl_gen g = jgen_new(pretty ? "  " : NULL);
  yajl_gen_map_open(g);
  jgen_key_str(g, "ociVersion", s->oci_version ? s->oci_version : "1.3.0");
  jgen_key_str(g, "id", s->id ? s->id : "");
  if (s->pid > 0)
    jgen_key_int(g, "pid", s->pid);
  jgen_key_str(g, "status", s->status ? s->status : "");
  jgen_key_str(g, "bundle", s->bundle ? s->bundle : "");
  if (s->rootfs != NULL)
    jgen_key_str(g, "rootfs", s->rootfs);
  if (s->created != NULL)
    jgen_key_str(g, "created", s->created);
  if (s->n_annotations > 0) {
    const struct oci_kv **sorted = xmalloc(s->n_annotations * sizeof(*sorted));
    for (size_t i = 0; i < s->n_annotations; i++)
      sorted[i] = &s->annotations[i];
    qsort(sorted, s->n_annotations, sizeof(*sorted), cmp_kv);
    jgen_str(g, "annotations");
    yajl_gen_map_open(g);
    for (size_t i = 0; i < s->n_annotations; i++)
      jgen_key_str(g, sorted[i]->key, sorted[i]->value ? sorted[i]->value : "");
    yajl_gen_map_close(g);
    free(sorted);
  }
  if (s->owner != NULL)
    jgen_key_str(g, "owner", s->owner);
  yajl_gen_map_close(g);
  return jgen_finish(g);
}
