/* stack/ — the stack instance: creation, explicit time, the inbound path's
 * IP-level checks, and the outbound hand-off.
 *
 * RFC 1122 §3.2.1.3 (which source addresses to discard), RFC 791.
 *
 * Inbound packets go down the page (DESIGN.md): parse and validate (wire/),
 * address policy (here), then TCP demux (tcp/) or ICMP (tcp/icmp.c).
 */
#include "stack/stack_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/tcp.h"
#include "wire/wire.h"

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t tcpw__stack_rand(struct tcpw_stack *s) { return splitmix64(&s->rng); }

uint16_t tcpw__stack_ip_id(struct tcpw_stack *s) { return s->ip_id++; }

void tcpw__log_ratelimited(struct tcpw_stack *s, uint64_t *last, const char *message)
{
    /* Linux prints such lines through net_ratelimit(); tcpwave allows one
     * per second of the stack's own time per kind of message. */
    if (!s->log)
        return;
    if (*last != 0 && s->now - (*last - 1u) < 1000000u)
        return;
    *last = s->now + 1u;
    s->log(s->log_user, message);
}

void tcpw_set_log_fn(struct tcpw_stack *stack, tcpw_log_fn fn, void *user)
{
    if (!stack)
        return;
    stack->log = fn;
    stack->log_user = fn ? user : NULL;
}

int tcpw_stack_create(const struct tcpw_stack_params *params, uint64_t now, struct tcpw_stack **out)
{
    const struct tcpw_config *cfg;
    struct tcpw_stack *s;
    int err;

    if (!params || !out)
        return -EINVAL;
    *out = NULL;
    cfg = params->config ? params->config : &tcpw_config_linux_defaults;
    err = tcpw_config_validate(cfg);
    if (err)
        return err;
    /* 0.0.0.0 and 255.255.255.255 cannot be a host's address. */
    if (params->addr == 0 || params->addr == UINT32_MAX)
        return -EINVAL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->cfg = *cfg;
    s->addr = params->addr;
    s->now = now;
    s->rng = params->seed ^ ((uint64_t)params->addr << 32);
    s->output = params->output;
    s->output_user = params->output_user;
    s->ip_id = (uint16_t)tcpw__stack_rand(s);
    tcpw_wheel_init(&s->wheel, now);
    err = tcpw__tcp_init(s);
    if (err) {
        free(s);
        return err;
    }
    /* RFC 9293 §3.4.3: with tcp_quiet_time, a new stack keeps quiet for MSL
     * unless tcpw_tw_load() gives it the TIME_WAIT table of its last run. */
    tcpw__tw_quiet_start(s);
    *out = s;
    return 0;
}

void tcpw_stack_destroy(struct tcpw_stack *s)
{
    if (!s)
        return;
    tcpw__tcp_destroy(s);
    free(s);
}

/* Time never goes backwards inside a stack: a smaller `now` from a careless
 * driver is read as "no time has passed". */
static void stack_set_time(struct tcpw_stack *s, uint64_t now)
{
    if (now > s->now)
        s->now = now;
}

void tcpw_stack_advance(struct tcpw_stack *s, uint64_t now)
{
    stack_set_time(s, now);
    tcpw_wheel_advance(&s->wheel, s->now);
    tcpw__dispatch_events(s);
}

uint64_t tcpw_stack_next_deadline(const struct tcpw_stack *s)
{
    uint64_t d = tcpw_wheel_next_deadline(&s->wheel);
    return d == UINT64_MAX ? TCPW_NO_DEADLINE : d;
}

uint64_t tcpw_stack_now(const struct tcpw_stack *s) { return s->now; }
uint32_t tcpw_stack_addr(const struct tcpw_stack *s) { return s->addr; }
const struct tcpw_config *tcpw_stack_config(const struct tcpw_stack *s) { return &s->cfg; }

uint64_t tcpw_stack_counter(const struct tcpw_stack *s, enum tcpw_counter c)
{
    return (unsigned)c < TCPW_CTR_COUNT ? s->counters[c] : 0;
}

uint64_t tcpw_stack_drops(const struct tcpw_stack *s, enum tcpw_drop_reason r)
{
    return (unsigned)r < TCPW_DROP_COUNT ? s->drops[r] : 0;
}

/* RFC 1122 §3.2.1.3 / §3.2.2: a host must silently discard datagrams whose
 * source is 0.0.0.0 (other than for its own bootstrap), a loopback address
 * arriving from outside, a class D/E address or the limited broadcast. */
static bool addr_is_martian_source(uint32_t src)
{
    uint8_t first = (uint8_t)(src >> 24);
    return first == 0 || first == 127 || first >= 224;
}

