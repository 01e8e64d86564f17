/* fx_read.c — the arena allocator and the bounded byte/LEB128 reader shared
 * by the parser and the compiler, and the runtime's shared error strings. */
#include "fx_int.h"

const char fx_suspended[] = "suspended";
const char fx_err_oom[] = "out of arena memory";
const char fx_err_eof[] = "malformed: unexpected end";
const char fx_err_leb[] = "malformed: integer representation too long";
int fx_is_unsupported(fx_result r) { return r && !strncmp(r, "unsupported", 11); }
int fx_is_trap(fx_result r) { return r && !strncmp(r, "trap:", 5); }

/* ---------------- arena ---------------- */
void fx_arena_init(fx_arena *a, void *mem, size_t size)
{
    uintptr_t p = ((uintptr_t)mem + 7) & ~(uintptr_t)7;
    size -= p - (uintptr_t)mem;
    a->base = (uint8_t *)p; a->size = size & ~(size_t)7; a->lo = 0; a->hi = a->size;
    a->prezeroed = 0;
}
void *fx_arena_alloc(fx_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    a->lo = (a->lo + 7) & ~(size_t)7;   /* code emission leaves lo 4-aligned */
    if (a->lo > a->hi || n > a->hi - a->lo) return NULL;
    void *p = a->base + a->lo;
    a->lo += n;
    if (!a->prezeroed) memset(p, 0, n);
    return p;
}
void *fx_arena_temp(fx_arena *a, size_t n)
{
    n = (n + 7) & ~(size_t)7;
    if (a->lo > a->hi || n > a->hi - a->lo) return NULL;
    a->hi -= n;
    return a->base + a->hi;
}
void fx_arena_drop_temps(fx_arena *a) { a->hi = a->size; }
size_t fx_arena_free(const fx_arena *a) { return a->hi - a->lo; }

/* ---------------- reader ---------------- */
fx_result fx_rd_u8(fx_reader *r, uint8_t *v)
{
    if (r->p >= r->end) return fx_err_eof;
    *v = *r->p++;
    return NULL;
}
/* Unsigned/signed LEB128 with the spec's length and unused-bit rules. */
static fx_result rd_leb(fx_reader *r, unsigned bits, int sign, uint64_t *out)
{
    uint64_t v = 0; unsigned shift = 0; uint8_t b;
    unsigned maxbytes = (bits + 6) / 7;
    for (unsigned i = 0;; i++) {
        if (i >= maxbytes) return fx_err_leb;
        FX_TRY(fx_rd_u8(r, &b));
        v |= (uint64_t)(b & 0x7F) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (i == maxbytes - 1) {           /* last byte: check unused bits */
                unsigned used = bits - 7 * i;  /* payload bits in this byte */
                uint8_t rest = (uint8_t)(b & 0x7F) >> used;
                if (sign) {
                    uint8_t sbit = (b >> (used - 1)) & 1;
                    uint8_t want = sbit ? (uint8_t)(0x7F >> used) : 0;
                    if (rest != want) return "malformed: integer too large";
                } else if (rest) return "malformed: integer too large";
            }
            if (sign && shift < 64 && (b & 0x40)) v |= ~(uint64_t)0 << shift;
            break;
        }
    }
    *out = v;
    return NULL;
}
fx_result fx_rd_u32(fx_reader *r, uint32_t *v)
{
    uint64_t x; FX_TRY(rd_leb(r, 32, 0, &x)); *v = (uint32_t)x; return NULL;
}
fx_result fx_rd_s32(fx_reader *r, int32_t *v)
{
    uint64_t x; FX_TRY(rd_leb(r, 32, 1, &x)); *v = (int32_t)(uint32_t)x; return NULL;
}
fx_result fx_rd_s64(fx_reader *r, int64_t *v)
{
    uint64_t x; FX_TRY(rd_leb(r, 64, 1, &x)); *v = (int64_t)x; return NULL;
}
fx_result fx_rd_bytes(fx_reader *r, uint32_t n, const uint8_t **p)
{
    if ((size_t)(r->end - r->p) < n) return fx_err_eof;
    *p = r->p; r->p += n;
    return NULL;
}
