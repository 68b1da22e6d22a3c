/* recordio: run a program, logging everything it reads and writes to
   fd 2, line by line, tagged with its pid. */
#include <string.h>
#include <unistd.h>
#include "fd.h"
#include "msg.h"
#include "opts.h"
#include "num.h"
#include "relay.h"

#define USAGE "recordio program [ arg ... ]"

struct recorder {
  char pid[21];
  size_t pidlen;
};

/* "PID < " or "PID > ": the head of every transcript line. */
static size_t line_head(const struct recorder *rec, enum relay_dir dir,
                        char *line)
{
  memcpy(line, rec->pid, rec->pidlen);
  memcpy(line + rec->pidlen, dir == RELAY_IN ? " < " : " > ", 3);
  return rec->pidlen + 3;
}

/* One transcript line per piece of the packet between newlines, written
   at once: "text \n" where a newline was, "text+\n" for a last piece
   without one. */
static size_t record_packet(void *ctx, enum relay_dir dir, const char *in,
                            size_t n, char *out)
{
  const struct recorder *rec = ctx;
  char line[sizeof rec->pid + 3 + RELAY_PACKET + 2];
  const char *p = in, *end = in + n;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t) (end - p));
    const char *stop = nl ? nl : end;
    size_t len = line_head(rec, dir, line);
    memcpy(line + len, p, (size_t) (stop - p));
    len += (size_t) (stop - p);
    line[len++] = nl ? ' ' : '+';
    line[len++] = '\n';
    write_all(2, line, len);
    p = nl ? nl + 1 : end;
  }
  memcpy(out, in, n);
  return n;
}

static void record_eof(void *ctx, enum relay_dir dir)
{
  const struct recorder *rec = ctx;
  char line[sizeof rec->pid + 3 + 6];
  size_t len = line_head(rec, dir, line);
  memcpy(line + len, "[EOF]\n", 6);
  write_all(2, line, len + 6);
}

int main(int argc, char **argv)
{
  msg_setprog("recordio");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "recordio", USAGE));
  if (argc < 2) msg_usage(USAGE);
  struct recorder rec;
  /* The program keeps this process's pid: the relay is the child. */
  rec.pidlen = fmt_ulong(rec.pid, (unsigned long) getpid());
  struct relay_hooks h = { record_packet, record_eof, &rec };
  enum relay_failure why;
  relay_run(argv + 1, &h, &why);
  msg_fatal_sys(relay_failure_text(why), why == RELAY_EXEC ? argv[1] : "");
}
