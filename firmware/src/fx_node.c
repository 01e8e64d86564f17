/* fx_node.c — frame dispatch, HELLO/PING, and the module cache (upload with
 * LOAD_BEGIN/CHUNK/END, LRU eviction, HAS_FUNCTION). Tasks: fx_sched.c. */
#include <string.h>
#include "fx_node.h"
#include "fx_wire.h"

void fx_node_init(fx_node *n, const fx_port *port)
{
    memset(n, 0, sizeof *n);
    n->port = port;
}

void fx_node_send(fx_node *n, const uint8_t *payload, size_t len)
{
    size_t e = fx_frame_encode(payload, len, n->wire);
    n->port->write(n->port->ctx, n->wire, e);
}

fx_wr fx_node_begin(fx_node *n, uint8_t type, uint16_t req)
{
    fx_wr w = { n->out, n->out + sizeof n->out, 0 };
    fx_put_u8(&w, FX_PROTO_VERSION);
    fx_put_u8(&w, type);
    fx_put_u16(&w, req);
    return w;
}

void fx_node_finish(fx_node *n, fx_wr *w)
{
    fx_node_send(n, n->out, (size_t)(w->p - n->out));
}

void fx_node_error(fx_node *n, uint16_t req, uint8_t code, const char *text)
{
    fx_wr w = fx_node_begin(n, FX_MSG_ERROR, req);
    size_t tl = text ? strlen(text) : 0;
    if (tl > 200) tl = 200;
    fx_put_u8(&w, code);
    fx_put_u8(&w, (uint8_t)tl);
    fx_put_bytes(&w, text, tl);
    fx_node_finish(n, &w);
}

static void ack(fx_node *n, uint16_t req, uint8_t type)
{
    fx_wr w = fx_node_begin(n, FX_MSG_ACK, req);
    fx_put_u8(&w, type);
    fx_node_finish(n, &w);
}

size_t fx_node_arena_free(const fx_node *n)
{
    size_t f = 0;
    for (int i = 0; i < FX_TASK_SLOTS; i++) if (!n->slot_busy[i]) f += FX_TASK_ARENA;
    return f;
}

int fx_mod_find(fx_node *n, const uint8_t *key)
{
    for (int i = 0; i < FX_MODULE_SLOTS; i++)
        if (n->mods[i].used && !memcmp(n->mods[i].key, key, FX_KEY_LEN)) {
            n->mods[i].lru = ++n->tick;
            return i;
        }
    return -1;
}

static void caps(fx_node *n, uint16_t req)
{
    const fx_port *p = n->port;
    fx_wr w = fx_node_begin(n, FX_MSG_CAPS, req);
    size_t cl = p->chip ? strlen(p->chip) : 0;
    fx_put_u8(&w, FX_ABI_VERSION);
    fx_put_u32(&w, p->clock_hz);
    fx_put_u32(&w, p->flash_bytes);
    fx_put_u32(&w, p->ram_bytes);
    fx_put_u8(&w, p->flags | (p->cycles ? FX_CAP_CYCLES : 0));
    fx_put_u32(&w, (uint32_t)fx_node_arena_free(n));
    fx_put_u16(&w, FX_MAX_FRAME);
    fx_put_u32(&w, FX_MAX_MODULE);
    fx_put_u8(&w, FX_MAX_TASKS);
    fx_put_u8(&w, FX_TASK_SLOTS);
    fx_put_u8(&w, FX_MODULE_SLOTS);
    fx_put_u16(&w, FX_MAX_PAGES);
    fx_put_u8(&w, (uint8_t)cl);
    fx_put_bytes(&w, p->chip, cl);
    fx_node_finish(n, &w);
}

static fx_result host_abort(fx_instance *I, uint64_t *args, void *ctx)
{
    (void)I; (void)args; (void)ctx;
    return fx_trap_abort;
}
/* ABI v1 import allow-list: only AssemblyScript's env.abort. */
static const fx_import abi_allow[] = { { "env", "abort", "iiii:", host_abort, NULL } };

