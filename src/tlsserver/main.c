/* tlsserver: tcpserver's core with a TLS engine in each connection's
   child.  Everything before the program (rules, limits, PROXY headers,
   the log lines) is the core's, in cleartext, in the parent: a refused
   client costs no handshake.  The parent builds the TLS contexts before
   the core drops privileges and never speaks TLS; an admitted
   connection's child becomes the engine (tlsengine.h) instead of
   exec'ing the program.  The parent does not fork it: a spawner, forked
   once, keeps one ready (spawner.h).

   Privileges: with TLS_UID/TLS_GID (or ucspi-ssl's SSL_UID/SSL_GID) the
   engine runs under those and the program under -u/-g, which needs the
   parent to keep its own: then the core does not drop them, each child
   does.  Without them, -u/-g apply to the parent as in tcpserver, and
   the engine and the program share them (the engine is not dumpable). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <unistd.h>
#include "clock.h"
#include "errtext.h"
#include "logline.h"
#include "msg.h"
#include "num.h"
#include "../tcpserver/server.h"
#include "spawner.h"
#include "tls.h"
#include "tlsengine.h"

#define USAGE "tlsserver [ -1UXpPhHrRoOdDqQvnyYs ] [ -c limit ] [ -x rules.cdb ] " \
  "[ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] " \
  "[ -t timeout ] [ -w handshake ] host port program"
#define HELP "tlsserver [ -1UXpPhHrRoOdDqQv46S0nyYsia ] [ -c limit ] [ -x rules.cdb ] " \
  "[ -B banner ] [ -g gid ] [ -u uid ] [ -b backlog ] [ -l localname ] " \
  "[ -t timeout ] [ -I interface ] [ -C n[:message] ] [ -L v4[/v6] ] " \
  "[ -F rate[/burst][:message] ] [ -W seconds ] [ -G drain[+kill] ] " \
  "[ -N fd ] [ -w handshake ] host port program"

extern char **environ;

/* What tlsserver adds to the server: its options, contexts and ids. */
struct tlsstate {
  enum tls_clientcert mode;    /* -y, -Y */
  int full;                    /* -s */
  int ucspitls;                /* -n */
  unsigned long handshake;     /* -w seconds */
  struct tls_server *tls;
  const char *banner;          /* -B, sent through TLS (not with -n) */
  size_t bannerlen;
  int child_ids;               /* the children set the ids, not the parent */
  unsigned long uid, gid;      /* -u, -g */
  int tls_ids;
  uid_t tls_uid;
  gid_t tls_gid;
  struct spawner spawner;      /* keeps an engine ready (spawner.h) */
};

static struct tlsstate state = { .handshake = 10 };

static int tls_option(struct server *srv, int letter, const char *arg)
{
  (void) srv;
  switch (letter) {
  case 'n': state.ucspitls = 1; return 0;
  case 'y': case 'i':   /* -i: sslserver's letter for the same */
    state.mode = TLS_CLIENTCERT_REQUIRE; return 0;
  case 'a': return 0;   /* sslserver's: ids switched after the certificates, as always here */
  case 'Y': state.mode = TLS_CLIENTCERT_ASK; return 0;
  case 's': state.full = 1; return 0;
  case 'w': state.handshake = scan_leading_sat(arg); return 0;
  }
  return -1;
}

/* ---- the parent ---- */

/* An id from the environment: TLS_NAME, else ucspi-ssl's SSL_NAME. */
static int env_id(const char *tls, const char *ssl, unsigned long *id)
{
  const char *s = getenv(tls);
  if (!s || !*s) s = getenv(ssl);
  if (!s || !*s) return 0;   /* set but empty: as unset (id -u of no user) */
  *id = scan_leading_sat(s);
  return 1;
}

static void choose_ids(struct server *srv)
{
  unsigned long uid = srv->opt.uid, gid = srv->opt.gid;
  int have_uid = env_id("TLS_UID", "SSL_UID", &uid);
  int have_gid = env_id("TLS_GID", "SSL_GID", &gid);
  state.uid = srv->opt.uid;
  state.gid = srv->opt.gid;
  if (!have_uid && !have_gid) return;   /* the core drops -u/-g, for all */
  /* Two sets of ids, given to each child: only root can. */
  if (geteuid() != 0)
    msg_fatal(111, "TLS_UID and TLS_GID need the server to be started as root");
  state.tls_ids = 1;
  state.tls_uid = (uid_t) uid;
  state.tls_gid = (gid_t) gid;
  state.child_ids = 1;
  srv->opt.uid = srv->opt.gid = 0;       /* the children do it */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Without -n the banner goes through TLS, in the engine. */
static void take_banner(struct server *srv)
{
  if (state.ucspitls) return;
  state.banner = srv->opt.banner;
  state.bannerlen = srv->opt.bannerlen;
  srv->opt.bannerlen = 0;
}

static void build_contexts(void)
{
  char why[TLS_WHY];
  state.tls = tls_server_new(environ, state.mode, why);
  if (!state.tls) msg_fatal(111, why);
}

/* A changed certificate file reloads, looked at once a second by a
   timer whose handler only stats the files (async-signal-safe) and
   asks for the reload with SIGHUP, which the core handles between two
   events. */
static void on_alarm(int sig)
{
  (void) sig;
  int saved = errno;
  if (state.tls && tls_server_changed(state.tls)) kill(getpid(), SIGHUP);
  errno = saved;
}

static void watch_files(void)
{
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_alarm;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, 0);
  struct itimerval every = { { 1, 0 }, { 1, 0 } };
  setitimer(ITIMER_REAL, &every, 0);
}

