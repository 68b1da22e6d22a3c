/* tlsclient: connect to a TLS server and run a program with the
   connection's cleartext on fds 6 (read) and 7 (write), tcpclient's
   environment and SSL_PROTOCOL, SSL_CIPHER.  The server's certificate
   is verified against CAFILE/CADIR or the system's store for -k name
   (default: the host).  -n: UCSPI-TLS, the program starts in cleartext
   and asks for TLS itself (tlsengine.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "client.h"
#include "clock.h"
#include "env.h"
#include "errtext.h"
#include "logline.h"
#include "msg.h"
#include "num.h"
#include "opts.h"
#include "port.h"
#include "tls.h"
#include "tlsengine.h"

#define USAGE "tlsclient [ -hHrRdDqQvn ] [ -k name ] [ -w timeout ]" \
  " [ -i localip ] [ -p localport ] [ -T timeoutconn ] [ -l localname ]" \
  " [ -t timeoutinfo ] host port program"

struct tls_options {
  const char *name;        /* -k */
  int ucspitls;            /* -n */
  unsigned long handshake; /* -w seconds */
};

static void parse(int argc, char **argv, struct client_options *o,
                  struct tls_options *t)
{
  int c;
  while ((c = opts_next(argc, argv, CLIENT_OPTIONS "k:nw:")) != -1) {
    int r = client_option(o, c, optarg);
    if (r < 0) msg_usage(USAGE);
    if (r == 0) continue;
    switch (c) {
    case 'k': t->name = optarg; break;
    case 'n': t->ucspitls = 1; break;
    case 'w': t->handshake = scan_leading_sat(optarg); break;
    default: msg_usage(USAGE);
    }
  }
}

/* The name the certificate must match: -k, or the host; host "0" is
   the local machine, an address. */
static const char *expected_name(const char *host, const struct client_options *o,
                                 const struct tls_options *t)
{
  if (t->name) return t->name;
  if (*host && strcmp(host, "0")) return host;
  return o->family == AF_INET6 ? "::1" : "127.0.0.1";
}

struct report { const struct client_options *o; const struct tls_options *t;
                const char *name; };

static void log_tls(void *ctx, const struct tls_conn *c)
{
  const struct report *r = ctx;
  if (r->o->verbosity < 2) return;
  struct logline l;
  logline_start(&l, "tlsclient: tls ");
  logline_str(&l, tls_conn_protocol(c));
  logline_str(&l, " ");
  logline_str(&l, tls_conn_cipher(c));
  logline_write(&l, 2);
}

/* Direct TLS: the end (exit 111, the engine's).  UCSPI-TLS: the
   program goes on and reads EOF. */
static void log_fail(void *ctx, const char *why)
{
  const struct report *r = ctx;
  if (r->t->ucspitls) msg_warn("unable to start TLS with ", r->name, ": ", why);
  else msg_line("fatal: unable to start TLS with ", r->name, ": ", why);
}

static void fatal(void *ctx, const char *what, const char *arg, int err)
{
  (void) ctx;
  msg_fatal(111, what, arg, ": ", errtext(err));
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
  struct tls_options t = { .handshake = 10 };
  client_defaults(&o);
  msg_setprog("tlsclient");
  int hv = opts_help_version(argc, argv);
  if (hv) _exit(opts_answer(hv, "tlsclient", USAGE));
  close(6);
  close(7);
  signal(SIGPIPE, SIG_IGN);
  parse(argc, argv, &o, &t);
  argv += optind;
  if (!o.verbosity) msg_quiet(1);

  const char *host;
  unsigned port;
  char **prog;
  struct client_stop stop;
  int r = client_operands(argv, &host, &port, &prog, &stop);
  if (r == -1) msg_usage(USAGE);
  if (r < 0) stopped(&stop);

  char why[TLS_WHY];
  struct tls_client *cl = tls_client_new(environ, why);
  if (!cl) msg_fatal(111, why);

  char **env;
  int fd = client_open(&o, host, port, environ, &env, &stop);
  if (fd < 0) stopped(&stop);

  struct report rep = { &o, &t, expected_name(host, &o, &t) };
  struct tlsengine engine = {
    .sock = fd, .client = cl, .name = rep.name,
    .handshake_ms = (int) (clock_cap(t.handshake) * 1000),
    .ucspitls = t.ucspitls, .fd_read = 6, .fd_write = 7,
    .argv = prog, .envp = env,
    .log_tls = log_tls, .log_fail = log_fail, .fatal = fatal, .ctx = &rep,
  };
  tlsengine_run(&engine);
}
