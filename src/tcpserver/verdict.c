/* The verdict on a connection: its rule (-x), its names and ident (slow
   path only, in the forked child: they may block), its limits, and the
   environment of its program.  On the fast path the parent decides it
   all; on the slow path the parent decides what it can from the address
   alone (-C, the rate) and the child the rest.  The concurrency limits
   come before the rate, so that a connection refused, or held back for
   a second look, never spends its rate budget. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include "clock.h"
#include "msg.h"
#include "num.h"
#include "siphash.h"
#include "tcpenv.h"
#include "server.h"

/* Rate buckets: many more than children, so that a flood of addresses
   forgets the buckets of full (idle) clients, not the limited ones. */
#define RATE_BUCKETS_MIN 4096
#define RATE_BUCKETS_MAX (1ul << 20)

void verdict_init(struct server *srv)
{
  const struct options *opt = &srv->opt;
  if (opt->rate_milli || opt->rules) {
    struct siphash_key seed;
    size_t buckets = 8 * srv->children_cap;
    if (buckets < RATE_BUCKETS_MIN) buckets = RATE_BUCKETS_MIN;
    if (buckets > RATE_BUCKETS_MAX) buckets = RATE_BUCKETS_MAX;
    if (siphash_key_random(&seed) < 0) msg_fatal_sys("unable to set up the client tables");
    srv->rates = ratelimit_new(buckets, opt->rate_milli ? opt->rate_milli : 1000,
                               opt->rate_milli ? opt->burst : 1, &seed);
    if (!srv->rates) msg_fatal_sys("out of memory");
  }
  if (opt->rules &&
      rules_db_init(&srv->rules, opt->rules,
                    rules_keycap_for(IP_FMT_SIZE, NAMES_MAX, IDENT_INFO_MAX)) < 0)
    msg_fatal_sys("out of memory");
  /* The loop rechecks after each batch of accepts and each wait
     (loop.c): the connections of one batch see one rules file, as
     0.88's children of one moment did. */
  if (opt->rules) rules_db_batch(&srv->rules);
}

static void set_drop(struct verdict *v, const char *what, const char *arg, int err)
{
  v->outcome = OUT_DROP;
  v->drop_what = what;
  v->drop_arg = arg;
  v->drop_err = err;
}

static void set_limit(struct verdict *v, enum limit_kind kind, unsigned long count,
                      unsigned long max, const char *msg, size_t msglen)
{
  v->outcome = OUT_LIMIT;
  v->limit = kind;
  v->limit_count = count;
  v->limit_max = max;
  v->limit_msg = msg;
  v->limit_msglen = msglen;
}

int verdict_local_address(struct peer *p)
{
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (p->local_known) return 0;
  if (getsockname(p->fd, (struct sockaddr *) &ss, &len) < 0) return -1;
  ip_from_sockaddr((struct sockaddr *) &ss, &p->local, &p->localport);
  p->local_known = 1;
  return 0;
}

/* The lookups that may block: only ever in a forked child. */
static void look_up_names(const struct options *opt, struct peer *p)
{
  p->localhost = opt->localname;
  if (!p->localhost && names_reverse(&p->local, p->localhost_buf))
    p->localhost = p->localhost_buf;
  p->remotehost = NULL;
  if (opt->remotehost && names_remote(&p->remote, opt->paranoid, p->remotehost_buf))
    p->remotehost = p->remotehost_buf;
  p->remoteinfo = NULL;
  /* No ident through a proxy: the query would go to the client from an
     address that is not ours. */
  if (opt->remoteinfo && !p->proxied &&
      ident_lookup(&p->local, p->localport, &p->remote, p->remoteport,
                   (unsigned) clock_cap(opt->timeout), p->info_buf))
    p->remoteinfo = p->info_buf;
}

/* ---- limits ---- */

/* -C, from the parent's own counts. */
static int over_client_limit(struct server *srv, struct conn *c)
{
  unsigned long max = srv->opt.client_limit;
  if (!max || !c->peer.nkeys) return 0;
  unsigned long n = kids_count(srv, &c->peer.keys[0], max, 1, 0);
  if (n < max) return 0;
  const char *msg = srv->opt.client_msg;
  set_limit(&c->v, LIMIT_CLIENT, n, max, msg, msg ? strlen(msg) : 0);
  return 1;
}

/* The rule's MAXCONNIP, MAXCONNC, MAXCONNNET (not for a rule that
   denies: the deny is the verdict). */
