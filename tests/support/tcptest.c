/* Test support for protocol tests (see tcptest.h). */
#include "tcptest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/timewait.h"

static void tt_output(void *user, const uint8_t *pkt, size_t len, uint64_t now)
{
    struct tt *t = user;
    size_t slot;

    if (t->q_count == TT_MAX_QUEUE) {
        fprintf(stderr, "  tcptest: output queue full, segment dropped\n");
        return;
    }
    slot = (t->q_head + t->q_count) % TT_MAX_QUEUE;
    t->q[slot].data = malloc(len);
    if (!t->q[slot].data)
        abort();
    memcpy(t->q[slot].data, pkt, len);
    t->q[slot].len = len;
    t->q[slot].time = now;
    t->q_count++;
}

int tt_init(struct tt *t, const struct tcpw_config *cfg)
{
    struct tcpw_stack_params p = {
        .addr = TT_LOCAL, .config = cfg, .seed = 42, .output = tt_output, .output_user = t,
    };
    memset(t, 0, sizeof(*t));
    t->now = 1000000;
    t->fd = -1;
    t->lfd = -1;
    t->peer_ts = 5000;
    return tcpw_stack_create(&p, t->now, &t->stack);
}

size_t tt_pending(const struct tt *t) { return t->q_count; }

void tt_drain(struct tt *t)
{
    while (t->q_count) {
        free(t->q[t->q_head].data);
        t->q_head = (t->q_head + 1) % TT_MAX_QUEUE;
        t->q_count--;
    }
}

size_t tt_fini(struct tt *t)
{
    size_t left = t->q_count;
    tcpw_stack_destroy(t->stack);
    tt_drain(t);
    t->stack = NULL;
    return left;
}

void tt_advance(struct tt *t, uint64_t us)
{
    t->now += us;
    tcpw_stack_advance(t->stack, t->now);
}

uint64_t tt_run_to_deadline(struct tt *t, uint64_t limit)
{
    uint64_t d = tcpw_stack_next_deadline(t->stack), start = t->now;
    while (d != TCPW_NO_DEADLINE && d <= start + limit && t->q_count == 0) {
        if (d > t->now)
            t->now = d;
        tcpw_stack_advance(t->stack, t->now);
        d = tcpw_stack_next_deadline(t->stack);
    }
    return t->now - start;
}

struct tcpw_tcp_opts tt_linux_syn_opts(void)
{
    struct tcpw_tcp_opts o = {0};
    o.has_mss = true;
    o.mss = 1460;
    o.sack_permitted = true;
    o.has_wscale = true;
    o.wscale = 7;
    return o;
}

int tt_send_opts(struct tt *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
                 const struct tcpw_tcp_opts *opts, const void *data, size_t len)
{
    static uint8_t buf[70000];
    struct tcpw_tcp_out o = {0};
    size_t n;
    int r;

    o.src = TT_PEER;
    o.dst = TT_LOCAL;
    o.sport = t->pport;
    o.dport = t->lport;
    o.seq = seq;
    o.ack = ack;
    o.flags = flags;
    o.wnd = wnd;
    o.payload = data;
    o.payload_len = len;
    if (opts)
        o.opts = *opts;
    if (t->peer_ts && !o.opts.has_ts) {
        o.opts.has_ts = true;
        o.opts.ts_val = t->peer_ts;
        o.opts.ts_ecr = (flags & TCPW_ACK) ? t->last_ts_val : 0;
    }
    n = tcpw_tcp_build(buf, sizeof(buf), &o);
    if (n == 0)
        return -EINVAL;
    r = tcpw_stack_input(t->stack, buf, n, t->now);
    return r > 0 ? -EPROTO : 0;
}

int tt_send_full(struct tt *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
                 const void *data, size_t len, bool syn_opts)
{
    struct tcpw_tcp_opts o = {0};
    if (syn_opts)
        o = tt_linux_syn_opts();
    return tt_send_opts(t, flags, seq, ack, wnd, &o, data, len);
}

int tt_send(struct tt *t, uint8_t flags, uint32_t seq, uint32_t ack, const void *data, size_t len)
{
    return tt_send_full(t, flags, seq, ack, 65535, data, len, false);
}

static void describe(const struct tcpw_packet *p, char *buf, size_t cap)
{
    char f[32];
    const struct tcpw_tcp *s = &p->l4.tcp;
    snprintf(buf, cap, "%s seq=%" PRIu32 " ack=%" PRIu32 " len=%zu win=%u%s", tcpw_tcp_flags_str(s->flags, f),
             s->seq, s->ack, s->payload_len, (unsigned)s->wnd, s->opts.has_ts ? " TS" : "");
}

