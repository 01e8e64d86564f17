/* fx_int.h — internal structures shared by parse, compile and execute. */
#ifndef FX_INT_H
#define FX_INT_H
#include <string.h>
#include "fx.h"

#define FX_TRY(x) do { fx_result r_ = (x); if (r_) return r_; } while (0)
#define FX_THROW(msg) return (msg)

typedef struct {
    uint16_t np, nr;
    const uint8_t *t;               /* np param types then nr result types */
    uint16_t canon;                 /* first structurally equal type index */
} fx_type;

typedef struct {
    uint32_t type;
    uint32_t code;                  /* cell index of first instruction */
    uint16_t nlocals;               /* params + declared locals */
    uint32_t max_height;            /* max slots above fp (locals + operands) */
    int16_t host;                   /* allow-list index for imports, else -1 */
} fx_func;

typedef struct {
    uint8_t type, mut;
    uint64_t init;
} fx_globaldef;

typedef struct {
    uint8_t mode;                   /* 0 active, 1 passive, 2 declarative */
    uint8_t type;                   /* FX_FUNCREF or FX_EXTERNREF */
    uint32_t table, offset;         /* active: table index, constant offset */
    uint32_t n;
    const uint64_t *vals;           /* references in slot form (0 = null) */
} fx_elem;

typedef struct {
    uint8_t type;
    uint32_t min, max;
} fx_tabledef;

typedef struct {
    uint64_t *e;                    /* references in slot form (0 = null) */
    uint32_t size;
} fx_tableinst;

typedef struct {
    uint32_t offset, len;
    const uint8_t *bytes;
} fx_data;

typedef struct {
    const char *name;
    uint8_t kind;
    uint32_t index;
} fx_export;

struct fx_module {
    uint32_t ntypes, nfuncs, nimports, nglobals, nexports, nelems, ndatas;
    uint32_t nimported_globals;     /* immutable, values from the allow-list */
    fx_type *types;
    fx_func *funcs;
    fx_globaldef *globals;
    fx_export *exports;
    fx_elem *elems;
    fx_data *datas;
    const fx_import *allow;         /* host functions, indexed by fx_func.host */
    uint32_t *code;                 /* compiled cells of all functions */
    uint32_t ncode;
    uint8_t has_mem;
    uint32_t mem_min, mem_max;      /* pages; max = 65536 when absent */
    uint32_t ntables;
    fx_tabledef *tables;
    int32_t start;
};

typedef struct {
    const uint32_t *ip;
    uint64_t *fp;
    uint32_t func;
} fx_frame;

struct fx_instance {
    const fx_module *m;
    uint8_t *mem;
    uint32_t mem_pages, mem_cap;    /* current / reserved pages */
    uint64_t *globals;
    fx_tableinst *tables;
    uint64_t *stack, *stack_end;
    fx_frame *frames;
    uint32_t nframes;
    /* resumable state */
    const uint32_t *ip;
    uint64_t *sp, *fp;
    uint32_t func;
    uint8_t state;                  /* FX_ST_* */
    fx_result trap;
    void *user;
};
enum { FX_ST_IDLE, FX_ST_RUNNING, FX_ST_DONE, FX_ST_TRAPPED };

/* Byte reader with bounds and LEB128 checks (used by parse and compile). */
typedef struct { const uint8_t *p, *end; } fx_reader;
fx_result fx_rd_u8(fx_reader *r, uint8_t *v);
fx_result fx_rd_u32(fx_reader *r, uint32_t *v);
fx_result fx_rd_s32(fx_reader *r, int32_t *v);
fx_result fx_rd_s64(fx_reader *r, int64_t *v);
fx_result fx_rd_bytes(fx_reader *r, uint32_t n, const uint8_t **p);

extern const char fx_err_eof[], fx_err_leb[];

fx_result fx_compile_func(fx_arena *a, fx_module *m, uint32_t fidx, fx_reader body,
                          const uint8_t *local_types, uint32_t nlocal_types);
fx_result fx_exec(fx_instance *I, uint64_t *fuel);
/* The cell the compiler stores for opcode `op`: the handler's address (32-bit
 * targets) or its offset from a base label (64-bit), so dispatch is one load
 * and one indirect jump; with the switch fallback, `op` itself. */
uint32_t fx_exec_opcell(uint32_t op);

/* ---- internal opcodes (one cell each, immediates follow in cells) ----
 * Fuel is paid per straight-line run, not per op: every control transfer
 * (br*, if, call*, return) and OP_FUEL carries a `cost` cell = the number of
 * wasm ops since the previous payment, so the count stays exact while the
 * inner loop does no per-op fuel test. Suspension happens after the
 * transfer, at the target, so a run may overshoot its fuel by one run.
 * Wasm opcodes keep their byte value where it exists; compiler-made ops use
 * free slots. Immediates are listed in the comments. */
