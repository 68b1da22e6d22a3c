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
  envb_reset(e);
}

static int grow_vec(struct envb *e, size_t need)
{
  if (need <= e->cap) return 0;
  size_t cap = e->cap ? e->cap : 64;
  while (cap < need) cap *= 2;
  char **v = realloc(e->vec, cap * sizeof *v);
  if (!v) { e->nomem = 1; return -1; }
  e->vec = v;
  e->cap = cap;
  return 0;
}

void envb_reset(struct envb *e)
{
  for (struct envb_chunk *c = e->chunks; c; c = c->next) c->used = 0;
  e->nomem = 0;
  e->n = 0;
  if (grow_vec(e, e->nbase + 1) < 0) return;
  memcpy(e->vec, e->base, e->nbase * sizeof *e->vec);
  e->n = e->nbase;
  e->vec[e->n] = NULL;
}

static int name_matches(const char *entry, const char *name, size_t namelen)
{
  return strncmp(entry, name, namelen) == 0 && entry[namelen] == '=';
}

static void remove_name(struct envb *e, const char *name, size_t namelen)
{
  size_t j = 0;
  for (size_t i = 0; i < e->n; i++)
    if (!name_matches(e->vec[i], name, namelen)) e->vec[j++] = e->vec[i];
  e->n = j;
  e->vec[j] = NULL;
}

static char *arena_add(struct envb *e, size_t len)
{
  for (struct envb_chunk *c = e->chunks; c; c = c->next)
    if (c->size - c->used >= len) {
      char *p = c->data + c->used;
      c->used += len;
      return p;
    }
  size_t size = len > 4096 ? len : 4096;
  struct envb_chunk *c = malloc(sizeof *c + size);
  if (!c) { e->nomem = 1; return NULL; }
  c->size = size;
  c->used = len;
  c->next = e->chunks;
  e->chunks = c;
  return c->data;
}

int envb_setn(struct envb *e, const char *name, size_t namelen,
              const char *value, size_t valuelen)
{
  if (e->nomem) return -1;
  remove_name(e, name, namelen);
  if (grow_vec(e, e->n + 2) < 0) return -1;
  char *p = arena_add(e, namelen + valuelen + 2);
  if (!p) return -1;
  memcpy(p, name, namelen);
  p[namelen] = '=';
  memcpy(p + namelen + 1, value, valuelen);
  p[namelen + 1 + valuelen] = 0;
  e->vec[e->n++] = p;
  e->vec[e->n] = NULL;
  return 0;
}

int envb_set(struct envb *e, const char *name, const char *value)
{
  return envb_setn(e, name, strlen(name), value, strlen(value));
}

int envb_put(struct envb *e, const char *item, size_t len)
{
  const char *eq = memchr(item, '=', len);
  if (!eq) {
    if (e->nomem) return -1;
    remove_name(e, item, len);
    return 0;
  }
  size_t namelen = (size_t) (eq - item);
  return envb_setn(e, item, namelen, eq + 1, len - namelen - 1);
}

void envb_unset(struct envb *e, const char *name)
{
  if (e->nomem) return;
  remove_name(e, name, strlen(name));
}

const char *envb_get(const struct envb *e, const char *name)
{
  size_t namelen = strlen(name);
  for (size_t i = 0; i < e->n; i++)
    if (name_matches(e->vec[i], name, namelen)) return e->vec[i] + namelen + 1;
  return NULL;
}

char **envb_vec(struct envb *e)
{
  return e->nomem ? NULL : e->vec;
}

void envb_free(struct envb *e)
{
  free(e->vec);
  while (e->chunks) {
    struct envb_chunk *next = e->chunks->next;
    free(e->chunks);
    e->chunks = next;
  }
  memset(e, 0, sizeof *e);
}
