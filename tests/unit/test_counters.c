/* Unit tests of stack/counters: the nstat names and drop-reason names built
 * from the X-macro lists of tcpwave/counters.h.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "tcpwave/counters.h"

static bool has_known_group(const char *name)
{
    static const char *const groups[] = {"TcpExt", "Tcp", "Ip", "Icmp"};
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        size_t n = strlen(groups[i]);
        /* Group, then a capitalised name. */
        if (strncmp(name, groups[i], n) == 0 && name[n] >= 'A' && name[n] <= 'Z')
            return true;
    }
    return false;
}

static void test_counter_names_unique_and_complete(void)
{
    for (unsigned i = 0; i < TCPW_CTR_COUNT; i++) {
        const char *name = tcpw_counter_name((enum tcpw_counter)i);
        const char *help = tcpw_counter_help((enum tcpw_counter)i);
        CHECK_MSG(name != NULL, "counter %u has no name", i);
        CHECK_MSG(help != NULL && help[0] != '\0', "counter %u (%s) has no help", i, name);
        CHECK_MSG(has_known_group(name), "counter %s: unknown group", name);
        for (unsigned j = 0; j < i; j++)
            CHECK_MSG(strcmp(name, tcpw_counter_name((enum tcpw_counter)j)) != 0,
                      "counters %u and %u are both %s", j, i, name);
    }
}

static void test_counter_lookup_round_trip(void)
{
    for (unsigned i = 0; i < TCPW_CTR_COUNT; i++)
        CHECK_EQ_I(tcpw_counter_lookup(tcpw_counter_name((enum tcpw_counter)i)), (int)i);
}

static void test_counter_out_of_range(void)
{
    CHECK(tcpw_counter_name(TCPW_CTR_COUNT) == NULL);
    CHECK(tcpw_counter_help(TCPW_CTR_COUNT) == NULL);
    CHECK(tcpw_counter_name((enum tcpw_counter)-1) == NULL);
    CHECK(tcpw_counter_help((enum tcpw_counter)1000) == NULL);
    CHECK_EQ_I(tcpw_counter_lookup("NoSuchCounter"), -ENOENT);
    CHECK_EQ_I(tcpw_counter_lookup(""), -ENOENT);
    CHECK_EQ_I(tcpw_counter_lookup(NULL), -ENOENT);
    CHECK_EQ_I(tcpw_counter_lookup("tcpexttw"), -ENOENT); /* nstat names are case-sensitive */
    CHECK_EQ_I(tcpw_counter_lookup("TW"), -ENOENT);       /* the group is part of the name */
    CHECK_EQ_I(tcpw_counter_lookup("TcpExtTW "), -ENOENT);
}

/* The spellings Linux's nstat prints. */
static void test_counter_exact_spellings(void)
{
    CHECK_STR(tcpw_counter_name(TCPW_CTR_TW), "TcpExtTW");
    CHECK_STR(tcpw_counter_name(TCPW_CTR_TW_RECYCLED), "TcpExtTWRecycled");
    CHECK_STR(tcpw_counter_name(TCPW_CTR_TW_KILLED), "TcpExtTWKilled");
    CHECK_STR(tcpw_counter_name(TCPW_CTR_TCP_TIME_WAIT_OVERFLOW), "TcpExtTCPTimeWaitOverflow");
    CHECK_STR(tcpw_counter_name(TCPW_CTR_IP_IN_RECEIVES), "IpInReceives");
    CHECK_STR(tcpw_counter_name(TCPW_CTR_PAWS_ESTAB), "TcpExtPAWSEstab");
    CHECK_STR(tcpw_counter_name(TCPW_CTR_TCP_ACTIVE_OPENS), "TcpActiveOpens");
    CHECK_STR(tcpw_counter_name(TCPW_CTR_ICMP_OUT_MSGS), "IcmpOutMsgs");
    CHECK_EQ_I(tcpw_counter_lookup("TcpExtTCPChallengeACK"), TCPW_CTR_TCP_CHALLENGE_ACK);
    CHECK_EQ_I(tcpw_counter_lookup("TcpExtTCPAbortOnLinger"), TCPW_CTR_TCP_ABORT_ON_LINGER);
}

static void test_drop_reasons(void)
{
    CHECK_STR(tcpw_drop_reason_name(TCPW_DROP_NONE), "none");
    CHECK(tcpw_drop_reason_help(TCPW_DROP_NONE) != NULL);
    for (unsigned i = 1; i < TCPW_DROP_COUNT; i++) {
        const char *name = tcpw_drop_reason_name((enum tcpw_drop_reason)i);
        const char *help = tcpw_drop_reason_help((enum tcpw_drop_reason)i);
        CHECK_MSG(name != NULL && help != NULL && help[0] != '\0', "drop reason %u incomplete", i);
        /* Short names are lower-case words joined by hyphens. */
        for (const char *p = name; *p; p++)
            CHECK_MSG((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-',
                      "drop reason name %s", name);
        for (unsigned j = 0; j < i; j++)
            CHECK_MSG(strcmp(name, tcpw_drop_reason_name((enum tcpw_drop_reason)j)) != 0,
                      "drop reasons %u and %u are both %s", j, i, name);
    }
    CHECK_STR(tcpw_drop_reason_name(TCPW_DROP_TCP_BAD_CHECKSUM), "tcp-bad-checksum");
    CHECK_STR(tcpw_drop_reason_name(TCPW_DROP_IP_FRAGMENT), "ip-fragment");
    CHECK_STR(tcpw_drop_reason_help(TCPW_DROP_IP_BAD_VERSION), "IP version is not 4");
    CHECK(tcpw_drop_reason_name(TCPW_DROP_COUNT) == NULL);
    CHECK(tcpw_drop_reason_help(TCPW_DROP_COUNT) == NULL);
    CHECK(tcpw_drop_reason_name((enum tcpw_drop_reason)-1) == NULL);
}

int main(void)
{
    RUN(test_counter_names_unique_and_complete);
    RUN(test_counter_lookup_round_trip);
    RUN(test_counter_out_of_range);
    RUN(test_counter_exact_spellings);
    RUN(test_drop_reasons);
    return check_summary();
}
