/* tcp/ — TIME_WAIT across a restart.
 *
 * RFC 9293 §3.4.3 ("Knowing When to Keep Quiet"): a host that loses its
 * memory of the sequence numbers it used must keep quiet for MSL after
 * starting, or old duplicates may be accepted by new incarnations. Saving
 * the TIME_WAIT records at shutdown and loading them at start keeps that
 * memory instead (tcp_quiet_time is then not needed). The ports a
 * destination costs (tcpw_port_usage) are counted in tcp/port_usage.c.
 *
 * The file format is in include/tcpwave/timewait.h. Everything in a file is
 * untrusted: the parser checks every byte, every number against its range,
 * the record count against the file's size before allocating, and a
 * checksum; a file that fails any check loads nothing. Only the functions
 * of tcp/timewait.h touch the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp/conn.h"
#include "tcp/tcp.h"
#include "tcpwave/timewait.h"

#define MAGIC     "tcpwave-tw 1\n"
#define US_PER_S  1000000u
#define US_PER_MS 1000u
/* The longest 2MSL any configuration allows (tcp_msl <= 3600 s): a saved
 * remaining time beyond it cannot come from tcpw_tw_save(). */
#define REMAINING_MAX (UINT64_C(2) * 3600u * US_PER_S)
/* Shortest record line ("tw 1.1.1.1 1 1.1.1.1 1 1 0 0 0 0 0 0 0\n"), to
 * bound the record count by the file's size before allocating; longest
 * line, to bound the file's size by tcp_max_tw_buckets. */
#define TW_LINE_MIN 40u
#define TW_LINE_MAX 160u
#define HEADER_MAX  256u
#define FILE_MAX    (UINT64_C(1) << 31)

#define FNV_BASIS UINT64_C(0xcbf29ce484222325)

static void hash_more(uint64_t *h, const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        *h ^= (unsigned char)p[i];
        *h *= UINT64_C(0x100000001b3);
    }
}

/* ---- saving ---- */

struct save_ctx {
    const struct tcpw_stack *s;
    FILE *f;
    uint64_t hash; /* FNV-1a state over everything written */
    uint64_t n;
    int err;
};

static int put(struct save_ctx *c, const char *line, int len)
{
    if (len < 0 || (size_t)len >= TW_LINE_MAX)
        return -EINVAL; /* cannot happen: every field is bounded */
    hash_more(&c->hash, line, (size_t)len);
    if (fwrite(line, 1, (size_t)len, c->f) != (size_t)len)
        return -EIO;
    return 0;
}

static int count_one(void *user, const struct tcpw_tw *tw)
{
    (void)tw;
    ++*(uint64_t *)user;
    return 0;
}

static int save_one(void *user, const struct tcpw_tw *tw)
{
    struct save_ctx *c = user;
    const struct tcpw_stack *s = c->s;
    char line[TW_LINE_MAX], la[16], ra[16];
    bool ts_ok = (tw->bits & TW_BITS_TS_OK) != 0;
    /* The record's own timestamp clock now, as its re-ACKs would send it. */
    uint32_t ts_val = (uint32_t)(s->now / US_PER_MS) + tw->ts_offset;
    int len = snprintf(line, sizeof(line),
                       "tw %s %u %s %u %" PRIu64 " %" PRIu32 " %" PRIu32 " %u %u %" PRIu32
                       " %" PRIu32 " %" PRIu32 "\n",
                       tcpw_addr_str(tw->tuple.laddr, la), (unsigned)tw->tuple.lport,
                       tcpw_addr_str(tw->tuple.raddr, ra), (unsigned)tw->tuple.rport,
                       tcpw__tw_remaining(s, tw), tw->snd_nxt, tw->rcv_nxt, (unsigned)tw->rcv_wnd,
                       ts_ok ? 1u : 0u, ts_ok ? tw->ts_recent : 0u, tcpw__tw_ts_recent_age_s(s, tw),
                       ts_ok ? ts_val : 0u);

    c->err = put(c, line, len);
    if (c->err)
        return 1;
    c->n++;
    return 0;
}

