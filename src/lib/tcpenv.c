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

/* Set (or remove) TCPsuffix, and TCP6suffix for IPv6, removing TCP6suffix
   for IPv4 so that nothing stale is inherited. */
static int put_pair(struct envb *e, int v6, const char *suffix,
                    const char *value, size_t len)
{
  char name[32];
  if (strlen(suffix) > sizeof name - 5) return -1;
  for (int six = 0; six <= 1; six++) {
    var_name(name, six, suffix);
    if (value && (!six || v6)) {
      if (envb_setn(e, name, strlen(name), value, len) < 0) return -1;
    } else {
      envb_unset(e, name);
    }
  }
  return 0;
}

int tcpenv_apply_one(struct envb *e, int family, const char *name,
                     const char *value)
{
  return put_pair(e, family == AF_INET6, name, value,
                  value ? strlen(value) : 0);
}

static int put_addr(struct envb *e, int v6, const char *suffix,
                    const struct ip_addr *ip)
{
  char buf[IP_FMT_SIZE];
  size_t n = ip_format(ip, buf);
  return put_pair(e, v6, suffix, buf, n);
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

int tcpenv_apply(struct envb *e, const struct tcpenv *t)
{
  int v6 = t->remote.family == AF_INET6;
  if (envb_setn(e, "PROTO", 5, v6 ? "TCP6" : "TCP", v6 ? 4 : 3) < 0)
    return -1;
  if (put_addr(e, v6, "LOCALIP", &t->local) < 0) return -1;
  if (put_port(e, v6, "LOCALPORT", t->localport) < 0) return -1;
  if (tcpenv_apply_one(e, t->remote.family, "LOCALHOST", t->localhost) < 0)
    return -1;
  if (put_addr(e, v6, "REMOTEIP", &t->remote) < 0) return -1;
  if (put_port(e, v6, "REMOTEPORT", t->remoteport) < 0) return -1;
  if (tcpenv_apply_one(e, t->remote.family, "REMOTEHOST", t->remotehost) < 0)
    return -1;
  if (tcpenv_apply_one(e, t->remote.family, "REMOTEINFO", t->remoteinfo) < 0)
    return -1;
  return put_interface(e, v6, t);
}
