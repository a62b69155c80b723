/* link/ — a Linux TUN device as a link, and the real-time loop that drives a
 * stack from it.
 *
 * The device is opened IFF_TUN | IFF_NO_PI: every read and write is one bare
 * IPv4 datagram, with no packet-information prefix, which is the stack's own
 * currency. Addressing uses the classic ioctls on an AF_INET datagram socket
 * rather than netlink or the `ip` tool: they are short, need no extra
 * library, and give errors we can explain one step at a time.
 *
 * This file reads CLOCK_MONOTONIC; nothing below it (stack, tcp, wire) does.
 */

/* struct ifreq, IFF_* flags and the SIOC* ioctls are BSD/GNU extensions of
 * <net/if.h> and <sys/ioctl.h>; the project defines only _POSIX_C_SOURCE. */
#define _DEFAULT_SOURCE 1

#include "tcpwave/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TUN_DEV_PATH     "/dev/net/tun"
#define TUN_BUF_SIZE     65535u
#define TUN_BATCH        64   /* datagrams read before the timers and tick run again */
#define TUN_DEFAULT_WAIT 100u /* ms */

struct tcpw_tun {
    int fd;
    char name[IFNAMSIZ];
    struct tcpw_pcap *pcap; /* borrowed; may be NULL */
    struct tcpw_tun_stats stats;
};

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!errbuf || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* What a user should do about the usual failures of a step. */
static const char *advice(int err)
{
    switch (err) {
    case -EPERM:
    case -EACCES:
        return " (needs root or CAP_NET_ADMIN)";
    case -ENOENT:
    case -ENODEV:
    case -ENXIO:
        return " (no TUN support: load the `tun` module, or give the container /dev/net/tun)";
    case -EBUSY:
        return " (the device is in use by another process)";
    default:
        return "";
    }
}

static void set_ifaddr(struct ifreq *ifr, uint32_t addr)
{
    struct sockaddr_in sin;

    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(addr);
    /* ifr_addr is a struct sockaddr; copying keeps the aliasing rules. */
    memcpy(&ifr->ifr_addr, &sin, sizeof(sin));
}

/* Best effort: the kernel's IPv6 chatter (router solicitations, MLD) would
 * otherwise be counted as drops by an IPv4-only stack. */
static void disable_ipv6(const char *name)
{
    char path[96];
    int fd;

    snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    if (write(fd, "1", 1) != 1) {
        /* Nothing to do: IPv6 stays on and its packets are counted as drops. */
    }
    close(fd);
}

/* Assigns kernel_addr/prefix_len and the MTU, then brings the device up. */
static int configure(struct tcpw_tun *t, const struct tcpw_tun_params *p, char *errbuf,
                     size_t errlen)
{
    struct ifreq ifr;
    const char *step = "socket(AF_INET)";
    int sock, err = 0;

    sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) {
        err = -errno;
        goto out;
    }
    if (!p->keep_ipv6)
        disable_ipv6(t->name);
    memset(&ifr, 0, sizeof(ifr));
    memcpy(ifr.ifr_name, t->name, sizeof(ifr.ifr_name));
    if (p->mtu) {
        step = "SIOCSIFMTU";
        ifr.ifr_mtu = (int)p->mtu;
        if (ioctl(sock, SIOCSIFMTU, &ifr) < 0) {
            err = -errno;
            goto out;
        }
    }
    step = "SIOCSIFADDR";
    set_ifaddr(&ifr, p->kernel_addr);
    if (ioctl(sock, SIOCSIFADDR, &ifr) < 0) {
        err = -errno;
        goto out;
    }
    step = "SIOCSIFNETMASK";
    set_ifaddr(&ifr, p->prefix_len ? UINT32_MAX << (32 - p->prefix_len) : 0);
    if (ioctl(sock, SIOCSIFNETMASK, &ifr) < 0) {
        err = -errno;
        goto out;
    }
    step = "SIOCGIFFLAGS";
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) {
        err = -errno;
        goto out;
    }
    step = "SIOCSIFFLAGS";
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) {
        err = -errno;
        goto out;
    }
out:
    if (err)
        set_err(errbuf, errlen, "tun %s: %s: %s%s", t->name, step, strerror(-err), advice(err));
    if (sock >= 0)
        close(sock);
    return err;
}

int tcpw_tun_open(const struct tcpw_tun_params *p, struct tcpw_tun **out, char *errbuf,
                  size_t errlen)
{
    struct tcpw_tun *t = NULL;
    struct ifreq ifr;
    size_t namelen;
    int err = 0;

    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!p || !p->name || (namelen = strlen(p->name)) == 0 || namelen >= IFNAMSIZ ||
        (p->kernel_addr && (p->prefix_len < 1 || p->prefix_len > 31)) ||
        (p->mtu && (p->mtu < 68 || p->mtu > 65535))) {
        set_err(errbuf, errlen,
                "tun: bad parameters (name 1..%d chars, prefix 1..31, mtu 68..65535)",
                IFNAMSIZ - 1);
        return -EINVAL;
    }
    t = calloc(1, sizeof(*t));
    if (!t) {
        set_err(errbuf, errlen, "tun: out of memory");
        return -ENOMEM;
    }
    t->fd = open(TUN_DEV_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        err = -errno;
        set_err(errbuf, errlen, "tun: cannot open %s: %s%s", TUN_DEV_PATH, strerror(-err),
                advice(err));
        goto fail;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, p->name, namelen);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        err = -errno;
        set_err(errbuf, errlen, "tun %s: TUNSETIFF: %s%s", p->name, strerror(-err), advice(err));
        goto fail;
    }
    memcpy(t->name, ifr.ifr_name, sizeof(t->name));
    t->name[IFNAMSIZ - 1] = '\0';
    if (p->kernel_addr) {
        err = configure(t, p, errbuf, errlen);
        if (err)
            goto fail;
    }
    *out = t;
    return 0;
