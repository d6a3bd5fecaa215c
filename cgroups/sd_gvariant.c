/* org.systemd.property.NAME annotations: their values in GVariant text
 * format (GLib's g_variant_parse; runc reads them with godbus's
 * ParseVariant), the part of it a unit property can use: numbers and type
 * keywords ("uint64 5", "@t 5"), booleans, strings, and arrays and tuples
 * of those.  Untyped integers are int32 and numbers with a fraction or
 * exponent double, as in GVariant. */
#include "systemd.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../base/utils.h"

struct gv {
  const char *text; /* the whole value, for messages */
  const char *p;
};

static void skip_ws(struct gv *g)
{
  while (*g->p == ' ' || *g->p == '\t' || *g->p == '\n' || *g->p == '\r')
    g->p++;
}

static int fail(struct gv *g, nook_error_t *err, const char *what)
{
  return nook_error(err, 0, "GVariant value \"%s\": %s at offset %zu", g->text, what,
                    (size_t)(g->p - g->text));
}

/* The length of one complete type at sig ("t", "as", "a(ss)"), or 0. */
static size_t type_len(const char *sig)
{
  if (*sig == '\0')
    return 0;
  if (strchr("bynqiuxtdsog", *sig))
    return 1;
  if (*sig == 'a') {
    size_t n = type_len(sig + 1);
    return n ? n + 1 : 0;
  }
  if (*sig == '(') {
    size_t i = 1;
    while (sig[i] != ')') {
      size_t n = type_len(sig + i);
      if (n == 0)
        return 0;
      i += n;
    }
    return i + 1;
  }
  return 0;
}

static const struct {
  const char *word, *sig;
} type_words[] = {
    {"boolean", "b"}, {"byte", "y"},   {"int16", "n"},      {"uint16", "q"},
    {"int32", "i"},   {"uint32", "u"}, {"int64", "x"},      {"uint64", "t"},
    {"double", "d"},  {"string", "s"}, {"objectpath", "o"}, {"signature", "g"},
};

static int parse_value(struct gv *g, const char *want, struct sdp_value *v, nook_error_t *err);

static int parse_string(struct gv *g, const char *want, struct sdp_value *v, nook_error_t *err)
{
  if (want && !strchr("sog", want[0]))
    return fail(g, err, "a string where a value of another type belongs");
  char q = *g->p++;
  char *buf = xmalloc(strlen(g->p) + 1), *o = buf;
  for (;;) {
    char c = *g->p++;
    if (c == '\0') {
      free(buf);
      g->p--;
      return fail(g, err, "unterminated string");
    }
    if (c == q)
      break;
    if (c == '\\') {
      c = *g->p++;
      switch (c) {
      case 'n':
        c = '\n';
        break;
      case 't':
        c = '\t';
        break;
      case 'r':
        c = '\r';
        break;
      case '\0':
        free(buf);
        g->p--;
        return fail(g, err, "unterminated string");
      default:
        break; /* \\ \' \" and any other character stand for themselves */
      }
    }
    *o++ = c;
  }
  *o = '\0';
  v->sig = xstrdup(want ? (char[]){want[0], '\0'} : "s");
  v->s = buf;
  return 0;
}

static int parse_number(struct gv *g, const char *want, struct sdp_value *v, nook_error_t *err)
{
  const char *start = g->p;
  size_t n = strspn(g->p, "0123456789+-.eExXabcdefABCDEF");
  cleanup_free char *tok = xstrndup(g->p, n);
  bool is_double = !strpbrk(tok, "xX") && strpbrk(tok, ".eE");
  char type = want ? want[0] : is_double ? 'd' : 'i';
  char *end;
  errno = 0;
  if (type == 'd') {
    v->d = strtod(tok, &end);
    if (end == tok || *end || errno)
      return fail(g, err, "not a number");
  } else if (strchr("ynqiuxt", type) && !is_double) {
    bool sign = strchr("nix", type) != NULL;
    if (sign) {
      long long x = strtoll(tok, &end, 0);
      long long lo = type == 'n' ? INT16_MIN : type == 'i' ? INT32_MIN : INT64_MIN;
      long long hi = type == 'n' ? INT16_MAX : type == 'i' ? INT32_MAX : INT64_MAX;
      if (end == tok || *end || errno || x < lo || x > hi)
        return fail(g, err, "integer out of range or malformed");
      v->i = x;
    } else {
      unsigned long long x = strtoull(tok, &end, 0);
      unsigned long long hi = type == 'y'   ? UINT8_MAX
                              : type == 'q' ? UINT16_MAX
                              : type == 'u' ? UINT32_MAX
                                            : UINT64_MAX;
      if (end == tok || *end || errno || tok[0] == '-' || x > hi)
        return fail(g, err, "integer out of range or malformed");
      v->u = x;
    }
  } else {
    return fail(g, err, "a number where a value of another type belongs");
  }
  g->p = start + n;
  v->sig = xstrdup((char[]){type, '\0'});
  return 0;
}

