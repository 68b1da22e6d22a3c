/* From the options to the loop, in 0.88's order where 0.88 has one:
   the address, the tables, the environment of the programs, the
   signals, the listening socket, privileges dropped, the port printed,
   readiness, descriptors 0 and 1 closed; then the reaper and the first
   status line.  Any failure here is fatal: nothing is served yet.
   With -G the front is forked off once the address is known and a
   passed socket taken (LISTEN_PID is the front's pid); the rest is the
   server's. */
#include <stdlib.h>
#include <unistd.h>
#include "server.h"

extern char **environ;

/* A banner longer than this may not fit the socket buffer at once, and
   the parent must not wait on a slow client: such a server takes the
   slow path. */
#define FAST_BANNER_MAX 4096

void server_setup(struct server *srv)
{
  const struct options *opt = &srv->opt;
  srv->pid = getpid();
  srv->epfd = -1;
  srv->helper_fd = -1;
  log_init(srv->program->name, srv->pid);
  listen_setup(srv, opt->prog[-2], opt->prog[-1]);
  srv->front.fd = -1;
  if (opt->drain_ms) {   /* from here on this is the server, the front's child */
    listen_front(srv);
    srv->pid = getpid();
    log_init(srv->program->name, srv->pid);
  }
  kids_init(srv);
  verdict_init(srv);
  waiting_init(srv);
  srv->fast_path = !opt->remotehost && !opt->remoteinfo && opt->localname &&
                   opt->bannerlen <= FAST_BANNER_MAX;
  envb_init(&srv->env, environ);
  srv->path = getenv("PATH");
  signals_init(srv);
  loop_init(srv);
  listen_ready(srv);
  kids_start_reaper(srv);
  log_status(srv, 0);
}
