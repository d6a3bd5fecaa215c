/* What the in-process cost probes (bench/report_cost.c, bench/seccomp_cost.c)
 * share: a clock in nanoseconds and the median of a sample in microseconds. */
#ifndef NOOK_BENCH_TIMING_H
#define NOOK_BENCH_TIMING_H

#include <stdlib.h>
#include <time.h>

static inline long long clock_ns(clockid_t c)
{
  struct timespec t;
  clock_gettime(c, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline int cmp_ll(const void *a, const void *b)
{
  long long x = *(const long long *)a, y = *(const long long *)b;
  return x < y ? -1 : x > y;
}

/* Sorts v. */
static inline double median_us(long long *v, int n)
{
  qsort(v, (size_t)n, sizeof(*v), cmp_ll);
  return (n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0) / 1000.0;
}

#endif
