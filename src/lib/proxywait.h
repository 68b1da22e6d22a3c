#ifndef PROXYWAIT_H
#define PROXYWAIT_H
#include <stddef.h>
#include "addr.h"
#include "proxy.h"

/* Connections from trusted proxies that wait for their PROXY header: a
   fixed set of slots, allocated once, kept in order of arrival (with
   one timeout for all, also the order of their deadlines, so the first
   to expire is always the oldest).  Each slot gathers its header as it
   arrives; a read never takes a byte past the header, so what follows
   is the program's.  The caller owns the descriptors (it watches them,
   closes them), the clock and what is logged. */

#define PROXYWAIT_NONE ((size_t) -1)

struct proxywait_slot {
  int fd;                        /* -1: free */
  struct ip_addr peer;           /* the proxy */
  unsigned peerport;
  unsigned accept;               /* PROXY_V1 | PROXY_V2 */
  long long deadline;            /* milliseconds, the caller's clock */
  size_t have;
  size_t prev, next;             /* arrival order; next: the free list */
  unsigned char buf[PROXY_HEADER_MAX];
};

struct proxywait {
  struct proxywait_slot *slot;   /* NULL until the first add */
  size_t cap, n;
  size_t first, last, free;
};

/* Room for cap connections; nothing is allocated until the first one. */
void proxywait_init(struct proxywait *w, size_t cap);
void proxywait_free(struct proxywait *w);

/* The oldest waiting connection, PROXYWAIT_NONE when none waits. */
size_t proxywait_oldest(const struct proxywait *w);
/* 1 when every slot is taken: drop the oldest before adding. */
int proxywait_full(const struct proxywait *w);

/* A new connection: its slot, or PROXYWAIT_NONE with errno (ENOSPC when
   full, ENOMEM when the slots cannot be allocated). */
size_t proxywait_add(struct proxywait *w, int fd, const struct ip_addr *peer,
                     unsigned peerport, unsigned accept, long long deadline);

/* Read what has arrived for slot i, without blocking.  Returns 1: the
   header is complete, *h filled; 0: more is to come; -1: the header is
   bad or the connection failed, *why says so in a few words.  On 1 and
   -1 the slot is freed and its descriptor left to the caller. */
int proxywait_read(struct proxywait *w, size_t i, struct proxy_header *h,
                   const char **why);

/* Free slot i (its descriptor is the caller's). */
void proxywait_remove(struct proxywait *w, size_t i);

/* Slot i, or NULL when i is not a waiting connection. */
const struct proxywait_slot *proxywait_get(const struct proxywait *w, size_t i);
#endif
