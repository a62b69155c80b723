/* TIME_WAIT across a restart (tcpw_tw_save/tcpw_tw_load), the RFC 9293
 * §3.4.3 quiet time (tcp_quiet_time) and per-destination port accounting
 * (tcpw_port_usage).
 *
 * A stack closes first and holds a TIME_WAIT record; it saves its table and
 * is destroyed; a new stack (same address, its own monotonic clock) loads
 * the table later in wall time. The peer's retransmitted FIN must then be
 * re-ACKed exactly as the old stack would have, and the record must end at
 * its original expiry. Damaged files must load nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcptest.h"

#define SEC 1000000ull
#define RT0 (1700000000ull * SEC) /* CLOCK_REALTIME at saving, µs */

static char path_buf[512];

static const char *tmp_path(const char *tag)
{
    const char *dir = getenv("TCPW_BUILD_DIR");
    snprintf(path_buf, sizeof(path_buf), "%s/tw_restart_%ld_%s.tw", dir ? dir : "/tmp",
             (long)getpid(), tag);
    return path_buf;
}

static int write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    if (fwrite(data, 1, len, f) != len) {
        fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(1 << 16);
    *len = 0;
    if (!f || !buf) {
        if (f)
            fclose(f);
        free(buf);
        return NULL;
    }
    *len = fread(buf, 1, (1 << 16) - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

/* Writes `body` (header and records) with the "end <FNV-1a 64>" line a
 * well-formed file ends with. */
static int write_with_sum(const char *path, const char *body)
{
    uint64_t h = 0xcbf29ce484222325ull;
    char *all = malloc(strlen(body) + 32);
    int err;
    for (const char *p = body; *p; p++) {
        h ^= (unsigned char)*p;
        h *= 0x100000001b3ull;
    }
    if (!all)
        return -1;
    sprintf(all, "%send %016llx\n", body, (unsigned long long)h);
    err = write_file(path, all, strlen(all));
    free(all);
    return err;
}

static int start(struct tt *t, const char *set1, const char *set2)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    if (set1 && tcpw_config_set_assignment(&cfg, set1))
        return -1;
    if (set2 && tcpw_config_set_assignment(&cfg, set2))
        return -1;
    return tt_init(t, &cfg);
}

struct old_conn {
    uint16_t lport, pport;
    uint32_t local_nxt, peer_nxt, peer_ts, last_ts_val;
    bool ts;
};

/* A stack in TIME_WAIT, 10 s into its 60 s, saved at RT0; the stack is
 * destroyed. */
static bool saved_time_wait(const char *path, struct old_conn *o)
{
    struct tt t;
    int n;
    if (tt_init(&t, NULL) || !tt_conn_in_time_wait(&t))
        return false;
    o->lport = t.lport;
    o->pport = t.pport;
    o->local_nxt = t.local_nxt;
    o->peer_nxt = t.peer_nxt;
    o->peer_ts = t.peer_ts;
    o->last_ts_val = t.last_ts_val;
    o->ts = t.last.l4.tcp.opts.has_ts;
    tcpw_close(t.stack, t.fd);
    tt_advance(&t, 10 * SEC);
    n = tcpw_tw_save(t.stack, path, RT0);
    return n == 1 && tt_fini(&t) == 0;
}

/* A new stack (its clock starts at 1 s again) up for `up` µs. */
static bool restarted(struct tt *t, const struct old_conn *o, const char *set, uint64_t up)
{
    if (start(t, set, NULL))
        return false;
    tt_advance(t, up);
    t->lport = o->lport;
    t->pport = o->pport;
    t->local_nxt = o->local_nxt;
    t->peer_nxt = o->peer_nxt;
    t->peer_ts = o->peer_ts + 100;
    return true;
}

static void test_reack_after_restart(void)
{
    const char *path = tmp_path("reack");
    struct old_conn o;
    struct tt t;
    struct tcpw_tw_info info[2];
    size_t n = 0;

    CHECK(saved_time_wait(path, &o));
    CHECK(o.ts); /* the fixture's connection uses timestamps */
    /* Down for 5 s of wall time; the new stack has run 3 s on its own. */
    CHECK(restarted(&t, &o, NULL, 3 * SEC));
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, RT0 + 5 * SEC), 1);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    CHECK_EQ_I(tcpw_tw_list(t.stack, info, 2, &n), 0);
    CHECK_EQ(n, 1);
    CHECK_EQ(info[0].lport, o.lport);
    CHECK_EQ(info[0].rport, o.pport);
    CHECK_EQ(info[0].raddr, TT_PEER);
    CHECK_EQ(info[0].remaining_us, 45 * SEC); /* 60 - 10 - 5 */
    /* A second load into a table that is not empty. */
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, RT0 + 5 * SEC), -EBUSY);

    /* The peer lost our last ACK and retransmits its FIN 2 s later. */
    tt_advance(&t, 2 * SEC);
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, o.peer_nxt - 1u, o.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_ACK, o.local_nxt, o.peer_nxt, 0);
    CHECK_EQ(t.last.l4.tcp.opts.has_ts, o.ts);
    if (o.ts) {
        /* The record's own clock went on: 10 s before saving, 5 s down and
         * 2 s up since loading, in 1 ms ticks. */
        uint32_t d = t.last.l4.tcp.opts.ts_val - o.last_ts_val;
        CHECK_MSG(d >= 17000u && d < 17100u, "TSval advanced by %u", (unsigned)d);
        CHECK_EQ(t.last.l4.tcp.opts.ts_ecr, o.peer_ts);
    }
    /* RFC 9293 §3.10.7.4: the FIN restarted the 2MSL wait. */
    CHECK_EQ_I(tcpw_tw_list(t.stack, info, 2, &n), 0);
    CHECK_EQ(info[0].remaining_us, 60 * SEC);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_PAWS_ESTAB), 0);
    CHECK_EQ(tt_fini(&t), 0);
    remove(path);
}

