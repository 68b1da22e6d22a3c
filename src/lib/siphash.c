#include <errno.h>
#include <sys/random.h>
#include "siphash.h"

struct sipstate { uint64_t v0, v1, v2, v3; };

static uint64_t rotl(uint64_t x, unsigned b)
{
  return (x << b) | (x >> (64 - b));
}

static void sipround(struct sipstate *s)
{
  s->v0 += s->v1; s->v1 = rotl(s->v1, 13); s->v1 ^= s->v0; s->v0 = rotl(s->v0, 32);
  s->v2 += s->v3; s->v3 = rotl(s->v3, 16); s->v3 ^= s->v2;
  s->v0 += s->v3; s->v3 = rotl(s->v3, 21); s->v3 ^= s->v0;
  s->v2 += s->v1; s->v1 = rotl(s->v1, 17); s->v1 ^= s->v2; s->v2 = rotl(s->v2, 32);
}

static void compress(struct sipstate *s, uint64_t m, unsigned rounds)
{
  s->v3 ^= m;
  for (unsigned i = 0; i < rounds; i++) sipround(s);
  s->v0 ^= m;
}

/* Little-endian load of n <= 8 bytes, so that the hash is the same on
   every machine (the published vectors are little-endian). */
static uint64_t load_le(const unsigned char *p, size_t n)
{
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) x |= (uint64_t) p[i] << (8 * i);
  return x;
}

uint64_t siphash(const struct siphash_key *key, unsigned c, unsigned d,
                 const void *data, size_t len)
{
  const unsigned char *p = data;
  struct sipstate s = {
    key->k0 ^ 0x736f6d6570736575ull, key->k1 ^ 0x646f72616e646f6dull,
    key->k0 ^ 0x6c7967656e657261ull, key->k1 ^ 0x7465646279746573ull,
  };
  size_t whole = len - len % 8;
  for (size_t i = 0; i < whole; i += 8) compress(&s, load_le(p + i, 8), c);
  compress(&s, load_le(p + whole, len % 8) | (uint64_t) (len & 0xff) << 56, c);
  s.v2 ^= 0xff;
  for (unsigned i = 0; i < d; i++) sipround(&s);
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t siphash13(const struct siphash_key *key, const void *data,
                   size_t len)
{
  return siphash(key, 1, 3, data, len);
}

int siphash_key_random(struct siphash_key *key)
{
  unsigned char buf[16];
  size_t got = 0;
  while (got < sizeof buf) {
    ssize_t r = getrandom(buf + got, sizeof buf - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    got += (size_t) r;
  }
  key->k0 = load_le(buf, 8);
  key->k1 = load_le(buf + 8, 8);
  return 0;
}