static void load_end(fx_node *n, uint16_t req, fx_rd *r)
{
    const uint8_t *key = fx_get_bytes(r, FX_KEY_LEN);
    uint8_t digest[32];
    if (r->bad || r->p != r->end) { fx_node_error(n, req, FX_E_BAD_FIELDS, "LOAD_END: bad fields"); return; }
    if (!n->loading || memcmp(key, n->load_key, FX_KEY_LEN) || n->load_got != n->load_size) {
        n->loading = 0;
        fx_node_error(n, req, FX_E_LOAD_STATE, "LOAD_END: no matching complete upload");
        return;
    }
    n->loading = 0;
    fx_sha256(n->staging, n->load_size, digest);
    if (memcmp(digest, key, 32)) { fx_node_error(n, req, FX_E_DIGEST, "module sha-256 does not match key"); return; }
    if (fx_mod_find(n, key) >= 0) { ack(n, req, FX_MSG_LOAD_END); return; }
    /* pick a free slot, else the least recently used one no task holds */
    int best = -1;
    for (int i = 0; i < FX_MODULE_SLOTS; i++) {
        fx_modslot *s = &n->mods[i];
        if (s->refs) continue;
        if (!s->used) { best = i; break; }
        if (best < 0 || s->lru < n->mods[best].lru) best = i;
    }
    if (best < 0) { fx_node_error(n, req, FX_E_BUSY, "all module slots in use"); return; }
    fx_modslot *s = &n->mods[best];
    fx_arena a;
    s->used = 0;
    fx_arena_init(&a, s->arena, sizeof s->arena);
    fx_result res = fx_module_load(&a, n->staging, n->load_size, abi_allow, 1, &s->m);
    if (!res) res = fx_abi_check(s->m);
    if (res) { fx_node_error(n, req, FX_E_LOAD_FAILED, res); return; }
    memcpy(s->key, key, FX_KEY_LEN);
    s->used = 1;
    s->lru = ++n->tick;
    ack(n, req, FX_MSG_LOAD_END);
}

static void load(fx_node *n, uint8_t type, uint16_t req, fx_rd *r)
{
    if (type == FX_MSG_LOAD_BEGIN) {
        const uint8_t *key = fx_get_bytes(r, FX_KEY_LEN);
        uint32_t size = fx_get_u32(r);
        if (r->bad || r->p != r->end) { fx_node_error(n, req, FX_E_BAD_FIELDS, "LOAD_BEGIN: bad fields"); return; }
        if (size > FX_MAX_MODULE) { fx_node_error(n, req, FX_E_TOO_LARGE, "module larger than max module size"); return; }
        memcpy(n->load_key, key, FX_KEY_LEN);
        n->load_size = size; n->load_got = 0; n->loading = 1;
        ack(n, req, type);
    } else if (type == FX_MSG_LOAD_CHUNK) {
        uint32_t off = fx_get_u32(r);
        size_t len = r->bad ? 0 : (size_t)(r->end - r->p);
        if (r->bad) { fx_node_error(n, req, FX_E_BAD_FIELDS, "LOAD_CHUNK: bad fields"); return; }
        if (!n->loading || off != n->load_got || len > n->load_size - n->load_got) {
            n->loading = 0;
            fx_node_error(n, req, FX_E_LOAD_STATE, "LOAD_CHUNK: unexpected offset or size");
            return;
        }
        memcpy(n->staging + off, r->p, len);
        n->load_got += (uint32_t)len;
        ack(n, req, type);
    } else load_end(n, req, r);
}

static void dispatch(fx_node *n, const uint8_t *p, size_t len)
{
    fx_rd r = { p + 4, p + len, 0 };
    uint16_t req = (uint16_t)(p[2] | p[3] << 8);
    if (p[0] != FX_PROTO_VERSION) { fx_node_error(n, req, FX_E_BAD_VERSION, "unsupported protocol version"); return; }
    switch (p[1]) {
    case FX_MSG_HELLO: caps(n, req); break;
    case FX_MSG_PING: {
        fx_wr w = fx_node_begin(n, FX_MSG_PONG, req);
        fx_put_bytes(&w, r.p, (size_t)(r.end - r.p));
        fx_node_finish(n, &w);
        break;
    }
    case FX_MSG_HAS_FUNCTION: {
        const uint8_t *key = fx_get_bytes(&r, FX_KEY_LEN);
        if (r.bad || r.p != r.end) { fx_node_error(n, req, FX_E_BAD_FIELDS, "HAS_FUNCTION: bad fields"); break; }
        fx_wr w = fx_node_begin(n, FX_MSG_HAS, req);
        fx_put_u8(&w, fx_mod_find(n, key) >= 0);
        fx_node_finish(n, &w);
        break;
    }
    case FX_MSG_LOAD_BEGIN: case FX_MSG_LOAD_CHUNK: case FX_MSG_LOAD_END: load(n, p[1], req, &r); break;
    case FX_MSG_RUN: fx_sched_run_req(n, req, &r); break;
    case FX_MSG_CANCEL: fx_sched_cancel(n, req, &r); break;
    default: fx_node_error(n, req, FX_E_UNKNOWN_TYPE, "unknown message type");
    }
}

void fx_node_rx(fx_node *n, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        long got = fx_rx_byte(&n->rx, p[i], n->frame);
        if (got == 0) continue;
        if (got < 0) {
            n->bad_frames++;
            fx_node_error(n, 0, (uint8_t)-got, got == -FX_E_TOO_LARGE ? "frame too large" : "bad frame (COBS or CRC)");
        } else if (got < 4) {
            fx_node_error(n, 0, FX_E_BAD_FIELDS, "frame shorter than header");
        } else dispatch(n, n->frame, (size_t)got);
    }
}
