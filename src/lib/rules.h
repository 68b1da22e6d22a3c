#ifndef RULES_H
#define RULES_H
#include <stddef.h>
#include <cdb.h>
#include "addr.h"

/* Access rules in a cdb made by tcprules (or the reference's tcprules).
   Record data: "D\0" for deny (absent for allow), then "+NAME=value\0"
   for each assignment, in order. */

struct rules_query {
  const struct ip_addr *ip;  /* the client's address (v4-mapped folded);
                                NULL: parsed from ipstr when it can be */
  const char *ipstr;         /* its text, as in TCPREMOTEIP (RFC 5952 for
                                IPv6: the keys are matched as text) */
  const char *host;          /* TCPREMOTEHOST, NULL when unknown */
  const char *info;          /* TCPREMOTEINFO, NULL when unknown */
};

struct rules_match {
  char key[1100];            /* the key that matched, NUL-terminated */
  size_t keylen;
  const char *data;          /* the record's data, valid while the cdb is */
  size_t datalen;
};

/* Look the query up in an open cdb, trying the keys in the order of
   tcprulescheck(1): info@ip, info@=host, ip, =host, the address prefixes
   longest first (for IPv4 at each length the dotted prefix, then the
   CIDR key), the =.suffixes of host, =, the empty key.  CIDR keys are
   probed only at the lengths named by the file's index record.  Returns
   1 and fills m on a match, 0 when no key matched (allow, no changes),
   -1 on a read error (errno).  No allocation.  A candidate key longer
   than m->key is skipped (tcpserver's fields are bounded far below). */
int rules_lookup(struct cdb *c, const struct rules_query *q,
                 struct rules_match *m);

/* The same, building the keys in a caller's buffer: with keycap at least
   rules_keycap(q) no candidate is skipped.  On a match *key, *keylen,
   *data and *datalen point into key and the cdb. */
struct rules_found {
  const char *key;
  size_t keylen;
  const char *data;
  size_t datalen;
};
size_t rules_keycap(const struct rules_query *q);
int rules_find(struct cdb *c, const struct rules_query *q,
               char *key, size_t keycap, struct rules_found *f);

/* Open FILE, look up, keep the cdb mapped until rules_close.  Returns as
   rules_lookup, -1 with errno ENOENT when the file does not exist.  On -1
   the file is already closed (rules_close is then harmless). */
struct rules_file { int fd; struct cdb cdb; };
int rules_lookup_file(struct rules_file *rf, const char *file,
                      const struct rules_query *q, struct rules_match *m);
/* Only the opening: 0, or -1 with errno. */
int rules_open(struct rules_file *rf, const char *file);
void rules_close(struct rules_file *rf);

/* Decoding: 1 if the data says deny (an item starting with 'D'). */
int rules_data_denies(const char *data, size_t len);
/* Iterate the assignments: *pos starts at 0; returns 1 with *item and *len
   set to "NAME=value" (no '+'), 0 at the end.  Stops at a 'D' item, as
   the reference does.  An item may lack '=': tcprulescheck prints it,
   tcpserver ignores it, as the reference does.  Bytes after the last
   NUL are ignored. */
int rules_data_next(const char *data, size_t datalen, size_t *pos,
                    const char **item, size_t *len);

/* Encoding, for tcprules: append to buf (capacity cap) and return the new
   length, or (size_t) -1 if it does not fit. */
size_t rules_data_add_deny(char *buf, size_t len, size_t cap);
size_t rules_data_add_var(char *buf, size_t len, size_t cap,
                          const char *name, size_t namelen,
                          const char *value, size_t valuelen);

/* The prefix index: one record that tcprules adds when the file holds a
   CIDR key, under a key no rules line can produce (it holds a newline
   and a NUL, so no lookup built from C strings reaches it).  It names
   the CIDR lengths present and which kinds of text keys exist, so that
   a lookup probes only what can match.  A file without it (0.88's
   tcprules, or no CIDR rule) is searched exactly as 0.88 does. */
#define RULES_INDEX_KEY "\n\0prefix-index"
#define RULES_INDEX_KEYLEN 14
#define RULES_INDEX_LEN 25
struct rules_index {
  unsigned flags;                 /* RULES_HAS_* */
  unsigned char v4[5];            /* bit n: a CIDR key of IPv4 length n */
  unsigned char v6[17];           /* bit n: a CIDR key of IPv6 length n */
};
#define RULES_HAS_DOT_END  1u     /* a key ends in '.' */
#define RULES_HAS_AT       2u     /* a key holds '@' */
#define RULES_HAS_EQ       4u     /* a key starts with '=' */
#define RULES_HAS_EQ_DOT   8u     /* a key starts with "=." */
#define RULES_HAS_CIDR    16u     /* some CIDR key (index needed) */

void rules_index_init(struct rules_index *ix);
/* Account for a key as written; cidr_family is AF_INET or AF_INET6 for
   a CIDR key of length cidr_len, 0 for any other key. */
void rules_index_add(struct rules_index *ix, const char *key, size_t len,
                     int cidr_family, unsigned cidr_len);
/* The record's data, RULES_INDEX_LEN bytes. */
void rules_index_encode(const struct rules_index *ix,
                        char out[RULES_INDEX_LEN]);
#endif
