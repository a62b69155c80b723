/* Unit tests of stack/config: Linux's defaults, the tunable table, strict
 * parsing with exact errors, seconds/ms conversion, and cross-field checks.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "tcpwave/config.h"

static const struct tcpw_param *row_named(const char *name)
{
    for (size_t i = 0; i < tcpw_config_param_count(); i++)
        if (strcmp(tcpw_config_param(i)->name, name) == 0)
            return tcpw_config_param(i);
    return NULL;
}

/* The values of /proc/sys/net/ipv4 on Linux 6.x (24 GiB machine) and the
 * kernel's compiled-in constants, plus tcpwave's deliberate differences. */
static void test_defaults_are_linux(void)
{
    const struct tcpw_config *d = &tcpw_config_linux_defaults;

    CHECK_EQ(d->tcp_fin_timeout_ms, 60000);
    CHECK_EQ(d->tcp_tw_reuse, 2);
    CHECK_EQ(d->tcp_tw_recycle, 0);
    CHECK_EQ(d->tcp_timestamps, 1);
    CHECK_EQ(d->tcp_max_tw_buckets, 131072);
    CHECK_EQ(d->tcp_rfc1337, 1); /* Linux 0: deliberate, and documented */
    CHECK(row_named("tcp_rfc1337") != NULL && row_named("tcp_rfc1337")->linux_note != NULL);
    CHECK_EQ(d->tcp_max_orphans, 131072);
    CHECK_EQ(d->tcp_orphan_retries, 0);
    CHECK_EQ(d->tcp_retries1, 3);
    CHECK_EQ(d->tcp_retries2, 15);
    CHECK_EQ(d->tcp_syn_retries, 6);
    CHECK_EQ(d->tcp_synack_retries, 5);
    CHECK_EQ(d->tcp_rto_min_ms, 200);
    CHECK_EQ(d->tcp_rto_max_ms, 120000);
    CHECK_EQ(d->tcp_rto_initial_ms, 1000);
    CHECK_EQ(d->tcp_delack_ms, 40);
    CHECK_EQ(d->tcp_keepalive_time_ms, 7200000);
    CHECK_EQ(d->tcp_keepalive_intvl_ms, 75000);
    CHECK_EQ(d->tcp_keepalive_probes, 9);
    CHECK_EQ(d->tcp_window_scaling, 1);
    CHECK_EQ(d->tcp_sack, 1);
    CHECK_EQ(d->tcp_rmem_default, 131072);
    CHECK_EQ(d->tcp_wmem_default, 16384);
    CHECK_EQ(d->tcp_max_syn_backlog, 2048);
    CHECK_EQ(d->somaxconn, 4096);
    CHECK_EQ(d->tcp_challenge_ack_limit, 2147483647);
    CHECK_EQ(d->mtu, 1500);
    CHECK_EQ(d->ip_default_ttl, 64);
    CHECK_EQ(d->tcp_msl_ms, 30000); /* Linux's fixed 60 s TIME_WAIT is 2 x 30 s */
    CHECK(row_named("tcp_msl") != NULL && row_named("tcp_msl")->linux_note != NULL);
    CHECK_EQ(d->ip_local_port_range_min, 32768);
    CHECK_EQ(d->ip_local_port_range_max, 60999);
    CHECK_EQ_I(tcpw_config_validate(d), 0);
}