bool tt_expect(struct tt *t, uint8_t flags, uint64_t seq, uint64_t ack, size_t len,
               const char *file, int line)
{
    char want[160], got[160], f[32];
    struct tt_pkt *pk;
    enum tcpw_drop_reason r;
    bool ok;

    snprintf(want, sizeof(want), "%s seq=%s ack=%s len=%zu", tcpw_tcp_flags_str(flags, f),
             seq == TT_ANY ? "*" : "", ack == TT_ANY ? "*" : "", len);
    if (seq != TT_ANY || ack != TT_ANY) {
        char sq[16] = "*", ak[16] = "*";
        if (seq != TT_ANY)
            snprintf(sq, sizeof(sq), "%" PRIu32, (uint32_t)seq);
        if (ack != TT_ANY)
            snprintf(ak, sizeof(ak), "%" PRIu32, (uint32_t)ack);
        snprintf(want, sizeof(want), "%s seq=%s ack=%s len=%zu", tcpw_tcp_flags_str(flags, f), sq,
                 ak, len);
    }
    if (t->q_count == 0) {
        fprintf(stderr, "  FAIL %s:%d: expected %s, the stack sent nothing\n", file, line, want);
        return false;
    }
    pk = &t->q[t->q_head];
    memcpy(t->last_buf, pk->data, pk->len);
    r = tcpw_packet_parse(t->last_buf, pk->len, &t->last);
    free(pk->data);
    t->q_head = (t->q_head + 1) % TT_MAX_QUEUE;
    t->q_count--;
    if (r != TCPW_DROP_NONE || t->last.ip.proto != TCPW_IP_PROTO_TCP) {
        fprintf(stderr, "  FAIL %s:%d: expected %s, got a packet that does not parse as TCP (%s)\n",
                file, line, want, tcpw_drop_reason_name(r));
        return false;
    }
    describe(&t->last, got, sizeof(got));
    if (t->last.l4.tcp.opts.has_ts)
        t->last_ts_val = t->last.l4.tcp.opts.ts_val;
    ok = t->last.l4.tcp.flags == flags && (seq == TT_ANY || t->last.l4.tcp.seq == (uint32_t)seq) &&
         (ack == TT_ANY || t->last.l4.tcp.ack == (uint32_t)ack) &&
         t->last.l4.tcp.payload_len == len;
    if (!ok)
        fprintf(stderr, "  FAIL %s:%d: segment mismatch\n    expected: %s\n    got:      %s\n",
                file, line, want, got);
    return ok;
}

bool tt_expect_nothing(struct tt *t, uint64_t us, const char *file, int line)
{
    char got[160];
    struct tcpw_packet p;

    if (us)
        tt_advance(t, us);
    if (t->q_count == 0)
        return true;
    if (tcpw_packet_parse(t->q[t->q_head].data, t->q[t->q_head].len, &p) == TCPW_DROP_NONE &&
        p.ip.proto == TCPW_IP_PROTO_TCP)
        describe(&p, got, sizeof(got));
    else
        snprintf(got, sizeof(got), "a non-TCP packet");
    fprintf(stderr, "  FAIL %s:%d: expected no segment, the stack sent %s (%zu waiting)\n", file,
            line, got, t->q_count);
    return false;
}

/* --- fixtures --- */

#define FX_EXPECT(t, flags, seq, ack, len)                                                         \
    do {                                                                                           \
        if (!tt_expect((t), (flags), (seq), (ack), (len), __FILE__, __LINE__))                    \
            return false;                                                                          \
    } while (0)

bool tt_conn_established_active_opts(struct tt *t, int fd, const struct tcpw_tcp_opts *opts,
                                     uint16_t wnd)
{
    int r;
    t->fd = fd >= 0 ? fd : tcpw_socket(t->stack);
    if (t->fd < 0)
        return false;
    r = tcpw_connect(t->stack, t->fd, TT_PEER, 80);
    if (r != -EINPROGRESS) {
        fprintf(stderr, "  fixture: connect returned %d\n", r);
        return false;
    }
    FX_EXPECT(t, TCPW_SYN, TT_ANY, 0, 0);
    t->local_iss = t->last.l4.tcp.seq;
    t->local_syn_opts = t->last.l4.tcp.opts;
    t->local_syn_wnd = t->last.l4.tcp.wnd;
    t->lport = t->last.l4.tcp.sport;
    t->pport = 80;
    t->peer_iss = TT_PEER_ISS;
    if (tt_send_opts(t, TCPW_SYN | TCPW_ACK, t->peer_iss, t->local_iss + 1, wnd, opts, NULL, 0))
        return false;
    FX_EXPECT(t, TCPW_ACK, t->local_iss + 1, t->peer_iss + 1, 0);
    t->peer_nxt = t->peer_iss + 1;
    t->local_nxt = t->local_iss + 1;
    return tcpw_sock_state(t->stack, t->fd) == TCPW_ESTABLISHED;
}

