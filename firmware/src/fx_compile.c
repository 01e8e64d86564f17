/* fx_compile.c — validates one function body and translates it, in the same
 * pass, into 32-bit cells for fx_exec.c: immediates are decoded, branch
 * targets resolved to cell indices, and the stack adjustment each branch
 * needs is computed here, so the interpreter never re-reads LEB128 and never
 * searches for an `end`. A small peephole fuses frequent op sequences into
 * superinstructions (local.get pairs, constant operands, compare+br_if, loop
 * increments), and every control transfer gets the fuel cost of the run it
 * ends. Longer than our usual file: validation, translation and fusion share
 * one state (cx) and one pass; splitting them would expose that state. */
#include "fx_int.h"

#define NONE 0xFFFFFFFFu
#define UNKNOWN 0     /* polymorphic stack entry after unreachable/br */

static const char e_type[] = "invalid: type mismatch";
static const char e_label[] = "invalid: unknown label";
static const char e_local[] = "invalid: unknown local";
static const char e_global[] = "invalid: unknown global";
static const char e_mem[] = "invalid: unknown memory";
static const char e_func[] = "invalid: unknown function";
static const char e_typeidx[] = "invalid: unknown type";
static const char e_align[] = "invalid: alignment must not be larger than natural";
static const char e_imm[] = "invalid: global is immutable";
static const char e_opcode[] = "malformed: illegal opcode";
static const char e_zero[] = "malformed: zero byte expected";
static const char e_deep[] = "unsupported: function nesting or stack exceeds a configured limit";
static const char e_end[] = "malformed: END opcode expected";
static const char e_reft[] = "unsupported: reference types";

enum { K_BLOCK, K_LOOP, K_IF, K_ELSE, K_FUNC };

typedef struct {
    uint8_t kind, unreachable;
    uint16_t np, nr;
    const uint8_t *pt, *rt;
    uint32_t height;        /* validator stack height at entry (params excluded) */
    uint32_t patch;         /* chain of forward-branch cells to patch at end */
    uint32_t else_patch;    /* BR_UNLESS cell of an `if` */
    uint32_t loop_pc;
} ctrl;

typedef struct {
    fx_arena *a;
    fx_module *m;
    fx_reader r;
    uint32_t *code;         /* module code base */
    uint8_t *vs; uint32_t vh, vmax;
    ctrl *cs; uint32_t ch;
    const uint8_t *ptypes, *ltypes;
    uint32_t np, nlocals;
    uint32_t pending;               /* wasm ops emitted since the last fuel payment */
    uint32_t last_op, last_pc;      /* most recent op, for the peephole fuser */
    uint32_t prev_op, prev_pc;      /* the one before it */
} cx;

static const uint8_t VT[4] = { FX_F64, FX_F32, FX_I64, FX_I32 };
static const uint8_t RT[2] = { FX_EXTERNREF, FX_FUNCREF };

static uint32_t pc(cx *c) { return (uint32_t)(((uint32_t *)(c->a->base + c->a->lo)) - c->code); }

static fx_result emit(cx *c, uint32_t v)
{
    if (c->cs[c->ch - 1].unreachable) return NULL;     /* dead code: skip */
    if (c->a->lo + 4 > c->a->hi) return fx_err_oom;
    memcpy(c->a->base + c->a->lo, &v, 4);
    c->a->lo += 4;
    return NULL;
}

/* Emit an opcode cell, counting it for fuel and remembering it for fusion. */
static fx_result emit_op(cx *c, uint32_t op)
{
    if (c->cs[c->ch - 1].unreachable) return NULL;
    c->pending++;
    c->prev_op = c->last_op; c->prev_pc = c->last_pc;
    c->last_op = op; c->last_pc = pc(c);
    return emit(c, fx_exec_opcell(op));
}

/* Rewrite an already emitted opcode cell (peephole fusion). */
static void set_op(cx *c, uint32_t at, uint32_t op) { c->code[at] = fx_exec_opcell(op); }

/* The cost cell of a control transfer: pays for the run since the last one. */
static fx_result emit_cost(cx *c)
{
    if (c->cs[c->ch - 1].unreachable) return NULL;
    uint32_t n = c->pending;
    c->pending = 0;
    c->last_op = c->prev_op = NONE;
    return emit(c, n);
}

/* A label ahead: code may jump here, so pay for the fall-through run with an
 * OP_FUEL (only if it has ops) and never fuse across the label. */
