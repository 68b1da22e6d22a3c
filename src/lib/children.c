#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include "children.h"

/* Entries are packed in pool[0..count); index[] maps a pid's hash to
   1 + its entry's position (0: empty slot). */
struct children {
  uint64_t seed;
  size_t capacity, count, mask;
  struct child_entry *pool;
  uint32_t *index;
};

#define CAPACITY_MAX ((size_t) 1 << 30)

/* Pids are chosen by the kernel, not by clients: a seeded 64-bit mix
   (the finaliser of MurmurHash3) spreads them well enough. */
static size_t pid_slot(const struct children *t, pid_t pid)
{
  uint64_t x = (uint64_t) (uint32_t) pid ^ t->seed;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return (size_t) x & t->mask;
}

static size_t align_up(size_t n, size_t a)
{
  return (n + a - 1) / a * a;
}

struct children *children_new(size_t capacity, const struct siphash_key *seed)
{
  if (capacity > CAPACITY_MAX ||
      capacity > (SIZE_MAX / 2 - sizeof(struct children)) / sizeof(struct child_entry)) {
    errno = ENOMEM;
    return NULL;
  }
  size_t slots = 8;
  while (slots / 2 < capacity) slots *= 2;
  size_t pool_at = align_up(sizeof(struct children), alignof(struct child_entry));
  size_t index_at = align_up(pool_at + capacity * sizeof(struct child_entry),
                             alignof(uint32_t));
  char *block = calloc(1, index_at + slots * sizeof(uint32_t));
  if (!block) return NULL;
  struct children *t = (struct children *) (void *) block;
  t->seed = seed->k0 ^ seed->k1;
  t->capacity = capacity;
  t->mask = slots - 1;
  t->pool = (struct child_entry *) (void *) (block + pool_at);
  t->index = (uint32_t *) (void *) (block + index_at);
  return t;
}

void children_free(struct children *t)
{
  free(t);
}

/* The index slot of pid, or else the empty slot where it would go. */
static size_t probe(const struct children *t, pid_t pid)
{
  size_t i = pid_slot(t, pid);
  while (t->index[i] && t->pool[t->index[i] - 1].pid != pid)
    i = (i + 1) & t->mask;
  return i;
}

struct child_entry *children_add(struct children *t, pid_t pid)
{
  if (pid <= 0) {
    errno = EINVAL;
    return NULL;
  }
  size_t i = probe(t, pid);
  if (t->index[i]) {
    errno = EEXIST;
    return NULL;
  }
  if (t->count >= t->capacity) {
    errno = ENOSPC;
    return NULL;
  }
  struct child_entry *c = &t->pool[t->count];
  memset(c, 0, sizeof *c);
  c->pid = pid;
  c->watched = 0;
  t->index[i] = (uint32_t) ++t->count;
  return c;
}

struct child_entry *children_find(const struct children *t, pid_t pid)
{
  if (pid <= 0) return NULL;
  uint32_t at = t->index[probe(t, pid)];
  return at ? &t->pool[at - 1] : NULL;
}

/* Empty index slot i, moving later slots of its run back so that every
   pid stays reachable from its home slot without tombstones. */
static void unindex(struct children *t, size_t i)
{
  size_t j = i;
  for (;;) {
    j = (j + 1) & t->mask;
    if (!t->index[j]) break;
    size_t home = pid_slot(t, t->pool[t->index[j] - 1].pid);
    if (((j - home) & t->mask) >= ((j - i) & t->mask)) {
      t->index[i] = t->index[j];
      i = j;
    }
  }
  t->index[i] = 0;
}

int children_remove(struct children *t, pid_t pid, struct child_entry *gone)
{
  if (pid <= 0) {
    errno = ENOENT;
    return -1;
  }
  size_t i = probe(t, pid);
  uint32_t at = t->index[i];
  if (!at) {
    errno = ENOENT;
    return -1;
  }
  if (gone) *gone = t->pool[at - 1];
  unindex(t, i);
  /* The last entry fills the hole, so that the pool stays packed. */
  size_t last = --t->count;
  if (at - 1 != last) {
    t->pool[at - 1] = t->pool[last];
    t->index[probe(t, t->pool[last].pid)] = at;
  }
  return 0;
}

size_t children_count(const struct children *t)
{
  return t->count;
}

size_t children_capacity(const struct children *t)
{
  return t->capacity;
}

struct child_entry *children_at(const struct children *t, size_t i)
{
  return i < t->count ? &t->pool[i] : NULL;
}
