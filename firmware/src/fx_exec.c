/* fx_exec.c — the interpreter loop over compiled cells (see fx_compile.c).
 *
 * Values live in 64-bit slots; sp points one past the top, fp at local 0.
 * All interpreter state is in locals that are written back to the instance
 * when fuel runs out, so fx_run() can resume later: that is what lets the
 * board's cooperative scheduler interleave tasks.
 *
 * Dispatch is computed goto (one indirect jump per op, each handler ending in
 * its own jump, which branch predictors like) with a plain switch fallback,
 * chosen by FX_COMPUTED_GOTO. Fuel is paid per straight-line run at control
 * transfers (see fx_int.h), so handlers of plain ops carry no fuel test.
 *
 * This file is long on purpose: the interpreter must be one function (label
 * addresses are local to it); the handlers themselves are one-liners. */
#include <math.h>
#include "fx_int.h"

const char fx_trap_oob[] = "trap: out of bounds memory access";
const char fx_trap_div0[] = "trap: integer divide by zero";
const char fx_trap_overflow[] = "trap: integer overflow";
const char fx_trap_unreachable[] = "trap: unreachable";
const char fx_trap_indirect_type[] = "trap: indirect call type mismatch";
const char fx_trap_undefined_elem[] = "trap: undefined element";
const char fx_trap_uninit_elem[] = "trap: uninitialized element";
const char fx_trap_stack[] = "trap: call stack exhausted";
const char fx_trap_conversion[] = "trap: invalid conversion to integer";
const char fx_trap_abort[] = "trap: abort";
const char fx_trap_oob_table[] = "trap: out of bounds table access";

#define U32(x) ((uint32_t)(x))
#define I32(x) ((int32_t)(uint32_t)(x))
#define I64(x) ((int64_t)(x))
#define TRAP(e) do { trap = (e); goto trapped; } while (0)

