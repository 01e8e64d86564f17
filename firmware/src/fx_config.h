/* fx_config.h — every size knob of the Fedra embedded runtime.
 * Each one sits behind #ifndef so a board (or the host build) overrides it
 * with -D flags; the core never hard-codes a size. */
#ifndef FX_CONFIG_H
#define FX_CONFIG_H

/* Dispatch: 1 = computed goto (GCC/Clang labels-as-values), 0 = switch. */
#ifndef FX_COMPUTED_GOTO
#if defined(__GNUC__)
#define FX_COMPUTED_GOTO 1
#else
#define FX_COMPUTED_GOTO 0
#endif
#endif

/* 1 = fuse frequent op sequences into superinstructions (fx_compile.c). */
#ifndef FX_FUSE
#define FX_FUSE 1
#endif

/* Linear memory cap in 64 KiB pages (board: 1; host: large for spec tests). */
#ifndef FX_MAX_PAGES
#define FX_MAX_PAGES 1
#endif
/* Value stack slots (8 bytes each) per instance. */
#ifndef FX_STACK_SLOTS
#define FX_STACK_SLOTS 512
#endif
/* Call frames per instance (wasm call depth). */
#ifndef FX_MAX_FRAMES
#define FX_MAX_FRAMES 64
#endif
/* Validator limits (temporary, taken from the arena's top while compiling). */
#ifndef FX_MAX_VSTACK
#define FX_MAX_VSTACK 256
#endif
#ifndef FX_MAX_CTRL
#define FX_MAX_CTRL 64
#endif
/* Module limits. */
#ifndef FX_MAX_FUNCS
#define FX_MAX_FUNCS 1024
#endif
#ifndef FX_MAX_LOCALS
#define FX_MAX_LOCALS 1024
#endif
#ifndef FX_MAX_TABLE
#define FX_MAX_TABLE 1024          /* entries per table */
#endif
#ifndef FX_MAX_TABLES
#define FX_MAX_TABLES 4
#endif
/* 1 = accept only WebAssembly MVP (1.0) modules, as docs/abi.md promises for
 * portable functions; 0 = also multi-value, sign-extension, non-trapping
 * float-to-int, reference types, memory.copy/fill. The board default is 1
 * (docs/abi.md: boards run MVP modules); the spec-test build sets 0. */
#ifndef FX_MVP_ONLY
#define FX_MVP_ONLY 1
#endif

/* ---- node (protocol + scheduler) knobs ---- */
#ifndef FX_MAX_FRAME
#define FX_MAX_FRAME 1024          /* decoded payload bytes per frame */
#endif
#ifndef FX_MAX_MODULE
#define FX_MAX_MODULE 8192         /* .wasm bytes one LOAD may carry */
#endif
#ifndef FX_MODULE_SLOTS
#define FX_MODULE_SLOTS 4          /* cached compiled modules (LRU) */
#endif
#ifndef FX_MODULE_ARENA
#define FX_MODULE_ARENA 12288      /* bytes per compiled-module slot */
#endif
#ifndef FX_MAX_TASKS
#define FX_MAX_TASKS 4             /* queued + running tasks */
#endif
#ifndef FX_TASK_SLOTS
#define FX_TASK_SLOTS 2            /* tasks running at once (instance arenas) */
#endif
#ifndef FX_TASK_ARENA
#define FX_TASK_ARENA (FX_MAX_PAGES * 65536 + FX_STACK_SLOTS * 8 + FX_MAX_FRAMES * 16 + 2048)
#endif
#ifndef FX_SLICE_FUEL
#define FX_SLICE_FUEL 20000        /* instructions per scheduler slice */
#endif
#ifndef FX_MAX_OUTPUT
#define FX_MAX_OUTPUT 768          /* output bytes a RESULT may carry */
#endif
#ifndef FX_PROGRESS_SLICES
#define FX_PROGRESS_SLICES 64      /* send PROGRESS every N slices of a task */
#endif

#endif
