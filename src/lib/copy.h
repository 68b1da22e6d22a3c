#ifndef COPY_H
#define COPY_H
#include <stddef.h>

/* Copy a stream from one fd to another through a filter, a read at a
   time: what one read brings is written out before the next read, so an
   interactive peer sees each line at once. */

#define COPY_CHUNK 8192

/* Translate n bytes of in into out (room for 2 * n); return the length. */
typedef size_t copy_filter(void *ctx, const char *in, size_t n, char *out);
/* At the end of the input: bytes still held back, into out (room for
   COPY_CHUNK); return the length. */
typedef size_t copy_end(void *ctx, char *out);

/* Keep copying after a write error (the output is lost, not the input). */
#define COPY_IGNORE_WRITE_ERRORS 1

/* Returns 0 at the end of the input, 111 after a read or write error. A
   NULL filter copies unchanged; end may be NULL. */
int copy_filtered(int from, int to, copy_filter *filter, copy_end *end,
                  void *ctx, int flags);
#endif
