#include <stdint.h>
#include "tap.h"
#include "crc32c.h"

/* The definition, one bit at a time, to check the table against. */
static uint32_t bitwise(const unsigned char *p, size_t n)
{
  uint32_t crc = 0xffffffffu;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    for (int k = 0; k < 8; k++)
      crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

int main(void)
{
  tap_ok(crc32c("123456789", 9) == 0xE3069283u, "check value of \"123456789\"");
  tap_ok(crc32c("", 0) == 0, "empty input");
  char hex[16];
  snprintf(hex, sizeof hex, "%08x", (unsigned) crc32c("a", 1));
  tap_is_str(hex, "c1d04330", "check value of \"a\"");
  unsigned char zeros[32] = { 0 }, ones[32], inc[32];
  memset(ones, 0xff, sizeof ones);
  for (int i = 0; i < 32; i++) inc[i] = (unsigned char) i;
  /* RFC 3720 (iSCSI) B.4 test vectors. */
  tap_ok(crc32c(zeros, 32) == 0x8A9136AAu, "32 zero bytes (RFC 3720)");
  tap_ok(crc32c(ones, 32) == 0x62A8AB43u, "32 0xff bytes (RFC 3720)");
  tap_ok(crc32c(inc, 32) == 0x46DD794Eu, "bytes 0..31 (RFC 3720)");

  unsigned char all[256];
  for (int i = 0; i < 256; i++) all[i] = (unsigned char) (i * 7 + 3);
  int same = 1;
  for (size_t n = 0; n <= sizeof all; n++)
    if (crc32c(all, n) != bitwise(all, n)) same = 0;
  tap_ok(same, "table agrees with the bitwise definition for every length");

  int pieces = 1;
  for (size_t cut = 0; cut <= sizeof all; cut++)
    if (crc32c_update(crc32c(all, cut), all + cut, sizeof all - cut) != crc32c(all, sizeof all))
      pieces = 0;
  tap_ok(pieces, "update in two pieces equals one pass, at every cut");
  return tap_done();
}
