#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include "clock.h"
#include "ident.h"
#include "sock.h"

void ident_parser_init(struct ident_parser *p)
{
  memset(p, 0, sizeof *p);
}

/* The reference keeps everything after the third colon, skipping white
   space, up to the line end or 257 bytes; we also turn bytes that have no
   business in a user name into '?', since the value reaches environments
   and logs. */
int ident_parser_feed(struct ident_parser *p, const char *buf, size_t n)
{
  for (size_t i = 0; i < n && !p->done; i++) {
    unsigned char ch = (unsigned char) buf[i];
    if (ch == ' ' || ch == '\t' || ch == '\r') continue;
    if (ch == '\n') { p->done = 1; break; }
    if (p->colons < 3) {
      if (ch == ':') p->colons++;
      continue;
    }
    p->info[p->len++] = (ch < 33 || ch > 126) ? '?' : (char) ch;
    if (p->len >= IDENT_INFO_MAX) p->done = 1;
  }
  p->info[p->len] = 0;
  return p->done;
}

int ident_parse(const char *reply, size_t len, char info[IDENT_INFO_MAX + 1])
{
  struct ident_parser p;
  ident_parser_init(&p);
  if (!ident_parser_feed(&p, reply, len)) return 0;
  memcpy(info, p.info, p.len + 1);
  return 1;
}

static int send_query(int fd, unsigned rport, unsigned lport, long long deadline)
{
  char q[64];
  size_t len = fmt_ulong(q, rport);
  memcpy(q + len, " , ", 3);
  len += 3;
  len += fmt_ulong(q + len, lport);
  memcpy(q + len, "\r\n", 2);
  len += 2;
  size_t off = 0;
  while (off < len) {
    if (clock_wait_fd(fd, POLLOUT, deadline) != CLOCK_WAIT_READY) return -1;
    ssize_t w = write(fd, q + off, len - off);
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    off += (size_t) w;
  }
  return 0;
}

static int read_reply(int fd, struct ident_parser *p, long long deadline)
{
  char buf[512];
  for (;;) {
    if (clock_wait_fd(fd, POLLIN, deadline) != CLOCK_WAIT_READY) return -1;
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    if (r == 0) return -1;  /* the reference wants a complete line */
    if (ident_parser_feed(p, buf, (size_t) r)) return 0;
  }
}

int ident_lookup(const struct ip_addr *local, unsigned lport,
                 const struct ip_addr *remote, unsigned rport,
                 unsigned long timeout, char info[IDENT_INFO_MAX + 1])
{
  long long deadline = clock_deadline(timeout);
  struct ident_parser p;
  int ok = 0;
  int fd = sock_tcp(remote->family);
  if (fd < 0) return 0;
  ident_parser_init(&p);
  if (sock_bind(fd, local, 0) == 0
      && sock_connect(fd, remote, 113, (int) (deadline - clock_ms())) == 0
      && send_query(fd, rport, lport, deadline) == 0
      && read_reply(fd, &p, deadline) == 0) {
    memcpy(info, p.info, p.len + 1);
    ok = 1;
  }
  close(fd);
  return ok;
}