/* The user-visible forms of the defaults, as sysctl would print them. */
static void test_defaults_as_text(void)
{
    static const char *const want[][2] = {
        {"tcp_fin_timeout", "60"},
        {"tcp_keepalive_time", "7200"},
        {"tcp_keepalive_intvl", "75"},
        {"tcp_msl", "30"},
        {"tcp_rto_min_ms", "200"},
        {"tcp_challenge_ack_limit", "2147483647"},
        {"ip_local_port_range", "32768\t60999"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        CHECK_EQ_I(tcpw_config_get(&tcpw_config_linux_defaults, want[i][0], buf, sizeof(buf)), 0);
        CHECK_STR(buf, want[i][1]);
    }
}

static void test_table_shape(void)
{
    size_t n = tcpw_config_param_count();
    char buf[64];

    /* Every field has a row: one per uint32_t field, the port range two. */
    CHECK_EQ(n, sizeof(struct tcpw_config) / sizeof(uint32_t) - 1);
    CHECK(tcpw_config_param(n) == NULL);
    CHECK(tcpw_config_param((size_t)-1) == NULL);
    for (size_t i = 0; i < n; i++) {
        const struct tcpw_param *p = tcpw_config_param(i);
        CHECK(p != NULL && p->name != NULL && p->help != NULL && p->help[0] != '\0');
        CHECK_MSG(p->min <= p->max, "%s: min > max", p->name);
        if (p->type == TCPW_PARAM_BOOL)
            CHECK_MSG(p->min == 0 && p->max == 1, "%s: bool range", p->name);
        if (p->type == TCPW_PARAM_SECONDS)
            CHECK_MSG(p->max <= UINT32_MAX / 1000u, "%s: max seconds overflow ms", p->name);
        for (size_t j = 0; j < i; j++)
            CHECK_MSG(strcmp(p->name, tcpw_config_param(j)->name) != 0, "%s twice", p->name);
        /* Every row is readable from the defaults. */
        CHECK_EQ_I(tcpw_config_get(&tcpw_config_linux_defaults, p->name, buf, sizeof(buf)), 0);
    }
}

/* For every row: set min, max and a middle value; get returns the same text;
 * no other row changes. */
static void test_round_trip_every_row(void)
{
    char text[64], got[64], before[64], after[64];

    for (size_t i = 0; i < tcpw_config_param_count(); i++) {
        const struct tcpw_param *p = tcpw_config_param(i);
        uint32_t vals[3] = {p->min, p->max, p->min + (p->max - p->min) / 3};
        for (size_t k = 0; k < 3; k++) {
            struct tcpw_config cfg = tcpw_config_linux_defaults;
            if (p->type == TCPW_PARAM_RANGE) {
                uint32_t hi = vals[k] + (p->max - vals[k]) / 2;
                snprintf(text, sizeof(text), "%" PRIu32 "\t%" PRIu32, vals[k], hi);
            } else {
                snprintf(text, sizeof(text), "%" PRIu32, vals[k]);
            }
            CHECK_MSG(tcpw_config_set(&cfg, p->name, text) == 0, "set %s=%s", p->name, text);
            CHECK_EQ_I(tcpw_config_get(&cfg, p->name, got, sizeof(got)), 0);
            CHECK_STR(got, text);
            for (size_t j = 0; j < tcpw_config_param_count(); j++) {
                const char *other = tcpw_config_param(j)->name;
                if (j == i)
                    continue;
                tcpw_config_get(&tcpw_config_linux_defaults, other, before, sizeof(before));
                tcpw_config_get(&cfg, other, after, sizeof(after));
                CHECK_MSG(strcmp(before, after) == 0, "setting %s changed %s", p->name, other);
            }
        }
    }
}

static void test_seconds_and_ms(void)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    char buf[32];

    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_fin_timeout", "30"), 0);
    CHECK_EQ(cfg.tcp_fin_timeout_ms, 30000);
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_keepalive_time", "32767"), 0);
    CHECK_EQ(cfg.tcp_keepalive_time_ms, 32767000);
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_msl", "1"), 0);
    CHECK_EQ(cfg.tcp_msl_ms, 1000);
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_rto_min_ms", "250"), 0); /* ms rows stay ms */
    CHECK_EQ(cfg.tcp_rto_min_ms, 250);
    /* A program may set sub-second values through the struct: shown exactly,
     * and still valid. */
    cfg.tcp_msl_ms = 1500;
    CHECK_EQ_I(tcpw_config_get(&cfg, "tcp_msl", buf, sizeof(buf)), 0);
    CHECK_STR(buf, "1.500");
    cfg.tcp_msl_ms = 5;
    CHECK_EQ_I(tcpw_config_get(&cfg, "tcp_msl", buf, sizeof(buf)), 0);
    CHECK_STR(buf, "0.005");
    CHECK_EQ_I(tcpw_config_validate(&cfg), 0);
    /* Larger than the row allows, in ms: invalid. */
    cfg.tcp_msl_ms = 3600001;
    CHECK_EQ_I(tcpw_config_validate(&cfg), -EINVAL);
}

