#include <string.h>
#include "fd.h"
#include "logfield.h"
#include "logline.h"
#include "num.h"

void logline_add(struct logline *l, const char *s, size_t n)
{
  size_t room = sizeof l->buf - 1 - l->len;   /* 1: the line end */
  if (n > room) n = room;
  memcpy(l->buf + l->len, s, n);
  l->len += n;
}

void logline_start(struct logline *l, const char *s)
{
  l->len = 0;
  logline_str(l, s);
}

void logline_str(struct logline *l, const char *s)
{
  logline_add(l, s, strlen(s));
}

void logline_num(struct logline *l, unsigned long n)
{
  char buf[FMT_ULONG];
  size_t len = fmt_ulong(buf, n);
  logline_add(l, buf, len);
}

static void add_ip(struct logline *l, const struct ip_addr *ip, int scope)
{
  char buf[IP_FMT_SIZE];
  size_t n = ip_format(ip, buf);
  if (ip->family != AF_INET6) {
    logline_add(l, buf, n);
    return;
  }
  logline_add(l, "[", 1);
  logline_add(l, buf, n);
  if (scope && (n = ip_scope_name(ip, buf)) > 0) {
    logline_add(l, "%", 1);
    logline_add(l, buf, n);
  }
  logline_add(l, "]", 1);
}

void logline_ip(struct logline *l, const struct ip_addr *ip)
{
  add_ip(l, ip, 0);
}

void logline_ip_scope(struct logline *l, const struct ip_addr *ip)
{
  add_ip(l, ip, 1);
}

void logline_field(struct logline *l, const char *s)
{
  char buf[LOGFIELD_MAX];
  size_t n = logfield_put(buf, s);
  logline_add(l, buf, n);
}

int logline_write(struct logline *l, int fd)
{
  l->buf[l->len++] = '\n';
  int r = write_all(fd, l->buf, l->len);
  l->len--;
  return r;
}
