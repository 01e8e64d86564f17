/* spectest.c — replays wast2json output (JSON + .wasm) against the runtime.
 * Usage: spectest [-v] file.json...   Prints per file: passed/failed/
 * unsupported/skipped. Exit status 1 if anything failed.
 *
 * Decisions: the "spectest" module's print* functions are provided through
 * the import allow-list (they do nothing). Its global_i32, table and memory
 * imports, and imports from `register`ed modules, are reported unsupported
 * (the firmware never links modules together). Text-format modules in
 * assert_malformed/assert_invalid test the .wat parser, which we do not have:
 * they are counted as skipped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include "json.h"
#include "../src/fx.h"
#include "../src/fx_int.h"   /* declared memory size, to size arenas */

/* Arena sizes; the Cortex-M build (run under QEMU semihosting) shrinks them. */
#ifndef MOD_ARENA
#define MOD_ARENA (8u << 20)
#endif
#ifndef STACK_ARENA
#define STACK_ARENA (8u << 20)
#endif
#define FUEL 2000000000ull

static fx_result nop_host(fx_instance *I, uint64_t *a, void *c) { (void)I; (void)a; (void)c; return NULL; }
static const uint64_t g_i32 = 666, g_i64 = 666, g_f32 = 0x4426a666u, g_f64 = 0x4084d4cccccccccdull;
static const fx_import spectest[] = {
    { "spectest", "global_i32", "g:i", NULL, (void *)&g_i32 },
    { "spectest", "global_i64", "g:I", NULL, (void *)&g_i64 },
    { "spectest", "global_f32", "g:f", NULL, (void *)&g_f32 },
    { "spectest", "global_f64", "g:F", NULL, (void *)&g_f64 },
    { "spectest", "print", ":", nop_host, NULL },
    { "spectest", "print_i32", "i:", nop_host, NULL },
    { "spectest", "print_i64", "I:", nop_host, NULL },
    { "spectest", "print_f32", "f:", nop_host, NULL },
    { "spectest", "print_f64", "F:", nop_host, NULL },
    { "spectest", "print_i32_f32", "if:", nop_host, NULL },
    { "spectest", "print_f64_f64", "FF:", nop_host, NULL },
};

typedef struct inst {
    char name[64];
    void *marena, *iarena;
    fx_module *m;
    fx_instance *I;
    int unsupported;
    struct inst *next;
} inst;

static int verbose;
static struct { int pass, fail, unsup, skip; } cnt;
static inst *insts, *cur;
static char dir[512];

static void drop_all(void)
{
    while (insts) { inst *n = insts->next; free(insts->marena); free(insts->iarena); free(insts); insts = n; }
    cur = NULL;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); fclose(f); return NULL; }
    b[n] = 0; fclose(f); *len = (size_t)n;
    return b;
}

/* Load + instantiate; returns the error (NULL ok). */
static fx_result load(const char *file, inst **out)
{
    char path[1024]; size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    uint8_t *w = slurp(path, &len);
    if (!w) return "cannot read module file";
    inst *x = calloc(1, sizeof *x);
    x->marena = malloc(MOD_ARENA);
    if (!x->marena) { free(w); *out = x; return "driver: out of host memory"; }
    fx_arena a, b;
    fx_arena_init(&a, x->marena, MOD_ARENA);
    fx_result r = fx_module_load(&a, w, len, spectest, sizeof spectest / sizeof spectest[0], &x->m);
    free(w);
    if (!r) {
        /* instance arena: room for the declared maximum memory (64 MiB when
         * unbounded: memory_grow.wast grows to 804 pages), 8 MiB for stacks */
        size_t cap = FX_MAX_PAGES < 1024 ? FX_MAX_PAGES : 1024;
        size_t pages = !x->m->has_mem ? 0 : x->m->mem_max < cap ? x->m->mem_max : cap;
        size_t isz = (pages << 16) + STACK_ARENA;
        x->iarena = calloc(1, isz);
        if (!x->iarena) { *out = x; return "driver: out of host memory"; }
        fx_arena_init(&b, x->iarena, isz);
        b.prezeroed = 1;                /* calloc: skip zeroing it again */
        r = fx_instantiate(&b, x->m, FUEL, &x->I);
    }
    *out = x;
    return r;
}

