/* proxywait.c: headers gathered as they arrive and never a byte past
   them, arrival order, a full set of slots, failures. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "tap.h"
#include "proxywait.h"

static const char v1[] = "PROXY TCP4 10.0.0.5 192.0.2.1 5555 25\r\n";

static int pair(int fds[2])
{
  return socketpair(AF_UNIX, SOCK_STREAM, 0, fds);
}

int main(void)
{
  struct proxywait w;
  struct proxy_header h;
  struct ip_addr peer;
  const char *why;
  int a[2], b[2], c[2];
  ip_set_v4(&peer, 127, 0, 0, 1);
  proxywait_init(&w, 2);
  tap_ok(proxywait_oldest(&w) == PROXYWAIT_NONE && !proxywait_full(&w), "empty");
  if (pair(a) || pair(b) || pair(c)) return 111;

  size_t i = proxywait_add(&w, a[0], &peer, 4000, PROXY_ANY, 100);
  size_t j = proxywait_add(&w, b[0], &peer, 4001, PROXY_V2, 200);
  tap_ok(i != PROXYWAIT_NONE && j != PROXYWAIT_NONE && i != j, "two slots");
  tap_ok(proxywait_full(&w) && proxywait_oldest(&w) == i, "full; the first is the oldest");
  errno = 0;
  tap_ok(proxywait_add(&w, c[0], &peer, 4002, PROXY_ANY, 300) == PROXYWAIT_NONE &&
         errno == ENOSPC, "a third: ENOSPC");

  tap_ok(proxywait_read(&w, i, &h, &why) == 0, "nothing yet: wait");
  if (write(a[1], v1, 10) != 10) return 111;
  tap_ok(proxywait_read(&w, i, &h, &why) == 0, "part of the header: wait");
  char rest[64];
  size_t n = strlen(v1) - 10;
  memcpy(rest, v1 + 10, n);
  memcpy(rest + n, "hello\n", 6);
  if (write(a[1], rest, n + 6) != (ssize_t) (n + 6)) return 111;
  tap_ok(proxywait_read(&w, i, &h, &why) == 1 && h.srcport == 5555, "complete");
  char data[16] = { 0 };
  tap_ok(read(a[0], data, sizeof data) == 6 && !memcmp(data, "hello\n", 6),
         "the bytes after the header are left on the socket");
  tap_ok(proxywait_get(&w, i) == NULL && proxywait_oldest(&w) == j && !proxywait_full(&w),
         "the slot is free, the next is the oldest");

  if (write(b[1], v1, strlen(v1)) != (ssize_t) strlen(v1)) return 111;
  tap_ok(proxywait_read(&w, j, &h, &why) == -1 && why && *why, "v1 where v2 is asked: bad, with a reason");
  tap_ok(proxywait_oldest(&w) == PROXYWAIT_NONE, "and freed");

  size_t k = proxywait_add(&w, c[0], &peer, 4002, PROXY_ANY, 300);
  close(c[1]);
  tap_ok(proxywait_read(&w, k, &h, &why) == -1 && !strcmp(why, "connection closed"),
         "closed before the header");
  size_t l = proxywait_add(&w, c[0], &peer, 4003, PROXY_ANY, 400);
  size_t m = proxywait_add(&w, a[0], &peer, 4004, PROXY_ANY, 500);
  proxywait_remove(&w, l);
  tap_ok(proxywait_oldest(&w) == m && proxywait_get(&w, m)->peerport == 4004,
         "removing the oldest makes the next one the oldest");
  proxywait_free(&w);

  proxywait_init(&w, 0);
  errno = 0;
  tap_ok(proxywait_add(&w, a[0], &peer, 1, PROXY_ANY, 1) == PROXYWAIT_NONE && errno == ENOMEM,
         "no slots at all: ENOMEM");
  return tap_done();
}
