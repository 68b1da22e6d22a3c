/* mconnect-io: the terminal side of mconnect, under tcpclient.  A child
   copies stdin to the network (fd 7) with a CR before each LF; this
   process copies the network (fd 6) to stdout unchanged, then stops the
   child.  Like the reference it ignores read and write errors and exits
   0. */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "copy.h"
#include "crlf.h"
#include "msg.h"
#include "opts.h"

#define USAGE "mconnect-io"

static size_t add(void *ctx, const char *in, size_t n, char *out)
{
  (void) ctx;
  return crlf_add(in, n, out);
}

int main(int argc, char **argv)
{
  int hv = opts_help_version(argc, argv);
  if (hv) return opts_answer(hv, "mconnect-io", USAGE);
  msg_setprog("mconnect-io");
  signal(SIGPIPE, SIG_IGN);
  pid_t pid = fork();
  if (pid < 0) msg_fatal_sys("unable to fork");
  if (pid == 0) {
    copy_filtered(0, 7, add, 0, 0, COPY_IGNORE_WRITE_ERRORS);
    _exit(0);
  }
  copy_filtered(6, 1, 0, 0, 0, COPY_IGNORE_WRITE_ERRORS);
  kill(pid, SIGTERM);
  int wstat;
  while (waitpid(pid, &wstat, 0) < 0 && errno == EINTR) {}
  return 0;
}
