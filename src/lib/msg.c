#include <errno.h>
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

/* Build "PROG: " head parts tail "\n" and write it at once. */
static void emit(const char *head, const char *const *parts,
                 const char *tail)
{
  char buf[MSG_MAX];
  if (quiet) return;
  int saved = errno;
  size_t len = append(buf, 0, prog);
  len = append(buf, len, ": ");
  len = append(buf, len, head);
  for (; *parts; parts++) len = append(buf, len, *parts);
  if (tail) len = append(buf, len, tail);
  buf[len++] = '\n';
  write_all(2, buf, len);
  errno = saved;
}

void msg_line_parts(const char *const *parts)
{
  emit("", parts, NULL);
}

void msg_warn_parts(const char *const *parts)
{
  emit("warning: ", parts, NULL);
}

void msg_die_parts(int code, const char *const *parts)
{
  emit("", parts, NULL);
  _exit(code);
}

void msg_fatal_parts(int code, const char *const *parts)
{
  emit("fatal: ", parts, NULL);
  _exit(code);
}

void msg_fatal_sys_parts(const char *const *parts)
{
  char reason[128];
  const char *t = errtext(errno);
  size_t n = strlen(t);
  if (n > sizeof reason - 3) n = sizeof reason - 3;
  reason[0] = ':';
  reason[1] = ' ';
  memcpy(reason + 2, t, n);
  reason[n + 2] = 0;
  emit("fatal: ", parts, reason);
  _exit(111);
}

void msg_usage(const char *usage)
{
  msg_die(100, "usage: ", usage);
}
