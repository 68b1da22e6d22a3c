/* libFuzzer target: the ident reply parser (hostile input from the
   client's ident server).  Checks: the info is bounded and printable,
   and feeding the reply in pieces gives the same result as in one. */
// needs: src/lib/ident.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ident.h"

static void check_info(const char *info)
{
  size_t len = strlen(info);
  if (len > IDENT_INFO_MAX) abort();
  for (size_t i = 0; i < len; i++)
    if ((unsigned char) info[i] < 33 || (unsigned char) info[i] > 126) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char whole[IDENT_INFO_MAX + 1];
  struct ident_parser p;
  const char *s = (const char *) data;
  int done_whole = ident_parse(s, size, whole);
  if (done_whole) check_info(whole);

  /* The same bytes in pieces whose sizes come from the data itself. */
  ident_parser_init(&p);
  int done = 0;
  for (size_t off = 0; off < size && !done; ) {
    size_t n = 1 + data[off] % 7;
    if (n > size - off) n = size - off;
    done = ident_parser_feed(&p, s + off, n);
    off += n;
  }
  check_info(p.info);
  if (p.len != strlen(p.info)) abort();
  if (done != done_whole) abort();
  if (done && strcmp(p.info, whole) != 0) abort();
  return 0;
}