static void test_expires_at_original_time(void)
{
    const char *path = tmp_path("expiry");
    struct old_conn o;
    struct tt t;

    CHECK(saved_time_wait(path, &o));
    CHECK(restarted(&t, &o, NULL, 7 * SEC));
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, RT0 + 20 * SEC), 1);
    /* 60 - 10 - 20 = 30 s left: not a fresh 2MSL. */
    tt_advance(&t, 30 * SEC - 1);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    tt_advance(&t, 1);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_TW), 1);
    /* The FIN now meets no connection: RST. */
    TT_SEND(&t, TCPW_FIN | TCPW_ACK, o.peer_nxt - 1u, o.local_nxt, NULL, 0);
    TT_EXPECT(&t, TCPW_RST, o.local_nxt, TT_ANY, 0);
    CHECK_EQ(tt_fini(&t), 0);
    remove(path);
}

static void test_ran_out_while_down(void)
{
    const char *path = tmp_path("down");
    struct old_conn o;
    struct tt t;

    CHECK(saved_time_wait(path, &o));
    /* 50 s were left at saving. */
    CHECK(restarted(&t, &o, "tcp_quiet_time=1", 0));
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, RT0 + 50 * SEC), 0);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    /* The table was this host's: the quiet time is over all the same. */
    {
        int fd = tcpw_socket(t.stack);
        CHECK(fd >= 0);
        CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EINPROGRESS);
        tt_drain(&t);
    }
    CHECK_EQ(tt_fini(&t), 0);

    /* One µs left: loaded, and gone one µs later. */
    CHECK(restarted(&t, &o, NULL, 0));
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, RT0 + 50 * SEC - 1), 1);
    tt_advance(&t, 1);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    CHECK_EQ(tt_fini(&t), 0);

    /* The wall clock went backwards: nothing is taken off. */
    CHECK(restarted(&t, &o, NULL, 0));
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, RT0 - 3600 * SEC), 1);
    {
        struct tcpw_tw_info info;
        size_t n = 0;
        CHECK_EQ_I(tcpw_tw_list(t.stack, &info, 1, &n), 0);
        CHECK_EQ(info.remaining_us, 50 * SEC);
    }
    CHECK_EQ(tt_fini(&t), 0);
    remove(path);
}

