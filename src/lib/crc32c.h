#ifndef CRC32C_H
#define CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* CRC32C (Castagnoli: reflected, polynomial 0x82F63B78, initial and final
   value inverted), the checksum of the PROXY protocol v2 CRC32C TLV.
   crc32c("123456789", 9) is 0xE3069283. */

/* The checksum of len bytes. */
uint32_t crc32c(const void *buf, size_t len);

/* Continue a checksum over more bytes: start with crc = 0 (the checksum
   of nothing) and pass the previous result; the result after the last
   piece equals crc32c of all the pieces at once. */
uint32_t crc32c_update(uint32_t crc, const void *buf, size_t len);
#endif
