/* bench/timewait — what a TIME_WAIT record costs (RFC 9293 §3.4.2: every
 * active close holds its 4-tuple for 2MSL, so a busy client or server holds
 * rate x 60 s of them).
 *
 * For each table size it prints, as a Markdown table: the record's struct
 * size; the table's own accounting (tcpw_tw_memory_bytes() / count, which
 * includes the index and the chunk ring); the resident-set growth measured
 * from /proc/self/statm in a fresh child process; and the median over
 * several runs of ns per insert, per lookup (hit and miss) and per expiry
 * (one tcpw_stack_advance() past 2MSL, divided by the records it ends), and
 * the slowest single insert and early removal (the pauses of index growth
 * and log compaction).
 * Beside it, measured in the same run, the Linux kernel's TIME_WAIT object:
 * the tw_sock_TCP line of /proc/slabinfo (readable by root only).
 *
 *   bench_timewait [--records N[,N...]] [--runs R] [--smoke]
 *
 * --smoke runs 10k records once and checks the results (ctest
 * bench/timewait_smoke); bench/run-timewait.sh builds Release and runs the
 * full figures that BENCHMARKS.md records.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "stack/stack_impl.h"
#include "tcp/tcp.h"
#include "tcp/timewait.h"
#include "tcpwave/tcpwave.h"

#define SEC 1000000ull
#define MAX_SIZES 8
#define MAX_RUNS 32
/* A prime that divides neither 10^6 nor 10^7: i * STRIDE mod n visits every
 * record once, in an order the hardware prefetcher cannot follow. */
#define STRIDE 1000003u

struct figures {
    double insert_ns, lookup_ns, miss_ns, expire_ns;
    double worst_insert_us, worst_remove_us; /* the slowest single call */
};

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct tcpw_stack *make_stack(uint32_t n)
{
    struct tcpw_config cfg = tcpw_config_linux_defaults;
    struct tcpw_stack_params p;
    struct tcpw_stack *s = NULL;

    cfg.tcp_max_tw_buckets = n;
    memset(&p, 0, sizeof(p));
    p.addr = 0x0a000001u;
    p.config = &cfg;
    p.seed = 1;
    return tcpw_stack_create(&p, SEC, &s) == 0 ? s : NULL;
}

/* A distinct 4-tuple per id, as a client talking to many servers would
 * have: 32768 ports per remote address. */
static struct tcpw_tuple tuple_of(uint32_t id)
{
    struct tcpw_tuple t;
    t.laddr = 0x0a000001u;
    t.raddr = 0x0b000000u + (id >> 15);
    t.lport = (uint16_t)(1024u + (id & 0x7fffu));
    t.rport = 443;
    return t;
}

static int fill(struct tcpw_stack *s, uint32_t n)
{
    struct tcpw_tw_proto p;
    memset(&p, 0, sizeof(p));
    p.ts_ok = true;
    p.rcv_wnd = 502;
    for (uint32_t i = 0; i < n; i++) {
        p.tuple = tuple_of(i);
        p.snd_nxt = i * 7u;
        p.rcv_nxt = i * 13u;
        p.ts_recent = i;
        if (tcpw__tw_add(s, &p) != 0)
            return -1;
    }
    return 0;
}

static long rss_bytes(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* The pauses a caller sees: each insert of a fresh fill timed alone (the
 * index grows on the way), then two records of three removed early (as a
 * RST under tcp_rfc1337=0, a SYN taking a record over or tcp_tw_reuse
 * would), each removal timed alone (tombstones outnumbering live records
 * make the log compact). Returns 0 or -1. */
static int worst_case(uint32_t n, struct figures *f)
{
    struct tcpw_stack *s = make_stack(n);
    struct tcpw_tw_proto p;
    double worst = 0, t0, dt;

    if (!s)
        return -1;
    memset(&p, 0, sizeof(p));
    p.ts_ok = true;
    for (uint32_t i = 0; i < n; i++) {
        p.tuple = tuple_of(i);
        t0 = now_ns();
        if (tcpw__tw_add(s, &p) != 0) {
            tcpw_stack_destroy(s);
            return -1;
        }
        dt = now_ns() - t0;
        worst = dt > worst ? dt : worst;
    }
    f->worst_insert_us = worst / 1000.0;
    worst = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct tcpw_tuple t = tuple_of(i);
        if (i % 3 == 0)
            continue;
        struct tcpw_tw *tw = tcpw__tw_find(s, &t);
        if (!tw) {
            tcpw_stack_destroy(s);
            return -1;
        }
        t0 = now_ns();
        tcpw__tw_remove(s, tw);
        dt = now_ns() - t0;
        worst = dt > worst ? dt : worst;
    }
    f->worst_remove_us = worst / 1000.0;
    if (tcpw_tw_count(s) != (n + 2) / 3) {
        tcpw_stack_destroy(s);
        return -1;
    }
    tcpw_stack_destroy(s);
    return 0;
}