static fx_result leader(cx *c)
{
    c->last_op = c->prev_op = NONE;
    if (c->cs[c->ch - 1].unreachable || !c->pending) { c->pending = 0; return NULL; }
    FX_TRY(emit(c, fx_exec_opcell(OP_FUEL)));
    return emit_cost(c);
}

/* Was the op just emitted `op`, occupying `cells` cells up to here? */
static int last_is(cx *c, uint32_t op, uint32_t cells)
{
    return FX_FUSE && c->last_op == op && c->last_pc + cells == pc(c) && !c->cs[c->ch - 1].unreachable;
}

static fx_result push(cx *c, uint8_t t)
{
    if (c->vh >= FX_MAX_VSTACK) return e_deep;
    c->vs[c->vh++] = t;
    if (c->vh > c->vmax) c->vmax = c->vh;
    return NULL;
}

static fx_result pop(cx *c, uint8_t want, uint8_t *got)
{
    ctrl *f = &c->cs[c->ch - 1];
    uint8_t t;
    if (c->vh == f->height) {
        if (!f->unreachable) return e_type;
        t = UNKNOWN;
    } else t = c->vs[--c->vh];
    if (want && t && t != want) return e_type;
    if (got) *got = t ? t : want;
    return NULL;
}

static fx_result pop_n(cx *c, uint32_t n, const uint8_t *t)
{
    for (uint32_t i = n; i-- > 0;) FX_TRY(pop(c, t[i], NULL));
    return NULL;
}
static fx_result push_n(cx *c, uint32_t n, const uint8_t *t)
{
    for (uint32_t i = 0; i < n; i++) FX_TRY(push(c, t[i]));
    return NULL;
}

static void unreachable(cx *c)
{
    ctrl *f = &c->cs[c->ch - 1];
    c->vh = f->height;
    f->unreachable = 1;
}

static fx_result block_type(cx *c, uint16_t *np, const uint8_t **pt, uint16_t *nr, const uint8_t **rt)
{
    uint8_t b;
    if (c->r.p >= c->r.end) return fx_err_eof;
    b = *c->r.p;
    *np = 0; *pt = NULL;
    if (b == 0x40) { c->r.p++; *nr = 0; *rt = NULL; return NULL; }
    if (b >= FX_F64 && b <= FX_I32) { c->r.p++; *nr = 1; *rt = &VT[b - FX_F64]; return NULL; }
    if (fx_is_ref(b) && !FX_MVP_ONLY) { c->r.p++; *nr = 1; *rt = &RT[b - FX_EXTERNREF]; return NULL; }
    if (fx_is_ref(b) || b == 0x7B) return e_reft;
    if (FX_MVP_ONLY) return "unsupported: multi-value block type";
    int64_t idx;
    FX_TRY(fx_rd_s64(&c->r, &idx));
    if (idx < 0 || idx >= c->m->ntypes) return e_typeidx;
    const fx_type *t = &c->m->types[idx];
    *np = t->np; *pt = t->t; *nr = t->nr; *rt = t->t + t->np;
    return NULL;
}

static fx_result push_ctrl(cx *c, uint8_t kind, uint16_t np, const uint8_t *pt, uint16_t nr, const uint8_t *rt)
{
    if (c->ch >= FX_MAX_CTRL) return e_deep;
    ctrl *f = &c->cs[c->ch++];
    f->kind = kind; f->unreachable = 0;
    f->np = np; f->pt = pt; f->nr = nr; f->rt = rt;
    f->height = c->vh - np;
    f->patch = NONE; f->else_patch = NONE;
    f->loop_pc = pc(c);
    return NULL;
}

/* Pop what a frame must leave at its end; the stack must be exactly that. */
static fx_result check_end(cx *c, ctrl *f)
{
    FX_TRY(pop_n(c, f->nr, f->rt));
    if (c->vh != f->height) return e_type;
    return NULL;
}

static void patch_chain(cx *c, uint32_t p, uint32_t target)
{
    while (p != NONE) {
        uint32_t next = c->code[p];
        c->code[p] = target;
        p = next;
    }
}

/* Emit the target/adjust cells of a branch to label depth `d`; the branch's
 * operands are on top of the validator stack (height vh). */
static fx_result emit_target(cx *c, ctrl *t, int with_adj, uint32_t arity)
{
    if (c->cs[c->ch - 1].unreachable) return NULL;
    if (t->kind == K_LOOP) FX_TRY(emit(c, t->loop_pc));
    else { uint32_t here = pc(c); FX_TRY(emit(c, t->patch)); t->patch = here; }
    if (with_adj) {
        int32_t drop = (int32_t)c->vh - (int32_t)t->height - (int32_t)arity;
        FX_TRY(emit(c, drop < 0 ? 0 : (uint32_t)drop));
        FX_TRY(emit(c, arity));
    }
    return NULL;
}

