/* fx_sched.c — task queue and cooperative scheduler (ABI v1).
 *
 * A RUN request becomes a queued task. When a task slot (an instance arena
 * big enough for one linear memory) is free, the task is instantiated and
 * walks through phases, each a resumable wasm call:
 *   fedra_alloc(inLen) -> fedra_alloc(paramLen) -> entry(in, inLen, p, pLen)
 *   -> fedra_output_ptr()
 * fx_node_step() runs one fuel slice of one running task (round robin), so
 * the main loop can answer frames (PING) between slices. */
#include <stddef.h>
#include <string.h>
#include "fx_node.h"

static void task_free(fx_node *n, fx_task *t)
{
    if (t->state == T_RUNNING) n->slot_busy[t->slot] = 0;
    if (t->state != T_FREE && n->mods[t->mod].refs) n->mods[t->mod].refs--;
    t->state = T_FREE;
}

static void fail(fx_node *n, fx_task *t, uint8_t code, const char *text)
{
    fx_node_error(n, t->req, code, text);
    task_free(n, t);
}

void fx_sched_run_req(fx_node *n, uint16_t req, fx_rd *r)
{
    fx_run_req q;
    if (fx_parse_run(r, &q) || q.entry_len >= sizeof n->tasks[0].entry) {
        fx_node_error(n, req, FX_E_BAD_FIELDS, "RUN: bad fields");
        return;
    }
    int mi = fx_mod_find(n, q.key);
    if (mi < 0) { fx_node_error(n, req, FX_E_NO_MODULE, "function not loaded"); return; }
    fx_task *t = NULL;
    for (int i = 0; i < FX_MAX_TASKS; i++) {
        if (n->tasks[i].state != T_FREE && n->tasks[i].req == req) {
            fx_node_error(n, req, FX_E_BAD_FIELDS, "RUN: request id already in use");
            return;
        }
        if (!t && n->tasks[i].state == T_FREE) t = &n->tasks[i];
    }
    if (!t) { fx_node_error(n, req, FX_E_BUSY, "task queue full"); return; }
    memset(t, 0, offsetof(fx_task, data));
    t->state = T_QUEUED;
    t->req = req;
    t->mod = (uint8_t)mi;
    t->fuel_left = q.fuel ? q.fuel : UINT64_MAX;
    memcpy(t->entry, q.entry, q.entry_len);
    t->input_len = q.input_len;
    t->params_len = q.params_len;
    memcpy(t->data, q.input, q.input_len);
    memcpy(t->data + q.input_len, q.params, q.params_len);
    n->mods[mi].refs++;
    fx_wr w = fx_node_begin(n, FX_MSG_ACK, req);
    fx_put_u8(&w, FX_MSG_RUN);
    fx_node_finish(n, &w);
}

void fx_sched_cancel(fx_node *n, uint16_t req, fx_rd *r)
{
    uint16_t target = fx_get_u16(r);
    if (r->bad || r->p != r->end) { fx_node_error(n, req, FX_E_BAD_FIELDS, "CANCEL: bad fields"); return; }
    for (int i = 0; i < FX_MAX_TASKS; i++) {
        fx_task *t = &n->tasks[i];
        if (t->state != T_FREE && t->req == target) {
            fail(n, t, FX_E_CANCELLED, "cancelled");
            fx_wr w = fx_node_begin(n, FX_MSG_ACK, req);
            fx_put_u8(&w, FX_MSG_CANCEL);
            fx_node_finish(n, &w);
            return;
        }
    }
    fx_node_error(n, req, FX_E_NO_TASK, "no such task");
}

/* Export `name` must be a function of the given shape (params i32 x np). */
static int32_t export_fn(const fx_module *m, const char *name, uint32_t np, uint32_t nr)
{
    int32_t f = fx_find_export(m, name, FX_EXT_FUNC);
    uint32_t p, r; const uint8_t *pt, *rt;
    if (f < 0 || fx_func_sig(m, (uint32_t)f, &p, &pt, &r, &rt) || p != np || r != nr) return -1;
    for (uint32_t i = 0; i < p; i++) if (pt[i] != FX_I32) return -1;
    for (uint32_t i = 0; i < r; i++) if (rt[i] != FX_I32) return -1;
    return f;
}

