#ifndef RULES_H
#define RULES_H
#include <stddef.h>
#include <cdb.h>
#include <sys/stat.h>
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

/* A match: the key that matched and the record's data. */
struct rules_found {
  const char *key;           /* NUL-terminated, in the caller's buffer */
  size_t keylen;
  const char *data;
  size_t datalen;
};

/* Look the query up in an open cdb, trying the keys in the order of
   tcprulescheck(1): info@ip, info@=host, ip (for IPv6 then the text
   ucspi-tcp-ipv6 gave it, ip_format_legacy6, when it differs), =host,
   the address prefixes longest first (for IPv4 at each length the
   dotted prefix, then the CIDR key; for IPv6 at each length the textual
   prefixes ending in ':' or '.', of either text, longest text first,
   then the CIDR key; a textual prefix counts the bits of the groups it
   spells out before any "::", 2001:db8:: and 2001:db8: both 32, and in
   ::ffff:a.b.c.d 96 and 8 per dotted part), the =.suffixes of host, =,
   the empty key.  CIDR keys are
   probed only at the lengths named by the file's index record.  The keys
   are built in key[keycap]: with keycap at least rules_keycap(q) no
   candidate is skipped.  Returns 1 and fills f on a match (f->data points
   into the cdb), 0 when no key matched (allow, no changes), -1 on a read
   error (errno).  No allocation. */
int rules_find(struct cdb *c, const struct rules_query *q,
               char *key, size_t keycap, struct rules_found *f);
/* The buffer every candidate key of q fits in, and the same from the
   longest address text, host name and ident info a caller can have. */
size_t rules_keycap(const struct rules_query *q);
size_t rules_keycap_for(size_t iplen, size_t hostlen, size_t infolen);

/* The rules database of tcpserver -x and tcprulescheck: the cdb at a
   path, kept open and mapped while it is the same file.  Each lookup
   stats the path, so a new file (tcprules renames over it) or one changed
   in place applies to the very next lookup, as in 0.88, without mapping a
   large cdb again each time.  A file truncated under the mapping raises
   SIGBUS while it is read; the lookup catches it (a handler the first
   rules_db_init installs) and fails with EIO instead of killing the
   process.  The matched record is copied out of the mapping, so the
   result stays valid whatever happens to the file. */
struct rules_db {
  const char *path;
  int fd;                    /* -1: not open */
  struct cdb cdb;
  struct stat st;            /* of the open file */
  char *key;                 /* candidate keys, keycap bytes */
  size_t keycap;
  char *data;                /* the matched record's copy */
  size_t datacap;
  int batched;               /* the path looked at only after a recheck */
  int looked;                /* batched: looked at since the last recheck */
};
/* 0, or -1 with errno ENOMEM.  keycap as for rules_find. */
int rules_db_init(struct rules_db *db, const char *path, size_t keycap);
/* As rules_find, on the file now at the path; f->key and f->data point
   into db and stay valid until the next lookup.  -1 with errno: ENOENT
   when the file does not exist, EINVAL when it is empty (0.88's words),
   EIO when it shrank while being read, EPROTO when it is corrupt. */
int rules_db_lookup(struct rules_db *db, const struct rules_query *q,
                    struct rules_found *f);
/* A server that looks up rules for many connections at once: from now
   on the path is looked at (a stat) only at the first lookup after each
   rules_db_recheck, not at every lookup, so that the connections of one
   moment (a batch of accepts, a PROXY header and its client's rule) see
   one file.  The caller rechecks after taking the connections, not
   before, so that one made after a change sees the new file. */
void rules_db_batch(struct rules_db *db);
void rules_db_recheck(struct rules_db *db);
/* Unmap and close; the db can be used again (it reopens). */
void rules_db_close(struct rules_db *db);
void rules_db_free(struct rules_db *db);

/* Decoding: 1 if the data says deny (an item starting with 'D'). */
int rules_data_denies(const char *data, size_t len);
/* Iterate the assignments: *pos starts at 0; returns 1 with *item and *len
   set to "NAME=value" (no '+'), 0 at the end.  Stops at a 'D' item, as
   the reference does.  An item may lack '=': tcprulescheck prints it,
   tcpserver ignores it, as the reference does.  Bytes after the last
   NUL are ignored. */
int rules_data_next(const char *data, size_t datalen, size_t *pos,
                    const char **item, size_t *len);

/* The value of the rule's variable NAME (the first assignment of it, as
   rules_data_next finds them): 1 with *value and *len set (not
   NUL-terminated), 0 when the rule does not set it. */
int rules_data_get(const char *data, size_t datalen, const char *name,
                   const char **value, size_t *len);

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
#define RULES_HAS_COLON_END 32u   /* a key ends in ':' (ucspi-tcp-ipv6's
                                     textual prefix); an index without
                                     it keeps "2001:db8::" an address */

void rules_index_init(struct rules_index *ix);
/* Account for a key as written; cidr_family is AF_INET or AF_INET6 for
   a CIDR key of length cidr_len, 0 for any other key. */
void rules_index_add(struct rules_index *ix, const char *key, size_t len,
                     int cidr_family, unsigned cidr_len);
/* The record's data, RULES_INDEX_LEN bytes. */
void rules_index_encode(const struct rules_index *ix,
                        char out[RULES_INDEX_LEN]);
/* The bits of an address a textual prefix spells out: 16 per hex group
   before any "::" (2001:db8:0:1: 64; 2001:db8: and 2001:db8:: 32), 96
   for "::ffff:" and 8 more per dotted part after it, 0 for "::", ":"
   and anything else.  The lookup orders textual prefixes against CIDR
   keys by it. */
unsigned rulekey_text_bits(const char *text, size_t n);
#endif