static ctrl *label(cx *c, uint32_t d, uint32_t *arity, const uint8_t **types)
{
    if (d >= c->ch) return NULL;
    ctrl *t = &c->cs[c->ch - 1 - d];
    if (t->kind == K_LOOP) { *arity = t->np; *types = t->pt; }
    else { *arity = t->nr; *types = t->rt; }
    return t;
}

static int branch_needs_adj(cx *c, ctrl *t, uint32_t arity)
{
    return c->vh - t->height != arity;
}

static fx_result memop(cx *c, uint8_t op, uint32_t maxalign, uint8_t in, uint8_t out)
{
    uint32_t align, off;
    if (!c->m->has_mem) return e_mem;
    FX_TRY(fx_rd_u32(&c->r, &align));
    FX_TRY(fx_rd_u32(&c->r, &off));
    if (align > maxalign) return e_align;
    if (in) { FX_TRY(pop(c, in, NULL)); FX_TRY(pop(c, FX_I32, NULL)); }
    else { FX_TRY(pop(c, FX_I32, NULL)); FX_TRY(push(c, out)); }
    if ((op == 0x3A || op == 0x36) && last_is(c, OP_LG_LG, 3)) {
        c->last_op = op == 0x3A ? OP_ST8_LL : OP_ST32_LL;
        set_op(c, c->last_pc, c->last_op);
        c->pending++;
        return emit(c, off);
    }
    if ((op == 0x28 || op == 0x2D) && last_is(c, OP_LOCAL_GET, 2)) {
        c->last_op = op == 0x28 ? OP_LG_LOAD32 : OP_LG_LOAD8U;
        set_op(c, c->last_pc, c->last_op);
        c->pending++;
        return emit(c, off);
    }
    FX_TRY(emit_op(c, op));
    return emit(c, off);
}

/* Operand signature of the plain numeric ops 0x45..0xC4: in1, in2, out. */
static int numsig(uint8_t op, uint8_t *a, uint8_t *b, uint8_t *o)
{
    const uint8_t i = FX_I32, I = FX_I64, f = FX_F32, F = FX_F64;
    *b = 0;
#define R(lo, hi, A, B, O) if (op >= lo && op <= hi) { *a = A; *b = B; *o = O; return 1; }
    R(0x45, 0x45, i, 0, i) R(0x46, 0x4F, i, i, i) R(0x50, 0x50, I, 0, i) R(0x51, 0x5A, I, I, i)
    R(0x5B, 0x60, f, f, i) R(0x61, 0x66, F, F, i) R(0x67, 0x69, i, 0, i) R(0x6A, 0x78, i, i, i)
    R(0x79, 0x7B, I, 0, I) R(0x7C, 0x8A, I, I, I) R(0x8B, 0x91, f, 0, f) R(0x92, 0x98, f, f, f)
    R(0x99, 0x9F, F, 0, F) R(0xA0, 0xA6, F, F, F) R(0xA7, 0xA7, I, 0, i) R(0xA8, 0xA9, f, 0, i)
    R(0xAA, 0xAB, F, 0, i) R(0xAC, 0xAD, i, 0, I) R(0xAE, 0xAF, f, 0, I) R(0xB0, 0xB1, F, 0, I)
    R(0xB2, 0xB3, i, 0, f) R(0xB4, 0xB5, I, 0, f) R(0xB6, 0xB6, F, 0, f) R(0xB7, 0xB8, i, 0, F)
    R(0xB9, 0xBA, I, 0, F) R(0xBB, 0xBB, f, 0, F) R(0xBC, 0xBC, f, 0, i) R(0xBD, 0xBD, F, 0, I)
    R(0xBE, 0xBE, i, 0, f) R(0xBF, 0xBF, I, 0, F) R(0xC0, 0xC1, i, 0, i) R(0xC2, 0xC4, I, 0, I)
#undef R
    return 0;
}

static uint8_t local_type(cx *c, uint32_t i)
{
    return i < c->np ? c->ptypes[i] : c->ltypes[i - c->np];
}