bool tt_conn_established_active(struct tt *t)
{
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    return tt_conn_established_active_opts(t, -1, &o, 65535);
}

bool tt_conn_established_active_iss(struct tt *t, uint32_t iss)
{
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    uint32_t first;
    int fd = tcpw_socket(t->stack);

    if (fd < 0 || tcpw_bind(t->stack, fd, 0, 50000) ||
        tcpw_connect(t->stack, fd, TT_PEER, 80) != -EINPROGRESS)
        return false;
    FX_EXPECT(t, TCPW_SYN, TT_ANY, 0, 0);
    first = t->last.l4.tcp.seq;
    if (tcpw_close(t->stack, fd))
        return false;
    /* ISN = now / 4 µs + F(tuple) (RFC 6528 §3). */
    tt_advance(t, (uint64_t)(uint32_t)(iss - first) * 4u);
    fd = tcpw_socket(t->stack);
    if (fd < 0 || tcpw_bind(t->stack, fd, 0, 50000))
        return false;
    if (!tt_conn_established_active_opts(t, fd, &o, 65535))
        return false;
    if (t->local_iss != iss) {
        fprintf(stderr, "  fixture: ISS %u, wanted %u\n", (unsigned)t->local_iss, (unsigned)iss);
        return false;
    }
    return true;
}

bool tt_conn_established_passive_opts(struct tt *t, const struct tcpw_tcp_opts *opts,
                                      uint16_t wnd)
{
    if (t->lfd < 0) {
        t->lfd = tcpw_socket(t->stack);
        if (t->lfd < 0 || tcpw_bind(t->stack, t->lfd, 0, 80) || tcpw_listen(t->stack, t->lfd, 16))
            return false;
    }
    t->lport = 80;
    t->pport = 40000;
    t->peer_iss = TT_PEER_ISS;
    if (tt_send_opts(t, TCPW_SYN, t->peer_iss, 0, wnd, opts, NULL, 0))
        return false;
    FX_EXPECT(t, TCPW_SYN | TCPW_ACK, TT_ANY, t->peer_iss + 1, 0);
    t->local_iss = t->last.l4.tcp.seq;
    t->local_syn_opts = t->last.l4.tcp.opts;
    t->local_syn_wnd = t->last.l4.tcp.wnd;
    if (tt_send_opts(t, TCPW_ACK, t->peer_iss + 1, t->local_iss + 1, wnd, NULL, NULL, 0))
        return false;
    t->fd = tcpw_accept(t->stack, t->lfd, NULL, NULL);
    if (t->fd < 0)
        return false;
    t->peer_nxt = t->peer_iss + 1;
    t->local_nxt = t->local_iss + 1;
    return tcpw_sock_state(t->stack, t->fd) == TCPW_ESTABLISHED;
}

bool tt_conn_established_passive(struct tt *t)
{
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    return tt_conn_established_passive_opts(t, &o, 65535);
}

bool tt_conn_in_fin_wait_1(struct tt *t)
{
    if (!tt_conn_established_active(t))
        return false;
    if (tcpw_shutdown(t->stack, t->fd, TCPW_SHUT_WR))
        return false;
    FX_EXPECT(t, TCPW_FIN | TCPW_ACK, t->local_nxt, t->peer_nxt, 0);
    t->local_nxt++;
    return tcpw_sock_state(t->stack, t->fd) == TCPW_FIN_WAIT_1;
}

bool tt_conn_in_fin_wait_2(struct tt *t)
{
    if (!tt_conn_in_fin_wait_1(t))
        return false;
    if (tt_send(t, TCPW_ACK, t->peer_nxt, t->local_nxt, NULL, 0))
        return false;
    if (t->q_count)
        return false;
    return tcpw_sock_state(t->stack, t->fd) == TCPW_FIN_WAIT_2;
}

