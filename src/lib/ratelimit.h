#ifndef RATELIMIT_H
#define RATELIMIT_H
#include <stddef.h>
#include <stdint.h>
#include "clientkey.h"
#include "siphash.h"

/* A per-client limit on the RATE of new connections: a token bucket per
   client key that refills at `rate` connections per second up to
   `burst`; a connection takes one token, and is refused when the bucket
   has less than one.

   Size: a fixed number of buckets chosen at ratelimit_new(), in one
   allocation of 56 bytes per bucket; nothing is allocated afterwards, so
   a flood of addresses cannot grow the server.  Time: O(1) per take: a
   key's keyed hash (clientkey.h, so that a client cannot aim at a group)
   picks a group of RATELIMIT_WAYS buckets, the only place the key can
   live.

   A new key always gets a full bucket: when its group is full, one of
   the group's buckets is forgotten to make room.  The rule: an unused
   bucket first; else the bucket with the most tokens now (after refill);
   among equals, the one seen least recently.  Why the fullest, and not
   the least recently used: forgetting a bucket is the same as giving its
   client a full bucket, so the fullest is the one whose loss changes
   least (nothing at all when it is full: a full bucket says nothing a
   new one does not), and the clients that are being limited right now,
   whose buckets are low, are the last to be forgotten.

   What follows, under any flood:
   - A new client, or one forgotten, is never refused: its bucket is
     full.  Forgetting only ever errs towards allowing, so no sequence of
     connections from any addresses can make the server refuse a client
     that stays within its own rate, nor all clients.
   - A client is refused only for its own recent connections: at most
     burst + rate * t connections in any t seconds while it is
     remembered.
   - What an attacker CAN do: (1) cycle through many addresses (keys):
     each is a new client with a full bucket, exactly as if that many
     clients connected; this is why IPv6 clients are keyed by /64, not by
     address.  (2) Make the table forget OTHER limited clients, so that
     they regain a full bucket early: to push a low bucket out of its
     group, all the other buckets of that group must hold no more tokens
     than it, i.e. the attacker must keep RATELIMIT_WAYS - 1 keys of that
     group drained itself (the keyed hash hides which keys those are),
     and with many groups that costs about burst connections per bucket
     of the table.  Sizing the table well above the number of clients
     being limited at once keeps this expensive.

   Arithmetic: integers only.  A token is RATELIMIT_TOKEN micro-tokens
   and the rate is given in thousandths of a connection per second, so
   a millisecond refills exactly `rate_milli` micro-tokens.  Accepted:
   1 <= rate_milli <= RATELIMIT_RATE_MAX (0.001 to 1,000,000 connections
   per second), 1 <= burst <= RATELIMIT_BURST_MAX; then no computation
   can overflow 64 bits, for any times.  Times are milliseconds of a
   monotonic clock, passed in by the caller; a time before a bucket's
   last use counts as no time passed. */

#define RATELIMIT_WAYS 8
#define RATELIMIT_TOKEN 1000000u
#define RATELIMIT_RATE_MAX 1000000000ul
#define RATELIMIT_BURST_MAX 1000000ul

struct ratelimit;

/* A table of at least `buckets` buckets (rounded up to a power of two
   times RATELIMIT_WAYS; ratelimit_buckets() says how many), refilling
   at rate_milli / 1000 tokens per second up to burst tokens, hashed under
   seed (copied).  Returns NULL with errno EINVAL (a value out of range,
   or buckets 0) or ENOMEM. */
struct ratelimit *ratelimit_new(size_t buckets, unsigned long rate_milli,
                                unsigned long burst,
                                const struct siphash_key *seed);
void ratelimit_free(struct ratelimit *t);

/* A connection from k at now_ms: 1 allowed (a token taken), 0 refused. */
int ratelimit_take(struct ratelimit *t, const struct clientkey *k,
                   int64_t now_ms);

/* The same with this connection's own limits (a rule's MAXCONNRATE),
   which the bucket keeps from then on (its tokens cut to the new burst).
   -1 with errno EINVAL for values out of range. */
int ratelimit_take_with(struct ratelimit *t, const struct clientkey *k,
                        int64_t now_ms, unsigned long rate_milli,
                        unsigned long burst);

/* k's tokens at now_ms, in micro-tokens, without taking any: 0, or -1
   with errno ENOENT when k has no bucket (a new k would get a full one:
   burst * RATELIMIT_TOKEN). */
int ratelimit_peek(const struct ratelimit *t, const struct clientkey *k,
                   int64_t now_ms, uint64_t *micro);

/* The table's buckets, and how many hold a key now. */
size_t ratelimit_buckets(const struct ratelimit *t);
size_t ratelimit_used(const struct ratelimit *t);
#endif
