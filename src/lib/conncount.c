#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "conncount.h"

struct slot {
  uint64_t hash;
  uint32_t count;              /* 0: the slot is empty */
  struct clientkey key;
};

struct conncount {
  struct siphash_key seed;
  size_t capacity, live, mask;
  struct slot slot[];
};

/* The smallest power of two >= 2 * keys, at least 8; 0 if too large. */
static size_t slots_for(size_t keys)
{
  size_t n = 8;
  while (n / 2 < keys) {
    if (n > SIZE_MAX / 2) return 0;
    n *= 2;
  }
  return n;
}

struct conncount *conncount_new(size_t keys, const struct siphash_key *seed)
{
  size_t n = slots_for(keys);
  if (!n || n > (SIZE_MAX - sizeof(struct conncount)) / sizeof(struct slot)) {
    errno = ENOMEM;
    return NULL;
  }
  struct conncount *t = calloc(1, sizeof *t + n * sizeof(struct slot));
  if (!t) return NULL;
  t->seed = *seed;
  t->capacity = keys;
  t->mask = n - 1;
  return t;
}

void conncount_free(struct conncount *t)
{
  free(t);
}

/* The slot holding k, or else the empty slot where k would go. */
static size_t probe(const struct conncount *t, const struct clientkey *k,
                    uint64_t hash)
{
  size_t i = hash & t->mask;
  while (t->slot[i].count &&
         !(t->slot[i].hash == hash && clientkey_equal(&t->slot[i].key, k)))
    i = (i + 1) & t->mask;
  return i;
}

long conncount_inc(struct conncount *t, const struct clientkey *k)
{
  uint64_t hash = clientkey_hash(k, &t->seed);
  struct slot *s = &t->slot[probe(t, k, hash)];
  if (!s->count) {
    if (t->live >= t->capacity) {
      errno = ENOSPC;
      return -1;
    }
    s->hash = hash;
    s->key = *k;
    t->live++;
  } else if (s->count == UINT32_MAX) {
    errno = EOVERFLOW;
    return -1;
  }
  return ++s->count;
}

/* Empty slot i, moving later entries of its run back so that every
   entry stays reachable from its home slot without tombstones. */
static void remove_slot(struct conncount *t, size_t i)
{
  size_t j = i;
  for (;;) {
    j = (j + 1) & t->mask;
    if (!t->slot[j].count) break;
    size_t home = t->slot[j].hash & t->mask;
    /* j may move to i only if i lies between its home and j. */
    if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
      t->slot[i] = t->slot[j];
      i = j;
    }
  }
  t->slot[i].count = 0;
  t->live--;
}

long conncount_dec(struct conncount *t, const struct clientkey *k)
{
  size_t i = probe(t, k, clientkey_hash(k, &t->seed));
  if (!t->slot[i].count) {
    errno = ENOENT;
    return -1;
  }
  long left = --t->slot[i].count;
  if (!left) {
    t->slot[i].count = 1;      /* remove_slot empties it */
    remove_slot(t, i);
  }
  return left;
}

unsigned long conncount_get(const struct conncount *t,
                            const struct clientkey *k)
{
  return t->slot[probe(t, k, clientkey_hash(k, &t->seed))].count;
}

static int seen_before(const struct clientkey *keys, size_t i)
{
  for (size_t j = 0; j < i; j++)
    if (clientkey_equal(&keys[j], &keys[i])) return 1;
  return 0;
}

int conncount_inc_all(struct conncount *t, const struct clientkey *keys,
                      size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (seen_before(keys, i)) continue;
    if (conncount_inc(t, &keys[i]) < 0) {
      int e = errno;
      while (i-- > 0)
        if (!seen_before(keys, i)) conncount_dec(t, &keys[i]);
      errno = e;
      return -1;
    }
  }
  return 0;
}

int conncount_dec_all(struct conncount *t, const struct clientkey *keys,
                      size_t n)
{
  int r = 0;
  for (size_t i = 0; i < n; i++)
    if (!seen_before(keys, i) && conncount_dec(t, &keys[i]) < 0) r = -1;
  if (r) errno = ENOENT;
  return r;
}

size_t conncount_live(const struct conncount *t)
{
  return t->live;
}

size_t conncount_capacity(const struct conncount *t)
{
  return t->capacity;
}
