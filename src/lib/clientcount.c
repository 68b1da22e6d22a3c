#include <errno.h>
#include <string.h>
#include "clientcount.h"

int clientcount_init(struct clientcount *cc, size_t capacity, int counting,
                     unsigned prefix_v4, unsigned prefix_v6)
{
  struct siphash_key seed;
  memset(cc, 0, sizeof *cc);
  cc->prefix_v4 = prefix_v4;
  cc->prefix_v6 = prefix_v6;
  if (siphash_key_random(&seed) < 0) return -1;
  if (!capacity) capacity = 1;
  cc->children = children_new(capacity, &seed);
  if (!cc->children) return -1;
  if (counting) {
    cc->counts = conncount_new(capacity * CHILD_KEYS_MAX, &seed);
    if (!cc->counts) return -1;
  }
  return 0;
}

void clientcount_free(struct clientcount *cc)
{
  children_free(cc->children);
  conncount_free(cc->counts);
  cc->children = NULL;
  cc->counts = NULL;
}

static int is_v4(const struct ip_addr *ip) { return ip->family == AF_INET; }

int clientcount_client(const struct clientcount *cc, const struct ip_addr *ip,
                       struct clientkey *key)
{
  return clientkey_make(key, ip, is_v4(ip) ? cc->prefix_v4 : cc->prefix_v6);
}

/* The network lengths counted besides the client and its site. */
static const unsigned char *tracked(const struct clientcount *cc, int v4,
                                    unsigned *n)
{
  *n = v4 ? cc->nnets_v4 : cc->nnets_v6;
  return v4 ? cc->nets_v4 : cc->nets_v6;
}

unsigned clientcount_keys(const struct clientcount *cc, const struct ip_addr *ip,
                          struct clientkey keys[CHILD_KEYS_MAX])
{
  unsigned n = 0, nnets;
  if (!cc->counts) return 0;
  if (clientcount_client(cc, ip, &keys[n]) == 0) n++;
  if (clientkey_make(&keys[n], ip, is_v4(ip) ? 24 : 48) == 0) n++;
  const unsigned char *nets = tracked(cc, is_v4(ip), &nnets);
  for (unsigned i = 0; i < nnets && n < CHILD_KEYS_MAX; i++)
    if (clientkey_make(&keys[n], ip, nets[i]) == 0) n++;
  return n;
}

unsigned long clientcount_get(const struct clientcount *cc,
                              const struct clientkey *key)
{
  return cc->counts ? conncount_get(cc->counts, key) : 0;
}

/* 1 if every connection is counted under net's length already. */
static int counted(const struct clientcount *cc, const struct clientkey *net)
{
  int v4 = net->family == CLIENTKEY_V4;
  unsigned n;
  if (net->prefix == (v4 ? cc->prefix_v4 : cc->prefix_v6) ||
      net->prefix == (v4 ? 24 : 48))
    return 1;
  const unsigned char *nets = tracked(cc, v4, &n);
  for (unsigned i = 0; i < n; i++)
    if (nets[i] == net->prefix) return 1;
  return 0;
}

/* Count net's length from now on: the live children of its family once.
   0, or -1 when no more lengths can be counted. */
static int track(struct clientcount *cc, const struct clientkey *net)
{
  int v4 = net->family == CLIENTKEY_V4;
  unsigned *n = v4 ? &cc->nnets_v4 : &cc->nnets_v6;
  if (*n >= CLIENTCOUNT_NETS) return -1;
  (v4 ? cc->nets_v4 : cc->nets_v6)[(*n)++] = net->prefix;
  for (size_t i = 0; i < children_count(cc->children); i++) {
    struct child_entry *ch = children_at(cc->children, i);
    if (is_v4(&ch->ip) != v4 || !ch->nkeys || ch->nkeys >= CHILD_KEYS_MAX) continue;
    if (clientkey_make(&ch->keys[ch->nkeys], &ch->ip, net->prefix) == 0 &&
        conncount_inc(cc->counts, &ch->keys[ch->nkeys]) > 0)
      ch->nkeys++;
  }
  return 0;
}

static unsigned long walk(const struct clientcount *cc, const struct clientkey *net)
{
  unsigned long n = 0;
  for (size_t i = 0; i < children_count(cc->children); i++) {
    struct clientkey k;
    const struct child_entry *ch = children_at(cc->children, i);
    if (clientkey_make(&k, &ch->ip, net->prefix) == 0 && clientkey_equal(&k, net)) n++;
  }
  return n;
}

unsigned long clientcount_net(struct clientcount *cc, const struct clientkey *net,
                              int may_track)
{
  if (!cc->counts) return walk(cc, net);
  if (counted(cc, net) || (may_track && track(cc, net) == 0))
    return conncount_get(cc->counts, net);
  return walk(cc, net);
}

struct child_entry *clientcount_add(struct clientcount *cc, pid_t pid,
                                    const struct ip_addr *ip,
                                    const struct clientkey *keys, unsigned n)
{
  struct child_entry *ch = children_add(cc->children, pid);
  if (!ch) return NULL;
  ch->ip = *ip;
  if (n && conncount_inc_all(cc->counts, keys, n) == 0) {
    memcpy(ch->keys, keys, n * sizeof *keys);
    ch->nkeys = n;
  }
  return ch;
}

int clientcount_remove(struct clientcount *cc, pid_t pid,
                       struct child_entry *gone)
{
  if (children_remove(cc->children, pid, gone) < 0) return -1;
  if (gone->nkeys) conncount_dec_all(cc->counts, gone->keys, gone->nkeys);
  return 0;
}

size_t clientcount_live(const struct clientcount *cc)
{
  return children_count(cc->children);
}