static fx_result op_prefix_fc(cx *c)
{
    uint32_t sub; uint8_t z;
    static const uint8_t in[8] = { FX_F32, FX_F32, FX_F64, FX_F64, FX_F32, FX_F32, FX_F64, FX_F64 };
    FX_TRY(fx_rd_u32(&c->r, &sub));
    if (sub < 8) {
        FX_TRY(pop(c, in[sub], NULL));
        FX_TRY(push(c, sub < 4 ? FX_I32 : FX_I64));
        return emit_op(c, OP_TRUNC_SAT + sub);
    }
    if (sub == 10 || sub == 11) {
        if (!c->m->has_mem) return e_mem;
        for (int k = 0; k < (sub == 10 ? 2 : 1); k++) {
            FX_TRY(fx_rd_u8(&c->r, &z));
            if (z) return e_zero;
        }
        for (int k = 0; k < 3; k++) FX_TRY(pop(c, FX_I32, NULL));
        return emit_op(c, sub == 10 ? OP_MEMORY_COPY : OP_MEMORY_FILL);
    }
    if (sub == 16 && !FX_MVP_ONLY) {             /* table.size */
        uint32_t x;
        FX_TRY(fx_rd_u32(&c->r, &x));
        if (x >= c->m->ntables) return "invalid: unknown table";
        FX_TRY(push(c, FX_I32));
        FX_TRY(emit_op(c, OP_TABLE_SIZE));
        return emit(c, x);
    }
    if (sub <= 17) return "unsupported: bulk memory / table operation";
    return e_opcode;
}

/* i32.const k; i32.<binop> -> binop with immediate; and local.get a; that
 * with i32.add -> one op pushing a + k. */
static const uint8_t kops[] = { 0x6A, 0x6B, 0x6C, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76 };
static const uint8_t lops[] = { 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x12 };
static const uint8_t llops[] = { 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1C, 0x1D };

static fx_result emit_numeric(cx *c, uint8_t op)
{
    const uint8_t *k = memchr(kops, op, sizeof kops);
    if (k && last_is(c, OP_LG_LG, 3)) {          /* both operands are locals */
        c->last_op = llops[k - kops];
        set_op(c, c->last_pc, c->last_op);
        c->pending++;
        return NULL;
    }
    if (k && last_is(c, OP_LOCAL_GET, 2)) {      /* right operand is a local */
        c->last_op = lops[k - kops];
        set_op(c, c->last_pc, c->last_op);
        c->pending++;
        return NULL;
    }
    if (k && last_is(c, OP_I32_CONST, 2)) {
        uint32_t kop = OP_I32_ADD_K + (uint32_t)(k - kops);
        c->pending++;
        if (kop == OP_I32_ADD_K && c->prev_op == OP_LOCAL_GET && c->prev_pc + 2 == c->last_pc) {
            uint32_t p = c->prev_pc;
            set_op(c, p, OP_LG_ADD_K);
            c->code[p + 2] = c->code[p + 3];     /* k moves over the const opcode */
            c->a->lo -= 4;
            c->last_op = OP_LG_ADD_K; c->last_pc = p; c->prev_op = NONE;
            return NULL;
        }
        c->last_op = kop;
        set_op(c, c->last_pc, kop);
        return NULL;
    }
    return emit_op(c, op);
}

/* Reference-type ops: ref.null/is_null/func and table.get/set. References
 * are slots (0 = null, function f = f + 1), so these reuse plain ops. */
static fx_result op_ref(cx *c, uint8_t op)
{
    uint8_t t; uint32_t x;
    switch (op) {
    case 0xD0:
        FX_TRY(fx_rd_u8(&c->r, &t));
        if (!fx_is_ref(t)) return "malformed: malformed reference type";
        FX_TRY(push(c, t));
        FX_TRY(emit_op(c, OP_I64_CONST)); FX_TRY(emit(c, 0)); return emit(c, 0);
    case 0xD1:
        FX_TRY(pop(c, 0, &t));
        if (t && !fx_is_ref(t)) return e_type;
        FX_TRY(push(c, FX_I32));
        return emit_op(c, 0x50);                 /* i64.eqz on the slot */
    case 0xD2:
        FX_TRY(fx_rd_u32(&c->r, &x));
        if (x >= c->m->nfuncs) return e_func;
        FX_TRY(push(c, FX_FUNCREF));
        FX_TRY(emit_op(c, OP_I64_CONST)); FX_TRY(emit(c, x + 1)); return emit(c, 0);
    default:                                     /* 0x25 table.get, 0x26 table.set */
        FX_TRY(fx_rd_u32(&c->r, &x));
        if (x >= c->m->ntables) return "invalid: unknown table";
        t = c->m->tables[x].type;
        if (op == 0x26) FX_TRY(pop(c, t, NULL));
        FX_TRY(pop(c, FX_I32, NULL));
        if (op == 0x25) FX_TRY(push(c, t));
        FX_TRY(emit_op(c, op == 0x25 ? OP_TABLE_GET : OP_TABLE_SET));
        return emit(c, x);
    }
}

