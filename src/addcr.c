/* addcr: a CR before every LF, stdin to stdout. */
#include "copy.h"
#include "crlf.h"

static size_t add(void *ctx, const char *in, size_t n, char *out)
{
  (void) ctx;
  return crlf_add(in, n, out);
}

int main(void)
{
  return copy_filtered(0, 1, add, 0, 0, 0);
}
