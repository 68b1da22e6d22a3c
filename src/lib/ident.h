#ifndef IDENT_H
#define IDENT_H
#include <stddef.h>
#include "addr.h"

/* RFC 1413 ident, as tcpserver -r and tcpclient -r use it.  The reply is
   hostile input: its length is bounded and the result sanitised. */

#define IDENT_INFO_MAX 257   /* longest info kept, as the reference */

/* Ask the ident server on remote port 113, from the local address, about
   the connection remote:rport <-> local:lport, giving up after timeout
   seconds in all (capped at CLOCK_SECONDS_MAX).  Returns 1 with info set (possibly empty: an ERROR
   reply), 0 when nothing usable came back (refused, timed out). */
int ident_lookup(const struct ip_addr *local, unsigned lport,
                 const struct ip_addr *remote, unsigned rport,
                 unsigned long timeout, char info[IDENT_INFO_MAX + 1]);

/* Incremental parsing, as the bytes arrive: white space (space, tab, CR)
   is dropped, the info is what follows the third ':', the line ends at LF
   or when IDENT_INFO_MAX bytes are kept.  Bytes outside 33..126 in the
   info become '?'. */
struct ident_parser {
  int colons;
  size_t len;
  int done;
  char info[IDENT_INFO_MAX + 1];
};
void ident_parser_init(struct ident_parser *p);
/* Feed n bytes; returns 1 once the reply is complete (info final). */
int ident_parser_feed(struct ident_parser *p, const char *buf, size_t n);

/* Parse a reply (the bytes received, possibly without the final line
   end).  Returns 1 with info set, 0 if the reply is unusable. */
int ident_parse(const char *reply, size_t len, char info[IDENT_INFO_MAX + 1]);
#endif
