/* stack/ — the tunable table: Linux's defaults, parsing, printing, checking.
 *
 * Every tunable is declared once, as a row of `params` below: its name (the
 * Linux sysctl name where Linux has one), unit, accepted range, help line,
 * how it differs from Linux, and where it lives in struct tcpw_config. The
 * set/get/validate functions and the listings are all driven by that row, so
 * adding a tunable is adding a field and a row.
 */
#include "tcpwave/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Linux 6.x defaults as read from /proc/sys/net/ipv4 (and net.core) on a
 * 24 GiB machine; the constants Linux does not expose as sysctls are its
 * compiled-in values. tcp_rfc1337 is tcpwave's one deliberate difference. */
const struct tcpw_config tcpw_config_linux_defaults = {
    .tcp_msl_ms = 30000, /* Linux: TCP_TIMEWAIT_LEN 60 s = 2 x 30 s */
    .tcp_fin_timeout_ms = 60000,
    .tcp_tw_reuse = 2,
    .tcp_tw_recycle = 0,
    .tcp_timestamps = 1,
    .tcp_max_tw_buckets = 131072,
    .tcp_rfc1337 = 1, /* Linux 0 */
    .tcp_max_orphans = 131072,
    .tcp_orphan_retries = 0,
    .tcp_retries1 = 3,
    .tcp_retries2 = 15,
    .tcp_syn_retries = 6,
    .tcp_synack_retries = 5,
    .tcp_rto_min_ms = 200, /* tcp_rto_min_us 200000 */
    .tcp_rto_max_ms = 120000,
    .tcp_rto_initial_ms = 1000, /* TCP_TIMEOUT_INIT */
    .tcp_delack_ms = 40,        /* TCP_DELACK_MIN */
    .tcp_keepalive_time_ms = 7200000,
    .tcp_keepalive_intvl_ms = 75000,
    .tcp_keepalive_probes = 9,
    .tcp_window_scaling = 1,
    .tcp_sack = 1,
    .tcp_rmem_default = 131072, /* tcp_rmem 4096 131072 33554432 */
    .tcp_wmem_default = 16384,  /* tcp_wmem 4096 16384 4194304 */
    .tcp_max_syn_backlog = 2048,
    .somaxconn = 4096,
    .tcp_challenge_ack_limit = 2147483647,
    .mtu = 1500,
    .ip_default_ttl = 64,
    .ip_local_port_range_min = 32768,
    .ip_local_port_range_max = 60999,
    .tcp_tw_overflow_policy = 0, /* Linux has no choice: it refuses */
    .tcp_quiet_time = 0,         /* Linux (and every other stack) has none */
    .tcp_tw_dest_quota = 0,      /* Linux has none */
};

/* A row: the public description plus where the value is stored. `field2` is
 * used only by TCPW_PARAM_RANGE rows (the second number). */
struct param_row {
    struct tcpw_param p; /* first member: tcpw_config_param() returns &row->p */
    size_t field;
    size_t field2;
};

#define ROW(fld, name, type, min, max, help, note)                                                 \
    {                                                                                              \
        {name, type, min, max, help, note}, offsetof(struct tcpw_config, fld), 0                   \
    }

#define MS_PER_S 1000u
/* Largest number of seconds whose milliseconds fit in a uint32_t field. */
#define MAX_SECONDS (UINT32_MAX / MS_PER_S)

