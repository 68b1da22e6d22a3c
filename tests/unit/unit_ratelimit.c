/* ratelimit.c: burst, refill over time, fractional rates, the accepted
   ranges, eviction of the fullest bucket, floods of addresses, IPv6 /64
   grouping, and random operations checked against a plain model. */
#include <errno.h>
#include <stdlib.h>
#include "tap.h"
#include "ratelimit.h"

static const struct siphash_key seed = { 7, 77 };

static struct clientkey key_n(unsigned n)
{
  struct ip_addr ip;
  struct clientkey k;
  ip_set_v4(&ip, (unsigned char) (n >> 24), (unsigned char) (n >> 16),
            (unsigned char) (n >> 8), (unsigned char) n);
  clientkey_make(&k, &ip, 32);
  return k;
}

static uint64_t peek(const struct ratelimit *t, const struct clientkey *k, int64_t now)
{
  uint64_t micro;
  return ratelimit_peek(t, k, now, &micro) == 0 ? micro : UINT64_MAX;
}

/* Takes allowed of n tries at now. */
static int takes(struct ratelimit *t, const struct clientkey *k, int64_t now, int n)
{
  int ok = 0;
  while (n-- > 0) ok += ratelimit_take(t, k, now);
  return ok;
}

static void ranges(void)
{
  tap_ok(!ratelimit_new(8, 0, 1, &seed) && errno == EINVAL, "rate 0 refused");
  tap_ok(!ratelimit_new(8, RATELIMIT_RATE_MAX + 1, 1, &seed) && errno == EINVAL, "rate above the maximum refused");
  tap_ok(!ratelimit_new(8, 1000, 0, &seed) && errno == EINVAL, "burst 0 refused");
  tap_ok(!ratelimit_new(8, 1000, RATELIMIT_BURST_MAX + 1, &seed) && errno == EINVAL, "burst above the maximum refused");
  tap_ok(!ratelimit_new(0, 1000, 1, &seed) && errno == EINVAL, "0 buckets refused");
  tap_ok(!ratelimit_new(SIZE_MAX, 1000, 1, &seed) && errno == ENOMEM, "too many buckets: ENOMEM");
  struct ratelimit *t = ratelimit_new(9, 1000, 1, &seed);
  tap_ok(t && ratelimit_buckets(t) == 16 && ratelimit_used(t) == 0, "9 buckets round up to 16");
  ratelimit_free(t);

  /* The extremes: no overflow whatever the times. */
  struct clientkey k = key_n(1);
  t = ratelimit_new(8, RATELIMIT_RATE_MAX, RATELIMIT_BURST_MAX, &seed);
  int ok = t && takes(t, &k, INT64_MIN, (int) RATELIMIT_BURST_MAX) == (int) RATELIMIT_BURST_MAX;
  ok = ok && !ratelimit_take(t, &k, INT64_MIN);
  ok = ok && peek(t, &k, INT64_MAX) == (uint64_t) RATELIMIT_BURST_MAX * RATELIMIT_TOKEN;
  ok = ok && peek(t, &k, INT64_MIN + 1) == RATELIMIT_RATE_MAX;
  tap_ok(ok, "maximum rate and burst, times from INT64_MIN to INT64_MAX");
  ratelimit_free(t);
  t = ratelimit_new(8, 1, 1, &seed);
  ok = t && ratelimit_take(t, &k, 0) && !ratelimit_take(t, &k, 999999);
  ok = ok && takes(t, &k, 1000000, 2) == 1;
  tap_ok(ok, "minimum rate: one connection per 1000 s");
  ok = ok && peek(t, &k, INT64_MAX) == RATELIMIT_TOKEN;
  tap_ok(ok, "and a bucket full after any time");
  ratelimit_free(t);
}

