/* tables: the cost of the per-client limit tables per connection: a
   child added with its three keys counted, then removed and its counts
   dropped (the server's bookkeeping of one connection), with 10 and with
   2000 other children live; and a rate-limit take among 10 or 100000
   clients.  Not part of bench/run.pl.
   Build: cc -O2 -std=c11 -D_GNU_SOURCE -Isrc/lib -o tables bench/tables.c build/libucspi.a
   usage: tables [rounds] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "children.h"
#include "conncount.h"
#include "ratelimit.h"

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void keys_of(unsigned n, struct clientkey *keys)
{
  struct ip_addr ip;
  ip_set_v4(&ip, 10, (unsigned char) (n >> 16), (unsigned char) (n >> 8), (unsigned char) n);
  clientkey_make(&keys[0], &ip, 32);
  clientkey_make(&keys[1], &ip, 24);
  clientkey_make(&keys[2], &ip, 16);
}

static void child_in(struct children *ch, struct conncount *cc, pid_t pid, unsigned client)
{
  struct child_entry *c = children_add(ch, pid);
  if (!c) abort();
  keys_of(client, c->keys);
  c->nkeys = 3;
  if (conncount_inc_all(cc, c->keys, c->nkeys) < 0) abort();
}

static void child_out(struct children *ch, struct conncount *cc, pid_t pid)
{
  struct child_entry gone;
  if (children_remove(ch, pid, &gone) < 0 || conncount_dec_all(cc, gone.keys, gone.nkeys) < 0)
    abort();
}

static void add_remove(size_t live, unsigned long rounds)
{
  struct siphash_key seed;
  if (siphash_key_random(&seed) < 0) abort();
  struct children *ch = children_new(live + 1, &seed);
  struct conncount *cc = conncount_new((live + 1) * 3, &seed);
  if (!ch || !cc) abort();
  pid_t pid = 1000;
  for (size_t i = 0; i < live; i++) child_in(ch, cc, pid++, (unsigned) i * 37);
  double t0 = now_ns();
  for (unsigned long r = 0; r < rounds; r++) {
    child_in(ch, cc, pid, (unsigned) r * 101);
    child_out(ch, cc, pid++);
  }
  double ns = (now_ns() - t0) / (double) rounds;
  printf("add+remove, 3 keys each, %5zu live: %6.1f ns\n", live, ns);
  children_free(ch);
  conncount_free(cc);
}

static void takes(unsigned clients, unsigned long rounds)
{
  struct siphash_key seed;
  if (siphash_key_random(&seed) < 0) abort();
  struct ratelimit *rl = ratelimit_new(4096, 1000, 10, &seed);
  if (!rl) abort();
  struct clientkey k[3];
  unsigned long allowed = 0;
  double t0 = now_ns();
  for (unsigned long r = 0; r < rounds; r++) {
    keys_of((unsigned) (r % clients) * 7, k);
    allowed += (unsigned long) ratelimit_take(rl, &k[0], (int64_t) r / 1000);
  }
  double ns = (now_ns() - t0) / (double) rounds;
  printf("rate take, %6u clients, 4096 buckets: %6.1f ns (%lu allowed)\n", clients, ns, allowed);
  ratelimit_free(rl);
}

int main(int argc, char **argv)
{
  unsigned long rounds = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
  add_remove(10, rounds);
  add_remove(2000, rounds);
  takes(10, rounds);
  takes(100000, rounds);
  return 0;
}
