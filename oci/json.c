#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "../base/utils.h"

/* ---- arena --------------------------------------------------------------- */

struct chunk {
  struct chunk *next;
  size_t used, cap;
  char *data;
};

struct json_doc {
  struct chunk *chunks;
};

static void *arena_alloc(struct json_doc *d, size_t n, size_t align)
{
  struct chunk *c = d->chunks;
  if (c != NULL) {
    size_t off = (c->used + align - 1) & ~(align - 1);
    if (off <= c->cap && n <= c->cap - off) {
      c->used = off + n;
      return c->data + off;
    }
  }
  size_t cap = c != NULL ? c->cap * 2 : 4096;
  if (cap < n)
    cap = n;
  /* The header is a multiple of 16 bytes, so data keeps malloc's alignment. */
  struct chunk *nc = xmalloc(sizeof(*nc) + cap);
  nc->data = (char *)(nc + 1);
  nc->cap = cap;
  nc->used = n;
  nc->next = c;
  d->chunks = nc;
  return nc->data;
}

_Static_assert(sizeof(struct chunk) % 16 == 0, "chunk header breaks data alignment");

void json_doc_free(struct json_doc *doc)
{
  if (doc == NULL)
    return;
  for (struct chunk *c = doc->chunks, *next; c != NULL; c = next) {
    next = c->next;
    free(c);
  }
  free(doc);
}

/* ---- tree builder -------------------------------------------------------- */

/* Values whose container is still open wait in `pend`; closing a container
 * moves its entries into the arena as one contiguous block. */
struct frame {
  size_t slot;  /* index in pend of the container's own value */
  size_t start; /* index in pend of its first entry */
  bool object;
};

struct builder {
  yajl_handle h;
  size_t good; /* input offset after the last token accepted */
  struct json_doc *doc;
  struct json_member *pend;
  size_t npend, cap;
  struct frame frames[JSON_MAX_DEPTH];
  int depth;
  const char *fail; /* why a callback cancelled the parse */
};

static const char *copy_text(struct builder *b, const unsigned char *s, size_t len)
{
  char *r = arena_alloc(b->doc, len + 1, 1);
  memcpy(r, s, len);
  r[len] = '\0';
  return r;
}

static size_t push(struct builder *b, const char *key)
{
  if (b->npend == b->cap) {
    b->cap = b->cap ? b->cap * 2 : 64;
    b->pend = xrealloc(b->pend, b->cap * sizeof(*b->pend));
  }
  b->pend[b->npend] = (struct json_member){.key = key};
  return b->npend++;
}

/* Place a value: in an object it completes the member map_key pushed. */
static size_t put(struct builder *b, struct json_value v)
{
  size_t slot;
  if (b->depth > 0 && b->frames[b->depth - 1].object)
    slot = b->npend - 1;
  else
    slot = push(b, NULL);
  b->pend[slot].value = v;
  return slot;
}

/* Every callback that accepts a token notes where it ended, so an error
 * can be pinned on the token that follows. */
static int accepted(struct builder *b)
{
  b->good = yajl_get_bytes_consumed(b->h);
  return 1;
}

static int cb_null(void *ctx)
{
  put(ctx, (struct json_value){.type = JSON_NULL});
  return accepted(ctx);
}

static int cb_boolean(void *ctx, int v)
{
  put(ctx, (struct json_value){.type = v ? JSON_TRUE : JSON_FALSE});
  return accepted(ctx);
}

static int cb_number(void *ctx, const char *s, size_t len)
{
  struct builder *b = ctx;
  put(b, (struct json_value){
             .type = JSON_NUMBER, .len = len, .u.str = copy_text(b, (const void *)s, len)});
  return accepted(b);
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
  struct builder *b = ctx;
  if (memchr(s, '\0', len) != NULL) {
    b->fail = "strings must not contain NUL characters";
    return 0;
  }
  put(b, (struct json_value){.type = JSON_STRING, .len = len, .u.str = copy_text(b, s, len)});
  return accepted(b);
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
  struct builder *b = ctx;
  if (memchr(s, '\0', len) != NULL) {
    b->fail = "object keys must not contain NUL characters";
    return 0;
  }
  push(b, copy_text(b, s, len));
  return accepted(b);
}

static int open_container(struct builder *b, enum json_type type)
{
  if (b->depth == JSON_MAX_DEPTH) {
    b->fail = "nested more than " JSON_MAX_DEPTH_STR " levels deep";
    return 0;
  }
  size_t slot = put(b, (struct json_value){.type = type});
  b->frames[b->depth++] =
      (struct frame){.slot = slot, .start = b->npend, .object = type == JSON_OBJECT};
  return accepted(b);
}

