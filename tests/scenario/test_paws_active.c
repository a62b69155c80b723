/* PAWS on the active open (RFC 7323 §5.3 as Linux applies it in
 * tcp_rcv_synsent_state_process(), LINUX_MIB_PAWSACTIVEREJECTED): a SYN,ACK
 * whose TSecr is not a TSval we sent since our first SYN is an old
 * duplicate. It is answered with <SEQ=SEG.ACK><CTL=RST>, counted in
 * PAWSActive, and the connection stays in SYN-SENT; the good SYN,ACK then
 * completes the handshake.
 */
#include <errno.h>
#include <string.h>

#include "tcptest.h"

#define MS 1000ull

/* Connects and reads the SYN; returns its TSval. */
static bool connect_syn(struct tt *t, uint32_t *syn_tsval)
{
    t->fd = tcpw_socket(t->stack);
    if (t->fd < 0 || tcpw_connect(t->stack, t->fd, TT_PEER, 80) != -EINPROGRESS)
        return false;
    if (!tt_expect(t, TCPW_SYN, TT_ANY, 0, 0, __FILE__, __LINE__))
        return false;
    t->local_iss = t->last.l4.tcp.seq;
    t->lport = t->last.l4.tcp.sport;
    t->pport = 80;
    t->peer_iss = TT_PEER_ISS;
    *syn_tsval = t->last.l4.tcp.opts.ts_val;
    return t->last.l4.tcp.opts.has_ts;
}

/* The peer's SYN,ACK echoing `ts_ecr`. */
static int send_synack(struct tt *t, uint32_t ts_ecr)
{
    struct tcpw_tcp_opts o = tt_linux_syn_opts();
    o.has_ts = true;
    o.ts_val = t->peer_ts;
    o.ts_ecr = ts_ecr;
    return tt_send_opts(t, TCPW_SYN | TCPW_ACK, t->peer_iss, t->local_iss + 1, 65535, &o, NULL, 0);
}

static void test_bad_tsecr_then_good(void)
{
    struct tt t;
    uint32_t syn_ts;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.peer_ts = 12345;
    CHECK(connect_syn(&t, &syn_ts));
    tt_advance(&t, 5 * MS);
    /* Older than our SYN: RST <SEQ=SEG.ACK>, still SYN-SENT. */
    CHECK_EQ_I(send_synack(&t, syn_ts - 1), 0);
    TT_EXPECT(&t, TCPW_RST, t.local_iss + 1, TT_ANY, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_PAWS_ACTIVE), 1);
    CHECK_STATE(&t, t.fd, TCPW_SYN_SENT);
    /* From our future (beyond now): the same. */
    CHECK_EQ_I(send_synack(&t, syn_ts + 6), 0);
    TT_EXPECT(&t, TCPW_RST, t.local_iss + 1, TT_ANY, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_PAWS_ACTIVE), 2);
    CHECK_STATE(&t, t.fd, TCPW_SYN_SENT);
    /* A RST,ACK with a bad TSecr is dropped: no answer, no refusal. */
    {
        struct tcpw_tcp_opts o = {0};
        o.has_ts = true;
        o.ts_val = t.peer_ts;
        o.ts_ecr = syn_ts - 1000;
        CHECK_EQ_I(tt_send_opts(&t, TCPW_RST | TCPW_ACK, 0, t.local_iss + 1, 0, &o, NULL, 0), 0);
    }
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_PAWS_ACTIVE), 3);
    CHECK_STATE(&t, t.fd, TCPW_SYN_SENT);
    /* The SYN's own TSval (the edge of the window) completes the handshake. */
    t.peer_ts++;
    CHECK_EQ_I(send_synack(&t, syn_ts), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_iss + 1, t.peer_iss + 1, 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_PAWS_ACTIVE), 3);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

/* The newest TSval (now) is accepted too. */
static void test_tsecr_now_accepted(void)
{
    struct tt t;
    uint32_t syn_ts;

    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.peer_ts = 777;
    CHECK(connect_syn(&t, &syn_ts));
    tt_advance(&t, 3 * MS);
    CHECK_EQ_I(send_synack(&t, syn_ts + 3), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_iss + 1, t.peer_iss + 1, 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_PAWS_ACTIVE), 0);
    CHECK_EQ_I(tcpw_close(t.stack, t.fd), 0);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_bad_tsecr_then_good);
    RUN(test_tsecr_now_accepted);
    return check_summary();
}