/* Each error class: the documented errno, and cfg untouched. */
static void test_set_errors(void)
{
    static const struct {
        const char *name, *value;
        int err;
    } cases[] = {
        {"no_such_tunable", "1", -ENOENT},
        {"", "1", -ENOENT},
        {"tcp_fin_timeout ", "1", -ENOENT},
        {"TCP_FIN_TIMEOUT", "1", -ENOENT},
        {"tcp_fin_timeout", "", -EINVAL},
        {"tcp_fin_timeout", "abc", -EINVAL},
        {"tcp_fin_timeout", "60x", -EINVAL},
        {"tcp_fin_timeout", "60 ", -EINVAL},
        {"tcp_fin_timeout", " 60", -EINVAL},
        {"tcp_fin_timeout", "60\n", -EINVAL},
        {"tcp_fin_timeout", "6 0", -EINVAL},
        {"tcp_fin_timeout", "-1", -EINVAL},
        {"tcp_fin_timeout", "+1", -EINVAL},
        {"tcp_fin_timeout", "0x10", -EINVAL},
        {"tcp_fin_timeout", "1.5", -EINVAL},
        {"tcp_fin_timeout", "99999999999999999999x", -EINVAL}, /* shape first */
        {"tcp_max_tw_buckets", "99999999999999999999", -ERANGE},
        {"tcp_max_tw_buckets", "18446744073709551616", -ERANGE},
        {"tcp_max_tw_buckets", "4294967296", -ERANGE},
        {"tcp_max_tw_buckets", "2147483648", -ERANGE},
        {"tcp_fin_timeout", "4294968", -ERANGE}, /* would overflow the ms field */
        {"tcp_fin_timeout", "0", -ERANGE},
        {"tcp_fin_timeout", "86401", -ERANGE},
        {"tcp_syn_retries", "0", -ERANGE},
        {"tcp_syn_retries", "128", -ERANGE},
        {"tcp_timestamps", "3", -ERANGE},
        {"tcp_tw_reuse", "3", -ERANGE},
        {"mtu", "67", -ERANGE},
        {"mtu", "65536", -ERANGE},
        {"tcp_keepalive_probes", "0", -ERANGE},
        {"ip_default_ttl", "256", -ERANGE},
        {"ip_local_port_range", "60999 32768", -EINVAL}, /* lo > hi, as Linux */
        {"ip_local_port_range", "2000-1000", -EINVAL},
        {"ip_local_port_range", "0 100", -ERANGE},
        {"ip_local_port_range", "1 65536", -ERANGE},
        {"ip_local_port_range", "1 99999999999999999999", -ERANGE},
        {"ip_local_port_range", "32768", -EINVAL},
        {"ip_local_port_range", "32768 ", -EINVAL},
        {"ip_local_port_range", "32768-", -EINVAL},
        {"ip_local_port_range", "32768--60999", -EINVAL},
        {"ip_local_port_range", "-32768 60999", -EINVAL},
        {"ip_local_port_range", "32768 60999 1", -EINVAL},
        {"ip_local_port_range", "32768,60999", -EINVAL},
        {"ip_local_port_range", "32768 -60999", -EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tcpw_config cfg = tcpw_config_linux_defaults;
        int err = tcpw_config_set(&cfg, cases[i].name, cases[i].value);
        CHECK_MSG(err == cases[i].err, "set %s=\"%s\": %d, want %d", cases[i].name, cases[i].value,
                  err, cases[i].err);
        CHECK_MSG(memcmp(&cfg, &tcpw_config_linux_defaults, sizeof(cfg)) == 0,
                  "set %s=\"%s\" changed cfg on error", cases[i].name, cases[i].value);
    }
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_fin_timeout", NULL), -EINVAL);
    CHECK_EQ_I(tcpw_config_set(&cfg, NULL, "1"), -EINVAL);
    CHECK_EQ_I(tcpw_config_set(NULL, "tcp_fin_timeout", "1"), -EINVAL);
    /* Leading zeros are still decimal, and both range spellings work. */
    CHECK_EQ_I(tcpw_config_set(&cfg, "tcp_fin_timeout", "0060"), 0);
    CHECK_EQ(cfg.tcp_fin_timeout_ms, 60000);
    CHECK_EQ_I(tcpw_config_set(&cfg, "ip_local_port_range", "1024-1024"), 0);
    CHECK_EQ(cfg.ip_local_port_range_min, 1024);
    CHECK_EQ(cfg.ip_local_port_range_max, 1024);
    CHECK_EQ_I(tcpw_config_set(&cfg, "ip_local_port_range", "1 \t 65535"), 0);
    CHECK_EQ(cfg.ip_local_port_range_min, 1);
    CHECK_EQ(cfg.ip_local_port_range_max, 65535);
}

static void test_set_assignment(void)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;

    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "tcp_fin_timeout=30"), 0);
    CHECK_EQ(cfg.tcp_fin_timeout_ms, 30000);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "net.ipv4.tcp_fin_timeout=31"), 0);
    CHECK_EQ(cfg.tcp_fin_timeout_ms, 31000);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "net.core.somaxconn=128"), 0);
    CHECK_EQ(cfg.somaxconn, 128);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "ip_local_port_range=1000-2000"), 0);
    CHECK_EQ(cfg.ip_local_port_range_min, 1000);
    CHECK_EQ(cfg.ip_local_port_range_max, 2000);

    struct tcpw_config before = cfg;
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "tcp_fin_timeout"), -EINVAL);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "tcp_fin_timeout="), -EINVAL);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "tcp_fin_timeout=30=4"), -EINVAL);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "tcp_fin_timeout =30"), -ENOENT);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "=5"), -ENOENT);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "nope=1"), -ENOENT);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "net.ipv4.=1"), -ENOENT);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, "tcp_fin_timeout=0"), -ERANGE);
    CHECK_EQ_I(tcpw_config_set_assignment(&cfg, NULL), -EINVAL);
    CHECK(memcmp(&cfg, &before, sizeof(cfg)) == 0);
}