/* ---- float helpers with wasm semantics (NaN/zero sign rules) ---- */
static inline float fmin32(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float fmax32(float a, float b)
{
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double fmin64(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double fmax64(double a, double b)
{
    if (a != a || b != b) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}
/* Rounding ops must return a quiet NaN for NaN input; inlined versions
 * (gcc -O2 on x86) may pass a signalling NaN straight through. */
static inline uint64_t q32(float f) { uint64_t b = fx_bf32(f); return f != f ? b | 0x00400000u : b; }
static inline uint64_t q64(double d) { uint64_t b = fx_bf64(d); return d != d ? b | 0x0008000000000000ull : b; }

/* Saturating truncation (0xFC 0..7): NaN -> 0, out of range -> clamp. */
static uint64_t sat(double d, double lo, double hi, uint64_t vlo, uint64_t vhi, int sgn, int is64)
{
    if (d != d) return 0;
    if (d <= lo) return vlo;
    if (d >= hi) return vhi;
    if (sgn) return is64 ? (uint64_t)(int64_t)d : (uint32_t)(int32_t)d;
    return is64 ? (uint64_t)d : (uint32_t)d;
}

/* Direct threading where a cell can hold a code address (32-bit targets:
 * dispatch = load cell, jump); elsewhere cells hold the opcode and dispatch
 * goes through the label table (x86-64: `jmp *table(,op,8)`, as cheap). */
#if FX_COMPUTED_GOTO && UINTPTR_MAX == 0xFFFFFFFFu
#define FX_DIRECT 1
#else
#define FX_DIRECT 0
#endif
static const void *const *op_labels;   /* filled by fx_exec(NULL, NULL) */
#ifdef FX_PROFILE
uint64_t fx_prof[256][256];
#endif

uint32_t fx_exec_opcell(uint32_t op)
{
#if FX_DIRECT
    if (!op_labels) fx_exec(NULL, NULL);
    return (uint32_t)(uintptr_t)op_labels[op & 0xFF];
#else
    return op;
#endif
}

fx_result fx_exec(fx_instance *I, uint64_t *fuel_io)
{
#if FX_COMPUTED_GOTO
#define OPLIST(X) X(00) X(01) X(02) X(03) X(0C) X(0D) X(0E) X(0F) X(10) X(11) X(1A) X(1B) \
    X(20) X(21) X(22) X(23) X(24) X(28) X(29) X(2A) X(2B) X(2C) X(2D) X(2E) X(2F) X(30) \
    X(31) X(32) X(33) X(34) X(35) X(36) X(37) X(38) X(39) X(3A) X(3B) X(3C) X(3D) X(3E) \
    X(3F) X(40) X(41) X(42) X(43) X(44) X(45) X(46) X(47) X(48) X(49) X(4A) X(4B) X(4C) \
    X(4D) X(4E) X(4F) X(50) X(51) X(52) X(53) X(54) X(55) X(56) X(57) X(58) X(59) X(5A) \
    X(5B) X(5C) X(5D) X(5E) X(5F) X(60) X(61) X(62) X(63) X(64) X(65) X(66) X(67) X(68) \
    X(69) X(6A) X(6B) X(6C) X(6D) X(6E) X(6F) X(70) X(71) X(72) X(73) X(74) X(75) X(76) \
    X(77) X(78) X(79) X(7A) X(7B) X(7C) X(7D) X(7E) X(7F) X(80) X(81) X(82) X(83) X(84) \
    X(85) X(86) X(87) X(88) X(89) X(8A) X(8B) X(8C) X(8D) X(8E) X(8F) X(90) X(91) X(92) \
    X(93) X(94) X(95) X(96) X(97) X(98) X(99) X(9A) X(9B) X(9C) X(9D) X(9E) X(9F) X(A0) \
    X(A1) X(A2) X(A3) X(A4) X(A5) X(A6) X(A7) X(A8) X(A9) X(AA) X(AB) X(AC) X(AD) X(AE) \
    X(AF) X(B0) X(B1) X(B2) X(B3) X(B4) X(B5) X(B6) X(B7) X(B8) X(B9) X(BA) X(BB) X(BC) \
    X(BD) X(BE) X(BF) X(C0) X(C1) X(C2) X(C3) X(C4) X(D0) X(D1) X(D2) X(D3) X(D4) X(D5) \
    X(D6) X(D7) X(D8) X(D9) X(DA) X(DB) X(DC) X(E0) X(E1) X(E2) X(E3) X(E4) X(E5) X(E6) X(E7) X(E8) X(E9) \
    X(04) X(05) X(06) X(07) X(08) X(09) X(0A) X(0B) X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) \
    X(1C) X(1D) X(1E) X(1F) X(C5) X(C6) X(C7) X(C8) X(C9) X(CA) X(CB) X(CC) X(CD) X(CE) X(CF) \
    X(EA) X(EB) X(EC) X(ED) X(F0) X(F1) X(F2) X(F3) X(F4) X(F5) X(F6) X(F7) X(F8) X(F9) X(FA) X(FB)
#define LBL(h) [0x##h] = &&L_##h,
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
    static const void *const labels[256] = { [0 ... 255] = &&L_bad, OPLIST(LBL) };
#pragma GCC diagnostic pop
    if (!I) { op_labels = labels; return NULL; }   /* publish the table */
#endif
    const fx_module *m = I->m;
    const uint32_t *code = m->code;
    const uint32_t *ip = I->ip;
    uint64_t *sp = I->sp, *fp = I->fp;
    uint64_t *globals = I->globals;
    uint8_t *mem = I->mem;
    uint64_t msize = (uint64_t)I->mem_pages << 16;
    uint32_t fi = I->func;
    /* fuel is a native-width integer (64-bit maths costs 4 instructions per
     * charge on a Cortex-M4); fx_run() calls again for larger budgets */
    intptr_t fuel = (intptr_t)(*fuel_io > (uint64_t)(INTPTR_MAX / 2) ? (uint64_t)(INTPTR_MAX / 2) : *fuel_io);
    const intptr_t fuel0 = fuel;
    fx_result trap = NULL;
    const fx_func *callee;
    uint32_t cidx;

#if FX_COMPUTED_GOTO
#define CASE(h) L_##h:
#if FX_DIRECT
#define NEXT() goto *(const void *)(uintptr_t)*ip++
#elif defined(FX_PROFILE)   /* op-pair histogram for choosing superinstructions */
    static uint32_t prev_op;
#define NEXT() do { fx_prof[prev_op][*ip]++; prev_op = *ip; goto *labels[*ip++]; } while (0)
#else
#define NEXT() goto *labels[*ip++]
#endif
    NEXT();
#else
#define CASE(h) case 0x##h:
#define NEXT() goto dispatch
dispatch:
    switch (*ip++) {
    default: goto L_bad;
#endif

/* pay for the run that just ended (see fx_int.h); suspend at the target */
#define CHARGE(cost) do { fuel -= (cost); if (__builtin_expect(fuel < 0, 0)) goto suspend; NEXT(); } while (0)
/* binary/unary op helpers: a = second from top, b = top */
#define BIN(T, GET, expr) { T b = GET(sp[-1]), a = GET(sp[-2]); sp--; sp[-1] = (expr); NEXT(); }
#define UN(T, GET, expr) { T a = GET(sp[-1]); sp[-1] = (expr); NEXT(); }
#define BI32(expr) BIN(uint32_t, U32, (uint32_t)(expr))
#define BI64(expr) BIN(uint64_t, (uint64_t), (uint64_t)(expr))
#define BF32(expr) BIN(float, fx_f32, fx_bf32(expr))
#define BF64(expr) BIN(double, fx_f64, fx_bf64(expr))
#define CF32(expr) BIN(float, fx_f32, (uint64_t)(expr))
#define CF64(expr) BIN(double, fx_f64, (uint64_t)(expr))
#define UF32(expr) UN(float, fx_f32, fx_bf32(expr))
#define UF64(expr) UN(double, fx_f64, fx_bf64(expr))
/* branch with stack adjustment: keep `k` top values, drop `d` below them */
#define ADJ(d, k) do { uint32_t d_ = (d), k_ = (k); if (d_) { uint64_t *dst = sp - k_ - d_; \
    for (uint32_t i_ = 0; i_ < k_; i_++) { dst[i_] = sp[(int32_t)(i_ - k_)]; } sp -= d_; } } while (0)
#define EA(n) uint64_t ea = (uint64_t)U32(sp[-1]) + *ip++; if (ea + (n) > msize) TRAP(fx_trap_oob); \
    const uint8_t *p = mem + ea
#define EAS(n) uint64_t ea = (uint64_t)U32(sp[-2]) + *ip++; if (ea + (n) > msize) TRAP(fx_trap_oob); \
    uint8_t *p = mem + ea; uint64_t v = sp[-1]; sp -= 2
#define LD(T, conv) { EA(sizeof(T)); T v; memcpy(&v, p, sizeof v); sp[-1] = (conv); NEXT(); }
#define ST(T) { EAS(sizeof(T)); T w = (T)v; memcpy(p, &w, sizeof w); NEXT(); }

    CASE(00) TRAP(fx_trap_unreachable);
    CASE(01) { uint32_t cost = ip[3]; ADJ(ip[1], ip[2]); ip = code + ip[0]; CHARGE(cost); }
    CASE(02) { uint32_t cost = ip[3]; if (U32(*--sp)) { ADJ(ip[1], ip[2]); ip = code + ip[0]; } else ip += 4; CHARGE(cost); }
    CASE(03) { uint32_t cost = ip[1]; if (!U32(*--sp)) ip = code + ip[0]; else ip += 2; CHARGE(cost); }
    CASE(0C) { uint32_t cost = ip[1]; ip = code + ip[0]; CHARGE(cost); }
    CASE(0D) { uint32_t cost = ip[1]; if (U32(*--sp)) ip = code + ip[0]; else ip += 2; CHARGE(cost); }
    CASE(0E) {
        uint32_t n = ip[0], cost = ip[1], i = U32(*--sp);
        const uint32_t *e = ip + 2 + 3 * (i < n ? i : n);
        ADJ(e[1], e[2]);
        ip = code + e[0];
        CHARGE(cost);
    }
    CASE(0F) {
        const fx_type *t = &m->types[m->funcs[fi].type];
        uint32_t n = t->nr, cost = ip[0];
        if (n == 1) fp[0] = sp[-1];
        else for (uint32_t i = 0; i < n; i++) fp[i] = sp[(int32_t)(i - n)];
        sp = fp + n;
        fuel -= cost;
        if (I->nframes == 0) goto finished;
        fx_frame *f = &I->frames[--I->nframes];
        ip = f->ip; fp = f->fp; fi = f->func;
        CHARGE(0);
    }
    CASE(10) cidx = ip[0]; fuel -= ip[1]; ip += 2; callee = &m->funcs[cidx]; goto do_call;
    CASE(11) {
        uint32_t ti = ip[0], i = U32(*--sp);
        const fx_tableinst *tb = &I->tables[ip[1]];
        fuel -= ip[2]; ip += 3;
        if (i >= tb->size) TRAP(fx_trap_undefined_elem);
        if (!tb->e[i]) TRAP(fx_trap_uninit_elem);
        cidx = (uint32_t)(tb->e[i] - 1);
        callee = &m->funcs[cidx];
        if (m->types[callee->type].canon != m->types[ti].canon) TRAP(fx_trap_indirect_type);
        goto do_call;
    }
    CASE(1A) sp--; NEXT();
    CASE(1B) { uint32_t c = U32(*--sp); sp--; if (!c) sp[-1] = sp[0]; NEXT(); }
    CASE(20) *sp++ = fp[*ip++]; NEXT();
    CASE(21) fp[*ip++] = *--sp; NEXT();
    CASE(22) fp[*ip++] = sp[-1]; NEXT();
    CASE(23) *sp++ = globals[*ip++]; NEXT();
    CASE(24) globals[*ip++] = *--sp; NEXT();
    CASE(DA) {
        const fx_tableinst *tb = &I->tables[*ip++];
        uint32_t i = U32(sp[-1]);
        if (i >= tb->size) TRAP(fx_trap_oob_table);
        sp[-1] = tb->e[i]; NEXT();
    }
    CASE(DB) {
        const fx_tableinst *tb = &I->tables[*ip++];
        uint32_t i = U32(sp[-2]);
        if (i >= tb->size) TRAP(fx_trap_oob_table);
        tb->e[i] = sp[-1]; sp -= 2; NEXT();
    }
    CASE(DC) *sp++ = I->tables[*ip++].size; NEXT();
    CASE(E0) sp[0] = fp[ip[0]]; sp[1] = fp[ip[1]]; sp += 2; ip += 2; NEXT();
    CASE(E1) sp[-1] = (uint32_t)(U32(sp[-1]) + *ip++); NEXT();
    CASE(E2) sp[-1] = (uint32_t)(U32(sp[-1]) - *ip++); NEXT();
    CASE(E3) sp[-1] = (uint32_t)(U32(sp[-1]) * *ip++); NEXT();
    CASE(E4) sp[-1] = U32(sp[-1]) & *ip++; NEXT();
    CASE(E5) sp[-1] = U32(sp[-1]) | *ip++; NEXT();
    CASE(E6) sp[-1] = U32(sp[-1]) ^ *ip++; NEXT();
    CASE(E7) sp[-1] = (uint32_t)(U32(sp[-1]) << (*ip++ & 31)); NEXT();
    CASE(E8) sp[-1] = (uint32_t)(I32(sp[-1]) >> (*ip++ & 31)); NEXT();
    CASE(E9) sp[-1] = U32(sp[-1]) >> (*ip++ & 31); NEXT();
    CASE(EA) {
        uint64_t ea = (uint64_t)U32(fp[ip[0]]) + ip[1];
        ip += 2;
        if (ea + 4 > msize) TRAP(fx_trap_oob);
        uint32_t v; memcpy(&v, mem + ea, 4); *sp++ = v; NEXT();
    }
    CASE(EB) {
        uint64_t ea = (uint64_t)U32(fp[ip[0]]) + ip[1];
        ip += 2;
        if (ea + 1 > msize) TRAP(fx_trap_oob);
        *sp++ = mem[ea]; NEXT();
    }
    CASE(EC) *sp++ = (uint32_t)(U32(fp[ip[0]]) + ip[1]); ip += 2; NEXT();
    CASE(ED) fp[ip[2]] = (uint32_t)(U32(fp[ip[0]]) + ip[1]); ip += 3; NEXT();
#define BRCMP(cond) { uint32_t b = U32(sp[-1]), a = U32(sp[-2]), cost = ip[1]; sp -= 2; \
        (void)a; (void)b; if (cond) ip = code + ip[0]; else ip += 2; CHARGE(cost); }
    CASE(F0) { uint32_t a = U32(*--sp), cost = ip[1]; if (!a) ip = code + ip[0]; else ip += 2; CHARGE(cost); }
    CASE(F1) BRCMP(a == b)
    CASE(F2) BRCMP(a != b)
    CASE(F3) BRCMP((int32_t)a < (int32_t)b)
    CASE(F4) BRCMP(a < b)
    CASE(F5) BRCMP((int32_t)a > (int32_t)b)
    CASE(F6) BRCMP(a > b)
    CASE(F7) BRCMP((int32_t)a <= (int32_t)b)
    CASE(F8) BRCMP(a <= b)
    CASE(F9) BRCMP((int32_t)a >= (int32_t)b)
    CASE(FA) BRCMP(a >= b)
    CASE(FB) { uint32_t cost = *ip++; CHARGE(cost); }
    /* binop with a local as right operand; with both operands locals */
#define LBIN(expr) { uint32_t a = U32(sp[-1]), b = U32(fp[*ip++]); sp[-1] = (uint32_t)(expr); NEXT(); }
#define LLBIN(expr) { uint32_t a = U32(fp[ip[0]]), b = U32(fp[ip[1]]); ip += 2; *sp++ = (uint32_t)(expr); NEXT(); }
    CASE(04) LBIN(a + b)
    CASE(05) LBIN(a - b)
    CASE(06) LBIN(a * b)
    CASE(07) LBIN(a & b)
    CASE(08) LBIN(a | b)
    CASE(09) LBIN(a ^ b)
    CASE(0A) LBIN(a << (b & 31))
    CASE(0B) LBIN((int32_t)a >> (b & 31))
    CASE(12) LBIN(a >> (b & 31))
    CASE(13) LLBIN(a + b)
    CASE(14) LLBIN(a - b)
    CASE(15) LLBIN(a * b)
    CASE(16) LLBIN(a & b)
    CASE(17) LLBIN(a | b)
    CASE(18) LLBIN(a ^ b)
    CASE(19) LLBIN(a << (b & 31))
    CASE(1C) LLBIN((int32_t)a >> (b & 31))
    CASE(1D) LLBIN(a >> (b & 31))
    CASE(1E) {
        uint64_t ea = (uint64_t)U32(fp[ip[0]]) + ip[2];
        if (ea + 1 > msize) TRAP(fx_trap_oob);
        mem[ea] = (uint8_t)fp[ip[1]]; ip += 3; NEXT();
    }
    CASE(1F) {
        uint64_t ea = (uint64_t)U32(fp[ip[0]]) + ip[2];
        if (ea + 4 > msize) TRAP(fx_trap_oob);
        uint32_t v = U32(fp[ip[1]]); memcpy(mem + ea, &v, 4); ip += 3; NEXT();
    }
#define BRLL(cond) { uint32_t a = U32(fp[ip[0]]), b = U32(fp[ip[1]]), cost = ip[3]; \
        if (cond) ip = code + ip[2]; else ip += 4; CHARGE(cost); }
    CASE(C5) BRLL(a == b)
    CASE(C6) BRLL(a != b)
    CASE(C7) BRLL((int32_t)a < (int32_t)b)
    CASE(C8) BRLL(a < b)
    CASE(C9) BRLL((int32_t)a > (int32_t)b)
    CASE(CA) BRLL(a > b)
    CASE(CB) BRLL((int32_t)a <= (int32_t)b)
    CASE(CC) BRLL(a <= b)
    CASE(CD) BRLL((int32_t)a >= (int32_t)b)
    CASE(CE) BRLL(a >= b)
    CASE(CF) { fp[ip[2]] = (uint32_t)(U32(fp[ip[0]]) + ip[1]); uint32_t cost = ip[4]; ip = code + ip[3]; CHARGE(cost); }
    CASE(28) LD(uint32_t, v)
    CASE(29) LD(uint64_t, v)
    CASE(2A) LD(uint32_t, v)
    CASE(2B) LD(uint64_t, v)
    CASE(2C) LD(int8_t, (uint32_t)(int32_t)v)
    CASE(2D) LD(uint8_t, v)
    CASE(2E) LD(int16_t, (uint32_t)(int32_t)v)
    CASE(2F) LD(uint16_t, v)
    CASE(30) LD(int8_t, (uint64_t)(int64_t)v)
    CASE(31) LD(uint8_t, v)
    CASE(32) LD(int16_t, (uint64_t)(int64_t)v)
    CASE(33) LD(uint16_t, v)
    CASE(34) LD(int32_t, (uint64_t)(int64_t)v)
    CASE(35) LD(uint32_t, v)
    CASE(36) ST(uint32_t)
    CASE(37) ST(uint64_t)
    CASE(38) ST(uint32_t)
    CASE(39) ST(uint64_t)
    CASE(3A) ST(uint8_t)
    CASE(3B) ST(uint16_t)
    CASE(3C) ST(uint8_t)
    CASE(3D) ST(uint16_t)
    CASE(3E) ST(uint32_t)
    CASE(3F) *sp++ = I->mem_pages; NEXT();
    CASE(40) {
        uint32_t d = U32(sp[-1]), old = I->mem_pages;
        if ((uint64_t)old + d > I->mem_cap) sp[-1] = UINT32_MAX;
        else {
            /* pages above mem_pages are kept zeroed, so growing is O(1) */
            I->mem_pages = old + d; msize = (uint64_t)I->mem_pages << 16; sp[-1] = old;
        }
        NEXT();
    }
    CASE(41) *sp++ = *ip++; NEXT();
    CASE(42) *sp++ = ip[0] | (uint64_t)ip[1] << 32; ip += 2; NEXT();
    CASE(43) *sp++ = *ip++; NEXT();
    CASE(44) *sp++ = ip[0] | (uint64_t)ip[1] << 32; ip += 2; NEXT();
    CASE(45) UN(uint32_t, U32, a == 0)
    CASE(46) BI32(a == b)
    CASE(47) BI32(a != b)
    CASE(48) BI32((int32_t)a < (int32_t)b)
    CASE(49) BI32(a < b)
    CASE(4A) BI32((int32_t)a > (int32_t)b)
    CASE(4B) BI32(a > b)
    CASE(4C) BI32((int32_t)a <= (int32_t)b)
    CASE(4D) BI32(a <= b)
    CASE(4E) BI32((int32_t)a >= (int32_t)b)
    CASE(4F) BI32(a >= b)
    CASE(50) UN(uint64_t, (uint64_t), (uint64_t)(a == 0))
    CASE(51) BI64(a == b)
    CASE(52) BI64(a != b)
    CASE(53) BI64((int64_t)a < (int64_t)b)
    CASE(54) BI64(a < b)
    CASE(55) BI64((int64_t)a > (int64_t)b)
    CASE(56) BI64(a > b)
    CASE(57) BI64((int64_t)a <= (int64_t)b)
    CASE(58) BI64(a <= b)
    CASE(59) BI64((int64_t)a >= (int64_t)b)
    CASE(5A) BI64(a >= b)
    CASE(5B) CF32(a == b)
    CASE(5C) CF32(a != b)
    CASE(5D) CF32(a < b)
    CASE(5E) CF32(a > b)
    CASE(5F) CF32(a <= b)
    CASE(60) CF32(a >= b)
    CASE(61) CF64(a == b)
    CASE(62) CF64(a != b)
    CASE(63) CF64(a < b)
    CASE(64) CF64(a > b)
    CASE(65) CF64(a <= b)
    CASE(66) CF64(a >= b)
    CASE(67) UN(uint32_t, U32, (uint32_t)(a ? __builtin_clz(a) : 32))
    CASE(68) UN(uint32_t, U32, (uint32_t)(a ? __builtin_ctz(a) : 32))
    CASE(69) UN(uint32_t, U32, (uint32_t)__builtin_popcount(a))
    CASE(6A) BI32(a + b)
    CASE(6B) BI32(a - b)
    CASE(6C) BI32(a * b)
    CASE(6D) {
        int32_t b = I32(sp[-1]), a = I32(sp[-2]);
        if (b == 0) TRAP(fx_trap_div0);
        if (b == -1 && a == INT32_MIN) TRAP(fx_trap_overflow);
        sp--; sp[-1] = (uint32_t)(a / b); NEXT();
    }
    CASE(6E) { uint32_t b = U32(sp[-1]), a = U32(sp[-2]); if (!b) TRAP(fx_trap_div0); sp--; sp[-1] = a / b; NEXT(); }
    CASE(6F) {
        int32_t b = I32(sp[-1]), a = I32(sp[-2]);
        if (b == 0) TRAP(fx_trap_div0);
        sp--; sp[-1] = (uint32_t)(b == -1 ? 0 : a % b); NEXT();
    }
    CASE(70) { uint32_t b = U32(sp[-1]), a = U32(sp[-2]); if (!b) TRAP(fx_trap_div0); sp--; sp[-1] = a % b; NEXT(); }
    CASE(71) BI32(a & b)
    CASE(72) BI32(a | b)
    CASE(73) BI32(a ^ b)
    CASE(74) BI32(a << (b & 31))
    CASE(75) BI32((int32_t)a >> (b & 31))
    CASE(76) BI32(a >> (b & 31))
    CASE(77) BI32((a << (b & 31)) | (a >> ((32 - b) & 31)))
    CASE(78) BI32((a >> (b & 31)) | (a << ((32 - b) & 31)))
    CASE(79) UN(uint64_t, (uint64_t), (uint64_t)(a ? __builtin_clzll(a) : 64))
    CASE(7A) UN(uint64_t, (uint64_t), (uint64_t)(a ? __builtin_ctzll(a) : 64))
    CASE(7B) UN(uint64_t, (uint64_t), (uint64_t)__builtin_popcountll(a))
    CASE(7C) BI64(a + b)
    CASE(7D) BI64(a - b)
    CASE(7E) BI64(a * b)
    CASE(7F) {
        int64_t b = I64(sp[-1]), a = I64(sp[-2]);
        if (b == 0) TRAP(fx_trap_div0);
        if (b == -1 && a == INT64_MIN) TRAP(fx_trap_overflow);
        sp--; sp[-1] = (uint64_t)(a / b); NEXT();
    }
    CASE(80) { uint64_t b = sp[-1], a = sp[-2]; if (!b) TRAP(fx_trap_div0); sp--; sp[-1] = a / b; NEXT(); }
    CASE(81) {
        int64_t b = I64(sp[-1]), a = I64(sp[-2]);
        if (b == 0) TRAP(fx_trap_div0);
        sp--; sp[-1] = (uint64_t)(b == -1 ? 0 : a % b); NEXT();
    }
    CASE(82) { uint64_t b = sp[-1], a = sp[-2]; if (!b) TRAP(fx_trap_div0); sp--; sp[-1] = a % b; NEXT(); }
    CASE(83) BI64(a & b)
    CASE(84) BI64(a | b)
    CASE(85) BI64(a ^ b)
    CASE(86) BI64(a << (b & 63))
    CASE(87) BI64((int64_t)a >> (b & 63))
    CASE(88) BI64(a >> (b & 63))
    CASE(89) BI64((a << (b & 63)) | (a >> ((64 - b) & 63)))
    CASE(8A) BI64((a >> (b & 63)) | (a << ((64 - b) & 63)))
    CASE(8B) sp[-1] = U32(sp[-1]) & 0x7FFFFFFFu; NEXT();
    CASE(8C) sp[-1] = U32(sp[-1]) ^ 0x80000000u; NEXT();
    CASE(8D) UN(float, fx_f32, q32(ceilf(a)))
    CASE(8E) UN(float, fx_f32, q32(floorf(a)))
    CASE(8F) UN(float, fx_f32, q32(truncf(a)))
    CASE(90) UN(float, fx_f32, q32(rintf(a)))
    CASE(91) UF32(sqrtf(a))
    CASE(92) BF32(a + b)
    CASE(93) BF32(a - b)
    CASE(94) BF32(a * b)
    CASE(95) BF32(a / b)
    CASE(96) BF32(fmin32(a, b))
    CASE(97) BF32(fmax32(a, b))
    CASE(98) { uint32_t b = U32(sp[-1]), a = U32(sp[-2]); sp--; sp[-1] = (a & 0x7FFFFFFFu) | (b & 0x80000000u); NEXT(); }
    CASE(99) sp[-1] &= 0x7FFFFFFFFFFFFFFFull; NEXT();
    CASE(9A) sp[-1] ^= 0x8000000000000000ull; NEXT();
    CASE(9B) UN(double, fx_f64, q64(ceil(a)))
    CASE(9C) UN(double, fx_f64, q64(floor(a)))
    CASE(9D) UN(double, fx_f64, q64(trunc(a)))
    CASE(9E) UN(double, fx_f64, q64(rint(a)))
    CASE(9F) UF64(sqrt(a))
    CASE(A0) BF64(a + b)
    CASE(A1) BF64(a - b)
    CASE(A2) BF64(a * b)
    CASE(A3) BF64(a / b)
    CASE(A4) BF64(fmin64(a, b))
    CASE(A5) BF64(fmax64(a, b))
    CASE(A6) { uint64_t b = sp[-1], a = sp[-2]; sp--; sp[-1] = (a & 0x7FFFFFFFFFFFFFFFull) | (b & 0x8000000000000000ull); NEXT(); }
    CASE(A7) sp[-1] = U32(sp[-1]); NEXT();
    CASE(A8) { float f = fx_f32(sp[-1]); if (f != f) TRAP(fx_trap_conversion);
        if (!(f >= -2147483648.0f && f < 2147483648.0f)) TRAP(fx_trap_overflow);
        sp[-1] = (uint32_t)(int32_t)f; NEXT(); }
    CASE(A9) { float f = fx_f32(sp[-1]); if (f != f) TRAP(fx_trap_conversion);
        if (!(f > -1.0f && f < 4294967296.0f)) TRAP(fx_trap_overflow);
        sp[-1] = (uint32_t)f; NEXT(); }
    CASE(AA) { double d = fx_f64(sp[-1]); if (d != d) TRAP(fx_trap_conversion);
        if (!(d > -2147483649.0 && d < 2147483648.0)) TRAP(fx_trap_overflow);
        sp[-1] = (uint32_t)(int32_t)d; NEXT(); }
    CASE(AB) { double d = fx_f64(sp[-1]); if (d != d) TRAP(fx_trap_conversion);
        if (!(d > -1.0 && d < 4294967296.0)) TRAP(fx_trap_overflow);
        sp[-1] = (uint32_t)d; NEXT(); }
    CASE(AC) sp[-1] = (uint64_t)(int64_t)I32(sp[-1]); NEXT();
    CASE(AD) sp[-1] = U32(sp[-1]); NEXT();
    CASE(AE) { float f = fx_f32(sp[-1]); if (f != f) TRAP(fx_trap_conversion);
        if (!(f >= -9223372036854775808.0f && f < 9223372036854775808.0f)) TRAP(fx_trap_overflow);
        sp[-1] = (uint64_t)(int64_t)f; NEXT(); }
    CASE(AF) { float f = fx_f32(sp[-1]); if (f != f) TRAP(fx_trap_conversion);
        if (!(f > -1.0f && f < 18446744073709551616.0f)) TRAP(fx_trap_overflow);
        sp[-1] = (uint64_t)f; NEXT(); }
    CASE(B0) { double d = fx_f64(sp[-1]); if (d != d) TRAP(fx_trap_conversion);
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) TRAP(fx_trap_overflow);
        sp[-1] = (uint64_t)(int64_t)d; NEXT(); }
    CASE(B1) { double d = fx_f64(sp[-1]); if (d != d) TRAP(fx_trap_conversion);
        if (!(d > -1.0 && d < 18446744073709551616.0)) TRAP(fx_trap_overflow);
        sp[-1] = (uint64_t)d; NEXT(); }
    CASE(B2) sp[-1] = fx_bf32((float)I32(sp[-1])); NEXT();
    CASE(B3) sp[-1] = fx_bf32((float)U32(sp[-1])); NEXT();
    CASE(B4) sp[-1] = fx_bf32((float)I64(sp[-1])); NEXT();
    CASE(B5) sp[-1] = fx_bf32((float)sp[-1]); NEXT();
    CASE(B6) sp[-1] = fx_bf32((float)fx_f64(sp[-1])); NEXT();
    CASE(B7) sp[-1] = fx_bf64((double)I32(sp[-1])); NEXT();
    CASE(B8) sp[-1] = fx_bf64((double)U32(sp[-1])); NEXT();
    CASE(B9) sp[-1] = fx_bf64((double)I64(sp[-1])); NEXT();
    CASE(BA) sp[-1] = fx_bf64((double)sp[-1]); NEXT();
    CASE(BB) sp[-1] = fx_bf64((double)fx_f32(sp[-1])); NEXT();
    CASE(BC) NEXT();        /* reinterprets: the slot already holds the bits */
    CASE(BD) NEXT();
    CASE(BE) NEXT();
    CASE(BF) NEXT();
    CASE(C0) sp[-1] = (uint32_t)(int32_t)(int8_t)sp[-1]; NEXT();
    CASE(C1) sp[-1] = (uint32_t)(int32_t)(int16_t)sp[-1]; NEXT();
    CASE(C2) sp[-1] = (uint64_t)(int64_t)(int8_t)sp[-1]; NEXT();
    CASE(C3) sp[-1] = (uint64_t)(int64_t)(int16_t)sp[-1]; NEXT();
    CASE(C4) sp[-1] = (uint64_t)(int64_t)(int32_t)sp[-1]; NEXT();
    CASE(D0) sp[-1] = sat(fx_f32(sp[-1]), -2147483649.0, 2147483648.0, 0x80000000u, 0x7FFFFFFFu, 1, 0); NEXT();
    CASE(D1) sp[-1] = sat(fx_f32(sp[-1]), -1.0, 4294967296.0, 0, 0xFFFFFFFFu, 0, 0); NEXT();
    CASE(D2) sp[-1] = sat(fx_f64(sp[-1]), -2147483649.0, 2147483648.0, 0x80000000u, 0x7FFFFFFFu, 1, 0); NEXT();
    CASE(D3) sp[-1] = sat(fx_f64(sp[-1]), -1.0, 4294967296.0, 0, 0xFFFFFFFFu, 0, 0); NEXT();
    CASE(D4) sp[-1] = sat(fx_f32(sp[-1]), -9223372036854777856.0, 9223372036854775808.0, 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull, 1, 1); NEXT();
    CASE(D5) sp[-1] = sat(fx_f32(sp[-1]), -1.0, 18446744073709551616.0, 0, UINT64_MAX, 0, 1); NEXT();
    CASE(D6) sp[-1] = sat(fx_f64(sp[-1]), -9223372036854777856.0, 9223372036854775808.0, 0x8000000000000000ull, 0x7FFFFFFFFFFFFFFFull, 1, 1); NEXT();
    CASE(D7) sp[-1] = sat(fx_f64(sp[-1]), -1.0, 18446744073709551616.0, 0, UINT64_MAX, 0, 1); NEXT();
    CASE(D8) {
        uint64_t n = U32(sp[-1]), s = U32(sp[-2]), d = U32(sp[-3]);
        if (s + n > msize || d + n > msize) TRAP(fx_trap_oob);
        memmove(mem + d, mem + s, (size_t)n); sp -= 3; NEXT();
    }
    CASE(D9) {
        uint64_t n = U32(sp[-1]), d = U32(sp[-3]);
        if (d + n > msize) TRAP(fx_trap_oob);
        memset(mem + d, (uint8_t)sp[-2], (size_t)n); sp -= 3; NEXT();
    }
