/* fixcrio: run a program, adding the CR that is missing before a LF in
   what it reads and in what it writes. */
#include <unistd.h>
#include "crlf.h"
#include "msg.h"
#include "opts.h"
#include "relay.h"

#define USAGE "fixcrio program [ arg ... ]"

/* The last byte seen in each direction, so that a CR at the end of one
   packet counts for a LF at the start of the next. */
struct fixer { char last[2]; };

static size_t fix_packet(void *ctx, enum relay_dir dir, const char *in,
                         size_t n, char *out)
{
  struct fixer *f = ctx;
  return crlf_fix(in, n, out, &f->last[dir]);
}

int main(int argc, char **argv)
{
  msg_setprog("fixcrio");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "fixcrio", USAGE));
  if (argc < 2) msg_usage(USAGE);
  struct fixer f = { { 0, 0 } };
  struct relay_hooks h = { fix_packet, 0, &f };
  enum relay_failure why;
  relay_run(argv + 1, &h, &why);
  msg_fatal_sys(relay_failure_text(why), why == RELAY_EXEC ? argv[1] : "");
}
