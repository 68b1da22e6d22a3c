#ifndef RULES_H
#define RULES_H
#include <stddef.h>
#include <cdb.h>
#include "addr.h"

/* Access rules in a cdb made by tcprules (or the reference's tcprules).
   Record data: "D\0" for deny (absent for allow), then "+NAME=value\0"
   for each assignment, in order. */

struct rules_query {
  const struct ip_addr *ip;  /* the client's address (v4-mapped folded) */
  const char *ipstr;         /* its text, as in TCPREMOTEIP */
  const char *host;          /* TCPREMOTEHOST, NULL when unknown */
  const char *info;          /* TCPREMOTEINFO, NULL when unknown */
};

struct rules_match {
  char key[1100];            /* the key that matched, NUL-terminated */
  size_t keylen;
  const char *data;          /* the record's data, valid while the cdb is */
  size_t datalen;
};

/* Look the query up in an open cdb, trying the keys in the reference's
   order (see tcprulescheck(1)).  Returns 1 and fills m on a match,
   0 when no key matched (allow, no changes), -1 on a read error (errno). */
int rules_lookup(struct cdb *c, const struct rules_query *q,
                 struct rules_match *m);

/* Open FILE, look up, keep the cdb mapped until rules_close.  Returns as
   rules_lookup, -1 with errno ENOENT when the file does not exist. */
struct rules_file { int fd; struct cdb cdb; };
int rules_lookup_file(struct rules_file *rf, const char *file,
                      const struct rules_query *q, struct rules_match *m);
void rules_close(struct rules_file *rf);

/* Decoding: 1 if the data says deny. */
int rules_data_denies(const char *data, size_t len);
/* Iterate the assignments: *pos starts at 0; returns 1 with *item/*len
   set to "NAME=value" (no '+'), 0 at the end.  Stops at a 'D' item, as
   the reference does. */
int rules_data_next(const char *data, size_t datalen, size_t *pos,
                    const char **item, size_t *len);

/* Encoding, for tcprules: append to buf (capacity cap) and return the new
   length, or (size_t) -1 if it does not fit. */
size_t rules_data_add_deny(char *buf, size_t len, size_t cap);
size_t rules_data_add_var(char *buf, size_t len, size_t cap,
                          const char *name, size_t namelen,
                          const char *value, size_t valuelen);
#endif
