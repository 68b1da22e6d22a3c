/* The server core: what tcpserver's files share, and what a second
   server program (tlsserver) adds through struct server_program.

   A connection travels the files in this order:
     options.c   the options, read once (struct options)
     listen.c    the listening socket: bound here, passed by systemd or
                 on descriptor 0; readiness; privileges
     front.c     -G: the process started stays a front, the server is
                 its child (restarts that refuse no connection)
     signals.c   SIGCHLD, SIGTERM (the drain), SIGHUP (a reload)
     loop.c      the event loop: accept, the one admission gate, the drain
     waiting.c   connections not yet admitted: PROXY headers still
                 arriving, second looks after a limit
     verdict.c   rules, names, limits, the environment
     child.c     the child: what it closes, vfork, fork or the program's
                 spawn, exec
     launch.c    the fast launch: clone sharing the memory until exec
     kids.c      the children ledger, reaping
     log.c       the only writer to descriptor 2 once serving
   Dependencies run one way: main → setup → loop → child → verdict →
   {kids, signals} → {log, listen, waiting, options, launch}, and
   everything reads this header. */
#ifndef SERVER_H
#define SERVER_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include "addr.h"
#include "front.h"
#include "children.h"
#include "clientcount.h"
#include "clientkey.h"
#include "env.h"
#include "ident.h"
#include "launch.h"
#include "names.h"
#include "proxy.h"
#include "proxywait.h"
#include "ratelimit.h"
#include "reaper.h"
#include "rules.h"
#include "rulevars.h"
#include "tcpenv.h"

/* The options, as parsed; read-only from then on. */
struct options {
  int verbosity;                 /* -q 0, -Q 1, -v 2 */
  unsigned long limit, backlog, timeout;
  const char *rules;             /* -x */
  int rules_optional;            /* -X */
  const char *banner;
  size_t bannerlen;
  const char *localname;         /* -l; NULL: look it up */
  int remotehost, paranoid, remoteinfo;
  int killopts, nodelay, printport;
  unsigned long uid, gid;        /* 0: keep */
  int family;                    /* -4 AF_INET, -6 AF_INET6, else 0 */
  struct tcpenv_bind bind;       /* what host, -4/-6 and UCSPI_TCP_IPV6 mean */
  const char *ifname;            /* -I */
  int reuseport;                 /* -S */
  unsigned long client_limit;    /* -C n; 0: none */
  const char *client_msg;        /* -C n:message; NULL: none */
  unsigned v4prefix, v6prefix;   /* -L: the prefixes that make one client */
  unsigned long rate_milli, burst;  /* -F rate/burst; 0: none */
  const char *rate_msg;          /* -F ...:message */
  unsigned long proxy_ms;        /* -W: how long a PROXY header may take */
  int socket_on_0;               /* -0: serve the listening socket on fd 0 */
  int notify_fd;                 /* -N fd: s6's notification fd; -1 none */
  unsigned long drain_ms, kill_ms;  /* -G x+y; drain_ms 0: 0.88's SIGTERM */
  char **prog;
};

struct server;
struct conn;

/* What a server program adds to the core; tcpserver adds nothing. */
struct server_program {
  const char *name;              /* in messages and log lines */
  const char *usage;             /* on a usage error: 0.88's line */
  const char *help;              /* --help: every option */
  const char *options;           /* option letters beyond tcpserver's */
  /* One of those letters: 0, or -1 for a usage error. */
  int (*option)(struct server *srv, int letter, const char *arg);
  /* In the child, once the connection is on descriptors 0 and 1, the
     environment ready and the signals restored, instead of exec'ing
     the program; never returns.  NULL: exec.  A program with run is
     always forked, never vforked. */
  void (*run)(struct server *srv, struct conn *c);
  /* In the parent, for an admitted connection, instead of forking its
     child: start it some other way (tlsserver: through a helper
     process that has the server's memory already, so that the parent
     pays no fork).  The child must be the parent's own child, and must
     do what child_run does.  Returns its pid; -1 with errno, and the
     connection is dropped; 0: not taken, the core forks as without
     spawn.  NULL: the core forks.  Not called on the vfork path (a
     program without run). */
  pid_t (*spawn)(struct server *srv, struct conn *c);
  /* A child that was no connection (not counted: a helper of the
     program's) was reaped, silently.  NULL: nothing to tell. */
  void (*helper_ended)(struct server *srv, pid_t pid);
  /* SIGHUP, in the parent between two events.  NULL: SIGHUP keeps its
     default action (the server ends), as in 0.88. */
  void (*reload)(struct server *srv);
  void *state;                   /* the program's own */
};

