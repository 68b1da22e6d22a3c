#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "env.h"

/* Strings live in chunks that never move; reset empties them for reuse. */
struct envb_chunk {
  struct envb_chunk *next;
  size_t size, used;
  char data[];
};

void envb_init(struct envb *e, char **base)
{
  memset(e, 0, sizeof *e);
  e->base = base;
  if (base)
    while (base[e->nbase]) e->nbase++;
}

void envb_reset(struct envb *e)
{
  for (struct envb_chunk *c = e->chunks; c; c = c->next) c->used = 0;
  e->cur = e->chunks;
  e->nomem = 0;
  e->nops = 0;
}

/* Room for len bytes: in the chunk being filled or one after it (never
   back: the ones before are full, so that n strings cost O(n) however
   many chunks they fill), else in a new chunk at the end. */
static char *arena_add(struct envb *e, size_t len)
{
  while (e->cur && e->cur->size - e->cur->used < len) e->cur = e->cur->next;
  if (!e->cur) {
    size_t size = len > 4096 ? len : 4096;
    struct envb_chunk *c = malloc(sizeof *c + size);
    if (!c) { e->nomem = 1; return NULL; }
    c->size = size;
    c->used = 0;
    c->next = NULL;
    if (e->last) e->last->next = c;
    else e->chunks = c;
    e->last = e->cur = c;
  }
  char *p = e->cur->data + e->cur->used;
  e->cur->used += len;
  return p;
}

/* The array grown to hold need items (doubling keeps n appends linear),
   or NULL out of memory with the old one still valid. */
static char **grow(struct envb *e, char **array, size_t *cap, size_t need)
{
  if (need <= *cap) return array;
  size_t n = *cap ? *cap : 64;
  while (n < need) {
    if (n > SIZE_MAX / 2 / sizeof *array) { e->nomem = 1; return NULL; }
    n *= 2;
  }
  char **p = realloc(array, n * sizeof *array);
  if (!p) { e->nomem = 1; return NULL; }
  *cap = n;
  return p;
}

/* Record an op: name, and "=value" when value is not NULL. */
static int add_op(struct envb *e, const char *name, size_t namelen,
                  const char *value, size_t valuelen)
{
  if (e->nomem) return -1;
  char **ops = grow(e, e->ops, &e->opscap, e->nops + 1);
  if (!ops) return -1;
  e->ops = ops;
  size_t len = namelen + (value ? 1 + valuelen : 0);
  char *p = arena_add(e, len + 1);
  if (!p) return -1;
  memcpy(p, name, namelen);
  if (value) {
    p[namelen] = '=';
    memcpy(p + namelen + 1, value, valuelen);
  }
  p[len] = 0;
  e->ops[e->nops++] = p;
  return 0;
}

int envb_setn(struct envb *e, const char *name, size_t namelen,
              const char *value, size_t valuelen)
{
  return add_op(e, name, namelen, value, valuelen);
}

int envb_set(struct envb *e, const char *name, const char *value)
{
  return add_op(e, name, strlen(name), value, strlen(value));
}

int envb_put(struct envb *e, const char *item, size_t len)
{
  const char *eq = memchr(item, '=', len);
  if (!eq) return add_op(e, item, len, NULL, 0);
  size_t namelen = (size_t) (eq - item);
  return add_op(e, item, namelen, eq + 1, len - namelen - 1);
}

void envb_unset(struct envb *e, const char *name)
{
  add_op(e, name, strlen(name), NULL, 0);
}

static size_t name_length(const char *entry)
{
  return strcspn(entry, "=");
}

static int same_name(const char *entry, const char *name, size_t namelen)
{
  return strncmp(entry, name, namelen) == 0 &&
         (entry[namelen] == '=' || entry[namelen] == 0);
}

/* FNV-1a: the names are the server's own and its rules', not a peer's. */
static size_t name_hash(const char *name, size_t len)
{
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char) name[i];
    h *= 1099511628211ull;
  }
  return (size_t) h;
}

/* The slot for name: the one holding it, or the empty one to fill. */
static size_t *slot_for(const struct envb *e, const char *name, size_t len)
{
  size_t mask = e->nslots - 1;
  for (size_t i = name_hash(name, len) & mask;; i = (i + 1) & mask) {
    size_t *s = &e->slots[i];
    if (!*s || same_name(e->ops[*s - 1], name, len)) return s;
  }
}

static int index_ops(struct envb *e)
{
  size_t want = 16;
  while (want < 2 * e->nops) want *= 2;
  if (want > e->nslots) {
    size_t *s = realloc(e->slots, want * sizeof *s);
    if (!s) { e->nomem = 1; return -1; }
    e->slots = s;
    e->nslots = want;
  }
  memset(e->slots, 0, e->nslots * sizeof *e->slots);
  for (size_t i = 0; i < e->nops; i++)
    *slot_for(e, e->ops[i], name_length(e->ops[i])) = i + 1;
  return 0;
}

char **envb_vec(struct envb *e)
{
  if (e->nomem) return NULL;
  char **vec = grow(e, e->vec, &e->veccap, e->nbase + e->nops + 1);
  if (!vec) return NULL;
  e->vec = vec;
  size_t n = 0;
  if (!e->nops) {
    if (e->nbase) memcpy(e->vec, e->base, e->nbase * sizeof *e->vec);
    n = e->nbase;
  } else {
    if (index_ops(e) < 0) return NULL;
    for (size_t i = 0; i < e->nbase; i++) {
      const char *b = e->base[i];
      if (!*slot_for(e, b, name_length(b))) e->vec[n++] = e->base[i];
    }
    for (size_t i = 0; i < e->nops; i++) {
      const char *op = e->ops[i];
      size_t len = name_length(op);
      if (op[len] == '=' && *slot_for(e, op, len) == i + 1)
        e->vec[n++] = e->ops[i];
    }
  }
  e->vec[n] = NULL;
  return e->vec;
}

const char *envb_get(const struct envb *e, const char *name)
{
  size_t len = strlen(name);
  for (size_t i = e->nops; i-- > 0;)
    if (same_name(e->ops[i], name, len))
      return e->ops[i][len] == '=' ? e->ops[i] + len + 1 : NULL;
  for (size_t i = 0; i < e->nbase; i++)
    if (same_name(e->base[i], name, len) && e->base[i][len] == '=')
      return e->base[i] + len + 1;
  return NULL;
}

void envb_free(struct envb *e)
{
  free(e->ops);
  free(e->vec);
  free(e->slots);
  while (e->chunks) {
    struct envb_chunk *next = e->chunks->next;
    free(e->chunks);
    e->chunks = next;
  }
  memset(e, 0, sizeof *e);
}
