/* libFuzzer target: the rules-line parser of tcprules (ruleparse.h) and
   the key expansion of an address.  Every buffer is allocated at exactly
   the size the header promises is enough, so that ASan sees any overrun.
   Checks: results lie inside their buffers, the data decodes, a range
   gives at most 256 keys, and a stored key is its own canonical form. */
// needs: src/lib/ruleparse.c src/lib/rules.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "ruleparse.h"
#include "rules.h"

static void check_data(const char *data, size_t len)
{
  size_t pos = 0, ilen, n = 0;
  const char *item;
  while (rules_data_next(data, len, &pos, &item, &ilen)) {
    if (item < data || item + ilen > data + len || ++n > len) abort();
  }
}

static void check_canon(const char *key, size_t len)
{
  size_t cap = RULEKEY_CANON_CAP(len), outlen;
  char *out = malloc(cap);
  int fam;
  unsigned clen;
  if (!out) abort();
  if (rulekey_canon(key, len, out, cap, &outlen, &fam, &clen) != 0) abort();
  if (outlen > cap || outlen != len || memcmp(out, key, len)) abort();
  free(out);
}

static void check_keys(const char *addr, size_t len)
{
  struct rulekeys k;
  size_t cap = RULEKEYS_CAP(len), keylen;
  char *buf = malloc(cap);
  if (!buf) abort();
  if (rulekeys_start(&k, addr, len) == 0) {
    int fam, n = 0;
    unsigned clen;
    while (rulekeys_next(&k, buf, cap, &keylen, &fam, &clen) == 1) {
      if (keylen > cap) abort();
      if (++n > 256) abort();   /* a range tops out at 0..255 */
      check_canon(buf, keylen);
    }
  }
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
  /* One line, its newline included, in a buffer of exactly its size. */
  const uint8_t *nl = memchr(bytes, '\n', size);
  size_t len = nl ? (size_t) (nl - bytes) + 1 : size;
  char *line = malloc(len ? len : 1);
  size_t cap = RULEPARSE_DATA_CAP(len);
  char *data = malloc(cap);
  struct ruleline out;
  if (!line || !data) abort();
  memcpy(line, bytes, len);
  if (ruleparse_line(line, len, data, cap, &out) == RULEPARSE_RULE) {
    if (out.addr < line || out.addr + out.addrlen > line + len) abort();
    if (out.datalen > cap || out.linelen > len) abort();
    check_data(data, out.datalen);
    check_keys(out.addr, out.addrlen);
  }
  free(line);
  free(data);
  return 0;
}
