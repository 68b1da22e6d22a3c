/* libFuzzer target: the rule-data decoder and encoder of rules.h.  The
   decoder reads a cdb's data, which anyone able to write rules.cdb (or a
   damaged file) controls.  Checks: every item lies inside the data,
   iteration ends, and encode then decode gives back what went in. */
// needs: src/lib/rules.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "rules.h"

static void decode(const char *data, size_t size)
{
  size_t pos = 0, items = 0;
  const char *item;
  size_t len;
  (void) rules_data_denies(data, size);
  while (rules_data_next(data, size, &pos, &item, &len)) {
    if (item < data || item + len > data + size) abort();
    if (pos > size) abort();
    if (++items > size) abort();   /* no item is empty-and-free: must end */
  }
}

/* Split the input at the first two NULs: name, value; encode and decode. */
static void roundtrip(const char *data, size_t size)
{
  char buf[4096];
  const char *name = data, *z1 = memchr(data, 0, size);
  if (!z1) return;
  const char *value = z1 + 1;
  size_t namelen = (size_t) (z1 - name);
  const char *z2 = memchr(value, 0, size - namelen - 1);
  if (!z2) return;
  size_t valuelen = (size_t) (z2 - value);
  int deny = size > 0 && (data[size - 1] & 1);

  size_t len = 0;
  if (deny) len = rules_data_add_deny(buf, len, sizeof buf);
  if (len == (size_t) -1) abort();
  len = rules_data_add_var(buf, len, sizeof buf, name, namelen, value, valuelen);
  if (len == (size_t) -1) return;   /* did not fit: fine, if it says so */
  if (len > sizeof buf) abort();
  if (rules_data_denies(buf, len) != deny) abort();
  if (deny) return;   /* items after D are not listed, as in the reference */
  size_t pos = 0, ilen;
  const char *item;
  if (!rules_data_next(buf, len, &pos, &item, &ilen)) abort();
  if (ilen != namelen + 1 + valuelen) abort();
  if (memcmp(item, name, namelen) || item[namelen] != '=' ||
      memcmp(item + namelen + 1, value, valuelen)) abort();
  if (rules_data_next(buf, len, &pos, &item, &ilen)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* A copy of exactly size bytes, so that ASan sees any overread. */
  char *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  decode(copy, size);
  roundtrip(copy, size);
  free(copy);
  return 0;
}
