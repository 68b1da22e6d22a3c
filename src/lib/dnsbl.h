#ifndef DNSBL_H
#define DNSBL_H
#include <stddef.h>
/* The pure parts of a DNSBL lookup, for rblsmtpd: the name to ask, the
   records of the answer, the message shown to the client.  No I/O here;
   the DNS packet is hostile input and every length is bounded. */

/* rblsmtpd's options (opts.h), for its main and its start before libc
   (rblstart.c). */
#define RBLSMTPD_OPTIONS "bBcCt:T:r:a:"

/* Longest text kept from a listing (the reference cuts it at 200). */
#define DNSBL_TEXT_MAX 200
/* Longest name dnsbl_name() builds (a DNS name has at most 253). */
#define DNSBL_NAME_MAX 1024

/* The name listing ip under base, into name[DNSBL_NAME_MAX]:
   IPv6 (also in brackets or with %scope): the 32 nibbles in reverse, as
   DNSBLs publish them (1.0.0...8.b.d.0.1.0.0.2.BASE); an IPv4-mapped
   address counts as IPv4.  Anything else is split at dots and the parts
   reversed, as 0.88 does: "1.2.3.4" gives "4.3.2.1.BASE", "" gives BASE.
   Returns the length, or 0 when it does not fit. */
size_t dnsbl_name(const char *ip, const char *base, char *name);

/* The text of a listing: every character-string of every TXT record,
   concatenated, cut at DNSBL_TEXT_MAX bytes. */
struct dnsbl_text {
  char s[DNSBL_TEXT_MAX];
  size_t len;
};

/* What an answer packet holds, read from its answer section (records of
   class IN only, whatever their owner name, as 0.88 reads them).
   Returns 0, or -1 if the packet is malformed. */
int dnsbl_answer_txt(const unsigned char *pkt, size_t len,
                     struct dnsbl_text *text);
/* 1 if the answer has an A record, 0 if not, -1 if malformed. */
int dnsbl_answer_has_a(const unsigned char *pkt, size_t len);

/* Replace every byte outside 32..126 with '?'. */
void dnsbl_sanitise(char *s, size_t len);

/* The reply to the client, "451 TEXT" or "553 TEXT" (permanent nonzero),
   sanitised, without line end, into line[4 + DNSBL_TEXT_MAX + 1]
   (NUL-terminated).  Returns the length. */
#define DNSBL_REPLY_MAX (4 + DNSBL_TEXT_MAX)
size_t dnsbl_reply(int permanent, const char *text, size_t len, char *line);
#endif
