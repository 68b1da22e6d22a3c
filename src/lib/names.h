#ifndef NAMES_H
#define NAMES_H
#include "addr.h"

/* Host names for TCPLOCALHOST and TCPREMOTEHOST, through getnameinfo and
   getaddrinfo so that /etc/hosts and nsswitch apply.  A name comes from
   whoever controls the reverse zone: it is hostile input.  It is cut at
   255 bytes and written the way 0.88 writes DNS names: lower case,
   letters, digits, '-', '_' and '.' as they are, any other byte as a
   backslash and three octal digits. */

#define NAMES_RAW_MAX 255
#define NAMES_MAX (4 * NAMES_RAW_MAX)

/* The name of ip (reverse lookup) into name[NAMES_MAX + 1].  Returns 1,
   or 0 when ip has no name. */
int names_reverse(const struct ip_addr *ip, char name[NAMES_MAX + 1]);

/* The reverse name of ip, and with paranoid set only if that name's
   forward addresses include ip (tcpserver -p).  Returns 1 with name set,
   or 0 when there is no name that qualifies. */
int names_remote(const struct ip_addr *ip, int paranoid,
                 char name[NAMES_MAX + 1]);

/* 1 if one of the addresses of name (looked up in ip's family) is ip. */
int names_confirm(const char *name, const struct ip_addr *ip);

/* Write raw (len bytes) in the safe form described above into
   out[NAMES_MAX + 1]; returns the length. */
size_t names_safe(const char *raw, size_t len, char out[NAMES_MAX + 1]);
#endif