static void refill(void)
{
  struct clientkey a = key_n(10), b = key_n(11);
  struct ratelimit *t = ratelimit_new(64, 1000, 3, &seed);   /* 1/s, burst 3 */
  tap_ok(takes(t, &a, 1000, 3) == 3, "a burst of 3 is allowed");
  tap_ok(!ratelimit_take(t, &a, 1000), "the 4th at once is refused");
  tap_ok(ratelimit_take(t, &b, 1000), "another client is not concerned");
  tap_ok(peek(t, &a, 1500) == 500000, "half a token after 500 ms");
  tap_ok(!ratelimit_take(t, &a, 1999), "still refused after 999 ms");
  int first = ratelimit_take(t, &a, 2000), second = ratelimit_take(t, &a, 2000);
  tap_ok(first && !second, "one more after a second, and only one");
  tap_ok(!ratelimit_take(t, &a, 2500) && peek(t, &a, 2500) == 500000,
         "a refusal takes nothing");
  tap_ok(peek(t, &a, 1000000) == 3 * RATELIMIT_TOKEN, "refill stops at the burst");
  tap_ok(takes(t, &a, 1000000, 5) == 3, "after a long pause: a burst again, no more");
  tap_ok(peek(t, &a, 999000) == 0 && takes(t, &a, 999000, 2) == 0,
         "an earlier time gives no tokens");
  tap_ok(ratelimit_take(t, &a, 1001000), "and the clock going back costs none");
  ratelimit_free(t);

  t = ratelimit_new(8, 100, 1, &seed);   /* one per 10 s */
  tap_ok(ratelimit_take(t, &a, 0) && !ratelimit_take(t, &a, 9999) && ratelimit_take(t, &a, 10000),
         "rate 0.1/s: one per 10 s");
  ratelimit_free(t);
  t = ratelimit_new(8, 2500, 10, &seed);  /* 2.5/s */
  takes(t, &a, 0, 10);
  tap_ok(takes(t, &a, 2000, 10) == 5, "rate 2.5/s: 5 in 2 s");
  ratelimit_free(t);

  /* Sustained: over 60 s at 1/s with burst 5, at most 5 + 60. */
  t = ratelimit_new(8, 1000, 5, &seed);
  int allowed = 0;
  for (int64_t now = 0; now <= 60000; now += 10) allowed += takes(t, &a, now, 3);
  tap_ok(allowed == 65, "60 s of hammering: burst + rate * time");
  ratelimit_free(t);
}

static void v6_grouping(void)
{
  struct ip_addr x, y, z;
  struct clientkey kx, ky, kz;
  ip_parse("2001:db8:5:6::1", &x);
  ip_parse("2001:db8:5:6:ffff::99", &y);
  ip_parse("2001:db8:5:7::1", &z);
  clientkey_make(&kx, &x, 64);
  clientkey_make(&ky, &y, 64);
  clientkey_make(&kz, &z, 64);
  struct ratelimit *t = ratelimit_new(64, 1000, 2, &seed);
  tap_ok(ratelimit_take(t, &kx, 0) && ratelimit_take(t, &ky, 0) && !ratelimit_take(t, &kx, 0),
         "two addresses of one /64 share one bucket");
  tap_ok(ratelimit_take(t, &kz, 0), "the next /64 has its own");
  ratelimit_free(t);
}

static void eviction(void)
{
  /* One group of 8: keys 0..7 take 1..8 tokens of 10. */
  struct ratelimit *t = ratelimit_new(8, 1000, 10, &seed);
  struct clientkey k[12];
  for (unsigned i = 0; i < 12; i++) k[i] = key_n(100 + i);
  for (int i = 0; i < 8; i++) takes(t, &k[i], 0, i + 1);
  tap_ok(ratelimit_used(t) == 8, "8 buckets used");
  tap_ok(ratelimit_take(t, &k[8], 0), "a 9th client is allowed");
  tap_ok(peek(t, &k[0], 0) == UINT64_MAX && ratelimit_used(t) == 8,
         "the fullest bucket made room");
  int kept = 1;
  for (int i = 1; i < 9; i++) kept &= peek(t, &k[i], 0) != UINT64_MAX;
  tap_ok(kept, "the others are kept");
  /* Now 1 s later: k1 (8 tokens) and k8 (9) refill to 9 and 10: k8 is full. */
  tap_ok(ratelimit_take(t, &k[9], 1000) && peek(t, &k[8], 1000) == UINT64_MAX,
         "refill counts: the one full now goes");
  /* Two full after a long pause: the least recently seen goes first. */
  ratelimit_take(t, &k[7], 2000);      /* k7 (drained) seen later than k2 */
  tap_ok(ratelimit_take(t, &k[10], 100000) && peek(t, &k[1], 100000) == UINT64_MAX,
         "among full buckets, the least recently seen goes");
  ratelimit_free(t);

  /* A drained client stays limited through a flood of new addresses. */
  t = ratelimit_new(1024, 1000, 5, &seed);
  struct clientkey limited = key_n(7), fresh = key_n(8);
  takes(t, &limited, 0, 5);
  int all_new_allowed = 1;
  for (unsigned i = 0; i < 100000; i++) {
    struct clientkey f = key_n(0x0a000000u + i);
    all_new_allowed &= ratelimit_take(t, &f, 0);
  }
  tap_ok(all_new_allowed, "every address of a flood of 100000 is a new client");
  tap_ok(ratelimit_used(t) == ratelimit_buckets(t), "the table did not grow");
  tap_ok(!ratelimit_take(t, &limited, 0), "a limited client stays limited through the flood");
  tap_ok(ratelimit_take(t, &fresh, 0), "a new client is allowed after the flood");
  ratelimit_free(t);
}

