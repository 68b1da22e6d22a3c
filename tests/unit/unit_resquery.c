/* resquery.c: the servers of $DNSCACHEIP, as djbdns reads them; a query
   without a ready state fails at once. */
#include <arpa/inet.h>
#include <string.h>
#include "tap.h"
#include "resquery.h"

/* The servers of s as "a.b.c.d a.b.c.d ...". */
static const char *servers(const char *s)
{
  static char out[MAXNS * 16 + 1];
  struct sockaddr_in list[MAXNS];
  int n = resquery_servers(s, list);
  out[0] = 0;
  for (int i = 0; i < n; i++) {
    char a[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &list[i].sin_addr, a, sizeof a);
    if (i) strcat(out, " ");
    strcat(out, a);
    if (ntohs(list[i].sin_port) != 53) strcat(out, ":notport53");
  }
  return out;
}

int main(void)
{
  tap_is_str(servers(NULL), "", "no DNSCACHEIP: no servers");
  tap_is_str(servers("10.0.0.1"), "10.0.0.1", "one address, port 53");
  tap_is_str(servers("10.0.0.1 10.0.0.2,10.0.0.3\t10.0.0.4"), "10.0.0.1 10.0.0.2 10.0.0.3",
             "white space and commas separate; at most MAXNS (3)");
  tap_is_str(servers("10.0.0.1.10.0.0.2"), "10.0.0.1 10.0.0.2", "every fourth dot ends one (djbdns)");
  tap_is_str(servers("bogus, 10.0.0.9 ::1 1.2.3"), "10.0.0.9", "what is not an IPv4 address is skipped");
  tap_is_str(servers(" ,\t"), "", "separators only: none");

  struct resquery q = { .state = 0 };
  unsigned char ans[512];
  size_t len = sizeof ans;
  tap_ok(resquery_ask(&q, "example.org", T_A, ans, &len, 0) == RESQUERY_FAILED,
         "asked before resquery_open: FAILED, nothing sent");
  return tap_done();
}
