#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "rules.h"

/* ---- rule data ---- */

int rules_data_denies(const char *data, size_t len)
{
  size_t pos = 0;
  while (pos < len) {
    const char *end = memchr(data + pos, 0, len - pos);
    if (!end) return 0;
    if (data[pos] == 'D') return 1;
    pos = (size_t) (end - data) + 1;
  }
  return 0;
}

int rules_data_next(const char *data, size_t datalen, size_t *pos,
                    const char **item, size_t *len)
{
  while (*pos < datalen) {
    const char *start = data + *pos;
    const char *end = memchr(start, 0, datalen - *pos);
    if (!end || *start == 'D') {
      *pos = datalen;
      return 0;
    }
    *pos = (size_t) (end - data) + 1;
    if (*start == '+') {
      *item = start + 1;
      *len = (size_t) (end - start) - 1;
      return 1;
    }
  }
  return 0;
}

int rules_data_get(const char *data, size_t datalen, const char *name,
                   const char **value, size_t *len)
{
  size_t pos = 0, itemlen, namelen = strlen(name);
  const char *item;
  while (rules_data_next(data, datalen, &pos, &item, &itemlen))
    if (itemlen > namelen && item[namelen] == '=' &&
        memcmp(item, name, namelen) == 0) {
      *value = item + namelen + 1;
      *len = itemlen - namelen - 1;
      return 1;
    }
  return 0;
}

size_t rules_data_add_deny(char *buf, size_t len, size_t cap)
{
  if (len > cap || cap - len < 2) return (size_t) -1;
  buf[len] = 'D';
  buf[len + 1] = 0;
  return len + 2;
}

size_t rules_data_add_var(char *buf, size_t len, size_t cap,
                          const char *name, size_t namelen,
                          const char *value, size_t valuelen)
{
  if (len > cap || namelen > cap || valuelen > cap ||
      cap - len < 3 + namelen + valuelen) return (size_t) -1;
  buf[len++] = '+';
  memcpy(buf + len, name, namelen);
  len += namelen;
  buf[len++] = '=';
  memcpy(buf + len, value, valuelen);
  len += valuelen;
  buf[len++] = 0;
  return len;
}

/* ---- the prefix index ---- */

void rules_index_init(struct rules_index *ix)
{
  memset(ix, 0, sizeof *ix);
}

static void bit_set(unsigned char *map, unsigned n)
{
  map[n / 8] |= (unsigned char) (1u << (n % 8));
}

static int bit_isset(const unsigned char *map, unsigned n)
{
  return map[n / 8] >> (n % 8) & 1;
}

void rules_index_add(struct rules_index *ix, const char *key, size_t len,
                     int cidr_family, unsigned cidr_len)
{
  if (cidr_family == AF_INET && cidr_len <= 32) {
    bit_set(ix->v4, cidr_len);
    ix->flags |= RULES_HAS_CIDR;
  } else if (cidr_family == AF_INET6 && cidr_len <= 128) {
    bit_set(ix->v6, cidr_len);
    ix->flags |= RULES_HAS_CIDR;
  }
  if (len && key[len - 1] == '.') ix->flags |= RULES_HAS_DOT_END;
  if (memchr(key, '@', len)) ix->flags |= RULES_HAS_AT;
  if (len && key[0] == '=') ix->flags |= RULES_HAS_EQ;
  if (len > 1 && key[0] == '=' && key[1] == '.') ix->flags |= RULES_HAS_EQ_DOT;
}

/* Layout: "I1", a flags byte, the IPv4 map, the IPv6 map. */
void rules_index_encode(const struct rules_index *ix,
                        char out[RULES_INDEX_LEN])
{
  out[0] = 'I';
  out[1] = '1';
  out[2] = (char) ix->flags;
  memcpy(out + 3, ix->v4, sizeof ix->v4);
  memcpy(out + 3 + sizeof ix->v4, ix->v6, sizeof ix->v6);
}

/* What the lookup may skip.  No index: every text key kind, no CIDR (a
   0.88 file).  An index of an unknown layout: probe everything. */
static int index_load(struct cdb *c, struct rules_index *ix)
{
  rules_index_init(ix);
  int r = cdb_find(c, RULES_INDEX_KEY, RULES_INDEX_KEYLEN);
  if (r < 0) return -1;
  const unsigned char *d = NULL;
  if (r > 0 && cdb_datalen(c) >= RULES_INDEX_LEN)
    d = cdb_get(c, RULES_INDEX_LEN, cdb_datapos(c));
  if (d && d[0] == 'I' && d[1] == '1') {
    ix->flags = d[2];
    memcpy(ix->v4, d + 3, sizeof ix->v4);
    memcpy(ix->v6, d + 3 + sizeof ix->v4, sizeof ix->v6);
    return 0;
  }
  ix->flags = RULES_HAS_DOT_END | RULES_HAS_AT | RULES_HAS_EQ | RULES_HAS_EQ_DOT;
  if (r > 0) {
    memset(ix->v4, 0xff, sizeof ix->v4);
    memset(ix->v6, 0xff, sizeof ix->v6);
  }
  return 0;
}

