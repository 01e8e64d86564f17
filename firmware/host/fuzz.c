/* fuzz.c — bounded, fixed-seed fuzzing of the module decoder (+ running what
 * validates) and of the frame parser/node. Built with ASan+UBSan.
 * Usage: fuzz ITERATIONS seed.wasm...  */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../src/fx_node.h"
#include "../src/fx_int.h"   /* to walk exports */

static uint64_t s = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)(s >> 11); }

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static size_t mutate(uint8_t *buf, size_t len, size_t cap)
{
    int k = 1 + rnd() % 4;
    while (k--) {
        uint32_t op = rnd() % 6, at = len ? rnd() % (uint32_t)len : 0;
        switch (op) {
        case 0: if (len) buf[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
        case 1: if (len) buf[at] = (uint8_t)rnd(); break;
        case 2: if (len < cap) { memmove(buf + at + 1, buf + at, len - at); buf[at] = (uint8_t)rnd(); len++; } break;
        case 3: if (len) { memmove(buf + at, buf + at + 1, len - at - 1); len--; } break;
        case 4: len = at; break;                                       /* truncate */
        case 5: if (len) buf[at] = (uint8_t[]){ 0, 0x7F, 0x80, 0xFF, 0x0B, 0x40 }[rnd() % 6]; break;
        }
    }
    return len;
}

static fx_result nop(fx_instance *I, uint64_t *a, void *c) { (void)I; (void)a; (void)c; return NULL; }
static const fx_import allow[] = { { "spectest", "print_i32", "i:", nop, NULL }, { "env", "abort", "iiii:", nop, NULL } };

static int fuzz_modules(long iters, uint8_t **seeds, size_t *lens, int nseeds)
{
    static uint8_t mod_arena[1 << 20], inst_arena[(1 << 16) * 2 + (1 << 16)];
    uint8_t buf[1 << 16];
    long ok = 0, ran = 0;
    for (long i = 0; i < iters; i++) {
        int k = (int)(rnd() % (uint32_t)nseeds);
        size_t len = lens[k] < sizeof buf / 2 ? lens[k] : sizeof buf / 2;
        memcpy(buf, seeds[k], len);
        len = mutate(buf, len, sizeof buf);
        /* exact-size heap copy so ASan sees reads past the end */
        uint8_t *w = malloc(len ? len : 1);
        memcpy(w, buf, len);
        fx_arena a, b; fx_module *m; fx_instance *I;
        fx_arena_init(&a, mod_arena, sizeof mod_arena);
        if (!fx_module_load(&a, w, len, allow, 2, &m)) {
            ok++;
            fx_arena_init(&b, inst_arena, sizeof inst_arena);
            if (!fx_instantiate(&b, m, 10000, &I)) {
                for (uint32_t e = 0; e < m->nexports && e < 8; e++) {
                    if (m->exports[e].kind != FX_EXT_FUNC) continue;
                    uint32_t np, nr; const uint8_t *pt, *rt;
                    fx_func_sig(m, m->exports[e].index, &np, &pt, &nr, &rt);
                    uint64_t args[16] = { 0 }, res[16];
                    for (uint32_t j = 0; j < np && j < 16; j++) args[j] = rnd();
                    if (np <= 16) { fx_call(I, m->exports[e].index, args, np, res, 16, 20000); ran++; }
                }
            }
        }
        free(w);
    }
    printf("module fuzz: %ld inputs, %ld valid, %ld calls\n", iters, ok, ran);
    return 0;
}

static void sink(void *ctx, const uint8_t *p, size_t n) { (void)ctx; (void)p; (void)n; }

static int fuzz_frames(long iters, const uint8_t *wasm, size_t wlen)
{
    static fx_node node;
    static const fx_port port = { sink, NULL, NULL, "fuzz", 0, 0, 0, 0 };
    fx_node_init(&node, &port);
    uint8_t pl[FX_MAX_FRAME + 64], wire[4096];
    uint8_t key[32];
    fx_sha256(wasm, wlen, key);
    for (long i = 0; i < iters; i++) {
        size_t n = 4 + rnd() % 64;
        pl[0] = rnd() % 16 ? 1 : (uint8_t)rnd();
        pl[1] = (uint8_t)(1 + rnd() % 9);
        pl[2] = (uint8_t)rnd(); pl[3] = 0;
        for (size_t j = 4; j < n; j++) pl[j] = (uint8_t)rnd();
        /* sometimes a well-formed message, to reach deeper states */
        if (pl[1] == FX_MSG_LOAD_BEGIN || pl[1] == FX_MSG_LOAD_END || pl[1] == FX_MSG_HAS_FUNCTION || pl[1] == FX_MSG_RUN) {
            memcpy(pl + 4, key, 32);
            if (pl[1] == FX_MSG_LOAD_BEGIN) { pl[36] = (uint8_t)wlen; pl[37] = (uint8_t)(wlen >> 8); pl[38] = pl[39] = 0; n = 40; }
            else if (pl[1] != FX_MSG_RUN) n = 36;
            else if (rnd() % 2) { memset(pl + 36, 0, 8); pl[36] = 0x50; pl[44] = 3; memcpy(pl + 45, "run", 3); pl[48] = 1; pl[49] = 0; pl[50] = 7; pl[51] = 0; pl[52] = 0; n = 53; }
        }
        if (pl[1] == FX_MSG_LOAD_CHUNK && rnd() % 2) {
            memset(pl + 4, 0, 4); memcpy(pl + 8, wasm, wlen); n = 8 + wlen;
        }
        size_t e = fx_frame_encode(pl, n, wire);
        if (rnd() % 8 == 0) e = mutate(wire, e, sizeof wire);         /* corrupt the wire */
        if (rnd() % 50 == 0) { memset(wire, 0x55, 2000); e = 2000; }   /* oversized */
        fx_node_rx(&node, wire, e);
        for (int k = rnd() % 3; k > 0; k--) fx_node_step(&node);
    }
    while (fx_node_step(&node)) {}
    printf("frame fuzz: %ld frames, %u bad frames answered\n", iters, node.bad_frames);
    return 0;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 10000;
    int n = argc - 2;
    if (n < 1) { fprintf(stderr, "usage: fuzz ITER seed.wasm...\n"); return 2; }
    uint8_t **seeds = calloc((size_t)n, sizeof *seeds); size_t *lens = calloc((size_t)n, sizeof *lens);
    for (int i = 0; i < n; i++) if (!(seeds[i] = slurp(argv[i + 2], &lens[i]))) { perror(argv[i + 2]); return 2; }
    fuzz_modules(iters, seeds, lens, n);
    fuzz_frames(iters, seeds[0], lens[0]);
    for (int i = 0; i < n; i++) free(seeds[i]);
    free(seeds); free(lens);
    return 0;
}