/* Loads must fail with -EINVAL and leave no record and the quiet time on. */
static bool refused(const char *path, int want)
{
    struct tt t;
    bool ok;
    int fd;
    if (start(&t, "tcp_quiet_time=1", NULL))
        return false;
    ok = tcpw_tw_load(t.stack, path, RT0 + SEC) == want && tcpw_tw_count(t.stack) == 0;
    fd = tcpw_socket(t.stack);
    ok = ok && fd >= 0 && tcpw_connect(t.stack, fd, TT_PEER, 80) == -EAGAIN;
    return tt_fini(&t) == 0 && ok;
}

static void test_bad_files(void)
{
    const char *good = tmp_path("good");
    char bad[600];
    struct old_conn o;
    char *data, *copy;
    size_t len;
    uint64_t rng = 7;

    CHECK(saved_time_wait(good, &o));
    data = read_file(good, &len);
    CHECK(data && len > 40);
    CHECK(strncmp(data, "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us ", 39) == 0);
    snprintf(bad, sizeof(bad), "%s.bad", good);
    copy = malloc(len + 1);
    CHECK(copy);

    /* Every truncation. */
    for (size_t cut = 0; cut < len; cut++) {
        CHECK(write_file(bad, data, cut) == 0);
        CHECK_MSG(refused(bad, -EINVAL), "truncated to %zu bytes", cut);
    }
    /* Every single flipped bit of every byte: the checksum or the parser
     * catches each. */
    for (size_t i = 0; i < len; i++) {
        for (int b = 0; b < 8; b++) {
            memcpy(copy, data, len);
            copy[i] = (char)(copy[i] ^ (1 << b));
            CHECK(write_file(bad, copy, len) == 0);
            CHECK_MSG(refused(bad, -EINVAL), "byte %zu bit %d", i, b);
        }
    }
    /* Trailing bytes after the end line. */
    memcpy(copy, data, len);
    copy[len] = '\n';
    CHECK(write_file(bad, copy, len + 1) == 0);
    CHECK(refused(bad, -EINVAL));
    /* Garbage of every size up to 600 bytes, and garbage after a valid
     * header. */
    for (size_t n = 0; n < 600; n++) {
        char g[600];
        for (size_t i = 0; i < n; i++)
            g[i] = (char)check_rand(&rng);
        CHECK(write_file(bad, g, n) == 0);
        CHECK_MSG(refused(bad, -EINVAL), "garbage of %zu bytes", n);
        if (n > 60) {
            memcpy(g, data, 60);
            CHECK(write_file(bad, g, n) == 0);
            CHECK_MSG(refused(bad, -EINVAL), "garbage of %zu bytes after a header", n);
        }
    }
    free(copy);
    free(data);

    /* Well-formed and checksummed, but not what tcpw_tw_save() writes. */
    {
        static const char *const bodies[] = {
            /* wrong version */
            "tcpwave-tw 2\naddr 10.0.0.1\nrealtime_us 1\nrecords 0\n",
            /* a count the file cannot hold */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 4294967295\n",
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 4294967296\n",
            /* fewer records than announced */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 2\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n",
            /* more records than announced */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 0\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n",
            /* port 0, port 65536, ts_ok 2, window 65536 */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 0 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n",
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 65536 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n",
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 1000000 1 2 100 2 0 0 0\n",
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 1000000 1 2 65536 0 0 0 0\n",
            /* a remaining time no configuration allows (2 h + 1 µs) */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 7200000001 1 2 100 0 0 0 0\n",
            /* sequence number beyond 32 bits, a leading zero, a sign */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 1000000 4294967296 2 100 0 0 0 0\n",
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 040000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n",
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 1000000 -1 2 100 0 0 0 0\n",
            /* timestamp fields without timestamps */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 1000000 1 2 100 0 5 0 0\n",
            /* a bad address, a peer 0.0.0.0 */
            "tcpwave-tw 1\naddr 10.0.0.256\nrealtime_us 1\nrecords 0\n",
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1 40000 0.0.0.0 80 1000000 1 2 100 0 0 0 0\n",
            /* the same 4-tuple twice */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 2\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n"
            "tw 10.0.0.1 40000 10.0.0.2 80 2000000 1 2 100 0 0 0 0\n",
            /* two spaces, CR LF */
            "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 1\n"
            "tw 10.0.0.1  40000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n",
            "tcpwave-tw 1\r\naddr 10.0.0.1\nrealtime_us 1\nrecords 0\n",
        };
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
            CHECK(write_with_sum(bad, bodies[i]) == 0);
            CHECK_MSG(refused(bad, -EINVAL), "body %zu", i);
        }
    }
    /* A missing file. */
    remove(bad);
    CHECK(refused(bad, -ENOENT));
    CHECK_EQ_I(tcpw_tw_load(NULL, good, RT0), -EINVAL);
    CHECK_EQ_I(tcpw_tw_save(NULL, good, RT0), -EINVAL);
    remove(good);
}

