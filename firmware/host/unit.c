/* unit.c — host unit tests: CRC-32, COBS, SHA-256, frame receiver, message
 * parsing, the node over a fake port, and interpreter fuel/resume. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../src/fx_node.h"

static int fails, checks;
#define CHECK(c) do { checks++; if (!(c)) { fails++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

static uint32_t rng = 12345;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng; }

static void test_crc_sha(void)
{
    CHECK(fx_crc32((const uint8_t *)"123456789", 9) == 0xCBF43926u);
    CHECK(fx_crc32(NULL, 0) == 0);
    uint8_t d[32];
    static const uint8_t abc[32] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
        0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
    fx_sha256((const uint8_t *)"abc", 3, d);
    CHECK(!memcmp(d, abc, 32));
    static const uint8_t empty[4] = { 0xe3, 0xb0, 0xc4, 0x42 };
    fx_sha256(NULL, 0, d);
    CHECK(!memcmp(d, empty, 4));
    /* 56..64-byte messages need a second padding block */
    uint8_t m[64]; memset(m, 'a', sizeof m);
    static const uint8_t a56[4] = { 0xb3, 0x54, 0x39, 0xa4 };  /* sha256("a" x 56) */
    fx_sha256(m, 56, d);
    CHECK(!memcmp(d, a56, 4));
}

static void test_cobs(void)
{
    uint8_t enc[2000], dec[2000], in[1100];
    static const uint8_t v1[] = { 0x11, 0x22, 0x00, 0x33 }, e1[] = { 0x03, 0x11, 0x22, 0x02, 0x33 };
    size_t n = fx_cobs_encode(v1, 4, enc);
    CHECK(n == 5 && !memcmp(enc, e1, 5));
    static const uint8_t z[] = { 0 };
    n = fx_cobs_encode(z, 1, enc);
    CHECK(n == 2 && enc[0] == 1 && enc[1] == 1);
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = rnd() % 1100;
        int mode = iter % 3;
        for (size_t i = 0; i < len; i++) in[i] = mode == 0 ? (uint8_t)rnd() : mode == 1 ? (uint8_t)(rnd() % 4 ? 1 + rnd() % 255 : 0) : (uint8_t)(1 + rnd() % 255);
        n = fx_cobs_encode(in, len, enc);
        CHECK(n <= FX_COBS_MAX(len));
        CHECK(memchr(enc, 0, n) == NULL);
        long d = fx_cobs_decode(enc, n, dec, sizeof dec);
        CHECK(d == (long)len && !memcmp(in, dec, len));
        if (len > 10) CHECK(fx_cobs_decode(enc, n, dec, len - 1) == -1);   /* cap respected */
    }
    static const uint8_t bad[] = { 0x05, 0x11 };
    CHECK(fx_cobs_decode(bad, 2, dec, sizeof dec) == -1);
}

static void test_rx(void)
{
    static fx_rx rx;
    uint8_t wire[2200], out[FX_MAX_FRAME + 8], pl[FX_MAX_FRAME];
    for (size_t i = 0; i < sizeof pl; i++) pl[i] = (uint8_t)(i * 7);
    long got = 0;
    size_t n = fx_frame_encode(pl, 100, wire);
    for (size_t i = 0; i < n; i++) { long r = fx_rx_byte(&rx, wire[i], out); if (r) got = r; }
    CHECK(got == 100 && !memcmp(out, pl, 100));
    n = fx_frame_encode(pl, FX_MAX_FRAME, wire);       /* the largest legal frame */
    got = 0;
    for (size_t i = 0; i < n; i++) { long r = fx_rx_byte(&rx, wire[i], out); if (r) got = r; }
    CHECK(got == FX_MAX_FRAME);
    n = fx_frame_encode(pl, 50, wire);
    wire[3] ^= 1;                                      /* corrupt: CRC must catch it */
    got = 0;
    for (size_t i = 0; i < n; i++) { long r = fx_rx_byte(&rx, wire[i], out); if (r) got = r; }
    CHECK(got == -FX_E_BAD_FRAME);
    got = 0;
    for (int i = 0; i < 3000; i++) { long r = fx_rx_byte(&rx, 9, out); if (r) got = r; }
    CHECK(got == 0);
    CHECK(fx_rx_byte(&rx, 0, out) == -FX_E_TOO_LARGE);
    CHECK(fx_rx_byte(&rx, 0, out) == 0);               /* idle delimiter */
}

