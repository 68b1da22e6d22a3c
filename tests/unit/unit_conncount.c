/* conncount.c: counts by key, the full table, reuse after removal, and
   many random operations checked against a plain array. */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include "tap.h"
#include "conncount.h"

static const struct siphash_key seed = { 0x0123456789abcdefull, 0xfedcba9876543210ull };

static struct clientkey v4key(unsigned n, unsigned prefix)
{
  struct ip_addr ip;
  struct clientkey k;
  ip_set_v4(&ip, 10, (unsigned char) (n >> 16), (unsigned char) (n >> 8), (unsigned char) n);
  clientkey_make(&k, &ip, prefix);
  return k;
}

/* The model: counts[i] of keys numbered i. */
#define MODEL_KEYS 40

static int random_ops(size_t cap, unsigned rounds, unsigned seedval)
{
  static unsigned long counts[MODEL_KEYS];
  struct conncount *t = conncount_new(cap, &seed);
  size_t live = 0;
  int bad = 0;
  if (!t) return 0;
  memset(counts, 0, sizeof counts);
  srand(seedval);
  for (unsigned r = 0; r < rounds && !bad; r++) {
    unsigned i = (unsigned) rand() % MODEL_KEYS;
    struct clientkey k = v4key(i * 7919u, 32);
    if (rand() % 2) {
      long n = conncount_inc(t, &k);
      if (!counts[i] && live >= cap) {
        bad |= n != -1 || errno != ENOSPC;
      } else {
        live += !counts[i];
        bad |= n != (long) ++counts[i];
      }
    } else {
      long n = conncount_dec(t, &k);
      if (!counts[i]) {
        bad |= n != -1 || errno != ENOENT;
      } else {
        live -= counts[i] == 1;
        bad |= n != (long) --counts[i];
      }
    }
    bad |= conncount_live(t) != live;
    for (unsigned j = 0; j < MODEL_KEYS; j++) {
      struct clientkey kj = v4key(j * 7919u, 32);
      bad |= conncount_get(t, &kj) != counts[j];
    }
  }
  conncount_free(t);
  return !bad;
}

int main(void)
{
  struct conncount *t = conncount_new(3, &seed);
  struct clientkey a = v4key(1, 32), b = v4key(2, 32), c = v4key(3, 32), d = v4key(4, 32);
  struct clientkey net = v4key(1, 24);
  char buf[CLIENTKEY_FMT_SIZE];
  clientkey_format(&net, buf);
  tap_is_str(buf, "10.0.0.0/24", "the test's /24 key");
  tap_ok(t != NULL && conncount_capacity(t) == 3, "a table for 3 keys");
  tap_ok(conncount_get(t, &a) == 0, "an unknown key counts 0");
  tap_ok(conncount_inc(t, &a) == 1 && conncount_inc(t, &a) == 2, "increments count");
  tap_ok(conncount_get(t, &a) == 2 && conncount_live(t) == 1, "one key, count 2");
  tap_ok(conncount_inc(t, &net) == 1 && conncount_get(t, &a) == 2,
         "the /24 of a client is another key");
  tap_ok(conncount_inc(t, &b) == 1 && conncount_live(t) == 3, "three keys live");
  tap_ok(conncount_inc(t, &c) == -1 && errno == ENOSPC, "a fourth key: full");
  tap_ok(conncount_live(t) == 3 && conncount_get(t, &c) == 0, "full refusal changes nothing");
  tap_ok(conncount_inc(t, &a) == 3, "a live key still counts when full");
  tap_ok(conncount_dec(t, &b) == 0 && conncount_live(t) == 2 && conncount_get(t, &b) == 0,
         "count 0 frees the key");
  tap_ok(conncount_inc(t, &c) == 1, "its room is reused");
  tap_ok(conncount_dec(t, &d) == -1 && errno == ENOENT, "decrement of an unknown key fails");
  tap_ok(conncount_dec(t, &a) == 2 && conncount_dec(t, &a) == 1 && conncount_dec(t, &a) == 0,
         "decrements count down");
  tap_ok(conncount_dec(t, &a) == -1 && conncount_live(t) == 2, "and not below 0");
  conncount_free(t);

  t = conncount_new(4, &seed);
  struct clientkey set[4] = { v4key(5, 32), v4key(5, 24), v4key(5, 24), v4key(5, 16) };
  tap_ok(conncount_inc_all(t, set, 4) == 0 && conncount_live(t) == 3, "inc_all: three distinct keys");
  tap_ok(conncount_get(t, &set[1]) == 1, "a key repeated in the set counts once");
  struct clientkey other[2] = { v4key(6, 32), v4key(7, 32) };
  tap_ok(conncount_inc_all(t, other, 2) == -1 && errno == ENOSPC, "inc_all past capacity fails");
  tap_ok(conncount_live(t) == 3 && conncount_get(t, &other[0]) == 0, "and is undone");
  tap_ok(conncount_dec_all(t, set, 4) == 0 && conncount_live(t) == 0, "dec_all frees them all");
  tap_ok(conncount_dec_all(t, set, 4) == -1 && errno == ENOENT, "dec_all of unknown keys fails");
  conncount_free(t);

  t = conncount_new(0, &seed);
  tap_ok(t && conncount_inc(t, &a) == -1 && errno == ENOSPC, "a table for 0 keys refuses all");
  conncount_free(t);
  errno = 0;
  tap_ok(conncount_new(SIZE_MAX / 4, &seed) == NULL && errno == ENOMEM, "a huge table: ENOMEM");

  tap_ok(random_ops(8, 20000, 1), "random operations, 8 keys (full often)");
  tap_ok(random_ops(MODEL_KEYS, 20000, 2), "random operations, never full");
  tap_ok(random_ops(3, 5000, 3), "random operations, 3 keys");

  /* Many keys come and go: no tombstones, the live count stays exact. */
  t = conncount_new(2000, &seed);
  int ok = t != NULL;
  for (unsigned round = 0; ok && round < 50; round++) {
    for (unsigned i = 0; i < 2000; i++) {
      struct clientkey k = v4key(round * 2000 + i, 32);
      ok &= conncount_inc(t, &k) == 1;
    }
    ok &= conncount_live(t) == 2000;
    for (unsigned i = 0; i < 2000; i++) {
      struct clientkey k = v4key(round * 2000 + i, 32);
      ok &= conncount_dec(t, &k) == 0;
    }
    ok &= conncount_live(t) == 0;
  }
  tap_ok(ok, "100000 keys through a table of 2000");
  conncount_free(t);
  return tap_done();
}