/* ---- lookup ---- */

struct search {
  struct cdb *c;
  char *key;
  size_t cap;
  struct rules_found *f;
};

#define NO_ROOM SIZE_MAX

/* Append n bytes to the key being built at length at; NO_ROOM sticks. */
static size_t put(struct search *s, size_t at, const char *str, size_t n)
{
  if (at == NO_ROOM || n >= s->cap - at) return NO_ROOM;
  memcpy(s->key + at, str, n);
  return at + n;
}

static size_t puts_(struct search *s, size_t at, const char *str)
{
  return put(s, at, str, strlen(str));
}

/* Look key[0..len) up: 1 found (s->f filled), 0 not, -1 error. */
static int probe(struct search *s, size_t len)
{
  if (len == NO_ROOM) return 0;
  int r = cdb_find(s->c, s->key, (unsigned) len);
  if (r <= 0) return r;
  size_t dlen = cdb_datalen(s->c);
  const char *d = cdb_get(s->c, (unsigned) dlen, cdb_datapos(s->c));
  if (!d) {
    errno = EPROTO;
    return -1;
  }
  s->key[len] = 0;
  s->f->key = s->key;
  s->f->keylen = len;
  s->f->data = d;
  s->f->datalen = dlen;
  return 1;
}

/* 0.88's step: every prefix of ipstr that ends in '.', longest first. */
static int try_dotted(struct search *s, const char *ipstr)
{
  for (size_t n = strlen(ipstr); n > 0; n--) {
    if (ipstr[n - 1] != '.') continue;
    int r = probe(s, put(s, 0, ipstr, n));
    if (r) return r;
  }
  return 0;
}

static int try_cidr(struct search *s, const struct ip_addr *ip, unsigned len)
{
  struct ip_addr net = *ip;
  ip_mask(&net, len);
  char text[IP_FMT_SIZE + 8];
  size_t n = ip_format(&net, text);
  text[n++] = '/';
  n += fmt_ulong(text + n, len);
  return probe(s, put(s, 0, text, n));
}

/* Where ipstr's k-th dot is, for a dotted quad; 0 when it is not one. */
static int dotted_quad_dots(const char *ipstr, size_t dots[3])
{
  int k = 0;
  for (size_t i = 0; ipstr[i]; i++)
    if (ipstr[i] == '.') {
      if (k == 3) return 0;
      dots[k++] = i;
    }
  return k == 3;
}

/* The address prefixes, longest first; for IPv4 at each length the
   dotted prefix (a.b.c. is length 24) before the CIDR key. */
static int try_prefixes(struct search *s, const struct rules_query *q,
                        const struct ip_addr *ip, const struct rules_index *ix)
{
  int dotted = (ix->flags & RULES_HAS_DOT_END) != 0;
  size_t dots[3];
  if (ip && ip->family == AF_INET && dotted_quad_dots(q->ipstr, dots)) {
    for (unsigned len = 33; len-- > 0;) {
      if (dotted && len % 8 == 0 && len >= 8 && len <= 24) {
        int r = probe(s, put(s, 0, q->ipstr, dots[len / 8 - 1] + 1));
        if (r) return r;
      }
      if (bit_isset(ix->v4, len)) {
        int r = try_cidr(s, ip, len);
        if (r) return r;
      }
    }
    return 0;
  }
  if (dotted) {
    int r = try_dotted(s, q->ipstr);
    if (r) return r;
  }
  if (ip && ip->family == AF_INET6)
    for (unsigned len = 129; len-- > 0;)
      if (bit_isset(ix->v6, len)) {
        int r = try_cidr(s, ip, len);
        if (r) return r;
      }
  return 0;
}

/* "=" then each suffix of host starting with '.', longest first. */
static int try_host_suffixes(struct search *s, const char *host,
                             const struct rules_index *ix)
{
  if (ix->flags & RULES_HAS_EQ_DOT)
    for (const char *h = host; *h; h++)
      if (*h == '.') {
        int r = probe(s, puts_(s, put(s, 0, "=", 1), h));
        if (r) return r;
      }
  return probe(s, put(s, 0, "=", 1));
}

size_t rules_keycap_for(size_t ip, size_t host, size_t info)
{
  size_t need = IP_FMT_SIZE + 8;   /* a CIDR key */
  if (ip > need) need = ip;
  if (info + 1 + ip > need) need = info + 1 + ip;
  if (info + 2 + host > need) need = info + 2 + host;
  if (1 + host > need) need = 1 + host;
  return need + 1;
}

size_t rules_keycap(const struct rules_query *q)
{
  return rules_keycap_for(strlen(q->ipstr), q->host ? strlen(q->host) : 0,
                          q->info ? strlen(q->info) : 0);
}

