/* fxnode.c — the board's node logic on the host, served on a loopback TCP
 * port. Lets the protocol client be tested without QEMU (and under ASan).
 * Usage: fxnode PORT   (serves one connection, exits when it closes) */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "../src/fx_node.h"

static fx_node node;

static void wr(void *ctx, const uint8_t *p, size_t n)
{
    int fd = *(int *)ctx;
    while (n) { ssize_t k = write(fd, p, n); if (k <= 0) exit(0); p += k; n -= (size_t)k; }
}
static uint32_t cyc(void *ctx) { (void)ctx; struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return (uint32_t)(ts.tv_sec * 1000000000ull + ts.tv_nsec); }

int main(int argc, char **argv)
{
    int port = argc > 1 ? atoi(argv[1]) : 7777, one = 1;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 1)) { perror("bind"); return 1; }
    printf("listening %d\n", port); fflush(stdout);
    int fd = accept(s, NULL, NULL);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    static const fx_port p = { wr, cyc, NULL, "host-sim", 0, 0, 0, 0 };
    fx_port port_ = p; port_.ctx = &fd;
    fx_node_init(&node, &port_);
    for (;;) {
        int busy = fx_node_step(&node);
        struct pollfd pf = { fd, POLLIN, 0 };
        if (poll(&pf, 1, busy ? 0 : 1000) > 0) {
            uint8_t buf[256];
            ssize_t k = read(fd, buf, sizeof buf);
            if (k <= 0) break;
            fx_node_rx(&node, buf, (size_t)k);
        }
    }
    return 0;
}