/* The test vectors printed in docs/mcu-protocol.md (made with test/fedra-mcu.mjs). */
static void test_vectors(void)
{
    static const uint8_t hello[] = { 1, 1, 1, 0 }, hello_wire[] = { 0x04, 0x01, 0x01, 0x01, 0x05, 0x0f, 0xe3, 0x21, 0x81, 0x00 };
    static const uint8_t ping[] = { 1, 2, 2, 0, 0, 1, 2 }, ping_wire[] = { 0x04, 0x01, 0x02, 0x02, 0x01, 0x07, 0x01, 0x02, 0xcc, 0x76, 0x06, 0xfb, 0x00 };
    uint8_t w[64];
    CHECK(fx_frame_encode(hello, sizeof hello, w) == sizeof hello_wire && !memcmp(w, hello_wire, sizeof hello_wire));
    CHECK(fx_frame_encode(ping, sizeof ping, w) == sizeof ping_wire && !memcmp(w, ping_wire, sizeof ping_wire));
    CHECK(fx_crc32(hello, 4) == 0x8121e30fu);
}

static void test_parse_run(void)
{
    uint8_t buf[128]; fx_wr w = { buf, buf + sizeof buf, 0 };
    uint8_t key[32] = { 1 };
    fx_put_bytes(&w, key, 32); fx_put_u64(&w, 1000); fx_put_u8(&w, 3); fx_put_bytes(&w, "run", 3);
    fx_put_u16(&w, 2); fx_put_bytes(&w, "ab", 2); fx_put_u16(&w, 1); fx_put_bytes(&w, "p", 1);
    size_t len = (size_t)(w.p - buf);
    fx_run_req q; fx_rd r = { buf, buf + len, 0 };
    CHECK(fx_parse_run(&r, &q) == 0 && q.fuel == 1000 && q.entry_len == 3 && q.input_len == 2 && q.params_len == 1);
    for (size_t cut = 0; cut < len; cut++) { fx_rd t = { buf, buf + cut, 0 }; CHECK(fx_parse_run(&t, &q) == -1); }
    fx_rd t = { buf, buf + len + 1, 0 }; buf[len] = 0;
    CHECK(fx_parse_run(&t, &q) == -1);                 /* trailing byte */
}

/* A minimal ABI v1 module (wat2wasm of: memory "memory" 1; fedra_alloc ->
 * 64; fedra_output_ptr -> 64; echo(in, len, p, pl) -> len). */
static const uint8_t abi_min[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x12, 0x03, 0x60, 0x01, 0x7f, 0x01, 0x7f,
    0x60, 0x00, 0x01, 0x7f, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x01, 0x7f, 0x03, 0x04, 0x03, 0x00,
    0x01, 0x02, 0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x32, 0x04, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72,
    0x79, 0x02, 0x00, 0x0b, 0x66, 0x65, 0x64, 0x72, 0x61, 0x5f, 0x61, 0x6c, 0x6c, 0x6f, 0x63, 0x00,
    0x00, 0x10, 0x66, 0x65, 0x64, 0x72, 0x61, 0x5f, 0x6f, 0x75, 0x74, 0x70, 0x75, 0x74, 0x5f, 0x70,
    0x74, 0x72, 0x00, 0x01, 0x04, 0x65, 0x63, 0x68, 0x6f, 0x00, 0x02, 0x0a, 0x12, 0x03, 0x05, 0x00,
    0x41, 0xc0, 0x00, 0x0b, 0x05, 0x00, 0x41, 0xc0, 0x00, 0x0b, 0x04, 0x00, 0x20, 0x01, 0x0b };

/* ---- node over a fake port ---- */
static uint8_t sent[8192]; static size_t nsent;
static void cap(void *ctx, const uint8_t *p, size_t n) { (void)ctx; if (nsent + n <= sizeof sent) { memcpy(sent + nsent, p, n); nsent += n; } }
static fx_node node;
/* decode the last frame the node sent */
static long last_reply(uint8_t *out)
{
    static fx_rx rx; long got = 0;
    for (size_t i = 0; i < nsent; i++) { long r = fx_rx_byte(&rx, sent[i], out); if (r) got = r; }
    nsent = 0;
    return got;
}
static void send_msg(uint8_t type, uint16_t req, const uint8_t *f, size_t n)
{
    uint8_t pl[FX_MAX_FRAME], wire[2200];
    pl[0] = 1; pl[1] = type; pl[2] = (uint8_t)req; pl[3] = (uint8_t)(req >> 8);
    if (n) memcpy(pl + 4, f, n);
    size_t e = fx_frame_encode(pl, n + 4, wire);
    fx_node_rx(&node, wire, e);
}

