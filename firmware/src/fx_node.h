/* fx_node.h — the board's protocol endpoint: module cache + task scheduler.
 * Portable: the board and the host test build wire it to a UART or a socket
 * through fx_port. All buffers are static members sized by fx_config.h. */
#ifndef FX_NODE_H
#define FX_NODE_H
#include "fx.h"
#include "fx_proto.h"
#include "fx_wire.h"

typedef struct {
    void (*write)(void *ctx, const uint8_t *p, size_t n);  /* whole frame */
    uint32_t (*cycles)(void *ctx);      /* free-running counter (TIM2), or NULL */
    void *ctx;
    const char *chip;
    uint32_t clock_hz, flash_bytes, ram_bytes;
    uint8_t flags;                      /* FX_CAP_* */
} fx_port;
enum { FX_CAP_FPU = 1, FX_CAP_DSP = 2, FX_CAP_F64_SOFT = 4, FX_CAP_CYCLES = 8 };

typedef struct {
    uint8_t key[FX_KEY_LEN];
    uint8_t used;                       /* slot holds a compiled module */
    uint8_t refs;                       /* tasks queued/running on it */
    uint32_t lru;                       /* last use tick */
    fx_module *m;
    uint8_t arena[FX_MODULE_ARENA] __attribute__((aligned(8)));
} fx_modslot;

enum { T_FREE, T_QUEUED, T_RUNNING };
enum { PH_ALLOC_IN, PH_ALLOC_PARAM, PH_RUN, PH_OUTPTR };

typedef struct {
    uint8_t state, phase, slot, mod;
    uint16_t req;
    uint64_t fuel_left, used;
    uint32_t cycles, slices;
    uint32_t in_ptr, param_ptr;
    int32_t ret;
    uint16_t input_len, params_len;
    uint8_t entry[32];
    uint8_t data[FX_MAX_FRAME];         /* input then params, until started */
    fx_instance *I;
} fx_task;

typedef struct {
    const fx_port *port;
    fx_rx rx;
    uint8_t frame[FX_MAX_FRAME + 8];                  /* decoded payload in */
    uint8_t out[FX_MAX_FRAME];                        /* payload out */
    uint8_t wire[FX_COBS_MAX(FX_MAX_FRAME + 4) + 2];  /* encoded frame out */
    /* module upload in progress */
    uint8_t load_key[FX_KEY_LEN];
    uint32_t load_size, load_got;
    uint8_t loading;
    uint8_t staging[FX_MAX_MODULE];
    fx_modslot mods[FX_MODULE_SLOTS];
    uint32_t tick;
    fx_task tasks[FX_MAX_TASKS];
    uint8_t slot_busy[FX_TASK_SLOTS];
    uint8_t task_arena[FX_TASK_SLOTS][FX_TASK_ARENA] __attribute__((aligned(8)));
    uint8_t rr;                                       /* round-robin cursor */
    uint32_t bad_frames;
} fx_node;

void fx_node_init(fx_node *n, const fx_port *port);
void fx_node_rx(fx_node *n, const uint8_t *p, size_t len);
/* Runs one fuel slice of one task. Returns 1 if tasks remain to run. */
int fx_node_step(fx_node *n);

/* internal, shared by fx_node.c and fx_sched.c */
void fx_node_send(fx_node *n, const uint8_t *payload, size_t len);
void fx_node_error(fx_node *n, uint16_t req, uint8_t code, const char *text);
fx_wr fx_node_begin(fx_node *n, uint8_t type, uint16_t req);
void fx_node_finish(fx_node *n, fx_wr *w);
void fx_sched_run_req(fx_node *n, uint16_t req, fx_rd *r);
void fx_sched_cancel(fx_node *n, uint16_t req, fx_rd *r);
int fx_mod_find(fx_node *n, const uint8_t *key);
size_t fx_node_arena_free(const fx_node *n);
fx_result fx_abi_check(const fx_module *m);
#endif