static const struct param_row params[] = {
    /* --- TIME_WAIT and teardown --- */
    ROW(tcp_msl_ms, "tcp_msl", TCPW_PARAM_SECONDS, 1, 3600,
        "maximum segment lifetime; TIME_WAIT lasts 2*MSL (RFC 9293 3.4.2)",
        "Linux has no such tunable: TIME_WAIT is fixed at 60 s (TCP_TIMEWAIT_LEN), i.e. 2 x 30 s"),
    ROW(tcp_fin_timeout_ms, "tcp_fin_timeout", TCPW_PARAM_SECONDS, 1, 86400,
        "how long an orphaned connection may stay in FIN_WAIT_2", NULL),
    ROW(tcp_tw_reuse, "tcp_tw_reuse", TCPW_PARAM_COUNT, 0, 2,
        "reuse a TIME_WAIT port for a new outgoing connection: 0 off, 1 on, 2 loopback only", NULL),
    ROW(tcp_tw_recycle, "tcp_tw_recycle", TCPW_PARAM_BOOL, 0, 1,
        "fast TIME_WAIT recycling with a per-peer timestamp cache (breaks clients behind NAT)",
        "removed from Linux in 4.12 because it dropped SYNs from hosts behind NAT; kept here, off, "
        "so the failure can be reproduced"),
    ROW(tcp_timestamps, "tcp_timestamps", TCPW_PARAM_COUNT, 0, 2,
        "RFC 7323 timestamps: 0 off, 1 on with a secret offset per address pair, 2 on without "
        "an offset",
        "Linux documents 1 as a random offset 'for each connection'; its secure_tcp_ts_off() keys "
        "it by the address pair, as tcpwave does"),
    ROW(tcp_max_tw_buckets, "tcp_max_tw_buckets", TCPW_PARAM_COUNT, 0, 2147483647,
        "most TIME_WAIT records held; beyond it tcp_tw_overflow_policy decides", NULL),
    ROW(tcp_tw_overflow_policy, "tcp_tw_overflow_policy", TCPW_PARAM_COUNT, 0, 1,
        "at tcp_max_tw_buckets: 0 the closing connection goes without TIME_WAIT "
        "(TcpExtTCPTimeWaitOverflow), 1 the oldest record is evicted for it (TcpExtTWEvicted)",
        "Linux has no such tunable and always does 0; 1 is what FreeBSD (before 14) and lwIP do"),
    ROW(tcp_tw_dest_quota, "tcp_tw_dest_quota", TCPW_PARAM_COUNT, 0, 2147483647,
        "most TIME_WAIT records per (local address, remote address, remote port); beyond it the "
        "closing connection goes without TIME_WAIT (TcpExtTWQuotaRefused); 0 means no quota",
        "Linux has no per-destination limit, only tcp_max_tw_buckets"),
    ROW(tcp_quiet_time, "tcp_quiet_time", TCPW_PARAM_BOOL, 0, 1,
        "RFC 9293 3.4.3 quiet time: for MSL after start, unless a saved TIME_WAIT table was "
        "loaded, connect() fails with EAGAIN and SYNs to listeners are dropped (ListenDrops)",
        "Linux has no quiet time (neither has any common stack): it relies on ISN clocks and "
        "timestamps; tcpwave keeps it off by default"),
    ROW(tcp_rfc1337, "tcp_rfc1337", TCPW_PARAM_BOOL, 0, 1,
        "ignore RST in TIME_WAIT (RFC 1337 TIME-WAIT assassination protection)",
        "Linux defaults to 0; tcpwave defaults to 1 because RFC 1337 protection is the safe "
        "behaviour and TIME_WAIT is what tcpwave is about"),
    ROW(tcp_tw_skip_for_test, "tcp_tw_skip_for_test", TCPW_PARAM_BOOL, 0, 1,
        "TEST ONLY: a connection that would enter TIME_WAIT closes at once (shows why TIME_WAIT "
        "exists; never use it on a real network)",
        "Linux has no such switch; tcp_max_tw_buckets=0 comes closest"),
    ROW(tcp_max_orphans, "tcp_max_orphans", TCPW_PARAM_COUNT, 0, 2147483647,
        "most connections closed by the application but not yet finished", NULL),
    ROW(tcp_orphan_retries, "tcp_orphan_retries", TCPW_PARAM_COUNT, 0, 255,
        "retransmissions before an orphaned connection is dropped (0 means 8)", NULL),
    /* --- retransmission --- */
    ROW(tcp_retries1, "tcp_retries1", TCPW_PARAM_COUNT, 0, 255,
        "retransmissions before the path is suspected (RFC 1122 R1)", NULL),
    ROW(tcp_retries2, "tcp_retries2", TCPW_PARAM_COUNT, 0, 255,
        "retransmissions before the connection gives up with ETIMEDOUT (RFC 1122 R2)", NULL),
    ROW(tcp_syn_retries, "tcp_syn_retries", TCPW_PARAM_COUNT, 1, 127,
        "SYN retransmissions of an active open", NULL),
    ROW(tcp_synack_retries, "tcp_synack_retries", TCPW_PARAM_COUNT, 0, 255,
        "SYN-ACK retransmissions of a passive open", NULL),
    ROW(tcp_rto_min_ms, "tcp_rto_min_ms", TCPW_PARAM_MILLIS, 1, 120000,
        "lower bound of the retransmission timeout",
        "Linux 6.11+ sets it as tcp_rto_min_us, in microseconds (default 200000)"),
    ROW(tcp_rto_max_ms, "tcp_rto_max_ms", TCPW_PARAM_MILLIS, 1, 120000,
        "upper bound of the retransmission timeout",
        "Linux 6.15+ accepts 1000..120000 ms; tcpwave also allows shorter caps for experiments"),
    ROW(tcp_rto_initial_ms, "tcp_rto_initial_ms", TCPW_PARAM_MILLIS, 1, 120000,
        "retransmission timeout before any RTT sample (RFC 6298 2.1)",
        "Linux compiles it in (TCP_TIMEOUT_INIT, 1 s)"),
    ROW(tcp_delack_ms, "tcp_delack_ms", TCPW_PARAM_MILLIS, 1, 500,
        "delayed-ACK timeout (RFC 1122 4.2.3.2: under 500 ms)",
        "Linux compiles in TCP_DELACK_MIN (40 ms) and adapts it per connection"),
    /* --- keepalive --- */
    ROW(tcp_keepalive_time_ms, "tcp_keepalive_time", TCPW_PARAM_SECONDS, 1, 32767,
        "idle time before the first keepalive probe", NULL),
    ROW(tcp_keepalive_intvl_ms, "tcp_keepalive_intvl", TCPW_PARAM_SECONDS, 1, 32767,
        "time between keepalive probes", NULL),
    ROW(tcp_keepalive_probes, "tcp_keepalive_probes", TCPW_PARAM_COUNT, 1, 127,
        "unanswered keepalive probes before the connection is dropped", NULL),
    /* --- options and buffers --- */
    ROW(tcp_window_scaling, "tcp_window_scaling", TCPW_PARAM_BOOL, 0, 1,
        "offer and accept the RFC 7323 window scale option", NULL),
    ROW(tcp_sack, "tcp_sack", TCPW_PARAM_BOOL, 0, 1, "offer and accept RFC 2018 SACK", NULL),
    ROW(tcp_rmem_default, "tcp_rmem_default", TCPW_PARAM_BYTES, 1024, 1073741824,
        "receive buffer of a new connection",
        "Linux's tcp_rmem is a triple (4096 131072 33554432) with autotuning; tcpwave has the "
        "default only"),
    ROW(tcp_wmem_default, "tcp_wmem_default", TCPW_PARAM_BYTES, 1024, 1073741824,
        "send buffer of a new connection",
        "Linux's tcp_wmem is a triple (4096 16384 4194304) with autotuning; tcpwave has the "
        "default only"),
    ROW(tcp_max_syn_backlog, "tcp_max_syn_backlog", TCPW_PARAM_COUNT, 1, 2147483647,
        "half-open connections a listener holds", NULL),
    ROW(somaxconn, "somaxconn", TCPW_PARAM_COUNT, 1, 2147483647,
        "upper bound of the listen() backlog", "net.core.somaxconn in Linux"),
    ROW(tcp_challenge_ack_limit, "tcp_challenge_ack_limit", TCPW_PARAM_COUNT, 0, 2147483647,
        "challenge ACKs sent per second (RFC 5961 7)", NULL),
    ROW(mtu, "mtu", TCPW_PARAM_BYTES, 68, 65535, "link MTU; the MSS offered is mtu - 40",
        "a per-interface setting in Linux (ip link set mtu), not a sysctl"),
    ROW(ip_default_ttl, "ip_default_ttl", TCPW_PARAM_COUNT, 1, 255, "TTL of outgoing IPv4 packets",
        NULL),
    /* --- ports --- */
    {{"ip_local_port_range", TCPW_PARAM_RANGE, 1, 65535,
      "ephemeral ports for outgoing connections: \"lo hi\" or \"lo-hi\"", NULL},
     offsetof(struct tcpw_config, ip_local_port_range_min),
     offsetof(struct tcpw_config, ip_local_port_range_max)},
};