/* One timed run. Returns 0, or -1 when the table misbehaves. */
static int run_once(uint32_t n, struct figures *f)
{
    struct tcpw_stack *s = make_stack(n);
    uint64_t found = 0;
    double t0;

    if (!s)
        return -1;
    t0 = now_ns();
    if (fill(s, n) != 0)
        goto fail;
    f->insert_ns = (now_ns() - t0) / n;

    t0 = now_ns();
    for (uint32_t i = 0; i < n; i++) {
        struct tcpw_tuple t = tuple_of((uint32_t)(((uint64_t)i * STRIDE) % n));
        found += tcpw__tw_find(s, &t) != NULL;
    }
    f->lookup_ns = (now_ns() - t0) / n;
    if (found != n)
        goto fail;

    t0 = now_ns();
    for (uint32_t i = 0; i < n; i++) {
        struct tcpw_tuple t = tuple_of(n + i);
        found += tcpw__tw_find(s, &t) != NULL;
    }
    f->miss_ns = (now_ns() - t0) / n;
    if (found != n)
        goto fail;

    t0 = now_ns();
    tcpw_stack_advance(s, tcpw_stack_now(s) + 61 * SEC);
    f->expire_ns = (now_ns() - t0) / n;
    if (tcpw_tw_count(s) != 0 || tcpw_stack_counter(s, TCPW_CTR_TW) != n)
        goto fail;
    tcpw_stack_destroy(s);
    return worst_case(n, f);
fail:
    tcpw_stack_destroy(s);
    return -1;
}

struct memory {
    double table_per_record, rss_per_record;
};

/* Memory in a fresh child, so that no earlier run's freed heap hides the
 * growth of the resident set. */
