/* ICMP: errors about our connections (RFC 1122 §4.2.3.9, RFC 5927, RFC 1191),
 * the errors tcpwave sends (RFC 1122 §3.2.2), and echo. ICMP errors quote the
 * exact segment the stack sent (the last one popped by tt_expect).
 */
#include <errno.h>
#include <string.h>

#include "tcptest.h"

#define SEC 1000000ull
#define ROUTER 0x0a0000feu /* 10.0.0.254 */

/* An ICMP error from the router quoting the IP header + 8 bytes of the last
 * segment the stack sent (with `seq_delta` added to its sequence number, to
 * make a blind one). */
static int send_icmp_error(struct tt *t, uint8_t type, uint8_t code, uint32_t rest,
                           uint32_t seq_delta)
{
    uint8_t quote[28], buf[128];
    size_t n;
    memcpy(quote, t->last_buf, sizeof(quote));
    tcpw_put32(quote + 24, tcpw_get32(quote + 24) + seq_delta);
    n = tcpw_icmp_build(buf, sizeof(buf), ROUTER, TT_LOCAL, type, code, rest, quote,
                        sizeof(quote));
    if (!n)
        return -1;
    return tcpw_stack_input(t->stack, buf, n, t->now);
}

/* Port unreachable during connect: ECONNREFUSED at once (a hard error). */
static void test_syn_sent_port_unreachable(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_connect(t.stack, t.fd, TT_PEER, 80), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    CHECK_EQ_I(send_icmp_error(&t, 3, 3, 0, 0), 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), ECONNREFUSED);
    CHECK_EQ_I(tt_close_reason(&t, t.fd), TCPW_REASON_ICMP_ERROR);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_ICMP_IN_DEST_UNREACHS), 1);
    TT_EXPECT_NOTHING(&t, 10 * SEC); /* no more SYNs */
    CHECK_EQ(tt_fini(&t), 0);
}

/* Host unreachable during connect: EHOSTUNREACH (Linux aborts a connect on
 * any unreachable). */
static void test_syn_sent_host_unreachable(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    t.fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_connect(t.stack, t.fd, TT_PEER, 80), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    CHECK_EQ_I(send_icmp_error(&t, 3, 1, 0, 0), 0);
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), EHOSTUNREACH);
    CHECK_EQ(tt_fini(&t), 0);
}

/* RFC 5927 §4.1: an ICMP error quoting a sequence number that is not in
 * flight cannot have come from our segment: ignored, counted. */
static void test_blind_icmp_rejected(void)
{
    struct tt t;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "data", 4), 4);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 4);
    CHECK_EQ_I(send_icmp_error(&t, 3, 3, 0, 100000), 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_OUT_OF_WINDOW_ICMPS), 1);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    /* Even a hard error with the right number only becomes a soft error in
     * ESTABLISHED (RFC 5927 §4.2): the connection goes on. */
    CHECK_EQ_I(send_icmp_error(&t, 3, 3, 0, 0), 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    TT_SEND(&t, TCPW_ACK, t.peer_nxt, t.local_nxt + 4, NULL, 0);
    CHECK_EQ_I(tt_so_error(&t, t.fd), 0);
    CHECK_EQ(tt_fini(&t), 0);
}

/* A soft error is what the application learns when the connection later
 * times out (RFC 1122 §4.2.3.9): EHOSTUNREACH instead of ETIMEDOUT. */
static void test_soft_error_reported_on_timeout(void)
{
    struct tt t;
    int v = 2000;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    CHECK_EQ_I(tcpw_setsockopt(t.stack, t.fd, TCPW_TCP_USER_TIMEOUT, &v, sizeof(v)), 0);
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, "data", 4), 4);
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 4);
    CHECK_EQ_I(send_icmp_error(&t, 3, 1, 0, 0), 0);
    CHECK_STATE(&t, t.fd, TCPW_ESTABLISHED);
    while (tcpw_sock_state(t.stack, t.fd) != TCPW_CLOSED && t.now < 100 * SEC) {
        tt_drain(&t);
        tt_run_to_deadline(&t, 100 * SEC);
    }
    CHECK_STATE(&t, t.fd, TCPW_CLOSED);
    CHECK_EQ_I(tt_so_error(&t, t.fd), EHOSTUNREACH);
    CHECK_EQ_I(tt_close_reason(&t, t.fd), TCPW_REASON_ICMP_ERROR);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

/* RFC 1191: fragmentation needed with next-hop MTU 576 → the segment is sent
 * again at MSS 536 (minus the 12 bytes of timestamps). */
