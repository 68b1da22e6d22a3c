#ifndef PROXY_PARTS_H
#define PROXY_PARTS_H
#include <stddef.h>
#include "proxy.h"

/* Inside proxy_parse (proxy.h): its parts, one file per version, and what
   they share.  Not for other callers. */

#define PROXY_V1_MIN 15   /* "PROXY UNKNOWN\r\n" */

/* proxy_parse for a buffer of len >= 1 bytes that starts as the version
   does ('P', or the v2 signature's '\r'): the same returns, *need and
   *why. */
int proxy_v1_parse(const unsigned char *buf, size_t len,
                   struct proxy_header *h, size_t *need, const char **why);
int proxy_v2_parse(const unsigned char *buf, size_t len,
                   struct proxy_header *h, size_t *need, const char **why);

/* *why = text (why may be NULL); returns -1. */
int proxy_fail(const char **why, const char *text);

/* An address as sent: 4 bytes of IPv4, or 16 of IPv6 kept as they are
   (a v4-mapped one too, until proxy_fold_endpoints). */
void proxy_set_ip4(struct ip_addr *ip, const unsigned char a[4]);
void proxy_set_ip6(struct ip_addr *ip, const unsigned char a[16]);

/* Both endpoints of h to IPv4 when both are v4-mapped, else neither. */
void proxy_fold_endpoints(struct proxy_header *h);
#endif
