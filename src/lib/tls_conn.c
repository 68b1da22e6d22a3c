/* One TLS connection, either side: the handshake under a deadline, data
   on a non-blocking socket, close_notify, and the reasons of failures. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include "clock.h"
#include "errtext.h"
#include "tls_int.h"

void tls_why(char why[TLS_WHY], const char *a, const char *b, const char *c)
{
  snprintf(why, TLS_WHY, "%s%s%s%s", a ? a : "", b ? b : "",
           c && (a || b) ? ": " : "", c ? c : "");
}

const char *tls_lib_reason(const char *dflt)
{
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : 0;
  ERR_clear_error();
  return r ? r : dflt;
}

void tls_sanitise(char *out, size_t n, const char *in, size_t len, int strict)
{
  size_t i = 0;
  if (!n) return;
  int cut = len > n - 1;
  if (cut) len = n > 4 ? n - 4 : 0;
  for (; i < len; i++) {
    unsigned char ch = (unsigned char) in[i];
    int bad = ch < 32 || ch > 126 || (strict && (ch == ' ' || ch == ':'));
    out[i] = bad ? '?' : (char) ch;
  }
  if (cut && n > 4) { memcpy(out + i, "...", 3); i += 3; }
  out[i] = 0;
}

struct tls_conn *tls_conn_new(SSL_CTX *ctx, int fd)
{
  struct tls_conn *c = calloc(1, sizeof *c);
  if (!c) return 0;
  c->fd = fd;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0
      || !(c->ssl = SSL_new(ctx)) || SSL_set_fd(c->ssl, fd) != 1) {
    SSL_free(c->ssl);
    free(c);
    ERR_clear_error();
    return 0;
  }
  return c;
}

void tls_conn_free(struct tls_conn *c)
{
  if (!c) return;
  SSL_free(c->ssl);
  free(c);
}

/* Why a call failed: a certificate the client rejected, the library's
   reason, or the system's. */
void tls_conn_describe(struct tls_conn *c, int r, char why[TLS_WHY])
{
  int e = SSL_get_error(c->ssl, r);
  long verify = SSL_get_verify_result(c->ssl);
  if (verify != X509_V_OK && (e == SSL_ERROR_SSL)) {
    snprintf(why, TLS_WHY, "certificate verify failed: %s",
             X509_verify_cert_error_string(verify));
    ERR_clear_error();
  } else if (e == SSL_ERROR_SSL) {
    tls_why(why, tls_lib_reason("protocol error"), 0, 0);
  } else if (e == SSL_ERROR_SYSCALL && errno) {
    tls_why(why, errtext(errno), 0, 0);
    ERR_clear_error();
  } else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN) {
    tls_why(why, "connection closed", 0, 0);
    ERR_clear_error();
  } else {
    tls_why(why, tls_lib_reason("protocol error"), 0, 0);
  }
}

static void keep_sni(struct tls_conn *c)
{
  const char *name = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name);
  if (name) tls_sanitise(c->sni, sizeof c->sni, name, strlen(name), 1);
}

int tls_conn_handshake_step(struct tls_conn *c, char why[TLS_WHY])
{
  ERR_clear_error();
  errno = 0;
  int r = SSL_do_handshake(c->ssl);
  if (r == 1) {
    keep_sni(c);
    return 0;
  }
  int e = SSL_get_error(c->ssl, r);
  if (e == SSL_ERROR_WANT_READ) return TLS_IO_WANT_READ;
  if (e == SSL_ERROR_WANT_WRITE) return TLS_IO_WANT_WRITE;
  tls_conn_describe(c, r, why);
  return TLS_IO_ERROR;
}

int tls_conn_handshake(struct tls_conn *c, int ms, char why[TLS_WHY])
{
  long long deadline = clock_ms() + ms;
  for (;;) {
    int r = tls_conn_handshake_step(c, why);
    if (r == 0 || r == TLS_IO_ERROR) return r;
    int w = clock_wait_fd(c->fd, r == TLS_IO_WANT_READ ? POLLIN : POLLOUT, deadline);
    if (w == CLOCK_WAIT_TIMEOUT) {
      tls_why(why, errtext(ETIMEDOUT), 0, 0);
      return -1;
    }
    if (w == CLOCK_WAIT_ERROR) {
      tls_why(why, errtext(errno), 0, 0);
      return -1;
    }
  }
}

/* The outcome of a read or write that moved nothing. */
static ssize_t io_result(struct tls_conn *c, int r)
{
  switch (SSL_get_error(c->ssl, r)) {
  case SSL_ERROR_WANT_READ: return TLS_IO_WANT_READ;
  case SSL_ERROR_WANT_WRITE: return TLS_IO_WANT_WRITE;
  case SSL_ERROR_ZERO_RETURN: return TLS_IO_CLOSED;
  default:
    tls_conn_describe(c, r, c->error);
    return TLS_IO_ERROR;
  }
}

ssize_t tls_conn_read(struct tls_conn *c, void *buf, size_t n)
{
  size_t got = 0;
  ERR_clear_error();
  errno = 0;
  int r = SSL_read_ex(c->ssl, buf, n, &got);
  return r == 1 ? (ssize_t) got : io_result(c, r);
}

ssize_t tls_conn_write(struct tls_conn *c, const void *buf, size_t n)
{
  size_t put = 0;
  ERR_clear_error();
  errno = 0;
  int r = SSL_write_ex(c->ssl, buf, n, &put);
  if (r == 1) return (ssize_t) put;
  ssize_t res = io_result(c, r);
  return res == TLS_IO_CLOSED ? TLS_IO_ERROR : res;
}

int tls_conn_close_notify(struct tls_conn *c)
{
  ERR_clear_error();
  errno = 0;
  int r = SSL_shutdown(c->ssl);
  if (r >= 0) return 0;   /* 0: ours is sent, the peer's may follow */
  ssize_t res = io_result(c, r);
  return res == TLS_IO_CLOSED ? 0 : (int) res;
}

const char *tls_conn_error(struct tls_conn *c) { return c->error; }

const char *tls_conn_protocol(const struct tls_conn *c)
{
  return SSL_get_version(c->ssl);
}

const char *tls_conn_cipher(const struct tls_conn *c)
{
  const char *name = SSL_get_cipher_name(c->ssl);
  return name ? name : "";
}

const char *tls_conn_sni(const struct tls_conn *c) { return c->sni; }

int tls_conn_resumed(const struct tls_conn *c) { return SSL_session_reused(c->ssl); }