fail:
    tcpw_tun_close(t);
    return err;
}

void tcpw_tun_close(struct tcpw_tun *t)
{
    if (!t)
        return;
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

int tcpw_tun_fd(const struct tcpw_tun *t)
{
    return t->fd;
}

const char *tcpw_tun_name(const struct tcpw_tun *t)
{
    return t->name;
}

void tcpw_tun_get_stats(const struct tcpw_tun *t, struct tcpw_tun_stats *stats)
{
    *stats = t->stats;
}

void tcpw_tun_set_pcap(struct tcpw_tun *t, struct tcpw_pcap *pcap)
{
    t->pcap = pcap;
}

ssize_t tcpw_tun_read(struct tcpw_tun *t, uint8_t *buf, size_t cap, uint64_t now)
{
    ssize_t n;

    do {
        n = read(t->fd, buf, cap);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    t->stats.rx_packets++;
    t->stats.rx_bytes += (uint64_t)n;
    if (t->pcap)
        tcpw_pcap_write(t->pcap, buf, (size_t)n, now);
    return n;
}

int tcpw_tun_write(struct tcpw_tun *t, const uint8_t *pkt, size_t len, uint64_t now)
{
    ssize_t n;

    if (t->pcap)
        tcpw_pcap_write(t->pcap, pkt, len, now);
    do {
        n = write(t->fd, pkt, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0 || (size_t)n != len) {
        int err = n < 0 ? -errno : -EIO;
        t->stats.tx_errors++;
        t->stats.last_tx_error = err;
        return err;
    }
    t->stats.tx_packets++;
    t->stats.tx_bytes += len;
    return 0;
}

void tcpw_tun_output(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    /* A lost packet is TCP's business (retransmission); the error is counted. */
    (void)tcpw_tun_write(user, pkt, len, now);
}

uint64_t tcpw_tun_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Milliseconds to wait for: until the stack's deadline, rounded up so the
 * loop never wakes just before it (and spins), capped at max_ms. */
static int wait_ms(const struct tcpw_stack *stack, uint64_t now, uint32_t max_ms)
{
    uint64_t deadline = tcpw_stack_next_deadline(stack);
    uint64_t ms;

    if (deadline == TCPW_NO_DEADLINE)
        return (int)max_ms;
    if (deadline <= now)
        return 0;
    ms = (deadline - now + 999u) / 1000u;
    return ms < max_ms ? (int)ms : (int)max_ms;
}

int tcpw_tun_run(const struct tcpw_tun_loop *loop)
{
    struct epoll_event ev;
    uint32_t max_ms;
    uint8_t *buf = NULL;
    int ep = -1, err = 0;

    if (!loop || !loop->tun || !loop->stack)
        return -EINVAL;
    max_ms = loop->max_wait_ms ? loop->max_wait_ms : TUN_DEFAULT_WAIT;
    if (max_ms > 1000000u)
        max_ms = 1000000u; /* keeps the int conversion in wait_ms safe */
    buf = malloc(TUN_BUF_SIZE);
    if (!buf)
        return -ENOMEM;
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        err = -errno;
        goto out;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.fd = loop->tun->fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, loop->tun->fd, &ev) < 0) {
        err = -errno;
        goto out;
    }
    while (!(loop->stop && *loop->stop)) {
        struct epoll_event got;
        uint64_t now = tcpw_tun_now_us();
        int n = epoll_wait(ep, &got, 1, wait_ms(loop->stack, now, max_ms));

        if (n < 0 && errno != EINTR) {
            err = -errno;
            break;
        }
        /* Drain the device in batches, each packet stamped when it is read,
         * so the timers and the tick still run during a flood. */
        for (int i = 0; n > 0 && i < TUN_BATCH; i++) {
            ssize_t len;

            now = tcpw_tun_now_us();
            len = tcpw_tun_read(loop->tun, buf, TUN_BUF_SIZE, now);
            if (len == -EAGAIN)
                break;
            if (len < 0) {
                err = (int)len;
                goto out;
            }
            (void)tcpw_stack_input(loop->stack, buf, (size_t)len, now); /* drops are counted */
        }
        /* Always, not only when a deadline is due: socket calls made in the
         * tick act at the stack's last `now`, and a stale one would arm
         * timers (the RTO of a FIN sent by close()) and stamp packets in the
         * past, which shows as spurious retransmissions. */
        now = tcpw_tun_now_us();
        tcpw_stack_advance(loop->stack, now);
        if (loop->tick) {
            int r = loop->tick(loop->tick_user, loop->stack, now);
            if (r < 0) {
                err = r;
                break;
            }
            if (r > 0)
                break;
        }
    }
out:
    if (ep >= 0)
        close(ep);
    free(buf);
    return err;
}
