/* tcpwave — stack tunables.
 *
 * One struct holds every tunable of a stack instance. Names follow Linux's
 * sysctls (net.ipv4.tcp_*) so that knowledge carries over; the defaults in
 * tcpw_config_linux_defaults are Linux's (kernel 6.x, as read from
 * /proc/sys/net/ipv4 on a 24 GiB machine), except where docs/tunables.md
 * names a deliberate difference.
 *
 * Every tunable is declared once, in the table of src/stack/config.c, which
 * drives tcpw_config_set()/tcpw_config_get(), `tcpwave config` and
 * docs/tunables.md.
 */
#ifndef TCPWAVE_CONFIG_H
#define TCPWAVE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* All durations are in milliseconds unless the field name says otherwise;
 * sysctls that Linux expresses in seconds are still stored in ms here and
 * converted by the table (so `tcp_fin_timeout=60` means 60 s). */
struct tcpw_config {
    /* --- TIME_WAIT and teardown --- */
    uint32_t tcp_msl_ms;          /* MSL; TIME_WAIT lasts 2*MSL (RFC 9293 §3.4.2). Linux: fixed 60 s TIME_WAIT. */
    uint32_t tcp_fin_timeout_ms;  /* FIN_WAIT_2 lifetime of an orphaned socket. */
    uint32_t tcp_tw_reuse;        /* 0 off, 1 on, 2 loopback only (Linux default 2). */
    uint32_t tcp_tw_recycle;      /* 0 off, 1 on (removed from Linux 4.12). */
    uint32_t tcp_timestamps;      /* RFC 7323 timestamps: 0 off, 1 on with a secret offset per address pair (RFC 7323 §5.4), 2 on without an offset. */
    uint32_t tcp_max_tw_buckets;  /* Maximum TIME_WAIT records held. */
    uint32_t tcp_rfc1337;         /* 1: ignore RST in TIME_WAIT (RFC 1337). tcpwave default 1, Linux 0. */
    uint32_t tcp_tw_skip_for_test; /* TEST ONLY, 1: close without TIME_WAIT, to show why it exists. */
    uint32_t tcp_max_orphans;     /* Maximum orphaned connections. */
    uint32_t tcp_orphan_retries;  /* FIN retransmissions for orphans (0 means 8, as Linux). */
    /* --- retransmission --- */
    uint32_t tcp_retries1;        /* Retransmissions before reporting to the IP layer. */
    uint32_t tcp_retries2;        /* Retransmissions before giving up (ETIMEDOUT). */
    uint32_t tcp_syn_retries;     /* SYN retransmissions of an active open. */
    uint32_t tcp_synack_retries;  /* SYN-ACK retransmissions of a passive open. */
    uint32_t tcp_rto_min_ms;      /* Lower bound of RTO (Linux TCP_RTO_MIN 200 ms). */
    uint32_t tcp_rto_max_ms;      /* Upper bound of RTO (Linux TCP_RTO_MAX 120 s). */
    uint32_t tcp_rto_initial_ms;  /* RTO before any RTT sample (RFC 6298 §2.1: 1 s). */
    uint32_t tcp_delack_ms;       /* Delayed-ACK timeout (Linux TCP_DELACK_MIN 40 ms). */
    /* --- keepalive --- */
    uint32_t tcp_keepalive_time_ms;
    uint32_t tcp_keepalive_intvl_ms;
    uint32_t tcp_keepalive_probes;
    /* --- options and buffers --- */
    uint32_t tcp_window_scaling;  /* RFC 7323 window scale: 0 off, 1 on. */
    uint32_t tcp_sack;            /* RFC 2018 SACK-permitted: 0 off, 1 on. */
    uint32_t tcp_rmem_default;    /* Default receive buffer, bytes. */
    uint32_t tcp_wmem_default;    /* Default send buffer, bytes. */
    uint32_t tcp_max_syn_backlog; /* Half-open connections per listener. */
    uint32_t somaxconn;           /* Upper bound of listen() backlog. */
    uint32_t tcp_challenge_ack_limit; /* Challenge ACKs per second (RFC 5961 §7). */
    uint32_t mtu;                 /* Link MTU; MSS = mtu - 40. */
    uint32_t ip_default_ttl;
    /* --- ports --- */
    uint32_t ip_local_port_range_min; /* ip_local_port_range, first value */
    uint32_t ip_local_port_range_max; /* ip_local_port_range, second value */
    /* --- TIME_WAIT, added after the first release (new fields go at the end) --- */
    uint32_t tcp_tw_overflow_policy; /* At tcp_max_tw_buckets: 0 refuse TIME_WAIT (Linux), 1 evict the oldest record. */
    uint32_t tcp_quiet_time; /* RFC 9293 §3.4.3: 1 = for MSL after creation, unless a TIME_WAIT table was loaded (tcpw_tw_load), connect() fails with EAGAIN and SYNs to listeners are dropped (ListenDrops); 0 off (Linux, default). */
    uint32_t tcp_tw_dest_quota; /* Most TIME_WAIT records per (local address, remote address, remote port); beyond it the closing connection goes without TIME_WAIT (TcpExtTWQuotaRefused); 0 no quota (Linux, default). */
};

