/* fx_proto.h — Fedra MCU serial protocol v1 (see docs/mcu-protocol.md).
 * Payload = version u8 | type u8 | request id u16 LE | fields (LE). */
#ifndef FX_PROTO_H
#define FX_PROTO_H
#include <stddef.h>
#include <stdint.h>

#define FX_PROTO_VERSION 1
#define FX_ABI_VERSION 1
#define FX_KEY_LEN 32

enum {  /* host -> board */
    FX_MSG_HELLO = 0x01, FX_MSG_PING = 0x02, FX_MSG_HAS_FUNCTION = 0x03,
    FX_MSG_LOAD_BEGIN = 0x04, FX_MSG_LOAD_CHUNK = 0x05, FX_MSG_LOAD_END = 0x06,
    FX_MSG_RUN = 0x07, FX_MSG_CANCEL = 0x08,
};
enum {  /* board -> host */
    FX_MSG_ACK = 0x80, FX_MSG_CAPS = 0x81, FX_MSG_PONG = 0x82, FX_MSG_HAS = 0x83,
    FX_MSG_PROGRESS = 0x88, FX_MSG_RESULT = 0x89, FX_MSG_ERROR = 0xFF,
};
enum {  /* ERROR codes */
    FX_E_BAD_FRAME = 1, FX_E_TOO_LARGE = 2, FX_E_BAD_VERSION = 3, FX_E_UNKNOWN_TYPE = 4,
    FX_E_BAD_FIELDS = 5, FX_E_BUSY = 6, FX_E_NO_MODULE = 7, FX_E_LOAD_FAILED = 8,
    FX_E_TRAP = 9, FX_E_OUT_OF_FUEL = 10, FX_E_CANCELLED = 11, FX_E_NO_MEMORY = 12,
    FX_E_BAD_ENTRY = 13, FX_E_FUNCTION_ERROR = 14, FX_E_OUTPUT_TOO_LARGE = 15,
    FX_E_LOAD_STATE = 16, FX_E_DIGEST = 17, FX_E_NO_TASK = 18,
};

/* Bounded little-endian field reader/writer: an overrun sets `bad` and
 * further reads return zeros, so a handler checks once at the end. */
typedef struct { const uint8_t *p, *end; int bad; } fx_rd;
typedef struct { uint8_t *p, *end; int bad; } fx_wr;

uint8_t fx_get_u8(fx_rd *r);
uint16_t fx_get_u16(fx_rd *r);
uint32_t fx_get_u32(fx_rd *r);
uint64_t fx_get_u64(fx_rd *r);
const uint8_t *fx_get_bytes(fx_rd *r, size_t n);
void fx_put_u8(fx_wr *w, uint8_t v);
void fx_put_u16(fx_wr *w, uint16_t v);
void fx_put_u32(fx_wr *w, uint32_t v);
void fx_put_u64(fx_wr *w, uint64_t v);
void fx_put_bytes(fx_wr *w, const void *p, size_t n);

/* A parsed RUN request (pointers into the frame). */
typedef struct {
    const uint8_t *key;
    uint64_t fuel;
    const char *entry; uint8_t entry_len;
    const uint8_t *input; uint16_t input_len;
    const uint8_t *params; uint16_t params_len;
} fx_run_req;
int fx_parse_run(fx_rd *r, fx_run_req *q);   /* 0 ok, -1 malformed */

/* Streaming frame receiver: feed bytes, get whole validated payloads. */
typedef struct {
    uint8_t buf[FX_MAX_FRAME + 4 + FX_MAX_FRAME / 254 + 8];
    size_t n;
    int overflow;
} fx_rx;
/* Feed one byte. Returns 0 (need more), >0 payload length in `out`,
 * or -FX_E_* for a broken frame (bad COBS/CRC, too large). */
long fx_rx_byte(fx_rx *rx, uint8_t b, uint8_t *out);
/* Encode payload into a wire frame (with CRC and trailing 0x00). */
size_t fx_frame_encode(const uint8_t *payload, size_t n, uint8_t *out);

#endif
