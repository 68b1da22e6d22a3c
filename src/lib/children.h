#ifndef CHILDREN_H
#define CHILDREN_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "addr.h"
#include "clientkey.h"
#include "siphash.h"

/* The server's live children by pid: each entry keeps the keys its
   connection was counted under (conncount.h), so that when THIS child
   ends the counts of ITS client and networks drop, whatever other
   clients came since, and a little payload the server may want at the
   end (the client's address, whether the reaper watches it, the start time).

   Size: fixed at children_new() (from -c): `capacity` entries in one
   allocation of about 140 bytes per child (the entries, packed, plus an
   index of 2 to 4 slots per child); nothing is allocated afterwards.
   Time: add, find and remove are O(1) expected (an open-addressing index
   by pid, linear probing at a load of at most 1/2, deletion by backward
   shift); walking all children (children_at) is O(live children). */

/* Keys one child can be counted under: its address (/32, or /64 for
   IPv6), its /24 and the networks its rules name. */
#define CHILD_KEYS_MAX 4

struct child_entry {
  pid_t pid;
  int watched;               /* payload: the reaper watches it; 0 after children_add */
  int64_t start_ms;          /* payload, 0 after children_add */
  struct ip_addr ip;         /* payload, zero after children_add */
  unsigned nkeys;            /* keys[0..nkeys) are counted */
  struct clientkey keys[CHILD_KEYS_MAX];
};

struct children;

/* A table for `capacity` children at once, hashed under seed (copied).
   Returns NULL with errno ENOMEM (also when capacity is too large to be
   indexed: above 2^30). */
struct children *children_new(size_t capacity, const struct siphash_key *seed);
void children_free(struct children *t);

/* A new entry for pid (> 0), payload cleared, for the caller to fill.
   Returns NULL with errno ENOSPC (capacity children live), EEXIST (pid
   is live already) or EINVAL (pid <= 0).  The pointer is valid until the
   next children_remove(). */
struct child_entry *children_add(struct children *t, pid_t pid);

/* pid's entry, or NULL.  Valid until the next children_remove(). */
struct child_entry *children_find(const struct children *t, pid_t pid);

/* Forget pid; its entry is copied to *gone (unless NULL) first, so that
   the caller can drop its counts.  Returns 0, or -1 with errno ENOENT
   when pid is not a live child. */
int children_remove(struct children *t, pid_t pid, struct child_entry *gone);

/* Children live now, and the most there can be. */
size_t children_count(const struct children *t);
size_t children_capacity(const struct children *t);

/* The i-th live child, 0 <= i < children_count(), in no particular
   order, for walking them all (send every child a signal).  A removal
   moves the last entry to the removed one's place: do not remove while
   walking. */
struct child_entry *children_at(const struct children *t, size_t i);
#endif
