#include "parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/utils.h"

void pctx_init(struct pctx *c, const char *origin, nook_error_t *err)
{
  *c = (struct pctx){.origin = origin, .err = err, .cap = 16};
  c->segs = xmalloc(c->cap * sizeof(*c->segs));
}

void pctx_fini(struct pctx *c)
{
  free(c->segs);
  c->segs = NULL;
}

static size_t path_push(struct pctx *c, const char *key, size_t index)
{
  if (c->depth == c->cap) {
    c->cap *= 2;
    c->segs = xrealloc(c->segs, c->cap * sizeof(*c->segs));
  }
  c->segs[c->depth] = (struct path_seg){key, index};
  return c->depth++;
}

size_t path_key(struct pctx *c, const char *key)
{
  return path_push(c, key, 0);
}

size_t path_index(struct pctx *c, size_t i)
{
  return path_push(c, NULL, i);
}

void path_restore(struct pctx *c, size_t mark)
{
  c->depth = mark;
}

static bool plain_key(const char *key)
{
  if (*key == '\0')
    return false;
  for (const char *p = key; *p; p++)
    if (!(*p == '_' || *p == '-' || (*p >= '0' && *p <= '9') ||
          ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
      return false;
  return true;
}

/* process.rlimits[1].type, linux.sysctl["net.ipv4.ip_forward"] */
static char *path_render(const struct pctx *c)
{
  char *buf = NULL;
  size_t size = 0;
  FILE *f = open_memstream(&buf, &size);
  if (f == NULL)
    abort();
  for (size_t i = 0; i < c->depth; i++) {
    const struct path_seg *s = &c->segs[i];
    char q[QUOTE_MAX];
    if (s->key == NULL)
      fprintf(f, "[%zu]", s->index);
    else if (plain_key(s->key))
      fprintf(f, "%s%s", i > 0 ? "." : "", s->key);
    else
      fprintf(f, "[%s]", quote(s->key, q));
  }
  if (fclose(f) != 0)
    abort();
  return buf;
}

char *path_text(const struct pctx *c)
{
  return path_render(c);
}

int perr(struct pctx *c, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  cleanup_free char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    abort();
  va_end(ap);
  if (c->depth == 0)
    return nook_error(c->err, 0, "%s: %s", c->origin, msg);
  cleanup_free char *path = path_render(c);
  return nook_error(c->err, 0, "%s: %s: %s", c->origin, path, msg);
}

const char *quote(const char *s, char buf[QUOTE_MAX])
{
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  buf[o++] = '"';
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (o + 8 >= QUOTE_MAX) {
      memcpy(buf + o, "...", 3);
      o += 3;
      break;
    }
    if (ch == '"' || ch == '\\') {
      buf[o++] = '\\';
      buf[o++] = (char)ch;
    } else if (ch < 0x20 || ch == 0x7f) {
      buf[o++] = '\\';
      buf[o++] = 'x';
      buf[o++] = hex[ch >> 4];
      buf[o++] = hex[ch & 15];
    } else {
      buf[o++] = (char)ch;
    }
  }
  buf[o++] = '"';
  buf[o] = '\0';
  return buf;
}

int perr_type(struct pctx *c, const struct json_value *v, const char *what)
{
  char buf[QUOTE_MAX];
  const char *got;
  switch (v->type) {
  case JSON_NULL:
    got = "null";
    break;
  case JSON_FALSE:
    got = "false";
    break;
  case JSON_TRUE:
    got = "true";
    break;
  case JSON_NUMBER:
    got = v->len < 40 ? v->u.str : "a number";
    break;
  case JSON_STRING:
    got = quote(v->u.str, buf);
    break;
  case JSON_ARRAY:
    got = "an array";
    break;
  default:
    got = "an object";
    break;
  }
  return perr(c, "expected %s, got %s", what, got);
}

/* ---- scalars ------------------------------------------------------------- */

int jv_object(struct pctx *c, const struct json_value *v)
{
  return v->type == JSON_OBJECT ? 0 : perr_type(c, v, "an object");
}

int jv_array(struct pctx *c, const struct json_value *v)
{
  return v->type == JSON_ARRAY ? 0 : perr_type(c, v, "an array");
}

int jv_str(struct pctx *c, const struct json_value *v, void *out)
{
  if (v->type != JSON_STRING)
    return perr_type(c, v, "a string");
  char **s = out;
  free(*s);
  *s = xstrndup(v->u.str, v->len);
  return 0;
}

int jv_opt_str(struct pctx *c, const struct json_value *v, void *out)
{
  if (jv_str(c, v, out) < 0)
    return -1;
  char **s = out;
  if (**s == '\0') {
    free(*s);
    *s = NULL;
  }
  return 0;
}

int jv_bool(struct pctx *c, const struct json_value *v, void *out)
{
  if (v->type != JSON_TRUE && v->type != JSON_FALSE)
    return perr_type(c, v, "a boolean");
  *(bool *)out = v->type == JSON_TRUE;
  return 0;
}

/* JSON integers only: Go's decoder refuses 1.0 or 1e3 for integer fields,
 * and so do we.  *mag gets the magnitude, false on overflow or syntax. */
static bool int_text(const struct json_value *v, bool *neg, uint64_t *mag)
{
  if (v->type != JSON_NUMBER)
    return false;
  const char *p = v->u.str;
  *neg = *p == '-';
  if (*neg)
    p++;
  if (*p == '\0')
    return false;
  uint64_t m = 0;
  for (; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    unsigned d = (unsigned)(*p - '0');
    if (m > (UINT64_MAX - d) / 10)
      return false;
    m = m * 10 + d;
  }
  *mag = m;
  return true;
}

static int unsigned_in(struct pctx *c, const struct json_value *v, uint64_t max, const char *what,
                       uint64_t *out)
{
  bool neg;
  uint64_t m;
  if (!int_text(v, &neg, &m) || (neg && m != 0) || m > max)
    return perr_type(c, v, what);
  *out = m;
  return 0;
}

static int signed_in(struct pctx *c, const struct json_value *v, int64_t min, int64_t max,
                     const char *what, int64_t *out)
{
  bool neg;
  uint64_t m;
  if (!int_text(v, &neg, &m))
    return perr_type(c, v, what);
  if (neg) {
    if (m > (uint64_t)INT64_MAX + 1 || (m > 0 && -(int64_t)(m - 1) - 1 < min))
      return perr_type(c, v, what);
    *out = m == 0 ? 0 : -(int64_t)(m - 1) - 1;
  } else {
    if (m > (uint64_t)max)
      return perr_type(c, v, what);
    *out = (int64_t)m;
  }
  return 0;
}

int jv_u16(struct pctx *c, const struct json_value *v, void *out)
{
  uint64_t x = 0;
  if (unsigned_in(c, v, UINT16_MAX, "an unsigned 16-bit integer", &x) < 0)
    return -1;
  *(uint16_t *)out = (uint16_t)x;
  return 0;
}

int jv_u32(struct pctx *c, const struct json_value *v, void *out)
{
  uint64_t x = 0;
  if (unsigned_in(c, v, UINT32_MAX, "an unsigned 32-bit integer", &x) < 0)
    return -1;
  *(uint32_t *)out = (uint32_t)x;
  return 0;
}

int jv_u64(struct pctx *c, const struct json_value *v, void *out)
{
  return unsigned_in(c, v, UINT64_MAX, "an unsigned 64-bit integer", out);
}

int jv_i32(struct pctx *c, const struct json_value *v, void *out)
{
  int64_t x = 0;
  if (signed_in(c, v, INT32_MIN, INT32_MAX, "a 32-bit integer", &x) < 0)
    return -1;
  *(int32_t *)out = (int32_t)x;
  return 0;
}

int jv_i64(struct pctx *c, const struct json_value *v, void *out)
{
  return signed_in(c, v, INT64_MIN, INT64_MAX, "a 64-bit integer", out);
}

int jv_name(struct pctx *c, const struct json_value *v, const struct oci_name_table *t,
            const char *what, int64_t *out)
{
  if (v->type != JSON_STRING)
    return perr_type(c, v, "a string");
  if (!oci_name_lookup(t, v->u.str, out)) {
    char buf[QUOTE_MAX];
    return perr(c, "unknown %s %s", what, quote(v->u.str, buf));
  }
  return 0;
}

/* ---- members ------------------------------------------------------------- */

int jf(struct pctx *c, const struct json_value *obj, const char *key, jv_fn fn, void *out)
{
  const struct json_value *v = json_get(obj, key);
  if (v == NULL)
    return 0;
  size_t mark = path_key(c, key);
  int r = fn(c, v, out);
  path_restore(c, mark);
  return r < 0 ? r : 1;
}

int jf_req(struct pctx *c, const struct json_value *obj, const char *key, jv_fn fn, void *out)
{
  int r = jf(c, obj, key, fn, out);
  if (r != 0)
    return r;
  size_t mark = path_key(c, key);
  r = perr(c, "required field is missing");
  path_restore(c, mark);
  return r;
}

int jf_obj(struct pctx *c, const struct json_value *obj, const char *key, jv_fn fn, void *out)
{
  const struct json_value *v = json_get(obj, key);
  if (v == NULL)
    return 0;
  size_t mark = path_key(c, key);
  int r = jv_object(c, v);
  if (r == 0)
    r = fn(c, v, out);
  path_restore(c, mark);
  return r < 0 ? r : 1;
}

int jf_strv(struct pctx *c, const struct json_value *obj, const char *key, char ***out, size_t *n)
{
  const struct json_value *v = json_get(obj, key);
  if (v == NULL)
    return 0;
  size_t mark = path_key(c, key);
  if (jv_array(c, v) < 0) {
    path_restore(c, mark);
    return -1;
  }
  strv_free(*out);
  char **sv = *out = xcalloc(v->len + 1, sizeof(char *));
  *n = 0;
  for (size_t i = 0; i < v->len; i++) {
    const struct json_value *e = &v->u.items[i];
    if (e->type != JSON_STRING) {
      path_index(c, i);
      perr_type(c, e, "a string");
      path_restore(c, mark);
      return -1;
    }
    sv[i] = xstrndup(e->u.str, e->len);
    *n = i + 1;
  }
  path_restore(c, mark);
  return 1;
}

int jf_array(struct pctx *c, const struct json_value *obj, const char *key, size_t size, void *out,
             size_t *n, jv_fn fn)
{
  const struct json_value *v = json_get(obj, key);
  if (v == NULL)
    return 0;
  size_t mark = path_key(c, key);
  int r = jv_array(c, v);
  if (r == 0 && v->len > 0) {
    char *a = xcalloc(v->len, size);
    *(void **)out = a;
    *n = v->len;
    for (size_t i = 0; i < v->len && r == 0; i++) {
      size_t m = path_index(c, i);
      r = fn(c, &v->u.items[i], a + i * size);
      path_restore(c, m);
    }
  }
  path_restore(c, mark);
  return r < 0 ? r : 1;
}

int jf_map(struct pctx *c, const struct json_value *obj, const char *key, size_t size, void *out,
           size_t *n, jkv_fn fn)
{
  const struct json_value *v = json_get(obj, key);
  if (v == NULL)
    return 0;
  size_t mark = path_key(c, key);
  int r = jv_object(c, v);
  if (r == 0 && v->len > 0) {
    cleanup_free bool *shadowed = json_shadowed(v);
    size_t count = 0;
    for (size_t i = 0; i < v->len; i++)
      count += !shadowed[i];
    char *a = xcalloc(count, size);
    *(void **)out = a;
    *n = count;
    for (size_t i = 0, j = 0; i < v->len && r == 0; i++) {
      const struct json_member *m = &v->u.members[i];
      if (shadowed[i])
        continue;
      if (*m->key == '\0') {
        r = perr(c, "keys must not be empty");
        break;
      }
      size_t mk = path_key(c, m->key);
      r = fn(c, m->key, &m->value, a + j++ * size);
      path_restore(c, mk);
    }
  }
  path_restore(c, mark);
  return r < 0 ? r : 1;
}

static int kv_string(struct pctx *c, const char *key, const struct json_value *v, void *out)
{
  struct oci_kv *kv = out;
  if (jv_str(c, v, &kv->value) < 0)
    return -1;
  kv->key = xstrdup(key);
  return 0;
}

int jf_strmap(struct pctx *c, const struct json_value *obj, const char *key, struct oci_kv **out,
              size_t *n)
{
  return jf_map(c, obj, key, sizeof(**out), out, n, kv_string);
}

int jf_flags(struct pctx *c, const struct json_value *obj, const char *key,
             const struct oci_name_table *t, const char *what, uint64_t *out)
{
  const struct json_value *v = json_get(obj, key);
  if (v == NULL)
    return 0;
  size_t mark = path_key(c, key);
  int r = jv_array(c, v);
  *out = 0;
  for (size_t i = 0; r == 0 && i < v->len; i++) {
    int64_t f = 0;
    size_t m = path_index(c, i);
    r = jv_name(c, &v->u.items[i], t, what, &f);
    path_restore(c, m);
    *out |= (uint64_t)f;
  }
  path_restore(c, mark);
  return r < 0 ? r : 1;
}

void oci_kv_free(struct oci_kv *kv, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(kv[i].key);
    free(kv[i].value);
  }
  free(kv);
}
