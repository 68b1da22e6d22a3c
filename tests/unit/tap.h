#ifndef TAP_H
#define TAP_H
/* A minimal TAP producer for the library's unit tests (inline: a test
   need not use every one). */
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline void tap_ok(int cond, const char *name)
{
  tap_n++;
  if (!cond) tap_failed++;
  printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
}

static inline void tap_is_str(const char *got, const char *want, const char *name)
{
  int same = got && want ? strcmp(got, want) == 0 : got == want;
  tap_ok(same, name);
  if (!same) printf("#   got: '%s'\n#   expected: '%s'\n", got ? got : "(null)", want ? want : "(null)");
}

static inline int tap_done(void)
{
  printf("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}
#endif
