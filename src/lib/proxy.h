#ifndef PROXY_H
#define PROXY_H
#include <stddef.h>
#include <stdint.h>
#include "addr.h"

/* The receiving side of the PROXY protocol (versions 1 and 2 of HAProxy's
   proxy-protocol.txt): a trusted proxy in front of the server sends the
   real client's addresses in a header before the client's data.

   The parser keeps no state between calls: the caller hands it every byte
   received so far, and it answers "complete", "invalid" or "need more".
   When it needs more it says how many bytes may still be read without
   reading past the end of the header, so that a server reading from the
   socket into its own buffer never consumes a byte of the client's data:
   read at most that many, then call again with all the bytes.  The
   buffer never needs more than PROXY_HEADER_MAX bytes.

   Choices where the specification leaves room (strict throughout):
   - v1: exactly "PROXY" SP proto SP src SP dst SP sport SP dport CRLF,
     single spaces, at most 107 bytes with the CRLF; a CR not followed by
     LF or an LF not preceded by CR is invalid.  TCP4 addresses are
     dotted quads without leading zeros; TCP6 addresses may be any text
     form of an IPv6 address (hex digits, ':' and '.', upper or lower
     case, compressed or not) but no brackets and no "%scope".  Ports
     are 0..65535 without leading zeros.  UNKNOWN: the rest of the line
     is ignored (but must not hold a CR or LF) and has_addresses is 0.
   - v4-mapped TCP6 addresses (v1 and v2) fold to IPv4 only when both
     are v4-mapped, as a real dual-stack connection's do; one mapped and
     one native both stay IPv6, so that src and dst always have one
     family and PROTO matches both.
   - v2 LOCAL (health checks): everything after the 16-byte fixed part is
     skipped uninterpreted (family, addresses, TLVs), as the specification
     says to discard it; has_addresses is 0.
   - v2 PROXY: family/transport 0x11 (TCP over IPv4) and 0x21 (TCP over
     IPv6) carry addresses; 0x00 (UNSPEC) is accepted without addresses
     (the real endpoints are used, as with v1 UNKNOWN).  UNIX (0x31, 0x32)
     and datagram (0x12, 0x22) are rejected: a TCP server has no way to
     present them as TCPREMOTEIP, and using the proxy's own address in
     their place would give a client the proxy's standing in the rules.
     Every other value is invalid, as the specification demands.
   - v2 headers longer than PROXY_HEADER_MAX in all are rejected as
     oversized (the protocol allows 16 + 65535; real senders send a few
     hundred bytes at most).
   - TLVs must tile the rest of the header exactly.  A CRC32C TLV must be
     4 bytes and match.  The kept TLVs (ALPN, AUTHORITY, UNIQUE_ID, SSL and
     its sub-TLVs VERSION, CN, CIPHER, SIG_ALG, KEY_ALG) may appear once
     each; a repeated one, a UNIQUE_ID over 128 bytes, or any kept value
     over PROXY_VALUE_MAX bytes is invalid.  NOOP, NETNS, the custom range
     0xE0..0xEF and unknown types are skipped.
   - The values are kept raw (with their lengths) in the header struct;
     proxy_value_env renders one safe for the environment or a log. */

enum proxy_version { PROXY_V1 = 1, PROXY_V2 = 2, PROXY_ANY = 3 };
enum proxy_command { PROXY_CMD_LOCAL = 0, PROXY_CMD_PROXY = 1 };

#define PROXY_V1_MAX 107           /* longest v1 line, CRLF included */
#define PROXY_V2_FIXED 16          /* signature, version/command, family, length */
#define PROXY_HEADER_MAX 4096      /* longest header accepted, any version */
#define PROXY_VALUE_MAX 255        /* longest TLV value kept */
#define PROXY_UNIQUE_ID_MAX 128    /* the specification's bound */

/* Bits of ssl_client (PP2_CLIENT_*). */
#define PROXY_SSL_CLIENT_SSL 0x01u        /* the client used TLS */
#define PROXY_SSL_CLIENT_CERT_CONN 0x02u  /* it sent a certificate on this connection */
#define PROXY_SSL_CLIENT_CERT_SESS 0x04u  /* ... on this session */

/* A TLV value: raw bytes, not necessarily text; v[len] is 0. */
struct proxy_value {
  int present;
  size_t len;
  unsigned char v[PROXY_VALUE_MAX + 1];
};

struct proxy_header {
  int version;              /* 1 or 2 */
  int command;              /* PROXY_CMD_*; v1 is always PROXY */
  size_t length;            /* bytes of the header */
  int has_addresses;        /* 0: use the real endpoints of the connection */
  struct ip_addr src, dst;  /* client and the address it connected to */
  unsigned srcport, dstport;
  int has_crc32c;           /* a CRC32C TLV was there (and matched) */
  struct proxy_value alpn, authority, unique_id;
  int has_ssl;              /* an SSL TLV was there */
  unsigned ssl_client;      /* PROXY_SSL_CLIENT_* bits */
  uint32_t ssl_verify;      /* 0: the client's certificate was verified */
  struct proxy_value ssl_version, ssl_cn, ssl_cipher, ssl_sig_alg, ssl_key_alg;
};

/* Parse the len bytes received so far, accepting the versions in accept
   (PROXY_V1, PROXY_V2 or both).
   Returns 1: complete; *h is filled and *need is the header's length
   (bytes after it in buf are the client's data).
   Returns 0: not complete yet; *need (at least 1) is how many more bytes
   may be read without reading past the header.  *h is not touched.
   Returns -1: not a valid header; *why says why in a few words (static
   text for a log line), *need is 0.  *h may have been written.
   why may be NULL. */
int proxy_parse(const unsigned char *buf, size_t len, unsigned accept,
                struct proxy_header *h, size_t *need, const char **why);

/* Render a value for the environment or a log: bytes outside printable
   ASCII (32..126) become '?', the result is cut to fit size - 1 bytes and
   0-terminated.  Returns its length.  size must be at least 1. */
size_t proxy_value_env(const struct proxy_value *v, char *out, size_t size);
#endif