/* Random takes of few keys over time against a model of each bucket;
   with more buckets per group than keys nothing is ever evicted. */
static int random_ops(unsigned seedval)
{
  enum { KEYS = 8 };
  uint64_t micro[KEYS];
  int64_t last[KEYS];
  int known[KEYS] = { 0 };
  const uint64_t rate = 1234, full = 4 * (uint64_t) RATELIMIT_TOKEN;
  struct ratelimit *t = ratelimit_new(8, rate, 4, &seed);
  int64_t now = 0;
  int ok = t != NULL;
  srand(seedval);
  for (int r = 0; r < 20000 && ok; r++) {
    now += rand() % 1000;
    unsigned i = (unsigned) rand() % KEYS;
    struct clientkey k = key_n(i);
    uint64_t want = full;
    if (known[i]) {
      uint64_t gain = (uint64_t) (now - last[i]) * rate;
      want = micro[i] + gain > full ? full : micro[i] + gain;
    }
    ok = peek(t, &k, now) == (known[i] ? want : UINT64_MAX);
    int allowed = ratelimit_take(t, &k, now);
    ok = ok && allowed == (want >= RATELIMIT_TOKEN);
    micro[i] = want - (allowed ? RATELIMIT_TOKEN : 0);
    last[i] = now;
    known[i] = 1;
  }
  ratelimit_free(t);
  return ok;
}

/* A rule's own rate and burst, kept by the bucket. */
static void own_limits(void)
{
  struct clientkey a = key_n(20), b = key_n(21);
  struct ratelimit *t = ratelimit_new(64, 1000, 1, &seed);   /* default 1/s, burst 1 */
  int ok = 0;
  for (int i = 0; i < 5; i++) ok += ratelimit_take_with(t, &a, 0, 2000, 4);
  tap_ok(ok == 4, "a rule's burst of 4 instead of the table's 1");
  tap_ok(ratelimit_take_with(t, &a, 500, 2000, 4) == 1 && ratelimit_take_with(t, &a, 500, 2000, 4) == 0,
         "a rule's rate of 2/s: one more after 500 ms");
  tap_ok(ratelimit_take(t, &b, 0) == 1 && ratelimit_take(t, &b, 0) == 0,
         "another client keeps the table's limits");
  tap_ok(ratelimit_take_with(t, &b, 0, 0, 1) == -1 && errno == EINVAL, "rate 0 refused");
  tap_ok(ratelimit_take_with(t, &b, 0, 1000, RATELIMIT_BURST_MAX + 1) == -1 && errno == EINVAL,
         "burst above the maximum refused");
  ratelimit_free(t);
}

int main(void)
{
  ranges();
  own_limits();
  refill();
  v6_grouping();
  eviction();
  tap_ok(random_ops(1) && random_ops(2), "random takes agree with the model");
  char buf[CLIENTKEY_FMT_SIZE];
  struct clientkey k = key_n(0x01020304);
  clientkey_format(&k, buf);
  tap_is_str(buf, "1.2.3.4/32", "the test's keys");
  return tap_done();
}
