#include "check.h"

#include <stdarg.h>
#include <string.h>

int check_failures;
int check_tests_run;
int check_tests_failed;
uint64_t check_assertions;

void check_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    check_failures++;
}

void check_run(const char *name, void (*fn)(void))
{
    uint64_t before = check_assertions;
    check_failures = 0;
    fn();
    check_tests_run++;
    if (check_failures) {
        check_tests_failed++;
        printf("not ok %d - %s\n", check_tests_run, name);
    } else if (check_assertions == before) {
        /* A test that asserts nothing proves nothing: count it as failed. */
        check_tests_failed++;
        printf("not ok %d - %s (no assertion was checked)\n", check_tests_run, name);
    } else {
        printf("ok %d - %s (%" PRIu64 " checks)\n", check_tests_run, name,
               check_assertions - before);
    }
    fflush(stdout);
}

int check_summary(void)
{
    printf("%d passed, %d failed\n", check_tests_run - check_tests_failed, check_tests_failed);
    return check_tests_failed ? 1 : 0;
}

void check_hexdump(const char *label, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    fprintf(stderr, "  %s (%zu bytes):", label, len);
    for (size_t i = 0; i < len; i++)
        fprintf(stderr, "%s%02x", (i % 16) ? " " : "\n    ", p[i]);
    fputc('\n', stderr);
}
