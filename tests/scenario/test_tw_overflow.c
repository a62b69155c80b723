/* tcp_max_tw_buckets on the wire (RFC 9293 §3.4.2 / §3.10.7.4: what a
 * TIME_WAIT record protects, and what happens to a connection that gets
 * none). With room for one record, a second active close either goes
 * without TIME_WAIT (tcp_tw_overflow_policy 0, Linux: TCPTimeWaitOverflow)
 * or evicts the first connection's record (policy 1, FreeBSD / lwIP:
 * TWEvicted), whose retransmitted FIN then meets no connection: RST.
 */
#include <stdio.h>
#include <string.h>

#include "tcptest.h"

#define SEC 1000000ull

struct saved {
    uint16_t lport;
    uint32_t local_nxt, peer_nxt;
};

static struct saved save(const struct tt *t)
{
    struct saved v = {t->lport, t->local_nxt, t->peer_nxt};
    return v;
}

static void use(struct tt *t, const struct saved *v)
{
    t->lport = v->lport;
    t->local_nxt = v->local_nxt;
    t->peer_nxt = v->peer_nxt;
}

static int start(struct tt *t, const char *policy)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    if (tcpw_config_set(&cfg, "tcp_max_tw_buckets", "1") ||
        tcpw_config_set(&cfg, "tcp_tw_overflow_policy", policy))
        return -1;
    return tt_init(t, &cfg);
}

/* Policy 0: the second connection closes without TIME_WAIT; the first one's
 * record still re-ACKs its FIN. */
static void test_refuse(void)
{
    struct tt t;
    struct saved a, b;
    struct tcpw_tw_info info;
    size_t n;

    CHECK_EQ_I(start(&t, "0"), 0);
    CHECK(tt_conn_in_time_wait(&t));
    a = save(&t);
    tt_advance(&t, 1 * SEC);
    CHECK(tt_conn_in_time_wait(&t)); /* a TIME_WAIT count of 1: a's record */
    b = save(&t);
    CHECK(a.lport != b.lport);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 1);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_EVICTED), 0);
    CHECK_EQ_I(tcpw_tw_list(t.stack, &info, 1, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(info.lport, a.lport);
    CHECK_EQ(info.rport, 80);
    CHECK_EQ(info.remaining_us, 59 * SEC);
    /* b has no record: its retransmitted FIN is answered with RST. */
    use(&t, &b);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt - 1, t.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_RST, t.local_nxt, TT_ANY, 0);
    /* a is protected: re-ACK. */
    use(&t, &a);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt - 1, t.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

/* Policy 1: the second connection takes the place of the first. */
static void test_evict_oldest(void)
{
    struct tt t;
    struct saved a, b;
    struct tcpw_tw_info info;
    size_t n;

    CHECK_EQ_I(start(&t, "1"), 0);
    CHECK(tt_conn_in_time_wait(&t));
    a = save(&t);
    tt_advance(&t, 1 * SEC);
    CHECK(tt_conn_in_time_wait(&t));
    b = save(&t);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_EVICTED), 1);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 0);
    CHECK_EQ_I(tcpw_tw_list(t.stack, &info, 1, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(info.lport, b.lport);
    CHECK_EQ(info.remaining_us, 60 * SEC);
    /* a's record is gone: its retransmitted FIN now gets RST. */
    use(&t, &a);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt - 1, t.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_RST, t.local_nxt, TT_ANY, 0);
    /* b is protected. */
    use(&t, &b);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt - 1, t.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, t.local_nxt, t.peer_nxt, 0);
    /* And it ends 2MSL after that re-ACK, counted as a finished TIME_WAIT. */
    tt_advance(&t, 60 * SEC);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

struct log_sink {
    int n;
    char last[64];
};

static void on_log(void *user, const char *message)
{
    struct log_sink *l = user;
    l->n++;
    snprintf(l->last, sizeof(l->last), "%s", message);
}

/* Linux's "TCP: time wait bucket table overflow" goes to the log callback
 * at most once a second; the counter counts every refusal. */
static void test_overflow_log_ratelimited(void)
{
    struct tt t;
    struct log_sink log = {0};
    uint64_t t0;

    CHECK_EQ_I(start(&t, "0"), 0);
    tcpw_set_log_fn(t.stack, on_log, &log);
    t0 = t.now;
    CHECK(tt_conn_in_time_wait(&t)); /* the one record */
    CHECK_EQ(log.n, 0);
    CHECK(tt_conn_in_time_wait(&t)); /* refused: logged */
    CHECK(tt_conn_in_time_wait(&t)); /* refused: within the second, silent */
    CHECK(t.now - t0 < 1 * SEC);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 2);
    CHECK_EQ(log.n, 1);
    CHECK_STR(log.last, "TCP: time wait bucket table overflow");
    tt_advance(&t, 1 * SEC);
    CHECK(tt_conn_in_time_wait(&t)); /* a second later: logged again */
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 3);
    CHECK_EQ(log.n, 2);
    /* NULL turns the log off. */
    tcpw_set_log_fn(t.stack, NULL, NULL);
    tt_advance(&t, 1 * SEC);
    CHECK(tt_conn_in_time_wait(&t));
    CHECK_EQ(log.n, 2);
    CHECK_EQ(tt_fini(&t), 0);
}

/* tt_conn_in_time_wait() without its "one TIME_WAIT in all" check: an
 * active close to 10.0.0.2:80 whose last ACK has been sent. */
static bool closed_by_us(struct tt *t)
{
    if (!tt_conn_in_fin_wait_2(t))
        return false;
    if (tt_send(t, TCPW_FIN | TCPW_ACK, t->peer_nxt, t->local_nxt, NULL, 0))
        return false;
    t->peer_nxt++;
    return tt_expect(t, TCPW_ACK, t->local_nxt, t->peer_nxt, 0, __FILE__, __LINE__);
}

/* tcp_tw_dest_quota=2: two records to 10.0.0.2:80, the third connection to
 * it closes without TIME_WAIT (TWQuotaRefused, not TCPTimeWaitOverflow);
 * once the records expire there is room again. */
static void test_dest_quota(void)
{
    struct tt t;
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct saved c;

    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_tw_dest_quota", "2"), 0);
    CHECK_EQ_I(tt_init(&t, &cfg), 0);
    CHECK(closed_by_us(&t));
    CHECK(closed_by_us(&t));
    CHECK_EQ(tcpw_tw_count(t.stack), 2);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_QUOTA_REFUSED), 0);
    CHECK(closed_by_us(&t));
    c = save(&t);
    CHECK_EQ(tcpw_tw_count(t.stack), 2);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_QUOTA_REFUSED), 1);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), 0);
    /* The refused connection has no record: its retransmitted FIN gets RST. */
    use(&t, &c);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, t.peer_nxt - 1, t.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_RST, t.local_nxt, TT_ANY, 0);
    /* 2MSL later both records are gone and the destination has room. */
    tt_advance(&t, 61 * SEC);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    CHECK(closed_by_us(&t));
    CHECK(closed_by_us(&t));
    CHECK_EQ(tcpw_tw_count(t.stack), 2);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW_QUOTA_REFUSED), 1);
    CHECK_EQ(tt_fini(&t), 0);
}

int main(void)
{
    RUN(test_refuse);
    RUN(test_evict_oldest);
    RUN(test_overflow_log_ratelimited);
    RUN(test_dest_quota);
    return check_summary();
}
