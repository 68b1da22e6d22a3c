#ifndef TLS_H
#define TLS_H
#include <stddef.h>
#include <sys/types.h>
#include "env.h"

/* TLS for tlsserver and tlsclient.  The tls module (tls.c, tls_conn.c,
   tls_vars.c, tls_client.c) is the only code of the suite that includes
   OpenSSL's headers; everything else sees these opaque types.

   Errors: functions that can fail take a buffer `why` of TLS_WHY bytes
   and leave in it a short reason in the suite's style ("unable to read
   CERTFILE /x: file does not exist", "no shared cipher", "timed out");
   they print nothing.  Times are milliseconds.  Lengths of everything
   taken from a peer (names, certificate fields) are bounded and
   sanitised before they reach the caller.  The caller ignores SIGPIPE:
   a write to a peer that has gone is an error, not a signal. */

#define TLS_WHY 256
/* The most bytes of one SSL_* value (a DN is cut there, marked "..."). */
#define TLS_VALUE_MAX 512
/* The SNI pairs at most: CERTFILE:name / KEYFILE:name. */
#define TLS_NAMES_MAX 64

/* ---- server ---- */

enum tls_clientcert {
  TLS_CLIENTCERT_NONE,     /* never ask */
  TLS_CLIENTCERT_ASK,      /* -Y: ask; none is fine, a bad one is not */
  TLS_CLIENTCERT_REQUIRE   /* -y: a valid one or no handshake */
};

struct tls_server;

/* The contexts of a server, from the environment env (NULL-terminated
   NAME=value strings): CERTFILE (PEM, the chain may follow), KEYFILE
   (default: CERTFILE), CAFILE and CADIR (client certificates), CIPHERS
   (OpenSSL's list for TLS 1.2; 1.3 keeps its defaults), and SNI pairs
   CERTFILE:name with KEYFILE:name (name may start with "*." for any one
   first label).  TLS 1.2 and 1.3.  One session ticket key, made here,
   serves every context and every process forked later.  NULL with why
   on failure. */
struct tls_server *tls_server_new(char *const *env, enum tls_clientcert mode,
                                  char why[TLS_WHY]);
/* Build everything again from env (new ticket key included).  On
   failure the old contexts stay in use, -1 is returned with why, and
   the files as they are now count as seen (tls_server_changed reports
   the next change, not this one again). */
int tls_server_reload(struct tls_server *s, char *const *env,
                      char why[TLS_WHY]);
/* 1 when a file the contexts were built from has been replaced or
   changed (inode, size, mtime) since, else 0.  A few stat calls. */
int tls_server_changed(const struct tls_server *s);
void tls_server_free(struct tls_server *s);

/* ---- connections (both sides) ---- */

struct tls_conn;

/* A server side connection on the connected socket fd (made
   non-blocking; not closed by tls_conn_free).  NULL when out of memory. */
struct tls_conn *tls_conn_accept(struct tls_server *s, int fd);
/* The handshake, within ms milliseconds.  0, or -1 with why. */
int tls_conn_handshake(struct tls_conn *c, int ms, char why[TLS_WHY]);
/* One step of it, for an event loop: 0 when done, TLS_IO_WANT_READ or
   TLS_IO_WANT_WRITE (call again when the socket is ready), or
   TLS_IO_ERROR with why. */
int tls_conn_handshake_step(struct tls_conn *c, char why[TLS_WHY]);
void tls_conn_free(struct tls_conn *c);

/* Data, on the non-blocking socket.  tls_conn_read and tls_conn_write
   return the bytes moved (> 0), or one of these: */
enum {
  TLS_IO_CLOSED = 0,      /* the peer's close_notify (or its plain EOF) */
  TLS_IO_ERROR = -1,      /* the connection is broken */
  TLS_IO_WANT_READ = -2,  /* retry when the socket is readable */
  TLS_IO_WANT_WRITE = -3  /* retry when the socket is writable */
};
ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t n);
ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t n);
/* Send close_notify: 0 when sent, TLS_IO_WANT_* or TLS_IO_ERROR. */
int tls_conn_close_notify(struct tls_conn *c);
/* The reason of the last TLS_IO_ERROR. */
const char *tls_conn_error(struct tls_conn *c);

/* For the log line: never NULL; the SNI name is "" when none was sent
   (sanitised: bytes outside 33..126 and ':' become '?'). */
const char *tls_conn_protocol(const struct tls_conn *c);
const char *tls_conn_cipher(const struct tls_conn *c);
const char *tls_conn_sni(const struct tls_conn *c);
/* 1 when the handshake resumed an earlier session. */
int tls_conn_resumed(const struct tls_conn *c);

/* The program's variables after a handshake, into e: SSL_PROTOCOL,
   SSL_CIPHER, SSL_SESSION_RESUMED (Initial, Resumed),
   SSL_TLS_SNI_SERVERNAME (when sent), SSL_CLIENT_VERIFY (SUCCESS, NONE)
   and, with a peer certificate, SSL_CLIENT_S_DN and SSL_PEER_CERT_HASH
   (sha256 of the DER, lower case hex); full adds SSL_CLIENT_I_DN,
   SSL_CLIENT_M_SERIAL, SSL_CLIENT_V_START, SSL_CLIENT_V_END.  Values
   are printable ASCII, at most TLS_VALUE_MAX bytes.  On the client side
   only the first three (and SNI).  0, or -1 when out of memory. */
int tls_conn_vars(const struct tls_conn *c, int full, struct envb *e);
/* The same as NAME=value\0 ... \0 (UCSPI-TLS's 'Y' answer) into buf of
   size n.  Returns the length, or 0 when it does not fit. */
size_t tls_conn_vars_block(const struct tls_conn *c, int full, char *buf,
                           size_t n);

/* Remove every TLS setting from e (whose base is env): CERTFILE, KEYFILE,
   CAFILE, CADIR, CIPHERS, their name-suffixed forms, ucspi-ssl's
   CERTCHAINFILE, CCAFILE, DHFILE, VERIFYDEPTH, TLS_UID, TLS_GID,
   SSL_UID, SSL_GID; and every variable tls_conn_vars sets (SSL_CLIENT_*
   included), so that only the connection's own can be seen.  OpenSSL's
   SSL_CERT_FILE and SSL_CERT_DIR stay. */
void tls_scrub_env(struct envb *e, char *const *env);

/* ---- client ---- */

struct tls_client;

/* A client context from env: CAFILE/CADIR, else the system's store;
   a client certificate from CERTFILE/KEYFILE when set; CIPHERS. */
struct tls_client *tls_client_new(char *const *env, char why[TLS_WHY]);
void tls_client_free(struct tls_client *cl);
/* From now on keep the latest session a server gave and offer it on
   the next connections (resumption; for load tests). */
void tls_client_resume(struct tls_client *cl);
/* A client connection on fd; name (may be NULL) is sent as SNI when it
   is a host name, and the certificate must match it (an IP address
   literal is matched as an address).  NULL when out of memory. */
struct tls_conn *tls_conn_connect(struct tls_client *cl, int fd,
                                  const char *name);
#endif