/* [a, b] (want "aT" or NULL: the first element decides) or (a, b). */
static int parse_container(struct gv *g, const char *want, struct sdp_value *v, nook_error_t *err)
{
  bool tuple = *g->p == '(';
  char close = tuple ? ')' : ']';
  if (want && want[0] != (tuple ? '(' : 'a'))
    return fail(g, err,
                tuple ? "a tuple where a value of another type belongs"
                      : "an array where a value of another type belongs");
  g->p++;
  size_t cap = 0;
  const char *field = want ? want + 1 : NULL; /* the next element's type */
  cleanup_free char *elem = want && !tuple ? xstrndup(want + 1, type_len(want + 1)) : NULL;
  for (;;) {
    skip_ws(g);
    if (*g->p == close)
      break;
    if (v->n > 0) {
      if (*g->p != ',')
        return fail(g, err, "expected `,`");
      g->p++;
      skip_ws(g);
    }
    if (tuple && want && *field == ')')
      return fail(g, err, "more fields than the tuple's type has");
    if (v->n == cap) {
      cap = cap ? cap * 2 : 4;
      v->items = xrealloc(v->items, cap * sizeof(*v->items));
    }
    struct sdp_value *it = &v->items[v->n];
    memset(it, 0, sizeof(*it));
    cleanup_free char *ft = tuple && want ? xstrndup(field, type_len(field)) : NULL;
    if (parse_value(g, tuple ? ft : elem, it, err) < 0)
      return -1;
    v->n++;
    if (tuple && want)
      field += strlen(ft);
    if (!tuple && elem == NULL)
      elem = xstrdup(it->sig);
  }
  g->p++;
  if (tuple) {
    if (want && *field != ')')
      return fail(g, err, "fewer fields than the tuple's type has");
    size_t len = 3;
    for (size_t i = 0; i < v->n; i++)
      len += strlen(v->items[i].sig);
    v->sig = xmalloc(len);
    strcpy(v->sig, "(");
    for (size_t i = 0; i < v->n; i++)
      strcat(v->sig, v->items[i].sig);
    strcat(v->sig, ")");
  } else {
    if (elem == NULL)
      return fail(g, err, "an empty array needs its type (e.g. `@as []`)");
    xasprintf(&v->sig, "a%s", elem);
  }
  return 0;
}

static int parse_value(struct gv *g, const char *want, struct sdp_value *v, nook_error_t *err)
{
  skip_ws(g);
  if (*g->p == '@') {
    g->p++;
    size_t n = type_len(g->p);
    if (n == 0)
      return fail(g, err, "unknown type after `@`");
    cleanup_free char *t = xstrndup(g->p, n);
    if (want && strcmp(want, t) != 0)
      return fail(g, err, "the annotated type differs from the expected one");
    g->p += n;
    return parse_value(g, t, v, err);
  }
  for (size_t i = 0; i < ARRAY_SIZE(type_words); i++) {
    size_t n = strlen(type_words[i].word);
    if (strncmp(g->p, type_words[i].word, n) == 0 && (g->p[n] == ' ' || g->p[n] == '\t')) {
      if (want && strcmp(want, type_words[i].sig) != 0)
        return fail(g, err, "the type keyword differs from the expected type");
      g->p += n;
      return parse_value(g, type_words[i].sig, v, err);
    }
  }
  char c = *g->p;
  if (c == '\'' || c == '"')
    return parse_string(g, want, v, err);
  if (c == '[' || c == '(')
    return parse_container(g, want, v, err);
  if (strncmp(g->p, "true", 4) == 0 || strncmp(g->p, "false", 5) == 0) {
    if (want && want[0] != 'b')
      return fail(g, err, "a boolean where a value of another type belongs");
    v->b = g->p[0] == 't';
    g->p += v->b ? 4 : 5;
    v->sig = xstrdup("b");
    return 0;
  }
  if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.')
    return parse_number(g, want, v, err);
  return fail(g, err, c ? "unexpected character" : "no value");
}

