#ifndef CRLF_H
#define CRLF_H
#include <stddef.h>

/* Line-end translations of addcr, delcr, fixcrio and mconnect-io, done a
   chunk at a time as the bytes pass.  out must hold 2 * n bytes; each
   returns the number of bytes put in out. */

/* A CR before every LF, even one that has a CR already (addcr). */
size_t crlf_add(const char *in, size_t n, char *out);

/* A CR before every LF that lacks one (fixcrio).  *last is the byte
   before in[0] (0 at the start of the stream) and is updated. */
size_t crlf_fix(const char *in, size_t n, char *out, char *last);

/* Drop each CR that directly precedes an LF (delcr).  A CR ending the
   chunk is held back in *held (0 at the start) until the next byte shows
   what follows; at the end of the stream call crlf_del_end. */
size_t crlf_del(const char *in, size_t n, char *out, int *held);
/* The CR still held back at the end of the stream, kept (0 or 1 byte). */
size_t crlf_del_end(char *out, int *held);
#endif
