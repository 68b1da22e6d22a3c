#ifndef TLSRELAY_H
#define TLSRELAY_H
#include "tls.h"

/* The relay of tlsserver's engine and of tlsclient: cleartext between a
   program's two pipes and a TLS connection, both directions at once,
   until both have ended.

   - From the peer to the program: the peer's close_notify (or EOF)
     closes to_prog, so the program reads EOF; the peer may go on
     reading (TLS 1.3 closes one direction at a time).
   - From the program to the peer: EOF on from_prog sends close_notify,
     then shuts the socket's write side.
   - A program that has ended (pidfd readable) and closed its output
     reads no more: the relay stops reading the peer.
   Buffers are TLSRELAY_BUF bytes each way; a direction stops reading
   while its data has not been written, so memory stays bounded whatever
   the peers do.  The pipes are made non-blocking; the relay closes
   them.  pidfd may be -1 (no program to watch). */

#define TLSRELAY_BUF 65536

/* 0 when both directions ended, -1 when the connection broke (why set;
   the pipes are closed all the same). */
int tlsrelay_run(struct tls_conn *c, int sock, int to_prog, int from_prog,
                 int pidfd, char why[TLS_WHY]);
#endif