static void result(int ok, int line, const char *what, const char *detail)
{
    if (ok == 1) cnt.pass++;
    else if (ok == 0) { cnt.fail++; fprintf(stderr, "  FAIL line %d: %s%s%s\n", line, what, detail ? ": " : "", detail ? detail : ""); }
    else { cnt.unsup++; if (verbose) fprintf(stderr, "  unsupported line %d: %s %s\n", line, what, detail ? detail : ""); }
}

/* References travel as slots: 0 = null, externref n = n + 1. */
static int parse_val(const jnode *v, uint64_t *out)
{
    const char *t = json_str(v, "type"), *s = json_str(v, "value");
    if (!t || !s) return -1;
    if (!strcmp(t, "externref") || !strcmp(t, "funcref")) {
        *out = strcmp(s, "null") ? strtoull(s, NULL, 10) + 1 : 0;
        return 0;
    }
    if (strcmp(t, "i32") && strcmp(t, "i64") && strcmp(t, "f32") && strcmp(t, "f64")) return -1;
    if (!strncmp(s, "nan:", 4)) return 1;
    *out = strtoull(s, NULL, 10);
    return 0;
}

static int match(const jnode *e, uint64_t got)
{
    const char *t = json_str(e, "type"), *s = json_str(e, "value");
    if (!strcmp(t, "funcref") && (!s || strcmp(s, "null"))) return got != 0;  /* some function */
    if (!strcmp(t, "externref") || !strcmp(t, "funcref")) {
        uint64_t want; parse_val(e, &want); return got == want;
    }
    int is32 = t[1] == '3';
    if (t[0] == 'f' && !strncmp(s, "nan:", 4)) {
        uint64_t exp = is32 ? 0x7F800000u : 0x7FF0000000000000ull;
        uint64_t quiet = is32 ? 0x00400000u : 0x0008000000000000ull;
        uint64_t mag = is32 ? (got & 0x7FFFFFFFu) : (got & 0x7FFFFFFFFFFFFFFFull);
        if (!strcmp(s, "nan:canonical")) return mag == (exp | quiet);
        return (mag & exp) == exp && (mag & quiet);
    }
    uint64_t want = strtoull(s, NULL, 10);
    return is32 ? (uint32_t)got == (uint32_t)want : got == want;
}

static inst *target(const jnode *action)
{
    const char *mn = json_str(action, "module");
    if (!mn) return cur;
    for (inst *x = insts; x; x = x->next) if (!strcmp(x->name, mn)) return x;
    return NULL;
}

/* Runs an action. 1 = ran (r = result), -1 = unsupported. */
static int invoke(const jnode *action, fx_result *r, uint64_t *res, uint32_t *nres)
{
    inst *x = target(action);
    const char *type = json_str(action, "type"), *field = json_str(action, "field");
    if (!x || x->unsupported || !x->I) return -1;
    if (strcmp(type, "invoke")) return -1;                /* "get" of globals */
    int32_t f = fx_find_export(x->m, field, FX_EXT_FUNC);
    if (f < 0) return -1;
    uint64_t args[64]; uint32_t n = 0;
    for (jnode *a = json_get(action, "args")->kid; a; a = a->next) {
        if (n >= 64 || parse_val(a, &args[n]) != 0) return -1;
        n++;
    }
    if (verbose > 1) fprintf(stderr, "invoke %s\n", field);
    *r = fx_call(x->I, (uint32_t)f, args, n, res, 64, FUEL);
    *nres = *r ? 0 : fx_results(x->I, res, 64);
    return 1;
}

static int get_global(const jnode *action, uint64_t *res)
{
    inst *x = target(action);
    if (!x || x->unsupported || !x->I) return -1;
    int32_t g = fx_find_export(x->m, json_str(action, "field"), FX_EXT_GLOBAL);
    if (g < 0) return -1;
    *res = *fx_global(x->I, (uint32_t)g);
    return 1;
}

