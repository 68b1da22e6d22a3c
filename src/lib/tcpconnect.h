#ifndef TCPCONNECT_H
#define TCPCONNECT_H
#include <stddef.h>
#include "addr.h"

/* tcpclient's connection attempts, the reference's two passes: every
   address is tried with timeout[0] seconds, then those that timed out
   with timeout[1] seconds; a single address gets both at once.  A
   failure that is final is reported through `failed` (tcpclient prints
   "unable to connect to IP port PORT: REASON"). */
struct tcpconnect {
  const struct ip_addr *local;  /* bind to this address; NULL: any */
  unsigned localport;           /* and port; 0: any */
  unsigned long timeout[2];     /* seconds */
  void (*failed)(void *ctx, const struct ip_addr *ip, unsigned port, int err);
  void *ctx;                    /* passed to failed */
};

#define TCPCONNECT_MAX 64   /* addresses tried at most */

/* Why tcpconnect_any gave up: every address failed (each reported), or
   a socket could not be created or bound (errno), which ends the
   attempts at once (tcpclient: "fatal: unable to create socket",
   "fatal: unable to bind socket"). */
enum tcpconnect_failure { TCPCONNECT_UNREACHED, TCPCONNECT_SOCKET,
                          TCPCONNECT_BIND };

/* Returns the connected socket (blocking, close-on-exec), or -1 with
   *why set (why may be NULL) and errno. */
int tcpconnect_any(const struct ip_addr *addrs, size_t n, unsigned port,
                   const struct tcpconnect *c, enum tcpconnect_failure *why);

/* The milliseconds the reference waits for a timeout of t seconds (it
   adds 20 ms, so that -T 0 still lets a fast connection through); t is
   capped at CLOCK_SECONDS_MAX. */
int tcpconnect_ms(unsigned long t);
#endif