#define PARAM_COUNT (sizeof(params) / sizeof(params[0]))

static uint32_t load(const struct tcpw_config *cfg, size_t off)
{
    uint32_t v;
    memcpy(&v, (const char *)cfg + off, sizeof(v));
    return v;
}

static void store(struct tcpw_config *cfg, size_t off, uint32_t v)
{
    memcpy((char *)cfg + off, &v, sizeof(v));
}

size_t tcpw_config_param_count(void)
{
    return PARAM_COUNT;
}

const struct tcpw_param *tcpw_config_param(size_t i)
{
    return i < PARAM_COUNT ? &params[i].p : NULL;
}

/* Linux spells sysctls with a dotted prefix; accept it so that a line copied
 * from sysctl(8) output works. */
static const char *strip_sysctl_prefix(const char *name, size_t *len)
{
    static const char *const prefixes[] = {"net.ipv4.", "net.core."};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i]);
        if (*len > n && strncmp(name, prefixes[i], n) == 0) {
            *len -= n;
            return name + n;
        }
    }
    return name;
}

static const struct param_row *find_row(const char *name, size_t len)
{
    name = strip_sysctl_prefix(name, &len);
    for (size_t i = 0; i < PARAM_COUNT; i++) {
        const char *n = params[i].p.name;
        if (strlen(n) == len && memcmp(n, name, len) == 0)
            return &params[i];
    }
    return NULL;
}