int sd_gvariant_parse(const char *text, struct sdp_value *v, nook_error_t *err)
{
  struct gv g = {.text = text, .p = text};
  memset(v, 0, sizeof(*v));
  if (parse_value(&g, NULL, v, err) < 0) {
    sdp_value_clear(v);
    return -1;
  }
  skip_ws(&g);
  if (*g.p != '\0') {
    sdp_value_clear(v);
    return fail(&g, err, "trailing characters");
  }
  return 0;
}

/* runc's convertSecToUSec: a number of seconds of any numeric type, sent
 * as uint64 microseconds. */
static int sec_to_usec(struct sdp_value *v, nook_error_t *err)
{
  const double M = 1000000;
  uint64_t usec;
  char t = v->sig[0];
  if (t == 'd') {
    if (!(v->d >= 0) || v->d * M >= 18446744073709551615.0)
      return nook_error(err, 0, "%g seconds cannot be converted to microseconds", v->d);
    usec = (uint64_t)(v->d * M); /* truncated, as runc */
  } else if (strchr("nix", t)) {
    if (v->i < 0 || (uint64_t)v->i > UINT64_MAX / 1000000)
      return nook_error(err, 0, "%lld seconds cannot be converted to microseconds",
                        (long long)v->i);
    usec = (uint64_t)v->i * 1000000;
  } else if (strchr("yqut", t)) {
    if (v->u > UINT64_MAX / 1000000)
      return nook_error(err, 0, "%llu seconds cannot be converted to microseconds",
                        (unsigned long long)v->u);
    usec = v->u * 1000000;
  } else {
    return nook_error(err, 0, "a time in seconds must be a number");
  }
  sdp_value_clear(v);
  *v = (struct sdp_value){.sig = xstrdup("t"), .u = usec};
  return 0;
}

int sdp_from_annotations(const struct oci_kv *a, size_t n, struct sdp_list *out, nook_error_t *err)
{
  static const char prefix[] = "org.systemd.property.";
  for (size_t i = 0; i < n; i++) {
    if (a[i].key == NULL || !has_prefix(a[i].key, prefix))
      continue;
    const char *name = a[i].key + sizeof(prefix) - 1;
    size_t len = strlen(name);
    bool ok = len >= 3;
    for (size_t k = 0; k < len; k++)
      ok = ok && ((name[k] >= 'a' && name[k] <= 'z') || (name[k] >= 'A' && name[k] <= 'Z'));
    if (!ok)
      return nook_error(err, 0,
                        "annotations: \"%s\": a systemd property name is 3 or more latin letters",
                        a[i].key);
    struct sdp_value v;
    if (sd_gvariant_parse(a[i].value ? a[i].value : "", &v, err) < 0)
      return nook_error_wrap(err, "annotations: \"%s\"", a[i].key);
    cleanup_free char *prop = xstrdup(name);
    /* TimeoutStopSec (a lowercase letter before "Sec") is TimeoutStopUSec. */
    if (len > 3 && strcmp(name + len - 3, "Sec") == 0 && name[len - 4] >= 'a' &&
        name[len - 4] <= 'z') {
      if (sec_to_usec(&v, err) < 0) {
        sdp_value_clear(&v);
        return nook_error_wrap(err, "annotations: \"%s\"", a[i].key);
      }
      free(prop);
      xasprintf(&prop, "%.*sUSec", (int)(len - 3), name);
    }
    sdp_add_value(out, prop, &v);
  }
  return 0;
}
