/* tlsserver's contexts: the default certificate and the SNI ones, built
   from the environment, rebuilt at reload, and watched for changes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include "errtext.h"
#include "tls_int.h"

/* A file the contexts were built from, as it was then. */
struct watched {
  char *path;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
};

struct sni {
  char *name;      /* as given, e.g. "mail.example.org" or "*.example.org" */
  SSL_CTX *ctx;
};

/* One generation of contexts: what a reload replaces as a whole. */
struct ctxset {
  SSL_CTX *dflt;
  struct sni sni[TLS_NAMES_MAX];
  size_t nsni;
  struct watched files[2 * TLS_NAMES_MAX + 4];
  size_t nfiles;
};

struct tls_server {
  enum tls_clientcert mode;
  struct ctxset set;
};

/* What one build reads from the environment. */
struct conf {
  const char *cafile, *cadir, *ciphers;
  enum tls_clientcert mode;
  unsigned char ticket_keys[80];
};

static const char *env_get(char *const *env, const char *name)
{
  size_t n = strlen(name);
  for (; *env; env++)
    if (!strncmp(*env, name, n) && (*env)[n] == '=') return *env + n + 1;
  return 0;
}

static void watch(struct ctxset *set, const char *path)
{
  struct stat st;
  if (!path || set->nfiles >= sizeof set->files / sizeof set->files[0]) return;
  struct watched *w = &set->files[set->nfiles];
  if (stat(path, &st) < 0 || !(w->path = strdup(path))) return;
  w->dev = st.st_dev;
  w->ino = st.st_ino;
  w->size = st.st_size;
  w->mtime = st.st_mtim;
  set->nfiles++;
}

/* OpenSSL's words for a missing file are its own; the suite's are
   errtext's, so a file is opened here first. */
static int readable(const char *what, const char *path, char why[TLS_WHY])
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    char head[64];
    snprintf(head, sizeof head, "unable to read %s ", what);
    tls_why(why, head, path, errtext(errno));
    return -1;
  }
  close(fd);
  return 0;
}

static int load_pair(SSL_CTX *ctx, const char *cert, const char *key,
                     char why[TLS_WHY])
{
  if (readable("CERTFILE", cert, why) < 0) return -1;
  if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
    tls_why(why, "unable to load CERTFILE ", cert, tls_lib_reason("bad certificate"));
    return -1;
  }
  if (readable("KEYFILE", key, why) < 0) return -1;
  if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
    tls_why(why, "unable to load KEYFILE ", key, tls_lib_reason("bad key"));
    return -1;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    tls_why(why, "KEYFILE ", key, "does not match the certificate");
    ERR_clear_error();
    return -1;
  }
  return 0;
}

static int client_cas(SSL_CTX *ctx, const struct conf *cf, char why[TLS_WHY])
{
  if (cf->mode == TLS_CLIENTCERT_NONE) return 0;
  if (!cf->cafile && !cf->cadir) {
    tls_why(why, "client certificates need CAFILE or CADIR", 0, 0);
    return -1;
  }
  if (cf->cafile && readable("CAFILE", cf->cafile, why) < 0) return -1;
  if (SSL_CTX_load_verify_locations(ctx, cf->cafile, cf->cadir) != 1) {
    tls_why(why, "unable to load CAFILE or CADIR", 0, tls_lib_reason("bad file"));
    return -1;
  }
  if (cf->cafile) {
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cf->cafile);
    if (names) SSL_CTX_set_client_CA_list(ctx, names);
  }
  int mode = SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE;
  if (cf->mode == TLS_CLIENTCERT_REQUIRE) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  SSL_CTX_set_verify(ctx, mode, 0);
  return 0;
}

/* Settings every context shares: versions, options, the ticket key (so
   that a session resumes in any engine), no server-side cache (each
   engine is a process of its own: tickets carry the sessions). */
static void common_settings(SSL_CTX *ctx, const struct conf *cf)
{
  static const unsigned char sid_ctx[] = "tlsserver";
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION
                      | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE
                   | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_tlsext_ticket_keys(ctx, (void *) cf->ticket_keys,
                                 sizeof cf->ticket_keys);
  SSL_CTX_set_num_tickets(ctx, 1);
}