static void test_other_address(void)
{
    const char *path = tmp_path("other");
    struct tt t;

    /* A file of another host loads nothing and does not end the quiet
     * time; a record of another local address in our file is skipped. */
    CHECK(write_with_sum(path, "tcpwave-tw 1\naddr 10.0.0.9\nrealtime_us 1\nrecords 1\n"
                               "tw 10.0.0.9 40000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n") == 0);
    CHECK(refused(path, 0));
    CHECK(write_with_sum(path, "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 2\n"
                               "tw 10.0.0.9 40000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n"
                               "tw 10.0.0.1 40000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n") == 0);
    CHECK(start(&t, NULL, NULL) == 0);
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, 1), 1);
    CHECK_EQ(tcpw_tw_count(t.stack), 1);
    CHECK_EQ(tt_fini(&t), 0);
    /* More records than tcp_max_tw_buckets allows. */
    CHECK(start(&t, "tcp_max_tw_buckets=1", NULL) == 0);
    CHECK(write_with_sum(path, "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 2\n"
                               "tw 10.0.0.1 40001 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n"
                               "tw 10.0.0.1 40000 10.0.0.2 80 1000000 1 2 100 0 0 0 0\n") == 0);
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, 1), -ENOBUFS);
    CHECK_EQ(tcpw_tw_count(t.stack), 0);
    CHECK_EQ(tt_fini(&t), 0);
    remove(path);
}

static void test_quiet_time(void)
{
    const char *path = tmp_path("quiet");
    struct tt t;
    int fd;

    /* Off by default. */
    CHECK(start(&t, NULL, NULL) == 0);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EINPROGRESS);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);

    /* On: MSL (30 s) of quiet after creation. */
    CHECK(start(&t, "tcp_quiet_time=1", NULL) == 0);
    fd = tcpw_socket(t.stack);
    CHECK(fd >= 0);
    CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EAGAIN);
    TT_EXPECT_NOTHING(&t, 0);
    t.lfd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_bind(t.stack, t.lfd, 0, 80), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, t.lfd, 8), 0);
    t.lport = 80;
    t.pport = 40000;
    TT_SEND(&t, TCPW_SYN, 1000, 0, NULL, 0);
    TT_EXPECT_NOTHING(&t, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_LISTEN_DROPS), 1);
    tt_advance(&t, 30 * SEC - 1);
    CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EAGAIN);
    tt_advance(&t, 1);
    /* Over: the SYN's retransmission is answered, connect() works. */
    TT_SEND(&t, TCPW_SYN, 1000, 0, NULL, 0);
    TT_EXPECT(&t, TCPW_SYN | TCPW_ACK, TT_ANY, 1001, 0);
    CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    CHECK_EQ(tcpw_stack_counter(t.stack, TCPW_CTR_LISTEN_DROPS), 1);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);

    /* With a loaded table (here: empty) there is no quiet time. */
    {
        struct tt old;
        CHECK(tt_init(&old, NULL) == 0);
        CHECK_EQ_I(tcpw_tw_save(old.stack, path, RT0), 0);
        CHECK_EQ(tt_fini(&old), 0);
    }
    CHECK(start(&t, "tcp_quiet_time=1", NULL) == 0);
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, RT0 + SEC), 0);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EINPROGRESS);
    TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
    CHECK_EQ(tt_fini(&t), 0);
    remove(path);
}

