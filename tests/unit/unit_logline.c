/* logline: the one builder of log lines, written at once. */
#include <unistd.h>
#include "tap.h"
#include "logline.h"

static struct logline l;
static char got[2048];

/* Write l through a pipe and read back what one write brought. */
static const char *written(void)
{
  int p[2];
  if (pipe(p) < 0) return "";
  int r = logline_write(&l, p[1]);
  close(p[1]);
  ssize_t n = read(p[0], got, sizeof got - 1);
  close(p[0]);
  got[n > 0 ? n : 0] = 0;
  return r == 0 ? got : "(write failed)";
}

int main(void)
{
  struct ip_addr v4, v6, ll;
  ip_parse("10.0.0.1", &v4);
  ip_parse("2001:DB8::1", &v6);
  ip_parse("fe80::1%1", &ll);

  logline_start(&l, "tcpserver: status: ");
  logline_num(&l, 3);
  logline_add(&l, "/xyz", 1);
  logline_num(&l, 40);
  tap_is_str(written(), "tcpserver: status: 3/40\n", "str, num, add with a length");

  logline_start(&l, "x ");
  logline_ip(&l, &v4);
  logline_str(&l, " ");
  logline_ip(&l, &v6);
  logline_str(&l, " ");
  logline_ip(&l, &ll);
  tap_is_str(written(), "x 10.0.0.1 [2001:db8::1] [fe80::1]\n",
             "IPv4 bare, IPv6 in brackets, no scope");

  logline_start(&l, "");
  logline_ip_scope(&l, &ll);
  logline_ip_scope(&l, &v4);
  tap_ok(!strncmp(written(), "[fe80::1%", 9) && strstr(got, "]10.0.0.1\n"),
         "logline_ip_scope: the interface inside the brackets");

  logline_start(&l, "ok ");
  logline_field(&l, NULL);
  logline_str(&l, ":");
  logline_field(&l, "a:b%c d\n");
  tap_is_str(written(), "ok :a?b?c?d?\n", "fields sanitised as 0.88, NULL empty");

  logline_start(&l, "again");
  logline_start(&l, "fresh");
  tap_is_str(written(), "fresh\n", "logline_start empties the line");

  logline_start(&l, "");
  for (int i = 0; i < 300; i++) logline_str(&l, "abcdefgh");
  const char *w = written();
  tap_ok(strlen(w) == sizeof l.buf && w[sizeof l.buf - 1] == '\n',
         "a long line is cut, the line end still fits");
  tap_ok(logline_write(&l, -1) < 0, "a write error is returned");
  return tap_done();
}
