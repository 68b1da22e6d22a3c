/* tcpclient: connect to a TCP server and run a program with the
   connection on fds 6 (read) and 7 (write), and the TCP environment.
   The connection and the environment are client.c's, shared with
   tlsclient. */
#include <errno.h>
#include <signal.h>
#include <unistd.h>
#include "client.h"
#include "env.h"
#include "fd.h"
#include "msg.h"
#include "opts.h"
#include "pathexec.h"
#include "port.h"

#define USAGE "tcpclient [ -hHrRdDqQv ] [ -i localip ] [ -p localport ]" \
  " [ -T timeoutconn ] [ -l localname ] [ -t timeoutinfo ] host port program"
/* --help lists every option, the extensions too; a usage error keeps
   0.88's line. */
#define HELP "tcpclient [ -46hHrRdDqQv ] [ -i localip ] [ -p localport ]" \
  " [ -T x+y ] [ -l localname ] [ -t timeout ] [ -I ifname ]" \
  " host port program [ arg ... ]"

static void setup_descriptors(int fd)
{
  /* fd_move: the socket may be 6 already, with close-on-exec. */
  if (fd_move(6, fd) < 0)
    msg_fatal_sys("unable to set up descriptor 6");
  if (dup2(6, 7) < 0)
    msg_fatal_sys("unable to set up descriptor 7");
}

/* A client_stop, in the reference's words. */
static _Noreturn void stopped(const struct client_stop *stop)
{
  if (!stop->what) _exit(111);
  if (stop->sys) msg_fatal_sys(stop->what, stop->arg);
  msg_fatal(111, stop->what, stop->arg);
}

int main(int argc, char **argv)
{
  extern char **environ;
  struct client_options o;
  client_defaults(&o);
  msg_setprog("tcpclient");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "tcpclient", HELP));
  close(6);
  close(7);
  signal(SIGPIPE, SIG_IGN);
  int c;
  while ((c = opts_next(argc, argv, CLIENT_OPTIONS)) != -1)
    if (client_option(&o, c, optarg) != 0) msg_usage(USAGE);
  argv += optind;
  if (!o.verbosity) msg_quiet(1);

  const char *host;
  unsigned port;
  char **prog;
  struct client_stop stop;
  int r = client_operands(argv, &host, &port, &prog, &stop);
  if (r == -1) msg_usage(USAGE);
  if (r < 0) stopped(&stop);

  char **env;
  int fd = client_open(&o, host, port, environ, &env, &stop);
  if (fd < 0) stopped(&stop);
  setup_descriptors(fd);
  signal(SIGPIPE, SIG_DFL);
  pathexec_run(prog[0], prog, env);
  msg_fatal_sys("unable to run ", prog[0]);
}
