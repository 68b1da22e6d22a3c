/* libFuzzer target: the per-client limit tables (children, conncount,
   ratelimit) driven the way the server drives them, checked against
   plain models after every step.  Input: a byte of sizes, then steps of
   three bytes (operation, argument, argument):
     0 accept: a child of pid 1 + a % 64 for client b (IPv4 or IPv6),
       counted under its address, its /24 (/48) and a rule's prefix;
     1 end: the child of pid 1 + a % 64 ends, its counts drop;
     2 walk: every child is seen once;
     3 connection of client a % 32 for the rate limit, b ms later.
   Checks: counts are exactly those of the live children; the child table
   agrees with a list of pids; a new rate key is always allowed, a known
   one exactly when its model bucket holds a token; a key is forgotten
   only to make room for a new one and, in a table of one group, only
   when no remaining bucket holds more tokens. */
// needs: src/lib/children.c src/lib/conncount.c src/lib/ratelimit.c src/lib/clientkey.c src/lib/siphash.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "children.h"
#include "conncount.h"
#include "ratelimit.h"

#define KEYS_PER_CHILD 3
#define CHILDREN_CAP_MAX 16
#define RATE_KEYS 32

static const struct siphash_key seed = { 0x1111, 0x2222 };

struct model_child { pid_t pid; struct clientkey keys[KEYS_PER_CHILD]; };

static struct {
  struct children *ch;
  struct conncount *cc;
  struct ratelimit *rl;
  size_t cap;
  struct model_child live[CHILDREN_CAP_MAX];
  size_t nlive;
  /* The rate model: each key's bucket as the table must see it. */
  int known[RATE_KEYS];
  uint64_t micro[RATE_KEYS];
  int64_t last[RATE_KEYS];
  int64_t now;
  uint64_t rate, full;
} m;

static void check(int cond)
{
  if (!cond) abort();
}

static struct ip_addr client_ip(unsigned b)
{
  struct ip_addr ip;
  memset(&ip, 0, sizeof ip);
  if (b & 0x80) {
    ip.family = AF_INET6;
    ip.a[0] = 0x20;
    ip.a[1] = 0x01;
    ip.a[5] = (unsigned char) (b >> 5 & 3);    /* a few /48s */
    ip.a[7] = (unsigned char) (b >> 3 & 3);    /* a few /64s in each */
    ip.a[15] = (unsigned char) (b & 7);
  } else {
    ip.family = AF_INET;
    ip.a[0] = 10;
    ip.a[2] = (unsigned char) (b >> 3 & 7);    /* a few /24s */
    ip.a[3] = (unsigned char) (b & 7);
  }
  return ip;
}

static void child_keys(unsigned b, struct clientkey *keys)
{
  struct ip_addr ip = client_ip(b);
  int v6 = ip.family == AF_INET6;
  check(clientkey_make(&keys[0], &ip, v6 ? 64 : 32) == 0);
  check(clientkey_make(&keys[1], &ip, v6 ? 48 : 24) == 0);
  /* A rule's network: sometimes equal to one of the others. */
  unsigned rule[4] = { 0, 16, 24, 32 };
  check(clientkey_make(&keys[2], &ip, v6 ? rule[b & 3] * 2 : rule[b & 3]) == 0);
}

static size_t model_find(pid_t pid)
{
  for (size_t i = 0; i < m.nlive; i++)
    if (m.live[i].pid == pid) return i;
  return m.nlive;
}

/* Each child counts each distinct key of its own once. */
static unsigned long model_count(const struct clientkey *k)
{
  unsigned long n = 0;
  for (size_t i = 0; i < m.nlive; i++)
    for (int j = 0; j < KEYS_PER_CHILD; j++)
      if (clientkey_equal(&m.live[i].keys[j], k)) {
        n++;
        break;
      }
  return n;
}

static void check_counts(void)
{
  size_t distinct = 0;
  for (size_t i = 0; i < m.nlive; i++)
    for (int j = 0; j < KEYS_PER_CHILD; j++) {
      const struct clientkey *k = &m.live[i].keys[j];
      check(conncount_get(m.cc, k) == model_count(k));
      /* Count k once: at its first appearance. */
      int first = 1;
      for (size_t i2 = 0; i2 <= i && first; i2++)
        for (int j2 = 0; j2 < (i2 == i ? j : KEYS_PER_CHILD); j2++)
          if (clientkey_equal(&m.live[i2].keys[j2], k)) first = 0;
      distinct += first;
    }
  check(conncount_live(m.cc) == distinct);
  check(children_count(m.ch) == m.nlive);
}

static void accept_child(pid_t pid, unsigned b)
{
  struct clientkey keys[KEYS_PER_CHILD];
  child_keys(b, keys);
  size_t at = model_find(pid);
  if (at < m.nlive) {
    check(children_add(m.ch, pid) == NULL);
    return;
  }
  if (m.nlive >= m.cap) {
    check(children_add(m.ch, pid) == NULL);
    return;
  }
  /* Sized limit * keys, the table can never be full. */
  check(conncount_inc_all(m.cc, keys, KEYS_PER_CHILD) == 0);
  struct child_entry *c = children_add(m.ch, pid);
  check(c != NULL && c->pid == pid);
  memcpy(c->keys, keys, sizeof keys);
  c->nkeys = KEYS_PER_CHILD;
  c->ip = client_ip(b);
  m.live[m.nlive].pid = pid;
  memcpy(m.live[m.nlive].keys, keys, sizeof keys);
  m.nlive++;
}

