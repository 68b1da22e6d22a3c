#ifndef CONNCOUNT_H
#define CONNCOUNT_H
#include <stddef.h>
#include "clientkey.h"
#include "siphash.h"

/* Counts of live connections by client or network key, for per-client
   concurrency limits (MAXCONNIP, MAXCONNC, a limit per network a rule
   names): the server increments the keys of a connection when it starts
   its child and decrements the same keys when that child ends.

   Size: fixed at conncount_new(): room for `keys` distinct keys at once,
   in one allocation of about 64 bytes per key; nothing is allocated
   afterwards.  A key lives only while its count is above 0, so a server
   with at most `limit` children counting k keys per child never needs
   more than limit * k: sized so, the table cannot be full.  Used beyond
   that, conncount_inc() refuses a new key (ENOSPC) rather than grow or
   corrupt anything.

   Time: O(1) expected per operation: linear probing at a load of at
   most 1/2, with the keyed hash of clientkey.h (a client cannot choose
   addresses that collide), and deletion by backward shift, so that no
   tombstones accumulate however many keys come and go. */

struct conncount;

/* A table for `keys` distinct live keys (0 is allowed: every new key is
   refused), hashed under seed (copied).  Returns NULL with errno ENOMEM
   (also when keys is too large to be addressed). */
struct conncount *conncount_new(size_t keys, const struct siphash_key *seed);
void conncount_free(struct conncount *t);

/* Add one to k's count.  Returns the new count, or -1 with errno ENOSPC
   (k is new and `keys` keys are live) or EOVERFLOW (the count is at
   UINT32_MAX); the table is then unchanged. */
long conncount_inc(struct conncount *t, const struct clientkey *k);

/* Take one from k's count; at 0 the key is forgotten.  Returns the new
   count, or -1 with errno ENOENT when k has no count (a caller's bug). */
long conncount_dec(struct conncount *t, const struct clientkey *k);

/* k's count, 0 when it has none. */
unsigned long conncount_get(const struct conncount *t,
                            const struct clientkey *k);

/* The keys of one connection (a key repeated in keys[0..n) counts once,
   so that a rule's network equal to the /24 is not counted twice):
   inc_all adds one to each, all or none (0, or -1 with errno as
   conncount_inc and nothing changed); dec_all takes one from each
   (0, or -1 with errno ENOENT if a key had no count: the others are
   still decremented). */
int conncount_inc_all(struct conncount *t, const struct clientkey *keys,
                      size_t n);
int conncount_dec_all(struct conncount *t, const struct clientkey *keys,
                      size_t n);

/* Keys live now, and the most that can be. */
size_t conncount_live(const struct conncount *t);
size_t conncount_capacity(const struct conncount *t);
#endif
