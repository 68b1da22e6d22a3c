/* addcr: a CR before every LF, stdin to stdout.  Arguments are ignored,
   as in 0.88, unless --help or --version is the only one. */
#include "copy.h"
#include "crlf.h"
#include "opts.h"

#define USAGE "addcr"

static size_t add(void *ctx, const char *in, size_t n, char *out)
{
  (void) ctx;
  return crlf_add(in, n, out);
}

int main(int argc, char **argv)
{
  int hv = opts_help_version(argc, argv);
  if (hv) return opts_answer(hv, "addcr", USAGE);
  return copy_filtered(0, 1, add, 0, 0, 0);
}