/* Counts a drop under its reason and in the MIB counter Linux would bump. */
static int stack_drop(struct tcpw_stack *s, enum tcpw_drop_reason r)
{
    s->drops[r]++;
    switch (r) {
    case TCPW_DROP_IP_FRAGMENT:
        tcpw__count(s, TCPW_CTR_IP_REASM_REQDS);
        break;
    case TCPW_DROP_IP_NOT_FOR_US:
    case TCPW_DROP_IP_MARTIAN_SOURCE:
        tcpw__count(s, TCPW_CTR_IP_IN_ADDR_ERRORS);
        break;
    case TCPW_DROP_IP_UNKNOWN_PROTOCOL:
        tcpw__count(s, TCPW_CTR_IP_IN_UNKNOWN_PROTOS);
        break;
    case TCPW_DROP_TCP_BAD_CHECKSUM:
        tcpw__count(s, TCPW_CTR_TCP_IN_CSUM_ERRORS);
        tcpw__count(s, TCPW_CTR_TCP_IN_ERRS);
        break;
    case TCPW_DROP_TCP_TRUNCATED:
    case TCPW_DROP_TCP_BAD_DATA_OFFSET:
    case TCPW_DROP_TCP_BAD_OPTION:
    case TCPW_DROP_TCP_BAD_PORT:
        tcpw__count(s, TCPW_CTR_TCP_IN_ERRS);
        break;
    case TCPW_DROP_ICMP_TRUNCATED:
    case TCPW_DROP_ICMP_BAD_CHECKSUM:
        tcpw__count(s, TCPW_CTR_ICMP_IN_ERRORS);
        break;
    default:
        tcpw__count(s, TCPW_CTR_IP_IN_HDR_ERRORS);
        break;
    }
    return (int)r;
}

int tcpw_stack_input(struct tcpw_stack *s, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct tcpw_packet p;
    enum tcpw_drop_reason r;

    /* Timers due before this packet arrived run first, so the packet meets
     * the state a real host would be in at `now`. */
    tcpw_stack_advance(s, now);
    tcpw__count(s, TCPW_CTR_IP_IN_RECEIVES);
    if (!pkt)
        return stack_drop(s, TCPW_DROP_IP_TRUNCATED);

    r = tcpw_ipv4_parse(pkt, len, &p.ip);
    if (r != TCPW_DROP_NONE)
        return stack_drop(s, r);
    if (p.ip.dst != s->addr)
        return stack_drop(s, TCPW_DROP_IP_NOT_FOR_US);
    if (addr_is_martian_source(p.ip.src))
        return stack_drop(s, TCPW_DROP_IP_MARTIAN_SOURCE);

    switch (p.ip.proto) {
    case TCPW_IP_PROTO_TCP:
        tcpw__count(s, TCPW_CTR_TCP_IN_SEGS);
        r = tcpw_tcp_parse(&p.ip, &p.l4.tcp);
        if (r != TCPW_DROP_NONE)
            return stack_drop(s, r);
        tcpw__count(s, TCPW_CTR_IP_IN_DELIVERS);
        tcpw__tcp_input(s, &p);
        tcpw__dispatch_events(s);
        return 0;
    case TCPW_IP_PROTO_ICMP:
        tcpw__count(s, TCPW_CTR_ICMP_IN_MSGS);
        r = tcpw_icmp_parse(&p.ip, &p.l4.icmp);
        if (r != TCPW_DROP_NONE)
            return stack_drop(s, r);
        tcpw__count(s, TCPW_CTR_IP_IN_DELIVERS);
        tcpw__icmp_input(s, &p);
        return 0;
    default:
        /* Linux answers a protocol nobody serves with ICMP protocol
         * unreachable, and UDP (which tcpwave does not serve) with port
         * unreachable (RFC 1122 §3.2.2.1, §4.1.3.1). */
        tcpw__icmp_send_unreach(s, pkt, len, &p.ip, p.ip.proto == 17 ? 3 : 2);
        return stack_drop(s, TCPW_DROP_IP_UNKNOWN_PROTOCOL);
    }
}

void tcpw__stack_send(struct tcpw_stack *s, const uint8_t *pkt, size_t len)
{
    tcpw__count(s, TCPW_CTR_IP_OUT_REQUESTS);
    if (s->output)
        s->output(s->output_user, pkt, len, s->now);
}

const char *tcpw_addr_str(uint32_t addr, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16) & 255u,
             (unsigned)(addr >> 8) & 255u, (unsigned)addr & 255u);
    return buf;
}

int tcpw_addr_parse(const char *text, uint32_t *addr)
{
    uint32_t v = 0;
    int parts = 0;
    const char *p = text;

    if (!text || !addr)
        return -EINVAL;
    while (parts < 4) {
        unsigned octet = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 4) {
            octet = octet * 10u + (unsigned)(*p - '0');
            p++;
            digits++;
        }
        if (digits == 0 || digits > 3 || octet > 255)
            return -EINVAL;
        v = (v << 8) | octet;
        parts++;
        if (parts < 4) {
            if (*p != '.')
                return -EINVAL;
            p++;
        }
    }
    if (*p != '\0')
        return -EINVAL;
    *addr = v;
    return 0;
}