/* docs/abi.md §1, checked once when a module is uploaded. */
fx_result fx_abi_check(const fx_module *m)
{
    if (fx_find_export(m, "memory", FX_EXT_MEMORY) < 0) return "ABI: module does not export its memory as \"memory\"";
    if (export_fn(m, "fedra_alloc", 1, 1) < 0) return "ABI: missing export fedra_alloc(i32) -> i32";
    if (export_fn(m, "fedra_output_ptr", 0, 1) < 0) return "ABI: missing export fedra_output_ptr() -> i32";
    if (fx_module_has_start(m) && fx_module_imports(m)) return "ABI: a start function is allowed only in a module without imports";
    for (uint32_t i = 0;; i++) {
        const char *name = fx_export_name(m, i, FX_EXT_FUNC);
        if (!name) return "ABI: no entry point (i32, i32, i32, i32) -> i32";
        if (strncmp(name, "fedra_", 6) && export_fn(m, name, 4, 1) >= 0) return NULL;
    }
}

static void begin(fx_node *n, fx_task *t, const char *fn, uint32_t np, const uint64_t *args)
{
    int32_t f = export_fn(n->mods[t->mod].m, fn, np, 1);
    if (f < 0) { fail(n, t, FX_E_BAD_ENTRY, "missing or ill-typed ABI export"); return; }
    fx_result r = fx_call_begin(t->I, (uint32_t)f, args, np);
    if (r) fail(n, t, FX_E_TRAP, r);
}

static void start(fx_node *n, fx_task *t, int slot)
{
    fx_arena a;
    const fx_module *m = n->mods[t->mod].m;
    fx_arena_init(&a, n->task_arena[slot], FX_TASK_ARENA);
    t->slot = (uint8_t)slot;
    t->state = T_RUNNING;
    n->slot_busy[slot] = 1;
    if (fx_find_export(m, "memory", FX_EXT_MEMORY) < 0) { fail(n, t, FX_E_BAD_ENTRY, "module does not export memory"); return; }
    fx_result r = fx_instantiate(&a, m, FX_SLICE_FUEL, &t->I);
    if (r) { fail(n, t, r == fx_err_oom || fx_is_unsupported(r) ? FX_E_NO_MEMORY : FX_E_TRAP, r); return; }
    t->phase = PH_ALLOC_IN;
    uint64_t arg = t->input_len;
    begin(n, t, "fedra_alloc", 1, &arg);
}

/* Copy task bytes into linear memory at ptr, bounds-checked. */
static int put(fx_task *t, uint32_t ptr, const uint8_t *src, uint32_t len)
{
    uint32_t size; uint8_t *mem = fx_memory(t->I, &size);
    if ((uint64_t)ptr + len > size) return -1;
    if (len) memcpy(mem + ptr, src, len);
    return 0;
}

static void result(fx_node *n, fx_task *t, uint32_t ptr)
{
    uint32_t size, len = (uint32_t)t->ret; uint8_t *mem = fx_memory(t->I, &size);
    if (len > FX_MAX_OUTPUT) { fail(n, t, FX_E_OUTPUT_TOO_LARGE, "output larger than a frame allows"); return; }
    if ((uint64_t)ptr + len > size) { fail(n, t, FX_E_BAD_ENTRY, "output outside linear memory"); return; }
    fx_wr w = fx_node_begin(n, FX_MSG_RESULT, t->req);
    fx_put_u64(&w, t->used);
    fx_put_u32(&w, t->cycles);
    fx_put_u16(&w, (uint16_t)len);
    fx_put_bytes(&w, mem + ptr, len);
    fx_node_finish(n, &w);
    task_free(n, t);
}

