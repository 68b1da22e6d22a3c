#ifndef SOCK_H
#define SOCK_H
#include "addr.h"

/* A TCP socket of ip's family, non-blocking and close-on-exec.  -1 on
   error (errno). */
int sock_tcp(int family);
/* Bind to ip:port (ip any: the family's wildcard).  0, or -1. */
int sock_bind(int fd, const struct ip_addr *ip, unsigned port);
/* Connect a non-blocking socket to ip:port, waiting at most ms
   milliseconds.  0 when connected, -1 with errno (ETIMEDOUT when the time
   ran out, ECONNREFUSED ...). */
int sock_connect(int fd, const struct ip_addr *ip, unsigned port, int ms);
/* Clear O_NONBLOCK.  0, or -1. */
int sock_blocking(int fd);
#endif
