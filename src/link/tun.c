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

#include "link/memlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
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
#define TUN_HELD_MAX     8192u /* impaired packets held at once, both directions */

/* One direction's impairment: the rates and its own generator (memlink's
 * xoshiro256**, so one seed means the same draws on both links). */
struct tun_impair {
    bool on;
    struct tcpw_impairment imp;
    struct tcpw__ml_rng rng;
    uint64_t last_due; /* in-order floor: jitter alone never reorders */
};

/* A packet copy waiting for its release time. */
struct tun_held {
    uint64_t due;
    uint64_t order; /* ties release in the order they were held */
    enum tcpw_tun_dir dir;
    size_t len;
    uint8_t pkt[]; /* flexible array member: the packet bytes */
};

struct tcpw_tun {
    int fd;
    char name[IFNAMSIZ];
    struct tcpw_pcap *pcap; /* borrowed; may be NULL */
    struct tcpw_tun_stats stats;
    struct tun_impair impair[TCPW_TUN_DIR_COUNT];
    /* Held packets: a binary min-heap on (due, order). */
    struct tun_held **held;
    size_t nheld, cap_held;
    uint64_t held_order;
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
    for (size_t i = 0; i < t->nheld; i++)
        free(t->held[i]);
    free(t->held);
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

/* --- impairment ------------------------------------------------------------ */

/* A draw as a double in [0, 1). */
static double unit(uint64_t x)
{
    return (double)(x >> 11) * (1.0 / 9007199254740992.0);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

int tcpw_tun_set_impairment(struct tcpw_tun *t, enum tcpw_tun_dir dir,
                            const struct tcpw_impairment *imp, uint64_t seed)
{
    struct tun_impair *ti;

    if ((unsigned)dir >= TCPW_TUN_DIR_COUNT)
        return -EINVAL;
    ti = &t->impair[dir];
    if (!imp) {
        ti->on = false;
        return 0;
    }
    if (tcpw__ml_impairment_check(imp) != 0)
        return -EINVAL;
    ti->imp = *imp;
    ti->on = imp->loss > 0 || imp->duplicate > 0 || imp->reorder > 0 || imp->delay_us > 0 ||
             imp->jitter_us > 0;
    tcpw__ml_rng_seed(&ti->rng, seed);
    ti->last_due = 0;
    return 0;
}

static bool held_before(const struct tun_held *a, const struct tun_held *b)
{
    return a->due != b->due ? a->due < b->due : a->order < b->order;
}

/* Copies a packet into the hold queue. Returns false (dropped) when full. */
static bool held_push(struct tcpw_tun *t, enum tcpw_tun_dir dir, const uint8_t *pkt, size_t len,
                      uint64_t due)
{
    struct tun_held *h;
    size_t i;

    if (t->nheld == t->cap_held) {
        size_t ncap = t->cap_held ? 2 * t->cap_held : 64;
        struct tun_held **nh;
        if (t->cap_held >= TUN_HELD_MAX)
            return false;
        nh = realloc(t->held, ncap * sizeof(*nh));
        if (!nh)
            return false;
        t->held = nh;
        t->cap_held = ncap;
    }
    h = malloc(sizeof(*h) + len);
    if (!h)
        return false;
    h->due = due;
    h->order = t->held_order++;
    h->dir = dir;
    h->len = len;
    memcpy(h->pkt, pkt, len);
    /* Sift up. */
    i = t->nheld++;
    while (i > 0 && held_before(h, t->held[(i - 1) / 2])) {
        t->held[i] = t->held[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    t->held[i] = h;
    return true;
}

/* Removes and returns the earliest held packet (the queue is not empty). */
static struct tun_held *held_pop(struct tcpw_tun *t)
{
    struct tun_held *top = t->held[0], *last = t->held[--t->nheld];
    size_t i = 0;

    /* Sift the last element down from the root. */
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= t->nheld)
            break;
        if (c + 1 < t->nheld && held_before(t->held[c + 1], t->held[c]))
            c++;
        if (!held_before(t->held[c], last))
            break;
        t->held[i] = t->held[c];
        i = c;
    }
    if (t->nheld > 0)
        t->held[i] = last;
    return top;
}

/* Hands one packet copy on: to the device, or to the stack. */
static void deliver(struct tcpw_tun *t, struct tcpw_stack *stack, enum tcpw_tun_dir dir,
                    const uint8_t *pkt, size_t len, uint64_t now)
{
    if (dir == TCPW_TUN_FROM_STACK)
        (void)tcpw_tun_write(t, pkt, len, now); /* failures are counted */
    else
        (void)tcpw_stack_input(stack, pkt, len, now); /* drops are counted */
}

/* Runs one packet through direction `dir`'s filter: memlink's plan (six
 * draws: loss, duplicate, then reorder and jitter for each of two copies).
 * Copies due now are delivered at once, the others held. */
static void impair(struct tcpw_tun *t, struct tcpw_stack *stack, enum tcpw_tun_dir dir,
                   const uint8_t *pkt, size_t len, uint64_t now)
{
    struct tun_impair *ti = &t->impair[dir];
    struct tcpw_tun_impair_stats *st = &t->stats.impaired[dir];
    const struct tcpw_impairment *imp = &ti->imp;
    uint64_t r[6];
    unsigned copies;

    for (int i = 0; i < 6; i++)
        r[i] = tcpw__ml_rng_next(&ti->rng);
    st->packets++;
    if (unit(r[0]) < imp->loss) {
        st->lost++;
        return;
    }
    copies = unit(r[1]) < imp->duplicate ? 2u : 1u;
    if (copies == 2)
        st->duplicated++;
    for (unsigned c = 0; c < copies; c++) {
        bool held = unit(r[2 + 2 * c]) < imp->reorder;
        uint64_t jitter = imp->jitter_us ? r[3 + 2 * c] % (imp->jitter_us + 1u) : 0;
        uint64_t due = sat_add(sat_add(now, imp->delay_us), jitter);

        if (held) {
            st->reordered++;
            due = sat_add(due, imp->reorder_delay_us);
        } else {
            if (due < ti->last_due)
                due = ti->last_due;
            ti->last_due = due;
        }
        if (due <= now) {
            deliver(t, stack, dir, pkt, len, now);
        } else if (held_push(t, dir, pkt, len, due)) {
            st->delayed++;
        } else {
            st->overflow++;
        }
    }
}

/* Delivers every held packet due by `now`, in (due, order) order. A packet
 * handed to the stack may make it send, which may hold more packets: each is
 * popped before it is delivered, so the heap is consistent then. */
static void release_due(struct tcpw_tun *t, struct tcpw_stack *stack, uint64_t now)
{
    while (t->nheld > 0 && t->held[0]->due <= now) {
        struct tun_held *h = held_pop(t);
        deliver(t, stack, h->dir, h->pkt, h->len, now);
        free(h);
    }
}

void tcpw_tun_output(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct tcpw_tun *t = user;

    /* A lost packet is TCP's business (retransmission); the error is counted. */
    if (t->impair[TCPW_TUN_FROM_STACK].on)
        impair(t, NULL, TCPW_TUN_FROM_STACK, pkt, len, now);
    else
        (void)tcpw_tun_write(t, pkt, len, now);
}

uint64_t tcpw_tun_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Milliseconds to wait for: until the stack's deadline or the earliest held
 * packet, rounded up so the loop never wakes just before it (and spins),
 * capped at max_ms. */
static int wait_ms(const struct tcpw_tun *t, const struct tcpw_stack *stack, uint64_t now,
                   uint32_t max_ms)
{
    uint64_t deadline = tcpw_stack_next_deadline(stack);
    uint64_t ms;

    if (t->nheld > 0 && (deadline == TCPW_NO_DEADLINE || t->held[0]->due < deadline))
        deadline = t->held[0]->due;

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
        int n = epoll_wait(ep, &got, 1, wait_ms(loop->tun, loop->stack, now, max_ms));

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
            if (loop->tun->impair[TCPW_TUN_TO_STACK].on)
                impair(loop->tun, loop->stack, TCPW_TUN_TO_STACK, buf, (size_t)len, now);
            else
                (void)tcpw_stack_input(loop->stack, buf, (size_t)len, now); /* drops are counted */
        }
        now = tcpw_tun_now_us();
        release_due(loop->tun, loop->stack, now);
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
