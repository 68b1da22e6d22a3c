#ifndef CLIENTCOUNT_H
#define CLIENTCOUNT_H
#include <stddef.h>
#include <sys/types.h>
#include "addr.h"
#include "children.h"
#include "clientkey.h"
#include "conncount.h"

/* The server's accounting of its live connections, for the per-client
   limits: every child is counted under the keys of its connection (the
   client, /32 or /64 as the server sets it; its /24, or /48 for IPv6;
   and up to CLIENTCOUNT_NETS network lengths that rules have asked
   about), and uncounted under the same keys when it ends, so that the
   count that drops is always that of the client whose child ended.

   A network length is counted from the first time a rule asks for it:
   the live children are counted under it then, once, and every new one
   after.  Asked for more lengths than that, or in a forked child (whose
   copy the parent never sees), the count is a walk of the children.

   Sizes are fixed at clientcount_init() from the most children there can
   be; nothing is allocated afterwards.  Every operation is O(1) but the
   walks named above. */

#define CLIENTCOUNT_NETS 2

struct clientcount {
  struct children *children;
  struct conncount *counts;      /* NULL: not counting */
  unsigned prefix_v4, prefix_v6; /* what makes one client */
  unsigned char nets_v4[CLIENTCOUNT_NETS], nets_v6[CLIENTCOUNT_NETS];
  unsigned nnets_v4, nnets_v6;
};

/* Room for `capacity` children (at least 1); counting 0 keeps only the
   children, with no keys.  0, or -1 with errno (ENOMEM, or from the
   random seed). */
int clientcount_init(struct clientcount *cc, size_t capacity, int counting,
                     unsigned prefix_v4, unsigned prefix_v6);

void clientcount_free(struct clientcount *cc);

/* The client key of ip (the server's prefix for its family): 0 or -1. */
int clientcount_client(const struct clientcount *cc, const struct ip_addr *ip,
                       struct clientkey *key);

/* The keys a new connection from ip is counted under; keys[0] is the
   client, keys[1] its /24 or /48.  Returns how many (0: not counting). */
unsigned clientcount_keys(const struct clientcount *cc, const struct ip_addr *ip,
                          struct clientkey keys[CHILD_KEYS_MAX]);

/* Live connections under key (one of the keys above). */
unsigned long clientcount_get(const struct clientcount *cc,
                              const struct clientkey *key);

/* Live connections from net, any prefix length; may_track: the caller is
   the parent, and may start counting that length. */
unsigned long clientcount_net(struct clientcount *cc, const struct clientkey *net,
                              int may_track);

/* A new child pid for a connection from ip, counted under keys[0..n)
   (uncounted if the counts had no room, which a table sized as above
   never lacks).  Its entry (for the caller's payload), or NULL with
   errno (ENOSPC, EEXIST). */
struct child_entry *clientcount_add(struct clientcount *cc, pid_t pid,
                                    const struct ip_addr *ip,
                                    const struct clientkey *keys, unsigned n);

/* pid ended: uncounted, forgotten, its entry copied to *gone.  0, or -1
   with errno ENOENT when pid is not a live child. */
int clientcount_remove(struct clientcount *cc, pid_t pid,
                       struct child_entry *gone);

size_t clientcount_live(const struct clientcount *cc);
#endif