static SSL_CTX *server_ctx(const char *cert, const char *key,
                           const struct conf *cf, char why[TLS_WHY])
{
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    tls_why(why, "unable to create a TLS context", 0, tls_lib_reason("out of memory"));
    return 0;
  }
  common_settings(ctx, cf);
  if (cf->ciphers && SSL_CTX_set_cipher_list(ctx, cf->ciphers) != 1) {
    tls_why(why, "unable to use CIPHERS ", cf->ciphers, tls_lib_reason("no cipher match"));
  } else if (load_pair(ctx, cert, key ? key : cert, why) == 0
             && client_cas(ctx, cf, why) == 0) {
    return ctx;
  }
  SSL_CTX_free(ctx);
  return 0;
}

static void set_free(struct ctxset *set)
{
  SSL_CTX_free(set->dflt);
  for (size_t i = 0; i < set->nsni; i++) {
    SSL_CTX_free(set->sni[i].ctx);
    free(set->sni[i].name);
  }
  for (size_t i = 0; i < set->nfiles; i++) free(set->files[i].path);
  memset(set, 0, sizeof *set);
}

/* The SNI pairs: every CERTFILE:name, with KEYFILE:name (or the same
   file). */
static int add_sni(struct ctxset *set, char *const *env, const struct conf *cf,
                   char why[TLS_WHY])
{
  static const char prefix[] = "CERTFILE:";
  char *const *all = env;
  for (; *env; env++) {
    if (strncmp(*env, prefix, sizeof prefix - 1)) continue;
    const char *name = *env + sizeof prefix - 1;
    const char *eq = strchr(name, '=');
    if (!eq || eq == name) continue;
    if (set->nsni >= TLS_NAMES_MAX) {
      tls_why(why, "too many CERTFILE:name variables", 0, 0);
      return -1;
    }
    char keyvar[300];
    int len = snprintf(keyvar, sizeof keyvar, "KEYFILE:%.*s", (int) (eq - name), name);
    if (len < 0 || (size_t) len >= sizeof keyvar) continue;
    const char *key = env_get(all, keyvar);
    struct sni *s = &set->sni[set->nsni];
    s->name = strndup(name, (size_t) (eq - name));
    if (!s->name) { tls_why(why, "out of memory", 0, 0); return -1; }
    s->ctx = server_ctx(eq + 1, key, cf, why);
    if (!s->ctx) { free(s->name); return -1; }
    set->nsni++;
    watch(set, eq + 1);
    watch(set, key);
  }
  return 0;
}

static SSL_CTX *sni_lookup(const struct ctxset *set, const char *name)
{
  for (size_t i = 0; i < set->nsni; i++)
    if (!strcasecmp(set->sni[i].name, name)) return set->sni[i].ctx;
  const char *dot = strchr(name, '.');
  if (!dot || dot == name) return 0;
  for (size_t i = 0; i < set->nsni; i++) {
    const char *n = set->sni[i].name;
    if (n[0] == '*' && n[1] == '.' && !strcasecmp(n + 1, dot)) return set->sni[i].ctx;
  }
  return 0;
}

/* The client's name picks the context; an unknown name (or none) keeps
   the default certificate. */
static int on_servername(SSL *ssl, int *alert, void *arg)
{
  (void) alert;
  const struct tls_server *s = arg;
  const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  SSL_CTX *ctx = sni_lookup(&s->set, name);
  if (ctx && ctx != SSL_get_SSL_CTX(ssl)) SSL_set_SSL_CTX(ssl, ctx);
  return SSL_TLSEXT_ERR_OK;
}

/* One handshake with itself through memory, in this process: OpenSSL 3
   fetches its algorithms, and sets up their tables, at their first use
   in a process.  Done here, before the engines are forked, it is done
   once in shared memory rather than in every engine (its own copies,
   its own page faults).  Nothing depends on its outcome. */
static void warm_up(SSL_CTX *ctx)
{
  SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
  SSL *srv = SSL_new(ctx);
  SSL *cli = cctx ? SSL_new(cctx) : 0;
  BIO *a = 0, *b = 0;
  if (srv && cli && BIO_new_bio_pair(&a, 0, &b, 0) == 1) {
    SSL_set_bio(srv, a, a);
    SSL_set_bio(cli, b, b);
    SSL_set_accept_state(srv);
    SSL_set_connect_state(cli);
    for (int i = 0; i < 8; i++) {
      int c = SSL_do_handshake(cli), d = SSL_do_handshake(srv);
      if (c == 1 && d == 1) break;
    }
  }
  SSL_free(cli);
  SSL_free(srv);
  SSL_CTX_free(cctx);
  ERR_clear_error();
}

