/* Kept apart from addr.c: getservbyname pulls in NSS, which a statically
   linked program that never parses a port (tcprules, tcprulescheck) must
   not carry. */
#include <arpa/inet.h>
#include <netdb.h>
#include "port.h"

int port_parse(const char *s, unsigned *port)
{
  if (!*s) return -1;
  if (s[0] >= '0' && s[0] <= '9') {
    unsigned long v = 0;
    for (const char *p = s; *p; p++) {
      if (*p < '0' || *p > '9') return -1;
      v = v * 10 + (unsigned long) (*p - '0');
      if (v > 65535) return -1;
    }
    *port = (unsigned) v;
    return 0;
  }
  struct servent *se = getservbyname(s, "tcp");
  if (!se) return -1;
  *port = ntohs((uint16_t) se->s_port);
  return 0;
}