bool tt_conn_in_close_wait(struct tt *t)
{
    if (!tt_conn_established_active(t))
        return false;
    if (tt_send(t, TCPW_FIN | TCPW_ACK, t->peer_nxt, t->local_nxt, NULL, 0))
        return false;
    t->peer_nxt++;
    /* The ACK of a FIN in ESTABLISHED is delayed (Linux's pingpong mode). */
    if (t->q_count)
        return false;
    tt_run_to_deadline(t, 1000000);
    FX_EXPECT(t, TCPW_ACK, t->local_nxt, t->peer_nxt, 0);
    return tcpw_sock_state(t->stack, t->fd) == TCPW_CLOSE_WAIT;
}

bool tt_conn_in_last_ack(struct tt *t)
{
    if (!tt_conn_in_close_wait(t))
        return false;
    if (tcpw_shutdown(t->stack, t->fd, TCPW_SHUT_WR))
        return false;
    FX_EXPECT(t, TCPW_FIN | TCPW_ACK, t->local_nxt, t->peer_nxt, 0);
    t->local_nxt++;
    return tcpw_sock_state(t->stack, t->fd) == TCPW_LAST_ACK;
}

bool tt_conn_in_closing(struct tt *t)
{
    if (!tt_conn_in_fin_wait_1(t))
        return false;
    /* The peer's FIN crosses ours: it acknowledges only up to our FIN. */
    if (tt_send(t, TCPW_FIN | TCPW_ACK, t->peer_nxt, t->local_nxt - 1, NULL, 0))
        return false;
    t->peer_nxt++;
    FX_EXPECT(t, TCPW_ACK, t->local_nxt, t->peer_nxt, 0);
    return tcpw_sock_state(t->stack, t->fd) == TCPW_CLOSING;
}

bool tt_conn_in_time_wait(struct tt *t)
{
    uint64_t counts[TCPW_STATE_COUNT];
    if (!tt_conn_in_fin_wait_2(t))
        return false;
    if (tt_send(t, TCPW_FIN | TCPW_ACK, t->peer_nxt, t->local_nxt, NULL, 0))
        return false;
    t->peer_nxt++;
    FX_EXPECT(t, TCPW_ACK, t->local_nxt, t->peer_nxt, 0);
    tcpw_state_counts(t->stack, counts);
    return counts[TCPW_TIME_WAIT] == 1;
}

int tt_so_error(struct tt *t, int fd)
{
    int err = -1;
    size_t len = sizeof(err);
    if (tcpw_getsockopt(t->stack, fd, TCPW_SO_ERROR, &err, &len) != 0)
        return -1;
    return err;
}

int tt_close_reason(struct tt *t, int fd)
{
    int r = -1;
    size_t len = sizeof(r);
    if (tcpw_getsockopt(t->stack, fd, TCPW_SO_CLOSE_REASON, &r, &len) != 0)
        return -1;
    return r;
}

uint64_t tt_count_state(struct tt *t, enum tcpw_state st)
{
    uint64_t counts[TCPW_STATE_COUNT];
    tcpw_state_counts(t->stack, counts);
    return counts[st];
}

bool tt_server_in_time_wait(struct tt *t)
{
    if (!tt_conn_established_passive(t))
        return false;
    if (tcpw_close(t->stack, t->fd))
        return false;
    FX_EXPECT(t, TCPW_FIN | TCPW_ACK, t->local_nxt, t->peer_nxt, 0);
    t->local_nxt++;
    if (tt_send(t, TCPW_ACK, t->peer_nxt, t->local_nxt, NULL, 0) ||
        tt_send(t, TCPW_FIN | TCPW_ACK, t->peer_nxt, t->local_nxt, NULL, 0))
        return false;
    t->peer_nxt++;
    FX_EXPECT(t, TCPW_ACK, t->local_nxt, t->peer_nxt, 0);
    return tt_count_state(t, TCPW_TIME_WAIT) == 1;
}

int tt_tw_add(struct tcpw_stack *s, const struct tcpw_tuple *u, bool ts)
{
    struct tcpw_tw_proto p;

    memset(&p, 0, sizeof(p));
    p.tuple = *u;
    p.snd_nxt = u->lport;
    p.rcv_nxt = 2;
    p.rcv_wnd = 100;
    p.ts_ok = ts;
    if (ts) {
        p.ts_offset = tcpw__ts_offset(s, u->laddr, u->raddr);
        p.ts_recent = 1;
        p.ts_recent_age_s = 5;
    }
    return tcpw__tw_add(s, &p);
}