static void test_port_usage(void)
{
    const char *path = tmp_path("ports");
    struct tcpw_port_usage u;
    struct tt t;
    int fd;

    /* Eight ephemeral ports; three TIME_WAIT records toward 10.0.0.2:80
     * (one more toward port 443, which does not count), two live
     * connections, one listener inside the range. */
    CHECK(start(&t, "ip_local_port_range=40000 40007", NULL) == 0);
    CHECK(write_with_sum(path, "tcpwave-tw 1\naddr 10.0.0.1\nrealtime_us 1\nrecords 4\n"
                               "tw 10.0.0.1 40000 10.0.0.2 80 9000000 1 2 100 0 0 0 0\n"
                               "tw 10.0.0.1 40003 10.0.0.2 80 8000000 1 2 100 0 0 0 0\n"
                               "tw 10.0.0.1 40005 10.0.0.2 80 7000000 1 2 100 1 9 2 77\n"
                               "tw 10.0.0.1 40001 10.0.0.2 443 7000000 1 2 100 0 0 0 0\n") == 0);
    CHECK_EQ_I(tcpw_tw_load(t.stack, path, 1), 4);
    fd = tcpw_socket(t.stack);
    CHECK_EQ_I(tcpw_bind(t.stack, fd, 0, 40007), 0);
    CHECK_EQ_I(tcpw_listen(t.stack, fd, 8), 0);
    for (int i = 0; i < 2; i++) {
        fd = tcpw_socket(t.stack);
        CHECK_EQ_I(tcpw_connect(t.stack, fd, TT_PEER, 80), -EINPROGRESS);
        TT_EXPECT(&t, TCPW_SYN, TT_ANY, 0, 0);
        CHECK(t.last.l4.tcp.sport != 40000 && t.last.l4.tcp.sport != 40003 &&
              t.last.l4.tcp.sport != 40005 && t.last.l4.tcp.sport != 40007);
    }
    CHECK_EQ_I(tcpw_port_usage(t.stack, 0, TT_PEER, 80, &u), 0);
    CHECK_EQ(u.range, 8);
    CHECK_EQ(u.connections, 2);
    CHECK_EQ(u.time_wait, 3);
    CHECK_EQ(u.listening, 1);
    CHECK_EQ(u.free, 2);
    CHECK_EQ_I(tcpw_port_usage(t.stack, TT_LOCAL, TT_PEER, 443, &u), 0);
    CHECK_EQ(u.connections, 0);
    CHECK_EQ(u.time_wait, 1);
    CHECK_EQ(u.listening, 1);
    CHECK_EQ(u.free, 6);
    /* The records expire in order; the counts follow. */
    tt_advance(&t, 7 * SEC);
    CHECK_EQ_I(tcpw_port_usage(t.stack, 0, TT_PEER, 80, &u), 0);
    CHECK_EQ(u.time_wait, 2);
    CHECK_EQ_I(tcpw_port_usage(t.stack, 0, 0, 80, &u), -EINVAL);
    CHECK_EQ_I(tcpw_port_usage(NULL, 0, TT_PEER, 80, &u), -EINVAL);
    tt_drain(&t);
    CHECK_EQ(tt_fini(&t), 0);
    remove(path);
}

int main(void)
{
    RUN(test_reack_after_restart);
    RUN(test_expires_at_original_time);
    RUN(test_ran_out_while_down);
    RUN(test_bad_files);
    RUN(test_other_address);
    RUN(test_quiet_time);
    RUN(test_port_usage);
    return check_summary();
}