static void end_child(pid_t pid)
{
  struct child_entry gone;
  size_t at = model_find(pid);
  if (at == m.nlive) {
    check(children_remove(m.ch, pid, &gone) == -1);
    return;
  }
  check(children_remove(m.ch, pid, &gone) == 0);
  check(gone.pid == pid && gone.nkeys == KEYS_PER_CHILD);
  check(memcmp(gone.keys, m.live[at].keys, sizeof m.live[at].keys) == 0);
  check(conncount_dec_all(m.cc, gone.keys, gone.nkeys) == 0);
  m.live[at] = m.live[--m.nlive];
}

static void walk(void)
{
  size_t seen = 0;
  for (size_t i = 0; i < children_count(m.ch); i++) {
    const struct child_entry *c = children_at(m.ch, i);
    check(c && model_find(c->pid) < m.nlive);
    seen++;
  }
  check(seen == m.nlive && !children_at(m.ch, seen));
}

static struct clientkey rate_key(unsigned i)
{
  struct ip_addr ip;
  struct clientkey k;
  ip_set_v4(&ip, 192, 0, 2, (unsigned char) i);
  check(clientkey_make(&k, &ip, 32) == 0);
  return k;
}

static uint64_t model_tokens(unsigned i)
{
  uint64_t gain = (uint64_t) (m.now - m.last[i]) * m.rate;
  return m.micro[i] + gain > m.full ? m.full : m.micro[i] + gain;
}

static void rate_take(unsigned i, unsigned wait)
{
  struct clientkey k = rate_key(i);
  uint64_t before[RATE_KEYS];
  m.now += wait;
  /* The table agrees with the model for every key it still holds. */
  for (unsigned j = 0; j < RATE_KEYS; j++) {
    struct clientkey kj = rate_key(j);
    uint64_t micro;
    if (!m.known[j]) {
      check(ratelimit_peek(m.rl, &kj, m.now, &micro) == -1);
      continue;
    }
    before[j] = model_tokens(j);
    check(ratelimit_peek(m.rl, &kj, m.now, &micro) == 0 && micro == before[j]);
  }
  int was_known = m.known[i];
  int allowed = ratelimit_take(m.rl, &k, m.now);
  check(allowed == (was_known ? before[i] >= RATELIMIT_TOKEN : 1));
  m.micro[i] = (was_known ? before[i] : m.full) - (allowed ? RATELIMIT_TOKEN : 0);
  m.last[i] = m.now;
  m.known[i] = 1;
  /* At most one key forgotten, only for a new one. */
  int forgotten = -1;
  for (unsigned j = 0; j < RATE_KEYS; j++) {
    struct clientkey kj = rate_key(j);
    uint64_t micro;
    if (m.known[j] && ratelimit_peek(m.rl, &kj, m.now, &micro) < 0) {
      check(!was_known && forgotten < 0 && j != i);
      forgotten = (int) j;
      m.known[j] = 0;
    }
  }
  check(ratelimit_used(m.rl) <= ratelimit_buckets(m.rl));
  if (forgotten < 0 || ratelimit_buckets(m.rl) != RATELIMIT_WAYS) return;
  for (unsigned j = 0; j < RATE_KEYS; j++)
    if (m.known[j] && j != i) check(before[j] <= before[forgotten]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1) return 0;
  memset(&m, 0, sizeof m);
  m.cap = 1 + data[0] % CHILDREN_CAP_MAX;
  unsigned long rate = 1 + (unsigned long) (data[0] >> 4) * 250;   /* 0.001..3.751/s */
  unsigned long burst = 1 + (data[0] >> 6);
  m.rate = rate;
  m.full = (uint64_t) burst * RATELIMIT_TOKEN;
  m.ch = children_new(m.cap, &seed);
  m.cc = conncount_new(m.cap * KEYS_PER_CHILD, &seed);
  m.rl = ratelimit_new(data[0] & 8 ? 8 : 16, rate, burst, &seed);
  check(m.ch && m.cc && m.rl);
  for (size_t p = 1; p + 3 <= size; p += 3) {
    unsigned op = data[p] % 4, a = data[p + 1], b = data[p + 2];
    pid_t pid = (pid_t) (1 + a % 64);
    switch (op) {
    case 0: accept_child(pid, b); break;
    case 1: end_child(pid); break;
    case 2: walk(); break;
    default: rate_take(a % RATE_KEYS, b * 16u); break;
    }
    check_counts();
  }
  while (m.nlive) end_child(m.live[0].pid);
  check(conncount_live(m.cc) == 0 && children_count(m.ch) == 0);
  children_free(m.ch);
  conncount_free(m.cc);
  ratelimit_free(m.rl);
  return 0;
}