static fx_result op_control(cx *c, uint8_t op, int *done);
static fx_result op_other(cx *c, uint8_t op);

fx_result fx_compile_func(fx_arena *a, fx_module *m, uint32_t fidx, fx_reader body,
                          const uint8_t *ltypes, uint32_t nl)
{
    cx c = { .a = a, .m = m, .r = body, .ltypes = ltypes, .last_op = NONE, .prev_op = NONE };
    fx_func *fn = &m->funcs[fidx];
    const fx_type *ft = &m->types[fn->type];
    a->lo = (a->lo + 3) & ~(size_t)3;
    if (!m->code) m->code = (uint32_t *)(a->base + a->lo);
    c.code = m->code;
    c.vs = fx_arena_temp(a, FX_MAX_VSTACK);
    c.cs = fx_arena_temp(a, FX_MAX_CTRL * sizeof(ctrl));
    if (!c.vs || !c.cs) return fx_err_oom;
    c.ptypes = ft->t; c.np = ft->np; c.nlocals = ft->np + nl;
    fn->code = pc(&c);
    fn->nlocals = (uint16_t)c.nlocals;
    FX_TRY(push_ctrl(&c, K_FUNC, 0, NULL, ft->nr, ft->t + ft->np));
    int done = 0;
    while (!done) {
        uint8_t op;
        if (c.r.p >= c.r.end) return e_end;
        FX_TRY(fx_rd_u8(&c.r, &op));
        if (op <= 0x11) FX_TRY(op_control(&c, op, &done));
        else FX_TRY(op_other(&c, op));
    }
    if (c.r.p != c.r.end) return "malformed: section size mismatch";
    if (c.nlocals + c.vmax + 1 > 0xFFFF) return e_deep;
    fn->max_height = c.nlocals + c.vmax + 1;
    m->ncode = pc(&c);
    return NULL;
}