static int build(struct tls_server *s, struct ctxset *set, char *const *env,
                 char why[TLS_WHY])
{
  struct conf cf = {
    .cafile = env_get(env, "CAFILE"), .cadir = env_get(env, "CADIR"),
    .ciphers = env_get(env, "CIPHERS"), .mode = s->mode,
  };
  const char *cert = env_get(env, "CERTFILE");
  const char *key = env_get(env, "KEYFILE");
  memset(set, 0, sizeof *set);
  if (!cert) {
    tls_why(why, "CERTFILE is not set", 0, 0);
    return -1;
  }
  if (RAND_bytes(cf.ticket_keys, sizeof cf.ticket_keys) != 1) {
    tls_why(why, "unable to make a ticket key", 0, tls_lib_reason("no randomness"));
    return -1;
  }
  set->dflt = server_ctx(cert, key, &cf, why);
  if (!set->dflt || add_sni(set, env, &cf, why) < 0) {
    set_free(set);
    return -1;
  }
  SSL_CTX_set_tlsext_servername_callback(set->dflt, on_servername);
  SSL_CTX_set_tlsext_servername_arg(set->dflt, s);
  warm_up(set->dflt);
  watch(set, cert);
  watch(set, key);
  watch(set, cf.cafile);
  OPENSSL_cleanse(cf.ticket_keys, sizeof cf.ticket_keys);
  return 0;
}

struct tls_server *tls_server_new(char *const *env, enum tls_clientcert mode,
                                  char why[TLS_WHY])
{
  struct tls_server *s = calloc(1, sizeof *s);
  if (!s) {
    tls_why(why, "out of memory", 0, 0);
    return 0;
  }
  s->mode = mode;
  if (build(s, &s->set, env, why) < 0) {
    free(s);
    return 0;
  }
  return s;
}

/* The files as they are now: a broken state is reported once, not at
   every look. */
static void rewatch(struct ctxset *set)
{
  for (size_t i = 0; i < set->nfiles; i++) {
    struct watched *w = &set->files[i];
    struct stat st;
    if (stat(w->path, &st) < 0) continue;
    w->dev = st.st_dev;
    w->ino = st.st_ino;
    w->size = st.st_size;
    w->mtime = st.st_mtim;
  }
}

int tls_server_reload(struct tls_server *s, char *const *env, char why[TLS_WHY])
{
  struct ctxset fresh;
  if (build(s, &fresh, env, why) < 0) {
    rewatch(&s->set);
    return -1;
  }
  set_free(&s->set);
  s->set = fresh;
  return 0;
}

int tls_server_changed(const struct tls_server *s)
{
  for (size_t i = 0; i < s->set.nfiles; i++) {
    const struct watched *w = &s->set.files[i];
    struct stat st;
    if (stat(w->path, &st) < 0) continue;   /* gone: a rename in progress */
    if (st.st_dev != w->dev || st.st_ino != w->ino || st.st_size != w->size
        || st.st_mtim.tv_sec != w->mtime.tv_sec
        || st.st_mtim.tv_nsec != w->mtime.tv_nsec)
      return 1;
  }
  return 0;
}

void tls_server_free(struct tls_server *s)
{
  if (!s) return;
  set_free(&s->set);
  free(s);
}

struct tls_conn *tls_conn_accept(struct tls_server *s, int fd)
{
  struct tls_conn *c = tls_conn_new(s->set.dflt, fd);
  if (c) SSL_set_accept_state(c->ssl);
  return c;
}

/* Names that are settings, not for the program. */
static int is_setting(const char *item)
{
  static const char *const names[] = {
    "CERTFILE", "KEYFILE", "CAFILE", "CADIR", "CIPHERS", "CERTCHAINFILE",
    "CCAFILE", "DHFILE", "VERIFYDEPTH", "TLS_UID", "TLS_GID", "SSL_UID",
    "SSL_GID",
    /* the connection's own, never inherited nor set by a rule */
    "SSL_PROTOCOL", "SSL_CIPHER", "SSL_SESSION_RESUMED",
    "SSL_TLS_SNI_SERVERNAME", "SSL_PEER_CERT_HASH",
  };
  size_t len = strcspn(item, "=:");
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == len && !strncmp(item, names[i], len)) return 1;
  /* OpenSSL's own SSL_CERT_FILE and the like stay: the program's. */
  return !strncmp(item, "SSL_CLIENT_", 11);
}

void tls_scrub_env(struct envb *e, char *const *env)
{
  for (; *env; env++) {
    if (!is_setting(*env)) continue;
    char *name = strndup(*env, strcspn(*env, "="));
    if (!name) continue;
    envb_unset(e, name);
    free(name);
  }
}
