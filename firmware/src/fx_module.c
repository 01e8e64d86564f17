/* fx_module.c — the binary module parser (arena and reader: fx_read.c).
 * Sections are read once, in order; code bodies go straight to the compiler
 * (fx_compile.c) so the wasm bytes can be dropped after load. */
#include "fx_int.h"

const char fx_err_unsupported_import[] = "unsupported: import not on the allow-list";
static const char e_magic[] = "malformed: magic header not detected";
static const char e_version[] = "malformed: unknown binary version";
static const char e_section[] = "malformed: section size mismatch";
static const char e_order[] = "malformed: unexpected section";
static const char e_valtype[] = "malformed: invalid value type";
static const char e_utf8[] = "malformed: invalid UTF-8 encoding";
static const char e_count[] = "malformed: function and code section have inconsistent lengths";
static const char e_limits[] = "invalid: size minimum must not be greater than maximum";
static const char e_memsize[] = "invalid: memory size must be at most 65536 pages (4GiB)";
static const char e_const[] = "invalid: constant expression required";
static const char e_type_mismatch[] = "invalid: type mismatch";
static const char e_dup_export[] = "invalid: duplicate export name";
static const char e_index[] = "invalid: unknown index";
static const char e_start[] = "invalid: start function must have type [] -> []";
static const char e_datacount[] = "malformed: data count and data section have inconsistent lengths";
static const char e_multi_mem[] = "invalid: multiple memories";
static const char e_limit[] = "unsupported: module exceeds a configured limit";
static const char e_reftypes[] = "unsupported: reference types / bulk memory";
static const char e_import_kind[] = "unsupported: imported table, memory or global";