static int over_rule_limits(struct server *srv, struct conn *c, int in_parent)
{
  const struct rulevars *r = &c->v.rule;
  const struct rules_found *f = &c->v.found;
  if (!c->v.rule_found || !rulevars_concurrent(r) || c->peer.nkeys < 2 ||
      rules_data_denies(f->data, f->datalen))
    return 0;
  static const enum limit_kind kinds[] = { LIMIT_MAXCONNIP, LIMIT_MAXCONNC, LIMIT_MAXCONNNET };
  const unsigned long maxes[] = { r->maxconnip, r->maxconnc,
                                  c->v.rule_has_net ? r->maxconnnet : 0 };
  const struct clientkey *keys[] = { &c->peer.keys[0], &c->peer.keys[1], &c->v.rule_net };
  for (int i = 0; i < 3; i++) {
    if (!maxes[i]) continue;
    unsigned long n = kids_count(srv, keys[i], maxes[i], in_parent, i == 2);
    if (n >= maxes[i]) {
      set_limit(&c->v, kinds[i], n, maxes[i], r->diemsg, r->diemsglen);
      return 1;
    }
  }
  return 0;
}

/* The limits on connections at once that can be decided here: in the
   parent -C, and on the fast path the rule's; in a forked child the
   rule's (its rule may name the client's host). */
void verdict_concurrency(struct server *srv, struct conn *c, int in_parent)
{
  if (in_parent && over_client_limit(srv, c)) return;
  if (in_parent && !srv->fast_path) return;
  over_rule_limits(srv, c, in_parent);
}

/* -F, or the rule's MAXCONNRATE: takes a token, in the parent. */
void verdict_rate(struct server *srv, struct conn *c)
{
  unsigned long rate = srv->opt.rate_milli, burst = srv->opt.burst;
  const char *msg = srv->opt.rate_msg;
  size_t len = msg ? strlen(msg) : 0;
  if (c->v.rule_found && c->v.rule.rate_milli) {
    rate = c->v.rule.rate_milli;
    burst = c->v.rule.burst;
    msg = c->v.rule.diemsg;
    len = c->v.rule.diemsglen;
  }
  if (!rate || !srv->rates) return;
  struct clientkey k;
  if (clientcount_client(&srv->clients, &c->peer.remote, &k) < 0) return;
  if (ratelimit_take_with(srv->rates, &k, clock_ms(), rate, burst) != 0) return;
  set_limit(&c->v, LIMIT_RATE, rate, burst, msg, len);
}

/* TCPCONNNUM: the client's connections at once, this one included; set
   where a limit applies (-C, or a rule with MAXCONN...). */
static void set_connnum(struct server *srv, const struct conn *c)
{
  if (!c->peer.nkeys || (!srv->opt.client_limit &&
                         !(c->v.rule_found && rulevars_concurrent(&c->v.rule))))
    return;
  char buf[FMT_ULONG];
  size_t n = fmt_ulong(buf, clientcount_get(&srv->clients, &c->peer.keys[0]) + 1);
  envb_setn(&srv->env, "TCPCONNNUM", 10, buf, n);
}

/* ---- rules ---- */

/* Look the rule up and read what it says to the server; the record
   stays in c->v.found until the next look-up.  -1 with errno on a read
   error. */
static int look_up_rule(struct server *srv, const struct rules_query *q, struct conn *c)
{
  struct verdict *v = &c->v;
  int r = rules_db_lookup(&srv->rules, q, &v->found);
  v->rule_found = r == 1;
  if (r <= 0) return r;
  rulevars_from_rule(v->found.data, v->found.datalen, &v->rule);
  v->rule_has_net = v->rule.maxconnnet &&
      rulevars_rule_network(v->found.key, v->found.keylen, &c->peer.remote,
                            &v->rule_net) == 0;
  return 1;
}

/* The rule's verdict, and its variables into the environment. */
static void use_rule(struct server *srv, struct conn *c)
{
  const struct rules_found *f = &c->v.found;
  if (!c->v.rule_found) return;
  if (rules_data_denies(f->data, f->datalen)) {
    c->v.outcome = OUT_DENY;
    return;
  }
  size_t pos = 0, len;
  const char *item;
  while (rules_data_next(f->data, f->datalen, &pos, &item, &len))
    if (memchr(item, '=', len)) envb_put(&srv->env, item, len);
}

/* Rules (-x).  Without names and ident the rule is that of the address
   alone, which the parent has looked up already. */
static void apply_rules(struct server *srv, struct conn *c, const char *ipstr)
{
  const struct peer *p = &c->peer;
  struct ip_addr shown;
  struct rules_query q = { tcpenv_shown(&p->remote, srv->opt.bind.form, &shown),
                           ipstr, p->remotehost, p->remoteinfo };
  if (!srv->opt.rules) return;
  if (!(c->v.address_rule_known && !p->remotehost && !p->remoteinfo) &&
      look_up_rule(srv, &q, c) < 0) {
    if (errno != ENOENT || !srv->opt.rules_optional)
      set_drop(&c->v, "unable to read ", srv->opt.rules, errno);
    return;
  }
  use_rule(srv, c);
}

