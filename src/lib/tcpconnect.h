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

/* Returns the connected socket (blocking, close-on-exec), or -1 when every
   address failed.  Dies with "fatal: unable to create socket" or
   "fatal: unable to bind socket" (exit 111) as the reference. */
int tcpconnect_any(const struct ip_addr *addrs, size_t n, unsigned port,
                   const struct tcpconnect *c);

/* The milliseconds the reference waits for a timeout of t seconds (it
   adds 20 ms, so that -T 0 still lets a fast connection through). */
int tcpconnect_ms(unsigned long t);
#endif
