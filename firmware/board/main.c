/* main.c — STM32F4 board port: clocks, USART1 (RXNE interrupt into a ring
 * buffer, WFI when idle: a busy poll would starve QEMU's I/O thread), TIM2
 * as a free-running counter (one tick per guest instruction under QEMU
 * -icount shift=0; on hardware the APB1 timer clock: 16 MHz on HSI, 84 MHz
 * = half the CPU clock with the PLL), and the node main loop. */
#include <stdint.h>
#include "../src/fx_node.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define RCC 0x40023800u
#define RCC_CR REG(RCC + 0x00)
#define RCC_PLLCFGR REG(RCC + 0x04)
#define RCC_CFGR REG(RCC + 0x08)
#define RCC_AHB1ENR REG(RCC + 0x30)
#define RCC_APB1ENR REG(RCC + 0x40)
#define RCC_APB2ENR REG(RCC + 0x44)
#define FLASH_ACR REG(0x40023C00u)
#define GPIOA 0x40020000u
#define USART1 0x40011000u
#define U_SR REG(USART1 + 0x00)
#define U_DR REG(USART1 + 0x04)
#define U_BRR REG(USART1 + 0x08)
#define U_CR1 REG(USART1 + 0x0C)
#define TIM2 0x40000000u
#define NVIC_ISER1 REG(0xE000E104u)
#define BAUD 115200u

static uint32_t sysclk = 16000000u, pclk2 = 16000000u;

/* HSE 8 MHz (ST-LINK MCO on the DISC1) -> PLL 168 MHz, APB2 84 MHz. Each
 * ready flag gets a bounded wait: QEMU's RCC reads 0, so we stay on HSI. */
static int wait_flag(volatile uint32_t *r, uint32_t bit)
{
    for (uint32_t i = 0; i < 20000; i++) if (*r & bit) return 1;
    return 0;
}
static void clocks(void)
{
    RCC_CR |= 1u << 16;                                    /* HSEON */
    if (!wait_flag(&RCC_CR, 1u << 17)) { RCC_CR &= ~(1u << 16); return; }
    RCC_PLLCFGR = 8u | (336u << 6) | (0u << 16) | (1u << 22) | (7u << 24);  /* M8 N336 P2 src=HSE Q7 */
    RCC_CR |= 1u << 24;                                    /* PLLON */
    if (!wait_flag(&RCC_CR, 1u << 25)) return;
    FLASH_ACR = 5u | (1u << 8) | (1u << 9) | (1u << 10);   /* 5 WS, prefetch, I/D cache */
    RCC_CFGR = (RCC_CFGR & ~0xFCF0u) | (5u << 10) | (4u << 13);  /* APB1 /4, APB2 /2 */
    RCC_CFGR = (RCC_CFGR & ~3u) | 2u;                      /* SW = PLL */
    if (!wait_flag(&RCC_CFGR, 2u << 2)) return;
    sysclk = 168000000u; pclk2 = 84000000u;
}

static void usart_init(void)
{
    RCC_AHB1ENR |= 1u << 0;                                /* GPIOA */
    RCC_APB2ENR |= 1u << 4;                                /* USART1 */
    /* PA9 TX, PA10 RX: alternate function 7, high speed, pull-up on RX */
    REG(GPIOA + 0x00) = (REG(GPIOA + 0x00) & ~(0xFu << 18)) | (0xAu << 18);
    REG(GPIOA + 0x08) |= 0xFu << 18;
    REG(GPIOA + 0x0C) = (REG(GPIOA + 0x0C) & ~(3u << 20)) | (1u << 20);
    REG(GPIOA + 0x24) = (REG(GPIOA + 0x24) & ~0xFF0u) | (7u << 4) | (7u << 8);
    U_BRR = (pclk2 + BAUD / 2) / BAUD;                     /* oversampling 16 */
    U_CR1 = (1u << 13) | (1u << 5) | (1u << 3) | (1u << 2);  /* UE RXNEIE TE RE */
    NVIC_ISER1 = 1u << (37 - 32);
}

static void tim2_init(void)
{
    RCC_APB1ENR |= 1u << 0;
    REG(TIM2 + 0x28) = 0;               /* PSC */
    REG(TIM2 + 0x2C) = 0xFFFFFFFFu;     /* ARR */
    REG(TIM2 + 0x14) = 1;               /* EGR.UG: load PSC */
    REG(TIM2 + 0x00) = 1;               /* CEN */
}

/* receive ring: written by the ISR only, read by main only */
#define RING 2048u
static volatile uint8_t ring[RING];
static volatile uint32_t head, tail;

void usart1_irq(void)
{
    while (U_SR & ((1u << 5) | (1u << 3))) {               /* RXNE or ORE */
        uint8_t b = (uint8_t)U_DR;                         /* read clears both */
        if (head - tail < RING) ring[head++ % RING] = b;   /* else drop: CRC catches it */
    }
}

static void uart_write(void *ctx, const uint8_t *p, size_t n)
{
    (void)ctx;
    while (n--) {
        while (!(U_SR & (1u << 7))) {}                     /* TXE */
        U_DR = *p++;
    }
}
static uint32_t tim2(void *ctx) { (void)ctx; return REG(TIM2 + 0x24); }

static fx_node node;

int main(void)
{
    clocks();
    usart_init();
    tim2_init();
    static fx_port port;
    port.write = uart_write; port.cycles = tim2;
    port.chip = "STM32F4 Cortex-M4F";
    port.clock_hz = sysclk; port.flash_bytes = 1024u * 1024u; port.ram_bytes = 192u * 1024u;
    port.flags = FX_CAP_FPU | FX_CAP_DSP | FX_CAP_F64_SOFT;
    fx_node_init(&node, &port);
    for (;;) {
        while (tail != head) {
            uint8_t chunk[64]; size_t k = 0;
            while (tail != head && k < sizeof chunk) chunk[k++] = ring[tail++ % RING];
            fx_node_rx(&node, chunk, k);
        }
        if (!fx_node_step(&node)) {
            __asm volatile("cpsid i");
            if (tail == head) __asm volatile("wfi");       /* wakes on pending IRQ */
            __asm volatile("cpsie i");
        }
    }
}
