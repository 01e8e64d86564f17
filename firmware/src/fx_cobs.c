/* fx_cobs.c — Consistent Overhead Byte Stuffing. Frames on the wire are
 * COBS(payload || crc32le(payload)) 0x00, so a 0x00 always ends a frame and a
 * receiver can resynchronise after any garbage by waiting for the next 0x00. */
#include "fx_wire.h"

size_t fx_cobs_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t code_at = 0, o = 1;
    uint8_t code = 1;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == 0) {
            out[code_at] = code; code_at = o++; code = 1;
        } else {
            out[o++] = in[i];
            if (++code == 0xFF) { out[code_at] = code; code_at = o++; code = 1; }
        }
    }
    out[code_at] = code;
    return o;
}

long fx_cobs_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t code = in[i++];
        if (code == 0) return -1;
        for (uint8_t k = 1; k < code; k++) {
            if (i >= n || in[i] == 0 || o >= cap) return -1;
            out[o++] = in[i++];
        }
        /* a group shorter than 0xFF implies a zero, except at the very end */
        if (code != 0xFF && i < n) {
            if (o >= cap) return -1;
            out[o++] = 0;
        }
    }
    return (long)o;
}