/* Parses one unsigned decimal number at *p, digits only (no sign, space or
 * base prefix: strtoul would accept all three and wrap "-1" to ULONG_MAX).
 * Advances *p past the digits. Returns -EINVAL when there is no digit, and
 * sets *overflow when the value does not fit 32 bits (the caller reports that
 * as -ERANGE once the whole text is known to be well formed). */
static int parse_number(const char **p, uint32_t *out, bool *overflow)
{
    const char *s = *p;
    uint64_t v = 0;

    if (*s < '0' || *s > '9')
        return -EINVAL;
    while (*s >= '0' && *s <= '9') {
        if (v <= UINT32_MAX)
            v = v * 10u + (uint64_t)(*s - '0');
        s++;
    }
    if (v > UINT32_MAX)
        *overflow = true;
    *out = (uint32_t)v;
    *p = s;
    return 0;
}

int tcpw_config_set(struct tcpw_config *cfg, const char *name, const char *value)
{
    const struct param_row *row;
    const char *p = value;
    uint32_t lo = 0, hi = 0;
    bool overflow = false;
    int err;

    if (!cfg || !name || !value)
        return -EINVAL;
    row = find_row(name, strlen(name));
    if (!row)
        return -ENOENT;

    err = parse_number(&p, &lo, &overflow);
    if (err)
        return err;
    if (row->p.type == TCPW_PARAM_RANGE) {
        /* "lo hi" as Linux prints it (a tab or spaces), or "lo-hi". */
        if (*p == '-') {
            p++;
        } else if (*p == ' ' || *p == '\t') {
            while (*p == ' ' || *p == '\t')
                p++;
        } else {
            return -EINVAL;
        }
        err = parse_number(&p, &hi, &overflow);
        if (err)
            return err;
    }
    if (*p != '\0')
        return -EINVAL;
    if (overflow || lo < row->p.min || lo > row->p.max)
        return -ERANGE;

    if (row->p.type == TCPW_PARAM_RANGE) {
        if (hi < row->p.min || hi > row->p.max)
            return -ERANGE;
        /* Each end is in range but the pair is not a range (Linux: EINVAL). */
        if (lo > hi)
            return -EINVAL;
        store(cfg, row->field, lo);
        store(cfg, row->field2, hi);
    } else if (row->p.type == TCPW_PARAM_SECONDS) {
        /* The table keeps max <= MAX_SECONDS, so this cannot wrap. */
        store(cfg, row->field, lo * MS_PER_S);
    } else {
        store(cfg, row->field, lo);
    }
    return 0;
}

