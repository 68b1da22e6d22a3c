/* The SSL_* variables of a connection, from the session and the peer's
   certificate, each value printable and bounded. */
#include <stdio.h>
#include <string.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include "tls_int.h"

/* One variable as the callers want it. */
typedef int put_fn(void *ctx, const char *name, const char *value);

/* A BIO's text, sanitised, into out. */
static void bio_text(BIO *b, char out[TLS_VALUE_MAX])
{
  char *data = 0;
  long len = BIO_get_mem_data(b, &data);
  tls_sanitise(out, TLS_VALUE_MAX, data ? data : "", len > 0 ? (size_t) len : 0, 0);
}

static void name_text(const X509_NAME *n, char out[TLS_VALUE_MAX])
{
  BIO *b = BIO_new(BIO_s_mem());
  out[0] = 0;
  if (!b) return;
  /* Bounded input: X509_NAME_print_ex stops at nothing, so the DN is
     cut afterwards; certificates themselves are limited by the handshake. */
  if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253) >= 0) bio_text(b, out);
  BIO_free(b);
}

static void time_text(const ASN1_TIME *t, char out[TLS_VALUE_MAX])
{
  BIO *b = BIO_new(BIO_s_mem());
  out[0] = 0;
  if (!b) return;
  if (ASN1_TIME_print(b, t) == 1) bio_text(b, out);
  BIO_free(b);
}

static void serial_text(const X509 *x, char out[TLS_VALUE_MAX])
{
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), 0);
  char *hex = bn ? BN_bn2hex(bn) : 0;
  tls_sanitise(out, TLS_VALUE_MAX, hex ? hex : "", hex ? strlen(hex) : 0, 1);
  OPENSSL_free(hex);
  BN_free(bn);
}

static void hash_text(const X509 *x, char out[TLS_VALUE_MAX])
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  static const char hexdigits[] = "0123456789abcdef";
  out[0] = 0;
  if (X509_digest(x, EVP_sha256(), md, &n) != 1) return;
  for (unsigned i = 0; i < n && 2 * i + 2 < TLS_VALUE_MAX; i++) {
    out[2 * i] = hexdigits[md[i] >> 4];
    out[2 * i + 1] = hexdigits[md[i] & 15];
    out[2 * i + 2] = 0;
  }
}

static int cert_vars(const struct tls_conn *c, int full, put_fn *put, void *ctx)
{
  X509 *x = SSL_get0_peer_certificate(c->ssl);
  char v[TLS_VALUE_MAX];
  if (!x) return put(ctx, "SSL_CLIENT_VERIFY", "NONE");
  long verify = SSL_get_verify_result(c->ssl);
  if (verify == X509_V_OK) {
    if (put(ctx, "SSL_CLIENT_VERIFY", "SUCCESS") < 0) return -1;
  } else {
    char r[TLS_VALUE_MAX];
    const char *s = X509_verify_cert_error_string(verify);
    snprintf(v, sizeof v, "FAILED:%s", s);
    tls_sanitise(r, sizeof r, v, strlen(v), 0);
    if (put(ctx, "SSL_CLIENT_VERIFY", r) < 0) return -1;
  }
  name_text(X509_get_subject_name(x), v);
  if (put(ctx, "SSL_CLIENT_S_DN", v) < 0) return -1;
  hash_text(x, v);
  if (put(ctx, "SSL_PEER_CERT_HASH", v) < 0) return -1;
  if (!full) return 0;
  name_text(X509_get_issuer_name(x), v);
  if (put(ctx, "SSL_CLIENT_I_DN", v) < 0) return -1;
  serial_text(x, v);
  if (put(ctx, "SSL_CLIENT_M_SERIAL", v) < 0) return -1;
  time_text(X509_get0_notBefore(x), v);
  if (put(ctx, "SSL_CLIENT_V_START", v) < 0) return -1;
  time_text(X509_get0_notAfter(x), v);
  return put(ctx, "SSL_CLIENT_V_END", v);
}

static int all_vars(const struct tls_conn *c, int full, put_fn *put, void *ctx)
{
  if (put(ctx, "SSL_PROTOCOL", tls_conn_protocol(c)) < 0
      || put(ctx, "SSL_CIPHER", tls_conn_cipher(c)) < 0
      || put(ctx, "SSL_SESSION_RESUMED", tls_conn_resumed(c) ? "Resumed" : "Initial") < 0)
    return -1;
  if (c->sni[0] && put(ctx, "SSL_TLS_SNI_SERVERNAME", c->sni) < 0) return -1;
  /* The SSL_CLIENT_* names describe a client: a client's program gets
     none about its server. */
  return SSL_is_server(c->ssl) ? cert_vars(c, full, put, ctx) : 0;
}

static int put_envb(void *ctx, const char *name, const char *value)
{
  return envb_set(ctx, name, value);
}

int tls_conn_vars(const struct tls_conn *c, int full, struct envb *e)
{
  return all_vars(c, full, put_envb, e);
}

struct block { char *buf; size_t len, size; };

static int put_block(void *ctx, const char *name, const char *value)
{
  struct block *b = ctx;
  size_t n = strlen(name), v = strlen(value);
  if (b->size - b->len < n + v + 3) return -1;   /* '=', '\0', the last '\0' */
  memcpy(b->buf + b->len, name, n);
  b->buf[b->len + n] = '=';
  memcpy(b->buf + b->len + n + 1, value, v + 1);
  b->len += n + v + 2;
  return 0;
}

size_t tls_conn_vars_block(const struct tls_conn *c, int full, char *buf, size_t n)
{
  struct block b = { buf, 0, n };
  if (all_vars(c, full, put_block, &b) < 0) return 0;
  b.buf[b.len++] = 0;
  return b.len;
}
