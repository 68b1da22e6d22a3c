#include <string.h>
#include "tcpenv.h"

/* "TCP" or "TCP6" + suffix, in buf (suffixes are short and fixed). */
static const char *var_name(char *buf, int v6, const char *suffix)
{
  size_t n = strlen(suffix);
  memcpy(buf, v6 ? "TCP6" : "TCP", v6 ? 4 : 3);
  memcpy(buf + (v6 ? 4 : 3), suffix, n + 1);
  return buf;
}

/* Set (or remove) TCPsuffix to value, and TCP6suffix to value6 (the
   same, or the IPv4-mapped form) when twins; TCP6suffix is removed
   otherwise, so that nothing stale is inherited. */
static int put_twins(struct envb *e, int twins, const char *suffix,
                     const char *value, size_t len,
                     const char *value6, size_t len6)
{
  char name[32];
  if (strlen(suffix) > sizeof name - 5) return -1;
  for (int six = 0; six <= 1; six++) {
    var_name(name, six, suffix);
    if (value && (!six || twins)) {
      if (envb_setn(e, name, strlen(name), six ? value6 : value,
                    six ? len6 : len) < 0) return -1;
    } else {
      envb_unset(e, name);
    }
  }
  return 0;
}

static int put_pair(struct envb *e, int v6, const char *suffix,
                    const char *value, size_t len)
{
  return put_twins(e, v6, suffix, value, len, value, len);
}

int tcpenv_apply_one(struct envb *e, int family, const char *name,
                     const char *value)
{
  return put_pair(e, family == AF_INET6, name, value,
                  value ? strlen(value) : 0);
}

/* The TCP6 twin of an IPv4 address is its mapped form. */
static int put_addr(struct envb *e, int twins, const char *suffix,
                    const struct ip_addr *ip)
{
  char buf[IP_FMT_SIZE], buf6[IP_FMT_SIZE];
  struct ip_addr mapped = *ip;
  ip_v4mapped(&mapped);
  return put_twins(e, twins, suffix, buf, ip_format(ip, buf),
                   buf6, ip_format(&mapped, buf6));
}

static int put_port(struct envb *e, int v6, const char *suffix, unsigned port)
{
  char buf[24];
  size_t n = fmt_ulong(buf, port);
  return put_pair(e, v6, suffix, buf, n);
}

/* The interface of a link-local connection, for TCP6INTERFACE. */
static int put_interface(struct envb *e, int v6, const struct tcpenv *t)
{
  char name[IP_FMT_SIZE];
  size_t n = 0;
  if (v6) {
    const struct ip_addr *scoped = t->remote.scope ? &t->remote : &t->local;
    if (scoped->scope) n = ip_scope_name(scoped, name);
  }
  if (!n) {
    envb_unset(e, "TCP6INTERFACE");
    return 0;
  }
  return envb_setn(e, "TCP6INTERFACE", 13, name, n);
}

const struct ip_addr *tcpenv_shown(const struct ip_addr *ip,
                                   enum tcpenv_form form,
                                   struct ip_addr *buf)
{
  if (ip->family != AF_INET || form != TCPENV_MAPPED) return ip;
  *buf = *ip;
  ip_v4mapped(buf);
  return buf;
}

int tcpenv_apply(struct envb *e, const struct tcpenv *t)
{
  return tcpenv_apply_form(e, t, TCPENV_PLAIN);
}

int tcpenv_apply_form(struct envb *e, const struct tcpenv *t,
                      enum tcpenv_form form)
{
  struct ip_addr lbuf, rbuf;
  const struct ip_addr *local = tcpenv_shown(&t->local, form, &lbuf);
  const struct ip_addr *remote = tcpenv_shown(&t->remote, form, &rbuf);
  int v6 = remote->family == AF_INET6;
  int twins = v6 || form == TCPENV_COPIES;
  int fam = twins ? AF_INET6 : AF_INET;
  if (envb_setn(e, "PROTO", 5, v6 ? "TCP6" : "TCP", v6 ? 4 : 3) < 0)
    return -1;
  if (put_addr(e, twins, "LOCALIP", local) < 0) return -1;
  if (put_port(e, twins, "LOCALPORT", t->localport) < 0) return -1;
  if (tcpenv_apply_one(e, fam, "LOCALHOST", t->localhost) < 0) return -1;
  if (put_addr(e, twins, "REMOTEIP", remote) < 0) return -1;
  if (put_port(e, twins, "REMOTEPORT", t->remoteport) < 0) return -1;
  if (tcpenv_apply_one(e, fam, "REMOTEHOST", t->remotehost) < 0) return -1;
  if (tcpenv_apply_one(e, fam, "REMOTEINFO", t->remoteinfo) < 0) return -1;
  return put_interface(e, t->remote.family == AF_INET6, t);
}

/* 0.88 and ucspi-tcp-ipv6 both took "0" and "" for the any address. */
static int is_zero_host(const char *host)
{
  return !*host || !strcmp(host, "0");
}

void tcpenv_bind_plan(const char *host, int option, const char *compat,
                      struct tcpenv_bind *b)
{
  struct ip_addr ip;
  int v6style = compat && *compat && strcmp(compat, "0");
  int dual = ip_parse(host, &ip) == 0 && ip.family == AF_INET6 &&
             ip_is_any(&ip) && !ip.scope;
  b->any = 0;
  b->family = option ? option : AF_UNSPEC;
  b->v6only = option == AF_INET6 || !dual;
  b->form = option == AF_INET6 ? TCPENV_MAPPED
          : option == AF_INET || v6style ? TCPENV_COPIES : TCPENV_PLAIN;
  if (is_zero_host(host)) {
    int six = option == AF_INET6 || (!option && v6style);
    b->any = six ? AF_INET6 : AF_INET;
    b->v6only = 0;
  } else if (dual && option != AF_INET) {
    b->any = AF_INET6;
  }
}