/* Linux's defaults. Immutable; copy it to change values. */
extern const struct tcpw_config tcpw_config_linux_defaults;

enum tcpw_param_type {
    TCPW_PARAM_COUNT,   /* a plain integer */
    TCPW_PARAM_BOOL,    /* 0 or 1 */
    TCPW_PARAM_SECONDS, /* set and shown in seconds, stored in ms */
    TCPW_PARAM_MILLIS,  /* set and shown in ms */
    TCPW_PARAM_BYTES,
    TCPW_PARAM_RANGE,   /* two integers "lo hi" (ip_local_port_range) */
};

/* One row of the tunable table. */
struct tcpw_param {
    const char *name;   /* Linux sysctl name, e.g. "tcp_fin_timeout" */
    enum tcpw_param_type type;
    uint32_t min, max;  /* accepted range, in the unit the user writes */
    const char *help;   /* one line; docs/tunables.md is generated from it */
    const char *linux_note; /* NULL, or how tcpwave differs from Linux */
};

/* Number of rows in the tunable table; rows are indexed 0..count-1.
 * Never allocates. */
size_t tcpw_config_param_count(void);

/* Row `i` of the table, or NULL when i is out of range. The returned row is
 * static and must not be freed. Never allocates. */
const struct tcpw_param *tcpw_config_param(size_t i);

/* Parses `value` (as a user writes it: "60", "1", "32768 60999" or
 * "32768-60999") and stores it into cfg->`name`. Only unsigned decimal
 * digits are numbers (no sign, space, "0x" or trailing text). `name` may
 * carry Linux's "net.ipv4." or "net.core." prefix.
 * Returns 0, -ENOENT for an unknown name, -EINVAL for a value that is not a
 * number of the right shape (or a range whose first value exceeds its
 * second, as Linux), -ERANGE for a value outside the row's range (including
 * one too large for 32 bits). On error cfg is unchanged. Never allocates. */
int tcpw_config_set(struct tcpw_config *cfg, const char *name, const char *value);

/* Parses "name=value" (the form of `--set`) and calls tcpw_config_set(). */
int tcpw_config_set_assignment(struct tcpw_config *cfg, const char *assignment);

/* Writes the value of `name` in the user's unit into buf (NUL-terminated,
 * truncated to cap): a range as "lo\thi" like /proc shows it; a seconds
 * value that is not whole seconds (set through the struct) as "0.500".
 * Returns 0 or -ENOENT. Never allocates. */
int tcpw_config_get(const struct tcpw_config *cfg, const char *name, char *buf, size_t cap);

/* Checks every value against its row's range (seconds fields, being stored
 * in ms, may be any nonzero ms value up to the row's maximum) and the
 * relations between values (port range min <= max, rto_min <= rto_initial
 * <= rto_max, 68 <= mtu <= 65535). Returns 0 or -EINVAL. */
int tcpw_config_validate(const struct tcpw_config *cfg);

#ifdef __cplusplus
}
#endif
#endif
