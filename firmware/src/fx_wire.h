/* fx_wire.h — framing (COBS + CRC-32) and checksums for the serial protocol. */
#ifndef FX_WIRE_H
#define FX_WIRE_H
#include <stddef.h>
#include <stdint.h>

/* CRC-32/IEEE (reflected, poly 0xEDB88320, init/xorout 0xFFFFFFFF), as zlib. */
uint32_t fx_crc32(const uint8_t *p, size_t n);

/* COBS: encoded size is at most n + n/254 + 1 (no 0x00 inside). */
#define FX_COBS_MAX(n) ((n) + (n) / 254 + 2)
size_t fx_cobs_encode(const uint8_t *in, size_t n, uint8_t *out);
/* Returns decoded length, or -1 if malformed or larger than cap. In-place ok. */
long fx_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap);

/* SHA-256, to check a module against the CID digest the host sent. */
void fx_sha256(const uint8_t *p, size_t n, uint8_t out[32]);

#endif
