#ifndef ENV_H
#define ENV_H
#include <stddef.h>

/* An environment to hand to execve or posix_spawn: the base environment
   (usually environ) with sets and unsets applied.  Sets and unsets are
   recorded in order in O(1) each and merged once, in time linear in the
   base and the changes, when the vector is asked for: a rule with tens of
   thousands of variables costs the server no more than their bytes.
   Storage is reused after envb_reset, so a server building one per
   connection allocates only while warming up. */
struct envb_chunk;
struct envb {
  char **base;      /* the environment it starts from; not copied */
  size_t nbase;
  char **ops;       /* "NAME=value" sets and "NAME" unsets, in order */
  size_t nops, opscap;
  char **vec;       /* the merged result, NULL-terminated */
  size_t veccap;
  size_t *slots;    /* name -> 1 + index of its last op; 0 is empty */
  size_t nslots;    /* a power of two, at least twice nops */
  struct envb_chunk *chunks;  /* the strings of the ops, in order */
  struct envb_chunk *cur;     /* the one being filled; those before are full */
  struct envb_chunk *last;
  int nomem;        /* set when an allocation failed */
};

void envb_init(struct envb *e, char **base);
/* Forget every set and unset: back to the base environment. */
void envb_reset(struct envb *e);
/* NAME=value, replacing any NAME already there.  0, or -1 out of memory. */
int envb_set(struct envb *e, const char *name, const char *value);
/* Same with the value given by pointer and length (need not end in 0). */
int envb_setn(struct envb *e, const char *name, size_t namelen,
              const char *value, size_t valuelen);
/* "NAME=value" in one string (as stored in rule data); an item without
   '=' unsets NAME. */
int envb_put(struct envb *e, const char *item, size_t len);
/* Remove NAME. */
void envb_unset(struct envb *e, const char *name);
/* The current value of NAME, or NULL (linear: for tests and rare use). */
const char *envb_get(const struct envb *e, const char *name);
/* The NULL-terminated vector: the base entries no op names, in their
   order, then each name's last set, in the order of those sets.  Valid
   until the next call that changes e.  NULL if an allocation failed since
   the last reset. */
char **envb_vec(struct envb *e);
void envb_free(struct envb *e);
#endif
