/* tlsclient's context: the server's certificate verified against CAFILE,
   CADIR or the system's store, for the name asked for. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include "tls_int.h"

struct tls_client {
  SSL_CTX *ctx;
  int resume;
  SSL_SESSION *last;      /* the latest session, offered again */
};

static const char *env_value(char *const *env, const char *name)
{
  size_t n = strlen(name);
  for (; *env; env++)
    if (!strncmp(*env, name, n) && (*env)[n] == '=') return *env + n + 1;
  return 0;
}

static int trust(SSL_CTX *ctx, char *const *env, char why[TLS_WHY])
{
  const char *cafile = env_value(env, "CAFILE"), *cadir = env_value(env, "CADIR");
  if (!cafile && !cadir) {
    if (SSL_CTX_set_default_verify_paths(ctx) == 1) return 0;
    tls_why(why, "unable to load the system's certificates", 0, tls_lib_reason("bad file"));
    return -1;
  }
  if (SSL_CTX_load_verify_locations(ctx, cafile, cadir) == 1) return 0;
  tls_why(why, "unable to load CAFILE ", cafile ? cafile : cadir, tls_lib_reason("bad file"));
  return -1;
}

static int own_certificate(SSL_CTX *ctx, char *const *env, char why[TLS_WHY])
{
  const char *cert = env_value(env, "CERTFILE"), *key = env_value(env, "KEYFILE");
  if (!cert) return 0;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
    tls_why(why, "unable to load CERTFILE ", cert, tls_lib_reason("bad certificate"));
    return -1;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key ? key : cert, SSL_FILETYPE_PEM) != 1
      || SSL_CTX_check_private_key(ctx) != 1) {
    tls_why(why, "unable to load KEYFILE ", key ? key : cert, tls_lib_reason("bad key"));
    return -1;
  }
  return 0;
}

struct tls_client *tls_client_new(char *const *env, char why[TLS_WHY])
{
  struct tls_client *cl = calloc(1, sizeof *cl);
  if (!cl || !(cl->ctx = SSL_CTX_new(TLS_client_method()))) {
    tls_why(why, "unable to create a TLS context", 0, tls_lib_reason("out of memory"));
    free(cl);
    return 0;
  }
  SSL_CTX_set_min_proto_version(cl->ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(cl->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(cl->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                   | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_verify(cl->ctx, SSL_VERIFY_PEER, 0);
  const char *ciphers = env_value(env, "CIPHERS");
  if (ciphers && SSL_CTX_set_cipher_list(cl->ctx, ciphers) != 1) {
    tls_why(why, "unable to use CIPHERS ", ciphers, tls_lib_reason("no cipher match"));
  } else if (trust(cl->ctx, env, why) == 0 && own_certificate(cl->ctx, env, why) == 0) {
    return cl;
  }
  tls_client_free(cl);
  return 0;
}

void tls_client_free(struct tls_client *cl)
{
  if (!cl) return;
  SSL_SESSION_free(cl->last);
  SSL_CTX_free(cl->ctx);
  free(cl);
}

/* Each new session replaces the one kept (TLS 1.3 sends tickets after
   the handshake, read with the data). */
static int keep_session(SSL *ssl, SSL_SESSION *sess)
{
  struct tls_client *cl = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
  SSL_SESSION_free(cl->last);
  cl->last = sess;
  return 1;   /* the reference is ours */
}

void tls_client_resume(struct tls_client *cl)
{
  cl->resume = 1;
  SSL_CTX_set_app_data(cl->ctx, cl);
  SSL_CTX_set_session_cache_mode(cl->ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(cl->ctx, keep_session);
}

static int is_address(const char *name)
{
  unsigned char buf[16];
  return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* What the certificate must match: an address as an address, a name as
   a host name (and sent as SNI). */
static int expect(SSL *ssl, const char *name)
{
  if (is_address(name)) {
    X509_VERIFY_PARAM *p = SSL_get0_param(ssl);
    return X509_VERIFY_PARAM_set1_ip_asc(p, name) == 1 ? 0 : -1;
  }
  if (SSL_set_tlsext_host_name(ssl, name) != 1) return -1;
  return SSL_set1_host(ssl, name) == 1 ? 0 : -1;
}

struct tls_conn *tls_conn_connect(struct tls_client *cl, int fd, const char *name)
{
  struct tls_conn *c = tls_conn_new(cl->ctx, fd);
  if (!c) return 0;
  SSL_set_connect_state(c->ssl);
  if (cl->resume && cl->last) SSL_set_session(c->ssl, cl->last);
  if (name && *name && expect(c->ssl, name) < 0) {
    tls_conn_free(c);
    ERR_clear_error();
    return 0;
  }
  return c;
}