static int close_container(struct builder *b)
{
  struct frame *f = &b->frames[--b->depth];
  size_t n = b->npend - f->start;
  struct json_value *v = &b->pend[f->slot].value;
  v->len = n;
  if (n == 0)
    return accepted(b);
  if (f->object) {
    struct json_member *m = arena_alloc(b->doc, n * sizeof(*m), _Alignof(struct json_member));
    memcpy(m, b->pend + f->start, n * sizeof(*m));
    v->u.members = m;
  } else {
    struct json_value *items = arena_alloc(b->doc, n * sizeof(*items), _Alignof(struct json_value));
    for (size_t i = 0; i < n; i++)
      items[i] = b->pend[f->start + i].value;
    v->u.items = items;
  }
  b->npend = f->start;
  return accepted(b);
}

static int cb_start_map(void *ctx)
{
  return open_container(ctx, JSON_OBJECT);
}

static int cb_start_array(void *ctx)
{
  return open_container(ctx, JSON_ARRAY);
}

static int cb_end(void *ctx)
{
  return close_container(ctx);
}

static const yajl_callbacks callbacks = {
    .yajl_null = cb_null,
    .yajl_boolean = cb_boolean,
    .yajl_number = cb_number,
    .yajl_string = cb_string,
    .yajl_start_map = cb_start_map,
    .yajl_map_key = cb_map_key,
    .yajl_end_map = cb_end,
    .yajl_start_array = cb_start_array,
    .yajl_end_array = cb_end,
};

