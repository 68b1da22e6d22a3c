#ifndef CLIENT_H
#define CLIENT_H
#include <stddef.h>
#include "addr.h"
#include "env.h"
#include "ident.h"
#include "names.h"
#include "tcpenv.h"

/* What tcpclient and tlsclient share: their common options, the
   connection (host "0" or "" is the local machine, the reference's two
   passes of timeouts), and the environment the program gets. */

struct client_options {
  int verbosity;            /* 0 -q, 1 -Q, 2 -v */
  int delay;                /* -d; -D sets TCP_NODELAY */
  int remotehost;           /* -h / -H */
  int remoteinfo;           /* -r / -R */
  int family;               /* -4, -6: AF_INET, AF_INET6; else AF_UNSPEC */
  unsigned long infotimeout;        /* -t */
  unsigned long conntimeout[2];     /* -T x+y */
  struct ip_addr localip;   /* -i */
  int havelocalip;
  unsigned localport;       /* -p */
  const char *localname;    /* -l */
  unsigned scope;           /* -I ifname: for link-local addresses */
};

/* The option letters of getopt's string; a program adds its own. */
#define CLIENT_OPTIONS "46dDvqQhHrRi:p:t:T:l:I:"

/* 0.88's defaults. */
void client_defaults(struct client_options *o);
/* Take option c (with arg): 0 done, -1 a bad argument (the usage), 1
   not one of CLIENT_OPTIONS. */
int client_option(struct client_options *o, int c, const char *arg);

/* Why client_connect failed. */
enum client_failure {
  CLIENT_RESOLVE,     /* errno: "temporarily unable to figure out IP address for HOST" */
  CLIENT_NOADDR,      /* "no IP address for HOST" */
  CLIENT_SOCKET,      /* errno: "unable to create socket" */
  CLIENT_BIND,        /* errno: "unable to bind socket" */
  CLIENT_UNREACHED    /* every address failed, each reported already */
};

/* Connect to host:port.  Each address that fails is reported with
   "PROG: unable to connect to IP port PORT: REASON" (unless -q).
   Returns the connected socket (blocking, close-on-exec, TCP_NODELAY
   with -D), or -1 with *why (and errno). */
int client_connect(const struct client_options *o, const char *host,
                   unsigned port, enum client_failure *why);
/* The words of the programs' message for why (host follows the first
   two). */
const char *client_failure_text(enum client_failure why);

/* The program's TCP environment for the connection fd, gathered in the
   reference's order (local name, the -v line "PROG: connected to IP
   port PORT", remote name, remote info) and applied to e.  0; -1 or -3
   when the socket's local or remote address cannot be had (errno); -2
   out of memory. */
int client_environment(int fd, const struct client_options *o, struct envb *e);

/* Why a client cannot go on, in the words of its message:
   "PROG: fatal: WHAT ARG" (and ": REASON" from errno when sys);
   what NULL: reported already (every address failed), exit 111. */
struct client_stop {
  const char *what, *arg;
  int sys;
};

/* The operands host, port and program of argv (after the options):
   0; -1 one is missing (the usage); -2 the port has no number (*stop
   says so). */
int client_operands(char **argv, const char **host, unsigned *port,
                    char ***prog, struct client_stop *stop);

/* Connect to host:port and gather the program's environment on top of
   base: the socket and *env, or -1 with *stop. */
int client_open(const struct client_options *o, const char *host, unsigned port,
                char **base, char ***env, struct client_stop *stop);
#endif