#if !FX_COMPUTED_GOTO
    }
#endif

do_call:
    if (callee->host >= 0) {
        const fx_type *t = &m->types[callee->type];
        const fx_import *h = &m->allow[callee->host];
        uint64_t *args = sp - t->np;
        I->sp = sp;
        fx_result r = h->fn(I, args, h->ctx);
        if (r) TRAP(r);
        sp = args + t->nr;
        CHARGE(0);
    } else {
        uint64_t *nfp = sp - m->types[callee->type].np;
        if (I->nframes >= FX_MAX_FRAMES || nfp + callee->max_height > I->stack_end) TRAP(fx_trap_stack);
        fx_frame *f = &I->frames[I->nframes++];
        f->ip = ip; f->fp = fp; f->func = fi;
        fp = nfp;
        sp = fp + callee->nlocals;
        for (uint64_t *z = nfp + m->types[callee->type].np; z < sp; z++) *z = 0;
        ip = code + callee->code;
        fi = cidx;
        CHARGE(0);
    }

L_bad:
    TRAP("trap: bad internal opcode");
suspend:
    I->ip = ip; I->sp = sp; I->fp = fp; I->func = fi;
    *fuel_io = (uint64_t)(fuel0 - fuel);
    return fx_suspended;
finished:
    I->sp = sp; I->ip = ip; I->state = FX_ST_DONE;
    *fuel_io = (uint64_t)(fuel0 - fuel);
    return NULL;
trapped:
    I->ip = ip; I->sp = sp; I->fp = fp; I->func = fi;
    I->state = FX_ST_TRAPPED; I->trap = trap;
    *fuel_io = (uint64_t)(fuel0 - fuel);
    return trap;
}
