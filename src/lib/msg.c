#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "errtext.h"
#include "fd.h"
#include "msg.h"

#define MSG_MAX 4096

static const char *prog = "ucspi";
static int quiet;

void msg_quiet(int on) { quiet = on; }

void msg_setprog(const char *p) { prog = p; }
const char *msg_prog(void) { return prog; }

static size_t append(char *buf, size_t len, const char *s)
{
  size_t n = strlen(s);
  if (n > MSG_MAX - 1 - len) n = MSG_MAX - 1 - len;
  memcpy(buf + len, s, n);
  return len + n;
}

/* Build "PROG: " head list tail "\n" and write it at once. */
static void emit(const char *head, const char *first, va_list ap,
                 const char *tail)
{
  char buf[MSG_MAX];
  if (quiet) return;
  int saved = errno;
  size_t len = append(buf, 0, prog);
  len = append(buf, len, ": ");
  len = append(buf, len, head);
  for (const char *s = first; s; s = va_arg(ap, const char *))
    len = append(buf, len, s);
  if (tail) len = append(buf, len, tail);
  buf[len++] = '\n';
  write_all(2, buf, len);
  errno = saved;
}

void msg_line(const char *s, ...)
{
  va_list ap;
  va_start(ap, s);
  emit("", s, ap, NULL);
  va_end(ap);
}

void msg_warn(const char *s, ...)
{
  va_list ap;
  va_start(ap, s);
  emit("warning: ", s, ap, NULL);
  va_end(ap);
}

void msg_die(int code, const char *s, ...)
{
  va_list ap;
  va_start(ap, s);
  emit("", s, ap, NULL);
  va_end(ap);
  _exit(code);
}

void msg_fatal(int code, const char *s, ...)
{
  va_list ap;
  va_start(ap, s);
  emit("fatal: ", s, ap, NULL);
  va_end(ap);
  _exit(code);
}

void msg_fatal_sys(const char *s, ...)
{
  char reason[128];
  const char *t = errtext(errno);
  size_t n = strlen(t);
  reason[0] = ':';
  reason[1] = ' ';
  memcpy(reason + 2, t, n + 1);
  va_list ap;
  va_start(ap, s);
  emit("fatal: ", s, ap, reason);
  va_end(ap);
  _exit(111);
}

void msg_usage(const char *usage)
{
  msg_die(100, "usage: ", usage, (const char *) 0);
}