static int utf8_ok(const uint8_t *s, uint32_t n)
{
    uint32_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t len, cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
        else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
        else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
        else return 0;
        if (i + len > n) return 0;
        for (uint32_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

/* Names are copied into the arena, NUL-terminated. */
static fx_result rd_name(fx_arena *a, fx_reader *r, const char **out)
{
    uint32_t n; const uint8_t *p;
    FX_TRY(fx_rd_u32(r, &n));
    FX_TRY(fx_rd_bytes(r, n, &p));
    if (!utf8_ok(p, n)) return e_utf8;
    if (!out) return NULL;
    char *s = fx_arena_alloc(a, n + 1);
    if (!s) return fx_err_oom;
    memcpy(s, p, n);
    *out = s;
    return NULL;
}

static fx_result rd_valtype(fx_reader *r, uint8_t *t)
{
    FX_TRY(fx_rd_u8(r, t));
    if (*t >= FX_F64 && *t <= FX_I32) return NULL;
    if (fx_is_ref(*t)) return FX_MVP_ONLY ? e_reftypes : NULL;
    if (*t == 0x7B) return "unsupported: SIMD";
    return e_valtype;
}

static fx_result rd_limits(fx_reader *r, uint32_t *min, uint32_t *max, uint32_t cap)
{
    uint8_t flag;
    FX_TRY(fx_rd_u8(r, &flag));
    if (flag > 1) return "malformed: integer too large";
    FX_TRY(fx_rd_u32(r, min));
    *max = cap;
    if (flag) {
        FX_TRY(fx_rd_u32(r, max));
        if (*min > *max) return e_limits;
    }
    return NULL;
}

/* Constant expression of a single const op (or a reference-type op). */
static fx_result rd_const(fx_reader *r, const fx_module *m, uint8_t want, uint64_t *v)
{
    uint8_t op, end; uint8_t got;
    FX_TRY(fx_rd_u8(r, &op));
    switch (op) {
    case 0x41: { int32_t x; FX_TRY(fx_rd_s32(r, &x)); *v = (uint32_t)x; got = FX_I32; break; }
    case 0x42: { int64_t x; FX_TRY(fx_rd_s64(r, &x)); *v = (uint64_t)x; got = FX_I64; break; }
    case 0x43: { const uint8_t *p; FX_TRY(fx_rd_bytes(r, 4, &p)); uint32_t u; memcpy(&u, p, 4); *v = u; got = FX_F32; break; }
    case 0x44: { const uint8_t *p; FX_TRY(fx_rd_bytes(r, 8, &p)); memcpy(v, p, 8); got = FX_F64; break; }
    case 0x23: {  /* only immutable imported globals are allowed here */
        uint32_t idx; FX_TRY(fx_rd_u32(r, &idx));
        if (idx >= m->nimported_globals) return "invalid: unknown global";
        if (m->globals[idx].mut) return e_const;
        *v = m->globals[idx].init; got = m->globals[idx].type;
        break;
    }
    case 0xD0:      /* ref.null t */
        if (FX_MVP_ONLY) return e_reftypes;
        FX_TRY(fx_rd_u8(r, &got));
        if (!fx_is_ref(got)) return "malformed: malformed reference type";
        *v = 0;
        break;
    case 0xD2: {    /* ref.func x */
        uint32_t x;
        if (FX_MVP_ONLY) return e_reftypes;
        FX_TRY(fx_rd_u32(r, &x));
        if (x >= m->nfuncs) return "invalid: unknown function";
        *v = (uint64_t)x + 1; got = FX_FUNCREF;
        break;
    }
    case 0x0B: return e_type_mismatch;
    default: return e_const;
    }
    FX_TRY(fx_rd_u8(r, &end));
    if (end != 0x0B) return e_const;
    if (got != want) return e_type_mismatch;
    return NULL;
}

#define NEW(ptr, n) do { if (!((ptr) = fx_arena_alloc(a, sizeof(*(ptr)) * (size_t)(n) + 1))) return fx_err_oom; } while (0)

static fx_result sec_type(fx_arena *a, fx_reader *r, fx_module *m)
{
    FX_TRY(fx_rd_u32(r, &m->ntypes));
    if (m->ntypes > FX_MAX_FUNCS) return e_limit;
    NEW(m->types, m->ntypes);
    for (uint32_t i = 0; i < m->ntypes; i++) {
        uint8_t form; uint32_t np, nr;
        FX_TRY(fx_rd_u8(r, &form));
        if (form != 0x60) return "malformed: integer representation too long";
        FX_TRY(fx_rd_u32(r, &np));
        if (np > 255 || np > (size_t)(r->end - r->p)) return np > 255 ? e_limit : fx_err_eof;
        uint8_t tmp[512];
        for (uint32_t k = 0; k < np; k++) FX_TRY(rd_valtype(r, &tmp[k]));
        FX_TRY(fx_rd_u32(r, &nr));
        if (nr > 255) return e_limit;
        if (nr > 1 && FX_MVP_ONLY) return "unsupported: multi-value";
        for (uint32_t k = 0; k < nr; k++) FX_TRY(rd_valtype(r, &tmp[np + k]));
        uint8_t *t = fx_arena_alloc(a, np + nr + 1);
        if (!t) return fx_err_oom;
        memcpy(t, tmp, np + nr);
        m->types[i] = (fx_type){ (uint16_t)np, (uint16_t)nr, t, (uint16_t)i };
        /* structurally equal types share one canonical index, which is what
         * call_indirect compares at run time */
        for (uint32_t k = 0; k < i; k++)
            if (m->types[k].np == np && m->types[k].nr == nr && !memcmp(m->types[k].t, t, np + nr)) {
                m->types[i].canon = (uint16_t)k; break;
            }
    }
    return NULL;
}

/* Does the allow-list signature string match a function type? */
static int sig_matches(const char *sig, const fx_type *t)
{
    static const char L[] = "FfIi";  /* 0x7C..0x7F */
    uint32_t i = 0;
    for (; *sig && *sig != ':'; sig++, i++)
        if (i >= t->np || L[t->t[i] - FX_F64] != *sig) return 0;
    if (i != t->np || *sig != ':') return 0;
    sig++;
    for (i = 0; *sig; sig++, i++)
        if (i >= t->nr || L[t->t[t->np + i] - FX_F64] != *sig) return 0;
    return i == t->nr;
}

static fx_result sec_import(fx_arena *a, fx_reader *r, fx_module *m, uint32_t *nimp,
                            const fx_import *allow, size_t nallow)
{
    uint32_t n;
    FX_TRY(fx_rd_u32(r, &n));
    if (n > FX_MAX_FUNCS) return e_limit;
    NEW(m->funcs, n);
    NEW(m->globals, n);
    for (uint32_t i = 0; i < n; i++) {
        const char *mod, *name; uint8_t kind; uint32_t ti;
        fx_arena save = *a;
        FX_TRY(rd_name(a, r, &mod));
        FX_TRY(rd_name(a, r, &name));
        FX_TRY(fx_rd_u8(r, &kind));
        if (kind > 3) return "malformed: malformed import kind";
        size_t k = 0;
        for (; k < nallow; k++)
            if (!strcmp(allow[k].module, mod) && !strcmp(allow[k].name, name)) break;
        if (kind == 3) {
            static const char L[] = "FfIi";
            uint8_t t, mut;
            FX_TRY(rd_valtype(r, &t));
            FX_TRY(fx_rd_u8(r, &mut));
            if (mut > 1) return "malformed: malformed mutability";
            if (k == nallow || allow[k].sig[0] != 'g' || mut) return fx_err_unsupported_import;
            if (fx_is_ref(t) || allow[k].sig[2] != L[t - FX_F64]) return "unlinkable: incompatible import type";
            *a = save;
            m->globals[m->nglobals++] = (fx_globaldef){ t, 0, *(const uint64_t *)allow[k].ctx };
            m->nimported_globals++;
            continue;
        }
        if (kind != 0) return e_import_kind;
        FX_TRY(fx_rd_u32(r, &ti));
        if (ti >= m->ntypes) return "invalid: unknown type";
        if (k == nallow) return fx_err_unsupported_import;
        if (allow[k].sig[0] == 'g' || !sig_matches(allow[k].sig, &m->types[ti])) return "unlinkable: incompatible import type";
        *a = save;                      /* names not kept */
        memset(&m->funcs[m->nfuncs], 0, sizeof m->funcs[0]);
        m->funcs[m->nfuncs++] = (fx_func){ .type = ti, .host = (int16_t)k };
    }
    *nimp = m->nfuncs;
    return NULL;
}

static fx_result sec_function(fx_arena *a, fx_reader *r, fx_module *m, uint32_t *ndecl)
{
    FX_TRY(fx_rd_u32(r, ndecl));
    if (m->nfuncs + *ndecl > FX_MAX_FUNCS) return e_limit;
    fx_func *f;
    NEW(f, m->nfuncs + *ndecl);
    if (m->nfuncs) memcpy(f, m->funcs, sizeof *f * m->nfuncs);
    m->funcs = f;
    for (uint32_t i = 0; i < *ndecl; i++) {
        uint32_t ti;
        FX_TRY(fx_rd_u32(r, &ti));
        if (ti >= m->ntypes) return "invalid: unknown type";
        m->funcs[m->nfuncs++] = (fx_func){ .type = ti, .host = -1 };
    }
    return NULL;
}

static fx_result sec_table(fx_arena *a, fx_reader *r, fx_module *m)
{
    uint32_t n;
    FX_TRY(fx_rd_u32(r, &n));
    if (n > 1 && FX_MVP_ONLY) return e_reftypes;       /* several tables */
    if (n > FX_MAX_TABLES) return e_limit;
    NEW(m->tables, n);
    for (uint32_t i = 0; i < n; i++) {
        fx_tabledef *t = &m->tables[i];
        FX_TRY(fx_rd_u8(r, &t->type));
        if (!fx_is_ref(t->type)) return "malformed: malformed reference type";
        if (t->type == FX_EXTERNREF && FX_MVP_ONLY) return e_reftypes;
        FX_TRY(rd_limits(r, &t->min, &t->max, 0xFFFFFFFFu));
        if (t->min > FX_MAX_TABLE) return e_limit;
    }
    m->ntables = n;
    return NULL;
}

static fx_result sec_memory(fx_reader *r, fx_module *m)
{
    uint32_t n;
    FX_TRY(fx_rd_u32(r, &n));
    if (n > 1) return e_multi_mem;
    if (n == 0) return NULL;
    FX_TRY(rd_limits(r, &m->mem_min, &m->mem_max, 65536));
    if (m->mem_min > 65536 || m->mem_max > 65536) return e_memsize;
    m->has_mem = 1;
    return NULL;
}

static fx_result sec_global(fx_arena *a, fx_reader *r, fx_module *m)
{
    uint32_t n, ni = m->nimported_globals;
    FX_TRY(fx_rd_u32(r, &n));
    if (n > FX_MAX_FUNCS) return e_limit;
    fx_globaldef *all;
    NEW(all, ni + n);
    if (ni) memcpy(all, m->globals, sizeof *all * ni);   /* imports come first */
    m->globals = all;
    m->nglobals = ni + n;
    for (uint32_t i = ni; i < ni + n; i++) {
        fx_globaldef *g = &m->globals[i];
        FX_TRY(rd_valtype(r, &g->type));
        FX_TRY(fx_rd_u8(r, &g->mut));
        if (g->mut > 1) return "malformed: malformed mutability";
        FX_TRY(rd_const(r, m, g->type, &g->init));
    }
    return NULL;
}

static fx_result sec_export(fx_arena *a, fx_reader *r, fx_module *m)
{
    FX_TRY(fx_rd_u32(r, &m->nexports));
    if (m->nexports > FX_MAX_FUNCS) return e_limit;
    NEW(m->exports, m->nexports);
    for (uint32_t i = 0; i < m->nexports; i++) {
        fx_export *e = &m->exports[i];
        FX_TRY(rd_name(a, r, &e->name));
        FX_TRY(fx_rd_u8(r, &e->kind));
        FX_TRY(fx_rd_u32(r, &e->index));
        uint32_t lim = e->kind == 0 ? m->nfuncs : e->kind == 1 ? m->ntables
                     : e->kind == 2 ? m->has_mem : e->kind == 3 ? m->nglobals : 0;
        if (e->kind > 3) return "malformed: malformed export kind";
        if (e->index >= lim) return e_index;
        for (uint32_t k = 0; k < i; k++)
            if (!strcmp(m->exports[k].name, e->name)) return e_dup_export;
    }
    return NULL;
}

/* Element segments, all eight encodings (flags bit 0: passive/declarative,
 * bit 1: explicit table index or declarative, bit 2: expressions). */
static fx_result sec_elem(fx_arena *a, fx_reader *r, fx_module *m)
{
    FX_TRY(fx_rd_u32(r, &m->nelems));
    if (m->nelems > FX_MAX_FUNCS) return e_limit;
    NEW(m->elems, m->nelems);
    for (uint32_t i = 0; i < m->nelems; i++) {
        uint32_t flags; uint64_t off;
        fx_elem *e = &m->elems[i];
        FX_TRY(fx_rd_u32(r, &flags));
        if (flags > 7) return "malformed: malformed elements segment kind";
        if (flags != 0 && FX_MVP_ONLY) return e_reftypes;
        e->mode = (flags & 1) ? ((flags & 2) ? 2 : 1) : 0;
        e->type = FX_FUNCREF;
        if (!(flags & 1)) {
            if (flags & 2) FX_TRY(fx_rd_u32(r, &e->table));
            if (e->table >= m->ntables) return "invalid: unknown table";
            FX_TRY(rd_const(r, m, FX_I32, &off));
            e->offset = (uint32_t)off;
        }
        if (flags & 3) {            /* elemkind (0x00 = funcref) or reftype */
            uint8_t k; FX_TRY(fx_rd_u8(r, &k));
            if (flags & 4) { if (!fx_is_ref(k)) return "malformed: malformed reference type"; e->type = k; }
            else if (k != 0) return "malformed: malformed element kind";
        }
        FX_TRY(fx_rd_u32(r, &e->n));
        if (e->n > FX_MAX_TABLE) return e_limit;
        uint64_t *v; NEW(v, e->n);
        for (uint32_t k = 0; k < e->n; k++) {
            if (flags & 4) FX_TRY(rd_const(r, m, e->type, &v[k]));
            else {
                uint32_t f; FX_TRY(fx_rd_u32(r, &f));
                if (f >= m->nfuncs) return "invalid: unknown function";
                v[k] = (uint64_t)f + 1;
            }
        }
        if (e->mode == 0 && m->tables[e->table].type != e->type) return e_type_mismatch;
        e->vals = v;
    }
    return NULL;
}

static fx_result sec_data(fx_arena *a, fx_reader *r, fx_module *m, int64_t datacount)
{
    FX_TRY(fx_rd_u32(r, &m->ndatas));
    if (datacount >= 0 && m->ndatas != datacount) return e_datacount;
    if (m->ndatas > FX_MAX_FUNCS) return e_limit;
    NEW(m->datas, m->ndatas);
    for (uint32_t i = 0; i < m->ndatas; i++) {
        uint32_t flags; uint64_t off; const uint8_t *p;
        fx_data *d = &m->datas[i];
        FX_TRY(fx_rd_u32(r, &flags));
        if (flags == 2) {
            uint32_t mi; FX_TRY(fx_rd_u32(r, &mi));
            if (mi != 0) return "invalid: unknown memory";
        } else if (flags == 1) return e_reftypes;
        else if (flags != 0) return "malformed: malformed data segment kind";
        if (!m->has_mem) return "invalid: unknown memory";
        FX_TRY(rd_const(r, m, FX_I32, &off));
        d->offset = (uint32_t)off;
        FX_TRY(fx_rd_u32(r, &d->len));
        FX_TRY(fx_rd_bytes(r, d->len, &p));
        uint8_t *copy = fx_arena_alloc(a, d->len);
        if (!copy) return fx_err_oom;
        memcpy(copy, p, d->len);
        d->bytes = copy;
    }
    return NULL;
}

static fx_result sec_code(fx_arena *a, fx_reader *r, fx_module *m, uint32_t ndecl)
{
    uint32_t n;
    FX_TRY(fx_rd_u32(r, &n));
    if (n != ndecl) return e_count;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size, ngroups, total = 0;
        FX_TRY(fx_rd_u32(r, &size));
        if (size > (size_t)(r->end - r->p)) return fx_err_eof;
        fx_reader body = { r->p, r->p + size };
        r->p += size;
        FX_TRY(fx_rd_u32(&body, &ngroups));
        /* local declarations are expanded into a temporary type array */
        const uint8_t *save = body.p;
        for (uint32_t g = 0; g < ngroups; g++) {
            uint32_t cnt; uint8_t t;
            FX_TRY(fx_rd_u32(&body, &cnt));
            FX_TRY(rd_valtype(&body, &t));
            if ((uint64_t)total + cnt > 50000) return "malformed: too many locals";
            total += cnt;
        }
        if (total + m->types[m->funcs[m->nimports + i].type].np > FX_MAX_LOCALS) return e_limit;
        uint8_t *lt = fx_arena_temp(a, total + 1);
        if (!lt) return fx_err_oom;
        body.p = save;
        for (uint32_t g = 0, k = 0; g < ngroups; g++) {
            uint32_t cnt; uint8_t t;
            FX_TRY(fx_rd_u32(&body, &cnt));
            FX_TRY(rd_valtype(&body, &t));
            memset(lt + k, t, cnt); k += cnt;
        }
        fx_result res = fx_compile_func(a, m, m->nimports + i, body, lt, total);
        fx_arena_drop_temps(a);
        FX_TRY(res);
    }
    return NULL;
}

/* Section order rank: custom (0) anywhere; datacount (12) between 9 and 10. */
static int rank(uint8_t id)
{
    static const uint8_t R[13] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10 };
    return R[id];
}