static fx_result op_control(cx *c, uint8_t op, int *done)
{
    uint16_t np, nr; const uint8_t *pt, *rt;
    uint32_t d, arity; const uint8_t *lt; ctrl *t;
    switch (op) {
    case 0x00: FX_TRY(emit_op(c, OP_UNREACHABLE)); unreachable(c); return NULL;
    case 0x01: return NULL;
    case 0x02: case 0x03:
        FX_TRY(block_type(c, &np, &pt, &nr, &rt));
        FX_TRY(pop_n(c, np, pt)); FX_TRY(push_n(c, np, pt));
        if (op == 0x03) FX_TRY(leader(c));       /* the back-edge target */
        return push_ctrl(c, op == 0x02 ? K_BLOCK : K_LOOP, np, pt, nr, rt);
    case 0x04: {
        FX_TRY(block_type(c, &np, &pt, &nr, &rt));
        FX_TRY(pop(c, FX_I32, NULL));
        FX_TRY(pop_n(c, np, pt)); FX_TRY(push_n(c, np, pt));
        int dead = c->cs[c->ch - 1].unreachable;
        uint32_t at;
        /* `cmp; if` jumps to the else arm on the negated compare: reuse the
         * compare+br_if superinstructions (AssemblyScript loops look so) */
        static const uint8_t neg[10] = { 0x47, 0x46, 0x4E, 0x4F, 0x4C, 0x4D, 0x4A, 0x4B, 0x48, 0x49 };
        uint32_t lo = c->last_op;
        if (!dead && lo >= 0x46 && lo <= 0x4F && last_is(c, lo, 1) &&
            c->prev_op == OP_LG_LG && c->prev_pc + 3 == c->last_pc) {
            set_op(c, c->prev_pc, OP_BR_IF_LL + (neg[lo - 0x46] - 0x46u));
            c->a->lo -= 4;                               /* drop the compare cell */
            c->pending++;
            at = pc(c);
        } else if (!dead && lo >= 0x45 && lo <= 0x4F && last_is(c, lo, 1)) {
            set_op(c, c->last_pc, lo == 0x45 ? OP_BR_IF : OP_BR_IF_CMP + (neg[lo - 0x46] - 0x45u));
            c->pending++;
            at = pc(c);
        } else {
            at = pc(c) + 1;
            FX_TRY(emit_op(c, OP_BR_UNLESS));
        }
        FX_TRY(emit(c, NONE)); FX_TRY(emit_cost(c));
        FX_TRY(push_ctrl(c, K_IF, np, pt, nr, rt));
        c->cs[c->ch - 1].else_patch = dead ? NONE : at;
        return NULL;
    }
    case 0x05: {
        ctrl *f = &c->cs[c->ch - 1];
        if (f->kind != K_IF) return "malformed: else without if";
        FX_TRY(check_end(c, f));
        FX_TRY(emit_op(c, OP_BR));               /* then-branch jumps to end */
        FX_TRY(emit_target(c, f, 0, 0));
        FX_TRY(emit_cost(c));
        c->pending = 0;
        c->last_op = c->prev_op = NONE;
        f->kind = K_ELSE;
        if (f->else_patch != NONE) c->code[f->else_patch] = pc(c);
        f->else_patch = NONE;
        f->unreachable = 0;
        return push_n(c, f->np, f->pt);
    }
    case 0x0B: {
        ctrl *f = &c->cs[c->ch - 1];
        FX_TRY(check_end(c, f));
        if (f->kind == K_IF) {
            if (f->np != f->nr || (f->np && memcmp(f->pt, f->rt, f->np))) return e_type;
        }
        if (f->kind == K_FUNC) {
            /* the fall-through return pays for its run; branches to the
             * function label (already paid) land on a free RETURN */
            if (!f->unreachable) { FX_TRY(emit(c, fx_exec_opcell(OP_RETURN))); FX_TRY(emit_cost(c)); }
            if (f->patch != NONE) {
                f->unreachable = 0;
                patch_chain(c, f->patch, pc(c));
                FX_TRY(emit(c, fx_exec_opcell(OP_RETURN))); FX_TRY(emit(c, 0));
            }
            *done = 1;
            return NULL;
        }
        FX_TRY(leader(c));
        uint32_t here = pc(c);
        if (f->else_patch != NONE) c->code[f->else_patch] = here;
        patch_chain(c, f->patch, here);
        c->ch--;
        return push_n(c, f->nr, f->rt);
    }
    case 0x0C: case 0x0D:
        FX_TRY(fx_rd_u32(&c->r, &d));
        if (op == 0x0D) FX_TRY(pop(c, FX_I32, NULL));
        if (!(t = label(c, d, &arity, &lt))) return e_label;
        FX_TRY(pop_n(c, arity, lt));
        FX_TRY(push_n(c, arity, lt));
        {
            int adj = branch_needs_adj(c, t, arity);
            if (op == 0x0D && !adj && c->last_op >= 0x46 && c->last_op <= 0x4F && last_is(c, c->last_op, 1) &&
                c->prev_op == OP_LG_LG && c->prev_pc + 3 == c->last_pc) {
                /* local.get a; local.get b; compare; br_if -> one op */
                set_op(c, c->prev_pc, OP_BR_IF_LL + (c->last_op - 0x46));
                c->a->lo -= 4;                           /* drop the compare cell */
                c->pending++;
            } else if (op == 0x0D && !adj && c->last_op >= 0x45 && c->last_op <= 0x4F && last_is(c, c->last_op, 1)) {
                /* compare + br_if -> one op */
                set_op(c, c->last_pc, OP_BR_IF_CMP + (c->last_op - 0x45));
                c->pending++;
            } else if (op == 0x0C && !adj && last_is(c, OP_LG_ADD_K_SET, 4)) {
                /* loop increment + back edge -> one op */
                set_op(c, c->last_pc, OP_LG_ADD_K_SET_BR);
                c->pending++;
            } else FX_TRY(emit_op(c, op == 0x0C ? (adj ? OP_BR_ADJ : OP_BR) : (adj ? OP_BR_IF_ADJ : OP_BR_IF)));
            FX_TRY(emit_target(c, t, adj, arity));
            FX_TRY(emit_cost(c));
        }
        if (op == 0x0C) unreachable(c);
        return NULL;
    case 0x0E: {
        uint32_t n, def_arity = 0;
        FX_TRY(fx_rd_u32(&c->r, &n));
        FX_TRY(pop(c, FX_I32, NULL));
        if (n > 0xFFFF) return e_deep;
        FX_TRY(emit_op(c, OP_BR_TABLE)); FX_TRY(emit(c, n)); FX_TRY(emit_cost(c));
        for (uint32_t i = 0; i <= n; i++) {
            FX_TRY(fx_rd_u32(&c->r, &d));
            if (!(t = label(c, d, &arity, &lt))) return e_label;
            if (i == 0) def_arity = arity;
            else if (arity != def_arity) return e_type;
            /* each label's types must fit the stack (polymorphic-aware) */
            uint32_t save = c->vh;
            uint8_t tmp[16];
            if (arity > sizeof tmp) return e_deep;
            for (uint32_t k = arity; k-- > 0;) FX_TRY(pop(c, lt[k], &tmp[k]));
            c->vh = save;
            for (uint32_t k = 0; k < arity && c->vh >= arity; k++)
                if (c->vs[c->vh - arity + k] == UNKNOWN) c->vs[c->vh - arity + k] = tmp[k];
            FX_TRY(emit_target(c, t, 1, arity));
        }
        unreachable(c);
        return NULL;
    }
    case 0x0F: {
        ctrl *f = &c->cs[0];
        FX_TRY(pop_n(c, f->nr, f->rt));
        FX_TRY(emit_op(c, OP_RETURN));
        FX_TRY(emit_cost(c));
        unreachable(c);
        return NULL;
    }
    case 0x10: {
        uint32_t fi;
        FX_TRY(fx_rd_u32(&c->r, &fi));
        if (fi >= c->m->nfuncs) return e_func;
        const fx_type *ty = &c->m->types[c->m->funcs[fi].type];
        FX_TRY(pop_n(c, ty->np, ty->t));
        FX_TRY(push_n(c, ty->nr, ty->t + ty->np));
        FX_TRY(emit_op(c, OP_CALL));
        FX_TRY(emit(c, fi));
        return emit_cost(c);
    }
    case 0x11: {
        uint32_t ti, tab;
        FX_TRY(fx_rd_u32(&c->r, &ti));
        FX_TRY(fx_rd_u32(&c->r, &tab));
        if (tab >= c->m->ntables) return "invalid: unknown table";
        if (c->m->tables[tab].type != FX_FUNCREF) return e_type;
        if (ti >= c->m->ntypes) return e_typeidx;
        const fx_type *ty = &c->m->types[ti];
        FX_TRY(pop(c, FX_I32, NULL));
        FX_TRY(pop_n(c, ty->np, ty->t));
        FX_TRY(push_n(c, ty->nr, ty->t + ty->np));
        FX_TRY(emit_op(c, OP_CALL_INDIRECT));
        FX_TRY(emit(c, ti));
        FX_TRY(emit(c, tab));
        return emit_cost(c);
    }
    }
    return e_opcode;
}

