#include <errno.h>
#include <stdlib.h>
#include "ratelimit.h"

struct bucket {
  struct clientkey key;        /* key.family 0: unused */
  int64_t last_ms;             /* last refill, i.e. last connection */
  uint64_t micro;              /* tokens at last_ms */
  uint64_t rate, full;         /* this bucket's refill and size */
};

struct ratelimit {
  struct siphash_key seed;
  uint64_t rate, full;         /* micro-tokens per ms, and at most */
  size_t groups, used;
  struct bucket bucket[];
};

struct ratelimit *ratelimit_new(size_t buckets, unsigned long rate_milli,
                                unsigned long burst,
                                const struct siphash_key *seed)
{
  if (!buckets || !rate_milli || rate_milli > RATELIMIT_RATE_MAX ||
      !burst || burst > RATELIMIT_BURST_MAX) {
    errno = EINVAL;
    return NULL;
  }
  size_t max_groups = (SIZE_MAX - sizeof(struct ratelimit)) /
                      sizeof(struct bucket) / RATELIMIT_WAYS / 2;
  size_t groups = 1;
  while (groups * RATELIMIT_WAYS < buckets) {
    if (groups > max_groups) {
      errno = ENOMEM;
      return NULL;
    }
    groups *= 2;
  }
  struct ratelimit *t = calloc(1, sizeof *t +
                               groups * RATELIMIT_WAYS * sizeof(struct bucket));
  if (!t) return NULL;
  t->seed = *seed;
  t->rate = rate_milli;
  t->full = (uint64_t) burst * RATELIMIT_TOKEN;
  t->groups = groups;
  return t;
}

void ratelimit_free(struct ratelimit *t)
{
  free(t);
}

/* b's tokens at now_ms.  The product is formed only when it stays below
   what is missing, itself at most burst * RATELIMIT_TOKEN. */
static uint64_t tokens_at(const struct bucket *b, int64_t now_ms)
{
  if (now_ms <= b->last_ms) return b->micro;
  uint64_t elapsed = (uint64_t) now_ms - (uint64_t) b->last_ms;
  uint64_t missing = b->full - b->micro;
  if (elapsed >= missing / b->rate + 1) return b->full;
  return b->micro + elapsed * b->rate;
}

/* The first bucket of k's group. */
static size_t group_of(const struct ratelimit *t, const struct clientkey *k)
{
  return (size_t) (clientkey_hash(k, &t->seed) & (t->groups - 1)) * RATELIMIT_WAYS;
}

#define NOT_FOUND SIZE_MAX

/* The bucket holding k, or NOT_FOUND. */
static size_t find(const struct ratelimit *t, const struct clientkey *k)
{
  size_t g = group_of(t, k);
  for (size_t i = g; i < g + RATELIMIT_WAYS; i++)
    if (t->bucket[i].key.family && clientkey_equal(&t->bucket[i].key, k)) return i;
  return NOT_FOUND;
}

/* The bucket of g to give a new key (the rule of ratelimit.h). */
static struct bucket *victim(struct bucket *g, int64_t now_ms)
{
  struct bucket *best = NULL;
  uint64_t best_tokens = 0;
  for (int i = 0; i < RATELIMIT_WAYS; i++) {
    if (!g[i].key.family) return &g[i];
    uint64_t tokens = tokens_at(&g[i], now_ms);
    if (!best || tokens > best_tokens ||
        (tokens == best_tokens && g[i].last_ms < best->last_ms)) {
      best = &g[i];
      best_tokens = tokens;
    }
  }
  return best;
}

/* A bucket given new limits keeps its tokens, up to the new size. */
static int take(struct ratelimit *t, const struct clientkey *k,
                int64_t now_ms, uint64_t rate, uint64_t full)
{
  struct bucket *b;
  size_t at = find(t, k);
  if (at == NOT_FOUND) {
    b = victim(&t->bucket[group_of(t, k)], now_ms);
    if (!b->key.family) t->used++;
    b->key = *k;
    b->micro = full;
    b->last_ms = now_ms;
  } else {
    b = &t->bucket[at];
    b->micro = tokens_at(b, now_ms);
    if (b->micro > full) b->micro = full;
    if (now_ms > b->last_ms) b->last_ms = now_ms;
  }
  b->rate = rate;
  b->full = full;
  if (b->micro < RATELIMIT_TOKEN) return 0;
  b->micro -= RATELIMIT_TOKEN;
  return 1;
}

int ratelimit_take(struct ratelimit *t, const struct clientkey *k,
                   int64_t now_ms)
{
  return take(t, k, now_ms, t->rate, t->full);
}

int ratelimit_take_with(struct ratelimit *t, const struct clientkey *k,
                        int64_t now_ms, unsigned long rate_milli,
                        unsigned long burst)
{
  if (!rate_milli || rate_milli > RATELIMIT_RATE_MAX ||
      !burst || burst > RATELIMIT_BURST_MAX) {
    errno = EINVAL;
    return -1;
  }
  return take(t, k, now_ms, rate_milli, (uint64_t) burst * RATELIMIT_TOKEN);
}

int ratelimit_peek(const struct ratelimit *t, const struct clientkey *k,
                   int64_t now_ms, uint64_t *micro)
{
  size_t at = find(t, k);
  if (at == NOT_FOUND) {
    errno = ENOENT;
    return -1;
  }
  *micro = tokens_at(&t->bucket[at], now_ms);
  return 0;
}

size_t ratelimit_buckets(const struct ratelimit *t)
{
  return t->groups * RATELIMIT_WAYS;
}

size_t ratelimit_used(const struct ratelimit *t)
{
  return t->used;
}
