/* fx.h — the one public header of the Fedra embedded WASM runtime.
 * Errors are constant strings (NULL = success), as in wasm3. All memory comes
 * from caller-provided arenas: nothing here calls malloc. */
#ifndef FX_H
#define FX_H
#include <stddef.h>
#include <stdint.h>
#include "fx_config.h"

typedef const char *fx_result;

extern const char fx_suspended[];          /* run() ran out of fuel: resumable */
extern const char fx_err_oom[];            /* arena exhausted */
extern const char fx_err_unsupported_import[];
extern const char fx_trap_oob[], fx_trap_div0[], fx_trap_overflow[],
    fx_trap_unreachable[], fx_trap_indirect_type[], fx_trap_undefined_elem[],
    fx_trap_uninit_elem[], fx_trap_stack[], fx_trap_conversion[], fx_trap_abort[],
    fx_trap_oob_table[];

/* Errors whose text starts with "unsupported:" mean the module is valid WASM
 * using a feature this runtime leaves out (the spec driver counts them apart). */
int fx_is_unsupported(fx_result r);
int fx_is_trap(fx_result r);

/* ---- arena: permanent allocations grow up, temporaries grow down ---- */
typedef struct {
    uint8_t *base;
    size_t size, lo, hi;            /* [0,lo) used, [hi,size) temporaries */
    int prezeroed;                  /* caller promises never-used bytes are 0 */
} fx_arena;
void fx_arena_init(fx_arena *a, void *mem, size_t size);
void *fx_arena_alloc(fx_arena *a, size_t n);       /* 8-aligned, zeroed */
void *fx_arena_temp(fx_arena *a, size_t n);        /* from the top */
void fx_arena_drop_temps(fx_arena *a);
size_t fx_arena_free(const fx_arena *a);

/* ---- value types ---- */
enum { FX_I32 = 0x7F, FX_I64 = 0x7E, FX_F32 = 0x7D, FX_F64 = 0x7C };

typedef struct fx_module fx_module;
typedef struct fx_instance fx_instance;

/* Host function on the allow-list. args[0..nparams) in, results written to
 * args[0..nresults). sig: params ':' results, letters i I f F ("ii:i").
 * An immutable global is allowed with sig "g:<letter>" and ctx pointing at
 * its uint64_t value (the spec driver's spectest.global_i32, for one). */
typedef fx_result (*fx_host_fn)(fx_instance *inst, uint64_t *args, void *ctx);
typedef struct {
    const char *module, *name, *sig;
    fx_host_fn fn;
    void *ctx;
} fx_import;

/* Parse, validate and compile a binary module into arena `a`. The wasm bytes
 * may be discarded afterwards (data segments and names are copied). */
fx_result fx_module_load(fx_arena *a, const uint8_t *wasm, size_t len,
                         const fx_import *allow, size_t nallow, fx_module **out);

/* Instantiate into arena `a` (memory, globals, table, stack). Runs the start
 * function with at most `fuel` instructions. */
fx_result fx_instantiate(fx_arena *a, const fx_module *m, uint64_t fuel,
                         fx_instance **out);

enum { FX_EXT_FUNC = 0, FX_EXT_TABLE = 1, FX_EXT_MEMORY = 2, FX_EXT_GLOBAL = 3 };
/* Index of an export of the given kind, or -1. */
int32_t fx_find_export(const fx_module *m, const char *name, int kind);
/* The i-th export of a kind (NULL past the end); start function; imports. */
const char *fx_export_name(const fx_module *m, uint32_t i, int kind);
int fx_module_has_start(const fx_module *m);
uint32_t fx_module_imports(const fx_module *m);
/* Parameter/result counts and types of function `fidx`. */
int fx_func_sig(const fx_module *m, uint32_t fidx, uint32_t *np, const uint8_t **pt,
                uint32_t *nr, const uint8_t **rt);

/* Start a call; then call fx_run until it returns something other than
 * fx_suspended. NULL = finished, results via fx_results. */
fx_result fx_call_begin(fx_instance *I, uint32_t fidx, const uint64_t *args, uint32_t nargs);
fx_result fx_run(fx_instance *I, uint64_t fuel, uint64_t *used);
uint32_t fx_results(const fx_instance *I, uint64_t *out, uint32_t max);
/* Convenience: begin + run to completion within fuel. */
fx_result fx_call(fx_instance *I, uint32_t fidx, const uint64_t *args, uint32_t nargs,
                  uint64_t *results, uint32_t maxres, uint64_t fuel);

uint8_t *fx_memory(fx_instance *I, uint32_t *size);
uint64_t *fx_global(fx_instance *I, uint32_t idx);
void *fx_user(fx_instance *I);
void fx_set_user(fx_instance *I, void *user);

#endif
