#ifndef TLS_INT_H
#define TLS_INT_H
/* The tls module's own declarations, shared by its files only (tls.c,
   tls_conn.c, tls_vars.c, tls_client.c): the OpenSSL types behind
   tls.h's opaque ones. */
#include <openssl/ssl.h>
#include "tls.h"

struct tls_conn {
  SSL *ssl;
  int fd;
  char sni[256];          /* sanitised; "" when none was sent */
  char error[TLS_WHY];    /* the reason of the last failure */
};

/* why := a, b, c joined ("unable to load CERTFILE ", path, ": ...").
   Any of them may be NULL. */
void tls_why(char why[TLS_WHY], const char *a, const char *b, const char *c);
/* The reason of OpenSSL's last queued error (which is then cleared),
   or dflt when there is none. */
const char *tls_lib_reason(const char *dflt);
/* The reason a failed SSL call gave (r its return value). */
void tls_conn_describe(struct tls_conn *c, int r, char why[TLS_WHY]);
/* A connection object for ctx on fd, non-blocking.  NULL: no memory. */
struct tls_conn *tls_conn_new(SSL_CTX *ctx, int fd);
/* Printable copy of a peer's string into out (n bytes, NUL included):
   bytes outside 32..126 become '?', and with strict (a log field) the
   space and ':' too; a string cut to fit ends in "...". */
void tls_sanitise(char *out, size_t n, const char *in, size_t len,
                  int strict);
#endif