int tcpw_tw_save(const struct tcpw_stack *stack, const char *path, uint64_t realtime_us)
{
    struct save_ctx c = {stack, NULL, FNV_BASIS, 0, 0};
    char line[TW_LINE_MAX], addr[16];
    uint64_t total = 0;
    size_t plen;
    char *tmp = NULL;
    int err = 0;

    if (!stack || !stack->tcp || !path)
        return -EINVAL;
    plen = strlen(path);
    tmp = malloc(plen + 5u);
    if (!tmp)
        return -ENOMEM;
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5u);
    c.f = fopen(tmp, "wb");
    if (!c.f) {
        err = errno ? -errno : -EIO;
        free(tmp);
        return err;
    }
    tcpw__tw_walk(stack, count_one, &total);
    err = put(&c, MAGIC, (int)strlen(MAGIC));
    if (!err)
        err = put(&c, line,
                  snprintf(line, sizeof(line), "addr %s\n", tcpw_addr_str(stack->addr, addr)));
    if (!err)
        err = put(&c, line, snprintf(line, sizeof(line), "realtime_us %" PRIu64 "\n", realtime_us));
    if (!err)
        err = put(&c, line, snprintf(line, sizeof(line), "records %" PRIu64 "\n", total));
    if (!err && tcpw__tw_walk(stack, save_one, &c))
        err = c.err;
    if (!err && c.n != total)
        err = -EIO; /* cannot happen: the walk changes nothing */
    if (!err) {
        int len = snprintf(line, sizeof(line), "end %016" PRIx64 "\n", c.hash);
        if (fwrite(line, 1, (size_t)len, c.f) != (size_t)len)
            err = -EIO;
    }
    if (fclose(c.f) != 0 && !err)
        err = -EIO;
    if (!err && rename(tmp, path) != 0)
        err = errno ? -errno : -EIO;
    if (err)
        remove(tmp);
    free(tmp);
    if (err)
        return err;
    return c.n > INT_MAX ? INT_MAX : (int)c.n;
}

/* ---- loading: a strict parser over the whole file in memory ---- */

struct cur {
    const char *p, *end;
};

static bool lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* An unsigned decimal: "0" or 1..20 digits without a leading zero, at most
 * `max`, followed by `sep`. */
static bool num(struct cur *c, uint64_t max, char sep, uint64_t *v)
{
    uint64_t x = 0;
    size_t digits = 0;

    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        unsigned d = (unsigned)(*c->p - '0');
        if (digits == 1 && x == 0)
            return false; /* leading zero */
        if (x > (UINT64_MAX - d) / 10u)
            return false;
        x = x * 10u + d;
        digits++;
        c->p++;
    }
    if (digits == 0 || x > max || c->p == c->end || *c->p != sep)
        return false;
    c->p++;
    *v = x;
    return true;
}

static bool num32(struct cur *c, uint32_t max, char sep, uint32_t *v)
{
    uint64_t x;
    if (!num(c, max, sep, &x))
        return false;
    *v = (uint32_t)x;
    return true;
}

/* A dotted quad followed by `sep`. */
static bool addr(struct cur *c, char sep, uint32_t *a)
{
    char buf[16];
    size_t n = 0;

    while (c->p + n < c->end && c->p[n] != sep && n < sizeof(buf) - 1u)
        n++;
    if (c->p + n == c->end || c->p[n] != sep)
        return false;
    memcpy(buf, c->p, n);
    buf[n] = '\0';
    if (tcpw_addr_parse(buf, a) != 0)
        return false;
    c->p += n + 1u;
    return true;
}

struct rec {
    struct tcpw_tw_proto p;
    uint64_t remaining_us;
    uint32_t ts_val;
};

