/* libFuzzer target: rblsmtpd's reading of DNS answers (hostile input from
   whoever serves the blocklist zone) and its names and reply lines.
   Checks: the text is bounded, both readers agree on what is malformed,
   the reply line is printable and bounded, names stay in their buffer. */
// needs: src/lib/dnsbl.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dnsbl.h"

static void check_reply(const struct dnsbl_text *t)
{
  char line[DNSBL_REPLY_MAX + 1];
  size_t n = dnsbl_reply(t->len & 1, t->s, t->len, line);
  if (n > DNSBL_REPLY_MAX || strlen(line) != n) abort();
  for (size_t i = 0; i < n; i++)
    if ((unsigned char) line[i] < 32 || (unsigned char) line[i] > 126) abort();
}

/* The first bytes, up to a NUL, as an address; the rest as a base. */
static void check_name(const uint8_t *data, size_t size)
{
  char ip[128], base[DNSBL_NAME_MAX + 64], name[DNSBL_NAME_MAX];
  size_t i = 0;
  while (i < size && i < sizeof ip - 1 && data[i]) i++;
  memcpy(ip, data, i);
  ip[i] = 0;
  size_t rest = size - i > sizeof base - 1 ? sizeof base - 1 : size - i;
  memcpy(base, data + i, rest);
  base[rest] = 0;
  size_t len = dnsbl_name(ip, base, name);
  if (len >= DNSBL_NAME_MAX || (len && strlen(name) != len)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct dnsbl_text t;
  int txt = dnsbl_answer_txt(data, size, &t);
  int a = dnsbl_answer_has_a(data, size);
  if (t.len > DNSBL_TEXT_MAX) abort();
  if ((txt < 0) != (a < 0)) abort();
  if (a < -1 || a > 1) abort();
  check_reply(&t);
  check_name(data, size);
  return 0;
}
