#ifndef SIPHASH_H
#define SIPHASH_H
#include <stddef.h>
#include <stdint.h>

/* SipHash (Aumasson and Bernstein), a keyed hash for the server's hash
   tables: with a key drawn at start-up from the kernel's random source,
   a remote client cannot choose addresses that collide in a table, so
   every table operation stays O(1) expected whatever the clients do.
   The tables use SipHash-1-3 (fast, ample for hash-flooding resistance);
   the rounds are parameters so that the published SipHash-2-4 vectors
   test the same code. */

struct siphash_key { uint64_t k0, k1; };

/* SipHash-c-d of data[0..len) under key. */
uint64_t siphash(const struct siphash_key *key, unsigned c, unsigned d,
                 const void *data, size_t len);

/* SipHash-1-3, the tables' hash. */
uint64_t siphash13(const struct siphash_key *key, const void *data,
                   size_t len);

/* A fresh random key from getrandom() (waits, at boot only, until the
   kernel's pool is ready).  Returns 0, or -1 with errno. */
int siphash_key_random(struct siphash_key *key);
#endif
