#include <string.h>
#include "tap.h"
#include "logfield.h"

static const char *safe(const char *s)
{
  static char buf[LOGFIELD_MAX + 1];
  buf[logfield_put(buf, s)] = 0;
  return buf;
}

int main(void)
{
  char longer[200];
  tap_is_str(safe(NULL), "", "NULL is empty");
  tap_is_str(safe("mail.example.com"), "mail.example.com", "plain kept");
  tap_is_str(safe("a:b%c d\001\351\177~!"), "a?b?c?d???~!", "unsafe bytes become ?");
  memset(longer, 'a', 99); longer[99] = 0;
  tap_ok(strlen(safe(longer)) == 99, "99 bytes kept whole");
  longer[99] = 'b'; longer[100] = 0;
  tap_ok(strlen(safe(longer)) == 103 && !strcmp(safe(longer) + 99, "b..."),
         "exactly 100 bytes: ... added, as 0.88");
  memset(longer, 'c', 199); longer[199] = 0;
  tap_ok(strlen(safe(longer)) == 103, "cut at 100 plus ...");
  return tap_done();
}