/* A phase's call finished with i32 result v: move on. */
static void next_phase(fx_node *n, fx_task *t, uint32_t v)
{
    uint64_t args[4];
    switch (t->phase) {
    case PH_ALLOC_IN:
        t->in_ptr = v;
        if (v == UINT32_MAX) { fail(n, t, FX_E_NO_MEMORY, "fedra_alloc returned -1"); return; }
        if (put(t, v, t->data, t->input_len)) { fail(n, t, FX_E_BAD_ENTRY, "fedra_alloc returned an out-of-bounds pointer"); return; }
        t->phase = PH_ALLOC_PARAM;
        args[0] = t->params_len;
        begin(n, t, "fedra_alloc", 1, args);
        return;
    case PH_ALLOC_PARAM:
        t->param_ptr = v;
        if (v == UINT32_MAX) { fail(n, t, FX_E_NO_MEMORY, "fedra_alloc returned -1"); return; }
        if (put(t, v, t->data + t->input_len, t->params_len)) { fail(n, t, FX_E_BAD_ENTRY, "fedra_alloc returned an out-of-bounds pointer"); return; }
        t->phase = PH_RUN;
        args[0] = t->in_ptr; args[1] = t->input_len; args[2] = t->param_ptr; args[3] = t->params_len;
        begin(n, t, (const char *)t->entry, 4, args);
        return;
    case PH_RUN:
        t->ret = (int32_t)v;
        if (t->ret < 0) {
            char txt[16]; int k = 0; uint32_t x = (uint32_t)-(int64_t)t->ret; char d[12]; int nd = 0;
            txt[k++] = '-';
            do { d[nd++] = (char)('0' + x % 10); x /= 10; } while (x);
            while (nd) txt[k++] = d[--nd];
            txt[k] = 0;
            fail(n, t, FX_E_FUNCTION_ERROR, txt);
            return;
        }
        t->phase = PH_OUTPTR;
        begin(n, t, "fedra_output_ptr", 0, NULL);
        return;
    case PH_OUTPTR:
        result(n, t, v);
        return;
    }
}

static void slice(fx_node *n, fx_task *t)
{
    uint64_t fuel = t->fuel_left < FX_SLICE_FUEL ? t->fuel_left : FX_SLICE_FUEL, used = 0;
    uint32_t c0 = n->port->cycles ? n->port->cycles(n->port->ctx) : 0;
    fx_result r = fx_run(t->I, fuel, &used);
    if (n->port->cycles) t->cycles += n->port->cycles(n->port->ctx) - c0;
    t->used += used;
    t->fuel_left = used < t->fuel_left ? t->fuel_left - used : 0;   /* a run may overshoot */
    if (r == fx_suspended) {
        if (!t->fuel_left) { fail(n, t, FX_E_OUT_OF_FUEL, "fuel limit reached"); return; }
        if (++t->slices % FX_PROGRESS_SLICES == 0) {
            fx_wr w = fx_node_begin(n, FX_MSG_PROGRESS, t->req);
            fx_put_u64(&w, t->used);
            fx_node_finish(n, &w);
        }
        return;
    }
    if (r) { fail(n, t, FX_E_TRAP, r); return; }
    uint64_t res = 0;
    fx_results(t->I, &res, 1);
    next_phase(n, t, (uint32_t)res);
}

int fx_node_step(fx_node *n)
{
    /* admit queued tasks, oldest request first is not tracked: slot order */
    for (int i = 0; i < FX_MAX_TASKS; i++) {
        if (n->tasks[i].state != T_QUEUED) continue;
        for (int s = 0; s < FX_TASK_SLOTS; s++)
            if (!n->slot_busy[s]) { start(n, &n->tasks[i], s); break; }
    }
    for (int k = 0; k < FX_MAX_TASKS; k++) {
        n->rr = (uint8_t)((n->rr + 1) % FX_MAX_TASKS);
        fx_task *t = &n->tasks[n->rr];
        if (t->state == T_RUNNING) { slice(n, t); break; }
    }
    for (int i = 0; i < FX_MAX_TASKS; i++) if (n->tasks[i].state != T_FREE) return 1;
    return 0;
}
