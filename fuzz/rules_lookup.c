/* libFuzzer target: rules_find on a cdb built from the input, with a
   hostile host name and ident info.  Input: "IP\nHOST\nINFO\n" then
   records "KEY\tDATA\n"; a HOST or INFO of exactly "-" means unknown.
   Checks: the match is a key of the cdb with the same data, the key is
   bounded and NUL-terminated, the data lies in the cdb. */
// needs: src/lib/rules.c
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "rules.h"

static int fd = -1;

/* Next line of the input, cut at '\n' (or the end). */
static const char *take_line(const char **p, const char *end, size_t *len)
{
  const char *s = *p, *nl = memchr(s, '\n', (size_t) (end - s));
  *len = (size_t) ((nl ? nl : end) - s);
  *p = nl ? nl + 1 : end;
  return s;
}

static char *dup_line(const char *s, size_t len)
{
  char *d = malloc(len + 1);
  if (!d) abort();
  memcpy(d, s, len);
  d[len] = 0;
  return d;
}

static void build_cdb(const char *p, const char *end)
{
  struct cdb_make cm;
  if (ftruncate(fd, 0) || lseek(fd, 0, SEEK_SET)) abort();
  if (cdb_make_start(&cm, fd) < 0) abort();
  while (p < end) {
    size_t len;
    const char *line = take_line(&p, end, &len);
    const char *tab = memchr(line, '\t', len);
    size_t klen = tab ? (size_t) (tab - line) : len;
    const char *d = tab ? tab + 1 : line + len;
    if (cdb_make_add(&cm, line, klen, d, (size_t) (line + len - d)) < 0) abort();
  }
  if (cdb_make_finish(&cm) < 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *p = (const char *) data, *end = p + size;
  size_t l1 = 0, l2 = 0, l3 = 0;
  if (fd == -1 && (fd = memfd_create("rules", 0)) == -1) abort();
  char *ipstr = dup_line(take_line(&p, end, &l1), l1);
  char *host = dup_line(take_line(&p, end, &l2), l2);
  char *info = dup_line(take_line(&p, end, &l3), l3);
  struct ip_addr ip;
  if (ip_parse(ipstr, &ip) == 0) {
    struct rules_query q = {
      .ip = &ip, .ipstr = ipstr,
      .host = strcmp(host, "-") ? host : NULL,
      .info = strcmp(info, "-") ? info : NULL,
    };
    struct cdb c;
    struct rules_found m;
    static char key[2048];
    build_cdb(p, end);
    if (cdb_init(&c, fd) != 0) abort();
    int r = rules_find(&c, &q, key, sizeof key, &m);
    if (r < -1 || r > 1) abort();
    if (r == 1) {
      if (m.keylen >= sizeof key || m.key[m.keylen] != 0) abort();
      const char *base = (const char *) c.cdb_mem, *top = base + c.cdb_fsize;
      if (m.data >= base && m.data < top && m.data + m.datalen > top) abort();
      if (cdb_find(&c, m.key, (unsigned) m.keylen) != 1) abort();
      if (cdb_datalen(&c) != m.datalen) abort();   /* the first record wins */
      if (memcmp(cdb_getdata(&c), m.data, m.datalen)) abort();
    }
    cdb_free(&c);
  }
  free(ipstr);
  free(host);
  free(info);
  return 0;
}
