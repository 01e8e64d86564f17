/* fxrun.c — run one export of an import-free module on the host build and
 * report result, wasm instructions executed (fuel) and wall time.
 * Usage: fxrun file.wasm export [i32 args...] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "../src/fx.h"

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: fxrun file.wasm export [i32 args...]\n"); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 2; }
    static uint8_t wasm[1 << 20];
    size_t len = fread(wasm, 1, sizeof wasm, f);
    fclose(f);
    size_t msz = 4u << 20, isz = 80u << 20;
    fx_arena a, b; fx_module *m; fx_instance *I;
    fx_arena_init(&a, malloc(msz), msz);
    fx_arena_init(&b, calloc(1, isz), isz);
    b.prezeroed = 1;
    fx_result r = fx_module_load(&a, wasm, len, NULL, 0, &m);
    if (!r) r = fx_instantiate(&b, m, UINT64_MAX, &I);
    if (r) { fprintf(stderr, "load: %s\n", r); return 1; }
    if (getenv("FXRUN_SIZE")) fprintf(stderr, "module arena used: %zu bytes (wasm %zu)\n", a.lo, len);
    int32_t fn = fx_find_export(m, argv[2], FX_EXT_FUNC);
    if (fn < 0) { fprintf(stderr, "no export %s\n", argv[2]); return 1; }
    uint64_t args[8] = { 0 }, res[4] = { 0 }, used = 0;
    uint32_t n = 0;
    for (int i = 3; i < argc && n < 8; i++) args[n++] = (uint32_t)strtol(argv[i], NULL, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    r = fx_call_begin(I, (uint32_t)fn, args, n);
    if (!r) r = fx_run(I, UINT64_MAX, &used);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r) { fprintf(stderr, "run: %s\n", r); return 1; }
    fx_results(I, res, 4);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    printf("result=%d ops=%llu ms=%.2f ns_per_op=%.3f\n", (int32_t)res[0], (unsigned long long)used, ms, ms * 1e6 / (double)used);
    return 0;
}
