#include <limits.h>
#include "num.h"

size_t fmt_ulong(char *buf, unsigned long n)
{
  char tmp[FMT_ULONG];
  size_t len = 0;
  do {
    tmp[len++] = (char) ('0' + n % 10);
    n /= 10;
  } while (n);
  for (size_t i = 0; i < len; i++) buf[i] = tmp[len - 1 - i];
  buf[len] = 0;
  return len;
}

size_t scan_ulong_flags(const char *s, size_t len, int flags,
                        unsigned long *u)
{
  unsigned long v = 0;
  size_t i = 0;
  for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
    unsigned long d = (unsigned long) (s[i] - '0');
    if ((flags & SCAN_SATURATE) && v > (ULONG_MAX - d) / 10) v = ULONG_MAX;
    else v = v * 10 + d;
  }
  *u = v;
  return i;
}

size_t scan_ulong(const char *s, unsigned long *u)
{
  return scan_ulong_flags(s, (size_t) -1, 0, u);
}

size_t scan_ulong_sat(const char *s, unsigned long *u)
{
  return scan_ulong_flags(s, (size_t) -1, SCAN_SATURATE, u);
}

unsigned long scan_leading_sat(const char *s)
{
  unsigned long u;
  scan_ulong_sat(s, &u);
  return u;
}

unsigned long scan_leading(const char *s)
{
  unsigned long u;
  scan_ulong(s, &u);
  return u;
}
