#include <string.h>
#include "logfield.h"

static char safe_byte(unsigned char c)
{
  if (c < 33 || c > 126 || c == '%' || c == ':') return '?';
  return (char) c;
}

size_t logfield_put(char *out, const char *s)
{
  size_t n = 0;
  if (!s) return 0;
  for (; n < LOGFIELD_KEEP; n++) {
    if (!s[n]) return n;
    out[n] = safe_byte((unsigned char) s[n]);
  }
  memcpy(out + n, "...", 3);
  return n + 3;
}