static void test_get(void)
{
    char buf[8];

    CHECK_EQ_I(tcpw_config_get(&tcpw_config_linux_defaults, "nope", buf, sizeof(buf)), -ENOENT);
    /* Truncated to the buffer, always terminated. */
    CHECK_EQ_I(tcpw_config_get(&tcpw_config_linux_defaults, "tcp_max_tw_buckets", buf, 3), 0);
    CHECK_STR(buf, "13");
    memcpy(buf, "xyz", 4);
    CHECK_EQ_I(tcpw_config_get(&tcpw_config_linux_defaults, "tcp_sack", buf, 0), 0);
    CHECK_STR(buf, "xyz");
    CHECK_EQ_I(tcpw_config_get(&tcpw_config_linux_defaults, "net.ipv4.tcp_sack", buf, sizeof(buf)),
               0);
    CHECK_STR(buf, "1");
}

/* Each relation validate guards, broken one at a time. */
static void test_validate(void)
{
    struct tcpw_config c;

#define BAD(stmt)                                                                                  \
    do {                                                                                           \
        c = tcpw_config_linux_defaults;                                                            \
        stmt;                                                                                      \
        CHECK_MSG(tcpw_config_validate(&c) == -EINVAL, "validate accepted: %s", #stmt);            \
    } while (0)
#define GOOD(stmt)                                                                                 \
    do {                                                                                           \
        c = tcpw_config_linux_defaults;                                                            \
        stmt;                                                                                      \
        CHECK_MSG(tcpw_config_validate(&c) == 0, "validate refused: %s", #stmt);                   \
    } while (0)

    BAD(c.ip_local_port_range_min = 40000; c.ip_local_port_range_max = 39999);
    BAD(c.ip_local_port_range_min = 0);
    BAD(c.ip_local_port_range_max = 65536);
    GOOD(c.ip_local_port_range_min = 5000; c.ip_local_port_range_max = 5000);
    BAD(c.tcp_rto_min_ms = 1001);                        /* above rto_initial */
    BAD(c.tcp_rto_initial_ms = 120001);                  /* above rto_max */
    BAD(c.tcp_rto_max_ms = 999);                         /* below rto_initial */
    BAD(c.tcp_rto_min_ms = 0; c.tcp_rto_initial_ms = 0); /* zero RTO */
    GOOD(c.tcp_rto_min_ms = 1000; c.tcp_rto_max_ms = 1000);
    BAD(c.mtu = 67);
    BAD(c.mtu = 65536);
    GOOD(c.mtu = 68);
    BAD(c.tcp_keepalive_probes = 0);
    BAD(c.tcp_keepalive_intvl_ms = 0);
    BAD(c.tcp_msl_ms = 0);
    BAD(c.tcp_timestamps = 3);
    GOOD(c.tcp_timestamps = 2);
    BAD(c.tcp_tw_reuse = 3);
    BAD(c.ip_default_ttl = 0);
    BAD(c.tcp_syn_retries = 0);
    BAD(c.tcp_delack_ms = 501);
    GOOD(c.tcp_max_tw_buckets = 0); /* no TIME_WAIT records at all is allowed */
    CHECK_EQ_I(tcpw_config_validate(NULL), -EINVAL);
#undef BAD
#undef GOOD
}

int main(void)
{
    RUN(test_defaults_are_linux);
    RUN(test_defaults_as_text);
    RUN(test_table_shape);
    RUN(test_round_trip_every_row);
    RUN(test_seconds_and_ms);
    RUN(test_set_errors);
    RUN(test_set_assignment);
    RUN(test_get);
    RUN(test_validate);
    return check_summary();
}