static bool json_space(char ch)
{
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* yajl reports an offset somewhere in or after the offending token; walk
 * the tokens that follow the last accepted one to find where it starts. */
static size_t token_start(const char *s, size_t len, size_t from, size_t p)
{
  size_t i = from;
  while (i <= p && i < len) {
    while (i < len && json_space(s[i]))
      i++;
    size_t start = i;
    if (i >= len)
      break;
    if (s[i] == '"') {
      for (i++; i < len && s[i] != '"'; i++)
        if (s[i] == '\\')
          i++;
      i++;
    } else if (strchr("{}[],:", s[i]) != NULL) {
      i++;
    } else {
      while (i < len && !json_space(s[i]) && strchr("{}[],:\"", s[i]) == NULL)
        i++;
    }
    if (p < i)
      return start;
  }
  return p;
}

static int syntax_error(const char *json, size_t len, size_t off, const char *origin,
                        const char *reason, nook_error_t *err)
{
  if (off > len)
    off = len;
  size_t line = 1, col = 1;
  for (size_t i = 0; i < off; i++) {
    if (json[i] == '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
  }
  return nook_error(err, 0, "%s: invalid JSON at line %zu, column %zu: %s", origin, line, col,
                    reason);
}

/* yajl's messages start with "parse error: " or "lexical error: " and end
 * with a newline; keep only the reason. */
static char *yajl_reason(yajl_handle h)
{
  unsigned char *raw = yajl_get_error(h, 0, NULL, 0);
  const char *s = raw != NULL ? (const char *)raw : "unknown error";
  const char *colon = strstr(s, "error: ");
  if (colon != NULL)
    s = colon + strlen("error: ");
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
    n--;
  char *r = xstrndup(s, n);
  if (raw != NULL)
    yajl_free_error(h, raw);
  return r;
}

int json_parse(const char *json, size_t len, const char *origin, struct json_doc **doc,
               const struct json_value **root, nook_error_t *err)
{
  struct builder b = {.doc = xcalloc(1, sizeof(struct json_doc))};
  yajl_handle h = b.h = yajl_alloc(&callbacks, NULL, &b);
  if (h == NULL)
    abort();
  size_t off = len; /* premature end: point past the last byte */
  yajl_status st = yajl_parse(h, (const unsigned char *)json, len);
  if (st == yajl_status_ok) {
    st = yajl_complete_parse(h);
  } else {
    off = yajl_get_bytes_consumed(h);
    off = token_start(json, len, b.good, off > 0 ? off - 1 : 0);
  }

  int ret = 0;
  if (st != yajl_status_ok) {
    cleanup_free char *reason = b.fail ? xstrdup(b.fail) : yajl_reason(h);
    ret = syntax_error(json, len, off, origin, reason, err);
  } else if (b.npend != 1) {
    ret = syntax_error(json, len, len, origin, "empty document", err);
  }
  yajl_free(h);
  if (ret < 0) {
    free(b.pend);
    json_doc_free(b.doc);
    return ret;
  }
  struct json_value *r = arena_alloc(b.doc, sizeof(*r), _Alignof(struct json_value));
  *r = b.pend[0].value;
  free(b.pend);
  *doc = b.doc;
  *root = r;
  return 0;
}

/* ---- lookup -------------------------------------------------------------- */

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
  if (obj == NULL || obj->type != JSON_OBJECT)
    return NULL;
  for (size_t i = obj->len; i-- > 0;) {
    const struct json_member *m = &obj->u.members[i];
    if (strcmp(m->key, key) == 0)
      return m->value.type == JSON_NULL ? NULL : &m->value;
  }
  return NULL;
}

static int cmp_member_index(const void *a, const void *b, void *arg)
{
  const struct json_member *m = arg;
  size_t i = *(const size_t *)a, j = *(const size_t *)b;
  int r = strcmp(m[i].key, m[j].key);
  if (r != 0)
    return r;
  return i < j ? -1 : i > j;
}

bool *json_shadowed(const struct json_value *obj)
{
  size_t n = obj->len;
  if (n == 0)
    return NULL;
  const struct json_member *m = obj->u.members;
  bool *shadowed = xcalloc(n, sizeof(bool));
  if (n <= 32) {
    for (size_t i = 0; i < n; i++)
      for (size_t j = i + 1; j < n && !shadowed[i]; j++)
        shadowed[i] = strcmp(m[i].key, m[j].key) == 0;
    return shadowed;
  }
  /* Large maps (annotations, sysctl, unified): sort to stay O(n log n). */
  size_t *idx = xmalloc(n * sizeof(*idx));
  for (size_t i = 0; i < n; i++)
    idx[i] = i;
  qsort_r(idx, n, sizeof(*idx), cmp_member_index, (void *)m);
  for (size_t i = 0; i + 1 < n; i++)
    if (strcmp(m[idx[i]].key, m[idx[i + 1]].key) == 0)
      shadowed[idx[i]] = true;
  free(idx);
  return shadowed;
}

/* ---- generation ---------------------------------------------------------- */

yajl_gen jgen_new(const char *indent)
{
  yajl_gen g = yajl_gen_alloc(NULL);
  if (g == NULL)
    abort();
  if (indent != NULL) {
    yajl_gen_config(g, yajl_gen_beautify, 1);
    yajl_gen_config(g, yajl_gen_indent_string, indent);
  }
  return g;
}

char *jgen_finish(yajl_gen g)
{
  const unsigned char *buf;
  size_t len;
  if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
    abort(); /* only reachable through a generator bug */
  while (len > 0 && buf[len - 1] == '\n')
    len--;
  char *r = xstrndup((const char *)buf, len);
  yajl_gen_free(g);
  return r;
}

void jgen_str(yajl_gen g, const char *s)
{
  yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

void jgen_key_str(yajl_gen g, const char *key, const char *value)
{
  jgen_str(g, key);
  jgen_str(g, value);
}

void jgen_key_int(yajl_gen g, const char *key, long long value)
{
  jgen_str(g, key);
  yajl_gen_integer(g, value);
}

void jgen_uint(yajl_gen g, uint64_t value)
{
  /* By hand, not snprintf: a stats line has ~100 numbers, and in VM mode's
   * guest, under emulation, printf's machinery made most of its cost. */
  char buf[24];
  char *p = buf + sizeof(buf);
  do {
    *--p = (char)('0' + value % 10);
    value /= 10;
  } while (value != 0);
  yajl_gen_number(g, p, (size_t)(buf + sizeof(buf) - p));
}

void jgen_key_uint(yajl_gen g, const char *key, uint64_t value)
{
  jgen_str(g, key);
  jgen_uint(g, value);
}

void jgen_key_bool(yajl_gen g, const char *key, bool value)
{
  jgen_str(g, key);
  yajl_gen_bool(g, value);
}

void jgen_key_strv(yajl_gen g, const char *key, const char *const *v, size_t n)
{
  jgen_str(g, key);
  yajl_gen_array_open(g);
  for (size_t i = 0; n > 0 ? i < n : v[i] != NULL; i++)
    jgen_str(g, v[i]);
  yajl_gen_array_close(g);
}

void jgen_mount(yajl_gen g, const char *destination, const char *type, const char *source,
                const char *const *options)
{
  yajl_gen_map_open(g);
  jgen_key_str(g, "destination", destination);
  jgen_key_str(g, "type", type);
  jgen_key_str(g, "source", source);
  if (options != NULL)
    jgen_key_strv(g, "options", options, 0);
  yajl_gen_map_close(g);
}

void jgen_value(yajl_gen g, const struct json_value *v)
{
  switch (v->type) {
  case JSON_NULL:
    yajl_gen_null(g);
    break;
  case JSON_FALSE:
  case JSON_TRUE:
    yajl_gen_bool(g, v->type == JSON_TRUE);
    break;
  case JSON_NUMBER:
    yajl_gen_number(g, v->u.str, v->len);
    break;
  case JSON_STRING:
    yajl_gen_string(g, (const unsigned char *)v->u.str, v->len);
    break;
  case JSON_ARRAY:
    yajl_gen_array_open(g);
    for (size_t i = 0; i < v->len; i++)
      jgen_value(g, &v->u.items[i]);
    yajl_gen_array_close(g);
    break;
  case JSON_OBJECT:
    yajl_gen_map_open(g);
    for (size_t i = 0; i < v->len; i++) {
      jgen_str(g, v->u.members[i].key);
      jgen_value(g, &v->u.members[i].value);
    }
    yajl_gen_map_close(g);
    break;
  }
}
