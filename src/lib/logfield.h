#ifndef LOGFIELD_H
#define LOGFIELD_H
#include <stddef.h>

/* A field of tcpserver's "ok"/"deny" log line, made safe the way 0.88
   does it, so that a hostile name or ident reply can neither forge a log
   line nor shift the colon-separated fields: bytes outside 33..126, '%'
   and ':' become '?', and a field is cut after 100 bytes with "..."
   appended (also when it is exactly 100 bytes long, as 0.88 does). */

#define LOGFIELD_KEEP 100
#define LOGFIELD_MAX (LOGFIELD_KEEP + 3)

/* Write the safe form of s (NULL: empty) to out, which has room for
   LOGFIELD_MAX bytes; returns the length written (no NUL). */
size_t logfield_put(char *out, const char *s);
#endif
