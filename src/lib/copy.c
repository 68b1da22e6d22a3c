#include <errno.h>
#include <unistd.h>
#include "copy.h"
#include "fd.h"

static int put(int to, const char *buf, size_t n, int flags)
{
  if (write_all(to, buf, n) == 0) return 0;
  return flags & COPY_IGNORE_WRITE_ERRORS ? 0 : -1;
}

int copy_filtered(int from, int to, copy_filter *filter, copy_end *end,
                  void *ctx, int flags)
{
  char in[COPY_CHUNK];
  char out[2 * COPY_CHUNK];
  for (;;) {
    ssize_t r = read(from, in, sizeof in);
    if (r < 0) {
      if (errno == EINTR) continue;
      return 111;
    }
    if (r == 0) break;
    size_t n = (size_t) r;
    const char *data = in;
    if (filter) {
      n = filter(ctx, in, n, out);
      data = out;
    }
    if (put(to, data, n, flags) < 0) return 111;
  }
  size_t n = end ? end(ctx, out) : 0;
  if (n && put(to, out, n, flags) < 0) return 111;
  return 0;
}
