/* libFuzzer target: the PROXY protocol parser, v1 and v2 (hostile bytes
   from the network, though only trusted proxies should be configured to
   send them).  The first byte picks the accepted versions.  Checks: the
   results are bounded, the kept values fit, "need more" never asks for a
   byte past the header, and a reader taking exactly what it is told
   reaches the same verdict and header as one parse of all the bytes. */
// needs: src/lib/proxy.c src/lib/proxy_parts.c src/lib/proxy_v1.c src/lib/proxy_v2.c src/lib/crc32c.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "proxy.h"

static void check_value(const struct proxy_value *v, size_t max)
{
  char out[PROXY_VALUE_MAX + 1];
  if (!v->present && v->len) abort();
  if (v->len > max || v->v[v->len] != 0) abort();
  size_t n = proxy_value_env(v, out, sizeof out);
  if (n != v->len || strlen(out) != n) abort();
  for (size_t i = 0; i < n; i++)
    if (out[i] < 32 || out[i] > 126) abort();
}

static void check_header(const struct proxy_header *h, size_t len)
{
  if (h->length != len || len > PROXY_HEADER_MAX) abort();
  if (h->version == 1 && (len > PROXY_V1_MAX || h->command != PROXY_CMD_PROXY)) abort();
  if (h->version != 1 && h->version != 2) abort();
  if (h->has_addresses) {
    if (h->command != PROXY_CMD_PROXY) abort();
    if (h->src.family != AF_INET && h->src.family != AF_INET6) abort();
    if (h->dst.family != AF_INET && h->dst.family != AF_INET6) abort();
    if (h->src.family != h->dst.family) abort();   /* PROTO fits both */
    if (h->srcport > 65535 || h->dstport > 65535) abort();
  }
  check_value(&h->alpn, PROXY_VALUE_MAX);
  check_value(&h->authority, PROXY_VALUE_MAX);
  check_value(&h->unique_id, PROXY_UNIQUE_ID_MAX);
  check_value(&h->ssl_version, PROXY_VALUE_MAX);
  check_value(&h->ssl_cn, PROXY_VALUE_MAX);
  check_value(&h->ssl_cipher, PROXY_VALUE_MAX);
  check_value(&h->ssl_sig_alg, PROXY_VALUE_MAX);
  check_value(&h->ssl_key_alg, PROXY_VALUE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  unsigned accept = 1u + data[0] % 3u;
  const unsigned char *in = data + 1;
  size_t n = size - 1;
  static struct proxy_header whole, step;
  const char *why = NULL;
  size_t need = 0;

  int r = proxy_parse(in, n, accept, &whole, &need, &why);
  if (r == 1) {
    if (need > n) abort();
    check_header(&whole, need);
  } else if (r == 0) {
    if (need < 1 || need > PROXY_HEADER_MAX - n) abort();
  } else if (r != -1 || !why || need != 0) {
    abort();
  }

  /* The reader that reads what it is told. */
  size_t got = 0;
  for (;;) {
    why = NULL;
    int s = proxy_parse(in, got, accept, &step, &need, &why);
    if (s == 1) {
      if (r != 1 || need != got || got != whole.length) abort();
      if (memcmp(&step, &whole, sizeof step) != 0) abort();
      break;
    }
    if (s < 0) {
      if (r != -1 || !why) abort();
      break;
    }
    if (need < 1) abort();
    if (r == 1 && got + need > whole.length) abort();
    if (need > n - got) {
      if (r == 1) abort();          /* it would have had to pass the header */
      break;
    }
    got += need;
  }

  /* Every prefix of a short complete header asks for more, within it. */
  if (r == 1 && whole.length <= 256) {
    for (size_t len = 0; len < whole.length; len++) {
      if (proxy_parse(in, len, accept, &step, &need, &why) != 0) abort();
      if (len + need > whole.length) abort();
    }
  }
  return 0;
}