static void command(const jnode *c)
{
    const char *type = json_str(c, "type");
    int line = (int)json_get(c, "line")->num;
    const char *file = json_str(c, "filename"), *mt = json_str(c, "module_type");
    const jnode *action = json_get(c, "action");
    fx_result r = NULL;
    uint64_t res[64]; uint32_t nres = 0;

    if (!strcmp(type, "module")) {
        inst *x;
        /* an unnamed module stops being reachable once another one loads:
         * free it (keeps the Cortex-M build within its heap) */
        for (inst **pp = &insts; *pp;) {
            inst *o = *pp;
            if (!o->name[0]) { *pp = o->next; free(o->marena); free(o->iarena); free(o); }
            else pp = &o->next;
        }
        cur = NULL;
        r = load(file, &x);
        const char *name = json_str(c, "name");
        if (name) snprintf(x->name, sizeof x->name, "%s", name);
        x->next = insts; insts = x; cur = x;
        if (r && fx_is_unsupported(r)) { x->unsupported = 1; result(-1, line, "module", r); }
        else if (r) { x->unsupported = 1; result(0, line, "module failed to load", r); }
        return;
    }
    if (!strcmp(type, "register")) return;
    if (!strcmp(type, "assert_malformed") || !strcmp(type, "assert_invalid") ||
        !strcmp(type, "assert_unlinkable") || !strcmp(type, "assert_uninstantiable") ||
        (!strcmp(type, "assert_trap") && file)) {
        if (mt && strcmp(mt, "binary")) { cnt.skip++; return; }
        inst *x;
        r = load(file, &x);
        int inst_ok = x->I != NULL;
        free(x->marena); free(x->iarena); free(x);
        if (fx_is_unsupported(r)) { result(-1, line, type, r); return; }
        if (!strcmp(type, "assert_uninstantiable") || !strcmp(type, "assert_trap"))
            result(r && fx_is_trap(r) ? 1 : 0, line, type, r ? r : "instantiated");
        else if (!strcmp(type, "assert_unlinkable"))
            result(r ? 1 : 0, line, type, "linked");
        else result(r && !inst_ok && (r != NULL) ? 1 : 0, line, type, r ? r : json_str(c, "text"));
        return;
    }
    if (!action) { cnt.skip++; return; }
    int ran;
    if (!strcmp(json_str(action, "type"), "get")) { ran = get_global(action, res); nres = 1; }
    else ran = invoke(action, &r, res, &nres);
    if (ran < 0) { result(-1, line, type, json_str(action, "field")); return; }
    if (!strcmp(type, "assert_return") || !strcmp(type, "action")) {
        if (r) { result(0, line, json_str(action, "field"), r); return; }
        const jnode *exp = json_get(c, "expected");
        uint32_t i = 0; int ok = 1;
        for (const jnode *e = exp ? exp->kid : NULL; e; e = e->next, i++) {
            uint64_t dummy;
            if (parse_val(e, &dummy) < 0) { result(-1, line, "result type", json_str(e, "type")); return; }
            if (i >= nres || !match(e, res[i])) ok = 0;
        }
        if (exp && i != nres) ok = 0;
        char buf[96];
        uint64_t r0 = nres ? res[0] : 0;     /* two halves: newlib-nano has no %llx */
        snprintf(buf, sizeof buf, "got %u results, first 0x%08lx%08lx", (unsigned)nres,
                 (unsigned long)(r0 >> 32), (unsigned long)(uint32_t)r0);
        inst *x = target(action);
        if (!ok && x && x->I && x->m->has_mem && x->I->mem_cap < x->m->mem_max)
            result(-1, line, json_str(action, "field"), "linear memory capped by this build (memory.grow may fail)");
        else result(ok, line, json_str(action, "field"), ok ? NULL : buf);
    } else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
        const char *text = json_str(c, "text");
        int ok = r && fx_is_trap(r);
        /* our texts are "trap: <spec text>"; compare the common prefix */
        if (ok && text && strncmp(r + 6, text, strlen(r + 6) < strlen(text) ? strlen(r + 6) : strlen(text))) ok = 0;
        result(ok, line, json_str(action, "field"), r ? r : "no trap");
    } else cnt.skip++;
}

int main(int argc, char **argv)
{
    int total_fail = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) { verbose++; continue; }
        size_t len;
        char *text = (char *)slurp(argv[i], &len);
        if (!text) { fprintf(stderr, "cannot read %s\n", argv[i]); return 2; }
        snprintf(dir, sizeof dir, "%s", argv[i]);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0; else strcpy(dir, ".");
        jnode *root = json_parse(text);
        free(text);
        if (!root) { fprintf(stderr, "bad json %s\n", argv[i]); return 2; }
        memset(&cnt, 0, sizeof cnt);
        for (jnode *c = json_get(root, "commands")->kid; c; c = c->next) command(c);
        const char *base = strrchr(argv[i], '/');
        printf("%-24s passed %5d  failed %4d  unsupported %4d  skipped %4d\n",
               base ? base + 1 : argv[i], cnt.pass, cnt.fail, cnt.unsup, cnt.skip);
        fflush(stdout);
        total_fail += cnt.fail;
        drop_all();
        json_free(root);
    }
    return total_fail ? 1 : 0;
}