static int measure_memory(uint32_t n, struct memory *m)
{
    int fd[2];
    pid_t pid;
    int status;

    if (pipe(fd) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        struct memory r = {0, 0};
        struct tcpw_stack *s = make_stack(n);
        long before = rss_bytes(), after;
        if (!s || fill(s, n) != 0)
            _exit(1);
        after = rss_bytes();
        r.table_per_record = (double)tcpw_tw_memory_bytes(s) / (double)tcpw_tw_count(s);
        r.rss_per_record = before < 0 || after < 0 ? -1 : (double)(after - before) / n;
        if (write(fd[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
            _exit(1);
        _exit(0);
    }
    close(fd[1]);
    if (read(fd[0], m, sizeof(*m)) != (ssize_t)sizeof(*m)) {
        close(fd[0]);
        waitpid(pid, &status, 0);
        return -1;
    }
    close(fd[0]);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The kernel's TIME_WAIT object: "tw_sock_TCP <active> <num> <objsize>
 * <objperslab> <pagesperslab> ..." in /proc/slabinfo. */
struct kernel_tw {
    int ok;
    long objsize, per_object; /* per_object: slab bytes / objects per slab */
    char why[64];
};

static void read_kernel(struct kernel_tw *k)
{
    char line[512];
    FILE *f = fopen("/proc/slabinfo", "r");

    memset(k, 0, sizeof(*k));
    if (!f) {
        snprintf(k->why, sizeof(k->why), "n/a (/proc/slabinfo: %s)", strerror(errno));
        return;
    }
    while (fgets(line, sizeof(line), f)) {
        long active, num, objsize, objperslab, pagesperslab;
        if (strncmp(line, "tw_sock_TCP ", 12) != 0)
            continue;
        if (sscanf(line + 12, "%ld %ld %ld %ld %ld", &active, &num, &objsize, &objperslab,
                   &pagesperslab) == 5 &&
            objperslab > 0) {
            k->ok = 1;
            k->objsize = objsize;
            k->per_object = pagesperslab * sysconf(_SC_PAGESIZE) / objperslab;
        }
    }
    fclose(f);
    if (!k->ok)
        snprintf(k->why, sizeof(k->why), "n/a (no tw_sock_TCP line)");
}

static int parse_sizes(const char *arg, uint32_t *sizes, int *n)
{
    char *end;
    *n = 0;
    while (*arg) {
        unsigned long v = strtoul(arg, &end, 10);
        if (end == arg || v == 0 || v > 100000000ul || *n == MAX_SIZES)
            return -1;
        sizes[(*n)++] = (uint32_t)v;
        arg = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return *n ? 0 : -1;
}

static void fmt_count(uint32_t n, char *buf, size_t cap)
{
    if (n % 1000000u == 0)
        snprintf(buf, cap, "%" PRIu32 "M", n / 1000000u);
    else if (n % 1000u == 0)
        snprintf(buf, cap, "%" PRIu32 "k", n / 1000u);
    else
        snprintf(buf, cap, "%" PRIu32, n);
}

int main(int argc, char **argv)
{
    uint32_t sizes[MAX_SIZES] = {1000000u, 10000000u};
    int nsizes = 2, runs = 5, smoke = 0;
    struct figures fig[MAX_SIZES];
    struct memory mem[MAX_SIZES];
    struct kernel_tw k;
    char name[16];

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--smoke") == 0) {
            smoke = 1;
            sizes[0] = 10000;
            nsizes = 1;
            runs = 1;
        } else if (strcmp(argv[i], "--records") == 0 && i + 1 < argc) {
            if (parse_sizes(argv[++i], sizes, &nsizes) != 0) {
                fprintf(stderr, "bench_timewait: bad --records list\n");
                return 2;
            }
        } else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
            runs = atoi(argv[++i]);
            if (runs < 1 || runs > MAX_RUNS) {
                fprintf(stderr, "bench_timewait: --runs 1..%d\n", MAX_RUNS);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: bench_timewait [--records N[,N...]] [--runs R] [--smoke]\n");
            return 2;
        }
    }

    for (int i = 0; i < nsizes; i++) {
        double ins[MAX_RUNS], look[MAX_RUNS], miss[MAX_RUNS], ends[MAX_RUNS];
        double wins[MAX_RUNS], wrem[MAX_RUNS];
        if (measure_memory(sizes[i], &mem[i]) != 0) {
            fprintf(stderr, "bench_timewait: memory run of %" PRIu32 " failed\n", sizes[i]);
            return 1;
        }
        for (int r = 0; r < runs; r++) {
            struct figures f;
            if (run_once(sizes[i], &f) != 0) {
                fprintf(stderr, "bench_timewait: run of %" PRIu32 " records failed\n", sizes[i]);
                return 1;
            }
            ins[r] = f.insert_ns;
            look[r] = f.lookup_ns;
            miss[r] = f.miss_ns;
            ends[r] = f.expire_ns;
            wins[r] = f.worst_insert_us;
            wrem[r] = f.worst_remove_us;
        }
        fig[i].insert_ns = median(ins, runs);
        fig[i].lookup_ns = median(look, runs);
        fig[i].miss_ns = median(miss, runs);
        fig[i].expire_ns = median(ends, runs);
        fig[i].worst_insert_us = median(wins, runs);
        fig[i].worst_remove_us = median(wrem, runs);
    }
    read_kernel(&k);

    printf("| TIME_WAIT record |");
    for (int i = 0; i < nsizes; i++) {
        fmt_count(sizes[i], name, sizeof(name));
        printf(" tcpwave, %s records |", name);
    }
    printf(" Linux kernel (tw_sock_TCP) |\n|---|");
    for (int i = 0; i <= nsizes; i++)
        printf("---:|");
    printf("\n| struct size, bytes |");
    for (int i = 0; i < nsizes; i++)
        printf(" %zu |", sizeof(struct tcpw_tw));
    if (k.ok)
        printf(" %ld (objsize) |\n", k.objsize);
    else
        printf(" %s |\n", k.why);
    printf("| table bytes / record (incl. index) |");
    for (int i = 0; i < nsizes; i++)
        printf(" %.2f |", mem[i].table_per_record);
    if (k.ok)
        printf(" %ld (slab bytes / object; + ehash bucket, sized at boot) |\n", k.per_object);
    else
        printf(" %s |\n", k.why);
    printf("| RSS growth / record, bytes |");
    for (int i = 0; i < nsizes; i++)
        printf(" %.2f |", mem[i].rss_per_record);
    printf(" — |\n");
    printf("| insert, ns (median of %d) |", runs);
    for (int i = 0; i < nsizes; i++)
        printf(" %.1f |", fig[i].insert_ns);
    printf(" — |\n| lookup hit, ns |");
    for (int i = 0; i < nsizes; i++)
        printf(" %.1f |", fig[i].lookup_ns);
    printf(" — |\n| lookup miss, ns |");
    for (int i = 0; i < nsizes; i++)
        printf(" %.1f |", fig[i].miss_ns);
    printf(" — |\n| expire, ns / record |");
    for (int i = 0; i < nsizes; i++)
        printf(" %.1f |", fig[i].expire_ns);
    printf(" — |\n| slowest single insert, µs |");
    for (int i = 0; i < nsizes; i++)
        printf(" %.1f |", fig[i].worst_insert_us);
    printf(" — |\n| slowest single early removal, µs |");
    for (int i = 0; i < nsizes; i++)
        printf(" %.1f |", fig[i].worst_remove_us);
    printf(" — |\n");

    if (smoke) {
        /* Sanity, not speed: a 10k table is mostly its first chunks. */
        if (sizeof(struct tcpw_tw) != 40 || mem[0].table_per_record <= 40.0 ||
            mem[0].table_per_record > 100.0) {
            fprintf(stderr, "bench_timewait: smoke figures out of range\n");
            return 1;
        }
    }
    return 0;
}