/* What an epoll event is about. */
#define LISTEN_TAG UINT64_MAX
#define PENDING_TAG (1ull << 62)  /* | the PROXY slot */
#define CHILDREN_TAG (1ull << 61) /* the reaper's socket */
#define TERM_TAG (1ull << 60)     /* the self-pipe of the signals */
#define FRONT_TAG (1ull << 59)    /* -G: the line to the front */

/* Connections waiting for their PROXY header at most; a new one beyond
   drops the oldest, so that silent connections can only hasten each
   other's end. */
#define PENDING_MAX 1024
/* A connection at a concurrency limit is looked at again this much
   later before it is refused: the program that made it the client's
   last one too many may be ending (its socket closed, the client
   already connecting again) while the server cannot reap it yet. */
#define SECOND_LOOK_MS 20
#define SECOND_LOOK_MAX 1024

/* ---- one connection ---- */

/* What is known about the peer. */
struct peer {
  int fd;
  struct ip_addr local, remote;
  unsigned localport, remoteport;
  int local_known;
  const char *localhost, *remotehost, *remoteinfo;
  char remotehost_buf[NAMES_MAX + 1], localhost_buf[NAMES_MAX + 1];
  char info_buf[IDENT_INFO_MAX + 1];
  /* The keys it is counted under: the client, its /24 or /48, the
     networks rules track. */
  struct clientkey keys[CHILD_KEYS_MAX];
  unsigned nkeys;
  int second_look;               /* looked at again after a limit */
  /* Behind a proxy: its address (and ours as it reached us), the header. */
  int proxied;
  struct ip_addr proxy_ip, proxy_local;
  unsigned proxy_port, proxy_localport;
  struct proxy_header proxy;
};

enum outcome { OUT_OK, OUT_DENY, OUT_DROP, OUT_LIMIT };

/* Which limit refused a connection; limit_names[] spells them in the
   log line. */
enum limit_kind { LIMIT_CLIENT, LIMIT_RATE, LIMIT_MAXCONNIP, LIMIT_MAXCONNC,
                  LIMIT_MAXCONNNET };
extern const char *const limit_names[];

/* What was decided about it. */
struct verdict {
  enum outcome outcome;
  const char *drop_what, *drop_arg;   /* OUT_DROP */
  int drop_err;
  char **envp;                        /* OUT_OK: the program's */
  struct rules_found found;      /* the rule's record, until the next look-up */
  int rule_found;
  int address_rule_known;        /* found is the rule of the address alone */
  struct rulevars rule;          /* what the rule says to the server */
  struct clientkey rule_net;     /* MAXCONNNET's network */
  int rule_has_net;
  enum limit_kind limit;              /* OUT_LIMIT */
  unsigned long limit_count, limit_max;
  const char *limit_msg;
  size_t limit_msglen;
};

struct conn {
  struct peer peer;
  struct verdict v;
};

/* A connection held back: for its second look, or for a place. */
struct second_look {
  long long when;
  struct peer peer;
};

/* ---- the server ---- */

