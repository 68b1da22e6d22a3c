#ifndef LOGLINE_H
#define LOGLINE_H
#include <stddef.h>
#include "addr.h"

/* A log line built in place and written with one write(2), so that a
   log reader (multilog) never sees two lines mixed: tcpserver's -v
   lines, tcpclient's connection lines, rblsmtpd's block line.  What does
   not fit is cut; the line end always fits. */
struct logline { char buf[1024]; size_t len; };

/* Empty the line, then add s. */
void logline_start(struct logline *l, const char *s);
void logline_add(struct logline *l, const char *s, size_t n);
void logline_str(struct logline *l, const char *s);
void logline_num(struct logline *l, unsigned long n);
/* The address; IPv6 in brackets, so that colon-separated fields stay
   clear.  No scope. */
void logline_ip(struct logline *l, const struct ip_addr *ip);
/* The same with "%interface" inside the brackets for a scoped IPv6
   address (tcpclient's messages). */
void logline_ip_scope(struct logline *l, const struct ip_addr *ip);
/* A field of tcpserver's ok/deny line, sanitised as 0.88 does it
   (logfield.h); NULL is an empty field. */
void logline_field(struct logline *l, const char *s);
/* Add "\n" and write the line to fd at once: 0, or -1 with errno. */
int logline_write(struct logline *l, int fd);
#endif