static bool parse_rec(struct cur *c, struct rec *r)
{
    uint32_t v[8];

    memset(r, 0, sizeof(*r));
    if (!lit(c, "tw ") || !addr(c, ' ', &r->p.tuple.laddr) || !num32(c, 65535u, ' ', &v[0]) ||
        !addr(c, ' ', &r->p.tuple.raddr) || !num32(c, 65535u, ' ', &v[1]) ||
        !num(c, REMAINING_MAX, ' ', &r->remaining_us) ||
        !num32(c, UINT32_MAX, ' ', &r->p.snd_nxt) || !num32(c, UINT32_MAX, ' ', &r->p.rcv_nxt) ||
        !num32(c, 65535u, ' ', &v[2]) || !num32(c, 1u, ' ', &v[3]) ||
        !num32(c, UINT32_MAX, ' ', &r->p.ts_recent) ||
        !num32(c, UINT32_MAX, ' ', &r->p.ts_recent_age_s) ||
        !num32(c, UINT32_MAX, '\n', &r->ts_val))
        return false;
    r->p.tuple.lport = (uint16_t)v[0];
    r->p.tuple.rport = (uint16_t)v[1];
    r->p.rcv_wnd = (uint16_t)v[2];
    r->p.ts_ok = v[3] != 0;
    /* What tcpw_tw_save() can write: real ports and peers, no timestamp
     * fields without timestamps. */
    if (!r->p.tuple.lport || !r->p.tuple.rport || r->p.tuple.raddr == 0 ||
        r->p.tuple.raddr == UINT32_MAX || r->p.tuple.laddr == 0 || r->p.tuple.laddr == UINT32_MAX)
        return false;
    if (!r->p.ts_ok && (r->p.ts_recent || r->p.ts_recent_age_s || r->ts_val))
        return false;
    return true;
}

static int cmp_tuple(const void *a, const void *b)
{
    const struct tcpw_tuple *x = &((const struct rec *)a)->p.tuple;
    const struct tcpw_tuple *y = &((const struct rec *)b)->p.tuple;
    uint64_t kx = ((uint64_t)x->laddr << 32) | x->raddr, ky = ((uint64_t)y->laddr << 32) | y->raddr;
    uint32_t px = ((uint32_t)x->lport << 16) | x->rport, py = ((uint32_t)y->lport << 16) | y->rport;
    if (kx != ky)
        return kx < ky ? -1 : 1;
    return px < py ? -1 : px > py;
}

static int cmp_remaining(const void *a, const void *b)
{
    uint64_t x = ((const struct rec *)a)->remaining_us, y = ((const struct rec *)b)->remaining_us;
    return x < y ? -1 : x > y;
}

