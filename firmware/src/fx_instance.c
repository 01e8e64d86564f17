/* fx_instance.c — instantiation (globals, table, memory, segments, start) and
 * the call/run API around fx_exec(). */
#include "fx_int.h"

static const char e_oob_table[] = "trap: out of bounds table access";
static const char e_state[] = "no call in progress";
static const char e_args[] = "argument count mismatch";
static const char e_mem_cap[] = "unsupported: module needs more linear memory than this build allows";

fx_result fx_instantiate(fx_arena *a, const fx_module *m, uint64_t fuel, fx_instance **out)
{
    fx_instance *I = fx_arena_alloc(a, sizeof *I);
    if (!I) return fx_err_oom;
    I->m = m;
    I->globals = fx_arena_alloc(a, 8 * (size_t)m->nglobals + 8);
    I->stack = fx_arena_alloc(a, 8 * (size_t)FX_STACK_SLOTS);
    I->frames = fx_arena_alloc(a, sizeof(fx_frame) * FX_MAX_FRAMES);
    if (!I->globals || !I->stack || !I->frames) return fx_err_oom;
    I->stack_end = I->stack + FX_STACK_SLOTS;
    for (uint32_t i = 0; i < m->nglobals; i++) I->globals[i] = m->globals[i].init;
    I->tables = fx_arena_alloc(a, sizeof(fx_tableinst) * (size_t)m->ntables + 8);
    if (!I->tables) return fx_err_oom;
    for (uint32_t t = 0; t < m->ntables; t++) {
        I->tables[t].size = m->tables[t].min;
        I->tables[t].e = fx_arena_alloc(a, 8 * (size_t)m->tables[t].min + 8);   /* zero = null */
        if (!I->tables[t].e) return fx_err_oom;
    }
    if (m->has_mem) {
        /* Reserve up to the declared max (capped by the build and by what is
         * left in the arena) so memory.grow never moves memory. */
        uint64_t cap = m->mem_max < FX_MAX_PAGES ? m->mem_max : FX_MAX_PAGES;
        uint64_t avail = (fx_arena_free(a) > 64 ? fx_arena_free(a) - 64 : 0) >> 16;
        if (cap > avail) cap = avail;
        if (m->mem_min > cap) return m->mem_min > FX_MAX_PAGES ? e_mem_cap : fx_err_oom;
        I->mem_cap = (uint32_t)cap;
        I->mem_pages = m->mem_min;
        if (cap) {
            I->mem = fx_arena_alloc(a, (size_t)cap << 16);
            if (!I->mem) return fx_err_oom;
        }
    }
    /* Segments are applied in order; a failing one traps (wasm 2.0 rule). */
    for (uint32_t i = 0; i < m->nelems; i++) {
        const fx_elem *e = &m->elems[i];
        if (e->mode != 0) continue;     /* passive/declarative: no table.init here */
        fx_tableinst *t = &I->tables[e->table];
        if ((uint64_t)e->offset + e->n > t->size) return e_oob_table;
        memcpy(t->e + e->offset, e->vals, 8 * (size_t)e->n);
    }
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const fx_data *d = &m->datas[i];
        if ((uint64_t)d->offset + d->len > ((uint64_t)I->mem_pages << 16)) return fx_trap_oob;
        if (d->len) memcpy(I->mem + d->offset, d->bytes, d->len);
    }
    *out = I;
    if (m->start >= 0) {
        fx_result r = fx_call(I, (uint32_t)m->start, NULL, 0, NULL, 0, fuel);
        if (r) return r == fx_suspended ? "start function ran out of fuel" : r;
    }
    return NULL;
}

fx_result fx_call_begin(fx_instance *I, uint32_t fidx, const uint64_t *args, uint32_t nargs)
{
    const fx_module *m = I->m;
    if (fidx >= m->nfuncs) return "invalid: unknown function";
    const fx_func *f = &m->funcs[fidx];
    const fx_type *t = &m->types[f->type];
    if (nargs != t->np) return e_args;
    I->nframes = 0;
    I->fp = I->stack;
    for (uint32_t i = 0; i < nargs; i++) I->stack[i] = args[i];
    if (f->host >= 0) {
        fx_result r = m->allow[f->host].fn(I, I->stack, m->allow[f->host].ctx);
        I->sp = I->stack + t->nr;
        I->state = r ? FX_ST_TRAPPED : FX_ST_DONE;
        I->trap = r;
        return r;
    }
    if (f->max_height > FX_STACK_SLOTS) return fx_trap_stack;
    for (uint32_t i = nargs; i < f->nlocals; i++) I->stack[i] = 0;
    I->sp = I->stack + f->nlocals;
    I->ip = m->code + f->code;
    I->func = fidx;
    I->state = FX_ST_RUNNING;
    I->trap = NULL;
    return NULL;
}

fx_result fx_run(fx_instance *I, uint64_t fuel, uint64_t *used)
{
    if (I->state == FX_ST_DONE) { if (used) *used = 0; return NULL; }
    if (I->state == FX_ST_TRAPPED) { if (used) *used = 0; return I->trap; }
    if (I->state != FX_ST_RUNNING) return e_state;
    /* fx_exec() takes at most a native-width budget per call */
    uint64_t total = 0;
    fx_result r;
    do {
        uint64_t f = fuel - total;
        r = fx_exec(I, &f);
        total += f;
    } while (r == fx_suspended && total < fuel);
    if (used) *used = total;
    return r;
}

uint32_t fx_results(const fx_instance *I, uint64_t *out, uint32_t max)
{
    uint32_t n = (uint32_t)(I->sp - I->stack);
    if (I->state != FX_ST_DONE) return 0;
    for (uint32_t i = 0; i < n && i < max; i++) out[i] = I->stack[i];
    return n;
}

fx_result fx_call(fx_instance *I, uint32_t fidx, const uint64_t *args, uint32_t nargs,
                  uint64_t *results, uint32_t maxres, uint64_t fuel)
{
    FX_TRY(fx_call_begin(I, fidx, args, nargs));
    fx_result r = fx_run(I, fuel, NULL);
    if (!r && results) fx_results(I, results, maxres);
    return r;
}

uint8_t *fx_memory(fx_instance *I, uint32_t *size)
{
    if (size) *size = I->mem_pages << 16;
    return I->mem;
}
uint64_t *fx_global(fx_instance *I, uint32_t idx)
{
    return idx < I->m->nglobals ? &I->globals[idx] : NULL;
}
void *fx_user(fx_instance *I) { return I->user; }
void fx_set_user(fx_instance *I, void *user) { I->user = user; }
