/* startup.c — Cortex-M4F vector table and reset handler (STM32F4). */
#include <stdint.h>
#include <string.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);
void usart1_irq(void);

void reset_handler(void)
{
    /* FPU first: the C library may touch float registers (CPACR CP10/CP11) */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n isb");
    memcpy(&_sdata, &_sidata, (size_t)((char *)&_edata - (char *)&_sdata));
    memset(&_sbss, 0, (size_t)((char *)&_ebss - (char *)&_sbss));
    main();
    for (;;) __asm volatile("wfi");
}

static void fault(void) { for (;;) __asm volatile("bkpt #0"); }
static void ignore(void) {}

/* 16 core vectors + 82 STM32F4 IRQs; USART1 is IRQ 37 (vector 53). */
__attribute__((section(".isr_vector"), used))
void (*const vectors[16 + 82])(void) = {
    [0] = (void (*)(void))&_estack,
    [1] = reset_handler,
    [2] = fault, [3] = fault, [4] = fault, [5] = fault, [6] = fault,
    [11] = ignore, [12] = ignore, [14] = ignore, [15] = ignore,
    [16 + 37] = usart1_irq,
};
