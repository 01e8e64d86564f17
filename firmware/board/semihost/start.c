/* start.c — reset for running host tools (the spec driver) on a Cortex-M4F
 * under QEMU semihosting: FPU on, .data/.bss, argv from the
 * semihosting command line, exit status printed (QEMU's AArch32 SYS_EXIT
 * cannot carry it). Uses newlib's rdimon for file I/O and its _sbrk. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern uint32_t __data_load, __data_start, __data_end, __bss_start__, __bss_end__, __stack_top;
extern void initialise_monitor_handles(void);
int main(int argc, char **argv);

/* semihosting call (BKPT 0xAB on M-profile) */
static int semi(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void reset(void)
{
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;      /* CP10/CP11: FPU */
    __asm__ volatile("dsb\n isb");
    memcpy(&__data_start, &__data_load, (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start__, 0, (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
    initialise_monitor_handles();
    static char cmd[4096];
    struct { char *buf; int len; } a = { cmd, sizeof cmd - 1 };
    static char *argv[128];
    int argc = 0;
    if (semi(0x15 /* SYS_GET_CMDLINE */, &a) == 0) {
        cmd[a.len] = 0;
        for (char *p = strtok(cmd, " "); p && argc < 127; p = strtok(NULL, " ")) argv[argc++] = p;
    }
    int rc = main(argc, argv);
    printf("exit status %d\n", rc);
    fflush(stdout);
    exit(rc);
}

__attribute__((section(".vectors"), used))
void (*const vectors[16])(void) = { (void (*)(void))&__stack_top, reset };