/* Reads the whole file, at most `max` bytes (-EINVAL beyond). */
static int read_all(const char *path, size_t max, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *buf;
    int err = 0;

    *out = NULL;
    *len = 0;
    if (!f)
        return errno ? -errno : -EIO;
    buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return -ENOMEM;
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            char *nb;
            if (cap > max) {
                err = -EINVAL;
                break;
            }
            nb = realloc(buf, cap * 2u);
            if (!nb) {
                err = -ENOMEM;
                break;
            }
            buf = nb;
            cap *= 2u;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                err = -EIO;
            break;
        }
    }
    fclose(f);
    if (!err && n > max)
        err = -EINVAL;
    if (err) {
        free(buf);
        return err;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* Parses and checks the whole file. On success *recs (malloc'ed, may be
 * NULL when n is 0) holds n records in file order. */
static int parse_file(const char *buf, size_t len, uint32_t *file_addr, uint64_t *saved_rt,
                      struct rec **recs, uint64_t *n)
{
    struct cur c = {buf, buf + len};
    const char *body_end;
    uint64_t count, sum, hash;
    struct rec *r = NULL;

    *recs = NULL;
    *n = 0;
    if (!lit(&c, MAGIC) || !lit(&c, "addr ") || !addr(&c, '\n', file_addr) ||
        !lit(&c, "realtime_us ") || !num(&c, UINT64_MAX, '\n', saved_rt) || !lit(&c, "records ") ||
        !num(&c, UINT32_MAX, '\n', &count))
        return -EINVAL;
    /* Every record takes at least TW_LINE_MIN bytes: a count the file cannot
     * hold is refused before anything is allocated for it. */
    if (count > (uint64_t)(c.end - c.p) / TW_LINE_MIN)
        return -EINVAL;
    if (count) {
        r = calloc((size_t)count, sizeof(*r));
        if (!r)
            return -ENOMEM;
    }
    for (uint64_t i = 0; i < count; i++) {
        if (!parse_rec(&c, &r[i])) {
            free(r);
            return -EINVAL;
        }
    }
    body_end = c.p;
    if (!lit(&c, "end ") || c.end - c.p != 17 || c.p[16] != '\n') {
        free(r);
        return -EINVAL;
    }
    hash = FNV_BASIS;
    hash_more(&hash, buf, (size_t)(body_end - buf));
    sum = 0;
    for (int i = 0; i < 16; i++) {
        char ch = c.p[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a') + 10u;
        else {
            free(r);
            return -EINVAL;
        }
        sum = (sum << 4) | d;
    }
    if (sum != hash) {
        free(r);
        return -EINVAL;
    }
    /* A 4-tuple appears once in a table. */
    if (count > 1) {
        qsort(r, (size_t)count, sizeof(*r), cmp_tuple);
        for (uint64_t i = 1; i < count; i++) {
            if (cmp_tuple(&r[i - 1u], &r[i]) == 0) {
                free(r);
                return -EINVAL;
            }
        }
    }
    *recs = r;
    *n = count;
    return 0;
}

int tcpw_tw_load(struct tcpw_stack *stack, const char *path, uint64_t realtime_us)
{
    struct tcpw_tw_table *t;
    char *buf = NULL;
    size_t len = 0, max;
    struct rec *r = NULL;
    uint64_t n = 0, kept = 0, added = 0, elapsed;
    uint32_t file_addr = 0;
    uint64_t saved_rt = 0;
    int err;

    if (!stack || !stack->tcp || !path)
        return -EINVAL;
    t = &stack->tcp->tw;
    if (t->count)
        return -EBUSY;
    max = (size_t)(HEADER_MAX + (uint64_t)TW_LINE_MAX * stack->cfg.tcp_max_tw_buckets > FILE_MAX
                       ? FILE_MAX
                       : HEADER_MAX + (uint64_t)TW_LINE_MAX * stack->cfg.tcp_max_tw_buckets);
    err = read_all(path, max, &buf, &len);
    if (err)
        return err;
    err = parse_file(buf, len, &file_addr, &saved_rt, &r, &n);
    free(buf);
    if (err)
        return err;
    if (file_addr != stack->addr) {
        /* Another host's table protects nothing here. */
        free(r);
        return 0;
    }
    /* Time passed while down; a clock that went backwards counts as none
     * (records live longer rather than shorter). */
    elapsed = realtime_us > saved_rt ? realtime_us - saved_rt : 0;
    for (uint64_t i = 0; i < n; i++) {
        struct rec *x = &r[i];
        uint64_t age;
        if (x->p.tuple.laddr != stack->addr || x->remaining_us <= elapsed ||
            tcpw__conn_find(stack, &x->p.tuple))
            continue;
        x->remaining_us -= elapsed;
        if (x->remaining_us > t->lifetime_us)
            x->remaining_us = t->lifetime_us;
        x->p.remaining_us = x->remaining_us;
        /* The record's clock goes on from where it was by the time passed:
         * TSval = now_ms + ts_offset in this stack. */
        x->p.ts_offset = x->p.ts_ok ? x->ts_val + (uint32_t)(elapsed / US_PER_MS) -
                                          (uint32_t)(stack->now / US_PER_MS)
                                    : 0;
        age = (uint64_t)x->p.ts_recent_age_s + elapsed / US_PER_S;
        x->p.ts_recent_age_s = x->p.ts_ok ? (age > UINT32_MAX ? UINT32_MAX : (uint32_t)age) : 0;
        r[kept++] = *x;
    }
    if (kept > stack->cfg.tcp_max_tw_buckets) {
        free(r);
        return -ENOBUFS;
    }
    /* The log is in expiry order: soonest first. */
    if (kept > 1)
        qsort(r, (size_t)kept, sizeof(*r), cmp_remaining);
    for (; added < kept; added++) {
        err = tcpw__tw_add(stack, &r[added].p);
        if (err)
            break;
    }
    if (err) {
        /* All or nothing. */
        for (uint64_t i = 0; i < added; i++) {
            struct tcpw_tw *tw = tcpw__tw_find(stack, &r[i].p.tuple);
            if (tw)
                tcpw__tw_remove(stack, tw);
        }
        free(r);
        return err;
    }
    free(r);
    tcpw__tw_quiet_end(stack);
    return kept > INT_MAX ? INT_MAX : (int)kept;
}