/* Upload a module: LOAD_BEGIN, one LOAD_CHUNK, LOAD_END, expecting ACK. */
static void upload_bytes(const uint8_t *w, size_t len, uint8_t key[32])
{
    uint8_t f[300], out[FX_MAX_FRAME + 8];
    fx_sha256(w, len, key);
    memcpy(f, key, 32); f[32] = (uint8_t)len; f[33] = (uint8_t)(len >> 8); f[34] = f[35] = 0;
    send_msg(FX_MSG_LOAD_BEGIN, 1, f, 36); last_reply(out);
    memset(f, 0, 4); memcpy(f + 4, w, len);
    send_msg(FX_MSG_LOAD_CHUNK, 2, f, 4 + len); last_reply(out);
    send_msg(FX_MSG_LOAD_END, 3, key, 32);
    CHECK(last_reply(out) > 0 && out[1] == FX_MSG_ACK);
}
/* The ABI module plus a custom section `tag`, so each upload is distinct. */
static void upload(uint8_t tag, uint8_t key[32])
{
    uint8_t w[sizeof abi_min + 4];
    memcpy(w, abi_min, sizeof abi_min);
    w[sizeof abi_min] = 0; w[sizeof abi_min + 1] = 2; w[sizeof abi_min + 2] = 1; w[sizeof abi_min + 3] = tag;
    upload_bytes(w, sizeof w, key);
}
static void test_node(void)
{
    static const fx_port port = { cap, NULL, NULL, "unit", 1, 2, 3, 0 };
    uint8_t out[FX_MAX_FRAME + 8];
    fx_node_init(&node, &port);
    send_msg(FX_MSG_HELLO, 5, NULL, 0);
    long n = last_reply(out);
    CHECK(n > 10 && out[1] == FX_MSG_CAPS && out[2] == 5 && out[4] == FX_ABI_VERSION);
    send_msg(FX_MSG_PING, 6, (const uint8_t *)"xy", 2);
    n = last_reply(out);
    CHECK(n == 6 && out[1] == FX_MSG_PONG && out[4] == 'x');
    uint8_t key[32] = { 0 };
    send_msg(FX_MSG_HAS_FUNCTION, 7, key, 32);
    n = last_reply(out);
    CHECK(n == 5 && out[1] == FX_MSG_HAS && out[4] == 0);
    send_msg(FX_MSG_HAS_FUNCTION, 8, key, 31);
    n = last_reply(out);
    CHECK(n > 5 && out[1] == FX_MSG_ERROR && out[4] == FX_E_BAD_FIELDS);
    /* upload a module whose digest does not match its key */
    static const uint8_t wasm[] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
    uint8_t f[64]; memcpy(f, key, 32); f[32] = 8; f[33] = f[34] = f[35] = 0;
    send_msg(FX_MSG_LOAD_BEGIN, 9, f, 36);
    CHECK(last_reply(out) > 0 && out[1] == FX_MSG_ACK);
    memset(f, 0, 4); memcpy(f + 4, wasm, 8);
    send_msg(FX_MSG_LOAD_CHUNK, 10, f, 12);
    CHECK(last_reply(out) > 0 && out[1] == FX_MSG_ACK);
    send_msg(FX_MSG_LOAD_END, 11, key, 32);
    CHECK(last_reply(out) > 0 && out[1] == FX_MSG_ERROR && out[4] == FX_E_DIGEST);
    /* with the right key: an empty module is valid wasm but not ABI v1 */
    fx_sha256(wasm, 8, key);
    memcpy(f, key, 32); f[32] = 8; f[33] = f[34] = f[35] = 0;
    send_msg(FX_MSG_LOAD_BEGIN, 12, f, 36); last_reply(out);
    memset(f, 0, 4); memcpy(f + 4, wasm, 8);
    send_msg(FX_MSG_LOAD_CHUNK, 13, f, 12); last_reply(out);
    send_msg(FX_MSG_LOAD_END, 14, key, 32);
    CHECK(last_reply(out) > 0 && out[1] == FX_MSG_ERROR && out[4] == FX_E_LOAD_FAILED);
    send_msg(FX_MSG_HAS_FUNCTION, 15, key, 32);
    CHECK(last_reply(out) == 5 && out[4] == 0);
    upload_bytes(abi_min, sizeof abi_min, key);
    /* RUN echo: output = input */
    uint8_t rq[64]; fx_wr w = { rq, rq + sizeof rq, 0 };
    fx_put_bytes(&w, key, 32); fx_put_u64(&w, 0); fx_put_u8(&w, 4); fx_put_bytes(&w, "echo", 4);
    fx_put_u16(&w, 2); fx_put_bytes(&w, "hi", 2); fx_put_u16(&w, 0);
    send_msg(FX_MSG_RUN, 16, rq, (size_t)(w.p - rq));
    CHECK(last_reply(out) > 0 && out[1] == FX_MSG_ACK);
    while (fx_node_step(&node)) {}
    n = last_reply(out);
    CHECK(n == 4 + 8 + 4 + 2 + 2 && out[1] == FX_MSG_RESULT && !memcmp(out + 18, "hi", 2));
    /* RUN of a missing entry point: accepted, then ERROR */
    w.p = rq;
    fx_put_bytes(&w, key, 32); fx_put_u64(&w, 0); fx_put_u8(&w, 4); fx_put_bytes(&w, "nope", 4);
    fx_put_u16(&w, 0); fx_put_u16(&w, 0);
    send_msg(FX_MSG_RUN, 17, rq, (size_t)(w.p - rq));
    CHECK(last_reply(out) > 0 && out[1] == FX_MSG_ACK);
    while (fx_node_step(&node)) {}
    CHECK(last_reply(out) > 0 && out[1] == FX_MSG_ERROR && out[4] == FX_E_BAD_ENTRY);
}