int tcpw_config_set_assignment(struct tcpw_config *cfg, const char *assignment)
{
    const char *eq;
    const struct param_row *row;

    if (!cfg || !assignment)
        return -EINVAL;
    eq = strchr(assignment, '=');
    if (!eq)
        return -EINVAL;
    row = find_row(assignment, (size_t)(eq - assignment));
    if (!row)
        return -ENOENT;
    return tcpw_config_set(cfg, row->p.name, eq + 1);
}

int tcpw_config_get(const struct tcpw_config *cfg, const char *name, char *buf, size_t cap)
{
    const struct param_row *row;
    uint32_t v;

    if (!cfg || !name)
        return -EINVAL;
    row = find_row(name, strlen(name));
    if (!row)
        return -ENOENT;
    if (!buf || cap == 0)
        return 0;
    v = load(cfg, row->field);
    if (row->p.type == TCPW_PARAM_RANGE) {
        /* Tab-separated, as /proc/sys/net/ipv4/ip_local_port_range shows it. */
        snprintf(buf, cap, "%" PRIu32 "\t%" PRIu32, v, load(cfg, row->field2));
    } else if (row->p.type == TCPW_PARAM_SECONDS && v % MS_PER_S != 0) {
        /* Set through the struct with ms precision: show it all rather than
         * round, so a listing never hides the real value. */
        snprintf(buf, cap, "%" PRIu32 ".%03" PRIu32, v / MS_PER_S, v % MS_PER_S);
    } else if (row->p.type == TCPW_PARAM_SECONDS) {
        snprintf(buf, cap, "%" PRIu32, v / MS_PER_S);
    } else {
        snprintf(buf, cap, "%" PRIu32, v);
    }
    return 0;
}

/* Whether a stored value lies in the row's range. Seconds rows are checked
 * in ms, and accept any nonzero ms value below their minimum second, so that
 * a program may set e.g. a 500 ms MSL through the struct. */
static bool row_in_range(const struct param_row *row, const struct tcpw_config *cfg)
{
    uint32_t v = load(cfg, row->field);

    switch (row->p.type) {
    case TCPW_PARAM_SECONDS:
        return v >= (row->p.min ? 1u : 0u) && v <= row->p.max * MS_PER_S;
    case TCPW_PARAM_RANGE: {
        uint32_t hi = load(cfg, row->field2);
        return v >= row->p.min && v <= row->p.max && hi >= row->p.min && hi <= row->p.max;
    }
    case TCPW_PARAM_COUNT:
    case TCPW_PARAM_BOOL:
    case TCPW_PARAM_MILLIS:
    case TCPW_PARAM_BYTES:
        break;
    }
    return v >= row->p.min && v <= row->p.max;
}

int tcpw_config_validate(const struct tcpw_config *cfg)
{
    if (!cfg)
        return -EINVAL;
    for (size_t i = 0; i < PARAM_COUNT; i++)
        if (!row_in_range(&params[i], cfg))
            return -EINVAL;
    /* Relations between rows. */
    if (cfg->ip_local_port_range_min > cfg->ip_local_port_range_max)
        return -EINVAL;
    /* RFC 6298: the initial RTO is itself clamped by the bounds. */
    if (cfg->tcp_rto_min_ms > cfg->tcp_rto_initial_ms ||
        cfg->tcp_rto_initial_ms > cfg->tcp_rto_max_ms)
        return -EINVAL;
    /* RFC 791: every host must take a 68-byte datagram; below it there is
     * no room for a TCP header with options and one byte of payload. The
     * row range already says so; repeated here as the relation it is. */
    if (cfg->mtu < 68 || cfg->mtu > 65535)
        return -EINVAL;
    return 0;
}