static fx_result op_other(cx *c, uint8_t op)
{
    uint8_t a, b, o, t1, t2;
    uint32_t idx;
    switch (op) {
    case 0x1A: FX_TRY(pop(c, 0, NULL)); return emit_op(c, OP_DROP);
    case 0x1B: case 0x1C:
        if (op == 0x1C) {
            uint32_t n; uint8_t vt;
            if (FX_MVP_ONLY) return "unsupported: typed select";
            FX_TRY(fx_rd_u32(&c->r, &n));
            if (n != 1) return "invalid: invalid result arity";
            FX_TRY(fx_rd_u8(&c->r, &vt));
            if ((vt < FX_F64 || vt > FX_I32) && !fx_is_ref(vt)) return "malformed: invalid value type";
            FX_TRY(pop(c, FX_I32, NULL));
            FX_TRY(pop(c, vt, NULL)); FX_TRY(pop(c, vt, NULL));
            FX_TRY(push(c, vt));
            return emit_op(c, OP_SELECT);
        }
        FX_TRY(pop(c, FX_I32, NULL));
        FX_TRY(pop(c, 0, &t1));
        FX_TRY(pop(c, t1, &t2));
        if (fx_is_ref(t1) || fx_is_ref(t2)) return e_type;   /* untyped select: numbers only */
        FX_TRY(push(c, t1 ? t1 : t2));
        return emit_op(c, OP_SELECT);
    case 0x20: case 0x21: case 0x22:
        FX_TRY(fx_rd_u32(&c->r, &idx));
        if (idx >= c->nlocals) return e_local;
        t1 = local_type(c, idx);
        if (op == 0x20) FX_TRY(push(c, t1));
        else { FX_TRY(pop(c, t1, NULL)); if (op == 0x22) FX_TRY(push(c, t1)); }
        if (op == 0x20 && last_is(c, OP_LOCAL_GET, 2)) {
            c->last_op = OP_LG_LG;
            set_op(c, c->last_pc, OP_LG_LG);
            c->pending++;
            return emit(c, idx);
        }
        if (op == 0x21 && last_is(c, OP_LG_ADD_K, 3)) {
            set_op(c, c->last_pc, OP_LG_ADD_K_SET);
            c->last_op = OP_LG_ADD_K_SET;
            c->pending++;
            return emit(c, idx);
        }
        FX_TRY(emit_op(c, op));
        return emit(c, idx);
    case 0x23: case 0x24:
        FX_TRY(fx_rd_u32(&c->r, &idx));
        if (idx >= c->m->nglobals) return e_global;
        t1 = c->m->globals[idx].type;
        if (op == 0x23) FX_TRY(push(c, t1));
        else {
            if (!c->m->globals[idx].mut) return e_imm;
            FX_TRY(pop(c, t1, NULL));
        }
        FX_TRY(emit_op(c, op));
        return emit(c, idx);
    case 0x28: return memop(c, op, 2, 0, FX_I32);
    case 0x29: return memop(c, op, 3, 0, FX_I64);
    case 0x2A: return memop(c, op, 2, 0, FX_F32);
    case 0x2B: return memop(c, op, 3, 0, FX_F64);
    case 0x2C: case 0x2D: return memop(c, op, 0, 0, FX_I32);
    case 0x2E: case 0x2F: return memop(c, op, 1, 0, FX_I32);
    case 0x30: case 0x31: return memop(c, op, 0, 0, FX_I64);
    case 0x32: case 0x33: return memop(c, op, 1, 0, FX_I64);
    case 0x34: case 0x35: return memop(c, op, 2, 0, FX_I64);
    case 0x36: return memop(c, op, 2, FX_I32, 0);
    case 0x37: return memop(c, op, 3, FX_I64, 0);
    case 0x38: return memop(c, op, 2, FX_F32, 0);
    case 0x39: return memop(c, op, 3, FX_F64, 0);
    case 0x3A: return memop(c, op, 0, FX_I32, 0);
    case 0x3B: return memop(c, op, 1, FX_I32, 0);
    case 0x3C: return memop(c, op, 0, FX_I64, 0);
    case 0x3D: return memop(c, op, 1, FX_I64, 0);
    case 0x3E: return memop(c, op, 2, FX_I64, 0);
    case 0x3F: case 0x40: {
        uint8_t z;
        if (!c->m->has_mem) return e_mem;
        FX_TRY(fx_rd_u8(&c->r, &z));
        if (z) return e_zero;
        if (op == 0x40) FX_TRY(pop(c, FX_I32, NULL));
        FX_TRY(push(c, FX_I32));
        return emit_op(c, op);
    }
    case 0x41: { int32_t v; FX_TRY(fx_rd_s32(&c->r, &v)); FX_TRY(push(c, FX_I32));
        FX_TRY(emit_op(c, op)); return emit(c, (uint32_t)v); }
    case 0x42: { int64_t v; FX_TRY(fx_rd_s64(&c->r, &v)); FX_TRY(push(c, FX_I64));
        FX_TRY(emit_op(c, op)); FX_TRY(emit(c, (uint32_t)v)); return emit(c, (uint32_t)((uint64_t)v >> 32)); }
    case 0x43: { const uint8_t *p; uint32_t v; FX_TRY(fx_rd_bytes(&c->r, 4, &p)); memcpy(&v, p, 4);
        FX_TRY(push(c, FX_F32)); FX_TRY(emit_op(c, op)); return emit(c, v); }
    case 0x44: { const uint8_t *p; uint32_t v[2]; FX_TRY(fx_rd_bytes(&c->r, 8, &p)); memcpy(v, p, 8);
        FX_TRY(push(c, FX_F64)); FX_TRY(emit_op(c, op)); FX_TRY(emit(c, v[0])); return emit(c, v[1]); }
    case 0xFC: return FX_MVP_ONLY ? "unsupported: post-MVP 0xFC operator" : op_prefix_fc(c);
    case 0xD0: case 0xD1: case 0xD2: case 0x25: case 0x26: return FX_MVP_ONLY ? e_reft : op_ref(c, op);
    case 0xFD: return "unsupported: SIMD";
    }
    if (!numsig(op, &a, &b, &o)) return e_opcode;
    if (FX_MVP_ONLY && op >= 0xC0) return "unsupported: sign-extension operator";
    if (b) FX_TRY(pop(c, b, NULL));
    FX_TRY(pop(c, a, NULL));
    FX_TRY(push(c, o));
    return emit_numeric(c, op);
}