/* The parent: the rule of the client's address alone (no names, no
   ident), for what the parent itself must decide (limits, a PROXY
   header).  A read error is left for verdict_prepare to report. */
void verdict_address_rule(struct server *srv, struct conn *c)
{
  char ipstr[IP_FMT_SIZE];
  struct ip_addr shown;
  const struct ip_addr *ip = tcpenv_shown(&c->peer.remote, srv->opt.bind.form, &shown);
  ip_format(ip, ipstr);
  struct rules_query q = { ip, ipstr, NULL, NULL };
  c->v.address_rule_known = srv->opt.rules && look_up_rule(srv, &q, c) >= 0;
}

/* ---- behind a proxy ---- */

/* What its header says beyond the addresses, bounded and made printable. */
static void put_proxy_value(struct envb *env, const char *name,
                            const struct proxy_value *v)
{
  char buf[PROXY_VALUE_MAX + 1];
  if (!v->present) {
    envb_unset(env, name);
    return;
  }
  size_t n = proxy_value_env(v, buf, sizeof buf);
  envb_setn(env, name, strlen(name), buf, n);
}

static void put_address(struct envb *env, const char *ipname, const char *portname,
                        const struct ip_addr *ip, unsigned port)
{
  char buf[IP_FMT_SIZE];
  size_t n = ip_format(ip, buf);
  envb_setn(env, ipname, strlen(ipname), buf, n);
  n = fmt_ulong(buf, port);
  envb_setn(env, portname, strlen(portname), buf, n);
}

static void proxy_env(struct envb *env, const struct peer *p)
{
  static const char *const ssl_names[] = { "PROXYSSL", "PROXYSSLVERSION",
                                           "PROXYSSLCN", "PROXYSSLCIPHER" };
  const struct proxy_header *h = &p->proxy;
  put_address(env, "PROXYREMOTEIP", "PROXYREMOTEPORT", &p->proxy_ip, p->proxy_port);
  put_address(env, "PROXYLOCALIP", "PROXYLOCALPORT", &p->proxy_local, p->proxy_localport);
  envb_set(env, "PROXYVERSION", h->version == 2 ? "2" : "1");
  put_proxy_value(env, "PROXYUNIQUEID", &h->unique_id);
  put_proxy_value(env, "PROXYAUTHORITY", &h->authority);
  put_proxy_value(env, "PROXYALPN", &h->alpn);
  if (h->has_ssl && (h->ssl_client & PROXY_SSL_CLIENT_SSL)) {
    envb_set(env, ssl_names[0], "1");
    put_proxy_value(env, ssl_names[1], &h->ssl_version);
    put_proxy_value(env, ssl_names[2], &h->ssl_cn);
    put_proxy_value(env, ssl_names[3], &h->ssl_cipher);
  } else {
    for (size_t i = 0; i < sizeof ssl_names / sizeof *ssl_names; i++)
      envb_unset(env, ssl_names[i]);
  }
}

/* Everything between the banner and the log line: local address, names,
   ident, rules, the rule's limits (in a forked child), the environment.
   In the parent (fast path) or in a forked child (slow path). */
void verdict_prepare(struct server *srv, struct conn *c)
{
  struct peer *p = &c->peer;
  char ipstr[IP_FMT_SIZE];
  c->v.outcome = OUT_OK;
  if (verdict_local_address(p) < 0) {
    set_drop(&c->v, "unable to get local address", "", errno);
    return;
  }
  if (srv->fast_path) {
    p->localhost = srv->opt.localname;
    p->remotehost = p->remoteinfo = NULL;
  } else {
    look_up_names(&srv->opt, p);
  }
  /* The client as the program and the rules see it (-6: ::ffff:a.b.c.d). */
  struct ip_addr shown;
  ip_format(tcpenv_shown(&p->remote, srv->opt.bind.form, &shown), ipstr);
  envb_reset(&srv->env);
  struct tcpenv t = { p->local, p->localport, p->remote, p->remoteport,
                      p->localhost, p->remotehost, p->remoteinfo };
  tcpenv_apply_form(&srv->env, &t, srv->opt.bind.form);
  if (p->proxied) proxy_env(&srv->env, p);
  apply_rules(srv, c, ipstr);
  if (c->v.outcome != OUT_OK) return;
  if (!srv->fast_path) {
    verdict_concurrency(srv, c, 0);   /* the slow path's child */
    if (c->v.outcome != OUT_OK) return;
  }
  set_connnum(srv, c);
  c->v.envp = envb_vec(&srv->env);
  if (!c->v.envp) set_drop(&c->v, "out of memory", "", 0);
}