struct server {
  struct options opt;
  const struct server_program *program;
  pid_t pid;
  int listen_fd;
  struct ip_addr bound_ip;
  unsigned bound_port;
  int fast_path;                 /* no lookups: the parent prepares, vfork */
  struct envb env;
  struct rules_db rules;
  struct clientcount clients;    /* the children, counted (-C or -x) */
  size_t children_cap;
  struct ratelimit *rates;       /* the token buckets of -F, MAXCONNRATE */
  /* The reaper says which child ended, so reaping never walks every
     child: waitpid(-1) costs the kernel a walk of all children each
     time, which made a server with thousands of connections slow for
     all of them. */
  struct reaper reaper;
  size_t unwatched;              /* children the reaper does not watch */
  size_t kept;                   /* of those, kept from it while few live */
  int epfd;                      /* the listening socket, reaper, headers */
  int accepting;                 /* the listening socket is in epfd */
  int listener_stuck;            /* it should be, but epoll refused it */
  struct rlimit nofile;          /* as found, restored for the program */
  int nofile_raised;
  sigset_t startup_mask;         /* restored in the children */
  sigset_t waiting_mask;         /* inside epoll_pwait: TERM, CHLD open */
  sigset_t watched_mask;         /* the same with CHLD blocked */
  /* Connections from trusted proxies whose PROXY header has not fully
     arrived: read as it comes, never waited for, in order of arrival
     (which is the order of their deadlines). */
  struct proxywait pending;
  /* Connections held: for a second look after a limit, or for a place
     under -c (oldest first). */
  struct second_look *looks;     /* SECOND_LOOK_MAX, allocated on first use */
  size_t looks_first, nlooks;
  int draining;                  /* -G: SIGTERM came, no more accepting */
  int drain_stage;               /* 0 waiting, 1 TERM sent, 2 KILL sent */
  long long drain_next;          /* when the next stage starts (ms) */
  struct front front;            /* -G: the line to the front; fd -1: none */
  int helper_fd;                 /* a program's line to a helper of its
                                    own: closed in every child; -1 none */
  /* Helpers (children that are not connections) told to end and not
     reaped yet: until then SIGCHLD reaps by waitpid(-1). */
  size_t helpers_ending;
  /* Children started while many live, looked at DEFER_MS later (kids.c),
     oldest first; allocated on first use. */
  struct deferred { pid_t pid; long long since; } *deferred;
  size_t defer_first, ndeferred;
  struct launch launch;          /* the fast launch's slots */
  const char *path;              /* $PATH, for the fast launch's search */
};

/* An impossible state: the server says where and ends (111), rather
   than go on with its counts wrong. */
#define X(cond) ((cond) ? (void) 0 : server_impossible(__FILE__, __LINE__, #cond))
_Noreturn void server_impossible(const char *file, int line, const char *what);

/* setup.c: everything between the options and the loop. */
void server_setup(struct server *srv);

/* options.c */
void options_parse(struct server *srv, const struct server_program *p,
                   int argc, char **argv);

/* listen.c */
void listen_setup(struct server *srv, const char *host, const char *port);
/* -G: fork the server; returns in the server, the front never returns. */
void listen_front(struct server *srv);
void listen_ready(struct server *srv);

/* signals.c */
void signals_init(struct server *srv);
int signals_wake_fd(void);
/* What came since the last call: SIG_TERM_BIT, SIG_HUP_BIT, SIG_CHLD_BIT;
   pipe_readable: the wake pipe was seen readable (it is emptied then). */
#define SIG_TERM_BIT 1
#define SIG_HUP_BIT 2
#define SIG_CHLD_BIT 4
int signals_take(int pipe_readable);
void signals_close(void);
void signals_for_child(const struct server *srv);
void signals_for_program(const struct server *srv);
/* The signals signals_for_program sets back to SIG_DFL, into sigs (room
   for 5), 0 after the last. */
void signals_handled(const struct server *srv, int *sigs);

/* log.c */
void log_init(const char *prog, pid_t server);
/* From now on a logger that reads nothing is not waited for (the drain). */
void log_stop_waiting(void);
void log_status(const struct server *srv, size_t n);
void log_end(const struct server *srv, pid_t pid, int status);
void log_pid(pid_t pid, const struct peer *p);
void log_proxy(pid_t pid, const struct peer *p);
void log_verdict(pid_t pid, const struct conn *c);
void log_limit(const struct options *opt, pid_t pid, const struct conn *c);
void log_drain(const struct options *opt, const char *what, size_t n,
               const char *tail);
