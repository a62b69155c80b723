/* Test support: assertions that print both sides, a runner, and leak-free
 * helpers. Every test binary is `int main(void) { RUN(test_a); RUN(test_b);
 * return check_summary(); }`. A failing CHECK records the failure, prints the
 * file, line, expression and both values, and returns from the test
 * function (so one broken test does not cascade into crashes).
 */
#ifndef TCPW_TEST_CHECK_H
#define TCPW_TEST_CHECK_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

extern int check_failures;      /* failures in the current test */
extern int check_tests_run;
extern int check_tests_failed;
extern uint64_t check_assertions;

void check_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void check_run(const char *name, void (*fn)(void));
/* Prints "N passed, M failed" and returns the process exit status. */
int check_summary(void);
/* Prints a hex dump of a buffer to stderr (for mismatches). */
void check_hexdump(const char *label, const void *buf, size_t len);

#define RUN(fn) check_run(#fn, fn)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        check_assertions++;                                                                        \
        if (!(cond)) {                                                                             \
            check_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                    \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        check_assertions++;                                                                        \
        if (!(cond)) {                                                                             \
            check_fail(__FILE__, __LINE__, __VA_ARGS__);                                           \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        check_assertions++;                                                                        \
        uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                               \
        if (check_a_ != check_b_) {                                                                \
            check_fail(__FILE__, __LINE__, "%s == %s: %" PRIu64 " (0x%" PRIx64 ") != %" PRIu64   \
                       " (0x%" PRIx64 ")", #a, #b, check_a_, check_a_, check_b_, check_b_);        \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_I(a, b)                                                                           \
    do {                                                                                           \
        check_assertions++;                                                                        \
        int64_t check_a_ = (int64_t)(a), check_b_ = (int64_t)(b);                                  \
        if (check_a_ != check_b_) {                                                                \
            check_fail(__FILE__, __LINE__, "%s == %s: %" PRId64 " != %" PRId64, #a, #b, check_a_, \
                       check_b_);                                                                  \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        check_assertions++;                                                                        \
        const char *check_a_ = (a), *check_b_ = (b);                                               \
        if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) {                           \
            check_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,                   \
                       check_a_ ? check_a_ : "(null)", check_b_ ? check_b_ : "(null)");            \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* Deterministic generator for tests (splitmix64). */
static inline uint64_t check_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#endif