fx_result fx_module_load(fx_arena *a, const uint8_t *wasm, size_t len,
                         const fx_import *allow, size_t nallow, fx_module **out)
{
    fx_reader r = { wasm, wasm + len };
    const uint8_t *p;
    uint32_t ndecl = 0, ncode_seen = 0;
    int64_t datacount = -1;
    int last = 0;
    fx_module *m = fx_arena_alloc(a, sizeof *m);
    if (!m) return fx_err_oom;
    m->start = -1;
    m->allow = allow;
    if (fx_rd_bytes(&r, 4, &p) || memcmp(p, "\0asm", 4)) return e_magic;
    if (fx_rd_bytes(&r, 4, &p) || memcmp(p, "\1\0\0\0", 4)) return e_version;
    while (r.p < r.end) {
        uint8_t id; uint32_t size;
        FX_TRY(fx_rd_u8(&r, &id));
        FX_TRY(fx_rd_u32(&r, &size));
        if (size > (size_t)(r.end - r.p)) return fx_err_eof;
        fx_reader s = { r.p, r.p + size };
        r.p += size;
        if (id > 12) return "malformed: malformed section id";
        if (id != 0) {
            if (rank(id) <= last) return e_order;
            last = rank(id);
        }
        switch (id) {
        case 0: FX_TRY(rd_name(a, &s, NULL)); s.p = s.end; break;
        case 1: FX_TRY(sec_type(a, &s, m)); break;
        case 2: FX_TRY(sec_import(a, &s, m, &m->nimports, allow, nallow)); break;
        case 3: FX_TRY(sec_function(a, &s, m, &ndecl)); break;
        case 4: FX_TRY(sec_table(a, &s, m)); break;
        case 5: FX_TRY(sec_memory(&s, m)); break;
        case 6: FX_TRY(sec_global(a, &s, m)); break;
        case 7: FX_TRY(sec_export(a, &s, m)); break;
        case 8: {
            uint32_t f; FX_TRY(fx_rd_u32(&s, &f));
            if (f >= m->nfuncs) return "invalid: unknown function";
            const fx_type *t = &m->types[m->funcs[f].type];
            if (t->np || t->nr) return e_start;
            m->start = (int32_t)f;
            break;
        }
        case 9: FX_TRY(sec_elem(a, &s, m)); break;
        case 12: { uint32_t dc; FX_TRY(fx_rd_u32(&s, &dc)); datacount = dc; break; }
        case 10: FX_TRY(sec_code(a, &s, m, ndecl)); ncode_seen = 1; break;
        case 11: FX_TRY(sec_data(a, &s, m, datacount)); break;
        }
        if (s.p != s.end) return e_section;
    }
    if (!ncode_seen && ndecl) return e_count;
    if (datacount >= 0 && !m->datas && datacount != 0) return e_datacount;
    *out = m;
    return NULL;
}

int32_t fx_find_export(const fx_module *m, const char *name, int kind)
{
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == kind && !strcmp(m->exports[i].name, name))
            return (int32_t)m->exports[i].index;
    return -1;
}

const char *fx_export_name(const fx_module *m, uint32_t i, int kind)
{
    for (uint32_t k = 0; k < m->nexports; k++)
        if (m->exports[k].kind == kind && i-- == 0) return m->exports[k].name;
    return NULL;
}
int fx_module_has_start(const fx_module *m) { return m->start >= 0; }
uint32_t fx_module_imports(const fx_module *m) { return m->nimports + m->nimported_globals; }

int fx_func_sig(const fx_module *m, uint32_t f, uint32_t *np, const uint8_t **pt,
                uint32_t *nr, const uint8_t **rt)
{
    if (f >= m->nfuncs) return -1;
    const fx_type *t = &m->types[m->funcs[f].type];
    *np = t->np; *pt = t->t; *nr = t->nr; *rt = t->t + t->np;
    return 0;
}
