/* fx_proto.c — field codecs and the frame receiver of the serial protocol. */
#include <string.h>
#include "fx_config.h"
#include "fx_proto.h"
#include "fx_wire.h"

static int need(fx_rd *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) { r->bad = 1; return 0; }
    return 1;
}
uint8_t fx_get_u8(fx_rd *r) { return need(r, 1) ? *r->p++ : 0; }
uint16_t fx_get_u16(fx_rd *r)
{
    if (!need(r, 2)) return 0;
    uint16_t v = (uint16_t)(r->p[0] | r->p[1] << 8); r->p += 2; return v;
}
uint32_t fx_get_u32(fx_rd *r)
{
    if (!need(r, 4)) return 0;
    uint32_t v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
    r->p += 4; return v;
}
uint64_t fx_get_u64(fx_rd *r) { uint64_t lo = fx_get_u32(r); return lo | (uint64_t)fx_get_u32(r) << 32; }
const uint8_t *fx_get_bytes(fx_rd *r, size_t n)
{
    if (!need(r, n)) return NULL;
    const uint8_t *p = r->p; r->p += n; return p;
}

static int room(fx_wr *w, size_t n)
{
    if (w->bad || (size_t)(w->end - w->p) < n) { w->bad = 1; return 0; }
    return 1;
}
void fx_put_u8(fx_wr *w, uint8_t v) { if (room(w, 1)) *w->p++ = v; }
void fx_put_u16(fx_wr *w, uint16_t v) { if (room(w, 2)) { w->p[0] = (uint8_t)v; w->p[1] = (uint8_t)(v >> 8); w->p += 2; } }
void fx_put_u32(fx_wr *w, uint32_t v)
{
    if (room(w, 4)) { for (int i = 0; i < 4; i++) w->p[i] = (uint8_t)(v >> (8 * i)); w->p += 4; }
}
void fx_put_u64(fx_wr *w, uint64_t v) { fx_put_u32(w, (uint32_t)v); fx_put_u32(w, (uint32_t)(v >> 32)); }
void fx_put_bytes(fx_wr *w, const void *p, size_t n) { if (room(w, n)) { memcpy(w->p, p, n); w->p += n; } }

int fx_parse_run(fx_rd *r, fx_run_req *q)
{
    q->key = fx_get_bytes(r, FX_KEY_LEN);
    q->fuel = fx_get_u64(r);
    q->entry_len = fx_get_u8(r);
    q->entry = (const char *)fx_get_bytes(r, q->entry_len);
    q->input_len = fx_get_u16(r);
    q->input = fx_get_bytes(r, q->input_len);
    q->params_len = fx_get_u16(r);
    q->params = fx_get_bytes(r, q->params_len);
    if (r->bad || r->p != r->end || q->entry_len == 0) return -1;
    return 0;
}

long fx_rx_byte(fx_rx *rx, uint8_t b, uint8_t *out)
{
    if (b != 0) {
        if (rx->n < sizeof rx->buf) rx->buf[rx->n++] = b;
        else rx->overflow = 1;
        return 0;
    }
    /* end of frame */
    size_t n = rx->n;
    int over = rx->overflow;
    rx->n = 0; rx->overflow = 0;
    if (over) return -FX_E_TOO_LARGE;
    if (n == 0) return 0;                       /* idle delimiters are fine */
    long len = fx_cobs_decode(rx->buf, n, out, FX_MAX_FRAME + 4);
    if (len < 0) return -FX_E_BAD_FRAME;
    if (len < 4 + 4) return -FX_E_BAD_FRAME;   /* header + crc at least */
    size_t pl = (size_t)len - 4;
    uint32_t crc = (uint32_t)out[pl] | (uint32_t)out[pl + 1] << 8 | (uint32_t)out[pl + 2] << 16 | (uint32_t)out[pl + 3] << 24;
    if (crc != fx_crc32(out, pl)) return -FX_E_BAD_FRAME;
    if (pl > FX_MAX_FRAME) return -FX_E_TOO_LARGE;
    return (long)pl;
}

size_t fx_frame_encode(const uint8_t *payload, size_t n, uint8_t *out)
{
    /* the CRC is appended in place after the payload copy */
    uint8_t tmp[FX_MAX_FRAME + 4];
    uint32_t crc = fx_crc32(payload, n);
    memcpy(tmp, payload, n);
    for (int i = 0; i < 4; i++) tmp[n + i] = (uint8_t)(crc >> (8 * i));
    size_t e = fx_cobs_encode(tmp, n + 4, out);
    out[e++] = 0;
    return e;
}