/* Without it each connection is forked: slower, never wrong. */
static void start_spawner(struct server *srv)
{
  if (spawner_start(&state.spawner, srv) < 0)
    log_warn(&srv->opt, "unable to start the spawner, forking each connection: ",
             errtext(errno));
}

static pid_t tls_spawn(struct server *srv, struct conn *c)
{
  return spawner_spawn(&state.spawner, srv, c);
}

static void tls_helper_ended(struct server *srv, pid_t pid)
{
  (void) srv;
  spawner_reaped(&state.spawner, pid);
}

static void tls_reload(struct server *srv)
{
  char why[TLS_WHY];
  sigset_t alrm, old;
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  sigprocmask(SIG_BLOCK, &alrm, &old);   /* the handler reads the contexts */
  int r = tls_server_reload(state.tls, environ, why);
  sigprocmask(SIG_SETMASK, &old, 0);
  if (r < 0) {
    log_warn(&srv->opt, "unable to reload the certificates, keeping the old ones: ", why);
    return;
  }
  /* The engines to come are clones of the spawner: a new one, with the
     new contexts and ticket key. */
  spawner_retire(&state.spawner, srv);
  start_spawner(srv);
  if (srv->opt.verbosity >= 2) {
    struct logline l;
    logline_start(&l, "tlsserver: tls reloaded");
    log_line(&l);
  }
}

/* ---- the child: the engine ---- */

struct child_ctx { struct server *srv; struct conn *c; };

static void log_tls(void *ctx, const struct tls_conn *t)
{
  const struct child_ctx *x = ctx;
  if (x->srv->opt.verbosity < 2) return;
  struct logline l;
  logline_start(&l, "tlsserver: tls ");
  logline_num(&l, (unsigned long) getpid());
  logline_str(&l, " ");
  logline_str(&l, tls_conn_protocol(t));
  logline_str(&l, " ");
  logline_str(&l, tls_conn_cipher(t));
  if (*tls_conn_sni(t)) {
    logline_str(&l, " ");
    logline_str(&l, tls_conn_sni(t));
  }
  log_line(&l);
}

static void log_fail(void *ctx, const char *why)
{
  const struct child_ctx *x = ctx;
  if (!x->srv->opt.verbosity) return;
  struct logline l;
  logline_start(&l, "tlsserver: tls ");
  logline_num(&l, (unsigned long) getpid());
  logline_str(&l, " failed ");
  logline_ip(&l, &x->c->peer.remote);
  logline_str(&l, ":");
  logline_num(&l, x->c->peer.remoteport);
  logline_str(&l, ": ");
  logline_str(&l, why);
  log_line(&l);
}

static void engine_fatal(void *ctx, const char *what, const char *arg, int err)
{
  const struct child_ctx *x = ctx;
  log_drop(&x->srv->opt, what, arg, err);
}

static void tls_run(struct server *srv, struct conn *c)
{
  struct child_ctx x = { srv, c };
  struct tlsengine e = {
    .sock = 0, .server = state.tls,
    .handshake_ms = (int) (clock_cap(state.handshake) * 1000),
    .full = state.full, .ucspitls = state.ucspitls, .fd_read = 0, .fd_write = 1,
    .banner = state.banner, .bannerlen = state.bannerlen,
    .argv = srv->opt.prog, .envp = c->v.envp,
    .set_prog_ids = state.child_ids, .prog_uid = (uid_t) state.uid,
    .prog_gid = (gid_t) state.gid,
    .set_tls_ids = state.tls_ids, .tls_uid = state.tls_uid, .tls_gid = state.tls_gid,
    .log_tls = log_tls, .log_fail = log_fail, .fatal = engine_fatal, .ctx = &x,
  };
  tlsengine_run(&e);
}

static struct server_program tlsserver = {
  .name = "tlsserver", .usage = USAGE, .help = HELP, .options = "nyYsw:ia",
  .option = tls_option, .run = tls_run, .spawn = tls_spawn,
  .helper_ended = tls_helper_ended, .reload = tls_reload,
  .state = &state,
};

int main(int argc, char **argv)
{
  static struct server srv;
  options_parse(&srv, &tlsserver, argc, argv);
  choose_ids(&srv);
  take_banner(&srv);
  build_contexts();
  server_setup(&srv);
  spawner_init(&state.spawner);
  start_spawner(&srv);
  watch_files();
  loop_serve(&srv);
}
