#ifndef RESQUERY_H
#define RESQUERY_H
#include <stddef.h>
#include <netinet/in.h>
#include <resolv.h>

/* DNS queries through the system resolver (glibc's res_nquery) with a
   resolver state of its own, each bounded by a deadline that nothing in
   the resolver can outlast: the query runs in a child process, killed at
   the deadline (the resolver's TCP fallback has no timeout at all).
   (-lresolv before glibc 2.34; now in libc.) */

struct resquery {
  struct __res_state res;
  int state;                     /* 0 untouched, 1 ready, -1 broken */
};

enum resquery_result { RESQUERY_FAILED = -1, RESQUERY_ABSENT = 0, RESQUERY_PRESENT = 1 };

/* Ready the state once (res_ninit, /etc/resolv.conf); later calls
   return the first answer.  When dnscacheip names servers ($DNSCACHEIP:
   IPv4 addresses separated by white space, commas, or dots as djbdns
   reads them, "10.0.0.1.10.0.0.2": every fourth dot ends one; at most
   MAXNS, the rest ignored) they replace those of resolv.conf.
   dnscacheip may be NULL.  Returns 1, or -1 when res_ninit failed. */
int resquery_open(struct resquery *q, const char *dnscacheip);
void resquery_close(struct resquery *q);

/* The servers named by dnscacheip into list (room for MAXNS); returns
   how many. */
int resquery_servers(const char *dnscacheip, struct sockaddr_in *list);

/* Records of type (T_TXT, T_A) under name, class IN, before deadline
   (clock_ms() terms; 0: none but the resolver's own).  With a deadline
   the resolver's tries are cut to fit what is left of it (less than a
   second left: FAILED at once).  PRESENT with the answer packet in
   ans[*len] (*len: its room on entry), ABSENT for NXDOMAIN or no
   records, FAILED for everything else (SERVFAIL, silence, out of time,
   no process or pipe). */
enum resquery_result resquery_ask(struct resquery *q, const char *name, int type,
                                  unsigned char *ans, size_t *len, long long deadline);
#endif