int rules_find(struct cdb *c, const struct rules_query *q,
               char *key, size_t keycap, struct rules_found *f)
{
  struct search s = { c, key, keycap, f };
  struct rules_index ix;
  struct ip_addr parsed;
  const struct ip_addr *ip = q->ip;
  int r;
  if (!ip && ip_parse(q->ipstr, &parsed) == 0) ip = &parsed;
  if (index_load(c, &ix) < 0) return -1;

  if (q->info && (ix.flags & RULES_HAS_AT)) {
    size_t at = put(&s, puts_(&s, 0, q->info), "@", 1);
    if ((r = probe(&s, puts_(&s, at, q->ipstr)))) return r;
    if (q->host)
      if ((r = probe(&s, puts_(&s, put(&s, at, "=", 1), q->host)))) return r;
  }
  if ((r = probe(&s, puts_(&s, 0, q->ipstr)))) return r;
  int host_rules = q->host && (ix.flags & RULES_HAS_EQ);
  if (host_rules)
    if ((r = probe(&s, puts_(&s, put(&s, 0, "=", 1), q->host)))) return r;
  if ((r = try_prefixes(&s, q, ip, &ix))) return r;
  if (host_rules)
    if ((r = try_host_suffixes(&s, q->host, &ix))) return r;
  return probe(&s, 0);
}

/* ---- the database ---- */

/* The guard against SIGBUS from a file truncated under its mapping.  One
   lookup at a time per process, so one jump buffer serves. */
static sigjmp_buf fault_jump;
static volatile sig_atomic_t reading;

static void on_bus(int sig)
{
  if (reading) siglongjmp(fault_jump, 1);
  signal(sig, SIG_DFL);
  raise(sig);
}

static void guard_install(void)
{
  static int installed;
  struct sigaction sa;
  if (installed) return;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_bus;
  sa.sa_flags = SA_NODEFER;   /* so that sigsetjmp need not save the mask */
  sigaction(SIGBUS, &sa, NULL);
  installed = 1;
}

int rules_db_init(struct rules_db *db, const char *path, size_t keycap)
{
  memset(db, 0, sizeof *db);
  db->path = path;
  db->fd = -1;
  db->keycap = keycap;
  db->key = malloc(keycap);
  if (!db->key) {
    errno = ENOMEM;
    return -1;
  }
  guard_install();
  return 0;
}

void rules_db_close(struct rules_db *db)
{
  if (db->fd < 0) return;
  cdb_free(&db->cdb);
  close(db->fd);
  db->fd = -1;
}

void rules_db_free(struct rules_db *db)
{
  rules_db_close(db);
  free(db->key);
  free(db->data);
  db->key = db->data = NULL;
}

static int same_file(const struct stat *a, const struct stat *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
         a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
         a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec &&
         a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static int db_open(struct rules_db *db)
{
  int fd = open(db->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, &db->st) < 0 || cdb_init(&db->cdb, fd) < 0) {
    int e = errno;
    /* 0.88 fails to map an empty file and says so. */
    if (db->st.st_size == 0) e = EINVAL;
    close(fd);
    errno = e;
    return -1;
  }
  db->fd = fd;
  return 0;
}

/* The file now at the path, mapped: reopened only when it changed. */
static int db_refresh(struct rules_db *db)
{
  struct stat st;
  if (db->fd >= 0 && stat(db->path, &st) == 0 && same_file(&st, &db->st))
    return 0;
  rules_db_close(db);
  return db_open(db);
}

static int keep_data(struct rules_db *db, struct rules_found *f)
{
  if (f->datalen > db->datacap) {
    size_t cap = db->datacap ? db->datacap : 256;
    while (cap < f->datalen) cap *= 2;
    char *d = realloc(db->data, cap);
    if (!d) {
      errno = ENOMEM;
      return -1;
    }
    db->data = d;
    db->datacap = cap;
  }
  if (f->datalen) memcpy(db->data, f->data, f->datalen);
  f->data = db->data;
  return 0;
}

static int find_and_keep(struct rules_db *db, const struct rules_query *q,
                         struct rules_found *f)
{
  int r = rules_find(&db->cdb, q, db->key, db->keycap, f);
  if (r == 1 && keep_data(db, f) < 0) return -1;
  return r;
}

int rules_db_lookup(struct rules_db *db, const struct rules_query *q,
                    struct rules_found *f)
{
  int r;
  if (db_refresh(db) < 0) return -1;
  if (sigsetjmp(fault_jump, 0)) {   /* 0: no system call */
    reading = 0;
    rules_db_close(db);
    errno = EIO;
    return -1;
  }
  reading = 1;
  r = find_and_keep(db, q, f);
  reading = 0;
  if (r < 0) {   /* a corrupt file: look again at the next lookup */
    int e = errno;
    rules_db_close(db);
    errno = e;
  }
  return r;
}
