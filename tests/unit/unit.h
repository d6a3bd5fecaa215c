/* A minimal unit-test harness: one test binary per tests/unit/test_*.c.
 *
 *   TEST(parses_minimal) { CHECK(x == 1); CHECK_STR_EQ(s, "a"); }
 *
 * Tests register themselves and run in file order; a failed CHECK reports
 * and lets the test go on.  Each test prints "ok NAME", "ok NAME # skip WHY"
 * (SKIP) or "FAIL NAME", and the binary ends with
 * "unit: N passed, N failed, N skipped" (what tests/unit/run sums) and exits
 * non-zero if anything failed.  `test_x NAME...` runs only the named tests. */
#ifndef NOOK_UNIT_H
#define NOOK_UNIT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UNIT_MAX_TESTS 1024

struct unit_test {
  const char *name;
  void (*fn)(void);
  int line;
};

static struct unit_test unit_tests[UNIT_MAX_TESTS];
static int unit_ntests;
static int unit_failed_checks; /* in the running test */
static const char *unit_skip_reason;

__attribute__((unused)) static void unit_register(const char *name, void (*fn)(void), int line)
{
  if (unit_ntests == UNIT_MAX_TESTS) {
    fprintf(stderr, "unit.h: more than %d tests\n", UNIT_MAX_TESTS);
    exit(2);
  }
  unit_tests[unit_ntests++] = (struct unit_test){name, fn, line};
}

#define TEST(name)                                                                                 \
  static void test_##name(void);                                                                   \
  __attribute__((constructor)) static void unit_register_##name(void)                              \
  {                                                                                                \
    unit_register(#name, test_##name, __LINE__);                                                   \
  }                                                                                                \
  static void test_##name(void)

__attribute__((unused, format(printf, 4, 5))) static bool unit_check(bool ok, const char *file,
                                                                     int line, const char *fmt, ...)
{
  if (!ok) {
    unit_failed_checks++;
    fprintf(stdout, "  %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
  }
  return ok;
}

#define CHECK(cond) unit_check((cond), __FILE__, __LINE__, "check failed: %s%s", #cond, "")

#define CHECK_STR_EQ(got, want)                                                                    \
  ({                                                                                               \
    const char *_g = (got), *_w = (want);                                                          \
    unit_check(_g != NULL && strcmp(_g, _w) == 0, __FILE__, __LINE__,                              \
               "expected \"%2$s\", got \"%1$s\"", _g ? _g : "(null)", _w);                         \
  })

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
  ({                                                                                               \
    const char *_h = (hay), *_n = (needle);                                                        \
    unit_check(_h != NULL && strstr(_h, _n) != NULL, __FILE__, __LINE__,                           \
               "\"%s\" does not contain \"%s\"", _h ? _h : "(null)", _n);                          \
  })

#define CHECK_INT_EQ(got, want)                                                                    \
  ({                                                                                               \
    long long _g = (long long)(got), _w = (long long)(want);                                       \
    char _gs[32], _ws[32];                                                                         \
    snprintf(_gs, sizeof(_gs), "%lld", _g);                                                        \
    snprintf(_ws, sizeof(_ws), "%lld", _w);                                                        \
    unit_check(_g == _w, __FILE__, __LINE__, "expected %2$s, got %1$s (" #got ")", _gs, _ws);      \
  })

/* End the running test as skipped: counted apart from the passed ones, so
 * a test that never runs anywhere shows in the totals.  A test that failed a
 * check before skipping still counts as failed. */
#define SKIP(reason)                                                                               \
  do {                                                                                             \
    unit_skip_reason = (reason);                                                                   \
    return;                                                                                        \
  } while (0)

static int unit_by_line(const void *a, const void *b)
{
  return ((const struct unit_test *)a)->line - ((const struct unit_test *)b)->line;
}

static bool unit_selected(const char *name, int argc, char **argv)
{
  if (argc < 2)
    return true;
  for (int i = 1; i < argc; i++)
    if (strcmp(argv[i], name) == 0)
      return true;
  return false;
}

int main(int argc, char **argv)
{
  int passed = 0, failed = 0, skipped = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  qsort(unit_tests, (size_t)unit_ntests, sizeof(unit_tests[0]), unit_by_line);
  for (int i = 0; i < unit_ntests; i++) {
    if (!unit_selected(unit_tests[i].name, argc, argv))
      continue;
    unit_failed_checks = 0;
    unit_skip_reason = NULL;
    unit_tests[i].fn();
    if (unit_failed_checks > 0) {
      printf("FAIL %s\n", unit_tests[i].name);
      failed++;
    } else if (unit_skip_reason != NULL) {
      printf("ok %s # skip %s\n", unit_tests[i].name, unit_skip_reason);
      skipped++;
    } else {
      printf("ok %s\n", unit_tests[i].name);
      passed++;
    }
  }
  printf("unit: %d passed, %d failed, %d skipped\n", passed, failed, skipped);
  return failed > 0 ? 1 : 0;
}

#endif