static void test_path_mtu(void)
{
    struct tt t;
    char big[1400];
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    CHECK(tt_conn_established_active(&t));
    memset(big, 'm', sizeof(big));
    CHECK_EQ_I(tcpw_send(t.stack, t.fd, big, sizeof(big)), (int)sizeof(big));
    TT_EXPECT(&t, TCPW_ACK | TCPW_PSH, t.local_nxt, t.peer_nxt, 1400);
    CHECK_EQ_I(send_icmp_error(&t, 3, 4, 576, 0), 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 524);
    {
        struct tcpw_conn_info ci;
        CHECK_EQ_I(tcpw_conn_info(t.stack, t.fd, &ci), 0);
        CHECK_EQ(ci.mss, 536);
    }
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Echo is answered with the same identifier, sequence number and data. */
static void test_echo(void)
{
    struct tt t;
    uint8_t buf[128];
    static const uint8_t data[] = "ping data";
    size_t n;
    struct tcpw_packet p;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    n = tcpw_icmp_build(buf, sizeof(buf), TT_PEER, TT_LOCAL, 8, 0, 0x12340007u, data,
                        sizeof(data));
    CHECK_EQ_I(tcpw_stack_input(t.stack, buf, n, t.now), 0);
    CHECK_EQ(tt_pending(&t), 1);
    CHECK_EQ(tcpw_packet_parse(t.q[t.q_head].data, t.q[t.q_head].len, &p), TCPW_DROP_NONE);
    CHECK_EQ(p.ip.proto, TCPW_IP_PROTO_ICMP);
    CHECK_EQ(p.ip.dst, TT_PEER);
    CHECK_EQ(p.l4.icmp.type, 0);
    CHECK_EQ(p.l4.icmp.rest, 0x12340007u);
    CHECK(p.l4.icmp.data_len == sizeof(data) && memcmp(p.l4.icmp.data, data, sizeof(data)) == 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_ICMP_IN_ECHOS), 1);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_ICMP_OUT_ECHO_REPS), 1);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

/* UDP to us → port unreachable; an unknown protocol → protocol unreachable;
 * both rate-limited (50 at once, then 1 per ms). */
static void test_unreachables_sent(void)
{
    struct tt t;
    uint8_t pkt[64];
    struct tcpw_packet p;
    CHECK_EQ_I(tt_init(&t, NULL), 0);
    memset(pkt, 0, sizeof(pkt));
    CHECK_EQ(tcpw_ipv4_build(pkt, sizeof(pkt), TT_PEER, TT_LOCAL, 17, 64, 1, false, 16), 20);
    CHECK_EQ(tcpw_stack_input(t.stack, pkt, 36, t.now), TCPW_DROP_IP_UNKNOWN_PROTOCOL);
    CHECK_EQ(tt_pending(&t), 1);
    CHECK_EQ(tcpw_packet_parse(t.q[t.q_head].data, t.q[t.q_head].len, &p), TCPW_DROP_NONE);
    CHECK_EQ(p.l4.icmp.type, 3);
    CHECK_EQ(p.l4.icmp.code, 3);
    CHECK_EQ(p.l4.icmp.data_len, 28); /* IP header + 8 bytes */
    CHECK(memcmp(p.l4.icmp.data, pkt, 28) == 0);
    tt_drain(&t);
    CHECK_EQ(tcpw_ipv4_build(pkt, sizeof(pkt), TT_PEER, TT_LOCAL, 99, 64, 2, false, 16), 20);
    for (int i = 0; i < 60; i++)
        tcpw_stack_input(t.stack, pkt, 36, t.now);
    CHECK_EQ(tt_pending(&t), 49); /* the bucket had 49 tokens left */
    CHECK_EQ(tcpw_packet_parse(t.q[t.q_head].data, t.q[t.q_head].len, &p), TCPW_DROP_NONE);
    CHECK_EQ(p.l4.icmp.code, 2);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_ICMP_RATE_LIMITED), 11);
    tt_drain(&t);
    tt_advance(&t, 1000);
    tcpw_stack_input(t.stack, pkt, 36, t.now);
    CHECK_EQ(tt_pending(&t), 1);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_syn_sent_port_unreachable);
    RUN(test_syn_sent_host_unreachable);
    RUN(test_blind_icmp_rejected);
    RUN(test_soft_error_reported_on_timeout);
    RUN(test_path_mtu);
    RUN(test_echo);
    RUN(test_unreachables_sent);
    return check_summary();
}