/* A line a server program made itself (tlsserver's "tls" lines), whole,
   through the same writer; the line end is added. */
struct logline;
void log_line(struct logline *l);
/* "PROG: warning: " parts "\n", through the same writer, unless -q. */
#define log_warn(opt, ...) log_warn_parts(opt, (const char *const[]) { __VA_ARGS__, (const char *) 0 })
void log_warn_parts(const struct options *opt, const char *const *parts);
/* 0.88's per-connection warning: "dropping connection, WHAT ARG: REASON". */
void log_drop(const struct options *opt, const char *what, const char *arg, int err);

/* kids.c */
void kids_init(struct server *srv);
void kids_start_reaper(struct server *srv);
size_t kids_live(const struct server *srv);
void kids_add(struct server *srv, pid_t pid, const struct peer *p);
void kids_reap_ready(struct server *srv);
/* The children deferred from the reaper whose time has come (all: every
   one): each reaped if it ended, else watched. */
void kids_settle(struct server *srv, int all);
/* ms, or less: when the oldest deferred child is due. */
int kids_timeout_ms(const struct server *srv, int ms);
void kids_reap_any(struct server *srv);
void kids_reaper_news(struct server *srv);
void kids_flush(struct server *srv);
void kids_signal(const struct server *srv, int sig);
/* A child not in the ledger is a helper of the program's: it is reaped
   without an end line or a change of the counts.  n helpers were told
   to end: reap them when they do, also while the reaper watches every
   connection. */
void kids_helpers_ending(struct server *srv, size_t n);
/* SIGCHLD must end the wait: some child is reaped by waitpid(-1). */
int kids_by_signal(const struct server *srv);
/* Live connections under key, this very moment: at the limit, first
   reap what has ended (in a forked child: not counting the children
   that ended, which the child cannot reap). */
unsigned long kids_count(struct server *srv, const struct clientkey *key,
                         unsigned long limit, int in_parent, int is_net);

/* verdict.c */
void verdict_init(struct server *srv);
void verdict_address_rule(struct server *srv, struct conn *c);
void verdict_concurrency(struct server *srv, struct conn *c, int in_parent);
void verdict_rate(struct server *srv, struct conn *c);
void verdict_prepare(struct server *srv, struct conn *c);
int verdict_local_address(struct peer *p);

/* child.c */
pid_t child_spawn(struct server *srv, struct conn *c);
/* A process forked from the server for connections: close what is the
   server's (the listening socket, epoll, the reaper's socket, the
   signals' pipe, -G's line, the waiting connections, helper_fd), once;
   the descriptors are marked closed in *srv. */
void child_close_server_fds(struct server *srv);
/* The child of one connection, in a process of its own whose server
   descriptors are closed (child_close_server_fds): what a forked child
   does, from the pid line to the program.  c->peer.fd is the
   connection; c holds what the parent decided (fast path) or the
   peer alone (slow path).  Never returns. */
_Noreturn void child_run(struct server *srv, struct conn *c);
void child_refuse(const struct server *srv, struct conn *c);

/* waiting.c */
void waiting_init(struct server *srv);
/* A connection whose PROXY header comes first: 1 when the whole header
   was there at once (c is then the client's connection, ready), else 0
   (it waits, watched, or it failed and is gone). */
int waiting_proxy_add(struct server *srv, const struct peer *p, unsigned accept,
                      struct conn *c);
int waiting_proxy_readable(struct server *srv, size_t slot, struct conn *c);
int waiting_look_later(struct server *srv, const struct peer *p);
void waiting_for_place(struct server *srv, const struct peer *p);
int waiting_timeout_ms(const struct server *srv, int ms, int place);
int waiting_next_due(struct server *srv, struct conn *c, int place);
void waiting_close_all(struct server *srv);
void waiting_close_fds(const struct server *srv);

/* loop.c */
void loop_init(struct server *srv);
void loop_admit(struct server *srv, struct conn *c);
_Noreturn void loop_serve(struct server *srv);
#endif
