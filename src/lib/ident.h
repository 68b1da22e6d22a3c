#ifndef IDENT_H
#define IDENT_H
#include <stddef.h>
#include "addr.h"

/* RFC 1413 ident, as tcpserver -r and tcpclient -r use it.  The reply is
   hostile input: its length is bounded and the result sanitised. */

#define IDENT_INFO_MAX 257   /* longest info kept, as the reference */

/* Ask the ident server on remote port 113, from the local address, about
   the connection remote:rport <-> local:lport, giving up after timeout
   seconds in all.  Returns 1 with info set (possibly empty: an ERROR
   reply), 0 when nothing usable came back (refused, timed out). */
int ident_lookup(const struct ip_addr *local, unsigned lport,
                 const struct ip_addr *remote, unsigned rport,
                 unsigned timeout, char info[IDENT_INFO_MAX + 1]);

/* Parse a reply (the bytes received, possibly without the final line
   end).  Returns 1 with info set, 0 if the reply is unusable. */
int ident_parse(const char *reply, size_t len, char info[IDENT_INFO_MAX + 1]);
#endif
