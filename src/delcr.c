/* delcr: drop the CR of each CR LF, stdin to stdout.  A CR at the very
   end of the input is kept. */
#include "copy.h"
#include "crlf.h"
#include "opts.h"

#define USAGE "delcr"

static size_t del(void *ctx, const char *in, size_t n, char *out)
{
  return crlf_del(in, n, out, ctx);
}

static size_t del_end(void *ctx, char *out)
{
  return crlf_del_end(out, ctx);
}

int main(int argc, char **argv)
{
  int hv = opts_help_version(argc, argv);
  if (hv) return opts_answer(hv, "delcr", USAGE);
  int held = 0;
  return copy_filtered(0, 1, del, del_end, &held, 0);
}