enum {
    OP_UNREACHABLE = 0x00,
    OP_BR_ADJ = 0x01,       /* target, drop, keep, cost */
    OP_BR_IF_ADJ = 0x02,    /* target, drop, keep, cost */
    OP_BR_UNLESS = 0x03,    /* target, cost  (if) */
    OP_BR = 0x0C,           /* target, cost */
    OP_BR_IF = 0x0D,        /* target, cost */
    OP_BR_TABLE = 0x0E,     /* n, cost, then n+1 x (target, drop, keep) */
    OP_RETURN = 0x0F,       /* cost */
    OP_CALL = 0x10,         /* func, cost */
    OP_CALL_INDIRECT = 0x11,/* type, table, cost */
    OP_DROP = 0x1A,
    OP_SELECT = 0x1B,
    OP_LOCAL_GET = 0x20, OP_LOCAL_SET = 0x21, OP_LOCAL_TEE = 0x22,
    OP_GLOBAL_GET = 0x23, OP_GLOBAL_SET = 0x24,
    /* 0x28..0x3E loads/stores: offset */
    OP_MEMORY_SIZE = 0x3F, OP_MEMORY_GROW = 0x40,
    OP_I32_CONST = 0x41,    /* value */
    OP_I64_CONST = 0x42,    /* lo, hi */
    OP_F32_CONST = 0x43,    /* bits */
    OP_F64_CONST = 0x44,    /* lo, hi */
    /* 0x45..0xC4 numeric, as in wasm */
    OP_TRUNC_SAT = 0xD0,    /* 0xD0..0xD7 = 0xFC 0..7 */
    OP_MEMORY_COPY = 0xD8, OP_MEMORY_FILL = 0xD9,
    OP_TABLE_GET = 0xDA, OP_TABLE_SET = 0xDB,   /* table */
    OP_TABLE_SIZE = 0xDC,                       /* table */
    /* superinstructions made by the compiler's peephole (fx_compile.c) */
    OP_LG_LG = 0xE0,        /* a, b: local.get a; local.get b */
    OP_I32_ADD_K = 0xE1,    /* k: i32.const k; i32.<op>  (E1..E9: add sub mul */
                            /*    and or xor shl shr_s shr_u) */
    OP_LG_LOAD32 = 0xEA,    /* a, off: local.get a; i32.load off */
    OP_LG_LOAD8U = 0xEB,    /* a, off: local.get a; i32.load8_u off */
    OP_LG_ADD_K = 0xEC,     /* a, k: local.get a; i32.const k; i32.add */
    OP_LG_ADD_K_SET = 0xED, /* a, k, x: ... ; local.set x */
    OP_BR_IF_CMP = 0xF0,    /* target, cost: i32.eqz..i32.ge_u (F0..FA); br_if */
    /* i32 binops (add sub mul and or xor shl shr_s shr_u), opcodes in
     * fx_compile.c's tables:
     * L form: local.get b; binop  (x op local b)   -> lops[]  (04..0B, 12) [b]
     * LL form: local.get a; local.get b; binop      -> llops[] (13..19, 1C, 1D) [a, b]
     * `cmp; if` reuses the BR_IF_CMP / BR_IF_LL ops with the negated compare. */
    OP_ST8_LL = 0x1E,       /* a, b, off: local.get a; local.get b; i32.store8 off */
    OP_ST32_LL = 0x1F,      /* a, b, off: ... i32.store off */
    OP_BR_IF_LL = 0xC5,     /* a, b, target, cost: local.get a; local.get b; */
                            /*   i32.eq..i32.ge_u (C5..CE); br_if */
    OP_LG_ADD_K_SET_BR = 0xCF, /* a, k, x, target, cost: x = a + k; br */
    OP_FUEL = 0xFB,         /* cost: pays for a straight run falling into a label */
    OP_COUNT = 0x100
};

/* Reference values in a slot: 0 = null, funcref f = f + 1, externref n = n + 1. */
#define FX_FUNCREF 0x70
#define FX_EXTERNREF 0x6F
static inline int fx_is_ref(uint8_t t) { return t == FX_FUNCREF || t == FX_EXTERNREF; }

/* small float helpers */
static inline float fx_f32(uint64_t v) { uint32_t u = (uint32_t)v; float f; memcpy(&f, &u, 4); return f; }
static inline double fx_f64(uint64_t v) { double d; memcpy(&d, &v, 8); return d; }
static inline uint64_t fx_bf32(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline uint64_t fx_bf64(double d) { uint64_t u; memcpy(&u, &d, 8); return u; }

#endif