static int has(const uint8_t key[32])
{
    uint8_t out[FX_MAX_FRAME + 8];
    send_msg(FX_MSG_HAS_FUNCTION, 4, key, 32);
    return last_reply(out) == 5 && out[4] == 1;
}

/* The module cache evicts the least recently used module. */
static void test_lru(void)
{
    static const fx_port port = { cap, NULL, NULL, "unit", 1, 2, 3, 0 };
    uint8_t keys[FX_MODULE_SLOTS + 1][32];
    fx_node_init(&node, &port);
    for (int i = 0; i < FX_MODULE_SLOTS; i++) upload((uint8_t)('a' + i), keys[i]);
    for (int i = 0; i < FX_MODULE_SLOTS; i++) CHECK(has(keys[i]));
    CHECK(has(keys[0]));                                /* a use: keys[1] is now the oldest */
    upload('z', keys[FX_MODULE_SLOTS]);
    CHECK(has(keys[FX_MODULE_SLOTS]));
    CHECK(has(keys[0]));
    CHECK(!has(keys[1]));                               /* evicted */
}

/* Fuel: a loop run in slices of 7 gives the same result and count as one go. */
static void test_fuel(void)
{
    /* (func (export "f") (param i32) (result i32) (local i32)
     *   loop: local1 += local0; local0 -= 1; br_if local0; local1) */
    static const uint8_t w[] = {
        0, 'a', 's', 'm', 1, 0, 0, 0,
        1, 6, 1, 0x60, 1, 0x7F, 1, 0x7F,
        3, 2, 1, 0,
        7, 5, 1, 1, 'f', 0, 0,
        10, 27, 1, 25, 1, 1, 0x7F,
        0x03, 0x40,
        0x20, 1, 0x20, 0, 0x6A, 0x21, 1,
        0x20, 0, 0x41, 1, 0x6B, 0x22, 0,
        0x0D, 0,
        0x0B,
        0x20, 1, 0x0B };
    static uint8_t mem[1 << 20];
    fx_arena a; fx_module *m; fx_instance *I;
    fx_arena_init(&a, mem, sizeof mem);
    fx_result r = fx_module_load(&a, w, sizeof w, NULL, 0, &m);
    CHECK(r == NULL);
    if (r) { printf("load: %s\n", r); return; }
    CHECK(fx_instantiate(&a, m, 100, &I) == NULL);
    uint64_t arg = 1000, res = 0, used = 0, total = 0;
    CHECK(fx_call(I, 0, &arg, 1, &res, 1, UINT64_MAX) == NULL && res == 500500);
    CHECK(fx_call_begin(I, 0, &arg, 1) == NULL);
    int slices = 0;
    while ((r = fx_run(I, 7, &used)) == fx_suspended) { total += used; slices++; }
    total += used;
    fx_results(I, &res, 1);
    CHECK(r == NULL && res == 500500 && slices > 100);
    CHECK(fx_call_begin(I, 0, &arg, 1) == NULL);
    uint64_t once; fx_run(I, UINT64_MAX, &once);
    CHECK(once == total);
    /* a too-small arena fails cleanly */
    static uint8_t tiny[200]; fx_arena t;
    fx_arena_init(&t, tiny, sizeof tiny);
    CHECK(fx_module_load(&t, w, sizeof w, NULL, 0, &m) == fx_err_oom);
}

int main(void)
{
    test_crc_sha();
    test_cobs();
    test_rx();
    test_parse_run();
    test_vectors();
    test_node();
    test_lru();
    test_fuel();
    printf("unit: %d checks, %d failed\n", checks, fails);
    return fails != 0;
}
